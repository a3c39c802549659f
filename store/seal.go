package store

// Sealing rules:
//   - A stored secret is ChaCha20-Poly1305 ciphertext (RFC 8439). Its key is
//     derived from the secret's link key and a process key, so a memory image
//     of the process without the link cannot open it.
//   - Map indexes are keyed hashes of link keys: they name an entry without
//     revealing the link. One BLAKE2b-512 call over (label, process key,
//     link) gives the index, the key and the audit trail's name for the
//     secret (Ref): the first idSize bytes, the next derivedSize bytes and
//     the next refSize bytes of one pseudorandom output, independent of
//     each other.
//   - The process key lives in memguard-locked memory. Derivations write into
//     locked scratch memory and wipe the hash state; the AEAD works on the key
//     where it lies (aead.go), or, where that fast path is not available,
//     through the generic construction below, which wipes its cipher states.
//   - Each derived key encrypts exactly one message, so a fixed zero nonce is
//     safe.
//   - A receipt keeps its secret's link key (the v1 receipt shows it while
//     the secret waits) XORed with a pad: the key derived from the receipt
//     key. The receipt key is random and pads one key once, so that is a
//     one-time pad; it needs no tag, since nothing reaches it without the
//     receipt key's index.

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/poly1305" //nolint:staticcheck // used as the RFC 8439 building block it is
)

const (
	tagSize     = poly1305.TagSize
	idSize      = 16
	procKeySize = 32
	scratchSize = 256
	derivedSize = 32
	refSize     = 8
	deriveSize  = idSize + derivedSize + refSize

	labelSize    = 8
	sealOverhead = tagSize
)

// Derivation labels; each names one kind of link.
var (
	labelSecret  = [labelSize]byte{'s', 'e', 'c', 'r', 'e', 't', 0, 0}
	labelReceipt = [labelSize]byte{'r', 'e', 'c', 'e', 'i', 'p', 't', 0}
)

var errOpen = errors.New("message authentication failed")

type id [idSize]byte

// derived is a derivation's output: an index, a key, then a Ref. It lives
// in locked scratch memory.
type derived [deriveSize]byte

// derivedIn lays a derived over the start of a scratch slot.
func derivedIn(scratch *Plain) *derived { return (*derived)(scratch.buf[:deriveSize]) }

func (d *derived) id() id                  { return id(d[:idSize]) }
func (d *derived) key() *[derivedSize]byte { return (*[derivedSize]byte)(d[idSize:]) }
func (d *derived) ref() Ref                { return Ref(d[idSize+derivedSize:]) }

// derive writes BLAKE2b-512(label || procKey || link), its first
// deriveSize bytes, into out. BLAKE2b keeps no state between messages and
// cannot be extended, so a secret prefix makes it a PRF; the input (one
// 128-byte block) is assembled in work, locked scratch memory of at least
// deriveInput bytes, and wiped. The hash's block copy and state, and its
// result, sit in frames below this one, which are burned before returning;
// the stack is grown beforehand if need be, as growing it copies it and
// leaves the old one unwiped.
func derive(out *derived, work []byte, label [labelSize]byte, procKey, link []byte) {
	if len(link) > KeyLen || len(procKey) != procKeySize {
		panic("store: derive input out of bounds") // callers check ValidKey
	}
	reserveBurn() // the hash must not grow the stack while it holds procKey
	in := work[:deriveInput]
	n := copy(in, label[:])
	n += copy(in[n:], procKey)
	n += copy(in[n:], link)
	hashInto(out, in[:n])
	clear(in)
	burnStack()
}

// One hash output holds a derivation, and a scratch slot holds one with
// room for its input.
var (
	_ [blake2b.Size - deriveSize]struct{}
	_ [scratchSize - deriveSize - deriveInput]struct{}
)

// deriveInput is the most derive hashes: a label, the process key and a
// link key of the longest form ValidKey takes.
const deriveInput = labelSize + procKeySize + KeyLen

//go:noinline
func hashInto(out *derived, in []byte) {
	sum := blake2b.Sum512(in)
	copy(out[:], sum[:])
}

// seal encrypts plaintext under key into dst, which must be
// len(plaintext)+tagSize long.
func seal(dst []byte, key *[derivedSize]byte, plaintext []byte) {
	if aeadType == nil {
		sealGeneric(dst, key[:], plaintext)
		return
	}
	lockedAEAD(key).Seal(dst[:0], zeroNonce[:], plaintext, nil)
}

// open decrypts sealed (ciphertext || tag) under key into dst, which must
// be len(sealed)-tagSize long. On failure dst is zeroed.
func open(dst []byte, key *[derivedSize]byte, sealed []byte) error {
	if aeadType == nil {
		return openGeneric(dst, key[:], sealed)
	}
	if len(sealed) < tagSize {
		return errOpen
	}
	if _, err := lockedAEAD(key).Open(dst[:0], zeroNonce[:], sealed, nil); err != nil {
		return errOpen
	}
	return nil
}

// xorPad writes key XOR pad into dst.
func xorPad(dst []byte, pad *[derivedSize]byte, key *Key) {
	for i := range key {
		dst[i] = key[i] ^ pad[i]
	}
}

// unxorPad writes sealed XOR pad into key.
func unxorPad(key *Key, pad *[derivedSize]byte, sealed []byte) {
	for i := range key {
		key[i] = sealed[i] ^ pad[i]
	}
}

// sealGeneric is seal spelled out with the RFC 8439 building blocks.
func sealGeneric(dst, key, plaintext []byte) {
	ct, tag := dst[:len(plaintext)], dst[len(plaintext):]
	c, polyKey := newCipher(key)
	c.XORKeyStream(ct, plaintext)
	*c = chacha20.Cipher{}
	authenticate(tag, &polyKey, ct)
}

// openGeneric is open spelled out with the RFC 8439 building blocks.
func openGeneric(dst, key, sealed []byte) error {
	if len(sealed) < tagSize {
		return errOpen
	}
	ct, tag := sealed[:len(sealed)-tagSize], sealed[len(sealed)-tagSize:]
	c, polyKey := newCipher(key)
	var want [tagSize]byte
	authenticate(want[:], &polyKey, ct)
	if subtle.ConstantTimeCompare(want[:], tag) != 1 {
		*c = chacha20.Cipher{}
		clear(dst)
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
