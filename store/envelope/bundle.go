package envelope

// Bundles: what an envelope holds when it is more than text. The
// plaintext an envelope seals is either UTF-8 text (every link made
// before bundles existed holds text), or a bundle:
//
//	0x00 0x01 || uint32 big-endian header length || header || payload
//
// header is a UTF-8 JSON object:
//
//	{"text": <bytes of text in the payload, 0 when none>,
//	 "files": [{"name": "<file name>", "type": "<MIME type or "">", "size": <bytes>}, ...],
//	 "share": {"k": K, "n": N, "x": X, "id": "<16 random bytes, b64url>"}}
//
// payload is the text, then each file's bytes in order. A share of a
// split secret (see store/shamir) has "share" and neither text nor files:
// its payload is the share's y bytes, all that follows the header.
// "text" and "files" may be left out when zero or empty; members not
// named here are skipped, so a later version may add some.
//
// Plaintext whose first byte is 0x00 is a bundle: text never starts with
// NUL (writers wrap such a text in a bundle). A reader refuses, clearly,
// a bundle of another version, one whose sizes do not add up exactly, a
// header that is not such an object (or names a member twice), and
// file names that are empty, longer than MaxNameLen, not UTF-8, hold '/',
// '\\' or a control character, or are "." or "..". Writers check the
// same before writing.
//
// Memory rules: nothing here copies contents. ParseBundle returns slices
// of the plaintext it is given, decoding escaped names in place in the
// header; PutBundle writes into the caller's buffer.

import (
	"encoding/binary"
	"errors"
	"strconv"
	"unicode/utf8"
)

// Limits of a bundle.
const (
	bundleMagic   = 0x00
	bundleVersion = 0x01
	bundleHead    = 6 // magic, version, header length

	// MaxHeader is the longest header a reader takes.
	MaxHeader = 32 << 10
	// MaxFiles is the most files one bundle carries.
	MaxFiles = 100
	// MaxNameLen is the longest file name, in bytes; MaxTypeLen, type.
	MaxNameLen = 255
	MaxTypeLen = 255
	// MaxShares is the most shares of one split secret.
	MaxShares = 255
	// ShareIDLen is the length of a split secret's id, in bytes.
	ShareIDLen = 16
)

// Errors of bundles.
var (
	ErrBundle        = errors.New("envelope: damaged bundle: its header or sizes do not add up")
	ErrBundleVersion = errors.New("envelope: a bundle of a version this otslite does not know; a newer otslite opens it")
	ErrFileName      = errors.New("envelope: a file name is empty, too long, or holds '/', '\\', a control character, or is . or ..")
)

// File is one file of a bundle. Name and Type are UTF-8 (Type may be
// empty); Data is its contents.
type File struct {
	Name, Type, Data []byte
}

// Share says which share of a split secret a bundle holds.
type Share struct {
	K, N, X int
	ID      [ShareIDLen]byte
}

// Bundle is the contents of a bundle. A share has Share.K > 0 and its y
// bytes in Payload; otherwise Text and Files hold the contents.
type Bundle struct {
	Text    []byte
	Files   []File
	Share   Share
	Payload []byte // a share's y bytes
}

// IsShare reports whether b holds a share of a split secret.
func (b *Bundle) IsShare() bool { return b.Share.K > 0 }

// IsBundle reports whether plain (an envelope's plaintext) is a bundle
// rather than text. It does not check the bundle: ParseBundle does.
func IsBundle(plain []byte) bool { return len(plain) > 0 && plain[0] == bundleMagic }

// ValidName reports whether name may name a file in a bundle.
func ValidName(name []byte) bool {
	if len(name) == 0 || len(name) > MaxNameLen || !utf8.Valid(name) {
		return false
	}
	if string(name) == "." || string(name) == ".." {
		return false
	}
	for _, r := range string(name) {
		if r == '/' || r == '\\' || r < 0x20 || r >= 0x7f && r <= 0x9f {
			return false
		}
	}
	return true
}

// validType reports whether t may be a file's type: printable, without
// control characters.
func validType(t []byte) bool {
	if len(t) > MaxTypeLen || !utf8.Valid(t) {
		return false
	}
	for _, r := range string(t) {
		if r < 0x20 || r >= 0x7f && r <= 0x9f {
			return false
		}
	}
	return true
}

// BundleLen is the length of b written as a bundle.
func BundleLen(b *Bundle) int {
	return bundleHead + headerLen(b) + payloadLen(b)
}

