package params

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"syscall"
	"testing"
)

// field is one field seen by Each, decoded (test code may copy freely).
type field struct {
	key  string
	kind Kind
	val  string
	err  error // from DecodeTo
}

func collect(body string, enc Encoding) ([]field, error) {
	var fs []field
	err := Each([]byte(body), enc, func(k []byte, v Value) error {
		dst := make([]byte, v.MaxLen())
		n, err := v.DecodeTo(dst)
		fs = append(fs, field{string(k), v.Kind(), string(dst[:n]), err})
		return nil
	})
	return fs, err
}

func equalFields(a, b []field) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].key != b[i].key || a[i].kind != b[i].kind || a[i].val != b[i].val || a[i].err != b[i].err {
			return false
		}
	}
	return true
}

func s(k, v string) field { return field{key: k, kind: String, val: v} }

var (
	long64 = strings.Repeat("k", 64)
	long65 = strings.Repeat("k", 65)
)

func TestEachForm(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []field
		err  error
	}{
		{"empty", "", nil, nil},
		{"only separators", "&&&", nil, nil},
		{"simple", "secret=abc&ttl=3600", []field{s("secret", "abc"), s("ttl", "3600")}, nil},
		{"escapes", "a=%2B&b=+x+&c=%E2%82%AC&d=%e2%82%ac&e=100%25",
			[]field{s("a", "+"), s("b", " x "), s("c", "€"), s("d", "€"), s("e", "100%")}, nil},
		{"raw utf8", "a=é€😀", []field{s("a", "é€😀")}, nil},
		{"duplicates", "a=1&a=2&a=", []field{s("a", "1"), s("a", "2"), s("a", "")}, nil},
		{"missing equals", "flag&x=", []field{s("flag", ""), s("x", "")}, nil},
		{"empty pairs", "&&a=1&&b=2&", []field{s("a", "1"), s("b", "2")}, nil},
		{"empty key", "=v", []field{s("", "v")}, nil},
		{"equals in value", "a=b=c", []field{s("a", "b=c")}, nil},
		{"semicolon is data", "a;b=1;2", []field{s("a;b", "1;2")}, nil},
		{"escaped key", "k%20e+y=v", []field{s("k e y", "v")}, nil},
		{"key 64", long64 + "=v", []field{s(long64, "v")}, nil},
		{"key 65 skipped", long65 + "=v&b=1", []field{s("b", "1")}, nil},
		{"escaped key fits", strings.Repeat("%41", 64) + "=v", []field{s(strings.Repeat("A", 64), "v")}, nil},
		{"escaped key too long", strings.Repeat("%41", 65) + "=v", nil, nil},
		{"invalid utf8 value", "a=%FF&b=x%C3", []field{
			{key: "a", kind: String, err: ErrInvalidUTF8},
			{key: "b", kind: String, err: ErrInvalidUTF8},
		}, nil},
		{"raw invalid utf8 value", "a=\xff", []field{{key: "a", kind: String, err: ErrInvalidUTF8}}, nil},
		{"bad escape zz", "a=%zz", nil, ErrMalformed},
		{"bad escape short", "a=%4", nil, ErrMalformed},
		{"bad escape end", "a=%", nil, ErrMalformed},
		{"bad escape key", "%g1=1", nil, ErrMalformed},
		{"bad escape skipped key", long65 + "%=1", nil, ErrMalformed},
		{"bad escape after good", "a=1&b=%zz", nil, ErrMalformed}, // fn never called
		{"bad escape no equals", "a%", nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(tt.body, Form)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !equalFields(got, tt.want) {
				t.Fatalf("fields = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEachJSON(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []field
		err  error
	}{
		{"empty object", "{}", nil, nil},
		{"empty object ws", " \t\r\n{ \n } \n", nil, nil},
		{"simple", `{"secret":"abc","ttl":3600}`, []field{s("secret", "abc"), {key: "ttl", kind: Number, val: "3600"}}, nil},
		{"escapes", `{"a":"x\ny","b":"\u00e9","c":"\ud83d\ude00","d":"\/","e":"\"\\\b\f\r\t","f":"\u20AC\u0000"}`,
			[]field{s("a", "x\ny"), s("b", "é"), s("c", "😀"), s("d", "/"), s("e", "\"\\\b\f\r\t"), s("f", "€\x00")}, nil},
		{"raw utf8", `{"a":"é€😀"}`, []field{s("a", "é€😀")}, nil},
		{"scalars", `{"n":-1.5e+3,"z0":0,"t":true,"f":false,"null":null}`, []field{
			{key: "n", kind: Number, val: "-1.5e+3"},
			{key: "z0", kind: Number, val: "0"},
			{key: "t", kind: Bool, val: "true"},
			{key: "f", kind: Bool, val: "false"},
			{key: "null", kind: Null},
		}, nil},
		{"nested skipped", `{"a":{"b":[1,{"c":"}]\"{["}],"d":{}},"e":[],"f":{},"g":[[],[{}]],"h":"x"}`, []field{
			{key: "a", kind: Other, err: ErrInvalid},
			{key: "e", kind: Other, err: ErrInvalid},
			{key: "f", kind: Other, err: ErrInvalid},
			{key: "g", kind: Other, err: ErrInvalid},
			s("h", "x"),
		}, nil},
		{"whitespace", "\n\t{ \"a\" : \"b\" ,\r\n \"c\" :\t[ 1 , { \"d\" : null } ] , \"e\":1 }\n",
			[]field{s("a", "b"), {key: "c", kind: Other, err: ErrInvalid}, {key: "e", kind: Number, val: "1"}}, nil},
		{"duplicates", `{"a":"1","a":"2"}`, []field{s("a", "1"), s("a", "2")}, nil},
		{"escaped key", `{"s\u0065cret":"x","\ud83d\ude00":"y"}`, []field{s("secret", "x"), s("😀", "y")}, nil},
		{"empty key and value", `{"":""}`, []field{s("", "")}, nil},
		{"key 64", `{"` + long64 + `":1}`, []field{{key: long64, kind: Number, val: "1"}}, nil},
		{"key 65 skipped", `{"` + long65 + `":1,"b":"2"}`, []field{s("b", "2")}, nil},
		{"escaped key fits", `{"` + strings.Repeat(`\u0041`, 64) + `":"v"}`, []field{s(strings.Repeat("A", 64), "v")}, nil},
		{"escaped key too long", `{"` + strings.Repeat(`\u0041`, 65) + `":"v"}`, nil, nil},
		{"depth 64", `{"a":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, []field{{key: "a", kind: Other, err: ErrInvalid}}, nil},

		{"empty body", "", nil, ErrMalformed},
		{"blank body", " \n", nil, ErrMalformed},
		{"array", "[]", nil, ErrMalformed},
		{"string", `"a"`, nil, ErrMalformed},
		{"null body", "null", nil, ErrMalformed},
		{"bom", "\ufeff{}", nil, ErrMalformed},
		{"trailing garbage", `{"a":1}x`, nil, ErrMalformed},
		{"two objects", `{"a":1}{}`, nil, ErrMalformed},
		{"trailing comma", `{"a":1,}`, nil, ErrMalformed},
		{"lone comma", `{,}`, nil, ErrMalformed},
		{"missing colon", `{"a"}`, nil, ErrMalformed},
		{"missing value", `{"a":}`, nil, ErrMalformed},
		{"unquoted key", `{a:1}`, nil, ErrMalformed},
		{"number key", `{1:1}`, nil, ErrMalformed},
		{"single quotes", `{'a':'b'}`, nil, ErrMalformed},
		{"missing comma", `{"a":1 "b":2}`, nil, ErrMalformed},
		{"leading zero", `{"a":01}`, nil, ErrMalformed},
		{"plus sign", `{"a":+1}`, nil, ErrMalformed},
		{"bare minus", `{"a":-}`, nil, ErrMalformed},
		{"trailing dot", `{"a":1.}`, nil, ErrMalformed},
		{"leading dot", `{"a":.5}`, nil, ErrMalformed},
		{"empty exponent", `{"a":1e}`, nil, ErrMalformed},
		{"signed empty exponent", `{"a":1e+}`, nil, ErrMalformed},
		{"hex number", `{"a":0x1}`, nil, ErrMalformed},
		{"NaN", `{"a":NaN}`, nil, ErrMalformed},
		{"short literal", `{"a":tru}`, nil, ErrMalformed},
		{"capital literal", `{"a":True}`, nil, ErrMalformed},
		{"literal suffix", `{"a":nulll}`, nil, ErrMalformed},
		{"bad escape", `{"a":"\x"}`, nil, ErrMalformed},
		{"short unicode escape", `{"a":"\u12"}`, nil, ErrMalformed},
		{"bad unicode escape", `{"a":"\u12G4"}`, nil, ErrMalformed},
		{"bad second surrogate escape", `{"a":"\ud83d\uZZZZ"}`, nil, ErrMalformed},
		{"control char", "{\"a\":\"x\x01\"}", nil, ErrMalformed},
		{"raw newline", "{\"a\":\"x\ny\"}", nil, ErrMalformed},
		{"raw tab", "{\"a\":\"\t\"}", nil, ErrMalformed},
		{"nul byte", "{\"a\":\"\x00\"}", nil, ErrMalformed},
		{"control char in key", "{\"\x1f\":1}", nil, ErrMalformed},
		{"unterminated string", `{"a":"b}`, nil, ErrMalformed},
		{"array trailing comma", `{"a":[1,]}`, nil, ErrMalformed},
		{"array missing comma", `{"a":[1 2]}`, nil, ErrMalformed},
		{"array leading comma", `{"a":[,1]}`, nil, ErrMalformed},
		{"nested missing colon", `{"a":{"b"}}`, nil, ErrMalformed},
		{"nested trailing comma", `{"a":{"b":1,}}`, nil, ErrMalformed},
		{"nested bad key", `{"a":{1:1}}`, nil, ErrMalformed},
		{"mismatched ]", `{"a":[}`, nil, ErrMalformed},
		{"mismatched }", `{"a":{]}`, nil, ErrMalformed},
		{"unclosed nested", `{"a":[[1]}`, nil, ErrMalformed},
		{"nested control char", "{\"a\":[\"\x02\"]}", nil, ErrMalformed},
		{"depth 65", `{"a":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`, nil, ErrMalformed},
		{"error after good field", `{"a":"1","b":x}`, nil, ErrMalformed}, // fn never called

		{"invalid utf8 value", "{\"a\":\"x\xffy\"}", nil, ErrInvalidUTF8},
		{"truncated utf8 value", "{\"a\":\"\xc3\"}", nil, ErrInvalidUTF8},
		{"raw surrogate", "{\"a\":\"\xed\xa0\x80\"}", nil, ErrInvalidUTF8},
		{"overlong", "{\"a\":\"\xc0\xaf\"}", nil, ErrInvalidUTF8},
		{"invalid utf8 key", "{\"\xff\":1}", nil, ErrInvalidUTF8},
		{"invalid utf8 nested", "{\"a\":[\"\xff\"]}", nil, ErrInvalidUTF8},
		{"invalid utf8 skipped key", "{\"" + long65 + "\xff\":1}", nil, ErrInvalidUTF8},
		{"lone high surrogate", `{"a":"\ud83d"}`, nil, ErrInvalidUTF8},
		{"lone low surrogate", `{"a":"\ude00"}`, nil, ErrInvalidUTF8},
		{"high then char", `{"a":"\ud83dx"}`, nil, ErrInvalidUTF8},
		{"high then non-surrogate", `{"a":"\ud83d\u0041"}`, nil, ErrInvalidUTF8},
		{"high then high", `{"a":"\ud83d\ud83d\ude00"}`, nil, ErrInvalidUTF8},
		{"reversed pair", `{"a":"\ude00\ud83d"}`, nil, ErrInvalidUTF8},
		{"lone surrogate key", `{"\udfff":1}`, nil, ErrInvalidUTF8},
		{"utf8 error then syntax error", "{\"a\":\"\xff\",}", nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := collect(tt.body, JSON)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !equalFields(got, tt.want) {
				t.Fatalf("fields = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEachUnknownEncoding(t *testing.T) {
	if err := Each([]byte("a=1"), Encoding(7), nil); err != ErrMalformed {
		t.Fatalf("err = %v", err)
	}
}

func TestEachNilFn(t *testing.T) {
	if err := Each([]byte(`{"a":1}`), JSON, nil); err != nil {
		t.Fatal(err)
	}
	if err := Each([]byte(`{"a":1`), JSON, nil); err != ErrMalformed {
		t.Fatal(err)
	}
	if err := Each([]byte("a=%"), Form, nil); err != ErrMalformed {
		t.Fatal(err)
	}
}

func TestEachStops(t *testing.T) {
	stop := errors.New("stop")
	for _, c := range []struct {
		body string
		enc  Encoding
	}{{"a=1&b=2&c=3", Form}, {`{"a":1,"b":2,"c":3}`, JSON}} {
		calls := 0
		err := Each([]byte(c.body), c.enc, func(k []byte, v Value) error {
			calls++
			if string(k) == "b" {
				return stop
			}
			return nil
		})
		if err != stop || calls != 2 {
			t.Errorf("%q: err = %v, calls = %d", c.body, err, calls)
		}
	}
}

// A truncated body is malformed at every position, whatever it is cut in
// (escape, multi-byte character, surrogate pair, literal, nested value),
// and fn is never called.
func TestJSONTruncated(t *testing.T) {
	body := []byte(` {"secret" : "p\u00e9 \ud83d\ude00 €😀\n\"x\\","s\u0065": "","ttl":3600,` +
		`"x":[1,{"y":null,"z":[true,false]},"]"],"b":true,"f":-1.5e+3,"n":null}`)
	if err := Each(body, JSON, nil); err != nil {
		t.Fatalf("full body: %v", err)
	}
	for i := 0; i < len(body); i++ {
		err := Each(body[:i], JSON, func([]byte, Value) error {
			t.Fatalf("fn called for prefix %d", i)
			return nil
		})
		if err != ErrMalformed {
			t.Errorf("prefix %d %q: err = %v, want ErrMalformed", i, body[:i], err)
		}
	}
}

func TestDecodeToShortBuffer(t *testing.T) {
	for _, c := range []struct {
		body string
		enc  Encoding
		want string
	}{
		{"a=abc%41", Form, "abcA"},
		{"a=%E2%82%AC%E2%82%AC", Form, "€€"},
		{`{"a":"abc\u0041"}`, JSON, "abcA"},
		{`{"a":12345}`, JSON, "12345"},
		{`{"a":false}`, JSON, "false"},
	} {
		err := Each([]byte(c.body), c.enc, func(k []byte, v Value) error {
			// Room for the decoded value is enough, even when the raw
			// value is longer.
			exact := make([]byte, len(c.want))
			if n, err := v.DecodeTo(exact); err != nil || string(exact[:n]) != c.want {
				t.Errorf("%q: exact dst: %q, %v", c.body, exact[:n], err)
			}
			dst := bytes.Repeat([]byte{0xaa}, len(c.want)-1)
			n, err := v.DecodeTo(dst)
			if n != 0 || err != ErrShortBuffer {
				t.Errorf("%q: n = %d, err = %v", c.body, n, err)
			}
			if !isZero(dst) {
				t.Errorf("%q: dst not zeroed: %x", c.body, dst)
			}
			if _, err := v.DecodeTo(nil); err != ErrShortBuffer {
				t.Errorf("%q: nil dst: err = %v", c.body, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// On error, dst[:MaxLen()] is zeroed and the rest of dst is untouched.
func TestDecodeToZeroesOnError(t *testing.T) {
	values := []Value{
		{raw: []byte("secret%FF"), kind: String, enc: Form},
		{raw: []byte("secret%C3"), kind: String, enc: Form},
		{raw: []byte("secret%"), kind: String, enc: Form},            // cannot come from Each
		{raw: []byte(`secret\ud800`), kind: String, enc: JSON},       // cannot come from Each
		{raw: []byte(`secret\ud800x`), kind: String, enc: JSON},      // cannot come from Each
		{raw: []byte(`secret\udc00`), kind: String, enc: JSON},       // cannot come from Each
		{raw: []byte(`secret\u12`), kind: String, enc: JSON},         // cannot come from Each
		{raw: []byte("secret\xff"), kind: String, enc: JSON},         // cannot come from Each
		{raw: []byte(`secret\`), kind: String, enc: JSON},            // cannot come from Each
		{raw: []byte(`{"a":"secret"}`), kind: Other, enc: JSON},      // MaxLen 0
		{raw: []byte("secret"), kind: Kind(9), enc: JSON},            // cannot come from Each
		{raw: []byte(`secret\ud800\ud800`), kind: String, enc: JSON}, // cannot come from Each
	}
	for _, v := range values {
		m := v.MaxLen()
		dst := bytes.Repeat([]byte{0xaa}, m+8)
		n, err := v.DecodeTo(dst)
		if err == nil || n != 0 {
			t.Errorf("%q: n = %d, err = %v, want error", v.raw, n, err)
		}
		if !isZero(dst[:m]) {
			t.Errorf("%q: dst[:MaxLen] not zeroed: %x", v.raw, dst[:m])
		}
		if !bytes.Equal(dst[m:], bytes.Repeat([]byte{0xaa}, 8)) {
			t.Errorf("%q: dst[MaxLen:] modified: %x", v.raw, dst[m:])
		}
	}
}

// Modifying the body after Each must not make DecodeTo panic or leak.
func TestDecodeToMutatedBody(t *testing.T) {
	body := []byte(`{"a":"secret\u00e9"}`)
	var val Value
	if err := Each(body, JSON, func(k []byte, v Value) error { val = v; return nil }); err != nil {
		t.Fatal(err)
	}
	copy(body[len(body)-6:], `d800`) // now a lone surrogate
	dst := make([]byte, val.MaxLen())
	if n, err := val.DecodeTo(dst); err != ErrInvalidUTF8 || n != 0 || !isZero(dst) {
		t.Fatalf("n = %d, err = %v, dst = %x", n, err, dst)
	}
	Wipe(body)
	if !isZero(body) {
		t.Fatal("Wipe did not zero")
	}
	if n, err := val.DecodeTo(dst); err != nil || n != len(dst) || !isZero(dst) {
		t.Fatalf("after Wipe: n = %d, err = %v", n, err)
	}
}

func TestMaxLenBound(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want string
	}{
		{`\u0041`, "A"},
		{`\u00e9`, "é"},
		{`\u20ac`, "€"},
		{`\uffff`, "\uffff"},
		{`\ud83d\ude00`, "😀"},
		{`\udbff\udfff`, "\U0010ffff"},
		{`\n`, "\n"},
	} {
		v := Value{raw: []byte(c.raw), kind: String, enc: JSON}
		dst := make([]byte, v.MaxLen())
		n, err := v.DecodeTo(dst)
		if err != nil || string(dst[:n]) != c.want {
			t.Errorf("%s: got %q, %v", c.raw, dst[:n], err)
		}
	}
}

func TestIsEmptyAndKinds(t *testing.T) {
	fields := map[string]struct {
		empty bool
		max   int
	}{"s": {false, 1}, "e": {true, 0}, "z": {true, 0}, "n": {false, 1}, "b": {false, 5}, "o": {false, 0}, "a": {false, 0}}
	err := Each([]byte(`{"s":"x","e":"","z":null,"n":0,"b":false,"o":{},"a":[]}`), JSON, func(k []byte, v Value) error {
		w := fields[string(k)]
		if v.IsEmpty() != w.empty || v.MaxLen() != w.max {
			t.Errorf("%s: IsEmpty = %v, MaxLen = %d", k, v.IsEmpty(), v.MaxLen())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var zero Value
	if !zero.IsEmpty() || zero.MaxLen() != 0 || zero.Kind() != String {
		t.Error("zero Value is not an empty string")
	}
	if n, err := zero.DecodeTo(nil); n != 0 || err != nil {
		t.Errorf("zero Value: %d, %v", n, err)
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		enc  Encoding
		body string
		want int64
		err  error
	}{
		{Form, "v=3600", 3600, nil},
		{Form, "v=-5", -5, nil},
		{Form, "v=0", 0, nil},
		{Form, "v=-0", 0, nil},
		{Form, "v=007", 7, nil},
		{Form, "v=%2B7", 7, nil},
		{Form, "v=%2D5", -5, nil},
		{Form, "v=%33600", 3600, nil},
		{Form, "v=99999999999999999999999", math.MaxInt64, nil},
		{Form, "v=-99999999999999999999999", math.MinInt64, nil},
		{Form, "v=9223372036854775807", math.MaxInt64, nil},
		{Form, "v=9223372036854775808", math.MaxInt64, nil},
		{Form, "v=-9223372036854775807", -math.MaxInt64, nil},
		{Form, "v=-9223372036854775808", math.MinInt64, nil},
		{Form, "v=-9223372036854775809", math.MinInt64, nil},
		{Form, "v=" + strings.Repeat("0", 100) + "42", 42, nil},
		{Form, "v=1.5", 0, ErrInvalid},
		{Form, "v=", 0, ErrEmpty},
		{Form, "v", 0, ErrEmpty},
		{Form, "v=abc", 0, ErrInvalid},
		{Form, "v=12a", 0, ErrInvalid},
		{Form, "v=99999999999999999999999a", 0, ErrInvalid},
		{Form, "v=+7", 0, ErrInvalid}, // '+' is a space
		{Form, "v=-", 0, ErrInvalid},
		{Form, "v=%2B", 0, ErrInvalid},
		{Form, "v=--1", 0, ErrInvalid},
		{Form, "v=1e3", 0, ErrInvalid},
		{Form, "v=%EF%BC%91", 0, ErrInvalid}, // fullwidth digit one
		{Form, "v=%FF", 0, ErrInvalid},

		{JSON, `{"v":3600}`, 3600, nil},
		{JSON, `{"v":"3600"}`, 3600, nil},
		{JSON, `{"v":-5}`, -5, nil},
		{JSON, `{"v":0}`, 0, nil},
		{JSON, `{"v":-0}`, 0, nil},
		{JSON, `{"v":0.0}`, 0, nil},
		{JSON, `{"v":0e99999999999999999999}`, 0, nil},
		{JSON, `{"v":3600.0}`, 3600, nil},
		{JSON, `{"v":3600.000}`, 3600, nil},
		{JSON, `{"v":3.6e3}`, 3600, nil},
		{JSON, `{"v":3.6E+3}`, 3600, nil},
		{JSON, `{"v":360000e-2}`, 3600, nil},
		{JSON, `{"v":1.5e1}`, 15, nil},
		{JSON, `{"v":0.00015e5}`, 15, nil},
		{JSON, `{"v":9223372036854775807}`, math.MaxInt64, nil},
		{JSON, `{"v":9223372036854775808}`, math.MaxInt64, nil},
		{JSON, `{"v":-9223372036854775808}`, math.MinInt64, nil},
		{JSON, `{"v":-9223372036854775809}`, math.MinInt64, nil},
		{JSON, `{"v":9.223372036854775807e18}`, math.MaxInt64, nil},
		{JSON, `{"v":10000000000000000000}`, math.MaxInt64, nil},
		{JSON, `{"v":99999999999999999999999}`, math.MaxInt64, nil},
		{JSON, `{"v":1e30}`, math.MaxInt64, nil},
		{JSON, `{"v":-1e30}`, math.MinInt64, nil},
		{JSON, `{"v":1e99999999999999999999}`, math.MaxInt64, nil},
		{JSON, `{"v":1e18}`, 1e18, nil},
		{JSON, `{"v":1.5}`, 0, ErrInvalid},
		{JSON, `{"v":-0.5}`, 0, ErrInvalid},
		{JSON, `{"v":15e-1}`, 0, ErrInvalid},
		{JSON, `{"v":1e-99999999999999999999}`, 0, ErrInvalid},
		{JSON, `{"v":"99999999999999999999999"}`, math.MaxInt64, nil},
		{JSON, `{"v":"+7"}`, 7, nil},
		{JSON, `{"v":"\u0033600"}`, 3600, nil},
		{JSON, `{"v":""}`, 0, ErrEmpty},
		{JSON, `{"v":null}`, 0, ErrEmpty},
		{JSON, `{"v":"1.5"}`, 0, ErrInvalid},
		{JSON, `{"v":"3600.0"}`, 0, ErrInvalid},
		{JSON, `{"v":"abc"}`, 0, ErrInvalid},
		{JSON, `{"v":" 1"}`, 0, ErrInvalid},
		{JSON, `{"v":"1\n"}`, 0, ErrInvalid},
		{JSON, `{"v":"é"}`, 0, ErrInvalid},
		{JSON, `{"v":"\u00e9"}`, 0, ErrInvalid},
		{JSON, `{"v":"-"}`, 0, ErrInvalid},
		{JSON, `{"v":true}`, 0, ErrInvalid},
		{JSON, `{"v":[1]}`, 0, ErrInvalid},
		{JSON, `{"v":{}}`, 0, ErrInvalid},
	}
	for _, tt := range tests {
		found := false
		err := Each([]byte(tt.body), tt.enc, func(k []byte, v Value) error {
			found = true
			got, err := v.Int()
			if got != tt.want || err != tt.err {
				t.Errorf("%s: Int() = %d, %v; want %d, %v", tt.body, got, err, tt.want, tt.err)
			}
			return nil
		})
		if err != nil || !found {
			t.Errorf("%s: Each: %v, found %v", tt.body, err, found)
		}
	}
	// Malformed number text cannot come from Each; it must still not panic.
	for _, raw := range []string{"", "-", "1e", "1e+", "1x", ".5", "--1"} {
		if _, err := (Value{raw: []byte(raw), kind: Number, enc: JSON}).Int(); err != ErrInvalid {
			t.Errorf("Number %q: err = %v", raw, err)
		}
	}
}

func TestWipe(t *testing.T) {
	b := []byte("secret")
	Wipe(b)
	if !isZero(b) {
		t.Fatal("not zeroed")
	}
	Wipe(nil)
}

// ---- allocations and benchmarks ----

var (
	benchSecret   = strings.Repeat("correct horse battery staple & €/+=\n", 28)[:1024]
	benchFormBody = "passphrase=hunter2&ttl=3600&recipient=&secret=" + formEscape(benchSecret)
	benchJSONBody = `{"passphrase":"hunter2","ttl":3600,"recipient":null,"secret":"` +
		strings.ReplaceAll(strings.ReplaceAll(benchSecret, "\n", `\n`), "/", `\/`) + `"}`
)

// formEscape escapes like url.QueryEscape (kept local to keep the benchmark
// body obvious).
func formEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// parseBench does what a handler does: decode secret and passphrase into
// caller-owned buffers and parse ttl.
func parseBench(body []byte, enc Encoding, secret, pass []byte) (ns, np int, ttl int64, err error) {
	err = Each(body, enc, func(k []byte, v Value) error {
		var err error
		switch string(k) {
		case "secret":
			ns, err = v.DecodeTo(secret)
		case "passphrase":
			np, err = v.DecodeTo(pass)
		case "ttl":
			ttl, err = v.Int()
		}
		return err
	})
	return
}

func TestBenchBodies(t *testing.T) {
	secret, pass := make([]byte, 4096), make([]byte, 64)
	for _, c := range []struct {
		body string
		enc  Encoding
	}{{benchFormBody, Form}, {benchJSONBody, JSON}} {
		ns, np, ttl, err := parseBench([]byte(c.body), c.enc, secret, pass)
		if err != nil || string(secret[:ns]) != benchSecret || string(pass[:np]) != "hunter2" || ttl != 3600 {
			t.Fatalf("enc %d: %v %d %q %d", c.enc, err, ns, pass[:np], ttl)
		}
	}
}

func TestNoAllocs(t *testing.T) {
	secret, pass := make([]byte, 4096), make([]byte, 64)
	for _, c := range []struct {
		body string
		enc  Encoding
	}{{benchFormBody, Form}, {benchJSONBody, JSON}} {
		body := []byte(c.body)
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, _, err := parseBench(body, c.enc, secret, pass); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("enc %d: %v allocs per run", c.enc, allocs)
		}
	}
}

func benchmarkParse(b *testing.B, body string, enc Encoding) {
	buf := []byte(body)
	secret, pass := make([]byte, 4096), make([]byte, 64)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := parseBench(buf, enc, secret, pass); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEachForm(b *testing.B) { benchmarkParse(b, benchFormBody, Form) }
func BenchmarkEachJSON(b *testing.B) { benchmarkParse(b, benchJSONBody, JSON) }

func BenchmarkDecodeFormEnvelope(b *testing.B) {
	raw := []byte("otsz1%3A" + strings.Repeat("a%2B%3D.-*b+c%5Bq9%40z", 60))
	dst := make([]byte, len(raw))
	b.SetBytes(int64(len(raw)))
	b.Run("Scan", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, _, ok := scanForm(raw); !ok {
				b.Fatal("scan")
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := decodeForm(dst, raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// reportCPU reports the process's CPU time per iteration when called
// back: less moved than wall time by other work on a shared machine.
func reportCPU(b *testing.B) func() {
	var r0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
	return func() {
		var r1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		b.ReportMetric(float64(r1.Utime.Nano()+r1.Stime.Nano()-r0.Utime.Nano()-r0.Stime.Nano())/float64(b.N), "cpu-ns/op")
	}
}

// TestVerbatim: a value is verbatim exactly when decoding leaves its
// bytes as they are, and then they are what DecodeTo writes.
func TestVerbatim(t *testing.T) {
	for _, c := range []struct {
		enc  Encoding
		body string
		want bool
	}{
		{JSON, `{"v":"otsz1:abc.-:+=^!/*?&<>()[]{}@%$#"}`, true},
		{JSON, `{"v":"a\nb"}`, false},
		{JSON, `{"v":"a\/b"}`, false},
		{JSON, `{"v":"é"}`, true},
		{JSON, `{"v":12}`, false},
		{JSON, `{"v":null}`, false},
		{Form, `v=abc.-*_`, true},
		{Form, `v=a%3Ab`, false},
		{Form, `v=a+b`, false},
		{Form, "v=\xff", false},
	} {
		var got Value
		if err := Each([]byte(c.body), c.enc, func(k []byte, v Value) error { got = v; return nil }); err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		raw, ok := got.Verbatim()
		if ok != c.want {
			t.Errorf("%s: verbatim %v, want %v", c.body, ok, c.want)
			continue
		}
		if ok {
			dec := make([]byte, got.MaxLen())
			n, err := got.DecodeTo(dec)
			if err != nil || string(dec[:n]) != string(raw) {
				t.Errorf("%s: verbatim %q, decoded %q (%v)", c.body, raw, dec[:n], err)
			}
		}
	}
}

// BenchmarkVerbatim: deciding that a 1 KiB form value (the load's secret)
// needs no decoding, as every plain share does.
func BenchmarkVerbatim(b *testing.B) {
	body := []byte("secret=" + strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_", 16))
	var v Value
	if err := Each(body, Form, func(k []byte, got Value) error { v = got; return nil }); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, ok := v.Verbatim(); !ok {
			b.Fatal("not verbatim")
		}
	}
}

// BenchmarkEachJSONEnvelope: a share as the web UI sends it, an envelope
// (Z85's alphabet, nothing to escape in JSON) and a proof.
func BenchmarkEachJSONEnvelope(b *testing.B) {
	const z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
	body := []byte(`{"secret":"otsz1:` + strings.Repeat(z85, 12)[:1018] + `","passphrase":"zk1.` + strings.Repeat("A", 43) + `","ttl":3600}`)
	b.SetBytes(int64(len(body)))
	defer reportCPU(b)()
	for b.Loop() {
		if err := Each(body, JSON, func(k []byte, v Value) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
