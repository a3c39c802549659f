package params

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// seen is one field passed to fn by Each.
type seen struct {
	key string
	v   Value
}

func each(t *testing.T, body []byte, enc Encoding) ([]seen, error) {
	var fields []seen
	err := Each(body, enc, func(k []byte, v Value) error {
		if len(k) > maxKeyLen {
			t.Fatalf("key of %d bytes passed to fn", len(k))
		}
		fields = append(fields, seen{string(k), v})
		return nil
	})
	if err != nil && len(fields) > 0 {
		t.Fatalf("Each failed with %v after calling fn", err)
	}
	return fields, err
}

// checkValue checks the invariants of a Value and returns its decoded text
// (ok false if DecodeTo failed).
func checkValue(t *testing.T, v Value) (string, bool) {
	m := v.MaxLen()
	if m < 0 || m > len(v.raw) {
		t.Fatalf("MaxLen %d for raw length %d", m, len(v.raw))
	}
	dst := bytes.Repeat([]byte{0xaa}, m+4)
	n, err := v.DecodeTo(dst)
	if !bytes.Equal(dst[m:], []byte{0xaa, 0xaa, 0xaa, 0xaa}) {
		t.Fatalf("DecodeTo wrote beyond MaxLen")
	}
	if err != nil {
		if n != 0 || !isZero(dst[:m]) {
			t.Fatalf("DecodeTo error %v: n = %d, dst not zeroed", err, n)
		}
		switch {
		case v.Kind() == Other && err == ErrInvalid:
		case v.Kind() == String && v.enc != JSON && err == ErrInvalidUTF8:
		default:
			t.Fatalf("DecodeTo of kind %d: unexpected error %v", v.Kind(), err)
		}
		return "", false
	}
	if n > m {
		t.Fatalf("decoded %d bytes > MaxLen %d", n, m)
	}
	// Exactly the decoded size is room enough; one byte less is not.
	exact := make([]byte, n)
	if n2, err := v.DecodeTo(exact); err != nil || n2 != n || !bytes.Equal(exact, dst[:n]) {
		t.Fatalf("exact buffer: n = %d, err = %v", n2, err)
	}
	if n > 0 {
		short := bytes.Repeat([]byte{0xaa}, n-1)
		if n2, err := v.DecodeTo(short); n2 != 0 || err != ErrShortBuffer || !isZero(short) {
			t.Fatalf("short buffer: n = %d, err = %v", n2, err)
		}
	}
	if !utf8.Valid(dst[:n]) {
		t.Fatalf("decoded value is not valid UTF-8")
	}
	if v.IsEmpty() != (n == 0 && (v.Kind() == String || v.Kind() == Null)) {
		t.Fatalf("IsEmpty = %v with %d decoded bytes", v.IsEmpty(), n)
	}
	dec := string(dst[:n])
	checkInt(t, v, dec)
	if v.Kind() == String {
		if got, err := v.ToI(); err != nil || got != rubyToI(dec) {
			t.Fatalf("ToI(%q) = %d, %v; want %d", dec, got, err, rubyToI(dec))
		}
	}
	return dec, true
}

// checkInt compares Int with strconv (strings) or math/big (numbers).
func checkInt(t *testing.T, v Value, dec string) {
	got, err := v.Int()
	switch v.Kind() {
	case String:
		if dec == "" {
			if err != ErrEmpty {
				t.Fatalf("Int of empty string: %d, %v", got, err)
			}
			return
		}
		// strconv.ParseInt reports overflow before a later syntax error,
		// so check the syntax first.
		digits := strings.TrimLeft(dec, "+-")
		if len(dec)-len(digits) > 1 || digits == "" || strings.Trim(digits, "0123456789") != "" {
			if err != ErrInvalid {
				t.Fatalf("Int(%q) = %d, %v; want ErrInvalid", dec, got, err)
			}
			return
		}
		want, _ := strconv.ParseInt(dec, 10, 64) // saturates on ErrRange
		if err != nil || got != want {
			t.Fatalf("Int(%q) = %d, %v; want %d", dec, got, err, want)
		}
	case Number:
		// Keep big.Rat cheap: skip huge exponents.
		if i := strings.IndexAny(dec, "eE"); i >= 0 {
			e, perr := strconv.Atoi(dec[i+1:])
			if perr != nil || e > 1000 || e < -1000 {
				return
			}
		}
		r, ok := new(big.Rat).SetString(dec)
		if !ok {
			t.Fatalf("big.Rat cannot parse number %q", dec)
		}
		if !r.IsInt() {
			if err != ErrInvalid {
				t.Fatalf("Int(%s) = %d, %v; want ErrInvalid", dec, got, err)
			}
			return
		}
		want := r.Num()
		switch {
		case want.IsInt64():
		case want.Sign() > 0:
			want = big.NewInt(math.MaxInt64)
		default:
			want = big.NewInt(math.MinInt64)
		}
		if err != nil || got != want.Int64() {
			t.Fatalf("Int(%s) = %d, %v; want %d", dec, got, err, want.Int64())
		}
	case Null:
		if err != ErrEmpty {
			t.Fatalf("Int(null): %v", err)
		}
	default:
		if err != ErrInvalid {
			t.Fatalf("Int of kind %d: %v", v.Kind(), err)
		}
	}
}