func payloadLen(b *Bundle) int {
	if b.IsShare() {
		return len(b.Payload)
	}
	n := len(b.Text)
	for _, f := range b.Files {
		n += len(f.Data)
	}
	return n
}

// headerLen is the length of b's header as appendHeader writes it.
func headerLen(b *Bundle) int {
	n := len(`{"text":,"files":[]}`) + decimalLen(len(b.Text))
	for i, f := range b.Files {
		if i > 0 {
			n++
		}
		n += len(`{"name":"","type":"","size":}`) + jsonQuotedLen(f.Name) + jsonQuotedLen(f.Type) + decimalLen(len(f.Data))
	}
	if b.IsShare() {
		n += len(shareMember(&b.Share))
	}
	return n
}

func decimalLen(n int) int {
	l := 1
	for ; n >= 10; n /= 10 {
		l++
	}
	return l
}

// PutBundle writes b as a bundle into dst, which must hold BundleLen(b)
// bytes, and returns that part of dst. It refuses what a reader would.
func PutBundle(dst []byte, b *Bundle) ([]byte, error) {
	if err := checkBundle(b); err != nil {
		return nil, err
	}
	hl := headerLen(b)
	total := bundleHead + hl + payloadLen(b)
	if len(dst) < total || hl > MaxHeader {
		return nil, ErrShortBuf
	}
	dst = dst[:total]
	dst[0], dst[1] = bundleMagic, bundleVersion
	binary.BigEndian.PutUint32(dst[2:6], uint32(hl))
	h := appendHeader(dst[bundleHead:bundleHead], b)
	if len(h) != hl || &h[0] != &dst[bundleHead] {
		clear(dst)
		return nil, ErrShortBuf
	}
	at := bundleHead + hl
	if b.IsShare() {
		copy(dst[at:], b.Payload)
		return dst, nil
	}
	at += copy(dst[at:], b.Text)
	for _, f := range b.Files {
		at += copy(dst[at:], f.Data)
	}
	return dst, nil
}

// checkBundle refuses a bundle a reader would refuse.
func checkBundle(b *Bundle) error {
	if b.IsShare() {
		s := b.Share
		if s.K < 2 || s.N < s.K || s.N > MaxShares || s.X < 1 || s.X > MaxShares || len(b.Text) > 0 || len(b.Files) > 0 || len(b.Payload) == 0 {
			return ErrBundle
		}
		return nil
	}
	if len(b.Files) > MaxFiles || !utf8.Valid(b.Text) {
		return ErrBundle
	}
	for _, f := range b.Files {
		if !ValidName(f.Name) {
			return ErrFileName
		}
		if !validType(f.Type) {
			return ErrBundle
		}
	}
	return nil
}

// appendHeader appends b's header.
func appendHeader(dst []byte, b *Bundle) []byte {
	dst = append(dst, `{"text":`...)
	dst = strconv.AppendInt(dst, int64(len(b.Text)), 10)
	dst = append(dst, `,"files":[`...)
	for i, f := range b.Files {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":"`...)
		dst = appendJSONQuoted(dst, f.Name)
		dst = append(dst, `","type":"`...)
		dst = appendJSONQuoted(dst, f.Type)
		dst = append(dst, `","size":`...)
		dst = strconv.AppendInt(dst, int64(len(f.Data)), 10)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if b.IsShare() {
		dst = append(dst, shareMember(&b.Share)...)
	}
	return append(dst, '}')
}

// shareMember is the header's "share" member, with its leading comma.
func shareMember(s *Share) []byte {
	m := []byte(`,"share":{"k":`)
	m = strconv.AppendInt(m, int64(s.K), 10)
	m = append(m, `,"n":`...)
	m = strconv.AppendInt(m, int64(s.N), 10)
	m = append(m, `,"x":`...)
	m = strconv.AppendInt(m, int64(s.X), 10)
	m = append(m, `,"id":"`...)
	m = b64.AppendEncode(m, s.ID[:])
	return append(m, `"}`...)
}

// jsonQuotedLen is the length of s inside a JSON string as
// appendJSONQuoted writes it.
func jsonQuotedLen(s []byte) int {
	n := len(s)
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			n++
		case c < 0x20 || c == 0x7f:
			n += 5
		}
	}
	return n
}

