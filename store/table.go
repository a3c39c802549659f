package store

// Records live in a table of fixed pages, named by number (ref), and hold
// no pointers: the garbage collector has nothing to trace in them however
// many secrets are stored, and a record costs its own bytes and nothing
// more. Freed numbers are reused. The expiry queue is a heap of numbers
// ordered by when each record is next due, so sweeping costs in proportion
// to what expires, not to what is stored.

// ref names a record; 0 is none.
type ref uint32

type record struct {
	secretID, receiptID   id
	ref                   Ref   // names it in the audit trail
	created, updated      int64 // unix nanoseconds; updated is also when it was received
	secretDue, receiptDue int64
	sealed                cell   // ciphertext, tag, then the sealed secret key; 0 once gone
	size                  uint32 // plaintext bytes
	qi                    int32  // index in the expiry queue
	prev, next            ref    // in the finished list, once not StateNew
	cust                  uint32 // in the store's custIDs
	state                 State
	pass                  bool   // has a passphrase or proof (in the store's passes)
	proof                 bool   // it is a proof
	failed                uint32 // failed passphrase attempts
	lastFailed            int64  // unix nanoseconds of the last
	gen                   bool   // a generated password (CreateOptions.Generated)
	shown                 bool   // its value was shown on its receipt (ShowGenerated)
}

// due is when the record next needs the sweeper.
func (r *record) due() int64 {
	if r.state == StateNew {
		return r.secretDue
	}
	return r.receiptDue
}

const pageBits = 10

type table struct {
	pages [][]record
	free  []ref
	next  ref // first number never used
}

func newTable() *table { return &table{next: 1} }

// get returns record r; the pointer stays valid until r is released.
func (t *table) get(r ref) *record {
	return &t.pages[r>>pageBits][r&(1<<pageBits-1)]
}

// alloc returns the number of a zeroed record.
func (t *table) alloc() ref {
	if n := len(t.free); n > 0 {
		r := t.free[n-1]
		t.free = t.free[:n-1]
		return r
	}
	r := t.next
	t.next++
	if int(r>>pageBits) == len(t.pages) {
		t.pages = append(t.pages, make([]record, 1<<pageBits))
	}
	return r
}

func (t *table) release(r ref) {
	*t.get(r) = record{}
	t.free = append(t.free, r)
}

// queue orders records by when they are next due: a 4-ary min-heap. Each
// entry keeps its record's due time, so ordering reads the heap alone and
// touches a record only to note where it moved. Sifting moves a hole
// rather than swapping, and four children per node halve the depth of a
// binary heap: the records touched per change (cache misses, in a large
// store) are what this costs.
type queue struct {
	t    *table
	heap []queued
}

type queued struct {
	due int64
	ref ref
}

const queueArity = 4

func (q *queue) len() int { return len(q.heap) }

// first returns the record due first and when; the queue must not be
// empty.
func (q *queue) first() (ref, int64) { return q.heap[0].ref, q.heap[0].due }

// set puts e at index i and tells its record.
func (q *queue) set(i int, e queued) {
	q.heap[i] = e
	q.t.get(e.ref).qi = int32(i)
}

func (q *queue) push(r ref) {
	q.heap = append(q.heap, queued{q.t.get(r).due(), r})
	n := len(q.heap) - 1
	if !q.up(n) {
		q.t.get(r).qi = int32(n)
	}
}

// remove takes the record at index i out.
func (q *queue) remove(i int) {
	n := len(q.heap) - 1
	q.t.get(q.heap[i].ref).qi = -1
	if i != n {
		q.set(i, q.heap[n])
	}
	q.heap = q.heap[:n]
	if i != n {
		q.fix(i)
	}
}

// fix restores the order after the record at index i changed its due time.
func (q *queue) fix(i int) {
	q.heap[i].due = q.t.get(q.heap[i].ref).due()
	if !q.down(i) {
		q.up(i)
	}
}

// up moves the entry at j towards the root while it is due before its
// parent, and reports whether it moved.
func (q *queue) up(j int) bool {
	e, j0 := q.heap[j], j
	for j > 0 {
		i := (j - 1) / queueArity
		if q.heap[i].due <= e.due {
			break
		}
		q.set(j, q.heap[i])
		j = i
	}
	if j == j0 {
		return false
	}
	q.set(j, e)
	return true
}

// down moves the entry at i0 towards the leaves while a child is due
// before it, and reports whether it moved.
func (q *queue) down(i0 int) bool {
	e, i, n := q.heap[i0], i0, len(q.heap)
	for {
		c := queueArity*i + 1
		if c >= n {
			break
		}
		m := c
		for k := c + 1; k < min(c+queueArity, n); k++ {
			if q.heap[k].due < q.heap[m].due {
				m = k
			}
		}
		if q.heap[m].due >= e.due {
			break
		}
		q.set(i, q.heap[m])
		i = m
	}
	if i == i0 {
		return false
	}
	q.set(i, e)
	return true
}

// finishedList holds finished records, oldest first.
type finishedList struct {
	t          *table
	head, tail ref
	n          int
}

func (l *finishedList) push(r ref) {
	rec := l.t.get(r)
	rec.prev, rec.next = l.tail, 0
	if l.tail != 0 {
		l.t.get(l.tail).next = r
	} else {
		l.head = r
	}
	l.tail = r
	l.n++
}

func (l *finishedList) remove(r ref) {
	rec := l.t.get(r)
	if rec.prev != 0 {
		l.t.get(rec.prev).next = rec.next
	} else {
		l.head = rec.next
	}
	if rec.next != 0 {
		l.t.get(rec.next).prev = rec.prev
	} else {
		l.tail = rec.prev
	}
	rec.prev, rec.next = 0, 0
	l.n--
}