func FuzzEachForm(f *testing.F) {
	for _, s := range []string{
		"", "a=1", "secret=abc&ttl=3600&passphrase=x+y%2Bz", "a=%E2%82%AC&a=%e2%82%ac",
		"flag&x=&=v&&", "a=%zz", "a=%4", "a=%", "a;b=1", "a=%FF", "k%20ey=v=w",
		"ttl=99999999999999999999999", "ttl=-5", "ttl=%2B7", long65 + "=1",
		strings.Repeat("%41", 64) + "=1", benchFormBody,
		// Escapes dense (an envelope as the web UI sends it) and sparse,
		// either side of the run escapes.next looks at byte by byte.
		"ttl=3600&secret=otsz1%3A" + strings.Repeat("a%2B%3D.-*b+c%5B", 40) + "&passphrase=zk1.x",
		"a=" + strings.Repeat("x", 15) + "%41" + strings.Repeat("y", 17) + "+" + strings.Repeat("z", 40) + "%4",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, err := each(t, body, Form)
		if err != nil && err != ErrMalformed {
			t.Fatalf("unexpected error %v", err)
		}
		for _, f := range fields {
			checkValue(t, f.v)
		}
		// url.ParseQuery rejects fields holding ';' (plain data here) but
		// parses the others: compare on a body without them.
		if bytes.IndexByte(body, ';') >= 0 {
			var kept [][]byte
			for _, p := range bytes.Split(body, []byte("&")) {
				if bytes.IndexByte(p, ';') < 0 {
					kept = append(kept, p)
				}
			}
			body = bytes.Join(kept, []byte("&"))
			fields, err = each(t, body, Form)
		}
		q, qerr := url.ParseQuery(string(body))
		if (err == nil) != (qerr == nil) {
			t.Fatalf("Each: %v, url.ParseQuery: %v", err, qerr)
		}
		if err != nil {
			return
		}
		got := map[string][]string{}
		for _, f := range fields {
			dec, ok := checkValue(t, f.v)
			if !ok {
				dec = "\xff invalid" // never a valid decoded value
			}
			got[f.key] = append(got[f.key], dec)
		}
		for k := range got {
			if _, ok := q[k]; !ok {
				t.Fatalf("key %q unknown to url.ParseQuery", k)
			}
		}
		for k, want := range q {
			if len(k) > maxKeyLen {
				if _, ok := got[k]; ok {
					t.Fatalf("long key %q not skipped", k)
				}
				continue
			}
			g := got[k]
			if len(g) != len(want) {
				t.Fatalf("key %q: got %q, want %q", k, g, want)
			}
			for i := range want {
				if g[i] == "\xff invalid" {
					if utf8.ValidString(want[i]) {
						t.Fatalf("key %q: DecodeTo failed on valid UTF-8 %q", k, want[i])
					}
				} else if g[i] != want[i] {
					t.Fatalf("key %q: got %q, want %q", k, g[i], want[i])
				}
			}
		}
	})
}

