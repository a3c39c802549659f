package store

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The arena is the only place plaintext exists. It is one locked region
// (see mapLocked: guard pages, never dumped, locked page by page as it is
// first touched, wiped on Close and by Purge) mapped once at start,
// carved into fixed-size slots of three classes: scratch (key derivation),
// small and large (secret values). Taking a slot pops a free list under a
// mutex, so the hot path makes no mmap or mlock syscall, and the number of plaintext
// buffers alive at once is bounded by the locked-memory budget. When a class
// is exhausted the request fails with ErrBusy; nothing blocks and memguard
// never runs out of lockable memory mid-flight (which would make it panic
// and purge every secret).

// ErrBusy means no locked memory is free for this request right now.
var ErrBusy = errors.New("server busy: no locked memory free, try again shortly")

const (
	smallSlot  = 4096
	minLarge   = 2
	minSmall   = 16
	minScratch = 32
	maxScratch = 1024
)

// Plain is a slot of locked memory holding plaintext. Release wipes it.
// A slot taken for n bytes hands out only its first n (buf), and Release
// wipes exactly those: nothing else of the slot can have been written
// since its last wipe, so the whole slot stays zero beyond them.
type Plain struct {
	buf   []byte // the part handed out, from the slot's start
	slot  []byte // the whole slot
	n     int
	owner *slab
	inUse atomic.Bool
	after func() // called once on Release (PassphrasePlain's turn)
}

// Buf returns the slot's room for the bytes it was taken for, for
// writing into.
func (p *Plain) Buf() []byte { return p.buf }

// Bytes returns the plaintext written so far (see SetLen); nil for a nil
// Plain, so an absent passphrase reads as empty.
func (p *Plain) Bytes() []byte {
	if p == nil {
		return nil
	}
	return p.buf[:p.n]
}

// SetLen sets how many bytes of Buf hold plaintext.
func (p *Plain) SetLen(n int) { p.n = n }

// Window returns bytes [from, to) of p's slot as a Plain of their own:
// a value that lies, as it is, inside a locked request body. It shares
// p's memory: its Release does nothing, and p's Release wipes it. It is
// valid until p is released.
func (p *Plain) Window(from, to int) *Plain {
	return &Plain{buf: p.buf[from:to:to], n: to - from}
}

// Release wipes the slot and returns it to the arena. It is safe to call on
// nil and more than once.
func (p *Plain) Release() {
	if p == nil || !p.inUse.CompareAndSwap(true, false) {
		return
	}
	clear(p.buf)
	p.n = 0
	after := p.after
	p.after = nil
	p.owner.put(p)
	if after != nil {
		after()
	}
}

// slab is one class of slots. Its free list is a stack, so the slot used
// last (still in cache) is used next.
type slab struct {
	size  int
	mu    sync.Mutex
	free  []*Plain
	slots []Plain
}

func newSlab(mem []byte, size, count int) *slab {
	s := &slab{size: size, free: make([]*Plain, 0, count), slots: make([]Plain, count)}
	for i := range s.slots {
		p := &s.slots[i]
		p.slot = mem[i*size : (i+1)*size : (i+1)*size]
		p.buf = p.slot
		p.owner = s
		s.free = append(s.free, p)
	}
	return s
}

// take returns a free slot, handing out its first n bytes; nil when none
// is free.
func (s *slab) take(n int) *Plain {
	s.mu.Lock()
	last := len(s.free)
	if last == 0 {
		s.mu.Unlock()
		return nil
	}
	p := s.free[last-1]
	s.free = s.free[:last-1]
	s.mu.Unlock()
	p.buf = p.slot[:n:n]
	p.inUse.Store(true)
	return p
}

func (s *slab) put(p *Plain) {
	s.mu.Lock()
	s.free = append(s.free, p)
	s.mu.Unlock()
}

// takeAll empties the free list if every slot is in it.
func (s *slab) takeAll() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) != len(s.slots) {
		return false
	}
	s.free = s.free[:0]
	return true
}

// arena owns the locked region.
type arena struct {
	mem                   *lockedRegion
	scratch, small, large *slab
	file                  *slab // nil without file slots
}

