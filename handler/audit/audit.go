// Package audit keeps otslite's audit trail: one JSON line per event on a
// writer (stderr), and the last events in memory for the operator's view.
// Both are gone when the process ends.
//
// Rules for this package:
//   - An event holds no secret content, passphrase, token or link key. A
//     secret is named by Ref: a short fingerprint, keyed with a process key,
//     of the store's own keyed hash of its link (store.Ref). It cannot be
//     turned back into a link, and one secret keeps one Ref from creation
//     to expiry.
//   - Recording never blocks on the writer: lines are written by one
//     goroutine, in order. Should the writer fall behind by more than the
//     queue holds, lines are dropped and a line says how many.
//   - Record may be called with other locks held (the store reports
//     expiry under its lock), so it takes only its own.
package audit

import (
	"encoding/hex"
	"io"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/awnumar/memguard"

	"otslite/handler/access"
)

// What happened: the action an event is about.
const (
	SessionStart = "session_start"
	SessionEnd   = "session_end" // Outcome is why: idle, lifetime, drained, operator, signal, failure
	Reload       = "reload"      // the token file was read again
	Create       = "create"
	Generate     = "generate"
	Reveal       = "reveal"
	Burn         = "burn"
	Expire       = "expire"
	Receipt      = "receipt"
	Recent       = "recent"
	Authcheck    = "authcheck"
	Status       = "status"
	Peek         = "peek"          // the UI asking whether a secret waits
	End          = "end"           // the operator ending the session
	View         = "audit_view"    // the operator reading the trail
	Dropped      = "audit_dropped" // Outcome is how many lines the writer missed
)

// How it ended.
const (
	OK              = "ok"
	Failed          = "failed"
	Unknown         = "unknown" // no such secret (or no longer)
	WrongPassphrase = "wrong_passphrase"
	NoPassphrase    = "no_passphrase"
	LockedOut       = "locked_out" // too many wrong passphrases on that secret
	DeniedNetwork   = "denied_network"
	DeniedHours     = "denied_hours"
	DeniedToken     = "denied_token" // missing, unknown or malformed credential
	RateLimited     = "rate_limited"
)

// Event is one entry of the trail.
type Event struct {
	Time    time.Time
	Event   string     // one of the actions above
	Ref     string     // the secret's fingerprint; "" when none
	IP      netip.Addr // the client; invalid when none
	User    string     // the credential's username; "" when none
	Outcome string     // one of the outcomes above, or a session's end reason
}

// AppendJSON appends e as one JSON object, without a newline.
func (e *Event) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"time":"`...)
	dst = e.Time.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	dst = append(dst, `","event":`...)
	dst = appendString(dst, e.Event)
	dst = append(dst, `,"ref":`...)
	dst = appendString(dst, e.Ref)
	dst = append(dst, `,"ip":"`...)
	if e.IP.IsValid() {
		dst = e.IP.AppendTo(dst)
	}
	dst = append(dst, `","user":`...)
	dst = appendString(dst, e.User)
	dst = append(dst, `,"outcome":`...)
	dst = appendString(dst, e.Outcome)
	return append(dst, '}')
}

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20 || c == 0x7f || c >= 0x80:
			// Usernames are printable ASCII; anything else is shown,
			// not passed through.
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// Config sets up a Trail.
type Config struct {
	Out   io.Writer        // where lines go; nil: none (the operator asked for quiet)
	Keep  int              // events kept in memory; default DefaultKeep
	Queue int              // lines waiting for the writer; default 4096
	Now   func() time.Time // default time.Now
}

// DefaultKeep is how many events the operator's view keeps by default.
const DefaultKeep = 1000

// Trail records events. Make one with New; Close it to flush.
type Trail struct {
	cfg Config
	key *memguard.LockedBuffer

	mu      sync.Mutex
	ring    []Event
	next    int // where the next event goes in ring
	full    bool
	lines   chan Event // nil when quiet
	closed  bool
	dropped uint64

	done chan struct{}
}

// New starts a trail.
func New(cfg Config) *Trail {
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &Trail{
		cfg:  cfg,
		key:  memguard.NewBufferRandom(32),
		ring: make([]Event, cfg.Keep),
		done: make(chan struct{}),
	}
	t.key.Freeze()
	if cfg.Out != nil {
		t.lines = make(chan Event, cfg.Queue)
		go t.write()
	} else {
		close(t.done)
	}
	return t
}

// Record adds e to the trail, stamping it with the time when it has none.
// A nil Trail records nothing.
func (t *Trail) Record(e Event) {
	if t == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = t.cfg.Now()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ring[t.next] = e
	t.next++
	if t.next == len(t.ring) {
		t.next, t.full = 0, true
	}
	if t.lines == nil || t.closed {
		return
	}
	select {
	case t.lines <- e:
	default:
		t.dropped++
	}
}

// Events returns the events kept in memory, oldest first.
func (t *Trail) Events() []Event {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.full {
		return append([]Event(nil), t.ring[:t.next]...)
	}
	return append(append([]Event(nil), t.ring[t.next:]...), t.ring[:t.next]...)
}

// Ref returns the fingerprint that names a secret in the trail: 12 hex
// digits of SHA3-256(label || process key || ref), where ref is the store's
// keyed hash of the secret's link.
func (t *Trail) Ref(ref [16]byte) string {
	if t == nil || !t.key.IsAlive() {
		return ""
	}
	var in [8 + 32 + 16]byte
	n := copy(in[:], "auditref")
	n += copy(in[n:], t.key.Bytes())
	copy(in[n:], ref[:])
	var sum [32]byte
	access.Hash(&sum, in[:])
	clear(in[:])
	return hex.EncodeToString(sum[:6])
}

// Close writes every line still queued, stops the writer and wipes the
// fingerprint key. Events recorded afterwards are only kept in memory.
func (t *Trail) Close() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		if t.lines != nil {
			close(t.lines)
		}
	}
	t.mu.Unlock()
	<-t.done
	t.key.Destroy()
}

// write is the one goroutine that writes lines, in the order recorded.
func (t *Trail) write() {
	defer close(t.done)
	line := make([]byte, 0, 256)
	for e := range t.lines {
		line = append(e.AppendJSON(line[:0]), '\n')
		t.cfg.Out.Write(line) //nolint:errcheck // nowhere else to report it
		t.mu.Lock()
		n := t.dropped
		t.dropped = 0
		t.mu.Unlock()
		if n > 0 {
			d := Event{Time: t.cfg.Now(), Event: Dropped, Outcome: strconv.FormatUint(n, 10)}
			line = append(d.AppendJSON(line[:0]), '\n')
			t.cfg.Out.Write(line) //nolint:errcheck // as above
		}
	}
}
