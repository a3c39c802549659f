package store

// Sealing rules:
//   - A stored secret is ChaCha20-Poly1305 ciphertext (RFC 8439). Its key is
//     derived from the secret's link key and a process key, so a memory image
//     of the process without the link cannot open it.
//   - Map indexes are keyed hashes of link keys: they name an entry without
//     revealing the link.
//   - Process keys live in memguard-locked memory. Derived keys and cipher
//     states are built in locked scratch memory or zeroed right after use;
//     the packaged AEAD (chacha20poly1305.New) copies its key into a heap
//     struct nobody can wipe, which is why the construction is spelled out.
//   - Each derived key encrypts exactly one message, so a fixed zero nonce is
//     safe.

import (
	"crypto/sha3"
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305" //nolint:staticcheck // used as the RFC 8439 building block it is
)

const (
	tagSize      = poly1305.TagSize
	idSize       = 16
	procKeySize  = 32
	scratchSize  = 256
	derivedSize  = 32
	labelSize    = 8
	maxDeriveIn  = labelSize + procKeySize + maxKeyLen
	sealOverhead = tagSize
)

// Derivation labels; each names one use of the process keys.
var (
	labelSecretID  = [labelSize]byte{'s', 'e', 'c', 'r', 'e', 't', 'i', 'd'}
	labelReceiptID = [labelSize]byte{'r', 'c', 'p', 't', 'i', 'd', 0, 0}
	labelSecretKey = [labelSize]byte{'s', 'e', 'c', 'r', 'e', 't', 'k', 'y'}
	labelLinkKey   = [labelSize]byte{'l', 'i', 'n', 'k', 'k', 'e', 'y', 0}
)

var errOpen = errors.New("message authentication failed")

type id [idSize]byte

// derive writes SHA3-256(label || procKey || link) into out (locked
// memory), composing the input in scratch (locked memory) and wiping it.
// The sponge state holds the raw input until it is permuted, and the hash
// passes through the stack on its way out: the state is reset and the
// stack below this frame scrubbed before returning.
func derive(out, scratch []byte, label [labelSize]byte, procKey, link []byte) {
	n := copy(scratch, label[:])
	n += copy(scratch[n:], procKey)
	n += copy(scratch[n:], link)
	h := sha3.New256()
	h.Write(scratch[:n])
	h.Sum(out[:0]) // out has room: it is the head of a scratch slot
	h.Reset()
	clear(scratch[:n])
	ScrubStack()
}

// deriveID returns the index of link under procKey.
func deriveID(scratch []byte, label [labelSize]byte, procKey, link []byte) id {
	var out id
	var full [derivedSize]byte
	derive(full[:], scratch, label, procKey, link)
	copy(out[:], full[:])
	clear(full[:])
	return out
}

// seal encrypts plaintext under key (32 bytes) into dst, which must be
// len(plaintext)+tagSize long.
func seal(dst, key, plaintext []byte) {
	ct, tag := dst[:len(plaintext)], dst[len(plaintext):]
	c, polyKey := newCipher(key)
	c.XORKeyStream(ct, plaintext)
	*c = chacha20.Cipher{}
	authenticate(tag, &polyKey, ct)
}

// open decrypts sealed (ciphertext || tag) under key into dst, which must
// be len(sealed)-tagSize long. On failure dst is zeroed.
func open(dst, key, sealed []byte) error {
	if len(sealed) < tagSize {
		return errOpen
	}
	ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]
	c, polyKey := newCipher(key)
	var want [tagSize]byte
	authenticate(want[:], &polyKey, ct)
	if subtle.ConstantTimeCompare(want[:], tag) != 1 {
		*c = chacha20.Cipher{}
		return errOpen
	}
	c.XORKeyStream(dst, ct)
	*c = chacha20.Cipher{}
	return nil
}

// newCipher returns a ChaCha20 state positioned at block 1 and the one-time
// Poly1305 key taken from block 0, as RFC 8439 section 2.8 prescribes.
func newCipher(key []byte) (*chacha20.Cipher, [32]byte) {
	var nonce [chacha20.NonceSize]byte
	var polyKey [32]byte
	c, err := chacha20.NewUnauthenticatedCipher(key, nonce[:])
	if err != nil {
		panic("store: bad derived key size") // derivedSize is a constant
	}
	c.XORKeyStream(polyKey[:], polyKey[:])
	c.SetCounter(1)
	return c, polyKey
}

// authenticate writes the RFC 8439 tag of ct (no additional data) and wipes
// the one-time key and MAC state.
func authenticate(tag []byte, polyKey *[32]byte, ct []byte) {
	m := poly1305.New(polyKey)
	clear(polyKey[:])
	m.Write(ct)
	if pad := len(ct) % 16; pad != 0 {
		var zeros [16]byte
		m.Write(zeros[:16-pad])
	}
	var lengths [16]byte
	binary.LittleEndian.PutUint64(lengths[8:], uint64(len(ct)))
	m.Write(lengths[:])
	m.Sum(tag[:0])
	*m = poly1305.MAC{}
}
