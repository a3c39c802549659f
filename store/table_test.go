package store

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestClassOf(t *testing.T) {
	prevClass, prevSize := -1, 0
	for n := 1; n <= 256<<10; n++ {
		class, size := classOf(n)
		switch {
		case size < n:
			t.Fatalf("classOf(%d) = class %d of %d bytes: too small", n, class, size)
		case n <= smallMax && size-n >= smallStep:
			t.Fatalf("classOf(%d) wastes %d bytes", n, size-n)
		case n > smallMax && (size-n)*stepsPerX2 > n:
			t.Fatalf("classOf(%d) wastes %d bytes, over an eighth", n, size-n)
		case class < prevClass || class > prevClass+1:
			t.Fatalf("classOf(%d) = class %d after class %d", n, class, prevClass)
		case class == prevClass && size != prevSize:
			t.Fatalf("class %d has sizes %d and %d", class, prevSize, size)
		}
		prevClass, prevSize = class, size
	}
	// A 1 KiB secret's cell: ciphertext, tag and sealed key, and less than
	// a step more.
	if need := 1024 + sealOverhead + sealedKeySize; func() int { _, size := classOf(need); return size }() != 1088 {
		t.Errorf("a 1 KiB secret (%d bytes sealed) does not take a 1088-byte cell", need)
	}
}

func TestCells(t *testing.T) {
	c := newCells()
	const n = 1088
	perChunk := chunkBytes / n
	var held []cell
	for i := range 3 * perChunk {
		x, b := c.alloc(n)
		if len(b) != n || !bytes.Equal(b, make([]byte, n)) {
			t.Fatalf("cell %d: %d bytes, not zeroed", i, len(b))
		}
		for j := range b {
			b[j] = byte(i)
		}
		held = append(held, x)
	}
	if want := int64(3 * perChunk * n); c.held != want {
		t.Fatalf("holding %d bytes for %d cells, want %d", c.held, len(held), want)
	}
	for i, x := range held {
		if b := c.bytes(x, n); b[0] != byte(i) || b[n-1] != byte(i) {
			t.Fatalf("cell %d was overwritten", i)
		}
	}
	// Freeing wipes; freed cells are used again before new chunks.
	first := c.bytes(held[0], n)
	c.free(held[0])
	if !bytes.Equal(first, make([]byte, n)) {
		t.Fatal("a freed cell was not wiped")
	}
	if x, _ := c.alloc(n); x != held[0] {
		t.Errorf("got cell %x, want the freed %x", x, held[0])
	}
	// Emptying every chunk gives all but one back.
	for _, x := range held {
		c.free(x)
	}
	if c.held != int64(perChunk*n) {
		t.Errorf("holding %d bytes with nothing stored, want one chunk", c.held)
	}
	// One cell at a time keeps reusing that chunk.
	for range 10 {
		x, _ := c.alloc(n)
		c.free(x)
	}
	if c.held != int64(perChunk*n) || len(c.chunks)-1-len(c.spare) != 1 {
		t.Errorf("churn: holding %d bytes in %d chunks", c.held, len(c.chunks)-1-len(c.spare))
	}
	// Large cells get a chunk each, given back when freed.
	x1, _ := c.alloc(100 << 10)
	x2, _ := c.alloc(100 << 10)
	c.free(x1)
	c.free(x2)
	if _, size := classOf(100 << 10); c.held != int64(perChunk*n+size) {
		t.Errorf("after large cells: holding %d bytes", c.held)
	}
}

// The queue is a heap: it hands records out in due order, whatever was
// pushed, fixed or removed.
func TestQueueOrder(t *testing.T) {
	tab := newTable()
	q := queue{t: tab}
	rng := rand.New(rand.NewPCG(1, 2))
	live := map[ref]bool{}
	check := func(step int) {
		t.Helper()
		for i, e := range q.heap {
			if qi := tab.get(e.ref).qi; int(qi) != i {
				t.Fatalf("step %d: record %d is at %d but notes %d", step, e.ref, i, qi)
			}
			if p := (i - 1) / queueArity; i > 0 && q.heap[p].due > e.due {
				t.Fatalf("step %d: %d (due %d) is below %d (due %d)", step, i, e.due, p, q.heap[p].due)
			}
		}
	}
	for step := range 2000 {
		check(step)
		switch op := rng.IntN(4); {
		case op <= 1 || len(live) == 0:
			r := tab.alloc()
			tab.get(r).secretDue = rng.Int64N(1000)
			q.push(r)
			live[r] = true
		case op == 2:
			for r := range live {
				tab.get(r).secretDue = rng.Int64N(1000)
				q.fix(int(tab.get(r).qi))
				break
			}
		default:
			for r := range live {
				q.remove(int(tab.get(r).qi))
				delete(live, r)
				tab.release(r)
				break
			}
		}
	}
	var want []int64
	for r := range live {
		want = append(want, tab.get(r).due())
	}
	slices.Sort(want)
	var got []int64
	for q.len() > 0 {
		r, due := q.first()
		if due != tab.get(r).due() {
			t.Fatalf("queue says %d is due at %d, the record %d", r, due, tab.get(r).due())
		}
		got = append(got, due)
		q.remove(0)
	}
	if !slices.Equal(got, want) {
		t.Errorf("queue gave %v, want %v", got, want)
	}
}

// Receipts kept past their secret leave nothing of it behind, and record
// numbers and custids are given back when receipts go.
func TestRecordsAreReused(t *testing.T) {
	s, clock := MustOpenStore(t)
	for round := range 3 {
		for i := range 50 {
			cust := "anon"
			if i%2 == 0 {
				cust = "user" + string(rune('a'+i%5))
			}
			r := MustCreate(t, s, "value", CreateOptions{TTL: time.Minute, CustID: cust})
			if i%3 == 0 {
				if _, err := reveal(s, r.SecretKey, "", alice); err != nil {
					t.Fatal(err)
				}
			}
		}
		clock.Add(2 * time.Minute)
		s.Sweep()
		s.mu.Lock()
		if s.receipts.len() != 0 || s.sealed.held > int64(chunkBytes) || len(s.custIDs.index) != 0 {
			t.Errorf("round %d: %d receipts, %d bytes of cells, %d custids left", round, s.receipts.len(), s.sealed.held, len(s.custIDs.index))
		}
		if s.table.next > 51 {
			t.Errorf("round %d: %d record numbers used for 50 at a time", round, s.table.next-1)
		}
		s.mu.Unlock()
	}
}

// BenchmarkQueue is the queue's share of a busy store's create+reveal:
// with 200,000 records queued, one pushed (created), one moved later
// (revealed: its receipt outlives it) and the first removed (an old
// receipt dropped) per iteration.
func BenchmarkQueue(b *testing.B) {
	tab := newTable()
	q := queue{t: tab}
	rng := rand.New(rand.NewPCG(1, 2))
	now := int64(0)
	for range 200000 {
		r := tab.alloc()
		tab.get(r).secretDue = now + rng.Int64N(1e6)
		q.push(r)
	}
	for b.Loop() {
		now++
		r := tab.alloc()
		tab.get(r).secretDue = now + 1e6
		q.push(r)
		i := rng.IntN(q.len())
		if rec := tab.get(q.heap[i].ref); rec.state == StateNew {
			rec.state, rec.receiptDue = StateReceived, rec.secretDue+1e6
			q.fix(i)
		}
		first, _ := q.first()
		q.remove(0)
		tab.release(first)
	}
}
