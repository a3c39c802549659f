package handler

// Response bodies. API responses carry link keys and, on reveal and generate,
// secret values, so none is handed to fasthttp as a plain []byte (fasthttp
// would copy it into a pooled buffer that is never wiped). Each is a stream
// fasthttp writes straight into the connection's buffered writer
// (BodyWriterTo) and then closes; Close wipes everything the body held and
// releases the locked plaintext slot.

import (
	"encoding/binary"
	"io"
	"sync"
	"unicode/utf8"

	"otslite/store"
)

// body is a response under construction: head, then (optionally) a secret
// value JSON-escaped from locked memory, then tail. With twice set, the
// value is written a second time, after mid (a response that carries it
// under two names).
type body struct {
	head    []byte
	plain   *store.Plain
	mid     []byte
	twice   bool
	tail    []byte
	escapes bool // plain has bytes JSON must escape (set by size)
}

var bodyPool = sync.Pool{New: func() any {
	return &body{head: make([]byte, 0, 1024), tail: make([]byte, 0, 256)}
}}

func newBody() *body { return bodyPool.Get().(*body) }

// size is the exact number of bytes WriteTo writes. It must be called
// before WriteTo.
func (b *body) size() int {
	n := len(b.head) + len(b.tail)
	if b.plain != nil {
		e := escapedLen(b.plain.Bytes())
		b.escapes = e != len(b.plain.Bytes())
		n += e
		if b.twice {
			n += len(b.mid) + e
		}
	}
	return n
}

// SupportsBodyWriteTo tells fasthttp to call WriteTo rather than copy
// through its pooled copy buffer.
func (b *body) SupportsBodyWriteTo() bool { return true }

// Read exists to satisfy io.Reader; fasthttp uses WriteTo.
func (b *body) Read([]byte) (int, error) { return 0, io.ErrNoProgress }

// availableBuffer is implemented by *bufio.Writer.
type availableBuffer interface {
	AvailableBuffer() []byte
}

// WriteTo writes the body to w. The escaped secret is built directly in w's
// free buffer space when w offers it, so it is never staged elsewhere.
func (b *body) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(b.head)
	total := int64(n)
	if err == nil && b.plain != nil {
		var m int64
		m, err = b.writePlain(w)
		total += m
		if err == nil && b.twice {
			n, err = w.Write(b.mid)
			total += int64(n)
			if err == nil {
				m, err = b.writePlain(w)
				total += m
			}
		}
	}
	if err == nil {
		n, err = w.Write(b.tail)
		total += int64(n)
	}
	return total, err
}

