// Package store keeps secrets and their receipts in memory only, sealed.
//
// A secret's plaintext exists only in the locked arena (see arena.go), and
// only while it is being stored or revealed. At rest a secret is AEAD
// ciphertext whose key derives from its link key and a process key (see
// seal.go). A secret leaves the store exactly once — revealed, burned,
// expired or wiped at Close — and every way out zeroes its bytes.
//
// The store knows nothing of HTTP. Clock and randomness are injectable.
package store

import (
	"container/heap"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/awnumar/memguard"
)

// State is where a secret is in its life.
type State uint8

// States, as the v1 API names them.
const (
	StateNew      State = iota // waiting to be read
	StateReceived              // revealed once, now gone
	StateBurned                // destroyed by its creator before reading
	StateExpired               // its ttl passed unread
)

func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateReceived:
		return "received"
	case StateBurned:
		return "burned"
	case StateExpired:
		return "expired"
	}
	return "unknown"
}

// Errors the store returns; the handler maps them to responses.
var (
	ErrNotFound = errors.New("unknown secret")
	ErrEmpty    = errors.New("empty secret")
	ErrTooLarge = errors.New("secret too large")
	ErrFull     = errors.New("store is full")
	ErrClosed   = errors.New("store is closed")
)

// Config sets a store's limits. Zero values take the defaults noted.
type Config struct {
	MaxSecretSize int   // bytes per secret; default 64 KiB
	MaxSecrets    int   // secrets waiting at once; default 100000
	MaxBytes      int64 // plaintext bytes waiting at once; default 256 MiB
	LockedBytes   int   // the arena's locked-memory budget; default DefaultLockedBytes

	Hash        HashParams    // argon2id cost; default DefaultHashParams
	HashWorkers int           // argon2id hashes at once; default GOMAXPROCS
	HashWait    time.Duration // how long a passphrase check may queue; default 10s

	SweepInterval time.Duration // active expiry; default 1s, negative: no sweeper
	Now           func() time.Time
	Rand          io.Reader

	// Expired, when set, is told of every secret that expires unread,
	// with its Ref and custid (for the audit trail). It is called with
	// the store locked: it must return quickly and must not call the
	// store.
	Expired func(ref Ref, custID string)
}

// DefaultLockedBytes is the arena size asked for when nothing else is said.
const DefaultLockedBytes = 8 << 20

// CreateOptions describe a secret being stored.
type CreateOptions struct {
	TTL        time.Duration // how long the secret waits; its receipt lives twice as long
	Passphrase []byte        // optional; read, never kept
	CustID     string        // who created it ("anon" without credentials)
}

// Receipt is a snapshot of a secret's receipt. Callers Wipe it when done:
// it carries link keys.
type Receipt struct {
	ReceiptKey         Key
	SecretKey          Key     // zero unless State is StateNew
	ShortKey           [8]byte // the secret key's first 8 characters, when known
	State              State
	CustID             string
	Ref                Ref           // names the secret in audit records
	TTL                time.Duration // the ttl the secret was given
	Created            time.Time
	Updated            time.Time
	Received           time.Time // zero unless State is StateReceived
	SecretExpires      time.Time
	ReceiptExpires     time.Time
	PassphraseRequired bool
}

// Wipe zeroes the keys r carries.
func (r *Receipt) Wipe() {
	r.ReceiptKey.Wipe()
	r.SecretKey.Wipe()
	clear(r.ShortKey[:])
}

// Waiting describes a secret that can still be revealed.
type Waiting struct {
	PassphraseRequired bool
	Expires            time.Time
}

// Stats counts what the store has done and holds.
type Stats struct {
	Created, Revealed, Burned, Expired uint64
	Secrets                            int   // waiting now
	Receipts                           int   // receipts held, in any state
	Bytes                              int64 // plaintext bytes waiting
}

