package handler

import (
	"bytes"
	"strings"
	"testing"
)

// TestJSONWriterWipesWhatItOutgrows: a response that outgrows its buffer
// (a long receipt, a recent list) moves to a larger one, and the one it
// left, which holds link keys, is zeroed rather than dropped as it is.
func TestJSONWriterWipesWhatItOutgrows(t *testing.T) {
	old := make([]byte, 0, 64)
	w := jw{b: append(old, '{')}
	w.strs("identifier", "linkkey0123456789abcdefghjkmnpq")
	for i := range 40 {
		w.strs("k", strings.Repeat("v", i))
	}
	w.close()
	if cap(w.b) == cap(old) {
		t.Fatal("the writer never outgrew its first buffer; the test shows nothing")
	}
	if bytes.ContainsFunc(old[:cap(old)], func(r rune) bool { return r != 0 }) {
		t.Errorf("the outgrown buffer still holds %q", old[:cap(old)])
	}
	if !bytes.HasPrefix(w.b, []byte(`{"identifier":"linkkey0123456789abcdefghjkmnpq","k":""`)) {
		t.Errorf("what was written moved wrongly: %.60s", w.b)
	}
}
