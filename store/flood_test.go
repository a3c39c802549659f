package store

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A passphrase check waiting for an argon2id worker holds no locked
// memory: with every worker busy and a hundred passphrase creates queued
// (more than there are scratch slots), plain creates and reveals still get
// the memory they need.
func TestHashWaitHoldsNoLockedMemory(t *testing.T) {
	s, _ := MustOpenStore(t, func(c *Config) { c.HashWorkers = 1; c.HashWait = 30 * time.Second })
	value, err := s.Plain(8)
	if err != nil {
		t.Fatal(err)
	}
	value.SetLen(copy(value.Buf(), "guarded!"))

	// Hold the only worker, as a long hash would.
	s.hasher.slots <- struct{}{}
	released := false
	release := func() {
		if !released {
			released = true
			<-s.hasher.slots
		}
	}
	const waiters = 100
	var wg sync.WaitGroup
	var done atomic.Int32
	errs := make(chan error, waiters)
	defer func() {
		release()
		wg.Wait()
		value.Release()
	}()
	for range waiters {
		wg.Go(func() {
			r, err := s.Create(value, CreateOptions{TTL: time.Hour, Passphrase: []byte("open sesame")})
			r.Wipe()
			done.Add(1)
			errs <- err
		})
	}
	// Until every create has started waiting (or failed), a plain request
	// could slip in before them.
	for deadline := time.Now().Add(30 * time.Second); int(s.hasher.active.Load()+done.Load()) < waiters; {
		if time.Now().After(deadline) {
			release()
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("passphrase create: %v", err)
					break
				}
			}
			t.Fatalf("%d of %d passphrase creates are waiting", s.hasher.active.Load(), waiters)
		}
		time.Sleep(time.Millisecond)
	}
	for i := range 50 {
		p, err := s.Plain(5)
		if err != nil {
			t.Fatalf("plain pair %d beside %d waiting passphrase checks: %v", i, waiters, err)
		}
		p.SetLen(copy(p.Buf(), "plain"))
		r, err := s.Create(p, CreateOptions{TTL: time.Hour})
		p.Release()
		if err != nil {
			t.Fatalf("plain pair %d beside %d waiting passphrase checks: %v", i, waiters, err)
		}
		if got, err := reveal(s, r.SecretKey, "", alice); err != nil || got != "plain" {
			t.Fatalf("plain pair %d beside %d waiting passphrase checks: %q, %v", i, waiters, got, err)
		}
	}
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("passphrase create after the worker freed up: %v", err)
		}
	}
}

// Per-address lockouts count an IPv6 client by its /64, the block one
// subscriber holds: eight addresses of one /64 get five guesses between
// them, not five each.
func TestLockoutGroupsIPv6By64(t *testing.T) {
	s, _ := MustOpenStore(t)
	r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("pw12")})
	guesses := 0
	var lock *LockoutError
	for i := range 8 {
		from := netip.MustParseAddr("2001:db8:1:2::").As16()
		from[15] = byte(i + 1)
		from[8] = byte(i * 17)
		for range 2 {
			_, err := reveal(s, r.SecretKey, "nope", netip.AddrFrom16(from))
			if errors.As(err, &lock) {
				break
			}
			if !errors.Is(err, ErrPassphrase) {
				t.Fatalf("guess %d: %v", guesses+1, err)
			}
			guesses++
		}
	}
	if guesses != lockoutPerIP {
		t.Errorf("one /64 made %d wrong guesses before its lockout, want %d", guesses, lockoutPerIP)
	}
	other := netip.MustParseAddr("2001:db8:1:3::1")
	if got, err := reveal(s, r.SecretKey, "pw12", other); err != nil || got != "guarded" {
		t.Errorf("another /64: %q, %v", got, err)
	}
}
