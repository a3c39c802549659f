package main

import (
	"crypto/rand"
	"encoding/base64"
)

// A zero-knowledge secret as the web UI sends it (assets/ui/zk.js and
// create.js, and "otsz1 proof, version 2"): the envelope "otsz1:" + base85
// (Z85's alphabet) as the v1 secret, and the proof "zk1." +
// base64url(kp) as the passphrase, in a JSON body as the browser's
// JSON.stringify writes it (secret, passphrase, ttl, in that order; no
// character of either needs an escape). The server never sees the key,
// so the envelope here is random text of the alphabet, and one proof
// serves every secret of a client: the server keeps only keyed hashes of
// it and cannot tell.

const z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

type zkSecret struct {
	envelope []byte // what the server stores and reveals
	proof    []byte // the passphrase field
}

// newZK makes an envelope of size bytes (at least the tag) and a proof
// without a passphrase (47 characters).
func newZK(size int) *zkSecret {
	const tag = "otsz1:"
	r := make([]byte, max(size, len(tag)+1)-len(tag)+32)
	rand.Read(r)
	env := []byte(tag)
	for _, b := range r[32:] {
		env = append(env, z85[int(b)%len(z85)])
	}
	return &zkSecret{envelope: env, proof: []byte("zk1." + base64.RawURLEncoding.EncodeToString(r[:32]))}
}

// shareBody is the share request's body as the UI sends it, with its
// content type.
func (z *zkSecret) shareBody() (body, contentType string) {
	return `{"secret":"` + string(z.envelope) + `","passphrase":"` + string(z.proof) + `","ttl":3600}`, ctJSON
}
