package store

import "math/bits"

// cells hold sealed secrets. Each goes into a cell of a chunk: a 64 KiB
// heap block carved into cells of one size class (64-byte steps up to
// 2 KiB, then eight steps per doubling). So a stored secret costs its bytes
// rounded up to the class, with no per-object overhead; the garbage
// collector sees a handful of pointer-free blocks rather than one object
// per secret; and a freed cell (wiped) is reused by the next secret of its
// class instead of becoming garbage. A chunk that empties is given back to
// the heap, unless it is its class's only chunk with room, so a class used
// by one secret at a time keeps its chunk rather than churning it (but
// cells over keepMax, which have a chunk each, are always given back).
//
// cells are not safe for concurrent use; the store's mutex guards it.
// A cell's bytes stay where they are until it is freed, so they may be
// read and written without the mutex by whoever allocated the cell.

// cell names an allocated cell: chunk number << cellBits | index. The zero
// cell is none (chunk numbers start at 1).
type cell uint32

const (
	cellBits   = 10
	chunkBytes = 64 << 10
	smallStep  = 64
	smallMax   = 2048
	stepsPerX2 = 8 // size classes per doubling above smallMax
	keepMax    = 1 << 20
)

type chunk struct {
	mem        []byte // nil once given back
	size       int    // cell size
	class      int
	cells      int32   // cells in mem
	used       int32   // cells allocated
	freed      []int32 // cells freed, to be used again first
	fresh      int32   // cells from here on were never used
	prev, next int32   // in its class's list of chunks with room; 0: none
}

type cells struct {
	chunks []chunk // by number; 0 unused
	spare  []int32 // numbers of chunks given back
	room   []int32 // per class: first chunk with room, 0: none
	held   int64   // bytes of chunks held
}

func newCells() *cells { return &cells{chunks: make([]chunk, 1)} }

// classOf returns the size class of an n-byte cell and its cell size.
func classOf(n int) (class, size int) {
	if n <= smallMax {
		class = (max(n, 1) - 1) / smallStep
		return class, (class + 1) * smallStep
	}
	e := bits.Len(uint(n - 1)) // 2^(e-1) < n <= 2^e
	base := 1 << (e - 1)
	step := base / stepsPerX2
	k := (n - base + step - 1) / step // 1..stepsPerX2
	return smallMax/smallStep + (e-1-bits.Len(smallMax-1))*stepsPerX2 + k - 1, base + k*step
}

// alloc returns a zeroed cell of at least n bytes and its first n bytes.
func (s *cells) alloc(n int) (cell, []byte) {
	class, size := classOf(n)
	for len(s.room) <= class {
		s.room = append(s.room, 0)
	}
	num := s.room[class]
	if num == 0 {
		num = s.newChunk(class, size)
	}
	c := &s.chunks[num]
	var i int32
	if n := len(c.freed); n > 0 {
		i, c.freed = c.freed[n-1], c.freed[:n-1]
	} else {
		i = c.fresh
		c.fresh++
	}
	c.used++
	if c.used == c.cells {
		s.unlink(num)
	}
	off := int(i) * c.size
	return cell(num)<<cellBits | cell(i), c.mem[off : off+n : off+n]
}

// bytes returns the first n bytes of an allocated cell.
func (s *cells) bytes(x cell, n int) []byte {
	c := &s.chunks[x>>cellBits]
	off := int(x&(1<<cellBits-1)) * c.size
	return c.mem[off : off+n : off+n]
}

// free wipes a cell and takes it back.
func (s *cells) free(x cell) {
	num := int32(x >> cellBits)
	c := &s.chunks[num]
	i := int32(x & (1<<cellBits - 1))
	clear(c.mem[int(i)*c.size : int(i+1)*c.size])
	c.freed = append(c.freed, i)
	if c.used == c.cells {
		s.link(num)
	}
	c.used--
	if c.used == 0 && (c.prev != 0 || c.next != 0 || c.size > keepMax) {
		// Another chunk of the class has room, or this one held a single
		// cell too large to keep (an envelope of files): give it back.
		s.unlink(num)
		s.held -= int64(len(c.mem))
		*c = chunk{}
		s.spare = append(s.spare, num)
	}
}

func (s *cells) newChunk(class, size int) int32 {
	n := max(1, min(1<<cellBits, chunkBytes/size))
	var num int32
	if n := len(s.spare); n > 0 {
		num, s.spare = s.spare[n-1], s.spare[:n-1]
	} else {
		num = int32(len(s.chunks))
		s.chunks = append(s.chunks, chunk{})
	}
	s.chunks[num] = chunk{mem: make([]byte, n*size), freed: make([]int32, 0, n), size: size, class: class, cells: int32(n)}
	s.held += int64(n * size)
	s.link(num)
	return num
}

// link puts chunk num at the head of its class's list of chunks with room.
func (s *cells) link(num int32) {
	c := &s.chunks[num]
	head := s.room[c.class]
	c.prev, c.next = 0, head
	if head != 0 {
		s.chunks[head].prev = num
	}
	s.room[c.class] = num
}

// unlink takes chunk num out of its class's list.
func (s *cells) unlink(num int32) {
	c := &s.chunks[num]
	if c.prev != 0 {
		s.chunks[c.prev].next = c.next
	} else {
		s.room[c.class] = c.next
	}
	if c.next != 0 {
		s.chunks[c.next].prev = c.prev
	}
	c.prev, c.next = 0, 0
}
