package params

import (
	"bytes"
	"errors"
)

// Multipart bodies (multipart/form-data, RFC 7578), as curl -F sends them.
//
// EachMultipart walks the parts in place, like Each: a field's Value is the
// part's content exactly as it lies in the body (there is no escaping in
// multipart), so a secret is copied once, by DecodeTo, straight into the
// caller's buffer. Nothing here copies, allocates or converts to string a
// part's content; only part names, which are short non-secret keys, may be
// unescaped into a 64-byte scratch buffer.
//
// What is accepted is deliberately narrow, and everything else is an error
// rather than a silent guess:
//   - lines end in CRLF; the first boundary may open the body or follow a
//     preamble; the close delimiter must end the body or its line;
//   - part headers are "Name: value" lines (no folding); a part must have
//     Content-Disposition: form-data;
//   - a part with a filename (a file upload) gives ErrFile;
//   - a Content-Transfer-Encoding other than 7bit, 8bit or binary gives
//     ErrMalformed (nothing is decoded here).

// ErrFile reports a file part in a multipart body.
var ErrFile = errors.New("file uploads are not accepted")

// maxBoundary is RFC 2046's longest boundary.
const maxBoundary = 70

// Boundary returns the boundary parameter of a multipart/form-data
// Content-Type value (the media type itself is the caller's to check).
func Boundary(contentType []byte) ([]byte, bool) {
	_, params, _ := bytes.Cut(contentType, []byte(";"))
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		name, value, ok := bytes.Cut(bytes.TrimSpace(p), []byte("="))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(name), []byte("boundary")) {
			continue
		}
		value = bytes.TrimSpace(value)
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		if len(value) == 0 || len(value) > maxBoundary || bytes.ContainsAny(value, "\r\n\"") {
			return nil, false
		}
		return value, true
	}
	return nil, false
}

// EachMultipart walks the fields of a multipart/form-data body with the given
// boundary, in order, and calls fn for each, as Each does: the whole body is
// validated first, so fn never sees a field of a malformed body (or of a body
// holding a file part); names longer than 64 bytes are skipped, as are parts
// without a name. Values are of Kind String.
func EachMultipart(body, boundary []byte, fn func(key []byte, v Value) error) error {
	if err := walkMultipart(body, boundary, nil); err != nil || fn == nil {
		return err
	}
	return walkMultipart(body, boundary, fn)
}

// walkMultipart walks a multipart body. With fn nil it only validates.
func walkMultipart(body, boundary []byte, fn func([]byte, Value) error) error {
	if len(boundary) == 0 || len(boundary) > maxBoundary || bytes.ContainsAny(boundary, "\r\n") {
		return ErrMalformed // (Boundary never gives such a boundary)
	}
	var delimBuf [4 + maxBoundary]byte
	delim := append(append(delimBuf[:0], "\r\n--"...), boundary...)
	dash := delim[2:] // "--boundary", a delimiter at the start of the body
	var scratch *[maxKeyLen]byte

	var i int
	if bytes.HasPrefix(body, dash) {
		i = len(dash)
	} else if j := bytes.Index(body, delim); j >= 0 {
		i = j + len(delim)
	} else {
		return ErrMalformed
	}
	for {
		// After a delimiter: "--" closes the body; otherwise transport
		// padding and a line break open a part.
		closing := bytes.HasPrefix(body[i:], []byte("--"))
		if closing {
			i += 2
		}
		for i < len(body) && (body[i] == ' ' || body[i] == '\t') {
			i++
		}
		if closing {
			if i == len(body) || bytes.HasPrefix(body[i:], []byte("\r\n")) {
				return nil // the epilogue, if any, is ignored
			}
			return ErrMalformed
		}
		if !bytes.HasPrefix(body[i:], []byte("\r\n")) {
			return ErrMalformed
		}
		i += 2
		h, n, err := partHeaders(body[i:])
		if err != nil {
			return err
		}
		i += n
		// The content runs to the next delimiter; one right at its start
		// means empty content.
		var content []byte
		if bytes.HasPrefix(body[i:], dash) {
			content = body[i:i]
			i += len(dash)
		} else if j := bytes.Index(body[i:], delim); j >= 0 {
			content = body[i : i+j]
			i += j + len(delim)
		} else {
			return ErrMalformed
		}
		if h.file {
			return ErrFile
		}
		if fn == nil || h.name == nil || unquotedLen(h.name) > maxKeyLen {
			continue
		}
		key := h.name
		if h.nameEsc {
			if scratch == nil {
				scratch = new([maxKeyLen]byte)
			}
			key = scratch[:unquote(scratch[:], h.name)]
		}
		if err := fn(key, Value{raw: content, kind: String, enc: Multipart}); err != nil {
			return err
		}
	}
}

// partHead is what a part's headers say.
type partHead struct {
	name    []byte // raw, still quoted-string escaped if nameEsc; nil: none
	nameEsc bool
	file    bool
}

