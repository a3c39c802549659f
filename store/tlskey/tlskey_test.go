package tlskey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
)

var n = limbsToBig(orderN)

func randScalar(tb testing.TB) (scalar, *big.Int) {
	tb.Helper()
	v, err := rand.Int(rand.Reader, n)
	if err != nil {
		tb.Fatal(err)
	}
	return bigToLimbs(v), v
}

// TestScalarArithmetic checks the constant-time arithmetic against
// math/big.
func TestScalarArithmetic(t *testing.T) {
	if got := limbsToBig(orderN); got.Cmp(elliptic.P256().Params().N) != 0 {
		t.Fatalf("n = %x, want P-256's order", got)
	}
	if new(big.Int).SetUint64(orderN[0]*(-nInv)).Cmp(big.NewInt(1)) != 0 {
		t.Fatal("nInv is not -n⁻¹ mod 2^64")
	}
	rInv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), 256), n)
	for range 2000 {
		a, ab := randScalar(t)
		b, bb := randScalar(t)
		var z scalar
		mul(&z, &a, &b)
		want := new(big.Int).Mul(ab, bb)
		want.Mul(want, rInv).Mod(want, n)
		if limbsToBig(z).Cmp(want) != 0 {
			t.Fatalf("mul(%x, %x) = %x, want %x", ab, bb, limbsToBig(z), want)
		}
		add(&z, &a, &b)
		if want := new(big.Int).Add(ab, bb); limbsToBig(z).Cmp(want.Mod(want, n)) != 0 {
			t.Fatalf("add(%x, %x) = %x, want %x", ab, bb, limbsToBig(z), want)
		}
		if ab.Sign() == 0 {
			continue
		}
		var m, inv, back scalar
		toMont(&m, &a)
		invert(&inv, &m)
		fromMont(&back, &inv)
		if want := new(big.Int).ModInverse(ab, n); limbsToBig(back).Cmp(want) != 0 {
			t.Fatalf("invert(%x) = %x, want %x", ab, limbsToBig(back), want)
		}
	}
	// Edges: n-1, 1, and values above n reduced once.
	nm1 := bigToLimbs(new(big.Int).Sub(n, big.NewInt(1)))
	var z scalar
	add(&z, &nm1, &nm1)
	if want := new(big.Int).Sub(n, big.NewInt(2)); limbsToBig(z).Cmp(want) != 0 {
		t.Errorf("(n-1)+(n-1) = %x, want n-2", limbsToBig(z))
	}
	if lessThanN(&orderN) != 0 || lessThanN(&nm1) != 1 || isZero(&scalar{}) != 1 || isZero(&nm1) != 0 {
		t.Error("lessThanN or isZero wrong at the edges")
	}
}

// FuzzScalarMul compares Montgomery multiplication with math/big on any
// two values below n.
func FuzzScalarMul(f *testing.F) {
	f.Add(bytes.Repeat([]byte{0xff}, 32), bytes.Repeat([]byte{0xff}, 32))
	f.Add(make([]byte, 32), []byte{1})
	rInv := new(big.Int).ModInverse(new(big.Int).Lsh(big.NewInt(1), 256), n)
	f.Fuzz(func(t *testing.T, x, y []byte) {
		ab := new(big.Int).Mod(new(big.Int).SetBytes(x), n)
		bb := new(big.Int).Mod(new(big.Int).SetBytes(y), n)
		a, b := bigToLimbs(ab), bigToLimbs(bb)
		var z scalar
		mul(&z, &a, &b)
		want := new(big.Int).Mul(ab, bb)
		want.Mul(want, rInv).Mod(want, n)
		if limbsToBig(z).Cmp(want) != 0 {
			t.Fatalf("mul(%x, %x) = %x, want %x", ab, bb, limbsToBig(z), want)
		}
	})
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestSignVector checks one signature against RFC 6979, appendix A.2.5
// (P-256, SHA-256, message "sample"), with the nonce that appendix gives.
func TestSignVector(t *testing.T) {
	d := mustHex(t, "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")
	k := mustHex(t, "A6E3C57DD01ABE90086538398355DD4C3B17AA873382B0F24D6129493D8AAD60")
	wantR := mustHex(t, "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716")
	wantS := mustHex(t, "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8")
	digest := sha256.Sum256([]byte("sample"))
	r, s, err := sign(bytes.NewReader(k), d, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r[:], wantR) || !bytes.Equal(s[:], wantS) {
		t.Errorf("r = %X\ns = %X\nwant r = %X\n     s = %X", r, s, wantR, wantS)
	}
}

// TestSign checks signatures of fresh keys with crypto/ecdsa, and that
// the key's public half is the scalar's.
func TestSign(t *testing.T) {
	for range 50 {
		k, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		digest := make([]byte, 32)
		rand.Read(digest)
		sig, err := k.Sign(rand.Reader, digest, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(k.Public().(*ecdsa.PublicKey), digest, sig) {
			t.Fatal("signature does not verify")
		}
		der, err := k.MarshalPKCS8()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := x509.ParsePKCS8PrivateKey(der.Bytes())
		der.Destroy()
		if err != nil {
			t.Fatal(err)
		}
		if !parsed.(*ecdsa.PrivateKey).PublicKey.Equal(k.Public()) {
			t.Fatal("the public key is not the scalar's")
		}
	}
}

func TestParsePEM(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ec)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384DER, _ := x509.MarshalPKCS8PrivateKey(p384)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaDER, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	encode := func(kind string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}) }
	for _, tc := range []struct {
		name string
		pem  []byte
		err  error // nil: parses to ec
	}{
		{"OK/PKCS8", encode("PRIVATE KEY", pkcs8), nil},
		{"OK/SEC1", encode("EC PRIVATE KEY", sec1), nil},
		{"OK/AfterCertificate", append(encode("CERTIFICATE", []byte("x")), encode("PRIVATE KEY", pkcs8)...), nil},
		{"ErrP384", encode("PRIVATE KEY", p384DER), ErrUnsupported},
		{"ErrRSA", encode("PRIVATE KEY", rsaDER), ErrUnsupported},
		{"ErrNoPEM", []byte("nothing"), ErrUnsupported},
		{"ErrEncrypted", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED"}, Bytes: sec1}), ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParsePEM(tc.pem)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				return
			}
			if !k.Public().(*ecdsa.PublicKey).Equal(&ec.PublicKey) {
				t.Fatal("parsed a different key")
			}
			digest := sha256.Sum256([]byte("hello"))
			sig, err := k.Sign(nil, digest[:], nil)
			if err != nil || !ecdsa.VerifyASN1(&ec.PublicKey, digest[:], sig) {
				t.Fatalf("signature with the parsed key: %v", err)
			}
		})
	}
}
