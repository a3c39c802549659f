// Package tlskey keeps a TLS server's ECDSA P-256 private key in locked
// memory only, and signs handshakes with it there.
//
// crypto/ecdsa would hold the key as big.Ints and copy its scalar to the
// ordinary heap on every signature, where nothing can wipe it. Here the
// scalar is kept sealed in a memguard Enclave; to sign, it is opened into
// a LockedBuffer and the arithmetic runs on values in fixed arrays on the
// stack (scalar.go), which are zeroed, with the stack below, before Sign
// returns. The point multiplication is filippo.io/nistec's, which keeps its
// scalar on the stack too. A key file is decoded from PEM and parsed from
// DER in locked memory, without crypto/x509 (which copies the scalar).
//
// Every signature is checked with crypto/ecdsa before it is returned, so
// an arithmetic fault can never send a signature that leaks the key.
//
// Only P-256 keys are handled; ParsePEM says ErrUnsupported for others,
// and the caller falls back to crypto/x509 (README, SECURITY.md).
package tlskey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"math/big"

	"filippo.io/nistec"
	"github.com/awnumar/memguard"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"otslite/store"
)

// ErrUnsupported means a key is not an unencrypted P-256 key.
var ErrUnsupported = errors.New("not an ECDSA P-256 key")

// Key is a P-256 private key sealed in locked memory. It is a crypto.Signer.
type Key struct {
	public *ecdsa.PublicKey
	d      *memguard.Enclave // the scalar, 32 bytes big-endian
}

// Generate makes a new key.
func Generate() (*Key, error) {
	buf := memguard.NewBuffer(32)
	defer buf.Destroy()
	var d scalar
	defer clear(d[:])
	for {
		if _, err := io.ReadFull(rand.Reader, buf.Bytes()); err != nil {
			return nil, err
		}
		setBytes(&d, (*[32]byte)(buf.Bytes()))
		if lessThanN(&d)&(1^isZero(&d)) == 1 {
			break
		}
	}
	return fromScalar(buf.Bytes())
}

// fromScalar seals d (32 bytes big-endian, 0 < d < n) with its public key,
// and wipes d.
func fromScalar(d []byte) (*Key, error) {
	p, err := nistec.NewP256Point().ScalarBaseMult(d)
	if err != nil {
		return nil, err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), p.Bytes())
	if err != nil {
		return nil, err
	}
	enclave := memguard.NewEnclave(d) // wipes d
	store.ScrubStack()
	return &Key{public: pub, d: enclave}, nil
}

// Public returns the public key.
func (k *Key) Public() crypto.PublicKey { return k.public }

// Sign signs digest with a random nonce (opts is not used: the digest is
// already hashed, as crypto.Signer says). The signature is ASN.1 DER.
func (k *Key) Sign(random io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	if random == nil {
		random = rand.Reader
	}
	buf, err := k.d.Open()
	if err != nil {
		return nil, err
	}
	defer buf.Destroy()
	r, s, err := sign(random, buf.Bytes(), digest)
	store.ScrubStack()
	if err != nil {
		return nil, err
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1BigInt(new(big.Int).SetBytes(r[:]))
		b.AddASN1BigInt(new(big.Int).SetBytes(s[:]))
	})
	sig, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	if !ecdsa.VerifyASN1(k.public, digest, sig) {
		return nil, errors.New("tlskey: a signature failed its own check")
	}
	return sig, nil
}

// sign computes (r, s) for digest with the scalar d (32 bytes big-endian)
// and a nonce drawn from random. Nothing secret leaves the stack.
func sign(random io.Reader, d, digest []byte) (r, s [32]byte, err error) {
	var kb [32]byte
	var dd, kk, e, rs, t, u scalar
	defer func() {
		clear(kb[:])
		clear(dd[:])
		clear(kk[:])
		clear(t[:])
		clear(u[:])
	}()
	setBytes(&u, (*[32]byte)(d))
	toMont(&dd, &u)
	hashToScalar(&e, digest)
	toMont(&e, &e)
	for {
		if _, err := io.ReadFull(random, kb[:]); err != nil {
			return r, s, err
		}
		setBytes(&kk, &kb)
		if lessThanN(&kk)&(1^isZero(&kk)) != 1 {
			continue // outside [1, n-1]: draw again (probability ~2^-32)
		}
		var ok bool
		if ok, err = signWith(&r, &s, &kb, &kk, &dd, &e, &rs, &t, &u); err != nil || ok {
			return r, s, err
		}
	}
}

// signWith computes (r, s) with the nonce k (kb big-endian, kk as a
// scalar), dd = d·R and e = hash·R; it reports false when r or s is zero
// and another nonce is needed. The scratch values are the caller's.
func signWith(r, s *[32]byte, kb *[32]byte, kk, dd, e, rs, t, u *scalar) (bool, error) {
	p, err := nistec.NewP256Point().ScalarBaseMult(kb[:])
	if err != nil {
		return false, err
	}
	x, err := p.BytesX()
	if err != nil {
		return false, err
	}
	setBytes(rs, (*[32]byte)(x))
	reduceOnce(rs) // x < p < 2n
	if isZero(rs) == 1 {
		return false, nil
	}
	putBytes(r, rs)
	toMont(rs, rs)
	mul(t, rs, dd) // r·d·R
	add(t, t, e)   // (e + r·d)·R
	toMont(u, kk)  // k·R
	invert(u, u)   // k⁻¹·R
	mul(t, u, t)   // k⁻¹(e + r·d)·R
	fromMont(t, t)
	if isZero(t) == 1 {
		return false, nil
	}
	putBytes(s, t)
	return true, nil
}

