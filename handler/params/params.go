// Package params parses the request parameters of the Onetime Secret API:
// application/x-www-form-urlencoded (also used for query strings and when a
// request has no Content-Type), application/json holding an object, and
// multipart/form-data (see EachMultipart).
//
// Request bodies carry secrets, so parsing is split in two steps. Each walks
// the body, validates it, and hands out undecoded Values that point into the
// body. A Value is decoded only on demand, by DecodeTo, straight into a
// destination buffer owned by the caller (for example locked memory). The
// package never copies, allocates or converts to string anything derived from
// a value; only keys, which are short non-secret names, are ever decoded into
// memory owned by the package.
//
// Typical use:
//
//	err := params.Each(body, params.JSON, func(key []byte, v params.Value) error {
//		switch string(key) {
//		case "secret":
//			buf := lockedBuffer(v.MaxLen())
//			n, err := v.DecodeTo(buf)
//			...
//		case "ttl":
//			ttl, err := v.Int()
//			...
//		}
//		return nil
//	})
//	params.Wipe(body)
package params

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"unicode/utf16"
	"unicode/utf8"
)

// Encoding is the encoding of a request body.
type Encoding uint8

const (
	// Form is application/x-www-form-urlencoded. It is also the encoding to
	// use when a request has no Content-Type.
	Form Encoding = iota
	// JSON is application/json holding a flat object.
	JSON
	// Multipart is multipart/form-data; walk it with EachMultipart, which
	// needs the boundary. Its values are the parts' bytes as they are.
	Multipart
)

// Kind is the kind of a value. Form values are always String.
type Kind uint8

const (
	// String is a JSON string or a form value.
	String Kind = iota
	// Number is a JSON number.
	Number
	// Bool is a JSON true or false.
	Bool
	// Null is a JSON null.
	Null
	// Other is a nested JSON object or array. Each skips over it and
	// DecodeTo rejects it with ErrInvalid.
	Other
)

// Errors returned by this package. They never contain bytes of the body.
var (
	// ErrMalformed reports a body that is not well-formed: bad JSON syntax,
	// a JSON body that is not an object (or is empty), trailing data after
	// the object, a raw control character inside a JSON string, nesting
	// deeper than 64 levels, or a malformed form percent escape.
	ErrMalformed = errors.New("malformed request body")
	// ErrInvalidUTF8 reports a body or a decoded value that is not valid
	// UTF-8, including JSON \u escapes that encode a lone surrogate.
	ErrInvalidUTF8 = errors.New("request body is not valid UTF-8")
	// ErrShortBuffer reports a destination buffer shorter than MaxLen.
	ErrShortBuffer = errors.New("destination buffer too small")
	// ErrEmpty reports an empty value (empty string or JSON null) where a
	// non-empty one is required.
	ErrEmpty = errors.New("empty value")
	// ErrInvalid reports a value of the wrong kind or format.
	ErrInvalid = errors.New("invalid value")
)

const (
	// maxKeyLen is the longest decoded key passed to the callback of Each.
	maxKeyLen = 64
	// maxDepth is the deepest nesting of objects and arrays accepted inside
	// a top-level value (it fits the bit stack of skipNested).
	maxDepth = 64
)

// Value is one undecoded value inside the body. It refers to the body; it is
// valid only while the body is (and while the body is not modified).
type Value struct {
	// raw is the undecoded text: for JSON strings the bytes between the
	// quotes, for other JSON values their literal text, for form values the
	// bytes after '='.
	raw  []byte
	kind Kind
	enc  Encoding
}

// Kind returns the kind of the value. Form values are always String.
func (v Value) Kind() Kind { return v.kind }

// MaxLen returns an upper bound of the decoded length of the value in bytes:
// the length of its raw text, which decoding never exceeds (a form escape
// "%XX" yields 1 byte, a JSON escape "\uXXXX" at most 3 and a surrogate pair
// "\uXXXX\uXXXX" 4). It is 0 for Null and Other.
func (v Value) MaxLen() int {
	if v.kind == Null || v.kind == Other {
		return 0
	}
	return len(v.raw)
}

// IsEmpty reports whether the value decodes to zero bytes (an empty string
// or a JSON null).
func (v Value) IsEmpty() bool {
	return v.kind == Null || (v.kind == String && len(v.raw) == 0)
}

