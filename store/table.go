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
	pass                  bool // has a passphrase (in the store's passes)
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

// queue orders records by when they are next due. Each entry keeps its
// record's due time, so ordering reads the heap alone and touches a record
// only to note where it moved.
type queue struct {
	t    *table
	heap []queued
}

type queued struct {
	due int64
	ref ref
}

func (q *queue) len() int { return len(q.heap) }

// first returns the record due first and when; the queue must not be
// empty.
func (q *queue) first() (ref, int64) { return q.heap[0].ref, q.heap[0].due }

func (q *queue) less(i, j int) bool { return q.heap[i].due < q.heap[j].due }

func (q *queue) swap(i, j int) {
	q.heap[i], q.heap[j] = q.heap[j], q.heap[i]
	q.t.get(q.heap[i].ref).qi = int32(i)
	q.t.get(q.heap[j].ref).qi = int32(j)
}

func (q *queue) push(r ref) {
	rec := q.t.get(r)
	rec.qi = int32(len(q.heap))
	q.heap = append(q.heap, queued{rec.due(), r})
	q.up(len(q.heap) - 1)
}

// remove takes the record at index i out.
func (q *queue) remove(i int) {
	n := len(q.heap) - 1
	if i != n {
		q.swap(i, n)
	}
	q.t.get(q.heap[n].ref).qi = -1
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

func (q *queue) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !q.less(j, i) {
			break
		}
		q.swap(i, j)
		j = i
	}
}

func (q *queue) down(i0 int) bool {
	i, n := i0, len(q.heap)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if j2 := j + 1; j2 < n && q.less(j2, j) {
			j = j2
		}
		if !q.less(j, i) {
			break
		}
		q.swap(i, j)
		i = j
	}
	return i > i0
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
