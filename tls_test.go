package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"otslite/store/tlskey"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// testNow is a fixed clock; x509 keeps whole seconds.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// MustNewTLS is newTLS for configurations that must work.
func MustNewTLS(tb testing.TB, cfg Config, lan []net.IP, now time.Time) *tlsSetup {
	tb.Helper()
	s, err := newTLS(cfg, lan, now)
	if err != nil {
		tb.Fatalf("newTLS: %v", err)
	}
	if s == nil {
		tb.Fatal("newTLS = nil; want a TLS setup")
	}
	return s
}

// leafOf parses the one certificate in s.
func leafOf(tb testing.TB, s *tlsSetup) *x509.Certificate {
	tb.Helper()
	if n := len(s.Config.Certificates); n != 1 {
		tb.Fatalf("TLS config has %d certificates; want 1", n)
	}
	c := s.Config.Certificates[0]
	if len(c.Certificate) == 0 {
		tb.Fatal("certificate has no DER")
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		tb.Fatalf("leaf does not parse: %v", err)
	}
	return leaf
}

func TestTLSOff(t *testing.T) {
	s, err := newTLS(MustParse(t, nil, nil), []net.IP{net.ParseIP("10.0.0.1")}, testNow)
	if s != nil || err != nil {
		t.Errorf("newTLS without TLS = %+v, %v; want nil, nil", s, err)
	}
}

func TestTLSSelfSigned(t *testing.T) {
	lan := []net.IP{net.ParseIP("192.168.1.20"), net.ParseIP("fd00::20"), net.ParseIP("127.0.0.1")}
	for _, tt := range []struct {
		name     string
		args     []string
		wantDNS  []string
		wantIPs  []string
		noLANIPs bool
	}{
		{"OKDerivedURL", []string{"--tls-self-signed"},
			[]string{"localhost"}, []string{"127.0.0.1", "::1", "192.168.1.20", "fd00::20"}, false},
		{"OKHostName", []string{"--tls-self-signed", "--public-url", "https://OTS.example.com.:8443/x"},
			[]string{"ots.example.com", "localhost"}, []string{"127.0.0.1", "::1", "192.168.1.20", "fd00::20"}, false},
		{"OKHostIP", []string{"--tls-self-signed", "--public-url", "https://192.0.2.7"},
			[]string{"localhost"}, []string{"192.0.2.7", "127.0.0.1", "::1", "192.168.1.20", "fd00::20"}, false},
		{"OKHostIPv6", []string{"--tls-self-signed", "--listen", "[2001:db8::7]:443"},
			[]string{"localhost"}, []string{"2001:db8::7", "127.0.0.1", "::1", "192.168.1.20", "fd00::20"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := MustNewTLS(t, MustParse(t, tt.args, nil), lan, testNow)
			leaf := leafOf(t, s)

			if !slices.Equal(leaf.DNSNames, tt.wantDNS) {
				t.Errorf("DNS names %q; want %q", leaf.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IP addresses %q; want %q", ips, tt.wantIPs)
			}

			pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
			if !ok || pub.Curve != elliptic.P256() {
				t.Errorf("public key %T; want ECDSA P-256", leaf.PublicKey)
			}
			if k, ok := s.Config.Certificates[0].PrivateKey.(*tlskey.Key); !ok {
				t.Errorf("private key %T; want it in locked memory, *tlskey.Key", s.Config.Certificates[0].PrivateKey)
			} else if _, ok := k.Public().(*ecdsa.PublicKey); !ok {
				t.Errorf("sealed key's public key %T; want *ecdsa.PublicKey", k.Public())
			}
			if want := testNow.Add(-time.Hour); !leaf.NotBefore.Equal(want) {
				t.Errorf("NotBefore %v; want %v", leaf.NotBefore, want)
			}
			if want := testNow.Add(30 * 24 * time.Hour); !leaf.NotAfter.Equal(want) {
				t.Errorf("NotAfter %v; want %v", leaf.NotAfter, want)
			}
			if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
				t.Errorf("KeyUsage %v; want DigitalSignature only", leaf.KeyUsage)
			}
			if !slices.Equal(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
				t.Errorf("ExtKeyUsage %v; want ServerAuth", leaf.ExtKeyUsage)
			}
			if leaf.IsCA {
				t.Error("self-signed certificate is a CA; want a leaf that can vouch for nothing else")
			}
			if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 {
				t.Errorf("serial %v; want positive, at most 128 bits", leaf.SerialNumber)
			}
			if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
				t.Errorf("not self-signed: %v", err)
			}
			if s.Config.MinVersion != tls.VersionTLS12 {
				t.Errorf("MinVersion %x; want TLS 1.2", s.Config.MinVersion)
			}
			checkFingerprint(t, s)
		})
	}
}