// DecodeTo decodes the value into dst and returns the number of bytes
// written. A dst of MaxLen() bytes always suffices; a shorter one works when
// the decoded value fits (form encoding can triple a value on the wire),
// else ErrShortBuffer is returned.
//
// JSON strings have their escapes resolved (including \uXXXX and surrogate
// pairs; a lone surrogate gives ErrInvalidUTF8). Numbers and booleans are
// copied as their literal text, Null decodes to 0 bytes and Other gives
// ErrInvalid. Form values are percent-decoded with '+' meaning a space; a
// result that is not valid UTF-8 gives ErrInvalidUTF8.
//
// On error, DecodeTo returns 0 and zeroes dst[:min(len(dst), MaxLen())], so
// no partially decoded secret is left behind.
func (v Value) DecodeTo(dst []byte) (int, error) {
	m := min(len(dst), v.MaxLen())
	var n int
	var err error
	switch v.kind {
	case Null:
		return 0, nil
	case Other:
		return 0, ErrInvalid
	case Number, Bool:
		if len(dst) < len(v.raw) {
			clear(dst[:m])
			return 0, ErrShortBuffer
		}
		return copy(dst, v.raw), nil
	case String:
		switch v.enc {
		case Form:
			n, err = decodeForm(dst, v.raw)
		case Multipart:
			if len(v.raw) > len(dst) {
				err = ErrShortBuffer
			} else {
				n = copy(dst, v.raw)
			}
		default:
			n, err = decodeJSON(dst, v.raw)
		}
		if err == nil && !utf8.Valid(dst[:n]) {
			err = ErrInvalidUTF8
		}
	default:
		err = ErrInvalid
	}
	if err != nil {
		clear(dst[:m])
		return 0, err
	}
	return n, nil
}

// Verbatim returns the value's bytes as they lie in the body when decoding
// would leave them as they are: a JSON string without escapes, a form
// value without '%' or '+', a multipart value; valid UTF-8 in each case.
// It reports false otherwise (decode with DecodeTo then).
func (v Value) Verbatim() ([]byte, bool) {
	if v.kind != String {
		return nil, false
	}
	switch v.enc {
	case JSON:
		if bytes.IndexByte(v.raw, '\\') >= 0 {
			return nil, false
		}
	case Form:
		// Two single-byte searches: each runs in vector instructions, where
		// IndexAny with a set takes a byte at a time.
		if bytes.IndexByte(v.raw, '%') >= 0 || bytes.IndexByte(v.raw, '+') >= 0 {
			return nil, false
		}
	}
	if !utf8.Valid(v.raw) {
		return nil, false
	}
	return v.raw, true
}

// Int parses the value as an integer.
//
// A JSON number is accepted when its value is integral, whatever its form
// (3600, 3600.0, 3.6e3, -0); a fractional number such as 1.5 gives
// ErrInvalid. A JSON string or a form value must decode to a decimal integer
// with an optional sign ("3600", "-5", "+7") and nothing else, otherwise
// ErrInvalid (in a form, a '+' sign must be sent as "%2B": '+' decodes to a
// space). Results beyond the int64 range saturate to math.MaxInt64 or
// math.MinInt64 without error. An empty string or a JSON null gives ErrEmpty;
// booleans and nested values give ErrInvalid.
//
// Int decodes on the fly and copies nothing.
func (v Value) Int() (int64, error) {
	switch v.kind {
	case Null:
		return 0, ErrEmpty
	case Number:
		return parseNumberInt(v.raw)
	case String:
		if len(v.raw) == 0 {
			return 0, ErrEmpty
		}
		return v.parseDecimal()
	}
	return 0, ErrInvalid
}

// ToI reads the value as Ruby's String#to_i and Float#to_i read it, which is
// how Onetime Secret turns request parameters into numbers: a string gives
// its leading decimal integer (after leading whitespace, an optional sign,
// digits with single underscores between them) and 0 when there is none
// ("abc" and "" are 0, "12abc" is 12, "1e3" is 1); a JSON number is
// truncated toward zero (1.9 is 1, 1e3 is 1000). Results beyond the int64
// range saturate. A JSON null gives ErrEmpty (Onetime Secret reads it as
// absent); booleans and nested values give ErrInvalid.
//
// ToI decodes on the fly and copies nothing.
func (v Value) ToI() (int64, error) {
	switch v.kind {
	case Null:
		return 0, ErrEmpty
	case Number:
		return truncNumber(v.raw), nil
	case String:
		return v.leadingInt(), nil
	}
	return 0, ErrInvalid
}

