package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	stdhkdf "crypto/hkdf"
	stdpbkdf2 "crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"
)

// vector is one case of testdata/vectors.json, computed by
// testdata/vectors.mjs with Node's crypto, independently of this package.
type vector struct {
	Name       string `json:"name"`
	Key        string `json:"key"`
	IV         string `json:"iv"`
	Text       string `json:"text"`
	Passphrase string `json:"passphrase"`
	Fragment   string `json:"fragment"`
	ContentKey string `json:"content_key"`
	Proof      string `json:"proof"`
	Envelope   string `json:"envelope"`
}

func mustVectors(tb testing.TB) []vector {
	tb.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		tb.Fatal(err)
	}
	if len(vs) == 0 {
		tb.Fatal("no vectors")
	}
	return vs
}

func mustHex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustUnlock normalizes pass and unlocks k with it.
func MustUnlock(tb testing.TB, k *Key, pass string) {
	tb.Helper()
	var p []byte
	if pass != "" {
		var err error
		if p, err = Normalize(make([]byte, MaxNormalized(len(pass))), []byte(pass)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := k.Unlock(p); err != nil {
		tb.Fatal(err)
	}
}

func TestVectors(t *testing.T) {
	for _, v := range mustVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			// Seal with the vector's K and iv as the random source.
			rnd := bytes.NewReader(append(mustHex(t, v.Key), mustHex(t, v.IV)...))
			k, err := NewKey(make([]byte, MemorySize), rnd, v.Passphrase != "")
			if err != nil {
				t.Fatal(err)
			}
			if got := string(k.PutFragment(make([]byte, FragmentLen))); got != v.Fragment {
				t.Errorf("fragment %q, want %q", got, v.Fragment)
			}
			MustUnlock(t, k, v.Passphrase)
			if got := hex.EncodeToString(k.mem[offContent : offContent+KeySize]); got != v.ContentKey {
				t.Errorf("content key %s, want %s", got, v.ContentKey)
			}
			if got := string(k.PutProof(make([]byte, ProofLenPassphrase))); got != v.Proof {
				t.Errorf("proof %q, want %q", got, v.Proof)
			}
			if got := string(k.PutLinkProof(make([]byte, ProofLen))); !strings.HasPrefix(v.Proof, got) || len(got) != ProofLen {
				t.Errorf("link proof %q is not the start of %q", got, v.Proof)
			}
			sealed, err := k.Seal(nil, []byte(v.Text), rnd)
			if err != nil {
				t.Fatal(err)
			}
			if string(sealed) != v.Envelope {
				t.Errorf("envelope\n%s\nwant\n%s", sealed, v.Envelope)
			}
			if SealedLen(len(v.Text)) != len(v.Envelope) {
				t.Errorf("SealedLen(%d) = %d, want %d", len(v.Text), SealedLen(len(v.Text)), len(v.Envelope))
			}

			// Open from the fragment, as a recipient does.
			r, err := ParseFragment(make([]byte, MemorySize), []byte(v.Fragment))
			if err != nil {
				t.Fatal(err)
			}
			if r.NeedsPassphrase() != (v.Passphrase != "") {
				t.Errorf("NeedsPassphrase %v", r.NeedsPassphrase())
			}
			MustUnlock(t, r, v.Passphrase)
			dst := make([]byte, OpenedLen(len(v.Envelope)))
			n, err := r.Open(dst, []byte(v.Envelope))
			if err != nil || string(dst[:n]) != v.Text {
				t.Errorf("Open = %q, %v; want %q", dst[:n], err, v.Text)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	v := mustVectors(t)[3] // with a passphrase
	if v.Passphrase == "" {
		t.Fatal("vector 3 should have a passphrase")
	}
	// Each unlock is 600000 iterations: make the two keys once.
	keys := map[string]*Key{}
	for _, pass := range []string{v.Passphrase, "correct horse battery stapl"} {
		k, err := ParseFragment(make([]byte, MemorySize), []byte(v.Fragment))
		if err != nil {
			t.Fatal(err)
		}
		MustUnlock(t, k, pass)
		keys[pass] = k
	}
	open := func(pass, envelope string, dst []byte) error {
		k := keys[pass]
		if dst == nil {
			dst = make([]byte, OpenedLen(len(envelope)))
		}
		_, err := k.Open(dst, []byte(envelope))
		return err
	}
	flipped := []byte(v.Envelope)
	flipped[len(flipped)-3] ^= 'a' ^ 'b'
	for name, tc := range map[string]struct {
		pass, envelope string
		dst            []byte
		want           error
	}{
		"ErrWrongPassphrase": {"correct horse battery stapl", v.Envelope, nil, ErrOpen},
		"ErrTampered":        {v.Passphrase, string(flipped), nil, ErrOpen},
		"ErrNoTag":           {v.Passphrase, strings.TrimPrefix(v.Envelope, Tag), nil, ErrNotSealed},
		"ErrBadBase85":       {v.Passphrase, Tag + `Hello"orld`, nil, ErrDamaged},
		"ErrShortGroup":      {v.Passphrase, v.Envelope + "0", nil, ErrDamaged},
		"ErrTooShort":        {v.Passphrase, Tag + "HelloWorld", nil, ErrDamaged},
		"ErrShortDst":        {v.Passphrase, v.Envelope, make([]byte, 3), ErrShortBuf},
	} {
		t.Run(name, func(t *testing.T) {
			if err := open(tc.pass, tc.envelope, tc.dst); !errors.Is(err, tc.want) {
				t.Errorf("Open: %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		if err := open(v.Passphrase, v.Envelope, nil); err != nil {
			t.Errorf("Open: %v", err)
		}
	})
	t.Run("ErrNotUnlocked", func(t *testing.T) {
		k, _ := ParseFragment(make([]byte, MemorySize), []byte(v.Fragment))
		if _, err := k.Open(make([]byte, 100), []byte(v.Envelope)); !errors.Is(err, ErrNotUnlocked) {
			t.Errorf("Open before Unlock: %v", err)
		}
		if _, err := k.Seal(nil, []byte("x"), rand.Reader); !errors.Is(err, ErrNotUnlocked) {
			t.Errorf("Seal before Unlock: %v", err)
		}
	})
	t.Run("ErrPassphraseMismatch", func(t *testing.T) {
		k, _ := ParseFragment(make([]byte, MemorySize), []byte(v.Fragment))
		if err := k.Unlock(nil); !errors.Is(err, ErrMismatch) {
			t.Errorf("Unlock without the passphrase the link asks for: %v", err)
		}
	})
}

func TestParseFragment(t *testing.T) {
	good := "1n" + strings.Repeat("A", 43)
	for name, tc := range map[string]struct {
		frag string
		ok   bool
	}{
		"OK":               {good, true},
		"OKPassphrase":     {"1p" + strings.Repeat("_", 42) + "w", true},
		"ErrNotCanonical":  {"1n" + strings.Repeat("A", 42) + "B", false},
		"ErrKind":          {"1x" + strings.Repeat("A", 43), false},
		"ErrVersion":       {"2n" + strings.Repeat("A", 43), false},
		"ErrShort":         {good[:44], false},
		"ErrLong":          {good + "A", false},
		"ErrAlphabet":      {"1n" + strings.Repeat("A", 42) + "+", false},
		"ErrPadding":       {"1n" + strings.Repeat("A", 42) + "=", false},
		"ErrEmpty":         {"", false},
		"ErrNonASCIIBytes": {"1n" + strings.Repeat("\xff", 43), false},
	} {
		t.Run(name, func(t *testing.T) {
			mem := make([]byte, MemorySize)
			k, err := ParseFragment(mem, []byte(tc.frag))
			if (err == nil) != tc.ok {
				t.Fatalf("ParseFragment(%q): %v", tc.frag, err)
			}
			if err != nil {
				if !errors.Is(err, ErrFragment) {
					t.Errorf("error %v, want ErrFragment", err)
				}
				if !bytes.Equal(mem, make([]byte, MemorySize)) {
					t.Error("a refused fragment left bytes in the key's memory")
				}
				return
			}
			if got := string(k.PutFragment(make([]byte, FragmentLen))); got != tc.frag {
				t.Errorf("round trip %q, want %q", got, tc.frag)
			}
		})
	}
}

func FuzzParseFragment(f *testing.F) {
	f.Add([]byte("1n" + strings.Repeat("A", 43)))
	f.Add([]byte("1p" + strings.Repeat("-", 43)))
	f.Fuzz(func(t *testing.T, frag []byte) {
		k, err := ParseFragment(make([]byte, MemorySize), frag)
		if err != nil {
			return
		}
		if got := k.PutFragment(make([]byte, FragmentLen)); !bytes.Equal(got, frag) {
			t.Errorf("accepted %q but writes it as %q", frag, got)
		}
	})
}

func FuzzOpen(f *testing.F) {
	for _, v := range mustVectors(f) {
		if v.Passphrase == "" {
			f.Add([]byte(v.Envelope))
		}
	}
	v := mustVectors(f)[0]
	k, err := ParseFragment(make([]byte, MemorySize), []byte(v.Fragment))
	if err != nil {
		f.Fatal(err)
	}
	MustUnlock(f, k, "")
	f.Fuzz(func(t *testing.T, envelope []byte) {
		dst := make([]byte, OpenedLen(len(envelope)))
		n, err := k.Open(dst, envelope)
		if err == nil && string(envelope) != v.Envelope {
			// Only the real envelope authenticates; base85 has one
			// spelling per byte string, so nothing else may open.
			t.Errorf("%q opened to %q", envelope, dst[:n])
		}
		if err != nil && !bytes.Equal(dst, make([]byte, len(dst))) {
			t.Errorf("a refused envelope left %d bytes in dst", len(dst))
		}
	})
}

func TestRoundTrip(t *testing.T) {
	sizes := map[string][]int{
		"":                          {0, 1, 2, 3, 4, 5, 1000, 65536},
		"pässwörd":                  {3, 1000}, // each unlock is 600000 iterations
		strings.Repeat("long ", 40): {1},
	}
	for pass, ns := range sizes {
		for _, n := range ns {
			k, err := NewKey(make([]byte, MemorySize), rand.Reader, pass != "")
			if err != nil {
				t.Fatal(err)
			}
			MustUnlock(t, k, pass)
			plain := []byte(strings.Repeat("ü", n/2) + strings.Repeat("x", n%2))
			sealed, err := k.Seal(nil, plain, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if len(sealed) != SealedLen(len(plain)) || OpenedLen(len(sealed)) != len(plain) {
				t.Errorf("n=%d: sealed %d bytes, SealedLen %d, OpenedLen %d", len(plain), len(sealed), SealedLen(len(plain)), OpenedLen(len(sealed)))
			}
			frag := k.PutFragment(make([]byte, FragmentLen))
			r, err := ParseFragment(make([]byte, MemorySize), frag)
			if err != nil {
				t.Fatal(err)
			}
			MustUnlock(t, r, pass)
			if a, b := k.PutProof(make([]byte, 91)), r.PutProof(make([]byte, 91)); !bytes.Equal(a, b) || len(a) != k.ProofLen() {
				t.Errorf("proofs differ: %q %q", a, b)
			}
			dst := make([]byte, OpenedLen(len(sealed)))
			m, err := r.Open(dst, sealed)
			if err != nil || !bytes.Equal(dst[:m], plain) {
				t.Errorf("pass %q n=%d: Open: %v", pass, len(plain), err)
			}
		}
	}
}

func TestSealRefusesBinary(t *testing.T) {
	k, _ := NewKey(make([]byte, MemorySize), rand.Reader, false)
	MustUnlock(t, k, "")
	if _, err := k.Seal(nil, []byte{0xff, 0xfe}, rand.Reader); !errors.Is(err, ErrNotText) {
		t.Errorf("Seal of invalid UTF-8: %v", err)
	}
}

func TestMaxPlain(t *testing.T) {
	// The README's figure for the default --max-secret-size.
	if got := MaxPlain(65536); got != 52396 {
		t.Errorf("MaxPlain(64 KiB) = %d, want 52396", got)
	}
	for _, limit := range []int{0, 5, 6, 40, 41, 42, 100, 1000, 65536, 16 << 20} {
		n := MaxPlain(limit)
		if (n > 0 || SealedLen(0) <= limit) && SealedLen(n) > limit || SealedLen(n+1) <= limit {
			t.Errorf("MaxPlain(%d) = %d: sealed %d, one more %d", limit, n, SealedLen(n), SealedLen(n+1))
		}
	}
}

func TestBase85(t *testing.T) {
	// Z85's published vector.
	want := []byte{0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B}
	if got := string(appendBase85(nil, want)); got != "HelloWorld" {
		t.Errorf("encode: %q", got)
	}
	if got, err := decodeBase85([]byte("HelloWorld")); err != nil || !bytes.Equal(got, want) {
		t.Errorf("decode: %x %v", got, err)
	}
	for n := range 40 {
		b := make([]byte, n)
		rand.Read(b)
		if n%5 == 0 {
			for i := range b {
				b[i] = 0xff
			}
		}
		s := appendBase85(nil, b)
		if len(s) != base85Len(n) || decodedLen(len(s)) != n {
			t.Errorf("n=%d: %d characters, base85Len %d, decodedLen %d", n, len(s), base85Len(n), decodedLen(len(s)))
		}
		if got, err := decodeBase85(s); err != nil || !bytes.Equal(got, b) {
			t.Errorf("n=%d: round trip %x, %v", n, got, err)
		}
	}
	for _, bad := range []string{"0", "Hello\"orld", "%%%%%", "HelloW", "#####"} {
		if _, err := decodeBase85([]byte(bad)); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}

// One spelling per byte string: a last group of k < 4 bytes has its k+1
// characters from the encoder only. Of the 85² two-character groups,
// exactly the 256 it writes decode, and so for three and four characters
// (sampled).
func TestBase85Canonical(t *testing.T) {
	ok := 0
	for a := range 85 {
		for b := range 85 {
			s := []byte{z85[a], z85[b]}
			got, err := decodeBase85(s)
			if err != nil {
				continue
			}
			ok++
			if enc := appendBase85(nil, got); !bytes.Equal(enc, s) {
				t.Errorf("%q decodes to %x, which is written %q", s, got, enc)
			}
		}
	}
	if ok != 256 {
		t.Errorf("%d two-character groups decode, want 256", ok)
	}
	for range 20000 {
		s := make([]byte, 3+mrand.IntN(2))
		for i := range s {
			s[i] = z85[mrand.IntN(85)]
		}
		if got, err := decodeBase85(s); err == nil {
			if enc := appendBase85(nil, got); !bytes.Equal(enc, s) {
				t.Fatalf("%q decodes to %x, which is written %q", s, got, enc)
			}
		}
	}
}

// The derivations here against the standard library's.
func TestKDF(t *testing.T) {
	for _, n := range []int{0, 1, 31, 32, 63, 64, 65, 100, 150} {
		password := make([]byte, n)
		rand.Read(password)
		salt := make([]byte, saltSize)
		rand.Read(salt)
		want, err := stdpbkdf2.Key(sha256.New, string(password), salt, 1000, 32)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 32)
		work := make([]byte, pbkdf2Work)
		pbkdf2(got, password, salt, 1000, work)
		if !bytes.Equal(got, want) {
			t.Errorf("pbkdf2 with a %d-byte password differs", n)
		}
		if !bytes.Equal(work, make([]byte, len(work))) {
			t.Error("pbkdf2 left its work memory dirty")
		}
	}
	for _, n := range []int{32, 64} {
		for _, size := range []int{16, 32, 33, 64, 100} {
			ikm := make([]byte, n)
			rand.Read(ikm)
			want, err := stdhkdf.Key(sha256.New, ikm, nil, infoLink, size)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, size)
			work := make([]byte, hkdfWork)
			hkdf(got, ikm, infoLink, work)
			if !bytes.Equal(got, want) {
				t.Errorf("hkdf of %d bytes into %d differs", n, size)
			}
			if !bytes.Equal(work, make([]byte, len(work))) {
				t.Error("hkdf left its work memory dirty")
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"pa\u0308ssword": "pässword",
		"pässword":       "pässword",
		"\u212b":         "\u00c5", // ANGSTROM SIGN, a singleton
		"":               "",
	} {
		dst := make([]byte, MaxNormalized(len(in)))
		got, err := Normalize(dst, []byte(in))
		if err != nil || string(got) != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
		if len(got) > 0 && &got[0] != &dst[0] {
			t.Errorf("Normalize(%q) did not write into dst", in)
		}
	}
	if _, err := Normalize(make([]byte, 3), []byte("pa\u0308ss")); !errors.Is(err, ErrShortBuf) {
		t.Errorf("short dst: %v", err)
	}
	if _, err := Normalize(make([]byte, 3), []byte{0xff}); !errors.Is(err, ErrPassphrase) {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

// Nothing that holds a key or a passphrase may be allocated on the heap,
// where it could not be wiped: unlocking allocates nothing at all, and
// normalizing only the normalizer's state, which it zeroes (the residue
// scans of the command line type a passphrase that needs normalizing).
func TestUnlockAllocatesNothing(t *testing.T) {
	for _, pass := range []string{"", "a passphrase"} {
		k, _ := NewKey(make([]byte, MemorySize), rand.Reader, pass != "")
		p := []byte(pass)
		if pass == "" {
			p = nil
		}
		if n := testing.AllocsPerRun(1, func() { k.Unlock(p) }); n != 0 {
			t.Errorf("passphrase %q: Unlock allocates %v times", pass, n)
		}
		nfd := []byte("pa\u0308ss")
		dst := make([]byte, MaxNormalized(len(nfd)))
		if n := testing.AllocsPerRun(5, func() { Normalize(dst, nfd) }); n > 1 {
			t.Errorf("Normalize allocates %v times", n)
		}
	}
}

func TestWipe(t *testing.T) {
	k, _ := NewKey(make([]byte, MemorySize), rand.Reader, true)
	MustUnlock(t, k, "pass")
	mem := k.mem
	k.Wipe()
	if !bytes.Equal(mem, make([]byte, len(mem))) {
		t.Error("Wipe left bytes")
	}
	if _, err := k.Seal(nil, []byte("x"), rand.Reader); !errors.Is(err, ErrNotUnlocked) {
		t.Errorf("Seal after Wipe: %v", err)
	}

	// The key schedules crypto/aes and crypto/cipher keep on the heap.
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	for _, obj := range []any{block, aead} {
		if reflect.ValueOf(obj).Elem().IsZero() {
			t.Fatalf("%T is zero before wiping: the check cannot fail", obj)
		}
		wipeObject(obj)
		if !reflect.ValueOf(obj).Elem().IsZero() {
			t.Errorf("%T not wiped", obj)
		}
	}
}

func ExampleKey_PutFragment() {
	// A fixed key, for the example only: real keys come from crypto/rand.
	k, _ := NewKey(make([]byte, MemorySize), zeros{}, false)
	defer k.Wipe()
	k.Unlock(nil)
	fmt.Println("#" + string(k.PutFragment(make([]byte, FragmentLen))))
	fmt.Println(string(k.PutProof(make([]byte, ProofLen))))
	// Output:
	// #1nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA
	// zk1.m3WGxPSTWKtjiPralX157qtcd9w1DDl70IpBPJ7QyxU
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var _ io.Reader = zeros{}

func BenchmarkUnlockPassphrase(b *testing.B) {
	k, _ := NewKey(make([]byte, MemorySize), rand.Reader, true)
	for b.Loop() {
		k.Unlock([]byte("a passphrase"))
	}
}