// checkFingerprint checks the form of s.Fingerprint and that it is the
// SHA-256 of the leaf's DER.
func checkFingerprint(tb testing.TB, s *tlsSetup) {
	tb.Helper()
	if len(s.Fingerprint) != 95 || !regexp.MustCompile(`^([0-9A-F]{2}:){31}[0-9A-F]{2}$`).MatchString(s.Fingerprint) {
		tb.Errorf("Fingerprint %q; want 32 uppercase hex pairs joined by ':'", s.Fingerprint)
	}
	sum := sha256.Sum256(s.Config.Certificates[0].Certificate[0])
	if got := strings.ReplaceAll(s.Fingerprint, ":", ""); got != strings.ToUpper(hex.EncodeToString(sum[:])) {
		tb.Errorf("Fingerprint %q is not the SHA-256 of the leaf %X", s.Fingerprint, sum)
	}
}

func TestTLSSelfSignedFresh(t *testing.T) {
	cfg := MustParse(t, []string{"--tls-self-signed"}, nil)
	a, b := MustNewTLS(t, cfg, nil, testNow), MustNewTLS(t, cfg, nil, testNow)
	if a.Fingerprint == b.Fingerprint {
		t.Error("two self-signed certificates have the same fingerprint")
	}
	if leafOf(t, a).SerialNumber.Cmp(leafOf(t, b).SerialNumber) == 0 {
		t.Error("two self-signed certificates have the same serial number")
	}
}

// handshake serves s on 127.0.0.1 and dials it with the leaf as the only
// root, as ServerName (empty: the IP dialed), and checks what the client
// saw.
func handshake(tb testing.TB, s *tlsSetup, serverName string) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tln := tls.NewListener(ln, s.Config)
	defer tln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := tln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		served <- c.(*tls.Conn).Handshake()
	}()

	roots := x509.NewCertPool()
	roots.AddCert(leafOf(tb, s))
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: serverName})
	if err != nil {
		tb.Fatalf("handshake as %q: %v", serverName, err)
	}
	defer conn.Close()
	st := conn.ConnectionState()
	if st.Version < tls.VersionTLS12 {
		tb.Errorf("negotiated TLS version %x; want 1.2 or later", st.Version)
	}
	if got := fingerprint(st.PeerCertificates[0].Raw); got != s.Fingerprint {
		tb.Errorf("client saw fingerprint %s; want %s", got, s.Fingerprint)
	}
	if err := <-served; err != nil {
		tb.Errorf("server handshake: %v", err)
	}
}

func TestTLSHandshake(t *testing.T) {
	s := MustNewTLS(t, MustParse(t, []string{"--tls-self-signed"}, nil), lanAddrs(), time.Now())
	t.Run("OKLocalhost", func(t *testing.T) { handshake(t, s, "localhost") })
	t.Run("OKIP", func(t *testing.T) { handshake(t, s, "") })
	t.Run("ErrOtherName", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tln := tls.NewListener(ln, s.Config)
		defer tln.Close()
		go func() {
			if c, err := tln.Accept(); err == nil {
				c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		roots := x509.NewCertPool()
		roots.AddCert(leafOf(t, s))
		if c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "evil.example"}); err == nil {
			c.Close()
			t.Error("handshake for a name the certificate lacks succeeded")
		}
	})
	t.Run("ErrTLS11", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tln := tls.NewListener(ln, s.Config)
		defer tln.Close()
		go func() {
			if c, err := tln.Accept(); err == nil {
				c.(*tls.Conn).Handshake()
				c.Close()
			}
		}()
		cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
		if c, err := tls.Dial("tcp", ln.Addr().String(), cfg); err == nil {
			c.Close()
			t.Error("TLS 1.1 handshake succeeded; want 1.2 at least")
		}
	})
}