// leadingInt is Ruby's String#to_i in base 10 over the decoded value.
func (v Value) leadingInt() int64 {
	unit := formUnit
	switch v.enc {
	case JSON:
		unit = jsonUnit
	case Multipart:
		unit = rawUnit
	}
	raw := v.raw
	i := 0
	next := func() (byte, int) {
		if i >= len(raw) {
			return 0, 0
		}
		c, size, ok := unit(raw, i)
		if !ok {
			return 0, 0
		}
		return c, size
	}
	c, size := next()
	for size > 0 && (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') {
		i += size
		c, size = next()
	}
	neg := false
	if size > 0 && (c == '+' || c == '-') {
		neg = c == '-'
		i += size
		c, size = next()
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var u uint64
	sat, digits, under := false, false, false
	for size > 0 {
		switch {
		case '0' <= c && c <= '9':
			if d := uint64(c - '0'); !sat && u <= (limit-d)/10 {
				u = u*10 + d
			} else {
				sat = true
			}
			digits, under = true, false
		case c == '_' && digits && !under:
			under = true
		default:
			size = 0
			continue
		}
		i += size
		c, size = next()
	}
	return signed(u, neg, sat)
}

// truncNumber is a JSON number truncated toward zero, saturating.
func truncNumber(raw []byte) int64 {
	i := 0
	neg := i < len(raw) && raw[i] == '-'
	if neg {
		i++
	}
	intStart := i
	for i < len(raw) && '0' <= raw[i] && raw[i] <= '9' {
		i++
	}
	nInt := i - intStart
	fracStart, fracEnd := i, i
	if i < len(raw) && raw[i] == '.' {
		i++
		fracStart = i
		for i < len(raw) && '0' <= raw[i] && raw[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	var exp int64
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		eneg := false
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			eneg = raw[i] == '-'
			i++
		}
		for i < len(raw) && '0' <= raw[i] && raw[i] <= '9' {
			if exp < 1<<40 {
				exp = exp*10 + int64(raw[i]-'0')
			}
			i++
		}
		if eneg {
			exp = -exp
		}
	}
	nd := int64(nInt + fracEnd - fracStart)
	digit := func(k int64) byte {
		if k >= nd {
			return '0'
		}
		if k < int64(nInt) {
			return raw[intStart+int(k)]
		}
		return raw[fracStart+int(k)-nInt]
	}
	// The integer part is the first nInt+exp digits of the sequence.
	point := int64(nInt) + exp
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var u uint64
	sat := false
	for k := int64(0); k < point && !sat; k++ {
		if k >= nd && u == 0 {
			break // zeros all the way: a huge exponent of 0 is 0
		}
		d := uint64(digit(k) - '0')
		if u <= (limit-d)/10 {
			u = u*10 + d
		} else {
			sat = true
		}
	}
	return signed(u, neg, sat)
}

// Members walks the members of a nested JSON object value (Kind Other) as
// Each walks a body. Any other value gives ErrInvalid.
func (v Value) Members(fn func(key []byte, v Value) error) error {
	if v.kind != Other || v.enc != JSON || len(v.raw) == 0 || v.raw[0] != '{' {
		return ErrInvalid
	}
	return walkJSON(v.raw, fn)
}

// Elements walks the elements of a nested JSON array value (Kind Other), in
// order. Any other value gives ErrInvalid.
func (v Value) Elements(fn func(v Value) error) error {
	if v.kind != Other || v.enc != JSON || len(v.raw) == 0 || v.raw[0] != '[' {
		return ErrInvalid
	}
	// The array was validated when its body was walked.
	s := scanner{b: v.raw, i: 1}
	s.ws()
	if s.peek() == ']' {
		return nil
	}
	for {
		e, err := s.value()
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
		s.ws()
		if s.peek() != ',' {
			return nil
		}
		s.i++
		s.ws()
	}
}

// Wipe zeroes b. Use it to wipe a request body (and any other buffer that
// held a secret) once it is no longer needed.
func Wipe(b []byte) { clear(b) }

// Each walks every top-level field of body, in order, and calls fn(key, v)
// for each.
//
// Each first validates the whole body and calls fn only if the body is
// well-formed, so fn never sees a field of a malformed body. Form values are
// the exception for UTF-8: they are checked by DecodeTo, after
// percent-decoding, so that Each never decodes a value.
//
// For JSON, body must be a single object (surrounded by optional
// whitespace); its values may be strings, numbers, booleans, null, or nested
// objects and arrays (passed as Kind Other). Invalid UTF-8 anywhere inside a
// JSON string, including a \u escape encoding a lone surrogate, gives
// ErrInvalidUTF8; syntax errors give ErrMalformed. An empty JSON body is
// malformed.
//
// For Form, fields are separated by '&' only; empty fields are skipped, a
// field without '=' has an empty value, and a malformed percent escape gives
// ErrMalformed. An empty form body has no fields. An unknown Encoding gives
// ErrMalformed.
//
// Keys arrive decoded. key may point into body (keys without escapes) or
// into a 64-byte scratch buffer owned by Each, allocated once per call and
// only if some key has escapes; fn must not modify key nor keep it after it
// returns. Keys longer than 64 decoded bytes are skipped without error. Form
// keys are not checked for UTF-8 validity.
//
// Duplicate keys are passed to fn each time they appear; the caller decides
// which occurrence wins (typically the first, or the last as encoding/json
// and most form parsers do).
//
// If fn returns an error, Each stops and returns it. fn may be nil, in which
// case Each only validates body.
func Each(body []byte, enc Encoding, fn func(key []byte, v Value) error) error {
	// Direct calls (not through a func variable) keep fn from escaping, so
	// the caller's closure can stay on its stack.
	switch enc {
	case Form:
		if err := walkForm(body, nil); err != nil || fn == nil {
			return err
		}
		return walkForm(body, fn)
	case JSON:
		if err := walkJSON(body, nil); err != nil || fn == nil {
			return err
		}
		return walkJSON(body, fn)
	}
	return ErrMalformed
}

// ---- form ----

// walkForm walks a form body. With fn nil it only validates.
func walkForm(body []byte, fn func([]byte, Value) error) error {
	// Allocated only for keys that need decoding; keys without escapes are
	// passed as sub-slices of body. A stack array would escape through fn.
	var scratch *[maxKeyLen]byte
	for len(body) > 0 {
		pair := body
		body = nil
		if i := bytes.IndexByte(pair, '&'); i >= 0 {
			pair, body = pair[:i], pair[i+1:]
		}
		if len(pair) == 0 {
			continue
		}
		key, val := pair, pair[len(pair):]
		if i := bytes.IndexByte(pair, '='); i >= 0 {
			key, val = pair[:i], pair[i+1:]
		}
		klen, kesc, ok := scanForm(key)
		if !ok {
			return ErrMalformed
		}
		if fn == nil {
			// Validating: the values are checked here, once; the walk
			// that follows (fn != nil) knows them good.
			if _, _, ok := scanForm(val); !ok {
				return ErrMalformed
			}
			continue
		}
		if klen > maxKeyLen {
			continue
		}
		if kesc {
			if scratch == nil {
				scratch = new([maxKeyLen]byte)
			}
			n, err := decodeForm(scratch[:], key)
			if err != nil {
				return err
			}
			key = scratch[:n]
		}
		if err := fn(key, Value{raw: val, kind: String, enc: Form}); err != nil {
			return err
		}
	}
	return nil
}

// scanForm validates the percent escapes of a form key or value. It returns
// the decoded length and whether decoding changes anything. It looks at
// one byte after another while escapes are close together (an envelope as
// the web UI sends it is dense with them), and after a run of runLen
// plain bytes jumps to the next escape with bytes.IndexByte, so a long
// value without escapes costs little.
func scanForm(b []byte) (n int, esc, ok bool) {
	n = len(b)
	pct, plus := -1, -1 // the next '%' and '+' found by a jump; -1: none looked for
	last := 0           // where the current run of plain bytes began
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '%' && c != '+' {
			if i-last >= runLen {
				i = nextEscape(b, i, &pct, &plus) - 1
				last = i + 1
			}
			continue
		}
		esc = true
		if c == '%' {
			if i+2 >= len(b) || hexValue[b[i+1]]|hexValue[b[i+2]] < 0 {
				return 0, false, false
			}
			n -= 2
			i += 2
		}
		last = i + 1
	}
	return n, esc, true
}

