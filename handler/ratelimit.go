package handler

import (
	"net/netip"
	"sync"
	"time"
)

// Rate limits: per client address, fixed windows aligned to multiples of the
// window length, a separate count for each kind of request. When the window
// turns over the whole table is dropped, so memory is bounded by the
// addresses seen in one window, and at most maxTracked of those: past that,
// new addresses share one count. IPv6 clients are counted per /64, the block
// one subscriber usually holds.

type kind uint8

const (
	kindCreate kind = iota
	kindReveal
	kindReceipt
	kindBurn
	kindAuth // failed credentials (a limiter of their own)
	kinds
)

const maxTracked = 1 << 20

type limiter struct {
	limit  uint32
	window time.Duration

	mu     sync.Mutex
	epoch  int64 // window number the counts belong to
	counts map[netip.Addr]*[kinds]uint32
	spill  [kinds]uint32 // shared by addresses beyond maxTracked

	shared *sharedCounts // the counts live in Redis (shared.go); nil: here
}

func newLimiter(limit int, window time.Duration) *limiter {
	if limit <= 0 || window <= 0 {
		return nil
	}
	return &limiter{limit: uint32(limit), window: window, counts: make(map[netip.Addr]*[kinds]uint32)}
}

// allow counts one request of kind k from addr at now. When the limit is
// reached it returns false and how long until the window turns over. A nil
// limiter allows everything.
func (l *limiter) allow(addr netip.Addr, k kind, now time.Time) (bool, time.Duration) {
	ok, wait, _ := l.take(addr, k, now, true)
	return ok, wait
}

// take is allow that counts only when count is set (so it can also ask
// whether addr is over its limit), and that reports the first refusal of
// addr for k in a window, so a refusal is logged once, not for every
// request that follows it. A negative wait means the shared store could
// not be asked (see shared.go).
func (l *limiter) take(addr netip.Addr, k kind, now time.Time, count bool) (ok bool, wait time.Duration, first bool) {
	if l == nil {
		return true, 0, false
	}
	if l.shared != nil {
		return l.shared.take(l, addr, k, now, count)
	}
	addr = bucket(addr)
	epoch := now.UnixNano() / int64(l.window)
	l.mu.Lock()
	defer l.mu.Unlock()
	if epoch != l.epoch {
		l.epoch = epoch
		l.counts = make(map[netip.Addr]*[kinds]uint32, len(l.counts)/2)
		l.spill = [kinds]uint32{}
	}
	c := l.counts[addr]
	if c == nil {
		if !count {
			return true, 0, false
		}
		if len(l.counts) < maxTracked {
			c = new([kinds]uint32)
			l.counts[addr] = c
		} else {
			c = &l.spill
		}
	}
	if c[k] >= l.limit {
		// One past the limit marks the refusal as reported.
		first = c[k] == l.limit
		if first {
			c[k]++
		}
		return false, time.Duration((epoch+1)*int64(l.window) - now.UnixNano()), first
	}
	if count {
		c[k]++
	}
	return true, 0, false
}

// bucket maps an address to the unit it is counted under.
func bucket(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}