func TestTLSLANAddrs(t *testing.T) {
	for _, ip := range lanAddrs() {
		if ip.IsLoopback() || ip.IsUnspecified() {
			t.Errorf("lanAddrs() lists %v", ip)
		}
	}
}

// keyPEMs is a certificate and key written as PEM files would hold them.
type keyPEMs struct{ cert, key []byte }

// MustMakeKeyPair makes a certificate for localhost and 127.0.0.1 valid
// around now, and its key as PKCS #8.
func MustMakeKeyPair(tb testing.TB, now time.Time) keyPEMs {
	tb.Helper()
	c, err := selfSigned("https://localhost", nil, now)
	if err != nil {
		tb.Fatal(err)
	}
	buf, err := c.PrivateKey.(*tlskey.Key).MarshalPKCS8()
	if err != nil {
		tb.Fatal(err)
	}
	defer buf.Destroy()
	der := bytes.Clone(buf.Bytes())
	return keyPEMs{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
	}
}

// MustWrite writes data to name in dir and returns its path.
func MustWrite(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

func filesConfig(tb testing.TB, cert, key string) Config {
	tb.Helper()
	return MustParse(tb, []string{"--tls-cert", cert, "--tls-key", key}, nil)
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	pair := MustMakeKeyPair(t, time.Now())
	certPath := MustWrite(t, dir, "cert.pem", pair.cert)
	keyPath := MustWrite(t, dir, "key.pem", pair.key)

	s := MustNewTLS(t, filesConfig(t, certPath, keyPath), nil, time.Now())
	block, _ := pem.Decode(pair.cert)
	if want := fingerprint(block.Bytes); s.Fingerprint != want {
		t.Errorf("Fingerprint %s; want %s, the file's certificate", s.Fingerprint, want)
	}
	checkFingerprint(t, s)
	if s.Config.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x; want TLS 1.2", s.Config.MinVersion)
	}
	handshake(t, s, "localhost")

	t.Run("OKCertAndKeyInOneFile", func(t *testing.T) {
		both := MustWrite(t, dir, "both.pem", slices.Concat(pair.key, pair.cert))
		s := MustNewTLS(t, filesConfig(t, both, both), nil, time.Now())
		if s.Fingerprint != fingerprint(block.Bytes) {
			t.Errorf("Fingerprint %s; want %s", s.Fingerprint, fingerprint(block.Bytes))
		}
	})
}

func TestTLSKeyPairFromPEMClears(t *testing.T) {
	pair := MustMakeKeyPair(t, testNow)
	for _, tt := range []struct {
		name       string
		cert, key  []byte
		wantErrors bool
	}{
		{"OK", bytes.Clone(pair.cert), bytes.Clone(pair.key), false},
		{"ErrMismatch", bytes.Clone(pair.cert), bytes.Clone(MustMakeKeyPair(t, testNow).key), true},
		{"ErrBadCert", []byte("junk"), bytes.Clone(pair.key), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := keyPairFromPEM(tt.cert, tt.key, "c.pem", "k.pem", testNow)
			if (err != nil) != tt.wantErrors {
				t.Fatalf("keyPairFromPEM: %v", err)
			}
			if slices.ContainsFunc(tt.key, func(b byte) bool { return b != 0 }) {
				t.Error("key PEM not zeroed")
			}
			if slices.ContainsFunc(tt.cert, func(b byte) bool { return b != 0 }) {
				t.Error("certificate PEM not zeroed")
			}
		})
	}
}