// decodeForm percent-decodes raw into dst ('+' is a space), a byte at a
// time while escapes are close together, and copying the rest of a long
// run of plain bytes at once (found as scanForm finds it).
func decodeForm(dst, raw []byte) (int, error) {
	n := 0
	pct, plus := -1, -1
	last := 0 // where the current run of plain bytes began
	for i := 0; i < len(raw); {
		if n >= len(dst) {
			return n, ErrShortBuffer
		}
		c := raw[i]
		if c == '%' {
			if i+2 >= len(raw) {
				return n, ErrMalformed
			}
			hi, lo := hexValue[raw[i+1]], hexValue[raw[i+2]]
			if hi|lo < 0 {
				return n, ErrMalformed
			}
			dst[n] = byte(hi<<4 | lo)
			n++
			i += 3
			last = i
			continue
		}
		if c == '+' {
			c = ' '
			last = i + 1
		} else if i-last >= runLen {
			j := nextEscape(raw, i, &pct, &plus)
			k := copy(dst[n:], raw[i:j])
			if k < j-i {
				return n + k, ErrShortBuffer
			}
			n += k
			i, last = j, j
			continue
		}
		dst[n] = c
		n++
		i++
	}
	return n, nil
}

// runLen is how many plain bytes in a row make scanForm and decodeForm
// jump to the next escape rather than look at each byte.
const runLen = 16

