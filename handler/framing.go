package handler

// The framer follows the framing of HTTP/1.1 requests (RFC 9112) in the
// bytes a connection receives, before fasthttp parses them. It does three
// things fasthttp does not:
//
//   - It withholds a request's header block until the whole block has
//     arrived, so fasthttp parses it in one go, or never. fasthttp parses a
//     partial block into its pooled request on every read, and drops it
//     unwiped when the client goes away mid-block; withheld, the bytes stay
//     in the connection's own buffer, which it wipes.
//   - It refuses what RFC 9112 says a server must not take: lines that end
//     in a bare LF, a bare CR, obsolete line folding, whitespace between a
//     field name and its colon, a Content-Length that is not one number,
//     transfer codings other than chunked, chunk-size lines with anything
//     but hex digits and extensions, and Transfer-Encoding in HTTP/1.0. A
//     request with both Content-Length and Transfer-Encoding is read as
//     chunked, and the connection closes after the answer (§6.1).
//   - It knows whether a request has begun, so a connection that times out
//     or is closed between requests ends quietly, without an answer to a
//     request nobody sent.
//
// The framer only looks: the bytes it lets through are passed on to
// fasthttp unchanged, and fasthttp parses them again.

import "bytes"

// framingError refuses a request; status is the answer's.
type framingError struct {
	status int
	msg    string
}

func (e *framingError) Error() string { return "request framing: " + e.msg }

var (
	errBareLF        = &framingError{400, "a line ends in LF without CR"}
	errBareCR        = &framingError{400, "a CR not followed by LF"}
	errObsFold       = &framingError{400, "obsolete line folding"}
	errFieldName     = &framingError{400, "malformed header field name"}
	errFieldValue    = &framingError{400, "control character in a header field value"}
	errRequestLine   = &framingError{400, "malformed request line"}
	errContentLength = &framingError{400, "malformed or conflicting Content-Length"}
	errTE10          = &framingError{400, "Transfer-Encoding in an HTTP/1.0 request"}
	errCoding        = &framingError{501, "transfer coding other than chunked"}
	errChunkSize     = &framingError{400, "malformed chunk size line"}
	errChunkEnd      = &framingError{400, "chunk data not followed by CRLF"}
	errHeadTooLarge  = &framingError{431, "request header fields too large"}
	errTrailer       = &framingError{431, "trailer section too large"}
)

// Framer states.
const (
	stLead      = iota // between requests; empty lines are let through
	stHead             // in a header block, withheld until it is whole
	stBody             // in a Content-Length body
	stChunkSize        // in a chunk-size line
	stChunkData        // in a chunk's data
	stChunkEnd         // in the CRLF after a chunk's data
	stTrailer          // in the trailer section after the last chunk
)

// Chunk-size line progress.
const (
	csDigits = 1 << iota // hex digits seen
	csSpace              // whitespace after the digits, so an extension must follow
	csExt                // in an extension
	csCR                 // CR seen; LF must follow
)

// maxChunkDigits bounds a chunk size (15 hex digits fit an int64).
const maxChunkDigits = 15

type framer struct {
	maxHead    int // longest header block or trailer section
	st         uint8
	started    bool   // a byte of a request, not an empty line, has arrived
	closeAfter bool   // both Content-Length and Transfer-Encoding were sent
	heads      int    // whole header blocks let through
	headAt     int    // stHead: bytes of the block scanned
	lineAt     int    // stHead: start of the current line, within the block
	remain     uint64 // stBody, stChunkData: bytes left; stChunkSize: the size so far
	line       int    // stChunkSize, stChunkEnd, stTrailer: bytes of the current line
	flags      uint8  // stChunkSize: csDigits...; stTrailer: CR seen
	trailer    int    // stTrailer: bytes of the section so far
}

// scan follows b, the bytes that come next on the connection. It returns
// how many of them, from the start, may go to fasthttp now. A header
// block that is not yet whole stops it: the caller keeps the bytes from
// there on and calls scan again with them, and more after them, when more
// arrive (the block is scanned only once). After an error nothing more is
// let through; scan returns how many bytes before the faulty request may
// still go.
func (f *framer) scan(b []byte) (int, error) {
	i := 0
	for i < len(b) {
		switch f.st {
		case stLead:
			if c := b[i]; c == '\r' || c == '\n' {
				i++
				continue
			}
			f.st, f.started, f.headAt, f.lineAt = stHead, true, 0, 0
			f.closeAfter = false
		case stHead:
			n, done, err := f.head(b[i:])
			if err != nil {
				return i, err
			}
			if !done {
				return i, nil
			}
			i += n
		case stBody, stChunkData:
			k := uint64(len(b) - i)
			if k > f.remain {
				k = f.remain
			}
			i += int(k)
			f.remain -= k
			if f.remain == 0 {
				if f.st == stBody {
					f.st, f.started = stLead, false
				} else {
					f.st, f.line = stChunkEnd, 0
				}
			}
		case stChunkEnd:
			if b[i] != "\r\n"[f.line] {
				return i, errChunkEnd
			}
			i++
			if f.line++; f.line == 2 {
				f.st, f.line, f.flags, f.remain = stChunkSize, 0, 0, 0
			}
		case stChunkSize:
			if err := f.chunkSize(b[i]); err != nil {
				return i, err
			}
			i++
		case stTrailer:
			if err := f.trailerByte(b[i]); err != nil {
				return i, err
			}
			i++
		}
	}
	return i, nil
}