// partHeaders reads header lines up to the empty line and returns what they
// say and how many bytes they took, the empty line included.
func partHeaders(b []byte) (h partHead, n int, err error) {
	disposition := false
	for {
		end := bytes.Index(b[n:], []byte("\r\n"))
		if end < 0 {
			return h, 0, ErrMalformed
		}
		line := b[n : n+end]
		n += end + 2
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, 0, ErrMalformed
		}
		name, value := line[:colon], bytes.Trim(line[colon+1:], " \t")
		for _, c := range name {
			if !isFieldNameChar(c) {
				return h, 0, ErrMalformed
			}
		}
		for _, c := range value {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return h, 0, ErrMalformed
			}
		}
		switch {
		case bytes.EqualFold(name, []byte("Content-Disposition")):
			if disposition {
				return h, 0, ErrMalformed
			}
			disposition = true
			if h, err = parseDisposition(value); err != nil {
				return h, 0, err
			}
		case bytes.EqualFold(name, []byte("Content-Transfer-Encoding")):
			if !bytes.EqualFold(value, []byte("7bit")) && !bytes.EqualFold(value, []byte("8bit")) && !bytes.EqualFold(value, []byte("binary")) {
				return h, 0, ErrMalformed
			}
		}
	}
	if !disposition {
		return h, 0, ErrMalformed
	}
	return h, n, nil
}

// parseDisposition reads `form-data; name="x"` and the like.
func parseDisposition(v []byte) (h partHead, err error) {
	typ, rest, _ := bytes.Cut(v, []byte(";"))
	if !bytes.EqualFold(bytes.TrimSpace(typ), []byte("form-data")) {
		return h, ErrMalformed
	}
	hasName := false
	var seen [8][]byte // parameter names so far: a repeated one is an error
	nseen := 0
	for {
		rest = bytes.TrimLeft(rest, " \t")
		if len(rest) == 0 {
			break
		}
		// Parameter: token "=" (token | quoted-string).
		k := 0
		for k < len(rest) && isTokenChar(rest[k]) {
			k++
		}
		pname := rest[:k]
		rest = bytes.TrimLeft(rest[k:], " \t")
		if len(pname) == 0 || len(rest) == 0 || rest[0] != '=' {
			return h, ErrMalformed
		}
		rest = bytes.TrimLeft(rest[1:], " \t")
		var val []byte
		esc := false
		if len(rest) > 0 && rest[0] == '"' {
			j := 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				switch c := rest[j]; {
				case c == '\\' && j+1 < len(rest) && isTSpecial(rest[j+1]):
					esc = true
					j++
				case c == '\r' || c == '\n':
					return h, ErrMalformed
				}
			}
			if j == len(rest) {
				return h, ErrMalformed
			}
			val, rest = rest[1:j], rest[j+1:]
		} else {
			j := 0
			for j < len(rest) && isTokenChar(rest[j]) {
				j++
			}
			if j == 0 {
				return h, ErrMalformed
			}
			val, rest = rest[:j], rest[j:]
		}
		for _, p := range seen[:nseen] {
			if bytes.EqualFold(p, pname) {
				return h, ErrMalformed
			}
		}
		if nseen == len(seen) {
			return h, ErrMalformed
		}
		seen[nseen] = pname
		nseen++
		switch {
		case len(pname) > 5 && bytes.EqualFold(pname[:5], []byte("name*")):
			// RFC 2231 forms of the name are not read here.
			return h, ErrMalformed
		case bytes.EqualFold(pname, []byte("name")):
			if hasName {
				return h, ErrMalformed
			}
			hasName = true
			h.name, h.nameEsc = val, esc
		case len(pname) >= 8 && bytes.EqualFold(pname[:8], []byte("filename")):
			h.file = true // filename, filename*, filename*0, ...
		}
		rest = bytes.TrimLeft(rest, " \t")
		if len(rest) == 0 {
			break
		}
		if rest[0] != ';' {
			return h, ErrMalformed
		}
		rest = rest[1:]
	}
	return h, nil
}

// unquote resolves the backslash escapes of a quoted-string's content into
// dst, which is at least as long, and returns the length written.
func unquote(dst, q []byte) int {
	n := 0
	for j := 0; j < len(q); j++ {
		if q[j] == '\\' && j+1 < len(q) && isTSpecial(q[j+1]) {
			j++
		}
		dst[n] = q[j]
		n++
	}
	return n
}

// unquotedLen is the length unquote gives.
func unquotedLen(q []byte) int {
	n := 0
	for j := 0; j < len(q); j++ {
		if q[j] == '\\' && j+1 < len(q) && isTSpecial(q[j+1]) {
			j++
		}
		n++
	}
	return n
}

func isTSpecial(c byte) bool { return bytes.IndexByte([]byte(`()<>@,;:\"/[]?=`), c) >= 0 }

// isTokenChar reports whether c may appear in a MIME token.
func isTokenChar(c byte) bool { return c > 0x20 && c < 0x7f && !isTSpecial(c) }

// isFieldNameChar reports whether c may appear in a header field name: a
// MIME token less the braces, which RFC 9110 counts among the delimiters
// (and mime/multipart refuses).
func isFieldNameChar(c byte) bool { return isTokenChar(c) && c != '{' && c != '}' }
