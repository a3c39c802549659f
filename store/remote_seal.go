package store

// Sealing for the shared store. A secret kept in Redis is sealed as in
// memory, with its verifier as the AEAD's additional data: whoever can
// write to Redis cannot take a passphrase off a secret (or put their own
// on it) and then open it with the link alone, since the secret no longer
// opens under another verifier. At worst such a write destroys the
// secret, which a Redis writer can do anyway.

import (
	"crypto/subtle"
	"encoding/binary"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305" //nolint:staticcheck // used as the RFC 8439 building block it is
)

// sealAD is seal with additional data.
func sealAD(dst []byte, key *[derivedSize]byte, plaintext, ad []byte) {
	if aeadType == nil {
		ct, tag := dst[:len(plaintext)], dst[len(plaintext):]
		c, polyKey := newCipher(key[:])
		c.XORKeyStream(ct, plaintext)
		*c = chacha20.Cipher{}
		authenticateAD(tag, &polyKey, ad, ct)
		return
	}
	lockedAEAD(key).Seal(dst[:0], zeroNonce[:], plaintext, ad)
}

// openAD is open with additional data.
func openAD(dst []byte, key *[derivedSize]byte, sealed, ad []byte) error {
	if len(sealed) < tagSize {
		return errOpen
	}
	if aeadType == nil {
		ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]
		c, polyKey := newCipher(key[:])
		var want [tagSize]byte
		authenticateAD(want[:], &polyKey, ad, ct)
		if subtle.ConstantTimeCompare(want[:], tag) != 1 {
			*c = chacha20.Cipher{}
			clear(dst)
			return errOpen
		}
		c.XORKeyStream(dst, ct)
		*c = chacha20.Cipher{}
		return nil
	}
	if _, err := lockedAEAD(key).Open(dst[:0], zeroNonce[:], sealed, ad); err != nil {
		return errOpen
	}
	return nil
}

// authenticateAD writes the RFC 8439 tag of ad and ct, and wipes the
// one-time key and MAC state.
func authenticateAD(tag []byte, polyKey *[32]byte, ad, ct []byte) {
	m := poly1305.New(polyKey)
	clear(polyKey[:])
	var zeros [16]byte
	for _, part := range [][]byte{ad, ct} {
		m.Write(part)
		if pad := len(part) % 16; pad != 0 {
			m.Write(zeros[:16-pad])
		}
	}
	var lengths [16]byte
	binary.LittleEndian.PutUint64(lengths[:8], uint64(len(ad)))
	binary.LittleEndian.PutUint64(lengths[8:], uint64(len(ct)))
	m.Write(lengths[:])
	m.Sum(tag[:0])
	*m = poly1305.MAC{}
}
