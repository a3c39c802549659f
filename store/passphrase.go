package store

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"
)

// Passphrase rules (the v1 contract): a wrong or missing passphrase never
// destroys a secret. After lockoutPerIP failures from one client (an IPv4
// address, or an IPv6 /64: the block one subscriber holds), or
// lockoutTotal in all, within lockoutWindow, further attempts on that
// secret are refused for lockoutFor, or until the session ends if that is
// sooner. A correct passphrase resets the counters. Proofs (proof.go)
// follow the same rules once the caller has shown it holds the link.
const (
	lockoutPerIP  = 5
	lockoutTotal  = 20
	lockoutWindow = 10 * time.Minute
	lockoutFor    = 30 * time.Minute
	saltSize      = 16
	hashSize      = 32
)

// HashParams are argon2id's cost parameters.
type HashParams struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultHashParams bound one hash to 19 MiB and two passes.
var DefaultHashParams = HashParams{MemoryKiB: 19 << 10, Time: 2, Threads: 1}

// ErrPassphrase means the passphrase given does not match.
var ErrPassphrase = errors.New("incorrect passphrase")

// ErrHashBusy means a passphrase check waited as long as it may (HashWait)
// for an argon2id worker, or found too many checks waiting already. Only
// requests with a human passphrase get it.
var ErrHashBusy = errors.New("too many passphrase checks at once, try again shortly")

// LockoutError means passphrase attempts on a secret are refused until Until.
type LockoutError struct{ Until time.Time }

func (e *LockoutError) Error() string {
	return fmt.Sprintf("too many passphrase attempts; try again after %s", e.Until.UTC().Format(time.RFC3339))
}

// hasher runs argon2id (argon2.go) with a bounded number of hashes at
// once, so passphrase traffic cannot take more than workers × MemoryKiB of
// memory. While the store serves requests without a passphrase (counted in
// plain) and hashes hold every processor, each worker paces its hashes
// to about ten a second (pacer: between a quarter and a twelfth of a
// processor), so those requests are served between their blocks.
//
// Requests queue for it at the door (admit, through PassphrasePlain),
// before they hold any locked memory: as many are let in as there are
// workers, at most queue more wait, and none waits longer than wait. So a
// flood of passphrase requests waits without taking the locked slots
// every other request needs, and is refused (ErrHashBusy) past its bound.
type hasher struct {
	params  HashParams
	slots   chan struct{}
	states  chan *argonState // one per slot; their memory is kept while busy
	active  atomic.Int32     // hashes running or waiting for a slot
	running atomic.Int32     // hashes holding a slot
	wait    time.Duration
	arena   *arena

	door    chan struct{} // requests let in, one per worker
	queue   int32         // how many may wait at the door
	waiting atomic.Int32  // waiting at the door now
}

func newHasher(p HashParams, workers int, wait time.Duration, queue int, a *arena, plain *atomic.Uint64) *hasher {
	workers = max(1, workers)
	h := &hasher{
		params: p, slots: make(chan struct{}, workers), states: make(chan *argonState, workers), wait: wait, arena: a,
		door: make(chan struct{}, workers), queue: int32(queue),
	}
	crowded := func() bool { return int(h.running.Load()) >= runtime.GOMAXPROCS(0) }
	for range workers {
		h.states <- &argonState{pace: newPacer(plain, crowded)}
	}
	return h
}

// admit waits, holding nothing, until a passphrase request may go on:
// at most wait, and not at all when queue requests wait already.
func (h *hasher) admit() error {
	select {
	case h.door <- struct{}{}:
		return nil
	default:
	}
	if h.waiting.Add(1) > h.queue {
		h.waiting.Add(-1)
		return ErrHashBusy
	}
	defer h.waiting.Add(-1)
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.door <- struct{}{}:
		return nil
	case <-t.C:
		return ErrHashBusy
	}
}

// leave lets the next request in.
func (h *hasher) leave() { <-h.door }

// Framing of the passphrase handed to argon2id. argon2 feeds its password
// to a BLAKE2b state (H0, RFC 9106 section 3.2). BLAKE2b copies into its
// block buffer only the bytes that do not fill a block, and keeps the last
// block back until it knows it is the last (its Sum then copies that block
// to the stack). argon2 writes 28 bytes of parameters first, so framing
// the passphrase as zeros(100) || passphrase || zeros(128) makes the block
// buffer hold only zeros: the passphrase is compressed straight from the
// locked frame, and no buffer ever holds it. (The state is also scrubbed
// after use; the memory-residue test would catch a change of either.)
const (
	frameLead = blockSize - 28
	frameTail = blockSize
	blockSize = 128
)

// hash writes argon2id(frame(pass), salt) into out; ErrHashBusy when no
// worker frees up in time, ErrBusy when no locked frame does.
func (h *hasher) hash(out, pass, salt []byte) error {
	return h.run(pass, salt, func(sum []byte) { copy(out, sum) })
}

// matches reports whether argon2id(frame(pass), salt) is want. The hash
// is made and compared in the locked frame, which is wiped.
func (h *hasher) matches(pass, salt []byte, want *[hashSize]byte) (bool, error) {
	ok := false
	err := h.run(pass, salt, func(sum []byte) { ok = subtle.ConstantTimeCompare(sum, want[:]) == 1 })
	return ok, err
}

