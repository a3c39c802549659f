// Package envelope seals and opens otslite's zero-knowledge envelope,
// "otsz1", the format the web UI's browser code speaks (README, "Encrypted
// in the browser"; assets/ui/zk.js). The command line uses it so that a
// link made by one opens in the other. A server only stores envelopes and
// checks proofs; it never opens one.
//
//	K         32 random bytes; the link fragment is "1n" or "1p" (a
//	          passphrase is needed) followed by K in unpadded base64url.
//	ikm       K, or with a passphrase P:
//	          K || PBKDF2-HMAC-SHA-256(NFC(P), salt = HKDF(K, "otslite zk1 salt", 16),
//	          600000 iterations, 32 bytes)
//	key       HKDF-SHA-256(ikm, "otslite zk1 content", 32): AES-256-GCM
//	kp        HKDF-SHA-256(K, "otslite zk1 link proof", 32)
//	pp        HKDF-SHA-256(ikm, "otslite zk1 proof", 32), with a passphrase only
//	proof     "zk1." + b64url(kp), or "zk1." + b64url(kp) + "." + b64url(pp),
//	          sent as the v1 "passphrase" on create and reveal
//	envelope  "otsz1:" + base85(iv || AES-GCM(key, iv, text, "otsz1:")),
//	          iv 12 random bytes, the 16-byte tag last; base85 is Z85's
//	          alphabet, a last group of k < 4 bytes written as k+1 characters
//
// HKDF has no salt throughout. All HKDF outputs are independent, so a
// server, which sees the proof, learns nothing that decrypts.
//
// Memory rules: a Key keeps K, every derived key and the proof in memory
// its caller provides (locked memory, for the command line), and Wipe
// zeroes it. Plaintext is read from and written to caller memory only.
// The AES key schedules crypto/aes makes on the heap are zeroed after each
// use, and so is the stack the hashing and the cipher ran on.
package envelope

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"io"
	"reflect"
	"slices"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Format constants.
const (
	Tag        = "otsz1:"
	KeySize    = 32
	Iterations = 600000

	// FragmentLen is the length of a link's fragment, without '#'.
	FragmentLen = 2 + keyChars
	// ProofLen is the length of the proof of a secret without a
	// passphrase; ProofLenPassphrase with one.
	ProofLen           = len(proofPrefix) + keyChars
	ProofLenPassphrase = ProofLen + 1 + keyChars

	keyChars  = 43 // base64url of 32 bytes, unpadded
	ivSize    = 12
	tagSize   = 16
	saltSize  = 16
	overhead  = ivSize + tagSize
	infoSalt  = "otslite zk1 salt"
	infoKey   = "otslite zk1 content"
	infoLink  = "otslite zk1 link proof"
	infoProof = "otslite zk1 proof"

	proofPrefix = "zk1."
)

// Where a Key keeps what it holds, in its memory.
const (
	offK       = 0
	offStretch = offK + KeySize // ikm is mem[offK:offStretch+32] with a passphrase
	offContent = offStretch + hashSize
	offKP      = offContent + KeySize
	offPP      = offKP + hashSize
	offSalt    = offPP + hashSize
	offWork    = offSalt + saltSize

	// MemorySize is the memory a Key needs.
	MemorySize = offWork + max(hkdfWork, pbkdf2Work)
)

// Errors.
var (
	ErrFragment    = errors.New("envelope: the link's key (the part after #) is damaged")
	ErrNotSealed   = errors.New("envelope: not an otsz1 envelope")
	ErrDamaged     = errors.New("envelope: damaged envelope")
	ErrOpen        = errors.New("envelope: cannot open: wrong key or passphrase, or a damaged envelope")
	ErrShortBuf    = errors.New("envelope: buffer too small")
	ErrPassphrase  = errors.New("envelope: passphrase is not valid UTF-8")
	ErrMismatch    = errors.New("envelope: a passphrase is given exactly when the link asks for one")
	ErrNotUnlocked = errors.New("envelope: the key is not unlocked")
)

var b64 = base64.RawURLEncoding.Strict()

// Key is the key of one envelope and what derives from it.
type Key struct {
	mem        []byte
	passphrase bool // the link says a passphrase is needed
	unlocked   bool
}

// NewKey draws a fresh K from rand into mem (MemorySize bytes, which the
// Key keeps until Wipe). passphrase says whether the secret will need one.
func NewKey(mem []byte, rand io.Reader, passphrase bool) (*Key, error) {
	if len(mem) < MemorySize {
		return nil, ErrShortBuf
	}
	k := &Key{mem: mem[:MemorySize], passphrase: passphrase}
	clear(k.mem)
	if _, err := io.ReadFull(rand, k.mem[offK:offK+KeySize]); err != nil {
		k.Wipe()
		return nil, err
	}
	return k, nil
}