type record struct {
	secretID, receiptID id
	state               State
	qi                  int // index in the expiry queue
	ttl                 time.Duration
	created, updated    int64 // unix nanoseconds
	received            int64
	secretDue           int64
	receiptDue          int64
	size                int
	sealed              []byte // the secret, sealed; nil once gone
	sealedKey           [KeyLen + tagSize]byte
	pass                *passphrase
	custID              string
	prev, next          *record // in the finished list, once not StateNew
}

// due is when the record next needs the sweeper.
func (r *record) due() int64 {
	if r.state == StateNew {
		return r.secretDue
	}
	return r.receiptDue
}

// Store holds secrets. It is safe for concurrent use.
type Store struct {
	cfg    Config
	keys   *memguard.LockedBuffer // the process key
	arena  *arena
	layout ArenaLayout
	hasher *hasher

	mu       sync.Mutex
	secrets  map[id]*record
	receipts map[id]*record
	queue    queue
	finished finishedList
	bytes    int64
	stats    Stats
	closed   bool
	closing  atomic.Bool // set first by Close: no new work touches the keys

	stop chan struct{}
	done chan struct{}
}

// New makes a store, maps its locked arena and starts its sweeper.
func New(cfg Config) (*Store, error) {
	if cfg.MaxSecretSize <= 0 {
		cfg.MaxSecretSize = 64 << 10
	}
	if cfg.MaxSecrets <= 0 {
		cfg.MaxSecrets = 100000
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 256 << 20
	}
	if cfg.LockedBytes <= 0 {
		cfg.LockedBytes = DefaultLockedBytes
	}
	if cfg.Hash == (HashParams{}) {
		cfg.Hash = DefaultHashParams
	}
	if cfg.HashWorkers <= 0 {
		cfg.HashWorkers = runtime.GOMAXPROCS(0)
	}
	if cfg.HashWait <= 0 {
		cfg.HashWait = 10 * time.Second
	}
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	layout, err := PlanArena(cfg.LockedBytes, cfg.MaxSecretSize)
	if err != nil {
		return nil, err
	}
	keys := memguard.NewBuffer(procKeySize)
	if _, err := io.ReadFull(cfg.Rand, keys.Bytes()); err != nil {
		keys.Destroy()
		return nil, fmt.Errorf("failed to draw process keys: %w", err)
	}
	keys.Freeze()
	a := newArena(layout)
	s := &Store{
		cfg:      cfg,
		keys:     keys,
		arena:    a,
		layout:   layout,
		hasher:   newHasher(cfg.Hash, cfg.HashWorkers, cfg.HashWait, a),
		secrets:  make(map[id]*record),
		receipts: make(map[id]*record),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if cfg.SweepInterval > 0 {
		go s.sweeper(cfg.SweepInterval)
	} else {
		close(s.done)
	}
	return s, nil
}

// Layout reports how the arena was carved.
func (s *Store) Layout() ArenaLayout { return s.layout }

// MaxSecretSize is the largest secret the store takes.
func (s *Store) MaxSecretSize() int { return s.cfg.MaxSecretSize }

func (s *Store) procKey() []byte { return s.keys.Bytes() }

// Plain returns a locked slot for n bytes of plaintext: a secret of up to
// MaxSecretSize, or a passphrase or password of up to 4 KiB. The caller
// writes into Buf, calls SetLen, and must Release it.
func (s *Store) Plain(n int) (*Plain, error) {
	if s.closing.Load() {
		return nil, ErrClosed
	}
	if n > max(s.cfg.MaxSecretSize, smallSlot) {
		return nil, ErrTooLarge
	}
	return s.arena.plain(n)
}

// Create seals the plaintext in secret (which the caller still owns and
// releases) and returns its receipt.
func (s *Store) Create(secret *Plain, o CreateOptions) (Receipt, error) {
	var r Receipt
	size := len(secret.Bytes())
	switch {
	case size == 0:
		return r, ErrEmpty
	case size > s.cfg.MaxSecretSize:
		return r, ErrTooLarge
	case o.TTL < time.Second:
		return r, fmt.Errorf("store: ttl %v is too short", o.TTL)
	case s.closing.Load():
		return r, ErrClosed
	}
	if err := s.roomFor(size); err != nil {
		return r, err
	}
	scr, err := s.arena.scratchSlot()
	if err != nil {
		return r, err
	}
	defer scr.Release()
	d, work := derivedIn(scr), scr.buf[deriveSize:]

	rec := &record{size: size, ttl: o.TTL, custID: o.CustID, sealed: make([]byte, size+sealOverhead)}
	if r.SecretKey, err = newKey(s.cfg.Rand, work); err != nil {
		return r, err
	}
	if r.ReceiptKey, err = newKey(s.cfg.Rand, work); err != nil {
		r.Wipe()
		return r, err
	}
	if len(o.Passphrase) > 0 {
		if rec.pass, err = newPassphrase(s.cfg.Rand); err != nil {
			r.Wipe()
			return r, err
		}
		if err := s.hasher.hash(rec.pass.hash[:], o.Passphrase, rec.pass.salt[:]); err != nil {
			r.Wipe()
			return r, err
		}
	}
	derive(d, labelSecret, s.procKey(), r.SecretKey[:])
	rec.secretID = d.id()
	seal(rec.sealed, d.key(), secret.Bytes())
	derive(d, labelReceipt, s.procKey(), r.ReceiptKey[:])
	rec.receiptID = d.id()
	seal(rec.sealedKey[:], d.key(), r.SecretKey[:])
	clear(d[:])

	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.roomForLocked(size); err != nil {
		r.Wipe()
		clear(rec.sealed)
		return r, err
	}
	if s.secrets[rec.secretID] != nil || s.receipts[rec.receiptID] != nil {
		// Two 160-bit random keys colliding means the random source is broken.
		r.Wipe()
		return r, errors.New("store: key collision; random source is broken")
	}
	now := s.cfg.Now()
	rec.created, rec.updated = now.UnixNano(), now.UnixNano()
	rec.secretDue = now.Add(o.TTL).UnixNano()
	rec.receiptDue = now.Add(2 * o.TTL).UnixNano()
	s.secrets[rec.secretID] = rec
	s.receipts[rec.receiptID] = rec
	heap.Push(&s.queue, rec)
	s.bytes += int64(size)
	s.stats.Created++
	s.fill(&r, rec)
	copy(r.ShortKey[:], r.SecretKey[:])
	return r, nil
}

func (s *Store) roomFor(size int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roomForLocked(size)
}

// roomForLocked applies the capacity limits to waiting secrets. Receipts
// of finished secrets are bounded separately (see retireLocked), so a busy
// server never refuses new secrets because of old receipts.
func (s *Store) roomForLocked(size int) error {
	switch {
	case s.closed:
		return ErrClosed
	case len(s.secrets) >= s.cfg.MaxSecrets,
		s.bytes+int64(size) > s.cfg.MaxBytes:
		return ErrFull
	}
	return nil
}

// Peek tells whether a secret waits behind key, without consuming it.
func (s *Store) Peek(key []byte) (Waiting, error) {
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return Waiting{}, err
	}
	sid := derivedIn(scr).id()
	scr.Release()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.secretLocked(sid, s.cfg.Now().UnixNano())
	if rec == nil {
		return Waiting{}, ErrNotFound
	}
	return Waiting{PassphraseRequired: rec.pass != nil, Expires: time.Unix(0, rec.secretDue)}, nil
}

