package store

import (
	"testing"
	"unsafe"
)

// A mapping of a huge page or more is used from a huge page boundary, all
// of it can be written, and it is given back whole.
func TestMapHuge(t *testing.T) {
	for _, size := range []int{4096, hugePage, 3*hugePage + 5} {
		m, b := mapHuge(size)
		if len(b) != size || cap(b) != size {
			t.Fatalf("%d bytes: got len %d, cap %d", size, len(b), cap(b))
		}
		if at := uintptr(unsafe.Pointer(&b[0])); size >= hugePage && at%hugePage != 0 {
			t.Errorf("%d bytes start at %#x, not on a huge page", size, at)
		}
		for i := range b {
			b[i] = byte(i)
		}
		if err := m.free(); err != nil {
			t.Errorf("%d bytes: free: %v", size, err)
		}
	}
}

// argon2id's memory lies in a mapping of its own, kept between hashes and
// given back by release.
func TestArgonMemoryMapped(t *testing.T) {
	a := argonState{pace: newPacer(nil, nil)}
	out := make([]byte, hashSize)
	p := HashParams{Time: 1, MemoryKiB: 4096, Threads: 1}
	a.idKey(out, []byte("pass"), make([]byte, saltSize), p)
	if a.mapped == nil || len(a.mem) != 4096 {
		t.Fatalf("after a hash: mapping %d bytes, %d blocks", len(a.mapped), len(a.mem))
	}
	first := &a.mem[0]
	a.idKey(out, []byte("pass"), make([]byte, saltSize), p)
	if &a.mem[0] != first {
		t.Error("the memory was mapped again for a second hash of the same size")
	}
	m := a.mapped
	a.release()
	if a.mapped != nil || a.mem != nil {
		t.Error("release kept the memory")
	}
	if err := m.free(); err == nil {
		t.Error("the mapping could be freed again: release did not unmap it")
	}
}
