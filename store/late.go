package store

// Interception alerts. When a secret leaves the store (read, burned or
// expired) its record stays for the receipt's life, and its secret index
// stays with it as a tombstone (Store.gone): the keyed hash of its link
// key, pointing at the record. Opening that link again (the page asking
// whether it waits, or a reveal) finds the tombstone: the attempt is kept
// on the record, with its time and a coarse address (IPv4 /24, IPv6 /48),
// so the sender's receipt can say someone tried the link after it was
// gone. The opener is answered exactly as for an unknown secret: ErrLate
// is ErrNotFound to errors.Is. At most MaxLate attempts are kept per
// record (the last ones), with a count of all; callers rate-limit
// attempts as they do reveals.

import (
	"fmt"
	"net/netip"
	"time"
)

// MaxLate is how many late attempts a record keeps.
const MaxLate = 10

// ErrLate is an attempt on a secret that is gone, now kept on its
// receipt. To errors.Is it is ErrNotFound too: the caller answers it as
// an unknown secret.
var ErrLate = fmt.Errorf("%w (gone; the attempt is kept on its receipt)", ErrNotFound)

// LateKind says how a gone link was tried.
type LateKind uint8

// Kinds of late attempts.
const (
	LatePage   LateKind = iota + 1 // the secret page asked whether it waits
	LateReveal                     // a reveal was asked for
)

func (k LateKind) String() string {
	switch k {
	case LatePage:
		return "page"
	case LateReveal:
		return "reveal"
	}
	return "unknown"
}

// LateAttempt is one attempt on a gone link.
type LateAttempt struct {
	At   time.Time
	Net  netip.Prefix // the caller's address, coarsened; invalid when unknown
	Kind LateKind
}

// lateLog keeps a record's last MaxLate attempts in a ring.
type lateLog struct {
	at    [MaxLate]int64
	net   [MaxLate]netip.Prefix
	kind  [MaxLate]LateKind
	next  int
	total int
}

func (l *lateLog) add(at int64, net netip.Prefix, kind LateKind) {
	l.at[l.next], l.net[l.next], l.kind[l.next] = at, net, kind
	l.next = (l.next + 1) % MaxLate
	l.total++
}

// attempts returns the kept attempts, oldest first.
func (l *lateLog) attempts() []LateAttempt {
	n := min(l.total, MaxLate)
	out := make([]LateAttempt, 0, n)
	for i := range n {
		j := (l.next - n + i + MaxLate) % MaxLate
		out = append(out, LateAttempt{At: time.Unix(0, l.at[j]), Net: l.net[j], Kind: l.kind[j]})
	}
	return out
}

// Coarse is the block an address is shown as: /24 for IPv4, /48 for IPv6.
func Coarse(a netip.Addr) netip.Prefix {
	a = a.Unmap()
	bits := 24
	if a.Is6() {
		bits = 48
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// lateLocked is the answer to a look-up of secret index sid that found
// nothing waiting: ErrLate, with the attempt kept, when sid is a
// tombstone; ErrNotFound otherwise.
func (s *Store) lateLocked(sid id, client netip.Addr, kind LateKind, now int64) error {
	ref := s.gone.get(&sid)
	if ref == 0 {
		return ErrNotFound
	}
	l := s.late[ref]
	if l == nil {
		l = &lateLog{}
		s.late[ref] = l
	}
	l.add(now, Coarse(client), kind)
	return ErrLate
}
