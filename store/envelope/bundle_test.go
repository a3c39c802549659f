package envelope

import (
	"bytes"
	"crypto/ecdh"
	stdhkdf "crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"otslite/store/shamir"
)

// beyond is testdata/beyond.json, computed by testdata/beyond.mjs with
// Node's crypto and JSON.stringify, independently of this package.
type beyond struct {
	Bundle struct {
		Key, IV, Text string
		Files         []struct{ Name, Type, Data string }
		Plain         string
		Envelope      string
		FilesOnly     string `json:"files_only"`
	}
	Split struct {
		K, N         int
		Secret       string
		Coefficients []string
		ID           string
		Shares       []string
		ShareBundles []string `json:"share_bundles"`
	}
	Request struct {
		RequesterPrivate string `json:"requester_private"`
		RequesterPublic  string `json:"requester_public"`
		AnswerPrivate    string `json:"answer_private"`
		AnswerPublic     string `json:"answer_public"`
		Shared, Key      string
		Proof, IV        string
		Plain, Envelope  string
	}
}

func mustBeyond(tb testing.TB) *beyond {
	tb.Helper()
	raw, err := os.ReadFile("testdata/beyond.json")
	if err != nil {
		tb.Fatal(err)
	}
	var v beyond
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	return &v
}

func mustB64(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// keyOf makes an unlocked Key from a raw K.
func keyOf(tb testing.TB, raw []byte) *Key {
	tb.Helper()
	k, err := NewKey(make([]byte, MemorySize), bytes.NewReader(raw), false)
	if err != nil {
		tb.Fatal(err)
	}
	MustUnlock(tb, k, "")
	return k
}

func TestBundleVectors(t *testing.T) {
	v := mustBeyond(t)
	plain := mustHex(t, v.Bundle.Plain)

	// Read what the browser's JSON.stringify wrote.
	b, err := ParseBundle(bytes.Clone(plain), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(b.Text) != v.Bundle.Text || len(b.Files) != len(v.Bundle.Files) || b.IsShare() {
		t.Fatalf("text %q, %d files", b.Text, len(b.Files))
	}
	files := make([]File, len(v.Bundle.Files))
	for i, f := range v.Bundle.Files {
		got := b.Files[i]
		if string(got.Name) != f.Name || string(got.Type) != f.Type || hex.EncodeToString(got.Data) != f.Data {
			t.Errorf("file %d: %q %q %x", i, got.Name, got.Type, got.Data)
		}
		files[i] = File{Name: []byte(f.Name), Type: []byte(f.Type), Data: mustHex(t, f.Data)}
	}

	// Write the same bundle: byte for byte what the browser writes.
	in := Bundle{Text: []byte(v.Bundle.Text), Files: files}
	out, err := PutBundle(make([]byte, BundleLen(&in)), &in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, plain) {
		t.Errorf("PutBundle wrote\n%x\nwant\n%x", out, plain)
	}

	// Sealed under the vector's key and iv, it is the vector's envelope,
	// and opens back to the bundle.
	k := keyOf(t, mustHex(t, v.Bundle.Key))
	sealed, err := k.SealBundle(nil, out, bytes.NewReader(mustHex(t, v.Bundle.IV)))
	if err != nil || string(sealed) != v.Bundle.Envelope {
		t.Errorf("SealBundle: %v\n%s\nwant\n%s", err, sealed, v.Bundle.Envelope)
	}
	opened := make([]byte, OpenedLen(len(sealed)))
	n, err := k.Open(opened, sealed)
	if err != nil || !bytes.Equal(opened[:n], plain) {
		t.Errorf("Open: %v", err)
	}
	// Text that begins as a bundle does cannot be sealed as text.
	if _, err := k.Seal(nil, plain, rand.Reader); !errors.Is(err, ErrNotText) {
		t.Errorf("Seal of a bundle as text: %v", err)
	}

	// A header that leaves out "text" holds files only.
	fo, err := ParseBundle(mustHex(t, v.Bundle.FilesOnly), nil)
	if err != nil || len(fo.Text) != 0 || len(fo.Files) != 1 || string(fo.Files[0].Data) != "ab" {
		t.Errorf("files only: %v %+v", err, fo)
	}
}

func TestSplitVectors(t *testing.T) {
	v := mustBeyond(t).Split
	secret := mustHex(t, v.Secret)
	// Split with the vector's coefficients as the random source: each
	// share is the vector's (Split draws coefficient d of every byte of a
	// chunk together; one chunk covers the whole secret here).
	var coef []byte
	for _, c := range v.Coefficients {
		coef = append(coef, mustHex(t, c)...)
	}
	ys := make([][]byte, v.N)
	for i := range ys {
		ys[i] = make([]byte, len(secret))
	}
	if err := shamir.Split(ys, secret, v.K, bytes.NewReader(coef), make([]byte, shamir.ScratchSize(v.K, len(secret)))); err != nil {
		t.Fatal(err)
	}
	id := mustB64(t, v.ID)
	for i, want := range v.Shares {
		if hex.EncodeToString(ys[i]) != want {
			t.Errorf("share %d differs from the vector", i+1)
		}
		s := Bundle{Share: Share{K: v.K, N: v.N, X: i + 1, ID: [16]byte(id)}, Payload: ys[i]}
		out, err := PutBundle(make([]byte, BundleLen(&s)), &s)
		if err != nil || hex.EncodeToString(out) != v.ShareBundles[i] {
			t.Errorf("share bundle %d: %v\n%x\nwant\n%s", i+1, err, out, v.ShareBundles[i])
		}
		back, err := ParseBundle(out, nil)
		if err != nil || back.Share != s.Share || !bytes.Equal(back.Payload, ys[i]) {
			t.Errorf("share bundle %d read back: %v %+v", i+1, err, back.Share)
		}
	}
	// Any two rebuild the bundle.
	for _, pick := range [][2]int{{0, 1}, {0, 2}, {2, 1}} {
		got := make([]byte, len(secret))
		if err := shamir.Combine(got, []byte{byte(pick[0] + 1), byte(pick[1] + 1)}, [][]byte{ys[pick[0]], ys[pick[1]]}); err != nil || !bytes.Equal(got, secret) {
			t.Errorf("shares %v do not rebuild: %v", pick, err)
		}
	}
}

func TestRequestVectors(t *testing.T) {
	v := mustBeyond(t).Request
	reqPub, ePub := mustB64(t, v.RequesterPublic), mustB64(t, v.AnswerPublic)
	plain := mustHex(t, v.Plain)

	// The requester's side, from its scalar.
	k, err := OpenAnswerKey(make([]byte, MemorySize), mustHex(t, v.RequesterPrivate), reqPub, ePub)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(k.mem[offK:offK+KeySize]) != v.Key {
		t.Errorf("K = %x, want %s", k.mem[offK:offK+KeySize], v.Key)
	}
	if got := string(k.PutProof(make([]byte, ProofLenPassphrase))); got != v.Proof {
		t.Errorf("proof %s, want %s", got, v.Proof)
	}
	opened := make([]byte, OpenedLen(len(v.Envelope)))
	n, err := k.Open(opened, []byte(v.Envelope))
	if err != nil || !bytes.Equal(opened[:n], plain) {
		t.Fatalf("Open: %v", err)
	}

	// The answerer's side, its ephemeral scalar drawn from the vector.
	mem := make([]byte, MemorySize)
	gotPub := make([]byte, PublicKeyLen)
	a, err := AnswerKey(mem, gotPub, reqPub, bytes.NewReader(mustHex(t, v.AnswerPrivate)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotPub, ePub) {
		t.Errorf("ephemeral public key %x, want %x", gotPub, ePub)
	}
	sealed, err := a.SealBundle(nil, plain, bytes.NewReader(mustHex(t, v.IV)))
	if err != nil || string(sealed) != v.Envelope {
		t.Errorf("answer envelope %s, want %s (%v)", sealed, v.Envelope, err)
	}
	// The scalar drawn into mem is gone from it.
	if bytes.Contains(mem, mustHex(t, v.AnswerPrivate)) {
		t.Error("the ephemeral scalar stays in the key's memory")
	}
}

// TestRequestKeysAgree: fresh pairs on both sides derive the same K, as
// the standard library computes it.
func TestRequestKeysAgree(t *testing.T) {
	priv, pub := make([]byte, PrivateKeyLen), make([]byte, PublicKeyLen)
	if err := NewRequestKeys(priv, pub, rand.Reader); err != nil {
		t.Fatal(err)
	}
	if !ValidPublicKey(pub) || ValidPublicKey(pub[:64]) || ValidPublicKey(append([]byte{4}, make([]byte, 64)...)) {
		t.Error("ValidPublicKey")
	}
	ePub := make([]byte, PublicKeyLen)
	a, err := AnswerKey(make([]byte, MemorySize), ePub, pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	r, err := OpenAnswerKey(make([]byte, MemorySize), priv, pub, ePub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.mem[offK:offK+KeySize], r.mem[offK:offK+KeySize]) {
		t.Fatal("the two sides derive different keys")
	}
	// The standard library's ECDH and HKDF give the same K (and wiping
	// keys above broke nothing shared: a new key still works).
	sk, err := ecdh.P256().NewPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := ecdh.P256().NewPublicKey(ePub)
	z, err := sk.ECDH(pk)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := stdhkdf.Key(sha256.New, z, nil, infoRequest+string(pub)+string(ePub), 32)
	if !bytes.Equal(want, r.mem[offK:offK+KeySize]) {
		t.Error("K differs from the standard library's")
	}
	if _, err := OpenAnswerKey(make([]byte, MemorySize), priv, pub, ePub[:64]); err == nil {
		t.Error("a damaged public key was taken")
	}
	if _, err := OpenAnswerKey(make([]byte, MemorySize), make([]byte, 32), pub, ePub); err == nil {
		t.Error("a zero scalar was taken")
	}
}

// TestWipeDeep: the copies of a scalar crypto/ecdh keeps are zeroed.
func TestWipeDeep(t *testing.T) {
	scalar := make([]byte, 32)
	for i := range scalar {
		scalar[i] = byte(0x20 + i)
	}
	k, err := ecdh.P256().NewPrivateKey(scalar)
	if err != nil {
		t.Fatal(err)
	}
	inner := k.Bytes() // a copy; the key keeps its own
	wipeDeep(k)
	if got := k.Bytes(); !bytes.Equal(got, make([]byte, 32)) {
		t.Errorf("the key still holds %x", got)
	}
	_ = inner
}

func mustPut(tb testing.TB, b *Bundle) []byte {
	tb.Helper()
	out, err := PutBundle(make([]byte, BundleLen(b)), b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// rawBundle writes a bundle with header h as given.
func rawBundle(h string, payload string) []byte {
	b := []byte{0, 1, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[2:], uint32(len(h)))
	return append(append(b, h...), payload...)
}

func TestParseBundleRefuses(t *testing.T) {
	ok := `{"text":2,"files":[{"name":"a","type":"","size":1}]}`
	if _, err := ParseBundle(rawBundle(ok, "hiX"), nil); err != nil {
		t.Fatalf("the good one: %v", err)
	}
	for _, c := range []struct {
		name   string
		plain  []byte
		expect error
	}{
		{"Version2", append([]byte{0, 2}, rawBundle(ok, "hiX")[2:]...), ErrBundleVersion},
		{"Version0", append([]byte{0, 0}, rawBundle(ok, "hiX")[2:]...), ErrBundleVersion},
		{"NUL", []byte{0}, ErrBundle},
		{"Short", []byte{0, 1, 0, 0}, ErrBundle},
		{"HeaderPastEnd", append([]byte{0, 1, 0, 0, 1, 0}, ok...), ErrBundle},
		{"HeaderTooLong", append([]byte{0, 1, 0, 1, 0, 0}, make([]byte, 70000)...), ErrBundle},
		{"PayloadShort", rawBundle(ok, "hi"), ErrBundle},
		{"PayloadLong", rawBundle(ok, "hiXY"), ErrBundle},
		{"SizesOverflow", rawBundle(`{"files":[{"name":"a","size":9007199254740991},{"name":"b","size":9007199254740991}]}`, ""), ErrBundle},
		{"SizeTooBig", rawBundle(`{"files":[{"name":"a","size":9007199254740992}]}`, ""), ErrBundle},
		{"NegativeSize", rawBundle(`{"files":[{"name":"a","size":-1}]}`, ""), ErrBundle},
		{"FractionSize", rawBundle(`{"files":[{"name":"a","size":1.0}]}`, "x"), ErrBundle},
		{"ExponentSize", rawBundle(`{"files":[{"name":"a","size":1e0}]}`, "x"), ErrBundle},
		{"LeadingZero", rawBundle(`{"text":01}`, "x"), ErrBundle},
		{"SizeAsString", rawBundle(`{"text":"1"}`, "x"), ErrBundle},
		{"NoSize", rawBundle(`{"files":[{"name":"a"}]}`, ""), ErrBundle},
		{"NoName", rawBundle(`{"files":[{"size":0}]}`, ""), ErrBundle},
		{"Slash", rawBundle(`{"files":[{"name":"a/b","size":0}]}`, ""), ErrFileName},
		{"Backslash", rawBundle(`{"files":[{"name":"a\\b","size":0}]}`, ""), ErrFileName},
		{"EscapedSlash", rawBundle(`{"files":[{"name":"..\/etc","size":0}]}`, ""), ErrFileName},
		{"NULName", rawBundle(`{"files":[{"name":"a\u0000","size":0}]}`, ""), ErrFileName},
		{"Newline", rawBundle(`{"files":[{"name":"a\nb","size":0}]}`, ""), ErrFileName},
		{"C1", rawBundle(`{"files":[{"name":"a\u0085b","size":0}]}`, ""), ErrFileName},
		{"Dot", rawBundle(`{"files":[{"name":".","size":0}]}`, ""), ErrFileName},
		{"DotDot", rawBundle(`{"files":[{"name":"..","size":0}]}`, ""), ErrFileName},
		{"EmptyName", rawBundle(`{"files":[{"name":"","size":0}]}`, ""), ErrFileName},
		{"LongName", rawBundle(`{"files":[{"name":"`+strings.Repeat("n", 256)+`","size":0}]}`, ""), ErrBundle},
		{"LoneSurrogate", rawBundle(`{"files":[{"name":"\ud800","size":0}]}`, ""), ErrBundle},
		{"BadUTF8Name", rawBundle("{\"files\":[{\"name\":\"\xff\",\"size\":0}]}", ""), ErrBundle},
		{"BadUTF8Text", rawBundle(`{"text":1}`, "\xff"), ErrBundle},
		{"ControlInType", rawBundle(`{"files":[{"name":"a","type":"\u0007","size":0}]}`, ""), ErrBundle},
		{"DuplicateText", rawBundle(`{"text":0,"text":1}`, "x"), ErrBundle},
		{"DuplicateName", rawBundle(`{"files":[{"name":"a","name":"b","size":0}]}`, ""), ErrBundle},
		{"NotObject", rawBundle(`[]`, ""), ErrBundle},
		{"Trailing", rawBundle(`{}x`, ""), ErrBundle},
		{"TwoObjects", rawBundle(`{}{}`, ""), ErrBundle},
		{"Unterminated", rawBundle(`{"text":0`, ""), ErrBundle},
		{"RawControl", rawBundle("{\"files\":[{\"name\":\"a\tb\",\"size\":0}]}", ""), ErrBundle},
		{"ShareWithText", rawBundle(`{"text":1,"share":{"k":2,"n":3,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, "xy"), ErrBundle},
		{"ShareEmpty", rawBundle(`{"share":{"k":2,"n":3,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, ""), ErrBundle},
		{"ShareK1", rawBundle(`{"share":{"k":1,"n":3,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, "y"), ErrBundle},
		{"ShareNBelowK", rawBundle(`{"share":{"k":3,"n":2,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, "y"), ErrBundle},
		{"ShareX0", rawBundle(`{"share":{"k":2,"n":3,"x":0,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, "y"), ErrBundle},
		{"ShareN256", rawBundle(`{"share":{"k":2,"n":256,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, "y"), ErrBundle},
		{"ShareShortID", rawBundle(`{"share":{"k":2,"n":3,"x":1,"id":"AAAA"}}`, "y"), ErrBundle},
		{"SharePaddedID", rawBundle(`{"share":{"k":2,"n":3,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA=="}}`, "y"), ErrBundle},
		{"ShareNoID", rawBundle(`{"share":{"k":2,"n":3,"x":1}}`, "y"), ErrBundle},
		{"ShareNotObject", rawBundle(`{"share":null}`, "y"), ErrBundle},
		{"DeepUnknown", rawBundle(`{"x":`+strings.Repeat("[", 40)+strings.Repeat("]", 40)+`}`, ""), ErrBundle},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseBundle(c.plain, nil); !errors.Is(err, c.expect) {
				t.Errorf("ParseBundle: %v, want %v", err, c.expect)
			}
		})
	}
	many := `{"files":[` + strings.Repeat(`{"name":"a","size":0},`, MaxFiles) + `{"name":"a","size":0}]}`
	if _, err := ParseBundle(rawBundle(many, ""), nil); err == nil {
		t.Errorf("%d files taken", MaxFiles+1)
	}
}

func TestParseBundleTakes(t *testing.T) {
	for _, c := range []struct {
		name, header, payload string
		text                  string
		names                 []string
	}{
		{"Empty", `{}`, "", "", nil},
		{"Spaces", " { \"text\" : 2 , \"files\" : [ ] } ", "hi", "hi", nil},
		{"UnknownMembers", `{"v":[1,{"a":null},true,"s",-1.5e3],"text":1,"files":[{"name":"a","size":0,"mtime":17}]}`, "x", "x", []string{"a"}},
		{"EscapesOK", `{"files":[{"name":"\u00e9\" \ud83d\udd10","size":0}]}`, "", "", []string{"é\" 🔐"}},
		{"NoType", `{"files":[{"size":1,"name":"z"}]}`, "q", "", []string{"z"}},
		{"Dots", `{"files":[{"name":"...","size":0},{"name":".hidden","size":0}]}`, "", "", []string{"...", ".hidden"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := ParseBundle(rawBundle(c.header, c.payload), nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(b.Text) != c.text || len(b.Files) != len(c.names) {
				t.Fatalf("text %q, %d files", b.Text, len(b.Files))
			}
			for i, n := range c.names {
				if string(b.Files[i].Name) != n {
					t.Errorf("name %q, want %q", b.Files[i].Name, n)
				}
			}
		})
	}
}

func TestPutBundleRefuses(t *testing.T) {
	for name, b := range map[string]Bundle{
		"Slash":      {Files: []File{{Name: []byte("a/b")}}},
		"Dot":        {Files: []File{{Name: []byte("..")}}},
		"Control":    {Files: []File{{Name: []byte("a\x1b[2J")}}},
		"BadText":    {Text: []byte{0xff}},
		"BadType":    {Files: []File{{Name: []byte("a"), Type: []byte("\n")}}},
		"ShareText":  {Text: []byte("x"), Share: Share{K: 2, N: 2, X: 1}, Payload: []byte("y")},
		"ShareNoY":   {Share: Share{K: 2, N: 2, X: 1}},
		"ShareBadKN": {Share: Share{K: 3, N: 2, X: 1}, Payload: []byte("y")},
	} {
		if _, err := PutBundle(make([]byte, BundleLen(&b)+64), &b); err == nil {
			t.Errorf("%s: written", name)
		}
	}
	b := Bundle{Text: []byte("t")}
	if _, err := PutBundle(make([]byte, BundleLen(&b)-1), &b); !errors.Is(err, ErrShortBuf) {
		t.Errorf("short buffer: %v", err)
	}
}

// TestBundleRoundTrip: what PutBundle writes, ParseBundle reads back.
func TestBundleRoundTrip(t *testing.T) {
	b := Bundle{Text: []byte("text é"), Files: []File{
		{Name: []byte(`we"ird name.txt`), Type: []byte("text/plain"), Data: []byte("one")},
		{Name: []byte("two"), Data: nil},
		{Name: []byte("three"), Type: []byte("application/pdf"), Data: bytes.Repeat([]byte{0, 0xff}, 1000)},
	}}
	out := mustPut(t, &b)
	got, err := ParseBundle(out, make([]File, 0, MaxFiles))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Text, b.Text) || len(got.Files) != 3 {
		t.Fatalf("%+v", got)
	}
	for i := range b.Files {
		if !bytes.Equal(got.Files[i].Name, b.Files[i].Name) || !bytes.Equal(got.Files[i].Type, b.Files[i].Type) || !bytes.Equal(got.Files[i].Data, b.Files[i].Data) {
			t.Errorf("file %d: %q %q", i, got.Files[i].Name, got.Files[i].Type)
		}
	}
}

func FuzzParseBundle(f *testing.F) {
	f.Add(rawBundle(`{"text":2,"files":[{"name":"a","type":"t","size":1}]}`, "hiX"))
	f.Add(rawBundle(`{"share":{"k":2,"n":3,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, "y"))
	f.Add(rawBundle(`{"files":[{"name":"\u00e9\"","size":0}],"z":[{},[]]}`, ""))
	f.Add([]byte{0, 2, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, plain []byte) {
		orig := bytes.Clone(plain)
		b, err := ParseBundle(plain, nil)
		if err != nil {
			return
		}
		// What is taken is what a writer may write: written again, it
		// reads the same.
		for _, file := range b.Files {
			if !ValidName(file.Name) {
				t.Fatalf("invalid name %q taken", file.Name)
			}
		}
		if len(plain) != len(orig) {
			t.Fatal("the plaintext changed length")
		}
		out, err := PutBundle(make([]byte, BundleLen(&b)), &b)
		if err != nil {
			t.Fatalf("a bundle read cannot be written again: %v", err)
		}
		again, err := ParseBundle(out, nil)
		if err != nil {
			t.Fatalf("written again, it does not read: %v", err)
		}
		if !bytes.Equal(again.Text, b.Text) || len(again.Files) != len(b.Files) || again.Share != b.Share || !bytes.Equal(again.Payload, b.Payload) {
			t.Fatal("written again, it reads differently")
		}
		for i := range b.Files {
			if !bytes.Equal(again.Files[i].Name, b.Files[i].Name) || !bytes.Equal(again.Files[i].Type, b.Files[i].Type) || !bytes.Equal(again.Files[i].Data, b.Files[i].Data) {
				t.Fatalf("file %d reads differently", i)
			}
		}
	})
}
