package access

import (
	"crypto/rand"
	"crypto/sha3"
	"errors"
	"io"

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
//
// The process key and the slots share one page of locked memory: the
// store budgets nearly all the memory the process may lock for its arena,
// and leaves a few pages for keys like these.

const (
	slotSize  = 1024 // a decoded credential and a hash input: 2 × 425 bytes at most
	slotCount = 3    // credentials worked on at once; more wait (each takes microseconds)
	lockedLen = keySize + slotCount*slotSize
)

// A hash input (label, process key, credential) fits in half a slot, and
// the key and the slots in one page.
var (
	_ [slotSize/2 - hashInput]struct{}
	_ [4096 - lockedLen]struct{}
)

type scratch struct {
	mem  *memguard.LockedBuffer // [0:keySize] the process key, then the slots
	free chan int
	h    [slotCount]*sha3.SHAKE
}

func newScratch(key []byte) (*scratch, error) {
	s := &scratch{mem: memguard.NewBuffer(lockedLen), free: make(chan int, slotCount)}
	if key != nil {
		if len(key) != keySize {
			s.mem.Destroy()
			return nil, errors.New("a token key must be 32 bytes")
		}
		copy(s.key(), key)
	} else if _, err := io.ReadFull(rand.Reader, s.key()); err != nil {
		s.mem.Destroy()
		return nil, err
	}
	for i := range slotCount {
		s.h[i] = sha3.NewSHAKE256()
		s.free <- i
	}
	return s, nil
}

// key is the process key that tokens are hashed with.
func (s *scratch) key() []byte { return s.mem.Bytes()[:keySize] }

// slot is one scratch area and its hash state; put it back when done.
type slot struct {
	buf []byte
	h   *sha3.SHAKE
	i   int
	s   *scratch
}

func (s *scratch) get() slot {
	i := <-s.free
	at := keySize + i*slotSize
	return slot{buf: s.mem.Bytes()[at : at+slotSize], h: s.h[i], i: i, s: s}
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
