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
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/awnumar/memguard"

	"otslite/store/resp"
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

	// MaxEnvelopeSize is the largest secret created with a proof (an
	// otsz1 envelope, which may carry files); secrets without one keep
	// MaxSecretSize. 0: MaxSecretSize.
	MaxEnvelopeSize int
	// FileSlots locked slots of FileSlotSize bytes are mapped beside the
	// arena's others (and beyond LockedBytes): they hold envelopes larger
	// than MaxSecretSize, and the request bodies that carry them. 0: none.
	FileSlots, FileSlotSize int

	Hash        HashParams    // argon2id cost; default DefaultHashParams
	HashWorkers int           // argon2id hashes at once; default GOMAXPROCS
	HashWait    time.Duration // how long a passphrase check may queue; default 10s
	HashQueue   int           // passphrase checks that may queue at once; default 64 per worker

	// Deadline is the session's end: no lockout reaches past it. Zero:
	// none.
	Deadline time.Time

	SweepInterval time.Duration // active expiry; default 1s, negative: no sweeper
	Now           func() time.Time
	Rand          io.Reader

	// Expired, when set, is told of every secret that expires unread,
	// with its Ref and custid (for the audit trail). It is called with
	// the store locked: it must return quickly and must not call the
	// store.
	Expired func(ref Ref, custID string)

	// Key is the process key (32 bytes, see ReadKeyFile), which the store
	// takes over and destroys at Close; nil: drawn from Rand.
	Key *memguard.LockedBuffer
	// Remote, when set, keeps sealed secrets and receipts in Redis under
	// RemotePrefix (default DefaultPrefix), shared with every replica of
	// the same Key (see remote.go). The caller closes it after the store.
	Remote       *resp.Client
	RemotePrefix string
}

// DefaultLockedBytes is the arena size asked for when nothing else is said.
const DefaultLockedBytes = 8 << 20

// CreateOptions describe a secret being stored.
type CreateOptions struct {
	TTL time.Duration // how long the secret waits; its receipt lives twice as long
	// Passphrase is optional, read and never kept: a human passphrase
	// (kept as its argon2id hash), or a proof (IsProof; kept as the keyed
	// hashes of its parts, see proof.go).
	Passphrase []byte
	CustID     string // who created it ("anon" without credentials)
	Generated  bool   // a password the server generated (see ShowGenerated)
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
	Size               int           // bytes stored
	Created            time.Time
	Updated            time.Time
	Received           time.Time // zero unless State is StateReceived
	SecretExpires      time.Time
	ReceiptExpires     time.Time
	PassphraseRequired bool // the v1 passphrase field must carry something: a passphrase or a proof
	Proof              bool // made with a proof (IsProof)

	// Failed passphrase attempts on the secret (a proof's wrong kp is
	// none), the last one's time, and, while the secret waits, when a
	// lock on every address ends (zero: none).
	FailedAttempts int
	LastFailed     time.Time
	LockedUntil    time.Time
	Generated      bool // made with CreateOptions.Generated

	// Attempts to open the secret's link after it was gone (read, burned
	// or expired): the last few (at most MaxLate), oldest first, and how
	// many in all. See late.go.
	Late      []LateAttempt
	LateTotal int
}

// Wipe zeroes the keys r carries.
func (r *Receipt) Wipe() {
	r.ReceiptKey.Wipe()
	r.SecretKey.Wipe()
	clear(r.ShortKey[:])
}

// Waiting describes a secret that can still be revealed, as one caller
// sees it.
type Waiting struct {
	PassphraseRequired bool
	Proof              bool // made with a proof (IsProof)
	Expires            time.Time
	// TriesLeft is how many wrong passphrases the caller may still send
	// before a lock applies to it; -1 when no lockout applies (no
	// passphrase, or a proof without one). LockedUntil is when the lock
	// that applies to the caller ends; zero when none does.
	TriesLeft   int
	LockedUntil time.Time
	Created     time.Time
	TTL         time.Duration // the ttl it was given
	CustID      string        // who created it
	Generated   bool
}

// Stats counts what the store has done and holds.
type Stats struct {
	Created, Revealed, Burned, Expired uint64
	Secrets                            int   // waiting now
	Receipts                           int   // receipts held, in any state
	Bytes                              int64 // plaintext bytes waiting
	Requests                           int   // requests waiting for an answer
	Groups                             int   // groups held
}

