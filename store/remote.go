package store

// The Redis backend. With Config.Remote set, the store keeps its sealed
// secrets and receipts in Redis (or Valkey) instead of its own memory, so
// that several replicas behind a load balancer serve the same secrets.
// Everything else stays as it is in memory: the link keys, their
// derivations, sealing and opening, the locked arena, argon2id.
//
// Only sealed data leaves the process: each secret's ciphertext and its
// sealed key, its verifier (an argon2id hash with its salt, or the keyed
// hashes of a proof), its metadata, all named by the keyed hashes of its
// link keys. A link key, a passphrase, a proof and plaintext are never
// sent; neither is the process key (replicas share it through a key file,
// and Redis holds only a keyed hash of it, to refuse a replica with
// another). So neither Redis's memory nor its traffic opens a secret
// without its link. remote_lua.go lays out what Redis holds.
//
// Every change to a secret is one Lua script, atomic in Redis: of any
// number of reveals on any number of replicas exactly one gets the
// secret. Passphrase checks count toward the lockouts in Redis before the
// hash is checked (scriptAttempt), so lockouts hold across replicas too.
//
// When Redis is unreachable every operation fails with ErrUnavailable, at
// once, and works again when it is back. A script either ran whole or not
// at all, so nothing half-written is ever read; a reveal whose answer was
// lost on the way back may have consumed its secret, which is then gone,
// never served twice.

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"

	"otslite/store/resp"
)

// ErrUnavailable means the shared store (Redis) cannot be reached now.
var ErrUnavailable = resp.ErrUnavailable

// ErrKeyMismatch means another replica on the same Redis uses another
// process key: its secrets could not be opened here, nor these there.
var ErrKeyMismatch = errors.New("another otslite on this Redis uses a different process key; give every replica the same --key-file")

// DefaultPrefix starts every Redis key the store uses.
const DefaultPrefix = "otslite:"

// remoteGrace is how much longer Redis keeps a key than its due time: the
// sweepers retire secrets at their due time and report them; Redis's own
// expiry is for what no replica was left to sweep.
const remoteGrace = time.Minute

// keyCheckTTL is how long the claim of a prefix by a process key outlives
// the last replica that refreshes it (every sweep).
const keyCheckTTL = 30 * time.Second

type remote struct {
	c       *resp.Client
	prefix  string
	count   []byte
	due     []byte
	keyName []byte
	// groups, requests: ids by when they are forgotten; asking: requests
	// waiting for their answer, by deadline (remote_beyond.go).
	groups, requests, asking []byte
	keySum                   []byte // hex of a keyed hash of the process key
	timeout                  time.Duration

	created, revealed, burned, expired atomic.Uint64
}

func newRemote(c *resp.Client, prefix string) *remote {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return &remote{
		c: c, prefix: prefix,
		count:   []byte(prefix + "count"),
		due:     []byte(prefix + "due"),
		keyName: []byte(prefix + "key"),
		groups:  []byte(prefix + "groups"), requests: []byte(prefix + "requests"), asking: []byte(prefix + "asking"),
		timeout: 5 * time.Second,
	}
}

func (r *remote) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), r.timeout)
}

// name is prefix + kind + ":" + hex(id).
func (r *remote) name(kind byte, x id) []byte {
	b := make([]byte, 0, len(r.prefix)+2+2*idSize)
	b = append(b, r.prefix...)
	b = append(b, kind, ':')
	return hex.AppendEncode(b, x[:])
}

