package main

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// A zero-knowledge secret as the web UI sends it (assets/ui/zk.js, and
// "otsz1 proof, version 2"): the envelope "otsz1:" + base85 (Z85's
// alphabet) as the v1 secret, and the proof "zk1." + base64url(kp) as the
// passphrase, in a form body encoded as the browser's URLSearchParams
// encodes it (ttl, secret, passphrase, in that order). The server never
// sees the key, so the envelope here is random text of the alphabet, and
// one proof serves every secret of a client: the server keeps only keyed
// hashes of it and cannot tell.

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

// shareBody is the share request's body as the UI sends it.
func (z *zkSecret) shareBody() string {
	return "ttl=3600&secret=" + formEscape(z.envelope) + "&passphrase=" + formEscape(z.proof)
}

// formEscape encodes b as the application/x-www-form-urlencoded
// serializer does (URLSearchParams): alphanumerics and *-._ stay, a space
// becomes '+', every other byte %XX.
func formEscape(b []byte) string {
	const keep = "*-._"
	var out []byte
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte(keep, c) >= 0:
			out = append(out, c)
		case c == ' ':
			out = append(out, '+')
		default:
			out = append(out, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		}
	}
	return string(out)
}
