package store

// An index finds a record from one of its ids (secret or receipt), as a
// map[id]ref would, in memory of its own: open addressing with linear
// probing over 8-byte slots, each the id's first four bytes (its tag) and
// the record's number. The rest of the id is read from the record itself
// (key) to confirm a match. The slots are mapped with huge pages where the
// kernel gives them on request (hugeMem): with a million secrets stored,
// look-ups in Go maps spread over tens of MiB of 4 KiB pages, and on a
// virtual machine their TLB misses cost the server 7 to 9% of its
// pairs/s (none with huge pages for the whole process).
//
// Ids are keyed hashes of link and receipt keys (derive), uniform and
// unknown to callers, so their tags place them evenly and nobody can
// choose ids that pile up in one run of slots.

import "encoding/binary"

type slot struct {
	tag uint32
	ref ref // 0: empty
}

type index struct {
	slots []slot // a power of two long, at most half full
	mem   hugeMem
	n     int
	key   func(ref) *id // the id a record is indexed by
}

// minSlots is an empty index's size: 32 KiB.
const minSlots = 4096

func newIndex(key func(ref) *id) *index {
	x := &index{key: key}
	x.mem, x.slots = mapIndex(minSlots)
	return x
}

func tagOf(k *id) uint32 { return binary.LittleEndian.Uint32(k[:4]) }

// get returns the record indexed by k, or 0.
func (x *index) get(k *id) ref {
	tag := tagOf(k)
	mask := uint32(len(x.slots) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		s := x.slots[i]
		if s.ref == 0 {
			return 0
		}
		if s.tag == tag && *x.key(s.ref) == *k {
			return s.ref
		}
	}
}

// put indexes record r by k, which it does not index yet.
func (x *index) put(k *id, r ref) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow()
	}
	x.insert(slot{tagOf(k), r})
	x.n++
}

func (x *index) insert(s slot) {
	mask := uint32(len(x.slots) - 1)
	i := s.tag & mask
	for x.slots[i].ref != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = s
}

// del removes record r, indexed by k, if it is there.
func (x *index) del(k *id, r ref) {
	tag := tagOf(k)
	mask := uint32(len(x.slots) - 1)
	i := tag & mask
	for x.slots[i].ref != r || x.slots[i].tag != tag {
		if x.slots[i].ref == 0 {
			return
		}
		i = (i + 1) & mask
	}
	// Close the gap: a later slot of the run moves back into it unless
	// its home lies cyclically within (i, j].
	for j := (i + 1) & mask; x.slots[j].ref != 0; j = (j + 1) & mask {
		home := x.slots[j].tag & mask
		if (j-home)&mask >= (j-i)&mask {
			x.slots[i] = x.slots[j]
			i = j
		}
	}
	x.slots[i] = slot{}
	x.n--
}

func (x *index) grow() {
	old, oldMem := x.slots, x.mem
	x.mem, x.slots = mapIndex(2 * len(old))
	for _, s := range old {
		if s.ref != 0 {
			x.insert(s)
		}
	}
	oldMem.free() //nolint:errcheck // fails only for a mapping mapHuge did not make (TestMapHuge)
}

// each calls f with every record indexed.
func (x *index) each(f func(ref)) {
	for _, s := range x.slots {
		if s.ref != 0 {
			f(s.ref)
		}
	}
}

func (x *index) len() int { return x.n }

// reset empties the index and gives its mapping back (a closed store's
// indexes take nothing); it grows again from a few slots if used.
func (x *index) reset() {
	x.mem.free() //nolint:errcheck // fails only for a mapping mapHuge did not make (TestMapHuge)
	x.mem, x.slots, x.n = nil, make([]slot, 16), 0
}