func appendJSONQuoted(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// ParseBundle reads a bundle. The slices it returns point into plain;
// escaped file names are decoded in place, in the header. Files are
// appended to files (pass nil, or room for MaxFiles to spare the heap).
func ParseBundle(plain []byte, files []File) (Bundle, error) {
	var b Bundle
	if !IsBundle(plain) {
		return b, ErrBundle
	}
	if len(plain) >= 2 && plain[1] != bundleVersion {
		return b, ErrBundleVersion
	}
	if len(plain) < bundleHead {
		return b, ErrBundle
	}
	hl := binary.BigEndian.Uint32(plain[2:6])
	if hl > MaxHeader || uint64(hl) > uint64(len(plain)-bundleHead) {
		return b, ErrBundle
	}
	header := plain[bundleHead : bundleHead+int(hl)]
	payload := plain[bundleHead+int(hl):]
	h := headerParser{b: header}
	textLen, err := h.parse(&b, files)
	if err != nil {
		return Bundle{}, err
	}
	if b.IsShare() {
		if textLen != 0 || len(b.Files) > 0 || len(payload) == 0 {
			return Bundle{}, ErrBundle
		}
		b.Payload = payload
		return b, nil
	}
	// The sizes must add up exactly, in int64 (they are each < 2^53).
	total := textLen
	for _, n := range h.sizes {
		total += n
	}
	if total != int64(len(payload)) {
		return Bundle{}, ErrBundle
	}
	at := int(textLen)
	b.Text = payload[:at:at]
	if !utf8.Valid(b.Text) {
		return Bundle{}, ErrBundle
	}
	for i := range b.Files {
		n := int(h.sizes[i])
		b.Files[i].Data = payload[at : at+n : at+n]
		at += n
	}
	return b, nil
}

// headerParser reads a bundle's header: a JSON object, strictly (no
// duplicate members, integers without sign, fraction or exponent).
type headerParser struct {
	b     []byte
	i     int
	sizes []int64 // of the files, in order
}

const maxSkipDepth = 16

var errHeader = ErrBundle

func (p *headerParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *headerParser) eat(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// parse reads the whole header into b; it returns the text's length.
// The files' sizes are in p.sizes.
func (p *headerParser) parse(b *Bundle, files []File) (int64, error) {
	var textLen int64
	var seen [3]bool // text, files, share
	err := p.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "text":
			if seen[0] {
				return errHeader
			}
			seen[0] = true
			textLen, err = p.int()
		case "files":
			if seen[1] {
				return errHeader
			}
			seen[1] = true
			b.Files, err = p.files(files)
		case "share":
			if seen[2] {
				return errHeader
			}
			seen[2] = true
			err = p.share(&b.Share)
		default:
			err = p.skip(0)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	p.ws()
	if p.i != len(p.b) {
		return 0, errHeader
	}
	if seen[2] && b.Share.K == 0 {
		return 0, errHeader
	}
	return textLen, nil
}

// object reads an object, calling member with each key (decoded in
// place) positioned at its value. Keys of more than 64 bytes are refused.
func (p *headerParser) object(member func(key []byte) error) error {
	if !p.eat('{') {
		return errHeader
	}
	if p.eat('}') {
		return nil
	}
	var keys [][]byte
	for {
		p.ws()
		key, err := p.str(64)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if string(k) == string(key) {
				return errHeader
			}
		}
		keys = append(keys, key)
		if !p.eat(':') {
			return errHeader
		}
		p.ws()
		if err := member(key); err != nil {
			return err
		}
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return nil
		}
		return errHeader
	}
}

// str reads a JSON string at p.i, decoding it in place, and returns it.
// It must be valid UTF-8 and at most max bytes once decoded.
func (p *headerParser) str(max int) ([]byte, error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return nil, errHeader
	}
	p.i++
	start, w := p.i, p.i
	for {
		if p.i >= len(p.b) {
			return nil, errHeader
		}
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			s := p.b[start:w:w]
			if len(s) > max || !utf8.Valid(s) {
				return nil, errHeader
			}
			return s, nil
		case c < 0x20:
			return nil, errHeader
		case c != '\\':
			p.b[w] = c
			w++
			p.i++
			continue
		}
		// An escape.
		if p.i+1 >= len(p.b) {
			return nil, errHeader
		}
		e := p.b[p.i+1]
		p.i += 2
		var r rune
		switch e {
		case '"', '\\', '/':
			r = rune(e)
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			var ok bool
			if r, ok = p.hex4(); !ok {
				return nil, errHeader
			}
			if r >= 0xd800 && r < 0xdc00 {
				if p.i+1 >= len(p.b) || p.b[p.i] != '\\' || p.b[p.i+1] != 'u' {
					return nil, errHeader
				}
				p.i += 2
				lo, ok := p.hex4()
				if !ok || lo < 0xdc00 || lo >= 0xe000 {
					return nil, errHeader
				}
				r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
			} else if r >= 0xdc00 && r < 0xe000 {
				return nil, errHeader
			}
		default:
			return nil, errHeader
		}
		// The encoding is never longer than the escape it replaces.
		w += utf8.EncodeRune(p.b[w:p.i], r)
	}
}

