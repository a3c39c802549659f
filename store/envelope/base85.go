package envelope

import "errors"

// base85 as the envelope writes it: Z85's alphabet, four bytes to five
// characters, most significant first, and a last group of k < 4 bytes
// written as its first k+1 characters (the missing bytes read as zero when
// encoding, the missing characters as the largest digit when decoding; a
// last group spelled otherwise than the encoder spells it is refused, so
// each byte string has one spelling).

const z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

var z85Digit = func() (d [256]byte) {
	for i := range d {
		d[i] = 0xff
	}
	for i := range len(z85) {
		d[z85[i]] = byte(i)
	}
	return d
}()

var errBase85 = errors.New("envelope: malformed base85")

func base85Len(n int) int {
	l := n / 4 * 5
	if r := n % 4; r > 0 {
		l += r + 1
	}
	return l
}

// decodedLen is the length of the bytes s characters of base85 decode to.
func decodedLen(s int) int {
	l := s / 5 * 4
	if r := s % 5; r > 1 {
		l += r - 1
	}
	return max(0, l)
}

func appendBase85(dst, b []byte) []byte {
	for len(b) > 0 {
		k := min(4, len(b))
		var v uint32
		for j := range 4 {
			v <<= 8
			if j < k {
				v |= uint32(b[j])
			}
		}
		var g [5]byte
		for j := 4; j >= 0; j-- {
			g[j] = z85[v%85]
			v /= 85
		}
		dst = append(dst, g[:k+1]...)
		b = b[k:]
	}
	return dst
}

func decodeBase85(s []byte) ([]byte, error) {
	if len(s)%5 == 1 {
		return nil, errBase85
	}
	out := make([]byte, 0, decodedLen(len(s)))
	for len(s) > 0 {
		m := min(5, len(s))
		var v uint64
		for j := range 5 {
			d := byte(84)
			if j < m {
				if d = z85Digit[s[j]]; d == 0xff {
					return nil, errBase85
				}
			}
			v = v*85 + uint64(d)
		}
		if v > 0xffffffff {
			return nil, errBase85
		}
		w := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		if m < 5 {
			// Many spellings of a short last group decode to the same
			// bytes: only the one the encoder writes is taken.
			var g [5]byte
			if string(appendBase85(g[:0], w[:m-1])) != string(s[:m]) {
				return nil, errBase85
			}
		}
		out = append(out, w[:m-1]...)
		s = s[m:]
	}
	return out, nil
}
