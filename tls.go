// TLS: the certificate otslite serves HTTPS with, from PEM files or made in
// memory at startup.
//
// Rules for this file:
//   - Nothing is written to disk. A self-signed key lives only in this
//     process and dies with it.
//   - Errors are one line, name the flag and quote the path, and never hold
//     key or certificate material.
//   - An ECDSA P-256 key (the self-signed one, and most key files) lives
//     only in locked memory: store/tlskey reads it from PEM, keeps it in a
//     memguard Enclave and signs with it there. Any other key is parsed by
//     crypto/tls and then sealed (sealedKey), but crypto/x509, crypto/ecdsa
//     and crypto/rsa copy its numbers to the ordinary heap while they parse
//     and sign, where nothing outside the standard library can reach them;
//     what otslite can reach (the parsed key's big.Ints, the PEM bytes) it
//     wipes.
package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/awnumar/memguard"

	"otslite/store/tlskey"
)

// selfSignedValidity is how long a self-signed certificate is valid. It
// only has to outlast one session; 30 days is far more than any lifetime
// or idle window is meant for, and short enough that a certificate a user
// has pinned as an exception does not linger for years.
const selfSignedValidity = 30 * day

// tlsSetup is what main needs to serve TLS.
type tlsSetup struct {
	Config      *tls.Config // MinVersion TLS 1.2, one certificate
	Fingerprint string      // SHA-256 of the leaf certificate's DER, uppercase hex pairs joined by ':'
}

// newTLS builds the TLS configuration cfg asks for: from --tls-cert and
// --tls-key (PEM, each read once), or, for --tls-self-signed, an ECDSA P-256
// certificate made in memory, valid from an hour before now (for clocks
// slightly behind ours) for selfSignedValidity, for the public URL's host,
// "localhost", 127.0.0.1, ::1 and every address in lan (see lanAddrs).
// It returns (nil, nil) when TLS is off.
func newTLS(cfg Config, lan []net.IP, now time.Time) (*tlsSetup, error) {
	var cert tls.Certificate
	var err error
	switch {
	case cfg.TLSSelfSigned:
		cert, err = selfSigned(cfg.PublicURL, lan, now)
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		cert, err = loadKeyPair(cfg.TLSCert, cfg.TLSKey, now)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &tlsSetup{
		Config: &tls.Config{
			MinVersion:   tls.VersionTLS12,
			Certificates: []tls.Certificate{cert},
			NextProtos:   []string{"http/1.1"}, // fasthttp speaks nothing else
		},
		Fingerprint: fingerprint(cert.Certificate[0]),
	}, nil
}

// lanAddrs lists the machine's non-loopback interface addresses, for the
// self-signed certificate to name. If they cannot be listed, the
// certificate names only the public URL's host and the loopback names.
func lanAddrs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if ip == nil || ip.IsLoopback() || ip.IsUnspecified() {
			continue
		}
		ips = append(ips, ip)
	}
	return ips
}

// fingerprint is the SHA-256 of der as uppercase hex pairs joined by ':',
// the form browsers show in their certificate viewers.
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, 3*len(sum)-1)
	for i, c := range sum {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return string(b)
}

// selfSigned makes a certificate and its key in memory for the host of
// publicURL, "localhost", the loopback addresses and lan.
func selfSigned(publicURL string, lan []net.IP, now time.Time) (tls.Certificate, error) {
	var dnsNames []string
	var ips []net.IP
	addIP := func(ip net.IP) {
		for _, have := range ips {
			if have.Equal(ip) {
				return
			}
		}
		ips = append(ips, ip)
	}
	addName := func(host string) {
		host = strings.ToLower(strings.TrimSuffix(host, "."))
		if ip := net.ParseIP(host); ip != nil {
			addIP(ip)
			return
		}
		for _, have := range dnsNames {
			if have == host {
				return
			}
		}
		dnsNames = append(dnsNames, host)
	}
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		addName(u.Hostname())
	}
	addName("localhost")
	addIP(net.IPv4(127, 0, 0, 1))
	addIP(net.IPv6loopback)
	for _, ip := range lan {
		addIP(ip)
	}

	key, err := tlskey.Generate()
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-self-signed: cannot make a key: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-self-signed: cannot draw a serial number: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "otslite (self-signed)"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, // and not a CA: it can vouch for nothing else
		DNSNames:              dnsNames,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-self-signed: cannot make the certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-self-signed: cannot read back the certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// sealedKey is a private key kept in a memguard Enclave, opened only to
// sign. It is what crypto/tls holds instead of the key itself.
type sealedKey struct {
	public crypto.PublicKey
	der    *memguard.Enclave // PKCS #8
}

// sealKey seals key and wipes what it can of it.
func sealKey(key crypto.Signer) (*sealedKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("cannot seal the private key: %v", err)
	}
	enclave := memguard.NewEnclave(der) // wipes der
	if enclave == nil {
		return nil, errors.New("cannot seal the private key: empty")
	}
	return &sealedKey{public: key.Public(), der: enclave}, nil
}