// derive checks that key has a link key's form and derives its index and
// key into a scratch slot, which the caller releases.
func (s *Store) derive(label [labelSize]byte, key []byte) (*Plain, error) {
	if s.closing.Load() {
		return nil, ErrClosed
	}
	if !ValidKey(key) {
		return nil, ErrNotFound
	}
	scr, err := s.arena.scratchSlot()
	if err != nil {
		return nil, err
	}
	derive(derivedIn(scr), label, s.procKey(), key)
	return scr, nil
}

// Reveal claims the secret behind key and returns its plaintext in a locked
// slot the caller must Release. Of any number of concurrent calls exactly
// one succeeds. A wrong passphrase returns ErrPassphrase and leaves the
// secret in place.
func (s *Store) Reveal(key, pass []byte, client netip.Addr) (*Plain, error) {
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return nil, err
	}
	defer scr.Release()
	d := derivedIn(scr)
	s.mu.Lock()
	rec := s.secretLocked(d.id(), s.cfg.Now().UnixNano())
	if rec == nil {
		s.mu.Unlock()
		return nil, ErrNotFound
	}
	size := rec.size
	s.mu.Unlock()
	// Take the plaintext slot before claiming: a secret must never be
	// claimed and then lost for want of memory.
	out, err := s.arena.plain(size)
	if err != nil {
		return nil, err
	}
	sealed, err := s.claim(rec, pass, client, StateReceived)
	if err != nil {
		out.Release()
		return nil, err
	}
	err = open(out.buf[:size], d.key(), sealed)
	clear(sealed)
	if err != nil {
		out.Release()
		return nil, fmt.Errorf("store: failed to open secret: %w", err)
	}
	out.SetLen(size)
	return out, nil
}