// ParseFragment reads a link's fragment (without '#') into a Key kept in
// mem (MemorySize bytes). Only the canonical form is accepted.
func ParseFragment(mem, fragment []byte) (*Key, error) {
	if len(mem) < MemorySize {
		return nil, ErrShortBuf
	}
	if len(fragment) != FragmentLen || fragment[0] != '1' || (fragment[1] != 'n' && fragment[1] != 'p') {
		return nil, ErrFragment
	}
	k := &Key{mem: mem[:MemorySize], passphrase: fragment[1] == 'p'}
	clear(k.mem)
	n, err := b64.Decode(k.mem[offK:offK+KeySize], fragment[2:])
	if err != nil || n != KeySize {
		k.Wipe()
		return nil, ErrFragment
	}
	return k, nil
}

// NeedsPassphrase reports whether the secret needs a passphrase too.
func (k *Key) NeedsPassphrase() bool { return k.passphrase }

// PutFragment writes the link's fragment (without '#') into dst, which
// must hold FragmentLen bytes, and returns that part of dst.
func (k *Key) PutFragment(dst []byte) []byte {
	dst = dst[:FragmentLen]
	dst[0], dst[1] = '1', 'n'
	if k.passphrase {
		dst[1] = 'p'
	}
	b64.Encode(dst[2:], k.mem[offK:offK+KeySize])
	return dst
}

// Unlock derives the content key and the proof. passphrase must be given
// (normalized by Normalize) exactly when NeedsPassphrase; it is read, not
// kept. With a passphrase this takes PBKDF2's 600000 iterations.
func (k *Key) Unlock(passphrase []byte) error {
	if k.passphrase != (len(passphrase) > 0) {
		return ErrMismatch
	}
	work := k.mem[offWork:]
	defer burnStack()
	ikm := k.mem[offK : offK+KeySize]
	if k.passphrase {
		salt := k.mem[offSalt : offSalt+saltSize]
		hkdf(salt, ikm, infoSalt, work)
		pbkdf2(k.mem[offStretch:offStretch+hashSize], passphrase, salt, Iterations, work)
		clear(salt)
		ikm = k.mem[offK : offStretch+hashSize]
		hkdf(k.mem[offPP:offPP+hashSize], ikm, infoProof, work)
	}
	hkdf(k.mem[offContent:offContent+KeySize], ikm, infoKey, work)
	hkdf(k.mem[offKP:offKP+hashSize], k.mem[offK:offK+KeySize], infoLink, work)
	k.unlocked = true
	return nil
}

// PutProof writes the proof, the v1 "passphrase" of the secret, into dst
// (ProofLen() bytes) and returns that part of dst.
func (k *Key) PutProof(dst []byte) []byte {
	dst = dst[:k.ProofLen()]
	k.PutLinkProof(dst)
	if k.passphrase {
		dst[ProofLen] = '.'
		b64.Encode(dst[ProofLen+1:], k.mem[offPP:offPP+hashSize])
	}
	return dst
}

// PutLinkProof writes the part of the proof that needs no passphrase
// (holding the link proves it) into dst (ProofLen bytes) and returns that
// part of dst; it needs no Unlock. Servers that know proofs burn on the
// receipt key alone; older ones want the whole proof.
func (k *Key) PutLinkProof(dst []byte) []byte {
	dst = dst[:ProofLen]
	hkdf(k.mem[offKP:offKP+hashSize], k.mem[offK:offK+KeySize], infoLink, k.mem[offWork:])
	burnStack()
	copy(dst, proofPrefix)
	b64.Encode(dst[len(proofPrefix):], k.mem[offKP:offKP+hashSize])
	return dst
}

// ProofLen is the length of what PutProof writes.
func (k *Key) ProofLen() int {
	if k.passphrase {
		return ProofLenPassphrase
	}
	return ProofLen
}

// SealedLen is the length of the envelope of n bytes of text.
func SealedLen(n int) int { return len(Tag) + base85Len(overhead+n) }

// MaxPlain is the most bytes of text whose envelope fits in limit bytes.
func MaxPlain(limit int) int {
	n := max(0, (limit-len(Tag))*4/5-overhead)
	for n > 0 && SealedLen(n) > limit {
		n--
	}
	for SealedLen(n+1) <= limit {
		n++
	}
	return n
}

// OpenedLen is the length of the text inside an envelope of the given
// length (an upper bound when the envelope is damaged).
func OpenedLen(envelopeLen int) int {
	return max(0, decodedLen(envelopeLen-len(Tag))-overhead)
}

