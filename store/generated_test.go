package store

import (
	"net/netip"
	"testing"
	"time"
)

func TestShowGenerated(t *testing.T) {
	show := func(s *Store, key Key, window time.Duration) string {
		t.Helper()
		p, err := s.ShowGenerated(key[:], window)
		if err != nil {
			t.Fatalf("ShowGenerated: %v", err)
		}
		if p == nil {
			return ""
		}
		defer p.Release()
		return string(p.Bytes())
	}
	t.Run("OnceWithoutConsuming", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		r := MustCreate(t, s, "Gen3rated!", CreateOptions{TTL: time.Hour, Generated: true})
		if !r.Generated {
			t.Error("receipt does not say generated")
		}
		if got := show(s, r.ReceiptKey, time.Minute); got != "Gen3rated!" {
			t.Fatalf("first look = %q", got)
		}
		if got := show(s, r.ReceiptKey, time.Minute); got != "" {
			t.Errorf("second look = %q, want nothing", got)
		}
		if v, err := reveal(s, r.SecretKey, "", netip.Addr{}); err != nil || v != "Gen3rated!" {
			t.Errorf("reveal after the look: %q, %v", v, err)
		}
	})
	t.Run("NothingToShow", func(t *testing.T) {
		s, clock := MustOpenStore(t)
		concealed := MustCreate(t, s, "typed", CreateOptions{TTL: time.Hour})
		late := MustCreate(t, s, "late", CreateOptions{TTL: time.Hour, Generated: true})
		revealed := MustCreate(t, s, "gone", CreateOptions{TTL: time.Hour, Generated: true})
		if _, err := reveal(s, revealed.SecretKey, "", netip.Addr{}); err != nil {
			t.Fatal(err)
		}
		if got := show(s, concealed.ReceiptKey, time.Minute); got != "" {
			t.Errorf("a concealed secret shown: %q", got)
		}
		if got := show(s, revealed.ReceiptKey, time.Minute); got != "" {
			t.Errorf("a revealed secret shown: %q", got)
		}
		clock.Add(time.Minute)
		if got := show(s, late.ReceiptKey, time.Minute); got != "" {
			t.Errorf("shown past the window: %q", got)
		}
		// A secret key is not a receipt key.
		if got := show(s, late.SecretKey, time.Hour); got != "" {
			t.Errorf("shown for its secret key: %q", got)
		}
	})
}
