package handler

import "strconv"

// jw appends a JSON object's members to a buffer the caller owns (a body's
// head or tail), keeping track of the commas. Strings it writes are not
// secret, but some are link keys: before each write it makes room for it
// (grow), so that append never moves the buffer and drops the old one
// unwiped. (Secret values go through body.)
type jw struct {
	b       []byte
	comma   bool // a member (or element) precedes: the next one needs ','
	pending bool // a key was just written: its value follows
}

// grow makes room for n more bytes: a larger buffer, the old one wiped.
func (w *jw) grow(n int) {
	if cap(w.b)-len(w.b) >= n {
		return
	}
	bigger := make([]byte, len(w.b), max(2*cap(w.b), len(w.b)+n))
	copy(bigger, w.b)
	clear(w.b[:cap(w.b)])
	w.b = bigger
}

// Room a write needs at most: appendString writes a byte as up to six.
const (
	roomKey    = 64 // a member's name, its quotes, colon and comma; names are short
	roomNumber = 24
)

func roomString(n int) int { return 6*n + 2 }

// with returns the buffer with c appended, in the room grow makes.
func (w *jw) with(c byte) []byte {
	w.grow(1)
	return append(w.b, c)
}

// key starts a member.
func (w *jw) key(k string) {
	w.grow(len(k) + roomKey)
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
	w.comma, w.pending = true, true
}

func (w *jw) str(k string, v []byte) {
	w.key(k)
	w.grow(roomString(len(v)))
	w.b = appendString(w.b, v)
}

func (w *jw) strs(k, v string) {
	w.key(k)
	w.grow(roomString(len(v)))
	w.b = appendString(w.b, []byte(v))
}

func (w *jw) int(k string, v int64) {
	w.key(k)
	w.grow(roomNumber)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jw) bool(k string, v bool) {
	w.key(k)
	w.grow(roomNumber)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jw) null(k string) {
	w.key(k)
	w.grow(roomNumber)
	w.b = append(w.b, "null"...)
}

// raw writes a member whose value is JSON text already.
func (w *jw) raw(k, v string) {
	w.key(k)
	w.grow(len(v))
	w.b = append(w.b, v...)
}

// open starts a member that is an object ("" : an object in an array or
// the document itself); close ends it.
func (w *jw) open(k string) {
	if k != "" {
		w.key(k)
	} else if w.comma && !w.pending {
		w.grow(1)
		w.b = append(w.b, ',')
	}
	w.grow(1)
	w.b = append(w.b, '{')
	w.comma, w.pending = false, false
}

func (w *jw) close() {
	w.grow(1)
	w.b = append(w.b, '}')
	w.comma, w.pending = true, false
}

// openArray and closeArray bracket a member that is an array of objects.
func (w *jw) openArray(k string) {
	w.key(k)
	w.grow(1)
	w.b = append(w.b, '[')
	w.comma, w.pending = false, false
}

func (w *jw) closeArray() {
	w.grow(1)
	w.b = append(w.b, ']')
	w.comma, w.pending = true, false
}

// joined writes a string member: prefix (escaped), then parts joined by
// '/'. Parts are link keys and path words, which need no escaping; they
// go straight into w, never through another buffer.
func (w *jw) joined(k, prefix string, parts [][]byte) {
	w.key(k)
	n := roomString(len(prefix)) + len(parts)
	for _, p := range parts {
		n += len(p)
	}
	w.grow(n)
	w.b = appendString(w.b, []byte(prefix))
	w.b = w.b[:len(w.b)-1] // reopen the string
	for i, p := range parts {
		if i > 0 {
			w.b = append(w.b, '/')
		}
		w.b = append(w.b, p...)
	}
	w.b = append(w.b, '"')
}
