package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// runSession runs s in the background; the returned channel gets its reason.
func runSession(ctx context.Context, s *session) <-chan string {
	why := make(chan string, 1)
	go func() { why <- s.Run(ctx) }()
	return why
}

func mustEnd(t *testing.T, why <-chan string, want string) {
	t.Helper()
	select {
	case got := <-why:
		if got != want {
			t.Fatalf("session ended by %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("session did not end (want %q)", want)
	}
}

func mustNotEnd(t *testing.T, why <-chan string) {
	t.Helper()
	select {
	case got := <-why:
		t.Fatalf("session ended early by %q", got)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestSessionIdle(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	s := newSession(sessionConfig{Idle: time.Minute, Now: clock.Now, Tick: time.Millisecond})
	why := runSession(context.Background(), s)
	clock.Add(59 * time.Second)
	mustNotEnd(t, why)
	s.Touch() // activity restarts the window
	clock.Add(59 * time.Second)
	mustNotEnd(t, why)
	clock.Add(time.Second + time.Millisecond) // the window and a tick
	mustEnd(t, why, endIdle)
}

// TestSessionIdleFromTheLastActivity: a touch within a tick keeps no
// time of its own (Touch reads the clock once a tick), yet the window
// still runs in full after it.
func TestSessionIdleFromTheLastActivity(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	s := newSession(sessionConfig{Idle: time.Minute, Now: clock.Now, Tick: time.Second})
	s.touched.Store(false) // as after a tick
	s.Touch()
	clock.Add(900 * time.Millisecond)
	s.Touch() // the last activity, within the same tick
	last := clock.Now()
	clock.Add(time.Minute - time.Millisecond)
	if s.idleOver(clock.Now()) {
		t.Errorf("the window of %s was over %s after the last activity", time.Minute, clock.Now().Sub(last))
	}
	clock.Add(time.Second)
	if !s.idleOver(clock.Now()) {
		t.Errorf("the window of %s still ran %s after the last activity (tick %s)", time.Minute, clock.Now().Sub(last), time.Second)
	}
}

func TestSessionLifetime(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	s := newSession(sessionConfig{End: clock.Now().Add(time.Hour), Now: clock.Now, Tick: time.Millisecond})
	why := runSession(context.Background(), s)
	clock.Add(59 * time.Minute)
	s.Touch() // activity does not extend a lifetime
	mustNotEnd(t, why)
	clock.Add(time.Minute)
	mustEnd(t, why, endLifetime)
}

func TestSessionDrained(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	var drained atomic.Bool
	s := newSession(sessionConfig{ExitWhenDrained: true, Drained: drained.Load, Now: clock.Now, Tick: time.Millisecond})
	why := runSession(context.Background(), s)
	drained.Store(true)
	mustNotEnd(t, why)
	clock.Add(drainGrace / 2)
	mustNotEnd(t, why)
	drained.Store(false) // a new secret arrived within the grace
	mustNotEnd(t, why)
	drained.Store(true)
	mustNotEnd(t, why)
	clock.Add(drainGrace / 2)
	mustNotEnd(t, why) // the grace starts again from the new drain
	clock.Add(drainGrace)
	mustEnd(t, why, endDrained)
}

func TestSessionDrainedOff(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	s := newSession(sessionConfig{Drained: func() bool { return true }, Now: clock.Now, Tick: time.Millisecond})
	why := runSession(context.Background(), s)
	clock.Add(time.Hour)
	mustNotEnd(t, why)
	s.End()
	mustEnd(t, why, endOperator)
}

func TestSessionSignal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := newSession(sessionConfig{})
	why := runSession(ctx, s)
	mustNotEnd(t, why)
	cancel()
	mustEnd(t, why, endSignal)
}

// Between two ticks only the first Touch reads the clock: a busy server
// does not read it once per request. The next tick lets the next Touch
// record its time again.
func TestSessionTouchReadsClockOncePerTick(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	var reads atomic.Int64
	now := func() time.Time { reads.Add(1); return clock.Now() }
	s := newSession(sessionConfig{Idle: time.Minute, Now: now, Tick: time.Hour})
	s.touched.Store(false) // as after a tick
	reads.Store(0)
	clock.Add(10 * time.Second)
	for range 1000 {
		s.Touch()
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("1000 touches read the clock %d times, want 1", n)
	}
	if got, want := s.lastActive.Load(), clock.Now().UnixNano(); got != want {
		t.Errorf("last activity at %d, want %d", got, want)
	}
	s.touched.Store(false) // the next tick
	clock.Add(10 * time.Second)
	s.Touch()
	if got, want := s.lastActive.Load(), clock.Now().UnixNano(); got != want {
		t.Errorf("after a tick, last activity at %d, want %d", got, want)
	}
}

// TestSessionIdleWaits: the idle window does not run while a secret waits,
// and starts afresh when the last one goes.
func TestSessionIdleWaits(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	var waiting atomic.Bool
	waiting.Store(true)
	s := newSession(sessionConfig{Idle: time.Minute, Waiting: waiting.Load, Now: clock.Now, Tick: time.Millisecond})
	why := runSession(context.Background(), s)
	clock.Add(time.Hour)
	mustNotEnd(t, why)
	waiting.Store(false) // read, burned or expired
	mustNotEnd(t, why)
	clock.Add(59 * time.Second)
	mustNotEnd(t, why)
	clock.Add(time.Second + time.Millisecond) // the window and a tick
	mustEnd(t, why, endIdle)
}

// TestSessionLifetimeWithSecretWaiting: the lifetime is the hard end, a
// waiting secret or not.
func TestSessionLifetimeWithSecretWaiting(t *testing.T) {
	clock := &testClock{t: time.Unix(1_700_000_000, 0)}
	s := newSession(sessionConfig{Idle: time.Minute, End: clock.Now().Add(time.Hour), Waiting: func() bool { return true }, Now: clock.Now, Tick: time.Millisecond})
	why := runSession(context.Background(), s)
	clock.Add(59 * time.Minute)
	mustNotEnd(t, why)
	clock.Add(time.Minute)
	mustEnd(t, why, endLifetime)
}