func (p *headerParser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	p.i += 4
	return r, true
}

// int reads a non-negative integer below 2^53, digits only.
func (p *headerParser) int() (int64, error) {
	start := p.i
	var v int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		v = v*10 + int64(p.b[p.i]-'0')
		p.i++
		if v >= 1<<53 {
			return 0, errHeader
		}
	}
	n := p.i - start
	if n == 0 || n > 1 && p.b[start] == '0' {
		return 0, errHeader
	}
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case '.', 'e', 'E':
			return 0, errHeader
		}
	}
	return v, nil
}

// files reads the "files" array.
func (p *headerParser) files(files []File) ([]File, error) {
	if !p.eat('[') {
		return nil, errHeader
	}
	files = files[:0]
	if p.eat(']') {
		return files, nil
	}
	for {
		if len(files) == MaxFiles {
			return nil, errHeader
		}
		var f File
		size := int64(-1)
		var gotName, gotType bool
		err := p.object(func(key []byte) error {
			var err error
			switch string(key) {
			case "name":
				if f.Name, err = p.str(MaxNameLen); err == nil && !ValidName(f.Name) {
					err = ErrFileName
				}
				gotName = true
			case "type":
				if f.Type, err = p.str(MaxTypeLen); err == nil && !validType(f.Type) {
					err = errHeader
				}
				gotType = true
			case "size":
				size, err = p.int()
			default:
				err = p.skip(0)
			}
			return err
		})
		if errors.Is(err, ErrFileName) {
			return nil, ErrFileName
		}
		if err != nil || !gotName || size < 0 {
			return nil, errHeader
		}
		if !gotType {
			f.Type = nil
		}
		files = append(files, f)
		p.sizes = append(p.sizes, size)
		if p.eat(',') {
			continue
		}
		if p.eat(']') {
			return files, nil
		}
		return nil, errHeader
	}
}

// share reads the "share" object.
func (p *headerParser) share(s *Share) error {
	var got [4]bool
	err := p.object(func(key []byte) error {
		var err error
		var v int64
		switch string(key) {
		case "k", "n", "x":
			if v, err = p.int(); err == nil && v > MaxShares {
				err = errHeader
			}
			switch key[0] {
			case 'k':
				s.K, got[0] = int(v), true
			case 'n':
				s.N, got[1] = int(v), true
			default:
				s.X, got[2] = int(v), true
			}
		case "id":
			var id []byte
			if id, err = p.str(64); err == nil {
				if len(id) != b64.EncodedLen(ShareIDLen) {
					err = errHeader
				} else if n, derr := b64.Decode(s.ID[:], id); derr != nil || n != ShareIDLen {
					err = errHeader
				}
			}
			got[3] = true
		default:
			err = p.skip(0)
		}
		return err
	})
	if err != nil || !got[0] || !got[1] || !got[2] || !got[3] {
		return errHeader
	}
	if s.K < 2 || s.N < s.K || s.X < 1 {
		return errHeader
	}
	return nil
}

// skip passes over one JSON value of any kind (a member this version
// does not know), at most maxSkipDepth levels deep.
func (p *headerParser) skip(depth int) error {
	if depth > maxSkipDepth {
		return errHeader
	}
	p.ws()
	if p.i >= len(p.b) {
		return errHeader
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, err := p.str(MaxHeader)
		return err
	case c == '{':
		return p.object(func([]byte) error { return p.skip(depth + 1) })
	case c == '[':
		p.i++
		if p.eat(']') {
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if p.eat(',') {
				continue
			}
			if p.eat(']') {
				return nil
			}
			return errHeader
		}
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.b) && (p.b[p.i] == '-' || p.b[p.i] == '+' || p.b[p.i] == '.' || p.b[p.i] == 'e' || p.b[p.i] == 'E' || p.b[p.i] >= '0' && p.b[p.i] <= '9') {
			p.i++
		}
		if _, err := strconv.ParseFloat(string(p.b[start:p.i]), 64); err != nil {
			return errHeader
		}
		return nil
	}
	for _, lit := range []string{"true", "false", "null"} {
		if len(p.b)-p.i >= len(lit) && string(p.b[p.i:p.i+len(lit)]) == lit {
			p.i += len(lit)
			return nil
		}
	}
	return errHeader
}