func FuzzEachJSON(f *testing.F) {
	for _, s := range []string{
		"", "{}", " { } ", `{"a":"b"}`, `{"secret":"abc","ttl":3600,"passphrase":null,"x":true,"y":false}`,
		`{"a":"x\ny\u00e9\ud83d\ude00\/\"\\\b\f\r\t"}`, `{"a":"é€😀"}`, `{"s\u0065cret":"x"}`,
		`{"a":{"b":[1,{"c":"}]"}],"d":{}},"e":[]}`, `{"a":1,"a":2}`, `{"n":-1.5e+3,"m":3.6e3,"o":3600.0}`,
		`{"ttl":"3600"}`, `{"ttl":99999999999999999999999}`, `{"ttl":1e400}`,
		`{"a":1}x`, `{"a":1,}`, `{"a":01}`, `{"a":"\ud83d"}`, `{"a":"\ude00\ud83d"}`, "{\"a\":\"\xff\"}",
		"{\"a\":\"\x01\"}", `[]`, `{"a":tru}`, `{"a":[1,]}`, `{"a":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`,
		`{"` + long65 + `":1}`, `{"` + strings.Repeat(`\u0041`, 64) + `":1}`, benchJSONBody,
		// Strings long enough to be scanned eight bytes at a time, with a
		// byte that stops the scan at every place in a word.
		`{"a":"0123456789abcdef0123456789abcdef"}`, "{\"a\":\"0123456789abcdef\x01\"}",
		`{"a":"0123456789abcdefé0123456789"}`, `{"a":"01234567\"89abcdef0123456789"}`, `{"a":"0123456\\"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fields, err := each(t, body, JSON)
		valid := json.Valid(body)
		switch err {
		case nil:
		case ErrMalformed:
			// Valid JSON is rejected only if it is not an object or nests
			// too deeply.
			if valid && isObject(body) && depth(body) <= maxDepth+1 {
				t.Fatalf("Each: %v, encoding/json accepts it", err)
			}
			return
		case ErrInvalidUTF8:
			if !valid {
				t.Fatalf("ErrInvalidUTF8 for malformed JSON")
			}
			return
		default:
			t.Fatalf("unexpected error %v", err)
		}
		if !valid || !isObject(body) {
			t.Fatalf("Each accepts a body that is not a JSON object")
		}
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		var m map[string]any
		if err := d.Decode(&m); err != nil {
			t.Fatalf("encoding/json: %v", err)
		}
		// encoding/json keeps the last of duplicate keys.
		last := map[string]Value{}
		for _, f := range fields {
			last[f.key] = f.v
			checkValue(t, f.v)
		}
		for k, want := range m {
			v, ok := last[k]
			if len(k) > maxKeyLen {
				if ok {
					t.Fatalf("long key %q not skipped", k)
				}
				continue
			}
			if !ok {
				t.Fatalf("key %q missing", k)
			}
			dst := make([]byte, v.MaxLen())
			n, derr := v.DecodeTo(dst)
			got := string(dst[:n])
			switch w := want.(type) {
			case string:
				if v.Kind() != String || derr != nil || got != w {
					t.Fatalf("key %q: kind %d %q %v, want string %q", k, v.Kind(), got, derr, w)
				}
			case json.Number:
				if v.Kind() != Number || got != string(w) {
					t.Fatalf("key %q: kind %d %q, want number %s", k, v.Kind(), got, w)
				}
			case bool:
				if v.Kind() != Bool || got != strconv.FormatBool(w) {
					t.Fatalf("key %q: kind %d %q, want %v", k, v.Kind(), got, w)
				}
			case nil:
				if v.Kind() != Null || n != 0 || derr != nil {
					t.Fatalf("key %q: kind %d, want null", k, v.Kind())
				}
			default: // map or slice
				if v.Kind() != Other || derr != ErrInvalid {
					t.Fatalf("key %q: kind %d, want Other", k, v.Kind())
				}
			}
		}
		for k := range last {
			if _, ok := m[k]; !ok {
				t.Fatalf("key %q unknown to encoding/json", k)
			}
		}
	})
}

// isObject reports whether the JSON text is an object.
func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// depth returns the deepest nesting of valid JSON text.
func depth(b []byte) int {
	d, max := 0, 0
	in, esc := false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case in && c == '\\':
			esc = true
		case c == '"':
			in = !in
		case in:
		case c == '{' || c == '[':
			d++
			if d > max {
				max = d
			}
		case c == '}' || c == ']':
			d--
		}
	}
	return max
}
