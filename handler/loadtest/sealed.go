package main

import (
	"crypto/rand"
	"sync"

	"github.com/valyala/fasthttp"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/chacha20poly1305"
)

// sealedFloor is the hardened baseline plus only the cryptography
// otslite's memory rules ask of every stored secret, and nothing else of
// otslite: random link and receipt keys from crypto/rand, one keyed
// BLAKE2b-512 derivation per key (for the link, its index and sealing
// key), the secret sealed with ChaCha20-Poly1305, and on reveal derived
// again and opened. No receipts kept, no expiry, audit trail, escaping or
// v1 fields. Its ratio to the hardened baseline is about the most a server
// keeping those rules can reach in this load (it allocates a cipher state
// for each seal and open, which the store does not); otslite's ratio is
// compared with it.
type sealedFloor struct {
	proc    [32]byte
	mu      sync.Mutex
	secrets map[[16]byte][]byte // index -> ciphertext
}

func newSealedFloor() *sealedFloor {
	s := &sealedFloor{secrets: make(map[[16]byte][]byte)}
	_, _ = rand.Read(s.proc[:])
	return s
}

// Each derived key seals one secret, so the nonce can be fixed, as in the
// store.
var zeroNonce [chacha20poly1305.NonceSize]byte

// derive is BLAKE2b-512(label || process key || link): the index, then the key.
func (s *sealedFloor) derive(label byte, link []byte) (idx [16]byte, key [32]byte) {
	var in [1 + 32 + 64]byte
	in[0] = label
	copy(in[1:], s.proc[:])
	n := 33 + copy(in[33:], link)
	sum := blake2b.Sum512(in[:n])
	copy(idx[:], sum[:16])
	copy(key[:], sum[16:48])
	clear(sum[:])
	clear(in[:])
	return idx, key
}

func (s *sealedFloor) serve(ctx *fasthttp.RequestCtx, b *baseline) {
	path := ctx.Path()
	switch {
	case string(path) == "/api/v1/share" && ctx.IsPost():
		s.share(ctx, b)
	case len(path) == len("/api/v1/secret/")+32 && string(path[:len("/api/v1/secret/")]) == "/api/v1/secret/" && ctx.IsPost():
		s.reveal(ctx, path[len("/api/v1/secret/"):])
	default:
		b.serve(ctx)
	}
}

func (s *sealedFloor) share(ctx *fasthttp.RequestCtx, b *baseline) {
	args := b.form(ctx)
	defer fasthttp.ReleaseArgs(args)
	secret := args.Peek("secret")
	if len(secret) == 0 {
		ctx.Error(`{"message":"You did not provide anything to share"}`, fasthttp.StatusNotFound)
		return
	}
	var link, receipt [32]byte
	randomLink(&link)
	randomLink(&receipt)
	idx, key := s.derive('s', link[:])
	// The receipt's index is derived as the store derives it, but not
	// kept: storing receipts is the store's work, not the floor's.
	ridx, rkey := s.derive('r', receipt[:])
	clear(ridx[:])
	clear(rkey[:])
	aead, _ := chacha20poly1305.New(key[:])
	clear(key[:])
	sealed := aead.Seal(make([]byte, 0, len(secret)+aead.Overhead()), zeroNonce[:], secret, nil)
	s.mu.Lock()
	s.secrets[idx] = sealed
	s.mu.Unlock()
	answerShare(ctx, &receipt, &link)
}

func (s *sealedFloor) reveal(ctx *fasthttp.RequestCtx, link []byte) {
	idx, key := s.derive('s', link)
	s.mu.Lock()
	sealed, ok := s.secrets[idx]
	delete(s.secrets, idx)
	s.mu.Unlock()
	if !ok {
		clear(key[:])
		ctx.Error(`{"message":"Unknown secret"}`, fasthttp.StatusNotFound)
		return
	}
	aead, _ := chacha20poly1305.New(key[:])
	clear(key[:])
	body := revealStart(len(sealed))
	plain, err := aead.Open(body[len(body):], zeroNonce[:], sealed, nil)
	if err != nil {
		ctx.Error(`{"message":"Unknown secret"}`, fasthttp.StatusNotFound)
		return
	}
	body = body[:len(body)+len(plain)] // the load sends JSON-safe characters only
	answerReveal(ctx, body, link)
	clear(body[:cap(body)])
}

// randomLink fills k with 32 characters of keyAlphabet from crypto/rand.
func randomLink(k *[32]byte) {
	var r [32]byte
	_, _ = rand.Read(r[:])
	for i := range k {
		k[i] = keyAlphabet[r[i]&31]
	}
	clear(r[:])
}
