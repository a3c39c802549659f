// Package shamir splits a secret into n shares of which any k rebuild it,
// and fewer than k tell nothing about it: Shamir's scheme over GF(2^8),
// the field of AES (x^8 + x^4 + x^3 + x + 1, 0x11B), byte by byte.
//
// For each byte s of the secret, a polynomial of degree k-1 is drawn with
// s as its constant term and k-1 coefficients from the random source;
// share i holds its values at x = i, for i = 1..n. Any k shares with
// distinct x rebuild each byte by Lagrange interpolation at x = 0. With
// fewer, every value of the byte is exactly as likely as any other.
//
// Memory and timing rules: secret bytes, coefficients and shares live in
// memory the caller gives (locked memory, for the command line); nothing
// here allocates. Arithmetic on secret values is constant-time: no
// table is indexed by a secret byte and no branch depends on one.
// Multiplications by public values (the x of a share, a Lagrange
// coefficient) work on eight bytes at once.
package shamir

import (
	"encoding/binary"
	"errors"
	"io"
)

// Limits.
const (
	MinShares = 2
	MaxShares = 255
)

// Errors.
var (
	ErrParams  = errors.New("shamir: need 2 <= k <= n <= 255 and n shares of the secret's length")
	ErrShares  = errors.New("shamir: shares must be at least 1, of one length, with distinct x between 1 and 255")
	ErrScratch = errors.New("shamir: scratch too small")
)

// mul multiplies in GF(2^8) in constant time.
func mul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= -(b & 1) & a
		a = a<<1 ^ 0x1b&-(a>>7)
		b >>= 1
	}
	return p
}

// inv is the inverse of a non-zero a: a^254.
func inv(a byte) byte {
	// a^254 = a^(2+4+8+16+32+64+128)
	r, sq := byte(1), a
	for range 7 {
		sq = mul(sq, sq)
		r = mul(r, sq)
	}
	return r
}

// byConst multiplies eight field elements at once by a public constant
// c, given as c·2^i for i = 0..7 (see powers).
type byConst [8]uint64

const ones = 0x0101010101010101

// powers spreads c·x^i over every byte of a word, for multiplying by c.
func powers(c byte) byConst {
	var t byConst
	for i := range t {
		t[i] = uint64(c) * ones
		c = mul(c, 2)
	}
	return t
}

// mul8 multiplies each byte of w by the constant.
func (t *byConst) mul8(w uint64) uint64 {
	var r uint64
	for i := range t {
		// Bit i of each byte, spread to all its bits: 0x00 or 0xff.
		m := (w >> i) & ones * 0xff
		r ^= m & t[i]
	}
	return r
}

// hornerStep sets dst[j] = dst[j]·c ^ add[j], for a public c.
func (t *byConst) hornerStep(dst, add []byte) {
	j := 0
	for ; j+8 <= len(dst); j += 8 {
		w := binary.LittleEndian.Uint64(dst[j:])
		binary.LittleEndian.PutUint64(dst[j:], t.mul8(w)^binary.LittleEndian.Uint64(add[j:]))
	}
	if j < len(dst) {
		var buf, a [8]byte
		copy(buf[:], dst[j:])
		copy(a[:], add[j:])
		w := t.mul8(binary.LittleEndian.Uint64(buf[:])) ^ binary.LittleEndian.Uint64(a[:])
		binary.LittleEndian.PutUint64(buf[:], w)
		copy(dst[j:], buf[:])
		clear(buf[:])
		clear(a[:])
	}
}

// ScratchSize is the scratch Split needs to work on chunk bytes of the
// secret at a time, for k shares to rebuild it.
func ScratchSize(k, chunk int) int { return (k - 1) * chunk }

// Split writes the n = len(shares) shares of secret for threshold k:
// shares[i] (len(secret) bytes, caller memory) gets the values at
// x = i+1. Coefficients are drawn from rand into scratch (k-1 bytes per
// secret byte worked on at once: ScratchSize), which is wiped afterwards.
func Split(shares [][]byte, secret []byte, k int, rand io.Reader, scratch []byte) error {
	n := len(shares)
	if k < MinShares || n < k || n > MaxShares || len(secret) == 0 {
		return ErrParams
	}
	for _, s := range shares {
		if len(s) != len(secret) {
			return ErrParams
		}
	}
	chunk := len(scratch) / (k - 1)
	if chunk == 0 {
		return ErrScratch
	}
	chunk = min(chunk, len(secret))
	defer clear(scratch)
	var xs [MaxShares]byConst
	for i := range n {
		xs[i] = powers(byte(i + 1))
	}
	for off := 0; off < len(secret); off += chunk {
		m := min(chunk, len(secret)-off)
		coef := scratch[:(k-1)*m]
		if _, err := io.ReadFull(rand, coef); err != nil {
			return err
		}
		// Coefficient d (1..k-1) of byte j is coef[(d-1)*m+j]. Horner from
		// the highest: y = (..(a[k-1]·x + a[k-2])·x + ..)·x + s.
		for i := range n {
			y := shares[i][off : off+m]
			copy(y, coef[(k-2)*m:(k-1)*m])
			for d := k - 2; d >= 1; d-- {
				xs[i].hornerStep(y, coef[(d-1)*m:d*m])
			}
			xs[i].hornerStep(y, secret[off:off+m])
		}
		clear(coef)
	}
	return nil
}

// Combine rebuilds the secret from shares (all of one length) whose x
// values are xs, writing it into dst (that length). Any k of a secret's
// shares rebuild it; other shares give other bytes, which only the
// caller can tell apart (the envelope around each share is
// authenticated, and a bundle names its split).
func Combine(dst []byte, xs []byte, shares [][]byte) error {
	if len(xs) != len(shares) || len(shares) == 0 || len(shares) > MaxShares {
		return ErrShares
	}
	for i, x := range xs {
		if x == 0 || len(shares[i]) != len(dst) || len(dst) == 0 {
			return ErrShares
		}
		for _, y := range xs[:i] {
			if y == x {
				return ErrShares
			}
		}
	}
	clear(dst)
	for j := range xs {
		// The Lagrange basis at 0: prod over m != j of x_m / (x_m - x_j).
		l := byte(1)
		for m := range xs {
			if m != j {
				l = mul(l, mul(xs[m], inv(xs[m]^xs[j])))
			}
		}
		t := powers(l)
		addScaled(dst, shares[j], &t)
	}
	return nil
}

// addScaled sets dst ^= src·c.
func addScaled(dst, src []byte, t *byConst) {
	j := 0
	for ; j+8 <= len(dst); j += 8 {
		w := t.mul8(binary.LittleEndian.Uint64(src[j:]))
		binary.LittleEndian.PutUint64(dst[j:], binary.LittleEndian.Uint64(dst[j:])^w)
	}
	for ; j < len(dst); j++ {
		dst[j] ^= byte(t.mul8(uint64(src[j])))
	}
}