// nextEscape returns the index of the first '%' or '+' in b at or after
// i, or len(b). *pct and *plus remember where it found each (when at or
// after i, still the next), so no byte is searched twice for one.
func nextEscape(b []byte, i int, pct, plus *int) int {
	if *pct < i {
		*pct = indexFrom(b, i, '%')
	}
	if *plus < i {
		*plus = indexFrom(b, i, '+')
	}
	return min(*pct, *plus)
}

// indexFrom returns the index of the first c in b at or after i, or len(b).
func indexFrom(b []byte, i int, c byte) int {
	if j := bytes.IndexByte(b[i:], c); j >= 0 {
		return i + j
	}
	return len(b)
}

// hexValue is each byte's value as a hex digit, -1 for bytes that are not
// one. (Two values ORed are negative when either byte is not a digit.)
var hexValue = func() (t [256]int8) {
	for c := range t {
		t[c] = -1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = int8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = int8(c-'a') + 10
		t[c-'a'+'A'] = int8(c-'a') + 10
	}
	return t
}()

// formUnit decodes the form unit at raw[i:], returning the byte and the raw
// size consumed.
func formUnit(raw []byte, i int) (c byte, size int, ok bool) {
	switch c = raw[i]; c {
	case '+':
		return ' ', 1, true
	case '%':
		if i+2 >= len(raw) || !isHex(raw[i+1]) || !isHex(raw[i+2]) {
			return 0, 0, false
		}
		return unhex(raw[i+1])<<4 | unhex(raw[i+2]), 3, true
	}
	return c, 1, true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unhex returns the value of the hex digit c, which must satisfy isHex.
func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// rawUnit is the unit of a multipart value: one byte as it is.
func rawUnit(raw []byte, i int) (c byte, size int, ok bool) { return raw[i], 1, true }

// ---- JSON ----

// walkJSON walks a JSON body. With fn nil it only validates.
func walkJSON(body []byte, fn func([]byte, Value) error) error {
	s := scanner{b: body}
	// See walkForm.
	var scratch *[maxKeyLen]byte
	s.ws()
	if s.peek() != '{' {
		return ErrMalformed
	}
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
	} else {
		for {
			key, kesc, err := s.str()
			if err != nil {
				return err
			}
			s.ws()
			if s.peek() != ':' {
				return ErrMalformed
			}
			s.i++
			s.ws()
			v, err := s.value()
			if err != nil {
				return err
			}
			if fn != nil {
				skip := false
				if kesc {
					if scratch == nil {
						scratch = new([maxKeyLen]byte)
					}
					n, err := decodeJSON(scratch[:], key)
					switch err {
					case nil:
						key = scratch[:n]
					case ErrShortBuffer:
						skip = true
					default:
						return err
					}
				} else {
					skip = len(key) > maxKeyLen
				}
				if !skip {
					if err := fn(key, v); err != nil {
						return err
					}
				}
			}
			s.ws()
			c := s.peek()
			s.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return ErrMalformed
			}
			s.ws()
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return ErrMalformed
	}
	if s.badUTF8 {
		return ErrInvalidUTF8
	}
	return nil
}

