package store

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// newProof returns a random proof's wire form, with a pp when withPass,
// and its decoded parts.
func newProof(withPass bool) (wire string, kp, pp []byte) {
	kp, pp = make([]byte, proofBytes), make([]byte, proofBytes)
	rand.Read(kp)
	rand.Read(pp)
	wire = "zk1." + base64.RawURLEncoding.EncodeToString(kp)
	if !withPass {
		return wire, kp, nil
	}
	return wire + "." + base64.RawURLEncoding.EncodeToString(pp), kp, pp
}

// withPP returns wire (a proof with a pp) with its pp replaced.
func withPP(wire string) string {
	other, _, _ := newProof(true)
	return wire[:ProofLen] + other[ProofLen:]
}

func TestIsProof(t *testing.T) {
	good, _, _ := newProof(false)
	goodPass, _, _ := newProof(true)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{good, true},
		{goodPass, true},
		{"zk1." + strings.Repeat("A", 43), true},
		{"zk1." + strings.Repeat("_", 43) + "." + strings.Repeat("-", 43), true},
		{good[:ProofLen-1], false},
		{good + "A", false},
		{good + ".", false},
		{goodPass[:ProofPassLen-1], false},
		{goodPass + "A", false},
		{"ZK1." + good[4:], false},
		{"zk1:" + good[4:], false},
		{"zk2." + good[4:], false},
		{good[:10] + "+" + good[11:], false},
		{good[:10] + "=" + good[11:], false},
		{good[:10] + "/" + good[11:], false},
		{goodPass[:ProofLen] + "," + goodPass[ProofLen+1:], false},
		{goodPass[:60] + "." + goodPass[61:], false},
		{strings.Repeat("a", ProofLen), false},
		{"", false},
	} {
		if got := IsProof([]byte(tc.in)); got != tc.ok {
			t.Errorf("IsProof(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

func FuzzIsProof(f *testing.F) {
	p, _, _ := newProof(false)
	pp, _, _ := newProof(true)
	f.Add([]byte(p))
	f.Add([]byte(pp))
	f.Add([]byte("zk1.abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		want := len(b) >= ProofLen && string(b[:4]) == "zk1." && b64Only(b[4:ProofLen]) &&
			(len(b) == ProofLen || len(b) == ProofPassLen && b[ProofLen] == '.' && b64Only(b[ProofLen+1:]))
		if got := IsProof(b); got != want {
			t.Fatalf("IsProof(%q) = %v, want %v", b, got, want)
		}
		if want {
			var out [proofBytes]byte
			decodePart(out[:], b[4:ProofLen])
			ref, err := base64.RawURLEncoding.Strict().DecodeString(string(b[4:ProofLen]))
			if err == nil && !bytes.Equal(out[:], ref) {
				t.Fatalf("decodePart(%q) = %x, want %x", b[4:ProofLen], out, ref)
			}
		}
	})
}

func b64Only(b []byte) bool {
	for _, c := range b {
		if !strings.ContainsRune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", rune(c)) {
			return false
		}
	}
	return true
}

// A proof is checked by keyed hashes alone: with every argon2id worker
// held and no wait allowed, proof secrets are made, revealed and burned,
// while a human passphrase gets ErrHashBusy.
func TestProofNeedsNoArgon2(t *testing.T) {
	s, _ := MustOpenStore(t, func(c *Config) { c.HashWorkers = 1; c.HashWait = time.Millisecond })
	s.hasher.slots <- struct{}{}
	defer func() { <-s.hasher.slots }()
	for _, withPass := range []bool{false, true} {
		wire, _, _ := newProof(withPass)
		r := MustCreate(t, s, "zk", CreateOptions{Passphrase: []byte(wire)})
		if !r.PassphraseRequired || !r.Proof {
			t.Errorf("receipt of a proof secret: passphrase required %v, proof %v", r.PassphraseRequired, r.Proof)
		}
		if got, err := reveal(s, r.SecretKey, wire, alice); err != nil || got != "zk" {
			t.Errorf("reveal with the proof (pp %v): %q, %v", withPass, got, err)
		}
		b := MustCreate(t, s, "zk", CreateOptions{Passphrase: []byte(wire)})
		if _, err := s.Burn(b.ReceiptKey[:], nil, alice); err != nil {
			t.Errorf("burn (pp %v): %v", withPass, err)
		}
	}
	p, _ := s.Plain(1)
	defer p.Release()
	p.SetLen(copy(p.Buf(), "x"))
	if _, err := s.Create(p, CreateOptions{TTL: time.Hour, Passphrase: []byte("open sesame")}); !errors.Is(err, ErrHashBusy) {
		t.Errorf("human passphrase with no worker free: %v, want ErrHashBusy", err)
	}
}

// The store keeps keyed hashes of kp and pp, never the proof or its parts.
func TestProofKeptAsKeyedHashes(t *testing.T) {
	s, _ := MustOpenStore(t)
	wire, kp, pp := newProof(true)
	r := MustCreate(t, s, "zk", CreateOptions{Passphrase: []byte(wire)})
	sid := indexOf(s, labelSecret, r.SecretKey)
	ref := s.secrets.get(&sid)
	pass := s.passes[ref]
	if pass == nil || !pass.proof || !pass.withPass {
		t.Fatalf("verifier %+v", pass)
	}
	kept := unsafe.Slice((*byte)(unsafe.Pointer(pass)), unsafe.Sizeof(*pass))
	for _, needle := range [][]byte{kp, pp, []byte(wire[4:20]), []byte(wire[ProofLen+1 : ProofLen+20])} {
		if bytes.Contains(kept, needle) {
			t.Errorf("verifier holds %q", needle)
		}
	}
	if bytes.Equal(pass.link[:], make([]byte, hashSize)) || bytes.Equal(pass.hash[:], make([]byte, hashSize)) || pass.link == pass.hash {
		t.Errorf("verifier hashes missing or equal: %x %x", pass.link, pass.hash)
	}
	if _, err := reveal(s, r.SecretKey, wire, alice); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pass.link[:], make([]byte, hashSize)) || !bytes.Equal(pass.hash[:], make([]byte, hashSize)) {
		t.Error("verifier not wiped once the secret was revealed")
	}
}

func TestProofRules(t *testing.T) {
	t.Run("WrongLinkIsUnknownAndUncounted", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		wire, _, _ := newProof(true)
		r := MustCreate(t, s, "zk", CreateOptions{Passphrase: []byte(wire)})
		otherLink, _, _ := newProof(true)
		wrongLink := otherLink[:ProofLen] + wire[ProofLen:] // right pp, wrong kp
		for i := range 3 * lockoutTotal {
			for _, guess := range []string{wrongLink, otherLink, otherLink[:ProofLen], "", "open sesame", wire[4:], "zk1." + strings.Repeat("A", 42)} {
				if _, err := reveal(s, r.SecretKey, guess, alice); !errors.Is(err, ErrNotFound) {
					t.Fatalf("round %d, guess %q: %v, want ErrNotFound", i, guess, err)
				}
			}
		}
		w, err := s.Peek(r.SecretKey[:], alice)
		if err != nil || w.TriesLeft != lockoutPerIP || !w.LockedUntil.IsZero() || !w.Proof {
			t.Errorf("peek after wrong links: %+v, %v", w, err)
		}
		if rc, _ := s.Receipt(r.ReceiptKey[:]); rc.FailedAttempts != 0 {
			t.Errorf("wrong links counted: %d failed attempts", rc.FailedAttempts)
		}
		if got, err := reveal(s, r.SecretKey, wire, alice); err != nil || got != "zk" {
			t.Errorf("the recipient after a stranger's guesses: %q, %v", got, err)
		}
	})
	t.Run("WrongPassphraseLocksOut", func(t *testing.T) {
		s, clock := MustOpenStore(t)
		wire, _, _ := newProof(true)
		r := MustCreate(t, s, "zk", CreateOptions{Passphrase: []byte(wire)})
		// The link without the passphrase is not a guess.
		for range 2 * lockoutPerIP {
			if _, err := reveal(s, r.SecretKey, wire[:ProofLen], alice); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("kp alone: %v, want ErrPassphrase", err)
			}
		}
		for i := range lockoutPerIP {
			if w, _ := s.Peek(r.SecretKey[:], alice); w.TriesLeft != lockoutPerIP-i {
				t.Errorf("before guess %d: tries left %d, want %d", i+1, w.TriesLeft, lockoutPerIP-i)
			}
			if _, err := reveal(s, r.SecretKey, withPP(wire), alice); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("wrong pp %d: %v", i+1, err)
			}
		}
		var lock *LockoutError
		if _, err := reveal(s, r.SecretKey, wire, alice); !errors.As(err, &lock) {
			t.Fatalf("right proof while locked out: %v", err)
		}
		w, _ := s.Peek(r.SecretKey[:], alice)
		if w.TriesLeft != 0 || !w.LockedUntil.Equal(lock.Until) {
			t.Errorf("peek while locked: %+v, want 0 tries, locked until %v", w, lock.Until)
		}
		if w, _ := s.Peek(r.SecretKey[:], bob); w.TriesLeft != lockoutPerIP || !w.LockedUntil.IsZero() {
			t.Errorf("peek of another address: %+v", w)
		}
		rc, _ := s.Receipt(r.ReceiptKey[:])
		if rc.FailedAttempts != lockoutPerIP || !rc.LastFailed.Equal(clock.Now()) || !rc.LockedUntil.IsZero() {
			t.Errorf("receipt: %d failed, last %v, locked until %v", rc.FailedAttempts, rc.LastFailed, rc.LockedUntil)
		}
		// Twenty in all lock everyone, the receipt says until when.
		for i := range lockoutTotal - lockoutPerIP {
			from := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
			if _, err := reveal(s, r.SecretKey, withPP(wire), from); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("wrong pp from %v: %v", from, err)
			}
		}
		if _, err := reveal(s, r.SecretKey, wire, bob); !errors.As(err, &lock) {
			t.Fatalf("after %d failures in all: %v", lockoutTotal, err)
		}
		if rc, _ := s.Receipt(r.ReceiptKey[:]); rc.FailedAttempts != lockoutTotal || !rc.LockedUntil.Equal(clock.Now().Add(lockoutFor)) {
			t.Errorf("receipt: %d failed, locked until %v", rc.FailedAttempts, rc.LockedUntil)
		}
		// Burning needs only the receipt key, lock or not; a proof sent
		// with it is ignored.
		if _, err := s.Burn(r.ReceiptKey[:], []byte("not the proof"), bob); err != nil {
			t.Fatalf("burn of a locked proof secret: %v", err)
		}
		rc, _ = s.Receipt(r.ReceiptKey[:])
		if rc.State != StateBurned || rc.FailedAttempts != lockoutTotal || !rc.LockedUntil.IsZero() {
			t.Errorf("receipt after burn: %+v", rc)
		}
	})
	t.Run("FormMustMatch", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		plain, _, _ := newProof(false)
		r := MustCreate(t, s, "zk", CreateOptions{Passphrase: []byte(plain)})
		w, _ := s.Peek(r.SecretKey[:], alice)
		if w.TriesLeft != -1 || !w.Proof || !w.PassphraseRequired {
			t.Errorf("peek of a proof without passphrase: %+v", w)
		}
		// A pp the secret was not made with is no match.
		if _, err := reveal(s, r.SecretKey, withPP(plain+"."+strings.Repeat("A", 43)), alice); !errors.Is(err, ErrNotFound) {
			t.Errorf("proof with a pp on a secret without: %v", err)
		}
		if got, err := reveal(s, r.SecretKey, plain, alice); err != nil || got != "zk" {
			t.Errorf("reveal: %q, %v", got, err)
		}
	})
	t.Run("HumanPassphraseNeverMatchesAProof", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("open sesame")})
		wire, _, _ := newProof(true)
		if _, err := reveal(s, r.SecretKey, wire, alice); !errors.Is(err, ErrPassphrase) {
			t.Errorf("a proof on a human passphrase: %v, want ErrPassphrase", err)
		}
		if w, _ := s.Peek(r.SecretKey[:], alice); w.TriesLeft != lockoutPerIP-1 || w.Proof {
			t.Errorf("the guess was not counted: %+v", w)
		}
		if _, err := s.Burn(r.ReceiptKey[:], nil, alice); !errors.Is(err, ErrPassphrase) {
			t.Errorf("burn without the human passphrase: %v", err)
		}
	})
}

// A lock never reaches past the session's end.
func TestLockoutCappedAtDeadline(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	end := clock.Now().Add(10 * time.Minute)
	s, _ := MustOpenStore(t, func(c *Config) { c.Now = clock.Now; c.Deadline = end })
	r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("pw12")})
	for range lockoutPerIP {
		reveal(s, r.SecretKey, "nope", alice)
	}
	var lock *LockoutError
	if _, err := reveal(s, r.SecretKey, "pw12", alice); !errors.As(err, &lock) || !lock.Until.Equal(end) {
		t.Fatalf("lockout %v, want one until the session's end %v", err, end)
	}
	if w, _ := s.Peek(r.SecretKey[:], alice); !w.LockedUntil.Equal(end) {
		t.Errorf("peek: locked until %v, want %v", w.LockedUntil, end)
	}
}
