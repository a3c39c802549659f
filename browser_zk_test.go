package main

// A second, independent reading of the zero-knowledge format (the README's
// "Encrypted in the browser", assets/ui/zk.js), proof version 2: from a
// link and its passphrase, derive the proof and the key, fetch the envelope
// through the v1 API, and decrypt it. The browser tests use it on links the
// UI made, and compare the proof with the browser's for fixed inputs.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

const (
	zkTag        = "otsz1:"
	zkProofTag   = "zk1."
	zkIterations = 600000
	z85Alphabet  = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
)

// zkProofRE is the wire form of a proof, as the server recognises it.
var zkProofRE = regexp.MustCompile(`^zk1\.[A-Za-z0-9_-]{43}(\.[A-Za-z0-9_-]{43})?$`)

var zkLinkRE = regexp.MustCompile(`/secret/([0-9a-z]+)#1([np])([A-Za-z0-9_-]{43})$`)

// openEnvelope reveals the secret behind a zero-knowledge link and
// decrypts it. pass must already be in Unicode NFC (the browser normalises;
// this test does not carry a normaliser).
func openEnvelope(t *testing.T, srv *scanServer, link, pass string) string {
	t.Helper()
	m := zkLinkRE.FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("not a zero-knowledge link: %q", link)
	}
	key, err := base64.RawURLEncoding.Strict().DecodeString(m[3])
	if err != nil || len(key) != 32 {
		t.Fatalf("link key: %v", err)
	}
	if (m[2] == "p") != (pass != "") {
		t.Fatalf("link says passphrase %q, test gives %q", m[2], pass)
	}
	proof, ikm := zkProof(t, key, pass)
	r := srv.call(t, http.DefaultClient, "/api/v1/secret/"+m[1], "application/x-www-form-urlencoded", url.Values{"passphrase": {proof}}.Encode())
	envelope, _ := r["value"].(string)
	body, ok := strings.CutPrefix(envelope, zkTag)
	if !ok {
		t.Fatalf("stored value is not an %s envelope: %.40q", zkTag, envelope)
	}
	raw, err := z85Decode(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 12+16 {
		t.Fatalf("envelope of %d bytes", len(raw))
	}
	contentKey, err := hkdf.Key(sha256.New, ikm, nil, "otslite zk1 content", 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(contentKey)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gcm.Open(nil, raw[:12], raw[12:], []byte(zkTag))
	if err != nil {
		t.Fatalf("envelope does not open with the key the format derives: %v", err)
	}
	return string(plain)
}

// zkProof derives the proof (wire form) and ikm from a link's key and
// passphrase ("" for none):
//
//	kp  = HKDF-SHA-256(K, no salt, "otslite zk1 link proof", 32)
//	ikm = K, or K || PBKDF2-HMAC-SHA-256(P, HKDF-SHA-256(K, "otslite zk1 salt", 16), 600000, 32)
//	pp  = HKDF-SHA-256(ikm, no salt, "otslite zk1 proof", 32), with a passphrase
//	proof = "zk1." + b64url(kp) [+ "." + b64url(pp)]
func zkProof(t *testing.T, key []byte, pass string) (proof string, ikm []byte) {
	t.Helper()
	kp, err := hkdf.Key(sha256.New, key, nil, "otslite zk1 link proof", 32)
	if err != nil {
		t.Fatal(err)
	}
	proof = zkProofTag + base64.RawURLEncoding.EncodeToString(kp)
	ikm = key
	if pass == "" {
		return proof, ikm
	}
	salt, err := hkdf.Key(sha256.New, key, nil, "otslite zk1 salt", 16)
	if err != nil {
		t.Fatal(err)
	}
	stretched, err := pbkdf2.Key(sha256.New, pass, salt, zkIterations, 32)
	if err != nil {
		t.Fatal(err)
	}
	ikm = append(append([]byte{}, key...), stretched...)
	pp, err := hkdf.Key(sha256.New, ikm, nil, "otslite zk1 proof", 32)
	if err != nil {
		t.Fatal(err)
	}
	return proof + "." + base64.RawURLEncoding.EncodeToString(pp), ikm
}

func TestZKProofForm(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	for _, tc := range []struct {
		pass string
		n    int
	}{{"", 47}, {"pässphrase", 91}} {
		proof, _ := zkProof(t, key, tc.pass)
		if len(proof) != tc.n || !zkProofRE.MatchString(proof) {
			t.Errorf("passphrase %q: proof %q (%d characters), want the wire form in %d", tc.pass, proof, len(proof), tc.n)
		}
	}
	a, _ := zkProof(t, key, "one")
	b, _ := zkProof(t, key, "two")
	if a[:47] != b[:47] || a == b {
		t.Errorf("kp must depend on the key alone and pp on the passphrase: %q, %q", a, b)
	}
}

// z85Decode reads the envelope's base85: Z85's alphabet, 5 characters per
// 4 bytes, and a last group of k+1 characters for k < 4 bytes.
func z85Decode(s string) ([]byte, error) {
	if len(s)%5 == 1 {
		return nil, errBase85
	}
	var out []byte
	for i := 0; i < len(s); i += 5 {
		group := s[i:min(i+5, len(s))]
		var v uint64
		for j := range 5 {
			d := 84 // a short last group is padded with the largest digit
			if j < len(group) {
				if d = strings.IndexByte(z85Alphabet, group[j]); d < 0 {
					return nil, errBase85
				}
			}
			v = v*85 + uint64(d)
		}
		if v > 0xffffffff {
			return nil, errBase85
		}
		word := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		out = append(out, word[:len(group)-1]...)
	}
	return out, nil
}

type base85Error struct{}

func (base85Error) Error() string { return "malformed base85" }

var errBase85 = base85Error{}

func TestZ85Decode(t *testing.T) {
	// Z85's published test vector, and the short groups of the envelope.
	for s, want := range map[string]string{
		"HelloWorld": "\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B",
		"":           "",
		"00":         "\x00",
		"@@":         "\xff",
		"%nSc0":      "\xff\xff\xff\xff",
	} {
		got, err := z85Decode(s)
		if err != nil || string(got) != want {
			t.Errorf("z85Decode(%q) = %x, %v; want %x", s, got, err, want)
		}
	}
	for _, bad := range []string{"0", "Hello\"orld", "%%%%%", "HelloW"} {
		if _, err := z85Decode(bad); err == nil {
			t.Errorf("z85Decode(%q) succeeded", bad)
		}
	}
}