// Store holds secrets. It is safe for concurrent use.
type Store struct {
	cfg    Config
	keys   *memguard.LockedBuffer // the process key
	arena  *arena
	layout ArenaLayout
	hasher *hasher

	mu       sync.Mutex
	table    *table
	sealed   *cells
	secrets  *index // waiting secrets, by secret index
	receipts *index // receipts, by receipt index
	passes   map[ref]*passphrase
	gone     *index           // tombstones: secret index of a finished record (late.go)
	late     map[ref]*lateLog // attempts on finished records' links
	extra    extras           // groups and requests (group.go, request.go)
	custIDs  interner
	queue    queue
	finished finishedList
	bytes    int64 // plaintext bytes waiting, and being stored
	pending  int   // secrets being stored
	stats    Stats
	closed   bool
	closing  atomic.Bool   // set first by Close: no new work touches the keys
	plain    atomic.Uint64 // requests served without a passphrase (the hasher paces itself by it)
	remote   *remote       // Redis, when the store is shared (remote.go)

	stop chan struct{}
	done chan struct{}
}

// sealedKeySize is the sealed secret key a receipt keeps after the secret:
// the key XORed with a pad derived from the receipt key (see seal.go).
const sealedKeySize = KeyLen

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
	if cfg.HashQueue <= 0 {
		cfg.HashQueue = 64 * cfg.HashWorkers
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
	if cfg.FileSlots > 0 && cfg.FileSlotSize > layout.LargeSize {
		layout.FileSlots, layout.FileSize = cfg.FileSlots, roundPage(cfg.FileSlotSize)
		layout.Bytes += layout.FileSlots * layout.FileSize
	}
	if cfg.MaxEnvelopeSize < cfg.MaxSecretSize {
		cfg.MaxEnvelopeSize = cfg.MaxSecretSize
	}
	if cfg.MaxEnvelopeSize > max(layout.LargeSize, layout.FileSize) {
		return nil, fmt.Errorf("store: %d-byte envelopes need file slots that hold them", cfg.MaxEnvelopeSize)
	}
	keys := cfg.Key
	if keys == nil {
		keys = memguard.NewBuffer(procKeySize)
		if _, err := io.ReadFull(cfg.Rand, keys.Bytes()); err != nil {
			keys.Destroy()
			return nil, fmt.Errorf("failed to draw process keys: %w", err)
		}
	} else if keys.Size() != procKeySize {
		return nil, fmt.Errorf("store: a process key of %d bytes, want %d", keys.Size(), procKeySize)
	}
	keys.Freeze()
	a, err := newArena(layout)
	if err != nil {
		keys.Destroy()
		return nil, err
	}
	t := newTable()
	s := &Store{
		cfg:      cfg,
		keys:     keys,
		arena:    a,
		layout:   layout,
		table:    t,
		sealed:   newCells(),
		secrets:  newIndex(func(r ref) *id { return &t.get(r).secretID }),
		receipts: newIndex(func(r ref) *id { return &t.get(r).receiptID }),
		passes:   make(map[ref]*passphrase),
		gone:     newIndex(func(r ref) *id { return &t.get(r).secretID }),
		late:     make(map[ref]*lateLog),
		extra:    newExtras(),
		queue:    queue{t: t},
		finished: finishedList{t: t},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	s.hasher = newHasher(cfg.Hash, cfg.HashWorkers, cfg.HashWait, cfg.HashQueue, a, &s.plain)
	if cfg.Remote != nil {
		s.remote = newRemote(cfg.Remote, cfg.RemotePrefix)
		s.remote.keySum = s.keyCheckSum()
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

// MaxEnvelopeSize is the largest secret the store takes with a proof.
func (s *Store) MaxEnvelopeSize() int { return s.cfg.MaxEnvelopeSize }

func (s *Store) procKey() []byte { return s.keys.Bytes() }

// Plain returns a locked slot for n bytes of plaintext: a secret of up to
// MaxSecretSize, or a passphrase or password of up to 4 KiB; with file
// slots, up to a file slot's size (an envelope, or the request body that
// carries one). The caller writes into Buf, calls SetLen, and must
// Release it.
func (s *Store) Plain(n int) (*Plain, error) {
	if s.closing.Load() {
		return nil, ErrClosed
	}
	if n > max(s.cfg.MaxSecretSize, smallSlot, s.layout.FileSize) {
		return nil, ErrTooLarge
	}
	return s.arena.plain(n)
}

// PassphrasePlain is Plain for a human passphrase (not a proof) that is to
// be checked or hashed. It first waits its turn for argon2id, holding no
// locked memory while it waits: at most HashWait, and not at all when
// HashQueue requests wait already (ErrHashBusy then). Releasing the slot
// ends the turn. Callers that hold other locked slots for the same request
// take them after this one, so a flood of passphrase requests never holds
// the memory other requests need.
func (s *Store) PassphrasePlain(n int) (*Plain, error) {
	if s.closing.Load() {
		return nil, ErrClosed
	}
	if n > max(s.cfg.MaxSecretSize, smallSlot) {
		return nil, ErrTooLarge
	}
	if err := s.hasher.admit(); err != nil {
		return nil, err
	}
	p, err := s.arena.plain(n)
	if err != nil {
		s.hasher.leave()
		return nil, err
	}
	p.after = s.hasher.leave
	return p, nil
}

// Create seals the plaintext in secret (which the caller still owns and
// releases) and returns its receipt.
func (s *Store) Create(secret *Plain, o CreateOptions) (Receipt, error) {
	if s.remote != nil {
		return s.createRemote(secret, o)
	}
	return s.create(secret, o, nil)
}

// checkCreate refuses what Create must not store, in memory or on Redis,
// counts a create that needs no argon2id, and says whether the passphrase
// is a proof.
func (s *Store) checkCreate(secret *Plain, o CreateOptions) (proof bool, err error) {
	size := len(secret.Bytes())
	proof = IsProof(o.Passphrase)
	limit := s.cfg.MaxSecretSize
	if proof {
		limit = s.cfg.MaxEnvelopeSize
	}
	switch {
	case size == 0:
		return proof, ErrEmpty
	case size > limit:
		return proof, ErrTooLarge
	case o.TTL < time.Second:
		return proof, fmt.Errorf("store: ttl %v is too short", o.TTL)
	case s.closing.Load():
		return proof, ErrClosed
	}
	if len(o.Passphrase) == 0 || proof {
		s.plain.Add(1)
	}
	return proof, nil
}

// create is Create, with the secret key given (an answer to a request,
// whose key the request holds) or drawn (nil).
func (s *Store) create(secret *Plain, o CreateOptions, key *Key) (Receipt, error) {
	var r Receipt
	proof, err := s.checkCreate(secret, o)
	if err != nil {
		return r, err
	}
	size := len(secret.Bytes())
	if len(o.Passphrase) > 0 && !proof {
		// Hashing may take a while: not for a secret that has no room.
		// (Room is checked again, and reserved, below.)
		if err := s.roomFor(size); err != nil {
			return r, err
		}
	}
	// The verifier first: hashing may wait for a worker, and nothing
	// locked is held while it does.
	pass, err := s.newVerifier(o.Passphrase, proof)
	if err != nil {
		return r, err
	}
	scr, err := s.arena.scratchSlot()
	if err != nil {
		pass.wipe()
		return r, err
	}
	defer scr.Release()
	d, work := derivedIn(scr), scr.buf[deriveSize:]

	// (No slice of pointers into r: r would move to the heap, keys and
	// all, and outlive the wipe.)
	if key != nil {
		r.SecretKey = *key
		err = newKeys(s.cfg.Rand, work, &r.ReceiptKey)
	} else {
		err = newKeys(s.cfg.Rand, work, &r.SecretKey, &r.ReceiptKey)
	}
	if err != nil {
		r.Wipe()
		pass.wipe()
		return r, err
	}

	// Reserve room and a cell, then seal into it without the lock: nobody
	// else reaches a cell before a record names it.
	s.mu.Lock()
	if err := s.roomForLocked(size); err != nil {
		s.mu.Unlock()
		r.Wipe()
		pass.wipe()
		return r, err
	}
	c, buf := s.sealed.alloc(size + sealOverhead + sealedKeySize)
	s.bytes += int64(size)
	s.pending++
	s.mu.Unlock()

	derive(d, work, labelSecret, s.procKey(), r.SecretKey[:])
	secretID, sref := d.id(), d.ref()
	seal(buf[:size+sealOverhead], d.key(), secret.Bytes())
	derive(d, work, labelReceipt, s.procKey(), r.ReceiptKey[:])
	receiptID := d.id()
	xorPad(buf[size+sealOverhead:], d.key(), &r.SecretKey)
	clear(d[:])
	burnStack()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	if s.closed || s.secrets.get(&secretID) != 0 || s.receipts.get(&receiptID) != 0 {
		s.sealed.free(c)
		s.bytes -= int64(size)
		r.Wipe()
		pass.wipe()
		if s.closed {
			return r, ErrClosed
		}
		// Two 160-bit random keys colliding means the random source is broken.
		return r, errors.New("store: key collision; random source is broken")
	}
	now := s.cfg.Now()
	ref := s.table.alloc()
	rec := s.table.get(ref)
	*rec = record{
		secretID:   secretID,
		receiptID:  receiptID,
		ref:        sref,
		created:    now.UnixNano(),
		updated:    now.UnixNano(),
		secretDue:  now.Add(o.TTL).UnixNano(),
		receiptDue: now.Add(2 * o.TTL).UnixNano(),
		sealed:     c,
		size:       uint32(size),
		cust:       s.custIDs.add(o.CustID),
		pass:       pass != nil,
		proof:      pass != nil && pass.proof,
		gen:        o.Generated,
	}
	if pass != nil {
		s.passes[ref] = pass
	}
	s.secrets.put(&secretID, ref)
	s.receipts.put(&receiptID, ref)
	s.queue.push(ref)
	s.stats.Created++
	s.fill(&r, rec)
	copy(r.ShortKey[:], r.SecretKey[:])
	return r, nil
}

// newVerifier makes the verifier of a passphrase or proof (nil for none).
func (s *Store) newVerifier(given []byte, proof bool) (*passphrase, error) {
	if len(given) == 0 {
		return nil, nil
	}
	p := &passphrase{turn: make(chan struct{}, 1), proof: proof}
	if proof {
		var err error
		p.withPass, err = s.proofHashes(given, &p.link, &p.hash)
		return p, err
	}
	if _, err := io.ReadFull(s.cfg.Rand, p.salt[:]); err != nil {
		return nil, err
	}
	if err := s.hasher.hash(p.hash[:], given, p.salt[:]); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Store) roomFor(size int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.roomForLocked(size)
}

// roomForLocked applies the capacity limits to waiting secrets (and those
// being stored). Receipts of finished secrets are bounded separately (see
// retireLocked), so a busy server never refuses new secrets because of old
// receipts.
func (s *Store) roomForLocked(size int) error {
	switch {
	case s.closed:
		return ErrClosed
	case s.secrets.len()+s.pending >= s.cfg.MaxSecrets,
		s.bytes+int64(size) > s.cfg.MaxBytes:
		return ErrFull
	}
	return nil
}

// Peek tells whether a secret waits behind key, without consuming it, and
// what its lockouts leave client.
func (s *Store) Peek(key []byte, client netip.Addr) (Waiting, error) {
	if s.remote != nil {
		return s.peekRemote(key, client)
	}
	s.plain.Add(1)
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return Waiting{}, err
	}
	sid := derivedIn(scr).id()
	scr.Release()
	burnStack()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	rec := s.secretLocked(sid, now.UnixNano())
	if rec == nil {
		return Waiting{}, s.lateLocked(sid, client, LatePage, now.UnixNano())
	}
	w := Waiting{
		PassphraseRequired: rec.pass,
		Proof:              rec.proof,
		Expires:            time.Unix(0, rec.secretDue),
		TriesLeft:          -1,
		Created:            time.Unix(0, rec.created),
		TTL:                time.Duration(rec.secretDue - rec.created),
		CustID:             s.custIDs.name(rec.cust),
		Generated:          rec.gen,
	}
	if pass := s.passes[s.secrets.get(&sid)]; pass != nil && pass.guarded() {
		w.TriesLeft = pass.triesLeft(client, now)
		w.LockedUntil = pass.lockedUntil(clientUnit(client), now)
	}
	return w, nil
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
	derive(derivedIn(scr), scr.buf[deriveSize:], label, s.procKey(), key)
	return scr, nil
}

// Reveal claims the secret behind key and returns its plaintext in a locked
// slot the caller must Release. Of any number of concurrent calls exactly
// one succeeds. A wrong passphrase returns ErrPassphrase and leaves the
// secret in place; a proof whose kp is wrong or missing returns
// ErrNotFound, as if nothing waited. The Ref is the secret's audit name,
// given whenever key has a key's form, found or not (the zero Ref
// otherwise).
func (s *Store) Reveal(key, guess []byte, client netip.Addr) (*Plain, Ref, error) {
	if s.remote != nil {
		return s.revealRemote(key, guess, client)
	}
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return nil, Ref{}, err
	}
	defer func() { scr.Release() }()
	d := derivedIn(scr)
	sid, sref := d.id(), d.ref()
	s.mu.Lock()
	now := s.cfg.Now().UnixNano()
	rec := s.secretLocked(sid, now)
	if rec == nil {
		err := s.lateLocked(sid, client, LateReveal, now)
		s.mu.Unlock()
		return nil, sref, err
	}
	size, pass := int(rec.size), s.verifierLocked(s.secrets.get(&sid), rec)
	s.mu.Unlock()
	if pass == nil || pass.proof {
		s.plain.Add(1)
	}
	// A human passphrase, or a proof's pp, waits its turn (and argon2id):
	// a proof of the link alone is checked at once.
	waits := pass != nil && pass.guarded()
	if pass != nil {
		if waits {
			// Nothing locked is held meanwhile: the key is derived
			// again after the check. Once released, the slot may be
			// another request's: the deferred Release must not free it
			// again.
			scr.Release()
			scr = nil
		}
		done, err := s.check(sid, pass, guess, client)
		if err != nil {
			return nil, sref, err
		}
		defer done()
		if waits {
			if scr, err = s.derive(labelSecret, key); err != nil {
				return nil, sref, err
			}
			d = derivedIn(scr)
		}
	}
	// Take the plaintext slot before claiming: a secret must never be
	// claimed and then lost for want of memory.
	out, err := s.arena.plain(size)
	if err != nil {
		return nil, sref, err
	}
	if waits {
		now = 0 // it waited: the claim reads the clock again
	}
	c, sealed, err := s.takeSealed(sid, pass, StateReceived, now)
	if err != nil {
		out.Release()
		return nil, sref, err
	}
	// The cell is ours alone now: open it without the lock, then free it.
	err = open(out.buf[:size], d.key(), sealed[:size+sealOverhead])
	burnStack()
	s.mu.Lock()
	if !s.closed {
		s.sealed.free(c)
	}
	s.mu.Unlock()
	if err != nil {
		out.Release()
		return nil, sref, fmt.Errorf("store: failed to open secret: %w", err)
	}
	out.SetLen(size)
	return out, sref, nil
}

// take takes the secret sid out of the store, moving it to state to,
// provided it still waits with the verifier pass. It returns the secret's
// cell, which the caller wipes and frees.
func (s *Store) take(sid id, pass *passphrase, to State) (cell, error) {
	c, _, err := s.takeSealed(sid, pass, to, 0)
	return c, err
}

// takeSealed is take, also returning the cell's sealed bytes (ciphertext
// and tag), which stay where they are until the caller frees the cell.
// now is the time of the claim, 0 to read the clock (a caller that has
// just read it passes that).
func (s *Store) takeSealed(sid id, pass *passphrase, to State, now int64) (cell, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == 0 {
		now = s.cfg.Now().UnixNano()
	}
	ref := s.secrets.get(&sid)
	rec := s.liveLocked(ref, now)
	if rec == nil || s.verifierLocked(ref, rec) != pass {
		return 0, nil, ErrNotFound
	}
	c := rec.sealed
	sealed := s.sealed.bytes(c, int(rec.size)+sealOverhead)
	rec.sealed = 0 // the caller frees it
	s.retireLocked(ref, to, now)
	return c, sealed, nil
}

// check checks guess against the verifier of secret sid. When it matches,
// it returns with the secret's turn held, so that no other check counts a
// failure before the caller has taken the secret; the caller calls done.
func (s *Store) check(sid id, pass *passphrase, guess []byte, client netip.Addr) (done func(), err error) {
	var link, pp [hashSize]byte
	gotPass := false
	if pass.proof {
		// Without kp the caller does not hold the link: it is answered as
		// for an unknown secret, and nothing is counted.
		if !IsProof(guess) {
			return nil, ErrNotFound
		}
		if gotPass, err = s.proofHashes(guess, &link, &pp); err != nil {
			return nil, err
		}
		if subtle.ConstantTimeCompare(link[:], pass.link[:]) != 1 || gotPass && !pass.withPass {
			return nil, ErrNotFound
		}
		if !pass.withPass {
			return func() {}, nil
		}
	}
	// One check per secret at a time keeps the failure counts exact under
	// concurrent guessing.
	t := time.NewTimer(s.cfg.HashWait)
	select {
	case pass.turn <- struct{}{}:
		t.Stop()
	case <-t.C:
		return nil, ErrHashBusy
	}
	done = func() { <-pass.turn }
	if pass.proof {
		err = s.verifyProof(sid, pass, gotPass, &pp, client)
	} else {
		err = s.verify(sid, pass, guess, client)
	}
	if err != nil {
		done()
		return nil, err
	}
	return done, nil
}

// waitingLocked reports whether secret sid still waits with verifier pass.
func (s *Store) waitingLocked(sid id, pass *passphrase) bool {
	return s.secretLocked(sid, s.cfg.Now().UnixNano()) != nil && s.passes[s.secrets.get(&sid)] == pass
}

// failLocked counts a failed attempt on secret sid from client.
func (s *Store) failLocked(sid id, pass *passphrase, client netip.Addr) {
	now := s.cfg.Now()
	pass.fail(client, now, s.cfg.Deadline)
	rec := s.table.get(s.secrets.get(&sid))
	rec.failed++
	rec.lastFailed = now.UnixNano()
}

// verify checks guess against the human passphrase of secret sid,
// counting failures.
func (s *Store) verify(sid id, pass *passphrase, guess []byte, client netip.Addr) error {
	s.mu.Lock()
	if !s.waitingLocked(sid, pass) {
		s.mu.Unlock()
		return ErrNotFound
	}
	if err := pass.lockedOut(client, s.cfg.Now()); err != nil {
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	if len(guess) == 0 {
		// Nothing guessed, nothing counted.
		return ErrPassphrase
	}
	// A proof's shape is never a human passphrase (a proof made at create
	// is kept as one): it cannot match, and needs no hash to say so.
	ok := false
	if !IsProof(guess) {
		var err error
		if ok, err = s.hasher.matches(guess, pass.salt[:], &pass.hash); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waitingLocked(sid, pass) {
		return ErrNotFound
	}
	if !ok {
		s.failLocked(sid, pass, client)
		return ErrPassphrase
	}
	pass.reset()
	return nil
}

// verifyProof checks a proof's pp (its keyed hash, when it had one)
// against secret sid's, once kp has matched, counting failures.
func (s *Store) verifyProof(sid id, pass *passphrase, gotPass bool, pp *[hashSize]byte, client netip.Addr) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.waitingLocked(sid, pass) {
		return ErrNotFound
	}
	if err := pass.lockedOut(client, s.cfg.Now()); err != nil {
		return err
	}
	if !gotPass {
		// The link without the passphrase: nothing guessed, nothing
		// counted.
		return ErrPassphrase
	}
	if subtle.ConstantTimeCompare(pp[:], pass.hash[:]) != 1 {
		s.failLocked(sid, pass, client)
		return ErrPassphrase
	}
	pass.reset()
	return nil
}

// Receipt returns the receipt behind key.
func (s *Store) Receipt(key []byte) (Receipt, error) {
	if s.remote != nil {
		return s.receiptRemote(key)
	}
	s.plain.Add(1)
	var r Receipt
	scr, err := s.derive(labelReceipt, key)
	if err != nil {
		return r, err
	}
	defer scr.Release()
	d := derivedIn(scr)
	s.mu.Lock()
	rec := s.receiptLocked(d.id(), s.cfg.Now().UnixNano())
	if rec == nil {
		s.mu.Unlock()
		return r, ErrNotFound
	}
	s.fill(&r, rec)
	if r.State == StateNew {
		s.unsealKey(&r, rec, d)
	}
	s.mu.Unlock()
	copy(r.ReceiptKey[:], key)
	return r, nil
}

// unsealKey recovers the secret key a waiting record keeps for its receipt
// into r; d holds the receipt key's derivation.
func (s *Store) unsealKey(r *Receipt, rec *record, d *derived) {
	sealed := s.sealed.bytes(rec.sealed, int(rec.size)+sealOverhead+sealedKeySize)[int(rec.size)+sealOverhead:]
	unxorPad(&r.SecretKey, d.key(), sealed)
	copy(r.ShortKey[:], r.SecretKey[:])
}

// ShowGenerated returns, once, the value of a generated password that still
// waits, to the holder of its receipt key, when its receipt is younger than
// window: the creator's one look at a password the server made (Onetime
// Secret's v2 shows it on the first receipt read). It does not consume the
// secret. It returns nil when there is nothing to show: not generated, shown
// already, no longer waiting, or past the window. The caller releases the
// slot.
func (s *Store) ShowGenerated(receiptKey []byte, window time.Duration) (*Plain, error) {
	if s.remote != nil {
		return s.showGeneratedRemote(receiptKey, window)
	}
	scr, err := s.derive(labelReceipt, receiptKey)
	if err != nil {
		return nil, err
	}
	defer scr.Release()
	d, work := derivedIn(scr), scr.buf[deriveSize:]
	rid := d.id()
	showable := func(now time.Time) *record {
		rec := s.receiptLocked(rid, now.UnixNano())
		if rec == nil || rec.state != StateNew || !rec.gen || rec.shown || now.Sub(time.Unix(0, rec.created)) >= window {
			return nil
		}
		return rec
	}
	s.mu.Lock()
	rec := showable(s.cfg.Now())
	if rec == nil {
		s.mu.Unlock()
		return nil, nil
	}
	size := int(rec.size)
	s.mu.Unlock()
	// The slot is taken without the lock; the record is looked at again.
	out, err := s.arena.plain(size)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec = showable(s.cfg.Now()); rec == nil || int(rec.size) != size {
		out.Release()
		return nil, nil
	}
	rec.shown = true
	// The cell stays the record's: it is opened under the lock, which a
	// reveal or burn needs to claim it.
	var sk Key
	sealed := s.sealed.bytes(rec.sealed, size+sealOverhead+sealedKeySize)
	unxorPad(&sk, d.key(), sealed[size+sealOverhead:])
	derive(d, work, labelSecret, s.procKey(), sk[:])
	sk.Wipe()
	err = open(out.buf[:size], d.key(), sealed[:size+sealOverhead])
	clear(d[:])
	burnStack()
	if err != nil {
		out.Release()
		return nil, fmt.Errorf("store: failed to open secret: %w", err)
	}
	out.SetLen(size)
	return out, nil
}

// Burn destroys the secret behind a receipt key before it is read. A secret
// with a human passphrase needs it (ErrPassphrase otherwise, counted toward
// the lockout); one made with a proof needs only the receipt key, and
// guess is ignored. Anything not waiting is ErrNotFound.
func (s *Store) Burn(key, guess []byte, client netip.Addr) (Receipt, error) {
	if s.remote != nil {
		return s.burnRemote(key, guess, client)
	}
	var r Receipt
	scr, err := s.derive(labelReceipt, key)
	if err != nil {
		return r, err
	}
	d := derivedIn(scr)
	rid := d.id()
	s.mu.Lock()
	rec := s.receiptLocked(rid, s.cfg.Now().UnixNano())
	if rec == nil || rec.state != StateNew {
		s.mu.Unlock()
		scr.Release()
		return r, ErrNotFound
	}
	s.unsealKey(&r, rec, d)
	r.SecretKey.Wipe()
	sid, pass := rec.secretID, s.passes[s.receipts.get(&rid)]
	s.mu.Unlock()
	scr.Release()
	if pass == nil || pass.proof {
		s.plain.Add(1)
	}
	if pass != nil && !pass.proof {
		done, err := s.check(sid, pass, guess, client)
		if err != nil {
			r.Wipe()
			return r, err
		}
		defer done()
	}
	c, err := s.take(sid, pass, StateBurned)
	if err != nil {
		r.Wipe()
		return r, err
	}
	s.mu.Lock()
	if !s.closed {
		s.sealed.free(c)
	}
	if rec := s.receiptLocked(rid, s.cfg.Now().UnixNano()); rec != nil {
		s.fill(&r, rec)
	}
	s.mu.Unlock()
	copy(r.ReceiptKey[:], key)
	return r, nil
}

// fill copies rec's public fields into r (keys aside).
func (s *Store) fill(r *Receipt, rec *record) {
	r.State = rec.state
	r.CustID = s.custIDs.name(rec.cust)
	r.Ref = rec.ref
	r.TTL = time.Duration(rec.secretDue - rec.created)
	r.Created = time.Unix(0, rec.created)
	r.Updated = time.Unix(0, rec.updated)
	if rec.state == StateReceived {
		r.Received = r.Updated
	}
	r.SecretExpires = time.Unix(0, rec.secretDue)
	r.ReceiptExpires = time.Unix(0, rec.receiptDue)
	r.Size = int(rec.size)
	r.Late, r.LateTotal = nil, 0
	if l := s.late[s.receipts.get(&rec.receiptID)]; l != nil {
		r.Late, r.LateTotal = l.attempts(), l.total
	}
	r.PassphraseRequired = rec.pass
	r.Proof = rec.proof
	r.FailedAttempts = int(rec.failed)
	r.LastFailed = time.Time{}
	if rec.failed > 0 {
		r.LastFailed = time.Unix(0, rec.lastFailed)
	}
	r.LockedUntil = time.Time{}
	if pass := s.verifierLocked(s.receipts.get(&rec.receiptID), rec); pass != nil && rec.state == StateNew {
		r.LockedUntil = pass.lockedUntil(netip.Addr{}, s.cfg.Now())
	}
	r.Generated = rec.gen
}

// secretLocked returns the waiting secret sid, expiring it if due.
func (s *Store) secretLocked(sid id, now int64) *record {
	return s.liveLocked(s.secrets.get(&sid), now)
}

// verifierLocked returns the verifier of rec, the record ref names; nil
// when it has none (a record without one needs no map lookup).
func (s *Store) verifierLocked(ref ref, rec *record) *passphrase {
	if !rec.pass {
		return nil
	}
	return s.passes[ref]
}

// liveLocked returns the record of ref (0: none) while its secret waits,
// expiring it if due.
func (s *Store) liveLocked(ref ref, now int64) *record {
	if ref == 0 {
		return nil
	}
	rec := s.table.get(ref)
	if now >= rec.secretDue {
		s.retireLocked(ref, StateExpired, rec.secretDue)
		return nil
	}
	return rec
}

// receiptLocked returns the receipt rid, applying whatever expiry is due.
func (s *Store) receiptLocked(rid id, now int64) *record {
	ref := s.receipts.get(&rid)
	if ref == 0 {
		return nil
	}
	rec := s.table.get(ref)
	if rec.state == StateNew && now >= rec.secretDue {
		s.retireLocked(ref, StateExpired, rec.secretDue)
	}
	if now >= rec.receiptDue {
		s.dropLocked(ref)
		return nil
	}
	return rec
}

// retireLocked takes a waiting secret out of the store, wiping its cell
// unless the caller took it (claim).
func (s *Store) retireLocked(ref ref, to State, at int64) {
	rec := s.table.get(ref)
	s.secrets.del(&rec.secretID, ref)
	s.gone.put(&rec.secretID, ref)
	if rec.sealed != 0 {
		s.sealed.free(rec.sealed)
		rec.sealed = 0
	}
	rec.state = to
	rec.updated = at
	s.bytes -= int64(rec.size)
	switch to {
	case StateReceived:
		s.stats.Revealed++
	case StateBurned:
		s.stats.Burned++
	case StateExpired:
		s.stats.Expired++
		if s.cfg.Expired != nil {
			s.cfg.Expired(rec.ref, s.custIDs.name(rec.cust))
		}
	}
	if pass := s.verifierLocked(ref, rec); pass != nil {
		pass.reset()
		pass.wipe()
		delete(s.passes, ref)
	}
	s.queue.fix(int(rec.qi))
	// Finished receipts are kept up to MaxSecrets; past that the oldest
	// finished one goes early.
	s.finished.push(ref)
	if s.finished.n > s.cfg.MaxSecrets {
		s.dropLocked(s.finished.head)
	}
}

// dropLocked forgets a receipt whose time is up.
func (s *Store) dropLocked(ref ref) {
	rec := s.table.get(ref)
	if rec.state == StateNew {
		s.retireLocked(ref, StateExpired, rec.secretDue)
	}
	s.finished.remove(ref)
	s.receipts.del(&rec.receiptID, ref)
	s.gone.del(&rec.secretID, ref)
	delete(s.late, ref)
	s.queue.remove(int(rec.qi))
	s.custIDs.drop(rec.cust)
	s.table.release(ref)
}

// sweepBatch bounds how long one sweep holds the lock.
const sweepBatch = 1024

// Sweep expires every secret and drops every receipt that is due. Its cost
// is proportional to what is due, not to what is stored. It returns how
// many records it touched.
func (s *Store) Sweep() int {
	if s.remote != nil {
		return s.sweepRemote()
	}
	n := 0
	for {
		s.mu.Lock()
		now := s.cfg.Now().UnixNano()
		batch := 0
		for ; s.queue.len() > 0 && batch < sweepBatch; batch++ {
			ref, due := s.queue.first()
			if due > now {
				break
			}
			if rec := s.table.get(ref); rec.state == StateNew {
				s.retireLocked(ref, StateExpired, rec.secretDue)
			} else {
				s.dropLocked(ref)
			}
		}
		more := false
		if s.queue.len() > 0 {
			_, due := s.queue.first()
			more = due <= now
		}
		s.mu.Unlock()
		n += batch
		if !more {
			return n + s.sweepExtras()
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
	if s.remote != nil {
		return s.statsRemote()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Secrets = s.secrets.len()
	st.Receipts = s.receipts.len()
	st.Bytes = s.bytes
	st.Requests, st.Groups = s.extra.waiting(), len(s.extra.groups)
	return st
}

// Close wipes every secret and receipt, stops the sweeper, and unmaps the
// arena once every plaintext slot is back (waiting at most wait; slots
// still out then are left for Purge at exit). Operations after
// Close return ErrClosed or ErrNotFound.
func (s *Store) Close(wait time.Duration) {
	s.closing.Store(true)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.receipts.each(func(ref ref) {
		if rec := s.table.get(ref); rec.sealed != 0 {
			s.sealed.free(rec.sealed)
			rec.sealed = 0
		}
	})
	for _, pass := range s.passes {
		pass.wipe()
	}
	s.secrets.reset()
	s.receipts.reset()
	clear(s.passes)
	s.gone.reset()
	clear(s.late)
	s.extra.wipe()
	s.bytes = 0
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if s.arena.drain(wait) {
		s.arena.destroy()
	}
	s.keys.Destroy()
}

// interner keeps each distinct CustID once, counted by the records that
// name it, so records hold a number instead of a string.
type interner struct {
	names []string
	refs  []int
	index map[string]uint32
	free  []uint32
}

func (in *interner) add(name string) uint32 {
	if i, ok := in.index[name]; ok {
		in.refs[i]++
		return i
	}
	if in.index == nil {
		in.index = make(map[string]uint32)
	}
	var i uint32
	if n := len(in.free); n > 0 {
		i, in.free = in.free[n-1], in.free[:n-1]
		in.names[i], in.refs[i] = name, 1
	} else {
		i = uint32(len(in.names))
		in.names, in.refs = append(in.names, name), append(in.refs, 1)
	}
	in.index[name] = i
	return i
}

func (in *interner) name(i uint32) string { return in.names[i] }

func (in *interner) drop(i uint32) {
	if in.refs[i]--; in.refs[i] == 0 {
		delete(in.index, in.names[i])
		in.names[i] = ""
		in.free = append(in.free, i)
	}
}