// claim checks the passphrase if rec has one and, when it matches, takes the
// secret out of the store, moving rec to state to. It returns the sealed
// bytes, which the caller wipes.
func (s *Store) claim(rec *record, pass []byte, client netip.Addr, to State) ([]byte, error) {
	if rec.pass != nil {
		// One verification per secret at a time keeps the failure counts
		// exact under concurrent guessing.
		t := time.NewTimer(s.cfg.HashWait)
		select {
		case rec.pass.turn <- struct{}{}:
			t.Stop()
		case <-t.C:
			return nil, ErrBusy
		}
		defer func() { <-rec.pass.turn }()
		if err := s.verify(rec, pass, client); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now().UnixNano()
	if rec.state != StateNew || s.secretLocked(rec.secretID, now) != rec {
		return nil, ErrNotFound
	}
	sealed := rec.sealed
	s.retireLocked(rec, to, now)
	return sealed, nil
}

// verify checks pass against rec's passphrase, counting failures.
func (s *Store) verify(rec *record, pass []byte, client netip.Addr) error {
	s.mu.Lock()
	now := s.cfg.Now()
	if rec.state != StateNew || s.secretLocked(rec.secretID, now.UnixNano()) != rec {
		s.mu.Unlock()
		return ErrNotFound
	}
	if err := rec.pass.lockedOut(client, now); err != nil {
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	if len(pass) == 0 {
		// Nothing guessed, nothing counted.
		return ErrPassphrase
	}
	scr, err := s.arena.scratchSlot()
	if err != nil {
		return err
	}
	defer scr.Release()
	sum := scr.buf[:hashSize]
	if err := s.hasher.hash(sum, pass, rec.pass.salt[:]); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec.state != StateNew {
		return ErrNotFound
	}
	if !rec.pass.matches(sum) {
		rec.pass.fail(client, s.cfg.Now())
		return ErrPassphrase
	}
	rec.pass.reset()
	return nil
}

// Receipt returns the receipt behind key.
func (s *Store) Receipt(key []byte) (Receipt, error) {
	var r Receipt
	rid, err := s.receiptID(key)
	if err != nil {
		return r, err
	}
	s.mu.Lock()
	rec := s.receiptLocked(rid, s.cfg.Now().UnixNano())
	if rec == nil {
		s.mu.Unlock()
		return r, ErrNotFound
	}
	s.fill(&r, rec)
	sealedKey := rec.sealedKey
	s.mu.Unlock()
	copy(r.ReceiptKey[:], key)
	if r.State == StateNew {
		if err := s.openSecretKey(&r, key, sealedKey[:]); err != nil {
			r.Wipe()
			return r, err
		}
	}
	clear(sealedKey[:])
	return r, nil
}

// Burn destroys the secret behind a receipt key before it is read. A secret
// with a passphrase needs it (ErrPassphrase otherwise, counted toward the
// lockout). Anything not waiting is ErrNotFound.
func (s *Store) Burn(key, pass []byte, client netip.Addr) (Receipt, error) {
	var r Receipt
	rid, err := s.receiptID(key)
	if err != nil {
		return r, err
	}
	s.mu.Lock()
	rec := s.receiptLocked(rid, s.cfg.Now().UnixNano())
	if rec == nil || rec.state != StateNew {
		s.mu.Unlock()
		return r, ErrNotFound
	}
	sealedKey := rec.sealedKey
	s.mu.Unlock()
	if err := s.openSecretKey(&r, key, sealedKey[:]); err != nil {
		return r, err
	}
	clear(sealedKey[:])
	r.SecretKey.Wipe()
	sealed, err := s.claim(rec, pass, client, StateBurned)
	if err != nil {
		r.Wipe()
		return r, err
	}
	clear(sealed)
	s.mu.Lock()
	s.fill(&r, rec)
	s.mu.Unlock()
	copy(r.ReceiptKey[:], key)
	return r, nil
}

func (s *Store) receiptID(key []byte) (id, error) {
	scr, err := s.derive(labelReceipt, key)
	if err != nil {
		return id{}, err
	}
	defer scr.Release()
	return derivedIn(scr).id(), nil
}

// openSecretKey recovers the secret key sealed in a receipt into r.
func (s *Store) openSecretKey(r *Receipt, receiptKey, sealedKey []byte) error {
	scr, err := s.derive(labelReceipt, receiptKey)
	if err != nil {
		return err
	}
	defer scr.Release()
	err = open(r.SecretKey[:], derivedIn(scr).key(), sealedKey)
	if err != nil {
		return fmt.Errorf("store: failed to open receipt: %w", err)
	}
	copy(r.ShortKey[:], r.SecretKey[:])
	return nil
}

// fill copies rec's public fields into r (keys aside).
func (s *Store) fill(r *Receipt, rec *record) {
	r.State = rec.state
	r.CustID = rec.custID
	r.Ref = Ref(rec.secretID)
	r.TTL = rec.ttl
	r.Created = time.Unix(0, rec.created)
	r.Updated = time.Unix(0, rec.updated)
	if rec.received != 0 {
		r.Received = time.Unix(0, rec.received)
	}
	r.SecretExpires = time.Unix(0, rec.secretDue)
	r.ReceiptExpires = time.Unix(0, rec.receiptDue)
	r.PassphraseRequired = rec.pass != nil
}

// secretLocked returns the waiting secret sid, expiring it if due.
func (s *Store) secretLocked(sid id, now int64) *record {
	rec := s.secrets[sid]
	if rec == nil {
		return nil
	}
	if now >= rec.secretDue {
		s.retireLocked(rec, StateExpired, rec.secretDue)
		return nil
	}
	return rec
}

// receiptLocked returns the receipt rid, applying whatever expiry is due.
func (s *Store) receiptLocked(rid id, now int64) *record {
	rec := s.receipts[rid]
	if rec == nil {
		return nil
	}
	if rec.state == StateNew && now >= rec.secretDue {
		s.retireLocked(rec, StateExpired, rec.secretDue)
	}
	if now >= rec.receiptDue {
		s.dropLocked(rec)
		return nil
	}
	return rec
}

// retireLocked takes a waiting secret out of the store. The sealed bytes
// are wiped unless the state is StateReceived, where the caller opens and
// then wipes them.
func (s *Store) retireLocked(rec *record, to State, at int64) {
	delete(s.secrets, rec.secretID)
	if to != StateReceived {
		clear(rec.sealed)
	}
	rec.sealed = nil
	clear(rec.sealedKey[:])
	rec.state = to
	rec.updated = at
	s.bytes -= int64(rec.size)
	switch to {
	case StateReceived:
		rec.received = at
		s.stats.Revealed++
	case StateBurned:
		s.stats.Burned++
	case StateExpired:
		s.stats.Expired++
		if s.cfg.Expired != nil {
			s.cfg.Expired(Ref(rec.secretID), rec.custID)
		}
	}
	if rec.pass != nil {
		rec.pass.reset()
		clear(rec.pass.hash[:])
	}
	heap.Fix(&s.queue, rec.qi)
	// Finished receipts are kept up to MaxSecrets; past that the oldest
	// finished one goes early.
	s.finished.push(rec)
	if s.finished.n > s.cfg.MaxSecrets {
		s.dropLocked(s.finished.head)
	}
}

// dropLocked forgets a receipt whose time is up.
func (s *Store) dropLocked(rec *record) {
	if rec.state == StateNew {
		s.retireLocked(rec, StateExpired, rec.secretDue)
	}
	s.finished.remove(rec)
	delete(s.receipts, rec.receiptID)
	heap.Remove(&s.queue, rec.qi)
}

// finishedList holds finished records, oldest first.
type finishedList struct {
	head, tail *record
	n          int
}

func (l *finishedList) push(rec *record) {
	rec.prev, rec.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = rec
	} else {
		l.head = rec
	}
	l.tail = rec
	l.n++
}

func (l *finishedList) remove(rec *record) {
	if rec.prev != nil {
		rec.prev.next = rec.next
	} else {
		l.head = rec.next
	}
	if rec.next != nil {
		rec.next.prev = rec.prev
	} else {
		l.tail = rec.prev
	}
	rec.prev, rec.next = nil, nil
	l.n--
}

// sweepBatch bounds how long one sweep holds the lock.
const sweepBatch = 1024

// Sweep expires every secret and drops every receipt that is due. Its cost
// is proportional to what is due, not to what is stored. It returns how
// many records it touched.
func (s *Store) Sweep() int {
	n := 0
	for {
		s.mu.Lock()
		now := s.cfg.Now().UnixNano()
		batch := 0
		for len(s.queue) > 0 && s.queue[0].due() <= now && batch < sweepBatch {
			rec := s.queue[0]
			if rec.state == StateNew {
				s.retireLocked(rec, StateExpired, rec.secretDue)
			} else {
				s.dropLocked(rec)
			}
			batch++
		}
		more := len(s.queue) > 0 && s.queue[0].due() <= now
		s.mu.Unlock()
		n += batch
		if !more {
			return n
		}
	}
}

func (s *Store) sweeper(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.Sweep()
		}
	}
}

// Stats returns counts of what the store did and holds.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Secrets = len(s.secrets)
	st.Receipts = len(s.receipts)
	st.Bytes = s.bytes
	return st
}

// Close wipes every secret and receipt, stops the sweeper, and unmaps the
// arena once every plaintext slot is back (waiting at most wait; slots
// still out then are left for memguard.Purge at exit). Operations after
// Close return ErrClosed or ErrNotFound.
func (s *Store) Close(wait time.Duration) {
	s.closing.Store(true)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for _, rec := range s.receipts {
		clear(rec.sealed)
		rec.sealed = nil
		clear(rec.sealedKey[:])
	}
	clear(s.secrets)
	clear(s.receipts)
	s.queue = nil
	s.finished = finishedList{}
	s.bytes = 0
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if s.arena.drain(wait) {
		s.arena.destroy()
	}
	s.keys.Destroy()
}

// queue orders records by when they are next due (container/heap).
type queue []*record

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].due() < q[j].due() }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].qi, q[j].qi = i, j
}
func (q *queue) Push(x any) {
	rec := x.(*record)
	rec.qi = len(*q)
	*q = append(*q, rec)
}
func (q *queue) Pop() any {
	old := *q
	rec := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	rec.qi = -1
	return rec
}