// ArenaLayout says how a locked-memory budget is split into slots.
type ArenaLayout struct {
	Bytes                       int // locked bytes the arena maps
	ScratchSlots                int // scratchSize bytes each
	SmallSlots, SmallSize       int
	LargeSlots, LargeSize       int
	MaxConcurrentLargePlaintext int // same as LargeSlots; named for the startup log
	// File slots hold envelopes larger than a large slot (files), and the
	// request bodies that carry them; mapped beside the others, beyond
	// the budget PlanArena splits (Config.FileSlots).
	FileSlots, FileSize int
}

// PlanArena splits budget bytes of locked memory into slots for secrets of
// up to maxSecret bytes: half for large slots (at least two), the rest for
// small slots and scratch. It fails when budget cannot hold the minimum.
func PlanArena(budget, maxSecret int) (ArenaLayout, error) {
	large := roundPage(max(maxSecret, 1))
	l := ArenaLayout{SmallSize: smallSlot, LargeSize: large}
	if large <= smallSlot {
		// One class is enough: every value fits a small slot.
		l.LargeSize = smallSlot
	}
	need := minLarge*l.LargeSize + minSmall*smallSlot + minScratch*scratchSize
	if budget < need {
		return l, fmt.Errorf("locked memory budget %d bytes is below the %d bytes needed for %d-byte secrets", budget, need, maxSecret)
	}
	l.ScratchSlots = min(maxScratch, max(minScratch, budget/64/scratchSize))
	rest := budget - l.ScratchSlots*scratchSize
	l.LargeSlots = max(minLarge, rest/2/l.LargeSize)
	rest -= l.LargeSlots * l.LargeSize
	l.SmallSlots = rest / smallSlot
	l.Bytes = l.ScratchSlots*scratchSize + l.SmallSlots*smallSlot + l.LargeSlots*l.LargeSize
	l.MaxConcurrentLargePlaintext = l.LargeSlots
	return l, nil
}

func roundPage(n int) int { return (n + 4095) &^ 4095 }

func newArena(l ArenaLayout) (*arena, error) {
	mem, err := newLockedRegion(l.Bytes)
	if err != nil {
		return nil, err
	}
	b := mem.inner
	a := &arena{mem: mem}
	off := 0
	a.scratch = newSlab(b[off:off+l.ScratchSlots*scratchSize], scratchSize, l.ScratchSlots)
	off += l.ScratchSlots * scratchSize
	a.small = newSlab(b[off:off+l.SmallSlots*smallSlot], smallSlot, l.SmallSlots)
	off += l.SmallSlots * smallSlot
	a.large = newSlab(b[off:off+l.LargeSlots*l.LargeSize], l.LargeSize, l.LargeSlots)
	off += l.LargeSlots * l.LargeSize
	if l.FileSlots > 0 {
		a.file = newSlab(b[off:off+l.FileSlots*l.FileSize], l.FileSize, l.FileSlots)
	}
	return a, nil
}

// plain returns a slot that holds at least n bytes, or ErrBusy.
func (a *arena) plain(n int) (*Plain, error) {
	if n < 0 {
		return nil, fmt.Errorf("store: %d-byte plaintext", n)
	}
	if n <= smallSlot {
		if p := a.small.take(n); p != nil {
			return p, nil
		}
	}
	if n > a.large.size {
		if a.file == nil || n > a.file.size {
			return nil, fmt.Errorf("store: %d-byte plaintext exceeds the largest slot", n)
		}
		if p := a.file.take(n); p != nil {
			return p, nil
		}
		return nil, ErrBusy
	}
	if p := a.large.take(n); p != nil {
		return p, nil
	}
	return nil, ErrBusy
}

// largest is the most bytes one slot holds.
func (a *arena) largest() int {
	if a.file != nil {
		return max(a.file.size, a.large.size)
	}
	return a.large.size
}

func (a *arena) scratchSlot() (*Plain, error) {
	if p := a.scratch.take(scratchSize); p != nil {
		return p, nil
	}
	return nil, ErrBusy
}

// drain takes every slot back, waiting at most wait for slots in use. It
// reports whether all came back, after which nobody can touch the memory.
func (a *arena) drain(wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for _, sl := range []*slab{a.scratch, a.small, a.large, a.file} {
		if sl == nil {
			continue
		}
		for !sl.takeAll() {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(time.Millisecond)
		}
	}
	return true
}

func (a *arena) destroy() { a.mem.destroy() }
