package handler

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/valyala/fasthttp"
)

// Names set with SetCanonical must already be in fasthttp's form, or Peek
// (which normalizes) would not find them and clients would see odd case.
func TestCanonicalHeaderNames(t *testing.T) {
	for _, name := range canonicalHeaders {
		if norm := fasthttp.AppendNormalizedHeaderKeyBytes(nil, name); !bytes.Equal(norm, name) {
			t.Errorf("%q is not canonical; fasthttp writes %q", name, norm)
		}
	}
}

// The run-copying escaper gives what the byte-by-byte definition gives, in
// every chunking the streaming writer may use.
func TestAppendEscapedUpTo(t *testing.T) {
	var all []byte
	for c := range 256 {
		all = append(all, byte(c))
	}
	inputs := [][]byte{nil, []byte("plain text"), []byte(`"\` + "\n\r\t\x00\x1f\x7f"), all, bytes.Repeat([]byte("ab\"c"), 100)}
	for _, in := range inputs {
		want := referenceEscape(in)
		if n := escapedLen(in); n != len(want) {
			t.Errorf("escapedLen(%q) = %d, want %d", in, n, len(want))
		}
		for _, limit := range []int{6, 7, 8, 13, 64, 4096} {
			var got []byte
			for src := in; len(src) > 0; {
				chunk, used := appendEscapedUpTo(nil, src, limit)
				if used == 0 || len(chunk) > limit {
					t.Fatalf("limit %d: used %d, chunk of %d", limit, used, len(chunk))
				}
				got = append(got, chunk...)
				src = src[used:]
			}
			if !bytes.Equal(got, want) {
				t.Errorf("limit %d: %q escaped to %q, want %q", limit, in, got, want)
			}
		}
	}
}

// escapes agrees with the table for every byte in every position, and for
// random words.
func TestEscapeBits(t *testing.T) {
	check := func(w uint64) {
		t.Helper()
		want := false
		for i := range 8 {
			want = want || jsonExtra[byte(w>>(8*i))] != 0
		}
		if got := escapes(w)&highs != 0; got != want {
			t.Fatalf("escapes(%#016x)&highs != 0 is %v, want %v", w, got, want)
		}
	}
	for c := range 256 {
		for pos := range 8 {
			for _, fill := range []uint64{0x4141414141414141, 0xc3c3c3c3c3c3c3c3, 0x2020202020202020, 0x8080808080808080, 0xffffffffffffffff} {
				check(fill&^(0xff<<(8*pos)) | uint64(c)<<(8*pos))
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1 << 20 {
		check(rng.Uint64())
	}
}

func FuzzEscapedLen(f *testing.F) {
	f.Add([]byte("plain text, long enough for a few words"))
	f.Add([]byte(`0123456\\ "x\n`))
	f.Fuzz(func(t *testing.T, s []byte) {
		if got, want := escapedLen(s), len(referenceEscape(s)); got != want {
			t.Fatalf("escapedLen(%q) = %d, want %d", s, got, want)
		}
	})
}

// referenceEscape is the escaping rule spelled out one byte at a time.
func referenceEscape(s []byte) []byte {
	var out []byte
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c == '\n':
			out = append(out, `\n`...)
		case c == '\r':
			out = append(out, `\r`...)
		case c == '\t':
			out = append(out, `\t`...)
		case c < 0x20 || c == 0x7f:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			out = append(out, c)
		}
	}
	return out
}

func BenchmarkEscapedLen(b *testing.B) {
	s := []byte(secret1K)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		if escapedLen(s) != len(s) {
			b.Fatal("a plain secret needs escapes")
		}
	}
}

// appendString gives what escaping one character at a time gives, invalid
// UTF-8 replaced, and its output is always a JSON string that decodes to
// the input's valid characters.
func TestAppendString(t *testing.T) {
	check := func(s []byte) {
		t.Helper()
		got := appendString([]byte("x"), s)
		want := append([]byte(`x"`), referenceString(s)...)
		want = append(want, '"')
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %q, want %q", s, got, want)
		}
	}
	for _, s := range []string{"", "abc", "0123456789abcdefghjkmnpqrstvwxyz", "https://ots.example/receipt/k", `a"b\c`, "\x00\x1f\x7f\n", "é€😀", "\xff", "a\xc3", "\xed\xa0\x80", "ab\xe2\x82"} {
		check([]byte(s))
	}
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte("az09\"\\\n\x01\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff")
	for range 1 << 14 {
		s := make([]byte, rng.IntN(40))
		for i := range s {
			s[i] = alphabet[rng.IntN(len(alphabet))]
		}
		check(s)
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add([]byte("a\"\xff\xc3é"))
	f.Fuzz(func(t *testing.T, s []byte) {
		got := appendString(nil, s)
		want := append(append([]byte{'"'}, referenceString(s)...), '"')
		if !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %q, want %q", s, got, want)
		}
	})
}

// referenceString is appendString's rule spelled out one character at a
// time: invalid UTF-8 becomes U+FFFD, ASCII is escaped as referenceEscape
// does, other characters stand for themselves.
func referenceString(s []byte) []byte {
	var out []byte
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		switch {
		case r == utf8.RuneError && size <= 1:
			out = append(out, "\ufffd"...)
			size = max(size, 1)
		case size == 1:
			out = append(out, referenceEscape(s[:1])...)
		default:
			out = append(out, s[:size]...)
		}
		s = s[size:]
	}
	return out
}

func BenchmarkAppendString(b *testing.B) {
	// What a receipt quotes: link keys and the links made of them.
	strs := [][]byte{
		[]byte("0123456789abcdefghjkmnpqrstvwxyz"),
		[]byte("https://ots.example/secret/0123456789abcdefghjkmnpqrstvwxyz"),
		[]byte("received"),
	}
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = buf[:0]
		for _, s := range strs {
			buf = appendString(buf, s)
		}
	}
}