// Seal appends the envelope of plain to dst. plain must be UTF-8 text,
// which the browser shows, and must not begin with NUL (that is how a
// bundle begins: wrap such a text in one); it is read, not kept.
func (k *Key) Seal(dst, plain []byte, rand io.Reader) ([]byte, error) {
	if !utf8.Valid(plain) || IsBundle(plain) {
		return nil, ErrNotText
	}
	return k.seal(dst, plain, rand)
}

// SealBundle appends the envelope of a bundle PutBundle wrote to dst.
func (k *Key) SealBundle(dst, bundle []byte, rand io.Reader) ([]byte, error) {
	if len(bundle) < bundleHead || bundle[0] != bundleMagic || bundle[1] != bundleVersion {
		return nil, ErrBundle
	}
	return k.seal(dst, bundle, rand)
}

func (k *Key) seal(dst, plain []byte, rand io.Reader) ([]byte, error) {
	if !k.unlocked {
		return nil, ErrNotUnlocked
	}
	raw := make([]byte, ivSize, overhead+len(plain))
	if _, err := io.ReadFull(rand, raw); err != nil {
		return nil, err
	}
	aead, err := k.aead()
	if err != nil {
		return nil, err
	}
	var iv [ivSize]byte
	copy(iv[:], raw)
	raw = aead.Seal(raw, iv[:], plain, []byte(Tag))
	wipeObject(aead)
	burnStack()
	dst = slices.Grow(dst, SealedLen(len(plain)))
	dst = append(dst, Tag...)
	return appendBase85(dst, raw), nil
}

// ErrNotText means a secret to seal is not UTF-8 text.
var ErrNotText = errors.New("envelope: the secret is not UTF-8 text")

// Open decrypts an envelope into dst, which must hold OpenedLen(len(envelope))
// bytes, and returns the length of the text. On failure dst holds nothing.
func (k *Key) Open(dst, envelope []byte) (int, error) {
	if !k.unlocked {
		return 0, ErrNotUnlocked
	}
	if len(envelope) < len(Tag) || string(envelope[:len(Tag)]) != Tag {
		return 0, ErrNotSealed
	}
	raw, err := decodeBase85(envelope[len(Tag):])
	if err != nil || len(raw) < overhead {
		return 0, ErrDamaged
	}
	n := len(raw) - overhead
	if len(dst) < n {
		return 0, ErrShortBuf
	}
	aead, err := k.aead()
	if err != nil {
		return 0, err
	}
	out, err := aead.Open(dst[:0], raw[:ivSize], raw[ivSize:], []byte(Tag))
	wipeObject(aead)
	burnStack()
	if err != nil {
		clear(dst[:n])
		return 0, ErrOpen
	}
	if len(out) != n || n > 0 && &out[0] != &dst[0] {
		clear(out)
		return 0, ErrShortBuf
	}
	return n, nil
}

// aead makes the AES-256-GCM of the content key. The caller wipes it with
// wipeObject when done.
func (k *Key) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(k.mem[offContent : offContent+KeySize])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	wipeObject(block) // NewGCM keeps its own copy of the key schedule
	return aead, err
}

// wipeObject zeroes what the pointer in x points to: crypto/aes and
// crypto/cipher keep key schedules in heap objects with no way to clear
// them. reflect's SetZero writes through the garbage collector's barriers.
func wipeObject(x any) {
	v := reflect.ValueOf(x)
	if v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().CanSet() {
		v.Elem().SetZero()
	}
}

// Wipe zeroes everything the Key holds. The Key cannot be used again.
func (k *Key) Wipe() {
	clear(k.mem)
	k.unlocked = false
}

// MaxNormalized is the most bytes Normalize writes for a passphrase of n
// bytes (NFC grows UTF-8 text at most threefold).
func MaxNormalized(n int) int { return 3 * n }

// Normalize writes passphrase in Unicode NFC, as the browser hashes it,
// into dst (MaxNormalized bytes) and returns that part of dst. It works on
// its own stack, which it wipes: the normalizer's other ways of working
// keep pieces of the passphrase in heap memory.
func Normalize(dst, passphrase []byte) ([]byte, error) {
	if !utf8.Valid(passphrase) {
		return nil, ErrPassphrase
	}
	if len(dst) < MaxNormalized(len(passphrase)) {
		return nil, ErrShortBuf
	}
	n := normalize(dst, passphrase)
	burnStack()
	return dst[:n], nil
}

func normalize(dst, passphrase []byte) int {
	var it norm.Iter
	it.Init(norm.NFC, passphrase)
	n := 0
	for !it.Done() {
		n += copy(dst[n:], it.Next())
	}
	it = norm.Iter{} // it holds pieces of the passphrase
	return n
}
