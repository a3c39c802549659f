package store

import (
	"errors"
	"io"
)

// Link keys are the opaque strings that name a secret or a receipt in a URL:
// KeyLen characters of [0-9a-z] encoding keyEntropy random bytes (160 bits),
// five bits per character. The alphabet leaves out i, l, o and u so a key
// read aloud or retyped is not misread. The secret key and the receipt key
// of one secret are drawn independently.
const (
	KeyLen     = 32 // 160 bits / 5 bits per character
	MinKeyLen  = 20 // the v1 contract's shortest key
	keyEntropy = 20
	maxKeyLen  = 64 // longest key anyone may ask about; longer is unknown
)

const keyAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// Key is a link key. It is a value type so it never becomes a Go string;
// callers that are done with one call Wipe.
type Key [KeyLen]byte

// Wipe zeroes k.
func (k *Key) Wipe() { clear(k[:]) }

// IsZero reports whether k is unset.
func (k *Key) IsZero() bool { return k[0] == 0 }

// ErrBadKey means a key is not made of [0-9a-z] or has the wrong length.
var ErrBadKey = errors.New("malformed key")

// ValidKey reports whether b has the form of a link key this server issues.
func ValidKey(b []byte) bool {
	if len(b) != KeyLen {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// ParseKey copies b into a Key when it has a key's form.
func ParseKey(b []byte) (Key, error) {
	var k Key
	if !ValidKey(b) {
		return k, ErrBadKey
	}
	copy(k[:], b)
	return k, nil
}

// newKeys draws the entropy of n keys from rand into scratch at once and
// writes them into keys, five bits per character. scratch is wiped.
func newKeys(rand io.Reader, scratch []byte, keys ...*Key) error {
	n := scratch[:len(keys)*keyEntropy]
	defer clear(n)
	if _, err := io.ReadFull(rand, n); err != nil {
		return err
	}
	for i, k := range keys {
		encodeKey(k, n[i*keyEntropy:(i+1)*keyEntropy])
	}
	return nil
}

// newKey is newKeys for one key.
func newKey(rand io.Reader, scratch []byte) (Key, error) {
	var k Key
	err := newKeys(rand, scratch, &k)
	return k, err
}

// encodeKey writes keyEntropy random bytes into k, five bits per
// character: each 5 bytes (40 bits) make 8 characters.
func encodeKey(k *Key, n []byte) {
	for g := range keyEntropy / 5 {
		var v uint64
		for _, b := range n[g*5 : g*5+5] {
			v = v<<8 | uint64(b)
		}
		for i := 7; i >= 0; i-- {
			k[g*8+i] = keyAlphabet[v&31]
			v >>= 5
		}
	}
}
