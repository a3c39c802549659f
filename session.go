package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// A session ends on the first of: the idle window passing with no secret
// waiting and no activity (what counts is the handler's to say, see
// handler/activity.go), the lifetime running out, every secret created
// having been consumed (when asked for), the operator ending it, or the
// context ending (a signal). Run reports which.
//
// A waiting secret is a promise to its recipient: while one waits, the
// idle window does not run, and it starts afresh when the last one is
// read, burned or expired. Only the lifetime (which caps every ttl), the
// operator and signals end a session with secrets waiting.

// Why a session ended.
const (
	endSignal   = "signal"
	endIdle     = "idle"
	endLifetime = "lifetime"
	endDrained  = "drained"
	endOperator = "operator"
)

// drainGrace lets the response that consumed the last secret reach its
// client before a drained session ends. The server's own graceful shutdown
// then finishes whatever is still in flight.
const drainGrace = 500 * time.Millisecond

type sessionConfig struct {
	Idle            time.Duration // 0: no idle window
	End             time.Time     // zero: no lifetime
	ExitWhenDrained bool
	Drained         func() bool // true once a secret was created and none waits
	Waiting         func() bool // true while a secret waits; nil: never
	Now             func() time.Time
	Tick            time.Duration // how often conditions are checked
}

type session struct {
	cfg        sessionConfig
	lastActive atomic.Int64 // unix nanoseconds
	touched    atomic.Bool  // Touch recorded a time since the last tick
	endOnce    sync.Once
	ended      chan struct{}
}

func newSession(cfg sessionConfig) *session {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	s := &session{cfg: cfg, ended: make(chan struct{})}
	s.Touch()
	return s
}

// Touch records activity (see the handler's Config.Activity). Only the
// first Touch after each tick reads the clock, so a busy server reads it
// once a tick rather than once a request: the time kept is at most one
// tick before the last activity, and idleOver waits a tick longer for it.
func (s *session) Touch() {
	if s.touched.Load() {
		return
	}
	s.lastActive.Store(s.cfg.Now().UnixNano())
	s.touched.Store(true)
}

// idleOver reports whether the idle window has passed since the last
// activity. lastActive may be up to a tick early (Touch), so the window
// is counted from a tick after it: the session never ends sooner than the
// window after the last activity, and at most two ticks later.
func (s *session) idleOver(now time.Time) bool {
	return s.cfg.Idle > 0 && now.Sub(time.Unix(0, s.lastActive.Load())) >= s.cfg.Idle+s.cfg.Tick
}

// End asks the session to end (the operator's request).
func (s *session) End() { s.endOnce.Do(func() { close(s.ended) }) }

// Run waits until the session is over and returns why.
func (s *session) Run(ctx context.Context) string {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	var drainedSince time.Time
	for {
		select {
		case <-ctx.Done():
			return endSignal
		case <-s.ended:
			return endOperator
		case <-t.C:
		}
		s.touched.Store(false)
		if s.cfg.Waiting != nil && s.cfg.Waiting() {
			s.Touch()
		}
		now := s.cfg.Now()
		switch {
		case s.idleOver(now):
			return endIdle
		case !s.cfg.End.IsZero() && !now.Before(s.cfg.End):
			return endLifetime
		}
		if s.cfg.ExitWhenDrained && s.cfg.Drained != nil {
			if !s.cfg.Drained() {
				drainedSince = time.Time{}
			} else if drainedSince.IsZero() {
				drainedSince = now
			} else if now.Sub(drainedSince) >= drainGrace {
				return endDrained
			}
		}
	}
}
