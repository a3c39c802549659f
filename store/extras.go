package store

// Groups (group.go) and requests (request.go) sit beside the records: each
// in a map by the keyed hash of its key, and a min-heap says when each is
// next due, so sweeping costs in proportion to what is due. Heap entries
// are not removed when a group or request changes; an entry whose time no
// longer matches is skipped when it comes up. All of it is guarded by the
// store's mutex.

import "container/heap"

// Derivation labels of the keys of groups and requests.
var (
	labelGroup = [labelSize]byte{'g', 'r', 'o', 'u', 'p', 0, 0, 0}
	labelAsk   = [labelSize]byte{'r', 'e', 'q', 'u', 'e', 's', 't', 0}
	labelInbox = [labelSize]byte{'i', 'n', 'b', 'o', 'x', 0, 0, 0}
)

type extras struct {
	groups  map[id]*group
	asks    map[id]*request // by the request key's index
	inboxes map[id]*request // by the requester key's index
	due     dueHeap
	waits   int // requests waiting for an answer
}

func newExtras() extras {
	return extras{groups: map[id]*group{}, asks: map[id]*request{}, inboxes: map[id]*request{}}
}

// waiting is how many requests wait for an answer.
func (e *extras) waiting() int { return e.waits }

// What a heap entry is due for.
const (
	dueGroup       uint8 = iota // a group is forgotten
	dueAskDeadline              // a request stops waiting for an answer
	dueRequest                  // a request is forgotten
)

type dueEntry struct {
	at   int64
	what uint8
	key  id
}

type dueHeap []dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

func (e *extras) schedule(at int64, what uint8, key id) {
	heap.Push(&e.due, dueEntry{at: at, what: what, key: key})
}

// sweepExtras forgets the groups and requests that are due, and counts
// requests whose time for an answer has passed. It returns how many it
// touched.
func (s *Store) sweepExtras() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sweepExtrasLocked(s.cfg.Now().UnixNano())
}

func (s *Store) sweepExtrasLocked(now int64) int {
	e := &s.extra
	n := 0
	for e.due.Len() > 0 && e.due[0].at <= now {
		d := heap.Pop(&e.due).(dueEntry)
		switch d.what {
		case dueGroup:
			if g := e.groups[d.key]; g != nil && g.forget == d.at {
				delete(e.groups, d.key)
				n++
			}
		case dueAskDeadline:
			if r := e.asks[d.key]; r != nil && r.deadline == d.at && r.state == reqWaiting {
				r.state = reqExpired
				e.waits--
				n++
			}
		case dueRequest:
			if r := e.asks[d.key]; r != nil && r.forget == d.at && r.state != reqAnswering {
				e.forget(r)
				n++
			}
		}
	}
	return n
}

// forget drops a request.
func (e *extras) forget(r *request) {
	if r.state == reqWaiting {
		e.waits--
	}
	delete(e.asks, r.askID)
	delete(e.inboxes, r.inboxID)
	r.wipe()
}

// wipe forgets everything (the store is closing).
func (e *extras) wipe() {
	for _, r := range e.asks {
		r.wipe()
	}
	clear(e.groups)
	clear(e.asks)
	clear(e.inboxes)
	e.due = nil
	e.waits = 0
}