// head scans a header block that starts at b[0] and has been scanned up
// to f.headAt before. When the block is whole it reads its framing and
// returns the block's length.
func (f *framer) head(b []byte) (n int, done bool, err error) {
	for j := f.headAt; j < len(b); j++ {
		switch b[j] {
		case '\n':
			if j == 0 || b[j-1] != '\r' {
				return 0, false, errBareLF
			}
			line := b[f.lineAt : j-1]
			if len(line) == 0 {
				if f.lineAt == 0 {
					return 0, false, errRequestLine
				}
				if err := f.framing(b[:j+1]); err != nil {
					return 0, false, err
				}
				f.heads++
				return j + 1, true, nil
			}
			if f.lineAt > 0 && (line[0] == ' ' || line[0] == '\t') {
				return 0, false, errObsFold
			}
			f.lineAt = j + 1
		default:
			if j > 0 && b[j-1] == '\r' {
				return 0, false, errBareCR
			}
		}
		if j >= f.maxHead {
			return 0, false, errHeadTooLarge
		}
	}
	f.headAt = len(b)
	if f.headAt > f.maxHead {
		return 0, false, errHeadTooLarge
	}
	return 0, false, nil
}

var (
	fieldContentLength    = []byte("content-length")
	fieldTransferEncoding = []byte("transfer-encoding")
	codingChunked         = []byte("chunked")
	http10                = []byte("HTTP/1.0")
)

// framing reads a whole header block (CRLF line ends, checked) and sets
// what follows it: a body of Content-Length bytes, chunks, or nothing.
func (f *framer) framing(block []byte) error {
	rest := block[:len(block)-2] // each line below keeps its CRLF off
	end := bytes.Index(rest, crlf)
	reqLine := rest[:end]
	rest = rest[end+2:]
	if bytes.Count(reqLine, []byte(" ")) != 2 || bytes.ContainsAny(reqLine, "\t\x00") {
		return errRequestLine
	}
	version := reqLine[bytes.LastIndexByte(reqLine, ' ')+1:]
	var length, coding []byte
	hasLength, hasCoding := false, false
	for len(rest) > 0 {
		end := bytes.Index(rest, crlf)
		line := rest[:end]
		rest = rest[end+2:]
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || !isToken(name) {
			return errFieldName
		}
		for _, c := range value {
			if c < 0x20 && c != '\t' || c == 0x7f {
				return errFieldValue
			}
		}
		value = bytes.Trim(value, " \t")
		switch {
		case bytes.EqualFold(name, fieldContentLength):
			if hasLength && !bytes.Equal(value, length) {
				return errContentLength
			}
			length, hasLength = value, true
		case bytes.EqualFold(name, fieldTransferEncoding):
			if hasCoding {
				// A second field adds codings after the first; chunked
				// can only be the one coding this server takes.
				return errCoding
			}
			coding, hasCoding = value, true
		}
	}
	switch {
	case hasCoding:
		if bytes.Equal(version, http10) {
			return errTE10
		}
		if !bytes.EqualFold(coding, codingChunked) {
			return errCoding
		}
		f.closeAfter = hasLength
		f.st, f.remain, f.line, f.flags = stChunkSize, 0, 0, 0
	case hasLength:
		n, ok := parseLength(length)
		if !ok {
			return errContentLength
		}
		f.st, f.remain = stBody, n
		if n == 0 {
			f.st, f.started = stLead, false
		}
	default:
		f.st, f.started = stLead, false
	}
	return nil
}

var crlf = []byte("\r\n")

// parseLength reads a Content-Length: 1*DIGIT, at most 18 of them.
func parseLength(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// isToken reports whether b is an RFC 9110 token.
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return true
}

// chunkSize takes one byte of a chunk-size line:
// 1*HEXDIG *( BWS ";" chunk-ext ) CRLF.
func (f *framer) chunkSize(c byte) error {
	f.line++
	if f.line > f.maxHead {
		return errChunkSize
	}
	switch {
	case f.flags&csCR != 0:
		if c != '\n' {
			return errChunkSize
		}
		if f.remain == 0 {
			f.st, f.flags, f.trailer = stTrailer, 0, 0
			return nil
		}
		f.st = stChunkData
		return nil
	case f.flags&csExt != 0:
		switch {
		case c == '\r':
			f.flags |= csCR
		case c == '\n', c < 0x20 && c != '\t', c == 0x7f:
			return errChunkSize
		}
		return nil
	case c == '\r':
		if f.flags&csDigits == 0 || f.flags&csSpace != 0 {
			return errChunkSize
		}
		f.flags |= csCR
		return nil
	case c == ';':
		if f.flags&csDigits == 0 {
			return errChunkSize
		}
		f.flags |= csExt
		return nil
	case c == ' ' || c == '\t':
		if f.flags&csDigits == 0 {
			return errChunkSize
		}
		f.flags |= csSpace
		return nil
	}
	d := hexValue(c)
	if d < 0 || f.flags&csSpace != 0 || f.line > maxChunkDigits {
		return errChunkSize
	}
	f.flags |= csDigits
	f.remain = f.remain<<4 | uint64(d)
	return nil
}

func hexValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// trailerByte takes one byte of the trailer section: field lines, each
// ending in CRLF, then an empty line. (Its fields are not read.)
func (f *framer) trailerByte(c byte) error {
	f.trailer++
	if f.trailer > f.maxHead {
		return errTrailer
	}
	if f.flags != 0 { // CR seen
		if c != '\n' {
			return errBareCR
		}
		if f.line == 0 {
			f.st, f.started = stLead, false
			return nil
		}
		f.flags, f.line = 0, 0
		return nil
	}
	switch {
	case c == '\r':
		f.flags = 1
		return nil
	case c == '\n':
		return errBareLF
	case f.line == 0 && (c == ' ' || c == '\t'):
		return errObsFold
	}
	f.line++
	return nil
}
