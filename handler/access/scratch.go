package access

import (
	"crypto/sha3"

	"github.com/awnumar/memguard"

	"otslite/store"
)

// Where credentials are worked on. A presented token is decoded, hashed
// and used only in locked memory and in SHAKE states kept on the heap,
// never in stack buffers: when a goroutine's stack grows, Go copies it
// and frees the old one without wiping it, so a stack buffer cannot be
// relied on to be the only copy. After each use the stack just below the
// caller is overwritten (store.ScrubStack), for what the permutation's own
// frame left there.

const (
	slotSize  = 1024 // a decoded credential and a hash input: 2 × 425 bytes at most
	slotCount = 64   // credentials checked at once; more wait
)

// A hash input (label, process key, credential) fits in half a slot.
var _ [slotSize/2 - hashInput]struct{}

type scratch struct {
	mem  *memguard.LockedBuffer
	free chan int
	h    [slotCount]*sha3.SHAKE
}

func newScratch() *scratch {
	s := &scratch{mem: memguard.NewBuffer(slotSize * slotCount), free: make(chan int, slotCount)}
	for i := range slotCount {
		s.h[i] = sha3.NewSHAKE256()
		s.free <- i
	}
	return s
}

// slot is one scratch area and its hash state; put it back when done.
type slot struct {
	buf []byte
	h   *sha3.SHAKE
	i   int
	s   *scratch
}

func (s *scratch) get() slot {
	i := <-s.free
	return slot{buf: s.mem.Bytes()[i*slotSize : (i+1)*slotSize], h: s.h[i], i: i, s: s}
}

// put wipes the slot, resets its hash and returns it.
func (sl slot) put() {
	clear(sl.buf)
	sl.h.Reset()
	sl.s.free <- sl.i
	store.ScrubStack()
}

// hash writes SHAKE256(in), len(out) bytes, into out. The sponge squeezes
// in place, so its state is never cloned with in still readable in it, and
// it is reset afterwards.
func (sl slot) hash(out, in []byte) {
	sl.h.Reset()
	sl.h.Write(in)
	sl.h.Read(out)
	sl.h.Reset()
}

func (s *scratch) destroy() { s.mem.Destroy() }