// writePlain writes the secret value, JSON-escaped.
func (b *body) writePlain(w io.Writer) (int64, error) {
	var total int64
	src := b.plain.Bytes()
	if !b.escapes {
		// Written as it is: bufio copies it into its buffer, which the
		// connection wipes once sent, or sends a large one straight from
		// locked memory.
		n, err := w.Write(src)
		return int64(n), err
	}
	var n int
	var err error
	ab, direct := w.(availableBuffer)
	for len(src) > 0 {
		var chunk []byte
		own := false
		if direct {
			chunk = ab.AvailableBuffer()
		}
		if cap(chunk) < 64 {
			chunk = b.tail[len(b.tail):cap(b.tail)][:0] // spare room, wiped on Close
			own = true
		}
		var used int
		chunk, used = appendEscapedUpTo(chunk, src, cap(chunk))
		src = src[used:]
		n, err = w.Write(chunk)
		if own {
			// Only our own staging is wiped here: when chunk is w's free
			// space, it now holds bytes still to be flushed.
			clear(chunk)
		}
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// Close wipes the body and returns it to the pool. fasthttp calls it once
// the response is written or dropped.
func (b *body) Close() error {
	clear(b.head[:cap(b.head)])
	clear(b.tail[:cap(b.tail)])
	clear(b.mid[:cap(b.mid)])
	b.head, b.tail, b.mid = b.head[:0], b.tail[:0], b.mid[:0]
	b.twice = false
	b.plain.Release()
	b.plain = nil
	b.escapes = false
	if cap(b.head) <= 64<<10 && cap(b.tail) <= 4<<10 {
		bodyPool.Put(b)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// jsonExtra is how many bytes each byte takes beyond itself inside a JSON
// string: 0 for those that stand for themselves, 1 for the two-character
// escapes, 5 for \u00XX.
var jsonExtra = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = 5
	}
	t[0x7f] = 5
	for _, c := range []byte{'"', '\\', '\n', '\r', '\t'} {
		t[c] = 1
	}
	return t
}()

// escapedLen is the length of s as the inside of a JSON string. Runs of
// 32 bytes are let through at once when none needs an escape, which is
// what most secrets are made of.
func escapedLen(s []byte) int {
	n := len(s)
	for len(s) >= 32 {
		w := s[:32]
		if (escapes(binary.LittleEndian.Uint64(w))|escapes(binary.LittleEndian.Uint64(w[8:]))|
			escapes(binary.LittleEndian.Uint64(w[16:]))|escapes(binary.LittleEndian.Uint64(w[24:])))&highs != 0 {
			for _, c := range w {
				n += int(jsonExtra[c])
			}
		}
		s = s[32:]
	}
	for _, c := range s {
		n += int(jsonExtra[c])
	}
	return n
}

const ones, highs = 0x0101010101010101, 0x8080808080808080

// escapes has the high bit of each byte of w set that is a control
// character, '"', backslash or DEL: the bytes with a nonzero jsonExtra
// (the other bits are left as they fall; callers mask with highs). Each
// test adds to the byte's low seven bits only, so no sum carries into the
// next byte: x+0x60 reaches the high bit when x >= 0x20, x+1 when x is
// 0x7f, and (x^c)+0x7f when x is not c. Bytes with the high bit set
// (UTF-8 beyond ASCII) are never escaped.
func escapes(w uint64) uint64 {
	x := w &^ highs
	printable := (x + 0x60*ones) & ((x ^ '"'*ones) + 0x7f*ones) & ((x ^ '\\'*ones) + 0x7f*ones)
	return ((x + ones) | ^printable) &^ w
}

// appendEscapedUpTo appends JSON-escaped bytes of s to dst while dst stays
// within limit bytes (an escape is appended only if six more bytes fit);
// it returns dst and how many bytes of s it consumed. s is valid UTF-8
// (checked when it was stored), so bytes >= 0x80 pass as they are. Runs of
// bytes that need no escape are copied at once.
func appendEscapedUpTo(dst, s []byte, limit int) ([]byte, int) {
	for i := 0; i < len(s); {
		run := i
		for end := min(len(s), i+limit-len(dst)); run < end && jsonExtra[s[run]] == 0; run++ {
		}
		dst = append(dst, s[i:run]...)
		i = run
		if i == len(s) || jsonExtra[s[i]] == 0 || len(dst)+6 > limit {
			return dst, i
		}
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		default: // c < 0x20 || c == 0x7f
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		i++
	}
	return dst, len(s)
}

// appendString appends s as a quoted JSON string. s is not secret (keys,
// states, URLs, messages); invalid UTF-8 becomes U+FFFD so echoed input can
// never break the document. Runs of ASCII that needs no escape (keys and
// URLs are nothing else) are copied at once.
func appendString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	for len(s) > 0 {
		i := 0
		for i+8 <= len(s) && (escapes(binary.LittleEndian.Uint64(s[i:]))|binary.LittleEndian.Uint64(s[i:]))&highs == 0 {
			i += 8
		}
		for i < len(s) && plainASCII[s[i]] {
			i++
		}
		dst = append(dst, s[:i]...)
		if s = s[i:]; len(s) == 0 {
			break
		}
		if s[0] < utf8.RuneSelf {
			dst, _ = appendEscapedUpTo(dst, s[:1], len(dst)+6)
			s = s[1:]
			continue
		}
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size <= 1 {
			dst = append(dst, "\ufffd"...)
			s = s[max(size, 1):]
			continue
		}
		dst = append(dst, s[:size]...)
		s = s[size:]
	}
	return append(dst, '"')
}

// plainASCII marks the bytes that stand for themselves inside a JSON
// string and are whole characters: ASCII but control characters, DEL, '"'
// and backslash.
var plainASCII = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = jsonExtra[c] == 0
	}
	return t
}()