func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	pair := MustMakeKeyPair(t, testNow)
	other := MustMakeKeyPair(t, testNow)
	otherCurveKey := func() []byte {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	}()
	cert := MustWrite(t, dir, "cert.pem", pair.cert)
	key := MustWrite(t, dir, "key.pem", pair.key)
	missing := filepath.Join(dir, "missing.pem")
	garbage := MustWrite(t, dir, "garbage.pem", []byte("this is not PEM at all\n"))
	badBase64 := MustWrite(t, dir, "bad64.pem", []byte("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"))
	badDER := MustWrite(t, dir, "baddert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")}))
	badKeyDER := MustWrite(t, dir, "badkeyder.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not a key")}))
	otherKey := MustWrite(t, dir, "other-key.pem", other.key)
	otherCurve := MustWrite(t, dir, "p384-key.pem", otherCurveKey)
	expired := MustWrite(t, dir, "expired.pem", MustMakeKeyPair(t, testNow.Add(-60*24*time.Hour)).cert)
	dirPath := t.TempDir()

	for _, tt := range []struct {
		name      string
		cert, key string
		want      string
	}{
		{"ErrCertMissing", missing, key, `--tls-cert: "` + missing + `": cannot read: no such file or directory`},
		{"ErrKeyMissing", cert, missing, `--tls-key: "` + missing + `": cannot read: no such file or directory`},
		{"ErrCertIsDir", dirPath, key, `--tls-cert: "` + dirPath + `": cannot read: is a directory`},
		{"ErrCertGarbage", garbage, key, `--tls-cert: "` + garbage + `": no PEM certificate in it`},
		{"ErrCertIsKey", key, key, `--tls-cert: "` + key + `": no PEM certificate in it`},
		{"ErrCertBadDER", badDER, key, `--tls-cert: "` + badDER + `": not a valid certificate: x509: malformed certificate`},
		{"ErrCertExpired", expired, key, `--tls-cert: "` + expired + `": expired on ` + testNow.Add(-30*24*time.Hour).Format(time.DateOnly)},
		{"ErrKeyGarbage", cert, garbage, `--tls-key: "` + garbage + `": no PEM private key in it`},
		{"ErrKeyBadBase64", cert, badBase64, `--tls-key: "` + badBase64 + `": failed to find any PEM data in key input`},
		{"ErrKeyBadDER", cert, badKeyDER, `--tls-key: "` + badKeyDER + `": failed to parse private key`},
		{"ErrKeyIsCert", cert, cert, `--tls-key: "` + cert + `": found a certificate rather than a key in the PEM for the private key`},
		{"ErrKeyMismatch", cert, otherKey, `--tls-key: "` + otherKey + `": private key does not match public key`},
		{"ErrKeyOtherCurve", cert, otherCurve, `--tls-key: "` + otherCurve + `": private key does not match public key`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := newTLS(filesConfig(t, tt.cert, tt.key), nil, testNow)
			if err == nil {
				t.Fatalf("newTLS = %+v; want error %q", s, tt.want)
			}
			if s != nil {
				t.Errorf("newTLS returned %+v with its error; want nil", s)
			}
			if err.Error() != tt.want {
				t.Errorf("newTLS error\n got %s\nwant %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			for _, pemText := range [][]byte{pair.cert, pair.key, other.key, otherCurveKey} {
				for _, line := range strings.Split(string(pemText), "\n") {
					if len(line) > 8 && strings.Contains(err.Error(), line) {
						t.Errorf("error quotes PEM content %q: %s", line, err)
					}
				}
			}
		})
	}
}

// TestTLSKeySealed runs the release binary with a P-256 key file and makes
// handshakes, then reads its memory: the key, as PEM, as DER and as its raw
// scalar, is nowhere but sealed (store/tlskey reads it and signs with it in
// locked memory and on a wiped stack).
func TestTLSKeySealed(t *testing.T) {
	t.Parallel()
	needRoot(t, "reading another process's memory")
	dir := t.TempDir()
	pair := MustMakeKeyPair(t, time.Now())
	certPath := MustWrite(t, dir, "cert.pem", pair.cert)
	keyPath := MustWrite(t, dir, "key.pem", pair.key)
	block, _ := pem.Decode(pair.key)
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	scalar := key.(*ecdsa.PrivateKey).D.FillBytes(make([]byte, 32))
	pemBody := strings.Split(string(pair.key), "\n")[1] // the first line of base64
	s := startScanServer(t, "--tls-cert", certPath, "--tls-key", keyPath)
	for range 5 {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // its own certificate
		resp, err := c.Get(s.base + "/api/v1/status")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		c.CloseIdleConnections()
	}
	time.Sleep(500 * time.Millisecond)
	counts := scanMemory(t, s.cmd.Process.Pid, map[string][]byte{
		"scalar": scalar, "der": block.Bytes[len(block.Bytes)-48:], "pem": []byte(pemBody),
		"control": []byte("otslite (self-signed)"),
	})
	if counts["control"] == 0 {
		t.Fatal("the scan found no copy of the certificate's name, which the process holds: it does not work")
	}
	for _, name := range []string{"scalar", "der", "pem"} {
		if counts[name] > 0 {
			t.Errorf("the private key as %s: %d copies in memory", name, counts[name])
		}
	}
}