func (k *sealedKey) Public() crypto.PublicKey { return k.public }

// Sign opens the key, signs digest with it, and wipes the opened key.
func (k *sealedKey) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	buf, err := k.der.Open()
	if err != nil {
		return nil, err
	}
	defer buf.Destroy()
	key, err := x509.ParsePKCS8PrivateKey(buf.Bytes())
	if err != nil {
		return nil, err
	}
	defer wipeKey(key)
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("the sealed key cannot sign")
	}
	return signer.Sign(r, digest, opts)
}

// wipeKey zeroes the numbers of a parsed private key in place.
func wipeKey(key any) {
	wipe := func(n *big.Int) {
		if n != nil {
			clear(n.Bits())
		}
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		wipe(k.D)
	case *rsa.PrivateKey:
		wipe(k.D)
		for _, p := range k.Primes {
			wipe(p)
		}
		wipe(k.Precomputed.Dp)
		wipe(k.Precomputed.Dq)
		wipe(k.Precomputed.Qinv)
	case ed25519.PrivateKey:
		clear(k)
	}
}

// loadKeyPair reads the PEM files at certPath and keyPath once each.
func loadKeyPair(certPath, keyPath string, now time.Time) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-cert: %q: cannot read: %v", certPath, pathErr(err))
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-key: %q: cannot read: %v", keyPath, pathErr(err))
	}
	return keyPairFromPEM(certPEM, keyPEM, certPath, keyPath, now)
}

// keyPairFromPEM parses a certificate chain and its key, then zeroes keyPEM
// (and certPEM, which holds nothing secret) whatever the outcome. That wipes
// our copy only. tls.X509KeyPair decodes the PEM into DER and parses that
// into key structures (big.Ints and the like) on the ordinary heap, copies
// nothing outside the standard library can reach: the key stays readable in
// this process's memory until it ends. Nothing better is possible while
// crypto/tls holds the key.
func keyPairFromPEM(certPEM, keyPEM []byte, certPath, keyPath string, now time.Time) (tls.Certificate, error) {
	defer clear(keyPEM)
	defer clear(certPEM)

	// Parse the certificate on its own first, so that an error can say
	// which file is wrong. Its errors are crypto/x509's fixed wording.
	block, _ := pem.Decode(skipToCertificate(certPEM))
	if block == nil {
		return tls.Certificate{}, fmt.Errorf("--tls-cert: %q: no PEM certificate in it", certPath)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-cert: %q: not a valid certificate: %s", certPath, oneLine(err))
	}
	if now.After(leaf.NotAfter) {
		return tls.Certificate{}, fmt.Errorf("--tls-cert: %q: expired on %s", certPath, leaf.NotAfter.UTC().Format(time.DateOnly))
	}

	if !bytes.Contains(keyPEM, []byte("-----BEGIN ")) {
		return tls.Certificate{}, fmt.Errorf("--tls-key: %q: no PEM private key in it", keyPath)
	}
	// A P-256 key is read and kept in locked memory only (store/tlskey);
	// another kind goes through crypto/tls, then is sealed.
	key, err := tlskey.ParsePEM(keyPEM)
	switch {
	case err == nil:
		if !key.Public().(*ecdsa.PublicKey).Equal(leaf.PublicKey) {
			return tls.Certificate{}, fmt.Errorf("--tls-key: %q: private key does not match public key", keyPath)
		}
		cert := tls.Certificate{PrivateKey: key, Leaf: leaf}
		for rest := skipToCertificate(certPEM); ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type == "CERTIFICATE" {
				cert.Certificate = append(cert.Certificate, b.Bytes)
			}
		}
		return cert, nil
	case !errors.Is(err, tlskey.ErrUnsupported):
		return tls.Certificate{}, fmt.Errorf("--tls-key: %q: %s", keyPath, strings.TrimPrefix(oneLine(err), "tlskey: "))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls words these itself and quotes no key material:
		// "failed to parse private key", "private key does not match
		// public key", or which PEM block types it skipped.
		return tls.Certificate{}, fmt.Errorf("--tls-key: %q: %s", keyPath, strings.TrimPrefix(oneLine(err), "tls: "))
	}
	if cert.Leaf == nil {
		cert.Leaf = leaf
	}
	defer wipeKey(cert.PrivateKey)
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return tls.Certificate{}, fmt.Errorf("--tls-key: %q: the key cannot sign", keyPath)
	}
	sealed, err := sealKey(signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("--tls-key: %q: %v", keyPath, err)
	}
	cert.PrivateKey = sealed
	return cert, nil
}

// skipToCertificate returns data from its first CERTIFICATE block on, so
// that a bundle with other blocks first still finds its certificate.
func skipToCertificate(data []byte) []byte {
	rest := data
	for {
		block, next := pem.Decode(rest)
		if block == nil || block.Type == "CERTIFICATE" {
			return rest
		}
		rest = next
	}
}

// pathErr is err without the path, which the message already quotes.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// oneLine is err's text on one line.
func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