// scanner validates JSON text. Syntax errors are returned at once as
// ErrMalformed; invalid UTF-8 is only recorded in badUTF8, so that a body
// that is both truncated and invalid UTF-8 is reported as malformed.
type scanner struct {
	b       []byte
	i       int
	badUTF8 bool
}

// peek returns the next byte, or 0 at the end of the input (0 is never valid
// outside a string, and is rejected inside one).
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

// ws skips whitespace.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str scans the string starting at s.i and returns its raw content (without
// the quotes) and whether it contains escapes.
func (s *scanner) str() (raw []byte, esc bool, err error) {
	if s.peek() != '"' {
		return nil, false, ErrMalformed
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		s.i = plainWords(s.b, s.i)
		for s.i < len(s.b) && plainASCII[s.b[s.i]] {
			s.i++
		}
		if s.i == len(s.b) {
			break
		}
		switch c := s.b[s.i]; {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, esc, nil
		case c == '\\':
			esc = true
			_, size, err := readEscape(s.b, s.i)
			if err == ErrMalformed {
				return nil, false, err
			}
			if err != nil {
				s.badUTF8 = true
			}
			s.i += size
		case c < 0x20:
			return nil, false, ErrMalformed
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				s.badUTF8 = true
			}
			s.i += size
		}
	}
	return nil, false, ErrMalformed
}

// plainWords returns where the run of plainASCII bytes from b[i] ends, or
// comes within eight bytes of the end of b, looking at eight bytes at a
// time: a long string (an envelope) costs a word test per eight bytes
// rather than a lookup per byte.
func plainWords(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		// Some byte is non-ASCII, below 0x20, a quote or a backslash: the
		// classic "some byte is zero" and "some byte is below n" tests,
		// exact about whether there is one.
		if w&highs|(w-0x20*ones)&^w&highs|(w^'"'*ones-ones)&^(w^'"'*ones)&highs|(w^'\\'*ones-ones)&^(w^'\\'*ones)&highs != 0 {
			break
		}
	}
	return i
}

// plainASCII marks the bytes that stand for themselves inside a JSON string.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// num scans a number.
func (s *scanner) num() error {
	if s.peek() == '-' {
		s.i++
	}
	switch c := s.peek(); {
	case c == '0':
		s.i++
	case '1' <= c && c <= '9':
		s.digits()
	default:
		return ErrMalformed
	}
	if s.peek() == '.' {
		s.i++
		if s.digits() == 0 {
			return ErrMalformed
		}
	}
	if c := s.peek(); c == 'e' || c == 'E' {
		s.i++
		if c := s.peek(); c == '+' || c == '-' {
			s.i++
		}
		if s.digits() == 0 {
			return ErrMalformed
		}
	}
	return nil
}

// digits skips decimal digits and returns how many.
func (s *scanner) digits() int {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i - start
}

// lit scans the literal word.
func (s *scanner) lit(word string) error {
	if len(s.b)-s.i < len(word) {
		return ErrMalformed
	}
	for j := 0; j < len(word); j++ {
		if s.b[s.i+j] != word[j] {
			return ErrMalformed
		}
	}
	s.i += len(word)
	return nil
}

// scalar scans a string, number or literal.
func (s *scanner) scalar() (Value, error) {
	start := s.i
	var kind Kind
	var err error
	switch c := s.peek(); {
	case c == '"':
		raw, _, err := s.str()
		return Value{raw: raw, kind: String, enc: JSON}, err
	case c == '-' || '0' <= c && c <= '9':
		kind, err = Number, s.num()
	case c == 't':
		kind, err = Bool, s.lit("true")
	case c == 'f':
		kind, err = Bool, s.lit("false")
	case c == 'n':
		kind, err = Null, s.lit("null")
	default:
		return Value{}, ErrMalformed
	}
	if err != nil {
		return Value{}, err
	}
	return Value{raw: s.b[start:s.i], kind: kind, enc: JSON}, nil
}

