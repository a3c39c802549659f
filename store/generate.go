package store

import (
	"errors"
	"io"
)

// Generated passwords draw from four sets, leaving out characters that are
// easily confused (i l o 1 I O 0), and hold at least one of each set.
var passwordSets = [...]string{
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghjkmnpqrstuvwxyz",
	"23456789",
	"!#$%&*+-=?@^_~",
}

var passwordAlphabet = passwordSets[0] + passwordSets[1] + passwordSets[2] + passwordSets[3]

// ErrLength means a generated password cannot have the length asked for.
var ErrLength = errors.New("password length out of range")

// GeneratePassword writes a random password of n characters into p, in
// locked memory, drawing from the store's random source.
func (s *Store) GeneratePassword(p *Plain, n int) error {
	if n < len(passwordSets) || n > len(p.buf) {
		return ErrLength
	}
	out := p.buf[:n]
	for {
		if err := randomString(s.cfg.Rand, out, passwordAlphabet); err != nil {
			clear(out)
			return err
		}
		if hasEverySet(out) {
			p.SetLen(n)
			return nil
		}
	}
}

// randomString fills out with characters of alphabet, uniformly: random
// bytes at or above the largest multiple of len(alphabet) are drawn again.
// out itself holds the random bytes, so nothing is staged elsewhere.
func randomString(rand io.Reader, out []byte, alphabet string) error {
	limit := 256 - 256%len(alphabet)
	for i := 0; i < len(out); {
		if _, err := io.ReadFull(rand, out[i:]); err != nil {
			return err
		}
		for ; i < len(out); i++ {
			if int(out[i]) >= limit {
				break // redraw from here on
			}
			out[i] = alphabet[int(out[i])%len(alphabet)]
		}
	}
	return nil
}

func hasEverySet(b []byte) bool {
	var seen [len(passwordSets)]bool
	for _, c := range b {
		for i, set := range passwordSets {
			for j := range len(set) {
				if set[j] == c {
					seen[i] = true
				}
			}
		}
	}
	return seen == [len(passwordSets)]bool{true, true, true, true}
}
