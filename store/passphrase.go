package store

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"
)

// Passphrase rules (the v1 contract): a wrong or missing passphrase never
// destroys a secret. After lockoutPerIP failures from one client address, or
// lockoutTotal in all, within lockoutWindow, further attempts on that secret
// are refused for lockoutFor. A correct passphrase resets the counters.
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

// LockoutError means passphrase attempts on a secret are refused until Until.
type LockoutError struct{ Until time.Time }

func (e *LockoutError) Error() string {
	return fmt.Sprintf("too many passphrase attempts; try again after %s", e.Until.UTC().Format(time.RFC3339))
}

// hasher runs argon2id (argon2.go) with a bounded number of hashes at
// once, so passphrase traffic cannot take more than workers × MemoryKiB of
// memory. While the store serves requests without a passphrase (counted in
// plain) and hashes hold every processor, each hash paces itself to a
// tenth of one, so those requests are served between its blocks.
type hasher struct {
	params  HashParams
	slots   chan struct{}
	states  chan *argonState // one per slot; their memory is kept while busy
	active  atomic.Int32     // hashes running or waiting for a slot
	running atomic.Int32     // hashes holding a slot
	wait    time.Duration
	arena   *arena
}

func newHasher(p HashParams, workers int, wait time.Duration, a *arena, plain *atomic.Uint64) *hasher {
	workers = max(1, workers)
	h := &hasher{params: p, slots: make(chan struct{}, workers), states: make(chan *argonState, workers), wait: wait, arena: a}
	crowded := func() bool { return int(h.running.Load()) >= runtime.GOMAXPROCS(0) }
	for range workers {
		h.states <- &argonState{pace: newPacer(plain, crowded)}
	}
	return h
}

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

// hash writes argon2id(frame(pass), salt) into out; ErrBusy when no worker
// or locked frame frees up in time.
func (h *hasher) hash(out, pass, salt []byte) error {
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
			return ErrBusy
		}
	}
	defer func() { <-h.slots }()
	frame, err := h.arena.plain(frameLead + len(pass) + frameTail)
	if err != nil {
		return err
	}
	defer frame.Release()
	framed := frame.buf[:frameLead+len(pass)+frameTail]
	clear(framed) // slots are wiped on release; this keeps the frame exact
	copy(framed[frameLead:], pass)
	st := <-h.states
	h.running.Add(1)
	st.idKey(out, framed, salt, h.params)
	h.running.Add(-1)
	if h.active.Load() == 1 {
		// Nobody else is hashing or waiting: let the memory go.
		st.mem = nil
	}
	h.states <- st
	return nil
}

// passphrase is a secret's passphrase verifier and its attempt record.
type passphrase struct {
	salt  [saltSize]byte
	hash  [hashSize]byte
	turn  chan struct{} // one verification at a time keeps the counts exact
	fails []failure     // within lockoutWindow, at most lockoutTotal
	// lockouts: the zero address means everyone.
	lockouts map[netip.Addr]time.Time
}

type failure struct {
	addr netip.Addr
	at   time.Time
}

func newPassphrase(rand io.Reader) (*passphrase, error) {
	p := &passphrase{turn: make(chan struct{}, 1)}
	if _, err := io.ReadFull(rand, p.salt[:]); err != nil {
		return nil, err
	}
	return p, nil
}

// lockedOut returns the lockout that applies to addr at now, if any.
func (p *passphrase) lockedOut(addr netip.Addr, now time.Time) error {
	for a, until := range p.lockouts {
		if !now.Before(until) {
			delete(p.lockouts, a)
			continue
		}
		if a == addr || !a.IsValid() {
			return &LockoutError{Until: until}
		}
	}
	return nil
}

// fail records a failed attempt and starts lockouts the counts call for.
func (p *passphrase) fail(addr netip.Addr, now time.Time) {
	kept := p.fails[:0]
	for _, f := range p.fails {
		if now.Sub(f.at) < lockoutWindow {
			kept = append(kept, f)
		}
	}
	p.fails = append(kept, failure{addr: addr, at: now})
	fromAddr := 0
	for _, f := range p.fails {
		if f.addr == addr {
			fromAddr++
		}
	}
	if p.lockouts == nil && (fromAddr >= lockoutPerIP || len(p.fails) >= lockoutTotal) {
		p.lockouts = make(map[netip.Addr]time.Time)
	}
	if fromAddr >= lockoutPerIP {
		p.lockouts[addr] = now.Add(lockoutFor)
	}
	if len(p.fails) >= lockoutTotal {
		p.lockouts[netip.Addr{}] = now.Add(lockoutFor)
		p.fails = p.fails[:0]
	}
}

// reset forgets failures after a correct passphrase.
func (p *passphrase) reset() {
	p.fails = nil
	p.lockouts = nil
}

func (p *passphrase) matches(sum []byte) bool {
	return subtle.ConstantTimeCompare(p.hash[:], sum) == 1
}