// value scans any value.
func (s *scanner) value() (Value, error) {
	if c := s.peek(); c == '{' || c == '[' {
		start := s.i
		if err := s.skipNested(); err != nil {
			return Value{}, err
		}
		return Value{raw: s.b[start:s.i], kind: Other, enc: JSON}, nil
	}
	return s.scalar()
}

// member scans an object key and the colon after it, and the whitespace
// around them.
func (s *scanner) member() error {
	if _, _, err := s.str(); err != nil {
		return err
	}
	s.ws()
	if s.peek() != ':' {
		return ErrMalformed
	}
	s.i++
	s.ws()
	return nil
}

// skipNested scans the object or array starting at s.i, validating it
// fully. It is iterative: the kind of each open container is kept in a bit
// stack, which bounds nesting at maxDepth.
func (s *scanner) skipNested() error {
	var objs uint64 // bit d set: container at depth d is an object
	depth := 0
	for {
		// Scan one value (or open a container).
		if c := s.peek(); c == '{' || c == '[' {
			if depth == maxDepth {
				return ErrMalformed
			}
			if c == '{' {
				objs |= 1 << depth
			} else {
				objs &^= 1 << depth
			}
			depth++
			s.i++
			s.ws()
			closer := byte(']')
			if c == '{' {
				closer = '}'
			}
			if s.peek() != closer {
				if objs&(1<<(depth-1)) != 0 {
					if err := s.member(); err != nil {
						return err
					}
				}
				continue
			}
			s.i++
			depth--
		} else if _, err := s.scalar(); err != nil {
			return err
		}
		// After a value: close containers until an element follows.
		for {
			if depth == 0 {
				return nil
			}
			s.ws()
			obj := objs&(1<<(depth-1)) != 0
			c := s.peek()
			if c == ',' {
				s.i++
				s.ws()
				if obj {
					if err := s.member(); err != nil {
						return err
					}
				}
				break
			}
			if obj && c == '}' || !obj && c == ']' {
				s.i++
				depth--
				continue
			}
			return ErrMalformed
		}
	}
}

// readEscape reads the escape sequence starting with the backslash at b[i]
// and returns the rune and the number of bytes consumed. A surrogate pair
// "\uXXXX\uXXXX" is read as one rune. A lone surrogate gives ErrInvalidUTF8
// with the size of its escape, so that scanning can go on; syntax errors
// give ErrMalformed.
func readEscape(b []byte, i int) (rune, int, error) {
	if i+1 >= len(b) {
		return 0, 0, ErrMalformed
	}
	switch b[i+1] {
	case '"', '\\', '/':
		return rune(b[i+1]), 2, nil
	case 'b':
		return '\b', 2, nil
	case 'f':
		return '\f', 2, nil
	case 'n':
		return '\n', 2, nil
	case 'r':
		return '\r', 2, nil
	case 't':
		return '\t', 2, nil
	case 'u':
		r, ok := hex4(b, i+2)
		if !ok {
			return 0, 0, ErrMalformed
		}
		if !utf16.IsSurrogate(r) {
			return r, 6, nil
		}
		if r < 0xdc00 && i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
			r2, ok := hex4(b, i+8)
			if !ok {
				return 0, 0, ErrMalformed
			}
			if 0xdc00 <= r2 && r2 <= 0xdfff {
				return utf16.DecodeRune(r, r2), 12, nil
			}
		}
		return utf8.RuneError, 6, ErrInvalidUTF8
	}
	return 0, 0, ErrMalformed
}

// hex4 parses four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		if !isHex(c) {
			return 0, false
		}
		r = r<<4 | rune(unhex(c))
	}
	return r, true
}

// decodeJSON resolves the escapes of the raw string content into dst.
func decodeJSON(dst, raw []byte) (int, error) {
	n := 0
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\\')
		if j < 0 {
			j = len(raw) - i
		}
		if j > 0 {
			if n+j > len(dst) {
				return n, ErrShortBuffer
			}
			n += copy(dst[n:], raw[i:i+j])
			i += j
			continue
		}
		r, size, err := readEscape(raw, i)
		if err != nil {
			return n, err
		}
		i += size
		if n+utf8.RuneLen(r) > len(dst) {
			return n, ErrShortBuffer
		}
		n += utf8.EncodeRune(dst[n:], r)
	}
	return n, nil
}

