package params

import (
	"bytes"
	"io"
	"math"
	"math/big"
	"mime/multipart"
	"strings"
	"testing"
)

// collectMultipart is collect for multipart bodies.
func collectMultipart(body, boundary string) ([]field, error) {
	var fs []field
	err := EachMultipart([]byte(body), []byte(boundary), func(k []byte, v Value) error {
		dst := make([]byte, v.MaxLen())
		n, err := v.DecodeTo(dst)
		fs = append(fs, field{string(k), v.Kind(), string(dst[:n]), err})
		return nil
	})
	return fs, err
}

// part builds one part of a body with boundary "B".
func part(headers, content string) string {
	return "--B\r\n" + headers + "\r\n\r\n" + content + "\r\n"
}

func TestEachMultipart(t *testing.T) {
	disp := func(name string) string { return `Content-Disposition: form-data; name="` + name + `"` }
	tests := []struct {
		name, body string
		want       []field
		err        error
	}{
		{"OK/One", part(disp("secret"), "hunter2") + "--B--\r\n", []field{s("secret", "hunter2")}, nil},
		{"OK/Several", part(disp("secret"), "a\r\nb") + part(disp("ttl"), "600") + "--B--", []field{s("secret", "a\r\nb"), s("ttl", "600")}, nil},
		{"OK/Empty", part(disp("passphrase"), "") + "--B--\r\n", []field{s("passphrase", "")}, nil},
		{"OK/EmptyRightAtDelimiter", "--B\r\n" + disp("passphrase") + "\r\n\r\n--B--\r\n", []field{s("passphrase", "")}, nil},
		{"OK/PreambleEpilogue", "ignored\r\n" + part(disp("x"), "1") + "--B--\r\nignored too", []field{s("x", "1")}, nil},
		{"OK/Padding", "--B \t\r\n" + disp("x") + "\r\n\r\n1\r\n--B-- \r\n", []field{s("x", "1")}, nil},
		{"OK/TokenName", part("content-disposition: FORM-DATA; NAME=ttl", "5") + "--B--", []field{s("ttl", "5")}, nil},
		{"OK/EscapedName", part(`Content-Disposition: form-data; name="a\"b"`, "v") + "--B--", []field{s(`a"b`, "v")}, nil},
		{"OK/OtherHeaders", part(disp("x")+"\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit", "v") + "--B--", []field{s("x", "v")}, nil},
		{"OK/BoundaryLookalike", part(disp("x"), "x--B\r\n-B\r\n--\r\n") + "--B--", []field{s("x", "x--B\r\n-B\r\n--\r\n")}, nil},
		{"OK/NoName", part("Content-Disposition: form-data", "v") + part(disp("y"), "w") + "--B--", []field{s("y", "w")}, nil},
		{"OK/LongNameSkipped", part(disp(long65), "v") + part(disp(long64), "w") + "--B--", []field{s(long64, "w")}, nil},
		{"OK/Binary", part(disp("x"), "\x00\xff") + "--B--", []field{{key: "x", kind: String, err: ErrInvalidUTF8}}, nil},

		{"ErrFile", part(disp("secret")+`; filename="a.txt"`, "v") + "--B--", nil, ErrFile},
		{"ErrFile/Empty", part(disp("secret")+`; filename=""`, "") + "--B--", nil, ErrFile},
		{"ErrFile/Extended", part(disp("secret")+`; filename*=UTF-8''a.txt`, "v") + "--B--", nil, ErrFile},
		{"ErrFile/AfterField", part(disp("ttl"), "60") + part(disp("secret")+`; filename="a"`, "v") + "--B--", nil, ErrFile},
		{"ErrMalformed/Empty", "", nil, ErrMalformed},
		{"ErrMalformed/NoBoundary", "secret=x", nil, ErrMalformed},
		{"ErrMalformed/Unclosed", part(disp("x"), "v"), nil, ErrMalformed},
		{"ErrMalformed/Truncated", "--B\r\n" + disp("x") + "\r\n\r\nva", nil, ErrMalformed},
		{"ErrMalformed/NoDisposition", part("Content-Type: text/plain", "v") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/NotFormData", part(`Content-Disposition: attachment; name="x"`, "v") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/TwoDispositions", part(disp("x")+"\r\n"+disp("y"), "v") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/TwoNames", part(disp("x")+`; name="y"`, "v") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/Folded", part(disp("x")+"\r\n continued", "v") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/BadHeader", part(disp("x")+"\r\nno colon", "v") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/Base64", part(disp("x")+"\r\nContent-Transfer-Encoding: base64", "dg==") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/BareLF", "--B\n" + disp("x") + "\n\nv\n--B--\n", nil, ErrMalformed},
		{"ErrMalformed/UnterminatedQuote", part(`Content-Disposition: form-data; name="x`, "v") + "--B--", nil, ErrMalformed},
		{"ErrMalformed/AfterClose", part(disp("x"), "v") + "--B--junk", nil, ErrMalformed},
		{"ErrMalformed/DelimiterJunk", part(disp("x"), "v") + "--Bjunk\r\n--B--", nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := collectMultipart(tc.body, "B")
			if err != tc.err || !equalFields(got, tc.want) {
				t.Errorf("got %v, %v; want %v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// Bodies written by Go's multipart.Writer, as clients write them, read back
// field for field.
func TestMultipartFromWriter(t *testing.T) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	want := []field{s("secret", "line one\r\n--not a boundary\r\n\u00e9"), s("ttl", "600"), s(`odd "name"`, ""), s("passphrase", "open sesame")}
	for _, f := range want {
		if err := w.WriteField(f.key, f.val); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := collectMultipart(buf.String(), w.Boundary())
	if err != nil || !equalFields(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
}

// rubyToI is Ruby's String#to_i, written plainly for comparison.
func rubyToI(v string) int64 {
	v = strings.TrimLeft(v, " \t\n\v\f\r")
	neg := false
	if v != "" && (v[0] == '+' || v[0] == '-') {
		neg, v = v[0] == '-', v[1:]
	}
	var digits []byte
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9':
			digits = append(digits, c)
		case c == '_' && i > 0 && v[i-1] >= '0' && v[i-1] <= '9' && i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9':
		default:
			i = len(v)
		}
	}
	n := new(big.Int)
	n.SetString("0"+string(digits), 10)
	if neg {
		n.Neg(n)
	}
	switch {
	case n.IsInt64():
		return n.Int64()
	case n.Sign() > 0:
		return math.MaxInt64
	}
	return math.MinInt64
}

func TestBoundary(t *testing.T) {
	for ct, want := range map[string]string{
		"multipart/form-data; boundary=X":                          "X",
		"multipart/form-data;boundary=\"a b\"":                     "a b",
		"multipart/form-data; charset=utf-8; BOUNDARY=----z":       "----z",
		"multipart/form-data":                                      "",
		"multipart/form-data; boundary=":                           "",
		"multipart/form-data; boundary=" + strings.Repeat("x", 71): "",
	} {
		b, ok := Boundary([]byte(ct))
		if string(b) != want || ok != (want != "") {
			t.Errorf("Boundary(%q) = %q, %v; want %q", ct, b, ok, want)
		}
	}
}

func TestMultipartInt(t *testing.T) {
	body := part(`Content-Disposition: form-data; name="ttl"`, "600") + "--B--"
	err := EachMultipart([]byte(body), []byte("B"), func(k []byte, v Value) error {
		if n, err := v.Int(); n != 600 || err != nil {
			t.Errorf("Int = %d, %v", n, err)
		}
		if n, err := v.ToI(); n != 600 || err != nil {
			t.Errorf("ToI = %d, %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestToI(t *testing.T) {
	tests := []struct {
		enc  Encoding
		body string
		want int64
		err  error
	}{
		{Form, "v=3600", 3600, nil},
		{Form, "v=abc", 0, nil},
		{Form, "v=", 0, nil},
		{Form, "v", 0, nil},
		{Form, "v=12abc", 12, nil},
		{Form, "v=1e3", 1, nil},
		{Form, "v=3600.9", 3600, nil},
		{Form, "v=%20%09-42", -42, nil},
		{Form, "v=++5", 5, nil}, // "  5"
		{Form, "v=%2B%2B5", 0, nil},
		{Form, "v=+5", 5, nil}, // '+' decodes to a space
		{Form, "v=%2B5", 5, nil},
		{Form, "v=-%20", 0, nil},
		{Form, "v=1_000", 1000, nil},
		{Form, "v=1__0", 1, nil},
		{Form, "v=_1", 0, nil},
		{Form, "v=1_", 1, nil},
		{Form, "v=0x1F", 0, nil},
		{Form, "v=%EF%BC%91", 0, nil},
		{Form, "v=99999999999999999999999", math.MaxInt64, nil},
		{Form, "v=-99999999999999999999999", math.MinInt64, nil},
		{JSON, `{"v":"  600 seconds"}`, 600, nil},
		{JSON, `{"v":"\u0036\u0030"}`, 60, nil},
		{JSON, `{"v":3600}`, 3600, nil},
		{JSON, `{"v":3600.99}`, 3600, nil},
		{JSON, `{"v":-1.5}`, -1, nil},
		{JSON, `{"v":-0.5}`, 0, nil},
		{JSON, `{"v":1e3}`, 1000, nil},
		{JSON, `{"v":1.5e1}`, 15, nil},
		{JSON, `{"v":12345e-2}`, 123, nil},
		{JSON, `{"v":1e400}`, math.MaxInt64, nil},
		{JSON, `{"v":-1e400}`, math.MinInt64, nil},
		{JSON, `{"v":0e999999999}`, 0, nil},
		{JSON, `{"v":1e-400}`, 0, nil},
		{JSON, `{"v":null}`, 0, ErrEmpty},
		{JSON, `{"v":true}`, 0, ErrInvalid},
		{JSON, `{"v":[1]}`, 0, ErrInvalid},
		{JSON, `{"v":{"a":1}}`, 0, ErrInvalid},
	}
	for _, tc := range tests {
		var got int64
		var err error
		seen := false
		if e := Each([]byte(tc.body), tc.enc, func(_ []byte, v Value) error {
			got, err = v.ToI()
			seen = true
			return nil
		}); e != nil || !seen {
			t.Fatalf("%q: Each: %v", tc.body, e)
		}
		if got != tc.want || err != tc.err {
			t.Errorf("%q: ToI = %d, %v; want %d, %v", tc.body, got, err, tc.want, tc.err)
		}
	}
}

// FuzzEachMultipart checks EachMultipart's invariants on any body and, when
// it accepts a body, that Go's own multipart reader reads the same parts.
func FuzzEachMultipart(f *testing.F) {
	disp := func(name string) string { return `Content-Disposition: form-data; name="` + name + `"` }
	for _, s := range []string{
		part(disp("secret"), "hunter2") + "--B--\r\n",
		part(disp("secret"), "a\r\nb") + part(disp("ttl"), "600") + "--B--",
		"pre\r\n--B \r\n" + disp(`a\"b`) + "\r\nContent-Type: text/plain\r\n\r\nv\r\n--B--\r\nepi",
		"--B\r\n" + disp("x") + "\r\n\r\n--B--",
		part(disp("f")+`; filename="x"`, "v") + "--B--",
		part("Content-Disposition: form-data", "v") + "--B--",
		"--B\n" + disp("x") + "\n\nv\n--B--\n",
		"",
	} {
		f.Add([]byte(s), "B")
	}
	f.Add([]byte("--"+strings.Repeat("b", 70)+"\r\n"+disp("k")+"\r\n\r\nv\r\n--"+strings.Repeat("b", 70)+"--"), strings.Repeat("b", 70))
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		type got struct {
			name  string
			value []byte
		}
		var parts []got
		err := EachMultipart(body, []byte(boundary), func(k []byte, v Value) error {
			if len(k) > maxKeyLen {
				t.Fatalf("key of %d bytes passed to fn", len(k))
			}
			if v.Kind() != String || v.enc != Multipart {
				t.Fatalf("value of kind %d, encoding %d", v.Kind(), v.enc)
			}
			// A value is a slice of the body, never a copy.
			if len(v.raw) > 0 && !within(body, v.raw) {
				t.Fatalf("value does not point into the body")
			}
			if _, ok := checkValue(t, v); ok != utf8Valid(v.raw) {
				t.Fatalf("DecodeTo ok = %v for UTF-8 validity %v", ok, !ok)
			}
			parts = append(parts, got{string(k), v.raw})
			return nil
		})
		switch err {
		case nil:
		case ErrMalformed, ErrFile:
			if len(parts) > 0 {
				t.Fatalf("fn called before %v", err)
			}
			return
		default:
			t.Fatalf("unexpected error %v", err)
		}
		// Go's reader also takes a boundary after a bare LF; such a body is
		// read differently by design, so it is not compared.
		if containsBareLFDelimiter(body, boundary) {
			return
		}
		r := multipart.NewReader(bytes.NewReader(body), boundary)
		var goParts []got
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("EachMultipart accepts what mime/multipart refuses: %v", err)
			}
			content, err := io.ReadAll(p)
			if err != nil {
				t.Fatalf("mime/multipart: %v", err)
			}
			if p.FileName() != "" {
				t.Fatalf("file part %q accepted", p.FileName())
			}
			if name := p.FormName(); name != "" && len(name) <= maxKeyLen {
				goParts = append(goParts, got{name, content})
			}
		}
		var ours []got
		for _, p := range parts {
			if p.name != "" {
				ours = append(ours, p)
			}
		}
		if len(ours) != len(goParts) {
			t.Fatalf("parts: ours %q, mime/multipart %q", ours, goParts)
		}
		for i := range ours {
			if ours[i].name != goParts[i].name || !bytes.Equal(ours[i].value, goParts[i].value) {
				t.Fatalf("part %d: ours %q, mime/multipart %q", i, ours[i], goParts[i])
			}
		}
	})
}

// within reports whether sub lies inside b's memory.
func within(b, sub []byte) bool {
	for i := range b {
		if &b[i] == &sub[0] {
			return i+len(sub) <= len(b)
		}
	}
	return false
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "\ufffd") == string(b) }

// containsBareLFDelimiter reports whether "\n--boundary" appears without a
// CR before it.
func containsBareLFDelimiter(body []byte, boundary string) bool {
	d := []byte("\n--" + boundary)
	for i := 0; ; {
		j := bytes.Index(body[i:], d)
		if j < 0 {
			return false
		}
		if i+j == 0 || body[i+j-1] != '\r' {
			return true
		}
		i += j + 1
	}
}
