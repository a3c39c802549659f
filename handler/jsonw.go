package handler

import "strconv"

// jw appends a JSON object's members to a buffer the caller owns (a body's
// head or tail), keeping track of the commas. Strings it writes are not
// secret: keys, states, URLs, messages (secret values go through body).
type jw struct {
	b       []byte
	comma   bool // a member (or element) precedes: the next one needs ','
	pending bool // a key was just written: its value follows
}

// key starts a member.
func (w *jw) key(k string) {
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
	w.b = appendString(w.b, v)
}

func (w *jw) strs(k, v string) {
	w.key(k)
	w.b = appendString(w.b, []byte(v))
}

func (w *jw) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jw) bool(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jw) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

// raw writes a member whose value is JSON text already.
func (w *jw) raw(k, v string) {
	w.key(k)
	w.b = append(w.b, v...)
}

// open starts a member that is an object ("" : an object in an array or
// the document itself); close ends it.
func (w *jw) open(k string) {
	if k != "" {
		w.key(k)
	} else if w.comma && !w.pending {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, '{')
	w.comma, w.pending = false, false
}

func (w *jw) close() {
	w.b = append(w.b, '}')
	w.comma, w.pending = true, false
}

// openArray and closeArray bracket a member that is an array of objects.
func (w *jw) openArray(k string) {
	w.key(k)
	w.b = append(w.b, '[')
	w.comma, w.pending = false, false
}

func (w *jw) closeArray() {
	w.b = append(w.b, ']')
	w.comma, w.pending = true, false
}

// joined writes a string member: prefix (escaped), then parts joined by
// '/'. Parts are link keys and path words, which need no escaping; they
// go straight into w, never through another buffer.
func (w *jw) joined(k, prefix string, parts [][]byte) {
	w.key(k)
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
