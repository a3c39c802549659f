package store

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestRef(t *testing.T) {
	s, _ := MustOpenStore(t)
	a := MustCreate(t, s, "a", CreateOptions{CustID: "alice"})
	b := MustCreate(t, s, "b", CreateOptions{})
	if a.Ref == (Ref{}) || a.Ref == b.Ref {
		t.Fatalf("refs %x and %x", a.Ref, b.Ref)
	}
	if r, ok := s.SecretRef(a.SecretKey[:]); !ok || r != a.Ref {
		t.Errorf("SecretRef = %x, %v; want %x", r, ok, a.Ref)
	}
	if r, ok := s.ReceiptRef(a.ReceiptKey[:]); !ok || r != a.Ref {
		t.Errorf("ReceiptRef = %x, %v; want %x", r, ok, a.Ref)
	}
	rc, err := s.Receipt(a.ReceiptKey[:])
	if err != nil || rc.Ref != a.Ref {
		t.Errorf("Receipt().Ref = %x, %v; want %x", rc.Ref, err, a.Ref)
	}
	// A Ref is no part of a link or of an index.
	sid, rid := indexOf(s, labelSecret, a.SecretKey), indexOf(s, labelReceipt, a.ReceiptKey)
	for _, k := range [][]byte{a.SecretKey[:], a.ReceiptKey[:], sid[:], rid[:]} {
		for i := 0; i+refSize <= len(k); i++ {
			if slices.Equal(k[i:i+refSize], a.Ref[:]) {
				t.Errorf("Ref %x is part of %x", a.Ref, k)
			}
		}
	}
	p, r, err := s.Reveal(a.SecretKey[:], nil, alice)
	if err != nil || r != a.Ref {
		t.Fatalf("Reveal: ref %x, %v; want %x", r, err, a.Ref)
	}
	p.Release()
	if _, r, err := s.Reveal(a.SecretKey[:], nil, alice); !errors.Is(err, ErrNotFound) || r != a.Ref {
		t.Errorf("Reveal of a revealed secret: ref %x, %v; want %x, ErrNotFound", r, err, a.Ref)
	}
	// The secret key still names it once it is gone; the receipt too while kept.
	if r, ok := s.SecretRef(a.SecretKey[:]); !ok || r != a.Ref {
		t.Errorf("SecretRef after reveal = %x, %v", r, ok)
	}
	if r, ok := s.ReceiptRef(a.ReceiptKey[:]); !ok || r != a.Ref {
		t.Errorf("ReceiptRef after reveal = %x, %v", r, ok)
	}
	if _, ok := s.SecretRef([]byte("not a key")); ok {
		t.Error("SecretRef of a malformed key")
	}
	if _, ok := s.ReceiptRef(b.SecretKey[:]); ok {
		t.Error("ReceiptRef of a secret key")
	}
}

func TestExpiredHook(t *testing.T) {
	type call struct {
		ref    Ref
		custID string
	}
	var mu sync.Mutex
	var calls []call
	s, clock := MustOpenStore(t, func(c *Config) {
		c.Expired = func(ref Ref, custID string) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{ref, custID})
		}
	})
	swept := MustCreate(t, s, "swept", CreateOptions{TTL: time.Minute, CustID: "alice"})
	onRead := MustCreate(t, s, "read late", CreateOptions{TTL: 2 * time.Minute, CustID: "anon"})
	revealed := MustCreate(t, s, "revealed", CreateOptions{TTL: time.Minute})
	burned := MustCreate(t, s, "burned", CreateOptions{TTL: time.Minute})
	if _, err := reveal(s, revealed.SecretKey, "", alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Burn(burned.ReceiptKey[:], nil, alice); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	s.Sweep()
	clock.Add(time.Minute)
	if _, err := reveal(s, onRead.SecretKey, "", alice); err == nil {
		t.Fatal("revealed after its ttl")
	}
	s.Sweep()
	mu.Lock()
	defer mu.Unlock()
	want := []call{{swept.Ref, "alice"}, {onRead.Ref, "anon"}}
	if !slices.Equal(calls, want) {
		t.Errorf("Expired called with %x; want %x (once per expired secret, never for revealed or burned ones)", calls, want)
	}
}