// hashToScalar sets e to the digest's leftmost 256 bits, reduced mod n
// (FIPS 186-5, 6.4.1).
func hashToScalar(e *scalar, digest []byte) {
	var b [32]byte
	if len(digest) >= 32 {
		copy(b[:], digest[:32])
	} else {
		copy(b[32-len(digest):], digest)
	}
	setBytes(e, &b)
	reduceOnce(e)
}

// ParsePEM reads an unencrypted P-256 private key from keyPEM (a PKCS #8
// "PRIVATE KEY" or SEC 1 "EC PRIVATE KEY" block), decoding and parsing it
// in locked memory. ErrUnsupported says it is another kind of key, or not
// one this reads; the caller may then parse it otherwise. keyPEM is not
// changed.
func ParsePEM(keyPEM []byte) (*Key, error) {
	body, kind, ok := pemBody(keyPEM)
	if !ok {
		return nil, ErrUnsupported
	}
	buf := memguard.NewBuffer(base64.StdEncoding.DecodedLen(len(body)))
	defer buf.Destroy()
	n, err := base64.StdEncoding.Decode(buf.Bytes(), body)
	if err != nil {
		return nil, ErrUnsupported // not PEM as this reads it; crypto/x509 may say more
	}
	der := buf.Bytes()[:n]
	var ec []byte
	switch kind {
	case "PRIVATE KEY":
		if ec, ok = pkcs8EC(der); !ok {
			return nil, ErrUnsupported
		}
	case "EC PRIVATE KEY":
		ec = der
	}
	d, ok := sec1Scalar(ec)
	if !ok {
		return nil, ErrUnsupported
	}
	var v scalar
	setBytes(&v, (*[32]byte)(d))
	valid := lessThanN(&v) & (1 ^ isZero(&v))
	clear(v[:])
	if valid != 1 {
		return nil, errors.New("tlskey: the key's scalar is out of range")
	}
	scratch := memguard.NewBuffer(32)
	defer scratch.Destroy()
	copy(scratch.Bytes(), d)
	return fromScalar(scratch.Bytes())
}

// pemBody finds the first PEM block of a private key and returns its
// base64 body (line breaks included; base64 skips them) and its type. A
// block with headers (an encrypted key) is not taken.
func pemBody(data []byte) (body []byte, kind string, ok bool) {
	for _, kind := range []string{"PRIVATE KEY", "EC PRIVATE KEY"} {
		begin := []byte("-----BEGIN " + kind + "-----")
		end := []byte("-----END " + kind + "-----")
		i := bytes.Index(data, begin)
		if i < 0 {
			continue
		}
		rest := data[i+len(begin):]
		j := bytes.Index(rest, end)
		if j < 0 || bytes.IndexByte(rest[:j], ':') >= 0 {
			return nil, "", false
		}
		return rest[:j], kind, true
	}
	return nil, "", false
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
)

// pkcs8EC returns the SEC 1 key inside a PKCS #8 key for P-256 (a slice of
// der).
func pkcs8EC(der []byte) ([]byte, bool) {
	in := cryptobyte.String(der)
	var seq, alg, key cryptobyte.String
	var version int
	var algOID, curveOID asn1.ObjectIdentifier
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) || version != 0 ||
		!seq.ReadASN1(&alg, cbasn1.SEQUENCE) || !alg.ReadASN1ObjectIdentifier(&algOID) ||
		!algOID.Equal(oidECPublicKey) || !alg.ReadASN1ObjectIdentifier(&curveOID) || !curveOID.Equal(oidP256) ||
		!seq.ReadASN1(&key, cbasn1.OCTET_STRING) {
		return nil, false
	}
	return key, true
}

// sec1Scalar returns the 32-byte scalar of a SEC 1 ECPrivateKey for
// P-256 (a slice of der). A curve named in it must be P-256.
func sec1Scalar(der []byte) ([]byte, bool) {
	in := cryptobyte.String(der)
	var seq, d cryptobyte.String
	var version int
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(&version) || version != 1 ||
		!seq.ReadASN1(&d, cbasn1.OCTET_STRING) || len(d) != 32 {
		return nil, false
	}
	var params cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&params, &present, cbasn1.Tag(0).Constructed().ContextSpecific()) {
		return nil, false
	}
	if present {
		var curve asn1.ObjectIdentifier
		if !params.ReadASN1ObjectIdentifier(&curve) || !curve.Equal(oidP256) {
			return nil, false
		}
	}
	return d, true
}

// MarshalPKCS8 writes the key as PKCS #8 DER into a LockedBuffer the
// caller destroys (for tests and for handing the key to a file-less
// consumer; otslite itself never needs it).
func (k *Key) MarshalPKCS8() (*memguard.LockedBuffer, error) {
	d, err := k.d.Open()
	if err != nil {
		return nil, err
	}
	defer d.Destroy()
	prefix := []byte{0x30, 0x41, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
		0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04, 0x27, 0x30, 0x25, 0x02, 0x01, 0x01, 0x04, 0x20}
	out := memguard.NewBuffer(len(prefix) + 32)
	copy(out.Bytes(), prefix)
	copy(out.Bytes()[len(prefix):], d.Bytes())
	return out, nil
}