// jsonUnit decodes the unit at raw[i:] of a JSON string as an ASCII byte;
// ok is false for anything else.
func jsonUnit(raw []byte, i int) (c byte, size int, ok bool) {
	if c = raw[i]; c != '\\' {
		return c, 1, c < utf8.RuneSelf
	}
	r, size, err := readEscape(raw, i)
	if err != nil || r >= utf8.RuneSelf {
		return 0, 0, false
	}
	return byte(r), size, true
}

// ---- integers ----

// parseDecimal parses a String value as a decimal integer with optional
// sign, decoding one unit at a time.
func (v Value) parseDecimal() (int64, error) {
	unit := formUnit
	switch v.enc {
	case JSON:
		unit = jsonUnit
	case Multipart:
		unit = rawUnit
	}
	raw := v.raw
	i := 0
	neg := false
	c, size, ok := unit(raw, 0)
	if !ok {
		return 0, ErrInvalid
	}
	if c == '+' || c == '-' {
		neg = c == '-'
		i += size
		if i == len(raw) {
			return 0, ErrInvalid
		}
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var u uint64
	sat := false
	for i < len(raw) {
		c, size, ok := unit(raw, i)
		if !ok || c < '0' || c > '9' {
			return 0, ErrInvalid
		}
		i += size
		if d := uint64(c - '0'); !sat && u <= (limit-d)/10 {
			u = u*10 + d
		} else {
			sat = true
		}
	}
	return signed(u, neg, sat), nil
}

// parseNumberInt parses a JSON number literal, accepting it only if its
// value is integral.
func parseNumberInt(raw []byte) (int64, error) {
	i := 0
	neg := false
	if i < len(raw) && raw[i] == '-' {
		neg = true
		i++
	}
	intStart := i
	for i < len(raw) && '0' <= raw[i] && raw[i] <= '9' {
		i++
	}
	intEnd := i
	fracStart, fracEnd := i, i
	if i < len(raw) && raw[i] == '.' {
		i++
		fracStart = i
		for i < len(raw) && '0' <= raw[i] && raw[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	var exp int64 // clamped far beyond any body length
	if i < len(raw) && (raw[i] == 'e' || raw[i] == 'E') {
		i++
		eneg := false
		if i < len(raw) && (raw[i] == '+' || raw[i] == '-') {
			eneg = raw[i] == '-'
			i++
		}
		if i == len(raw) {
			return 0, ErrInvalid
		}
		for i < len(raw) && '0' <= raw[i] && raw[i] <= '9' {
			if exp < 1<<40 {
				exp = exp*10 + int64(raw[i]-'0')
			}
			i++
		}
		if eneg {
			exp = -exp
		}
	}
	nInt := intEnd - intStart
	if nInt == 0 || i != len(raw) {
		return 0, ErrInvalid
	}
	// The digits of the int and fraction parts, as one sequence.
	nd := nInt + fracEnd - fracStart
	digit := func(k int) byte {
		if k < nInt {
			return raw[intStart+k]
		}
		return raw[fracStart+k-nInt]
	}
	first, last := -1, -1
	for k := 0; k < nd; k++ {
		if digit(k) != '0' {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 {
		return 0, nil // zero, whatever its form
	}
	// value = digits[first..last] * 10^scale
	scale := int64(nInt) - int64(last+1) + exp
	if scale < 0 {
		return 0, ErrInvalid
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if int64(last-first+1)+scale > 19 { // >= 10^19 > limit
		return signed(0, neg, true), nil
	}
	var u uint64 // at most 19 digits: fits
	for k := first; k <= last; k++ {
		u = u*10 + uint64(digit(k)-'0')
	}
	for ; scale > 0; scale-- {
		u *= 10
	}
	return signed(u, neg, u > limit), nil
}

// signed applies the sign to the magnitude u, saturating if sat.
func signed(u uint64, neg, sat bool) int64 {
	switch {
	case sat && neg:
		return math.MinInt64
	case sat:
		return math.MaxInt64
	case neg:
		return int64(-u) // also right for u == 1<<63
	}
	return int64(u)
}