// run hashes pass with salt in a locked frame, waiting (holding nothing
// locked) for a worker, and hands the hash to use before the frame is
// wiped.
func (h *hasher) run(pass, salt []byte, use func(sum []byte)) error {
	h.active.Add(1)
	defer h.active.Add(-1)
	select {
	case h.slots <- struct{}{}:
	default:
		t := time.NewTimer(h.wait)
		select {
		case h.slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			return ErrHashBusy
		}
	}
	defer func() { <-h.slots }()
	n := frameLead + len(pass) + frameTail
	frame, err := h.arena.plain(n + hashSize)
	if err != nil {
		return err
	}
	defer frame.Release()
	framed, sum := frame.buf[:n], frame.buf[n:n+hashSize]
	clear(framed) // slots are wiped on release; this keeps the frame exact
	copy(framed[frameLead:], pass)
	st := <-h.states
	h.running.Add(1)
	st.idKey(sum, framed, salt, h.params)
	h.running.Add(-1)
	if h.active.Load() == 1 {
		// Nobody else is hashing or waiting: let the memory go.
		st.release()
	}
	h.states <- st
	use(sum)
	return nil
}

// passphrase is a secret's verifier and its attempt record: an argon2id
// hash of a human passphrase, or the keyed hashes of a proof (proof.go).
type passphrase struct {
	proof    bool           // a proof's hashes, not argon2id
	withPass bool           // proof only: it has a pp (the secret has a passphrase)
	salt     [saltSize]byte // argon2id only
	hash     [hashSize]byte // argon2id of the passphrase, or the keyed hash of pp
	link     [hashSize]byte // proof only: the keyed hash of kp
	turn     chan struct{}  // one verification at a time keeps the counts exact
	fails    []failure      // within lockoutWindow, at most lockoutTotal
	// lockouts: the zero address means everyone.
	lockouts map[netip.Addr]time.Time
}

type failure struct {
	addr netip.Addr
	at   time.Time
}

// guarded reports whether lockouts apply to p: a human passphrase, or a
// proof with a passphrase.
func (p *passphrase) guarded() bool { return !p.proof || p.withPass }

// clientUnit is the unit a client address is counted under: an IPv4 address,
// or the /64 of an IPv6 one.
func clientUnit(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		pre, _ := a.Prefix(64)
		return pre.Addr()
	}
	return a
}

// lockedOut returns the lockout that applies to addr at now, if any.
func (p *passphrase) lockedOut(addr netip.Addr, now time.Time) error {
	if until := p.lockedUntil(clientUnit(addr), now); !until.IsZero() {
		return &LockoutError{Until: until}
	}
	return nil
}

// lockedUntil is when the last lock that applies to unit (a client's
// unit; the zero address: locks on everyone only) ends; zero when none
// applies at now.
func (p *passphrase) lockedUntil(unit netip.Addr, now time.Time) time.Time {
	var until time.Time
	for a, end := range p.lockouts {
		if !now.Before(end) {
			delete(p.lockouts, a)
			continue
		}
		if (a == unit || !a.IsValid()) && end.After(until) {
			until = end
		}
	}
	return until
}

// triesLeft is how many failures addr may still make at now before a
// lock applies to it: 0 while one does.
func (p *passphrase) triesLeft(addr netip.Addr, now time.Time) int {
	unit := clientUnit(addr)
	if !p.lockedUntil(unit, now).IsZero() {
		return 0
	}
	total, fromUnit := 0, 0
	for _, f := range p.fails {
		if now.Sub(f.at) < lockoutWindow {
			total++
			if f.addr == unit {
				fromUnit++
			}
		}
	}
	return max(0, min(lockoutPerIP-fromUnit, lockoutTotal-total))
}

// fail records a failed attempt and starts the lockouts the counts call
// for, none reaching past end (the session's; zero: none).
func (p *passphrase) fail(addr netip.Addr, now, end time.Time) {
	unit := clientUnit(addr)
	kept := p.fails[:0]
	for _, f := range p.fails {
		if now.Sub(f.at) < lockoutWindow {
			kept = append(kept, f)
		}
	}
	p.fails = append(kept, failure{addr: unit, at: now})
	fromUnit := 0
	for _, f := range p.fails {
		if f.addr == unit {
			fromUnit++
		}
	}
	until := now.Add(lockoutFor)
	if !end.IsZero() && until.After(end) {
		until = end
	}
	if p.lockouts == nil && (fromUnit >= lockoutPerIP || len(p.fails) >= lockoutTotal) {
		p.lockouts = make(map[netip.Addr]time.Time)
	}
	if fromUnit >= lockoutPerIP {
		p.lockouts[unit] = until
	}
	if len(p.fails) >= lockoutTotal {
		p.lockouts[netip.Addr{}] = until
		p.fails = p.fails[:0]
	}
}

// reset forgets failures after a correct passphrase.
func (p *passphrase) reset() {
	p.fails = nil
	p.lockouts = nil
}

// wipe clears the verifier; nil is none.
func (p *passphrase) wipe() {
	if p == nil {
		return
	}
	clear(p.hash[:])
	clear(p.link[:])
}