func (r *remote) eval(s *resp.Script, keys [][]byte, args ...[]byte) ([]resp.Value, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	v, err := r.c.Eval(ctx, s, keys, args...)
	if err != nil {
		if errors.Is(err, resp.ErrUnavailable) {
			return nil, err
		}
		// An error reply (out of memory, a script refused): the store is
		// unavailable for this request; the reply never quotes our data.
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if v.Kind != resp.Array || len(v.Array) == 0 || v.Array[0].Kind != resp.Integer {
		return nil, fmt.Errorf("%w: unexpected reply", ErrUnavailable)
	}
	return v.Array, nil
}

func ms(t time.Time) []byte { return strconv.AppendInt(nil, t.UnixMilli(), 10) }

func num(v resp.Value) int64 {
	if v.Kind == resp.Integer {
		return v.Int
	}
	n, _ := strconv.ParseInt(string(v.Bytes), 10, 64)
	return n
}

func flag(b bool) []byte {
	if b {
		return []byte{'1'}
	}
	return []byte{'0'}
}

// CheckKey claims the Redis prefix for this process key, or checks that
// replicas already there use the same one (ErrKeyMismatch otherwise).
// Sweeps keep the claim alive.
func (s *Store) CheckKey() error {
	if s.remote == nil {
		return nil
	}
	return s.remote.checkKey()
}

func (r *remote) checkKey() error {
	v, err := r.eval2(scriptKeyCheck, [][]byte{r.keyName}, r.keySum, strconv.AppendInt(nil, keyCheckTTL.Milliseconds(), 10))
	if err != nil {
		return err
	}
	if v.Kind != resp.Integer || v.Int != 1 {
		return ErrKeyMismatch
	}
	return nil
}

// eval2 is eval for scripts that reply with a plain value.
func (r *remote) eval2(s *resp.Script, keys [][]byte, args ...[]byte) (resp.Value, error) {
	ctx, cancel := r.ctx()
	defer cancel()
	v, err := r.c.Eval(ctx, s, keys, args...)
	if err != nil && !errors.Is(err, resp.ErrUnavailable) {
		err = fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return v, err
}

// verifierBytes is how a verifier travels: "h" salt hash for argon2id,
// "p" link hash for a proof without passphrase, "q" link hash pass hash
// for one with. All of it is hashes: argon2id of the passphrase, keyed
// hashes (process key) of the proof's parts.
func verifierBytes(p *passphrase) []byte {
	switch {
	case p == nil:
		return nil
	case !p.proof:
		return append(append([]byte{'h'}, p.salt[:]...), p.hash[:]...)
	case p.withPass:
		return append(append([]byte{'q'}, p.link[:]...), p.hash[:]...)
	}
	return append([]byte{'p'}, p.link[:]...)
}

func parseVerifier(b []byte) (*passphrase, bool) {
	p := &passphrase{}
	switch {
	case len(b) == 1+saltSize+hashSize && b[0] == 'h':
		copy(p.salt[:], b[1:])
		copy(p.hash[:], b[1+saltSize:])
	case len(b) == 1+2*hashSize && b[0] == 'q':
		p.proof, p.withPass = true, true
		copy(p.link[:], b[1:])
		copy(p.hash[:], b[1+hashSize:])
	case len(b) == 1+hashSize && b[0] == 'p':
		p.proof = true
		copy(p.link[:], b[1:])
	default:
		return nil, false
	}
	return p, true
}

func (s *Store) createRemote(secret *Plain, o CreateOptions) (Receipt, error) {
	return s.createRemoteFor(secret, o, nil, nil)
}

// remoteAnswer is what createRemoteFor needs to store a secret as the
// answer to a request: the request's id and the answerer's public key.
type remoteAnswer struct {
	ask    id
	public []byte
}

// createRemoteFor is Create on Redis, with the secret key given (an
// answer to a request, whose key the request holds) or drawn (nil). With
// answer set, the secret is stored only if the request still waits for
// its answer, and the request is answered with it, in one script.
func (s *Store) createRemoteFor(secret *Plain, o CreateOptions, key *Key, answer *remoteAnswer) (Receipt, error) {
	var r Receipt
	proof, err := s.checkCreate(secret, o)
	if err != nil {
		return r, err
	}
	size := len(secret.Bytes())
	pass, err := s.newVerifier(o.Passphrase, proof)
	if err != nil {
		return r, err
	}
	verifier := verifierBytes(pass)
	pass.wipe()
	scr, err := s.arena.scratchSlot()
	if err != nil {
		return r, err
	}
	defer scr.Release()
	d, work := derivedIn(scr), scr.buf[deriveSize:]
	if key != nil {
		r.SecretKey = *key
		err = newKeys(s.cfg.Rand, work, &r.ReceiptKey)
	} else {
		err = newKeys(s.cfg.Rand, work, &r.SecretKey, &r.ReceiptKey)
	}
	if err != nil {
		r.Wipe()
		return r, err
	}
	// Sealed on the heap: it is ciphertext, and it leaves the process.
	sealed := make([]byte, size+sealOverhead)
	sealedKey := make([]byte, sealedKeySize)
	derive(d, work, labelSecret, s.procKey(), r.SecretKey[:])
	secretID, sref := d.id(), d.ref()
	// The verifier is the additional data: see remote_seal.go.
	sealAD(sealed, d.key(), secret.Bytes(), verifier)
	derive(d, work, labelReceipt, s.procKey(), r.ReceiptKey[:])
	receiptID := d.id()
	xorPad(sealedKey, d.key(), &r.SecretKey)
	clear(d[:])
	burnStack()

	rm := s.remote
	now := s.cfg.Now()
	secretDue, receiptDue := now.Add(o.TTL), now.Add(2*o.TTL)
	sidHex, ridHex := hex.EncodeToString(secretID[:]), hex.EncodeToString(receiptID[:])
	member := sidHex + ":" + ridHex + ":" + strconv.Itoa(size)
	script := scriptCreate
	keys := [][]byte{rm.name('s', secretID), rm.name('r', receiptID), rm.count, rm.due}
	args := [][]byte{[]byte(rm.prefix), sealed, sealedKey, []byte(ridHex), verifier, []byte(sidHex),
		ms(now), ms(secretDue), ms(receiptDue), strconv.AppendInt(nil, int64(size), 10),
		sref[:], []byte(o.CustID), flag(pass != nil), flag(pass != nil && proof),
		strconv.AppendInt(nil, (o.TTL + remoteGrace).Milliseconds(), 10),
		strconv.AppendInt(nil, (2*o.TTL + remoteGrace).Milliseconds(), 10),
		strconv.AppendInt(nil, int64(s.cfg.MaxSecrets), 10), strconv.AppendInt(nil, s.cfg.MaxBytes, 10),
		[]byte(member), flag(o.Generated)}
	if answer != nil {
		script = scriptAnswer
		keys = append(keys, rm.name('q', answer.ask), rm.asking, rm.requests)
		args = append(args, answer.public, hex.AppendEncode(nil, answer.ask[:]))
	}
	reply, err := rm.eval(script, keys, args...)
	clear(sealedKey)
	if err != nil {
		r.Wipe()
		return r, err
	}
	switch reply[0].Int {
	case rOK:
	case rFull:
		r.Wipe()
		return r, ErrFull
	case rClash:
		r.Wipe()
		return r, errors.New("store: key collision; random source is broken")
	case rAnswered:
		r.Wipe()
		return r, ErrAnswered
	default:
		r.Wipe()
		return r, ErrNotFound
	}
	rm.created.Add(1)
	r.State = StateNew
	r.CustID = o.CustID
	r.Ref = sref
	r.TTL = o.TTL
	r.Size = size
	r.Created = time.UnixMilli(now.UnixMilli())
	r.Updated = r.Created
	r.SecretExpires = time.UnixMilli(secretDue.UnixMilli())
	r.ReceiptExpires = time.UnixMilli(receiptDue.UnixMilli())
	r.PassphraseRequired = pass != nil
	r.Proof = pass != nil && proof
	r.Generated = o.Generated
	copy(r.ShortKey[:], r.SecretKey[:])
	return r, nil
}

// revealRemote is Reveal on Redis.
func (s *Store) revealRemote(key, guess []byte, client netip.Addr) (*Plain, Ref, error) {
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return nil, Ref{}, err
	}
	defer func() { scr.Release() }()
	d := derivedIn(scr)
	sid, sref := d.id(), d.ref()
	rm := s.remote
	sk := rm.name('s', sid)
	// A slot for a small secret first: most are, and a claim that finds a
	// bigger one leaves it in place and says how big.
	out, err := s.arena.plain(min(s.cfg.MaxSecretSize, smallSlot))
	if err != nil {
		return nil, sref, err
	}
	checked := false
	// Only the first look may find a gone secret late: one that goes
	// while it is being checked was there when the caller came.
	kind := []byte{'0' + byte(LateReveal)}
	for {
		reply, err := rm.eval(scriptClaim, [][]byte{sk, rm.count, rm.due, rm.name('x', sid)},
			[]byte(rm.prefix), ms(s.cfg.Now()), []byte{'1'}, strconv.AppendInt(nil, int64(len(out.buf)), 10), flag(checked),
			coarseName(client), kind, maxLateArg)
		if err != nil {
			out.Release()
			return nil, sref, err
		}
		kind = []byte{'0'}
		switch reply[0].Int {
		case rOK:
			if len(reply) < 3 {
				out.Release()
				return nil, sref, fmt.Errorf("%w: unexpected reply", ErrUnavailable)
			}
			sealed := reply[1].Bytes
			size := len(sealed) - sealOverhead
			if size < 0 || size > len(out.buf) {
				out.Release()
				return nil, sref, errors.New("store: a sealed secret of the wrong size")
			}
			err = openAD(out.buf[:size], d.key(), sealed, reply[2].Bytes)
			burnStack()
			if err != nil {
				out.Release()
				return nil, sref, fmt.Errorf("store: failed to open secret: %w", err)
			}
			rm.revealed.Add(1)
			if !checked {
				s.plain.Add(1) // served without argon2id (see hasher)
			}
			out.SetLen(size)
			return out, sref, nil
		case rTooBig:
			out.Release()
			if out, err = s.arena.plain(int(num(reply[1]))); err != nil {
				return nil, sref, err
			}
		case rPass:
			if checked {
				out.Release()
				return nil, sref, ErrNotFound
			}
			// The check may wait (argon2id): it holds nothing locked
			// meanwhile, and the key is derived again after it.
			out.Release()
			scr.Release()
			scr = nil // released: the deferred Release must not free it again
			size := int(num(reply[1]))
			pass, ok := parseVerifier(reply[2].Bytes)
			if !ok {
				return nil, sref, errors.New("store: a malformed verifier")
			}
			if pass.proof {
				s.plain.Add(1) // no argon2id: the hasher need not make way
			}
			if err := s.checkRemote(sid, pass, guess, client); err != nil {
				pass.wipe()
				return nil, sref, err
			}
			pass.wipe()
			if scr, err = s.derive(labelSecret, key); err != nil {
				// A right passphrase ends its turn all the same.
				rm.eval(scriptReset, [][]byte{sk, rm.name('t', sid)}) //nolint:errcheck // else the turn ends with its time to live
				return nil, sref, err
			}
			d = derivedIn(scr)
			if out, err = s.arena.plain(size); err != nil {
				// A correct passphrase resets the counts all the same.
				rm.eval(scriptReset, [][]byte{sk, rm.name('t', sid)}) //nolint:errcheck // else the turn ends with its time to live
				return nil, sref, err
			}
			checked = true
		default:
			out.Release()
			if !checked {
				s.plain.Add(1)
			}
			if reply[0].Int == rLate {
				return nil, sref, ErrLate
			}
			return nil, sref, ErrNotFound
		}
	}
}

// checkRemote checks guess against the verifier of secret sid, counting
// toward its lockouts in Redis. It returns nil when guess is right, with
// the secret's turn still held: the claim that follows ends it (or
// scriptReset, when the claim cannot be made).
func (s *Store) checkRemote(sid id, pass *passphrase, guess []byte, client netip.Addr) error {
	rm := s.remote
	var pp [hashSize]byte
	gotPass := false
	if pass.proof {
		// Without kp the caller does not hold the link: answered as for
		// an unknown secret, and nothing is counted.
		if !IsProof(guess) {
			return ErrNotFound
		}
		var link [hashSize]byte
		var err error
		if gotPass, err = s.proofHashes(guess, &link, &pp); err != nil {
			return err
		}
		eq := subtle.ConstantTimeCompare(link[:], pass.link[:]) == 1
		clear(link[:])
		if !eq || gotPass && !pass.withPass {
			return ErrNotFound
		}
		if !pass.withPass {
			return nil
		}
	}
	// Nothing guessed, nothing counted: the link without the passphrase,
	// or an empty passphrase, is only checked against the locks.
	count := len(guess) > 0 && (!pass.proof || gotPass)
	unit := []byte(unitName(clientUnit(client)))
	sk, tk := rm.name('s', sid), rm.name('t', sid)
	var token [8]byte
	if _, err := io.ReadFull(s.cfg.Rand, token[:]); err != nil {
		return err
	}
	tok := hex.AppendEncode(nil, token[:])
	turnMS := strconv.AppendInt(nil, (2 * s.cfg.HashWait).Milliseconds(), 10)
	deadline := time.Now().Add(s.cfg.HashWait)
	for pause := time.Millisecond; ; pause = min(2*pause, 20*time.Millisecond) {
		reply, err := rm.eval(scriptAttempt, [][]byte{sk, tk}, ms(s.cfg.Now()), unit, flag(count), tok, turnMS)
		if err != nil {
			return err
		}
		if reply[0].Int == rTurn {
			// Another check runs on this secret, here or on another
			// replica: wait for it, as long as a check may wait.
			if time.Now().After(deadline) {
				return ErrHashBusy
			}
			time.Sleep(pause)
			continue
		}
		switch reply[0].Int {
		case rNotFound:
			return ErrNotFound
		case rPass:
			return &LockoutError{Until: time.UnixMilli(num(reply[1]))}
		}
		break
	}
	if !count {
		return ErrPassphrase
	}
	ok := false
	if pass.proof {
		ok = subtle.ConstantTimeCompare(pp[:], pass.hash[:]) == 1
		clear(pp[:])
	} else if !IsProof(guess) {
		// A proof's shape is never a human passphrase.
		var err error
		if ok, err = s.hasher.matches(guess, pass.salt[:], &pass.hash); err != nil {
			rm.eval(scriptRelease, [][]byte{tk}, tok) //nolint:errcheck // else it ends with its time to live
			return err
		}
	}
	if ok {
		return nil
	}
	now := s.cfg.Now()
	lockUntil := now.Add(lockoutFor)
	if !s.cfg.Deadline.IsZero() && lockUntil.After(s.cfg.Deadline) {
		lockUntil = s.cfg.Deadline
	}
	if _, err := rm.eval(scriptFail, [][]byte{sk, tk}, []byte(rm.prefix), ms(now), ms(now.Add(-lockoutWindow)), unit, ms(lockUntil),
		strconv.AppendInt(nil, lockoutPerIP, 10), strconv.AppendInt(nil, lockoutTotal, 10), tok); err != nil {
		return err
	}
	return ErrPassphrase
}

// unitName is how a client's unit travels: its address, "*" for everyone.
func unitName(a netip.Addr) string {
	if !a.IsValid() {
		return "*"
	}
	return a.String()
}

// remoteLocks reads the failures and locks a secret keeps in Redis into a
// passphrase, so that its rules (triesLeft, lockedUntil) read them.
func remoteLocks(fl, lk []byte) *passphrase {
	p := &passphrase{}
	var fails [][2]json.RawMessage
	if json.Unmarshal(fl, &fails) == nil {
		for _, f := range fails {
			var unit string
			var at int64
			if json.Unmarshal(f[0], &unit) == nil && json.Unmarshal(f[1], &at) == nil {
				a, _ := netip.ParseAddr(unit)
				p.fails = append(p.fails, failure{addr: a, at: time.UnixMilli(at)})
			}
		}
	}
	var locks map[string]int64
	if json.Unmarshal(lk, &locks) == nil && len(locks) > 0 {
		p.lockouts = make(map[netip.Addr]time.Time, len(locks))
		for unit, until := range locks {
			a, _ := netip.ParseAddr(unit)
			p.lockouts[a] = time.UnixMilli(until)
		}
	}
	return p
}

func (s *Store) peekRemote(key []byte, client netip.Addr) (Waiting, error) {
	s.plain.Add(1)
	scr, err := s.derive(labelSecret, key)
	if err != nil {
		return Waiting{}, err
	}
	sid := derivedIn(scr).id()
	scr.Release()
	burnStack()
	rm := s.remote
	now := s.cfg.Now()
	reply, err := rm.eval(scriptPeek, [][]byte{rm.name('s', sid), rm.name('x', sid)},
		[]byte(rm.prefix), ms(now), coarseName(client), []byte{'0' + byte(LatePage)}, maxLateArg)
	if err != nil {
		return Waiting{}, err
	}
	if reply[0].Int == rLate {
		return Waiting{}, ErrLate
	}
	if reply[0].Int != rOK || len(reply) < 9 {
		return Waiting{}, ErrNotFound
	}
	pass, _ := parseVerifier(reply[2].Bytes)
	due, created := num(reply[1]), num(reply[6])
	w := Waiting{
		PassphraseRequired: len(reply[2].Bytes) > 0,
		Proof:              string(reply[3].Bytes) == "1",
		Expires:            time.UnixMilli(due),
		TriesLeft:          -1,
		Created:            time.UnixMilli(created),
		TTL:                time.Duration(due-created) * time.Millisecond,
		CustID:             string(reply[7].Bytes),
		Generated:          string(reply[8].Bytes) == "1",
	}
	if pass != nil && pass.guarded() {
		locks := remoteLocks(reply[4].Bytes, reply[5].Bytes)
		w.TriesLeft = locks.triesLeft(client, now)
		w.LockedUntil = locks.lockedUntil(clientUnit(client), now)
	}
	pass.wipe()
	return w, nil
}

// maxLateArg is MaxLate as the scripts take it.
var maxLateArg = strconv.AppendInt(nil, MaxLate, 10)

// coarseName is how a caller's address is kept on a late attempt: its
// block (Coarse), "" when unknown.
func coarseName(a netip.Addr) []byte {
	p := Coarse(a)
	if !p.IsValid() {
		return []byte{}
	}
	return p.AppendTo(nil)
}

// remoteLate reads a receipt's late attempts (lt, ln) into r.
func remoteLate(r *Receipt, lt, ln []byte) {
	r.Late, r.LateTotal = nil, int(num(resp.Value{Kind: resp.Bulk, Bytes: ln}))
	var raw [][3]string
	if r.LateTotal == 0 || json.Unmarshal(lt, &raw) != nil {
		return
	}
	r.Late = make([]LateAttempt, 0, len(raw))
	for _, a := range raw {
		at, _ := strconv.ParseInt(a[0], 10, 64)
		net, _ := netip.ParsePrefix(a[1])
		kind, _ := strconv.Atoi(a[2])
		r.Late = append(r.Late, LateAttempt{At: time.UnixMilli(at), Net: net, Kind: LateKind(kind)})
	}
}

// remoteFields is how many fields a receipt is read with (rfields).
const remoteFields = 16

// fillRemote reads a receipt's fields (in the order of rfields) into r.
func fillRemote(r *Receipt, f []resp.Value, now time.Time) (sid id, ok bool) {
	if len(f) < remoteFields || f[0].Kind != resp.Bulk {
		return sid, false
	}
	st := State(num(f[0]))
	r.Created = time.UnixMilli(num(f[1]))
	r.Updated = time.UnixMilli(num(f[2]))
	r.SecretExpires = time.UnixMilli(num(f[3]))
	r.ReceiptExpires = time.UnixMilli(num(f[4]))
	if st == StateNew && !now.Before(r.SecretExpires) {
		// Due, and not swept yet: it expired at its due time.
		st, r.Updated = StateExpired, r.SecretExpires
	}
	r.State = st
	r.TTL = r.SecretExpires.Sub(r.Created)
	r.Size = int(num(f[5]))
	copy(r.Ref[:], f[6].Bytes)
	r.CustID = string(f[7].Bytes)
	r.PassphraseRequired = string(f[8].Bytes) == "1"
	r.Proof = string(f[9].Bytes) == "1"
	r.FailedAttempts = int(num(f[10]))
	r.LastFailed = time.Time{}
	if r.FailedAttempts > 0 {
		r.LastFailed = time.UnixMilli(num(f[11]))
	}
	if st == StateReceived {
		r.Received = r.Updated
	}
	r.Generated = string(f[13].Bytes) == "1"
	remoteLate(r, f[14].Bytes, f[15].Bytes)
	_, err := hex.Decode(sid[:], f[12].Bytes)
	return sid, err == nil
}

func (s *Store) receiptRemote(key []byte) (Receipt, error) {
	s.plain.Add(1)
	var r Receipt
	scr, err := s.derive(labelReceipt, key)
	if err != nil {
		return r, err
	}
	defer scr.Release()
	d := derivedIn(scr)
	rm := s.remote
	now := s.cfg.Now()
	reply, err := rm.eval(scriptReceipt, [][]byte{rm.name('r', d.id())}, []byte(rm.prefix), ms(now))
	if err != nil {
		return r, err
	}
	if reply[0].Int != rOK || len(reply) < 3 {
		return r, ErrNotFound
	}
	if _, ok := fillRemote(&r, reply[3:], now); !ok {
		return r, ErrNotFound
	}
	if r.State == StateNew && len(reply[1].Bytes) == sealedKeySize {
		unxorPad(&r.SecretKey, d.key(), reply[1].Bytes)
		copy(r.ShortKey[:], r.SecretKey[:])
		if r.PassphraseRequired {
			r.LockedUntil = remoteLocks(nil, reply[2].Bytes).lockedUntil(netip.Addr{}, now)
		}
	}
	copy(r.ReceiptKey[:], key)
	return r, nil
}

func (s *Store) burnRemote(key, guess []byte, client netip.Addr) (Receipt, error) {
	var r Receipt
	scr, err := s.derive(labelReceipt, key)
	if err != nil {
		return r, err
	}
	defer func() { scr.Release() }()
	rm := s.remote
	rk := rm.name('r', derivedIn(scr).id())
	checked := false
	for {
		now := s.cfg.Now()
		reply, err := rm.eval(scriptBurn, [][]byte{rk, rm.count, rm.due}, []byte(rm.prefix), ms(now), flag(checked))
		if err != nil {
			return r, err
		}
		switch reply[0].Int {
		case rOK:
			if len(reply) < 2+remoteFields || len(reply[1].Bytes) != sealedKeySize {
				return r, ErrNotFound
			}
			fillRemote(&r, reply[2:], now)
			d := derivedIn(scr)
			unxorPad(&r.SecretKey, d.key(), reply[1].Bytes)
			copy(r.ShortKey[:], r.SecretKey[:])
			r.SecretKey.Wipe()
			copy(r.ReceiptKey[:], key)
			rm.burned.Add(1)
			return r, nil
		case rPass:
			if checked || len(reply) < 5 {
				return r, ErrNotFound
			}
			pass, ok := parseVerifier(reply[2].Bytes)
			if !ok {
				return r, errors.New("store: a malformed verifier")
			}
			var sid id
			if _, err := hex.Decode(sid[:], reply[4].Bytes); err != nil {
				return r, ErrNotFound
			}
			// The check may wait for argon2id, holding nothing locked.
			scr.Release()
			scr = nil
			err := s.checkRemote(sid, pass, guess, client)
			pass.wipe()
			if err != nil {
				return r, err
			}
			if scr, err = s.derive(labelReceipt, key); err != nil {
				// A right passphrase ends its turn all the same.
				rm.eval(scriptReset, [][]byte{rm.name('s', sid), rm.name('t', sid)}) //nolint:errcheck // else the turn ends with its time to live
				return r, err
			}
			checked = true
		default:
			s.plain.Add(1)
			return r, ErrNotFound
		}
	}
}

func (s *Store) receiptRefRemote(key []byte) (Ref, bool) {
	r, err := s.receiptRemote(key)
	r.Wipe()
	if err != nil {
		return Ref{}, false
	}
	return r.Ref, true
}

// sweepRemote retires what is due in Redis and reports what expired.
// Every replica sweeps; each due secret is retired by one of them.
func (s *Store) sweepRemote() int {
	rm := s.remote
	rm.checkKey() //nolint:errcheck // keeps the claim alive; checked at start
	s.pruneRemote()
	n := 0
	for {
		reply, err := rm.eval2(scriptSweep, [][]byte{rm.count, rm.due}, []byte(rm.prefix), ms(s.cfg.Now()), []byte(strconv.Itoa(sweepBatch)))
		if err != nil || reply.Kind != resp.Array {
			return n
		}
		for i := 0; i+1 < len(reply.Array); i += 2 {
			rm.expired.Add(1)
			if s.cfg.Expired != nil {
				var ref Ref
				copy(ref[:], reply.Array[i].Bytes)
				s.cfg.Expired(ref, string(reply.Array[i+1].Bytes))
			}
		}
		n += len(reply.Array) / 2
		if len(reply.Array)/2 < sweepBatch {
			return n
		}
	}
}

func (s *Store) statsRemote() Stats {
	rm := s.remote
	st := Stats{
		Created: rm.created.Load(), Revealed: rm.revealed.Load(),
		Burned: rm.burned.Load(), Expired: rm.expired.Load(),
		Secrets: -1, Receipts: -1, Bytes: -1, Requests: -1, Groups: -1,
	}
	v, err := rm.eval(scriptStats, [][]byte{rm.count, rm.groups, rm.asking}, ms(s.cfg.Now()))
	if err == nil && len(v) == 4 {
		st.Secrets, st.Bytes = int(num(v[0])), num(v[1])
		st.Groups, st.Requests = int(num(v[2])), int(num(v[3]))
	}
	return st
}

// Shared reports whether the store keeps its secrets in Redis, shared
// with other replicas.
func (s *Store) Shared() bool { return s.remote != nil }

// keyCheckSum is the keyed hash by which replicas recognise one another's
// process key: it reveals nothing of the key.
func (s *Store) keyCheckSum() []byte {
	var sum [32]byte
	DeriveKeyFrom(s.keys.Bytes(), "otslite redis key check", sum[:])
	out := []byte(hex.EncodeToString(sum[:]))
	clear(sum[:])
	return out
}
