// Package audit keeps otslite's audit trail: one JSON line per event on a
// writer (stderr), and the last events in memory for the operator's view.
// Both are gone when the process ends.
//
// Rules for this package:
//   - An event holds no secret content, passphrase, token or link key. A
//     secret is named by Ref: part of the store's keyed hash of its link
//     (store.Ref). It cannot be turned back into a link, and one secret
//     keeps one Ref from creation to expiry.
//   - Recording never blocks on the writer: lines are written by one
//     goroutine, in order, in batches (see DefaultDelay). Should the writer
//     fall behind by more than the queue holds, lines are dropped and a
//     line says how many.
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

	"otslite/store"
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
	Group        = "group"         // secrets gathered under one group receipt
	LateOpen     = "late_open"     // a link opened after its secret was gone; Outcome is page or reveal
	Request      = "request"       // a request for a secret made
	Answer       = "answer"        // a request answered
	Inbox        = "inbox"         // a requester asking after their request
	End          = "end"           // the operator ending the session
	View         = "audit_view"    // the operator reading the trail
	Dropped      = "audit_dropped" // Outcome is how many lines the writer missed
	Store        = "store"         // the shared store became unavailable, or available again
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
	DeniedToken     = "denied_token"  // missing, unknown or malformed credential
	DeniedOrigin    = "denied_origin" // a browser request from another site
	RateLimited     = "rate_limited"
	Unavailable     = "unavailable" // the shared store (Redis) could not be reached
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
	var s stamper
	return e.appendJSON(dst, &s)
}

func (e *Event) appendJSON(dst []byte, s *stamper) []byte {
	dst = append(dst, `{"time":"`...)
	dst = s.appendTime(dst, e.Time)
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

// appendString appends s as a JSON string. Runs of printable ASCII other
// than '"' and backslash are copied at once.
func appendString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' {
			i++
		}
		dst = append(dst, s[:i]...)
		if i == len(s) {
			break
		}
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			// Usernames are printable ASCII; anything else is shown,
			// not passed through.
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		}
		s = s[i+1:]
	}
	return append(dst, '"')
}

// Config sets up a Trail.
type Config struct {
	Out   io.Writer        // where lines go; nil: none (the operator asked for quiet)
	Keep  int              // events kept in memory; default DefaultKeep
	Queue int              // lines waiting for the writer; default 4096
	Delay time.Duration    // how long lines gather before a write; default DefaultDelay
	Now   func() time.Time // default time.Now
}

// DefaultKeep is how many events the operator's view keeps by default.
const DefaultKeep = 1000

// DefaultDelay is how long a line may wait for others to share its write.
// One write per event would cost a system call and a goroutine switch
// per request; a busy server writes hundreds of lines at once instead.
const DefaultDelay = 10 * time.Millisecond

// Trail records events. Make one with New; Close it to flush.
type Trail struct {
	cfg Config

	mu      sync.Mutex
	ring    []Event
	next    int // where the next event goes in ring
	full    bool
	lines   []byte // formatted lines waiting for the writer
	queued  int    // how many
	stamp   stamper
	closed  bool
	dropped uint64

	wake chan struct{} // a line waits; nil when quiet
	stop chan struct{} // closed by Close
	done chan struct{}

	mirror *mirror // the view shared by replicas (shared.go); nil: none
}

// New starts a trail.
func New(cfg Config) *Trail {
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 4096
	}
	if cfg.Delay <= 0 {
		cfg.Delay = DefaultDelay
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &Trail{
		cfg:  cfg,
		ring: make([]Event, cfg.Keep),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if cfg.Out != nil {
		t.wake = make(chan struct{}, 1)
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
	if t.mirror != nil {
		t.mirror.push(e)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ring[t.next] = e
	t.next++
	if t.next == len(t.ring) {
		t.next, t.full = 0, true
	}
	if t.wake == nil || t.closed {
		return
	}
	if t.queued >= t.cfg.Queue {
		t.dropped++
		return
	}
	t.lines = append(e.appendJSON(t.lines, &t.stamp), '\n')
	t.queued++
	if t.queued == 1 {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// Events returns the events kept in memory, oldest first; with a shared
// view (Share), every replica's.
func (t *Trail) Events() []Event {
	if t == nil {
		return nil
	}
	if t.mirror != nil {
		if events, err := t.mirror.events(); err == nil {
			return events
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.full {
		return append([]Event(nil), t.ring[:t.next]...)
	}
	return append(append([]Event(nil), t.ring[t.next:]...), t.ring[:t.next]...)
}

// Ref returns the name a secret has in the trail: 12 hex digits of its
// store.Ref, a keyed hash of its link that is neither the link, its key
// nor the store's index. A nil Trail and the zero Ref (no secret) name
// nothing.
func (t *Trail) Ref(ref store.Ref) string {
	if t == nil || ref == (store.Ref{}) {
		return ""
	}
	return hex.EncodeToString(ref[:6])
}

// Close writes every line still waiting and stops the writer. Events
// recorded afterwards are only kept in memory.
func (t *Trail) Close() {
	if t.mirror != nil {
		t.mirror.close()
	}
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.stop)
	}
	t.mu.Unlock()
	<-t.done
}

// write is the one goroutine that writes lines, in the order recorded: it
// waits for a first line, lets others gather for cfg.Delay (less when the
// trail closes), and writes them all at once.
func (t *Trail) write() {
	defer close(t.done)
	var spare []byte
	for {
		stopping := false
		select {
		case <-t.wake:
			delay := time.NewTimer(t.cfg.Delay)
			select {
			case <-delay.C:
			case <-t.stop:
				delay.Stop()
				stopping = true
			}
		case <-t.stop:
			stopping = true
		}
		t.mu.Lock()
		batch, n := t.lines, t.dropped
		t.lines, t.queued, t.dropped = spare[:0], 0, 0
		t.mu.Unlock()
		if n > 0 {
			d := Event{Time: t.cfg.Now(), Event: Dropped, Outcome: strconv.FormatUint(n, 10)}
			batch = append(d.AppendJSON(batch), '\n')
		}
		if len(batch) > 0 {
			t.cfg.Out.Write(batch) //nolint:errcheck // nowhere else to report it
		}
		spare = batch
		if stopping {
			return
		}
	}
}

// stamper formats event times, reusing the part that changes once a second.
type stamper struct {
	sec    int64
	prefix []byte // "2006-01-02T15:04:05." of sec
}

// appendTime appends t (UTC) as "2006-01-02T15:04:05.000Z".
func (s *stamper) appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	if sec := t.Unix(); sec != s.sec || s.prefix == nil {
		s.sec = sec
		s.prefix = t.AppendFormat(s.prefix[:0], "2006-01-02T15:04:05.")
	}
	ms := t.Nanosecond() / 1e6
	return append(append(dst, s.prefix...), byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}
