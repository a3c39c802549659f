package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/sys/cpu"
)

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	alice = netip.MustParseAddr("192.0.2.1")
	bob   = netip.MustParseAddr("192.0.2.2")
)

// MustOpenStore returns a small store with cheap argon2 parameters and a
// fake clock, closed when the test ends.
func MustOpenStore(tb testing.TB, edit ...func(*Config)) (*Store, *fakeClock) {
	tb.Helper()
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	cfg := Config{
		MaxSecretSize: 4096,
		MaxSecrets:    100,
		MaxBytes:      1 << 20,
		LockedBytes:   256 << 10,
		Hash:          HashParams{MemoryKiB: 64, Time: 1, Threads: 1},
		SweepInterval: -1,
		Now:           clock.Now,
	}
	for _, e := range edit {
		e(&cfg)
	}
	useRedis(tb, &cfg) // under TestRemote, the same tests run on Redis
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close(time.Second) })
	return s, clock
}

// MustCreate stores value with opts and returns the receipt.
func MustCreate(tb testing.TB, s *Store, value string, opts CreateOptions) Receipt {
	tb.Helper()
	if opts.TTL == 0 {
		opts.TTL = time.Hour
	}
	p, err := s.Plain(len(value))
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Release()
	p.SetLen(copy(p.Buf(), value))
	r, err := s.Create(p, opts)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// cellOf returns what a waiting record's cell holds: ciphertext, tag and
// sealed secret key.
func cellOf(s *Store, r ref) []byte {
	rec := s.table.get(r)
	return s.sealed.bytes(rec.sealed, int(rec.size)+sealOverhead+sealedKeySize)
}

// indexOf is the map index of a link key.
func indexOf(s *Store, label [labelSize]byte, key Key) id {
	var d derived
	var work [deriveInput]byte
	derive(&d, work[:], label, s.procKey(), key[:])
	return d.id()
}

func reveal(s *Store, key Key, pass string, from netip.Addr) (string, error) {
	p, _, err := s.Reveal(key[:], []byte(pass), from)
	if err != nil {
		return "", err
	}
	defer p.Release()
	return string(p.Bytes()), nil
}

func TestSealMatchesRFC8439(t *testing.T) {
	for _, path := range []struct {
		name         string
		seal         func(dst []byte, key *[derivedSize]byte, msg []byte)
		open         func(dst []byte, key *[derivedSize]byte, sealed []byte) error
		notOnThisCPU bool
	}{
		{"Overlay", seal, open, aeadType == nil},
		{"Generic",
			func(dst []byte, key *[derivedSize]byte, msg []byte) { sealGeneric(dst, key[:], msg) },
			func(dst []byte, key *[derivedSize]byte, sealed []byte) error { return openGeneric(dst, key[:], sealed) },
			false},
	} {
		t.Run(path.name, func(t *testing.T) {
			if path.notOnThisCPU {
				t.Skip("the overlay is not used on this platform")
			}
			for _, n := range []int{0, 1, 15, 16, 17, 63, 64, 65, 1000, 4096} {
				var key [derivedSize]byte
				msg := make([]byte, n)
				rand.Read(key[:])
				rand.Read(msg)
				got := make([]byte, n+tagSize)
				path.seal(got, &key, msg)
				aead, err := chacha20poly1305.New(key[:])
				if err != nil {
					t.Fatal(err)
				}
				want := aead.Seal(nil, make([]byte, chacha20poly1305.NonceSize), msg, nil)
				if !bytes.Equal(got, want) {
					t.Fatalf("len %d: seal differs from chacha20poly1305", n)
				}
				back := make([]byte, n)
				if err := path.open(back, &key, got); err != nil || !bytes.Equal(back, msg) {
					t.Fatalf("len %d: open: %v", n, err)
				}
				if n > 0 {
					got[n/2] ^= 1
					back[0] = 1
					if err := path.open(back, &key, got); !errors.Is(err, errOpen) {
						t.Fatalf("len %d: tampered ciphertext opened: %v", n, err)
					}
					if !bytes.Equal(back, make([]byte, n)) {
						t.Fatalf("len %d: failed open left bytes behind", n)
					}
				}
			}
		})
	}
}

// The overlay AEAD works on the key where it lies: wiping the key wipes it.
func TestOverlayUsesKeyInPlace(t *testing.T) {
	if aeadType == nil {
		if runtime.GOARCH == "amd64" && cpu.X86.HasAVX2 && cpu.X86.HasBMI2 && cpu.X86.HasSSSE3 && asmBuild {
			t.Fatal("the overlay should be usable here; has golang.org/x/crypto/chacha20poly1305 changed its layout?")
		}
		t.Skip("the overlay is not used on this platform")
	}
	var key [derivedSize]byte
	rand.Read(key[:])
	a := lockedAEAD(&key)
	msg := []byte("message")
	withKey := a.Seal(nil, zeroNonce[:], msg, nil)
	clear(key[:])
	withZero, _ := chacha20poly1305.New(make([]byte, derivedSize))
	if got := a.Seal(nil, zeroNonce[:], msg, nil); bytes.Equal(got, withKey) || !bytes.Equal(got, withZero.Seal(nil, zeroNonce[:], msg, nil)) {
		t.Error("the AEAD holds its own copy of the key")
	}
}

func TestNewKey(t *testing.T) {
	seen := map[Key]bool{}
	chars := map[byte]bool{}
	scratch := make([]byte, 64)
	for range 2000 {
		k, err := newKey(rand.Reader, scratch)
		if err != nil {
			t.Fatal(err)
		}
		if !ValidKey(k[:]) {
			t.Fatalf("invalid key %q", k[:])
		}
		if seen[k] {
			t.Fatalf("duplicate key %q", k[:])
		}
		seen[k] = true
		for _, c := range k {
			chars[c] = true
		}
	}
	if len(chars) != len(keyAlphabet) {
		t.Errorf("keys use %d of %d characters", len(chars), len(keyAlphabet))
	}
	if !bytes.Equal(scratch, make([]byte, 64)) {
		t.Error("scratch not wiped")
	}
}

func TestParseKey(t *testing.T) {
	good := strings.Repeat("a1", 16)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{good, true},
		{strings.Repeat("iluo", 8), true}, // never issued, but of the form
		{good[:31], false},
		{good + "a", false},
		{strings.ToUpper(good), false},
		{good[:31] + "-", false},
		{"", false},
	} {
		k, err := ParseKey([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("ParseKey(%q) err = %v", tc.in, err)
		}
		if tc.ok && string(k[:]) != tc.in {
			t.Errorf("ParseKey(%q) = %q", tc.in, k[:])
		}
	}
}

func FuzzParseKey(f *testing.F) {
	f.Add([]byte(strings.Repeat("z", KeyLen)))
	f.Add([]byte("abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err != nil {
			return
		}
		if len(b) != KeyLen || string(k[:]) != string(b) {
			t.Fatalf("accepted %q as %q", b, k[:])
		}
		for _, c := range b {
			if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
				t.Fatalf("accepted %q", b)
			}
		}
	})
}

func TestCreateReveal(t *testing.T) {
	s, _ := MustOpenStore(t)
	r := MustCreate(t, s, "hunter2 ✓", CreateOptions{CustID: "anon"})
	if r.State != StateNew || r.SecretKey == r.ReceiptKey || r.SecretKey.IsZero() {
		t.Fatalf("bad receipt %+v", r)
	}
	if string(r.ShortKey[:]) != string(r.SecretKey[:8]) {
		t.Errorf("short key %q", r.ShortKey)
	}
	if _, err := reveal(s, r.ReceiptKey, "", alice); !errors.Is(err, ErrNotFound) {
		t.Errorf("receipt key revealed the secret: %v", err)
	}
	got, err := reveal(s, r.SecretKey, "", alice)
	if err != nil || got != "hunter2 ✓" {
		t.Fatalf("reveal = %q, %v", got, err)
	}
	if _, err := reveal(s, r.SecretKey, "", alice); !errors.Is(err, ErrNotFound) {
		t.Errorf("second reveal: %v", err)
	}
	rc, err := s.Receipt(r.ReceiptKey[:])
	if err != nil {
		t.Fatal(err)
	}
	if rc.State != StateReceived || rc.Received.IsZero() || !rc.SecretKey.IsZero() {
		t.Errorf("receipt after reveal: %+v", rc)
	}
	if st := s.Stats(); st.Created != 1 || st.Revealed != 1 || st.Secrets != 0 || st.Bytes != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestReceiptShowsSecretKeyWhileWaiting(t *testing.T) {
	s, clock := MustOpenStore(t)
	r := MustCreate(t, s, "x", CreateOptions{TTL: 10 * time.Minute})
	clock.Add(time.Minute)
	rc, err := s.Receipt(r.ReceiptKey[:])
	if err != nil {
		t.Fatal(err)
	}
	if rc.SecretKey != r.SecretKey || rc.State != StateNew || rc.ReceiptKey != r.ReceiptKey {
		t.Errorf("receipt %+v", rc)
	}
	if got := rc.ReceiptExpires.Sub(rc.Created); got != 20*time.Minute {
		t.Errorf("receipt lives %v, want 2 × ttl", got)
	}
	if _, err := s.Receipt(r.SecretKey[:]); !errors.Is(err, ErrNotFound) {
		t.Errorf("secret key opened a receipt: %v", err)
	}
}

func TestBurn(t *testing.T) {
	s, _ := MustOpenStore(t)
	r := MustCreate(t, s, "burn me", CreateOptions{})
	if _, err := s.Burn(r.SecretKey[:], nil, alice); !errors.Is(err, ErrNotFound) {
		t.Fatalf("secret key burned: %v", err)
	}
	b, err := s.Burn(r.ReceiptKey[:], nil, alice)
	if err != nil {
		t.Fatal(err)
	}
	if b.State != StateBurned || b.ShortKey != r.ShortKey || !b.SecretKey.IsZero() {
		t.Errorf("burn receipt %+v", b)
	}
	if _, err := s.Burn(r.ReceiptKey[:], nil, alice); !errors.Is(err, ErrNotFound) {
		t.Errorf("second burn: %v", err)
	}
	if _, err := reveal(s, r.SecretKey, "", alice); !errors.Is(err, ErrNotFound) {
		t.Errorf("reveal after burn: %v", err)
	}
	if st := s.Stats(); st.Burned != 1 || st.Secrets != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestExpiry(t *testing.T) {
	t.Run("OnRead", func(t *testing.T) {
		s, clock := MustOpenStore(t)
		r := MustCreate(t, s, "soon gone", CreateOptions{TTL: time.Minute})
		clock.Add(time.Minute)
		if _, err := reveal(s, r.SecretKey, "", alice); !errors.Is(err, ErrNotFound) {
			t.Fatalf("reveal after ttl: %v", err)
		}
		rc, err := s.Receipt(r.ReceiptKey[:])
		if err != nil || rc.State != StateExpired || !rc.SecretKey.IsZero() {
			t.Fatalf("receipt %+v, %v", rc, err)
		}
		if _, err := s.Burn(r.ReceiptKey[:], nil, alice); !errors.Is(err, ErrNotFound) {
			t.Errorf("burn after expiry: %v", err)
		}
		clock.Add(time.Minute)
		if _, err := s.Receipt(r.ReceiptKey[:]); !errors.Is(err, ErrNotFound) {
			t.Errorf("receipt after 2 × ttl: %v", err)
		}
	})
	t.Run("Swept", func(t *testing.T) {
		s, clock := MustOpenStore(t)
		skipRemote(t, s)
		short := MustCreate(t, s, "short", CreateOptions{TTL: time.Minute})
		long := MustCreate(t, s, "long", CreateOptions{TTL: time.Hour})
		sid := indexOf(s, labelSecret, short.SecretKey)
		sealed := cellOf(s, s.secrets.get(&sid))
		if n := s.Sweep(); n != 0 {
			t.Fatalf("swept %d before anything was due", n)
		}
		clock.Add(time.Minute)
		if n := s.Sweep(); n != 1 {
			t.Fatalf("swept %d, want 1", n)
		}
		if !bytes.Equal(sealed, make([]byte, len(sealed))) {
			t.Error("expired ciphertext not wiped")
		}
		if st := s.Stats(); st.Expired != 1 || st.Secrets != 1 || st.Receipts != 2 {
			t.Errorf("stats %+v", st)
		}
		clock.Add(time.Minute)
		if n := s.Sweep(); n != 1 {
			t.Fatalf("swept %d receipts, want 1", n)
		}
		if got, err := reveal(s, long.SecretKey, "", alice); err != nil || got != "long" {
			t.Errorf("unexpired secret: %q, %v", got, err)
		}
	})
	t.Run("Sweeper", func(t *testing.T) {
		s, _ := MustOpenStore(t, func(c *Config) { c.SweepInterval = 10 * time.Millisecond; c.Now = nil })
		MustCreate(t, s, "x", CreateOptions{TTL: time.Second})
		deadline := time.Now().Add(5 * time.Second)
		for s.Stats().Expired == 0 {
			if time.Now().After(deadline) {
				t.Fatal("sweeper did not expire the secret")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestPassphrase(t *testing.T) {
	t.Run("WrongNeverBurns", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("correct horse")})
		if !r.PassphraseRequired {
			t.Error("receipt does not say a passphrase is required")
		}
		for _, pass := range []string{"", "wrong", "correct hors"} {
			if _, err := reveal(s, r.SecretKey, pass, alice); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("reveal with %q: %v", pass, err)
			}
		}
		if _, err := s.Burn(r.ReceiptKey[:], []byte("wrong"), alice); !errors.Is(err, ErrPassphrase) {
			t.Fatalf("burn with wrong passphrase: %v", err)
		}
		got, err := reveal(s, r.SecretKey, "correct horse", alice)
		if err != nil || got != "guarded" {
			t.Fatalf("reveal = %q, %v", got, err)
		}
	})
	t.Run("LockoutPerAddress", func(t *testing.T) {
		s, clock := MustOpenStore(t)
		r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("pw12")})
		for i := range lockoutPerIP {
			if _, err := reveal(s, r.SecretKey, "nope", alice); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		var lock *LockoutError
		if _, err := reveal(s, r.SecretKey, "pw12", alice); !errors.As(err, &lock) {
			t.Fatalf("sixth attempt: %v", err)
		}
		if want := clock.Now().Add(lockoutFor); !lock.Until.Equal(want) {
			t.Errorf("locked until %v, want %v", lock.Until, want)
		}
		if _, err := reveal(s, r.SecretKey, "nope", bob); !errors.Is(err, ErrPassphrase) {
			t.Errorf("other address locked out too: %v", err)
		}
		clock.Add(lockoutFor)
		if got, err := reveal(s, r.SecretKey, "pw12", alice); err != nil || got != "guarded" {
			t.Errorf("after lockout: %q, %v", got, err)
		}
	})
	t.Run("LockoutTotal", func(t *testing.T) {
		s, clock := MustOpenStore(t)
		r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("pw12"), TTL: 24 * time.Hour})
		for i := range lockoutTotal {
			from := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
			if _, err := reveal(s, r.SecretKey, "nope", from); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		var lock *LockoutError
		if _, err := reveal(s, r.SecretKey, "pw12", bob); !errors.As(err, &lock) {
			t.Fatalf("attempt after %d failures: %v", lockoutTotal, err)
		}
		if _, err := s.Burn(r.ReceiptKey[:], []byte("pw12"), bob); !errors.As(err, &lock) {
			t.Fatalf("burn during lockout: %v", err)
		}
		clock.Add(lockoutFor)
		if _, err := s.Burn(r.ReceiptKey[:], []byte("pw12"), bob); err != nil {
			t.Fatalf("burn after lockout: %v", err)
		}
	})
	t.Run("FailuresAgeOut", func(t *testing.T) {
		s, clock := MustOpenStore(t)
		r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("pw12")})
		for range 2 * lockoutPerIP {
			if _, err := reveal(s, r.SecretKey, "nope", alice); !errors.Is(err, ErrPassphrase) {
				t.Fatalf("failures within the window should not lock yet: %v", err)
			}
			clock.Add(lockoutWindow / (lockoutPerIP - 1))
		}
	})
}

func TestCapacity(t *testing.T) {
	t.Run("ErrFullSecrets", func(t *testing.T) {
		s, _ := MustOpenStore(t, func(c *Config) { c.MaxSecrets = 3 })
		for range 3 {
			MustCreate(t, s, "x", CreateOptions{})
		}
		p, _ := s.Plain(1)
		defer p.Release()
		p.SetLen(copy(p.Buf(), "y"))
		if _, err := s.Create(p, CreateOptions{TTL: time.Hour}); !errors.Is(err, ErrFull) {
			t.Fatalf("create past MaxSecrets: %v", err)
		}
	})
	t.Run("FinishedReceiptsBounded", func(t *testing.T) {
		s, _ := MustOpenStore(t, func(c *Config) { c.MaxSecrets = 3 })
		skipRemote(t, s) // Redis keeps receipts for their time, not by count
		var first, last Receipt
		for i := range 10 {
			r := MustCreate(t, s, "x", CreateOptions{})
			if _, err := reveal(s, r.SecretKey, "", alice); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = r
			}
			last = r
		}
		if st := s.Stats(); st.Receipts != 3 || st.Revealed != 10 {
			t.Errorf("stats %+v, want 3 receipts kept", st)
		}
		if _, err := s.Receipt(first.ReceiptKey[:]); !errors.Is(err, ErrNotFound) {
			t.Errorf("oldest finished receipt kept: %v", err)
		}
		if rc, err := s.Receipt(last.ReceiptKey[:]); err != nil || rc.State != StateReceived {
			t.Errorf("newest receipt: %+v, %v", rc, err)
		}
		MustCreate(t, s, "still room", CreateOptions{})
	})
	t.Run("ErrFullBytes", func(t *testing.T) {
		s, _ := MustOpenStore(t, func(c *Config) { c.MaxBytes = 10 })
		MustCreate(t, s, "123456789", CreateOptions{})
		p, _ := s.Plain(2)
		defer p.Release()
		p.SetLen(copy(p.Buf(), "12"))
		if _, err := s.Create(p, CreateOptions{TTL: time.Hour}); !errors.Is(err, ErrFull) {
			t.Fatalf("create past MaxBytes: %v", err)
		}
	})
	t.Run("ErrTooLargeAndEmpty", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		if _, err := s.Plain(4097); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Plain(4097): %v", err)
		}
		p4k, _ := s.Plain(4096)
		p4k.SetLen(4096)
		if _, err := s.Create(p4k, CreateOptions{TTL: time.Hour}); err != nil {
			t.Errorf("Create at MaxSecretSize: %v", err)
		}
		p4k.Release()
		p, _ := s.Plain(0)
		defer p.Release()
		if _, err := s.Create(p, CreateOptions{TTL: time.Hour}); !errors.Is(err, ErrEmpty) {
			t.Errorf("empty: %v", err)
		}
	})
	t.Run("ErrBusyKeepsSecret", func(t *testing.T) {
		s, _ := MustOpenStore(t)
		r := MustCreate(t, s, "still here", CreateOptions{})
		var held []*Plain
		for {
			p, err := s.Plain(4096)
			if err != nil {
				if !errors.Is(err, ErrBusy) {
					t.Fatal(err)
				}
				break
			}
			held = append(held, p)
		}
		if _, err := reveal(s, r.SecretKey, "", alice); !errors.Is(err, ErrBusy) {
			t.Fatalf("reveal with no locked memory free: %v", err)
		}
		for _, p := range held {
			p.Release()
		}
		if got, err := reveal(s, r.SecretKey, "", alice); err != nil || got != "still here" {
			t.Fatalf("reveal after memory freed: %q, %v", got, err)
		}
	})
}

func TestRevealIsAtomic(t *testing.T) {
	for _, pass := range []string{"", "pw12"} {
		s, _ := MustOpenStore(t)
		r := MustCreate(t, s, "only once", CreateOptions{Passphrase: []byte(pass)})
		var wins, misses atomic.Int32
		var wg sync.WaitGroup
		for range 1000 {
			wg.Go(func() {
				got, err := reveal(s, r.SecretKey, pass, alice)
				switch {
				case err == nil && got == "only once":
					wins.Add(1)
				case errors.Is(err, ErrNotFound), errors.Is(err, ErrBusy), errors.Is(err, ErrHashBusy):
					misses.Add(1)
				default:
					t.Errorf("reveal: %q, %v", got, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || misses.Load() != 999 {
			t.Errorf("passphrase %q: %d reveals got the value, %d did not", pass, wins.Load(), misses.Load())
		}
	}
}

func TestAtRestHoldsNoPlaintextOrKeys(t *testing.T) {
	s, _ := MustOpenStore(t)
	const marker = "MARKER-4f1c9e-plaintext"
	r := MustCreate(t, s, marker, CreateOptions{})
	var refs []ref
	s.secrets.each(func(r ref) { refs = append(refs, r) })
	for _, ref := range refs {
		rec := s.table.get(ref)
		recBytes := unsafe.Slice((*byte)(unsafe.Pointer(rec)), unsafe.Sizeof(*rec))
		for _, field := range [][]byte{cellOf(s, ref), recBytes} {
			for _, needle := range [][]byte{[]byte(marker), r.SecretKey[:], r.ReceiptKey[:], r.SecretKey[:8]} {
				if bytes.Contains(field, needle) {
					t.Errorf("record field holds %q", needle)
				}
			}
		}
	}
}

func TestReleaseWipes(t *testing.T) {
	s, _ := MustOpenStore(t)
	p, err := s.Plain(10)
	if err != nil {
		t.Fatal(err)
	}
	buf := p.Buf()
	p.SetLen(copy(buf, "plaintext!"))
	p.Release()
	p.Release() // idempotent
	if !bytes.Equal(buf, make([]byte, len(buf))) {
		t.Error("released slot not wiped")
	}
}

func TestCloseWipesEverything(t *testing.T) {
	s, _ := MustOpenStore(t)
	MustCreate(t, s, "one", CreateOptions{})
	r := MustCreate(t, s, "two", CreateOptions{})
	var sealed [][]byte
	s.secrets.each(func(ref ref) { sealed = append(sealed, cellOf(s, ref)) })
	s.Close(time.Second)
	for _, b := range sealed {
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Error("ciphertext survived Close")
		}
	}
	if _, err := reveal(s, r.SecretKey, "", alice); !errors.Is(err, ErrClosed) {
		t.Errorf("reveal after Close: %v", err)
	}
	if _, err := s.Plain(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Plain after Close: %v", err)
	}
}

func TestGeneratePassword(t *testing.T) {
	s, _ := MustOpenStore(t)
	seen := map[string]bool{}
	counts := map[byte]int{}
	for range 500 {
		p, err := s.Plain(12)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.GeneratePassword(p, 12); err != nil {
			t.Fatal(err)
		}
		pw := string(p.Bytes())
		p.Release()
		if len(pw) != 12 || !hasEverySet([]byte(pw)) || strings.ContainsAny(pw, "ilo1IO0") || seen[pw] {
			t.Fatalf("bad password %q", pw)
		}
		seen[pw] = true
		for i := range len(pw) {
			counts[pw[i]]++
		}
	}
	if len(counts) != len(passwordAlphabet) {
		t.Errorf("passwords used %d of %d characters", len(counts), len(passwordAlphabet))
	}
	p, _ := s.Plain(3)
	defer p.Release()
	if err := s.GeneratePassword(p, 3); !errors.Is(err, ErrLength) {
		t.Errorf("length 3: %v", err)
	}
}

func TestPlanArena(t *testing.T) {
	l, err := PlanArena(8<<20, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	if l.Bytes > 8<<20 || l.LargeSlots < 2 || l.SmallSlots < minSmall || l.LargeSize != 64<<10 {
		t.Errorf("layout %+v", l)
	}
	if _, err := PlanArena(64<<10, 64<<10); err == nil {
		t.Error("a 64 KiB budget cannot hold two 64 KiB slots")
	}
}

func BenchmarkCreate(b *testing.B) {
	s, _ := MustOpenStore(b, func(c *Config) { c.MaxSecrets = 1 << 30; c.MaxBytes = 1 << 40 })
	value := bytes.Repeat([]byte("s"), 1024)
	b.ReportAllocs()
	for b.Loop() {
		p, _ := s.Plain(len(value))
		p.SetLen(copy(p.Buf(), value))
		r, err := s.Create(p, CreateOptions{TTL: time.Hour})
		p.Release()
		if err != nil {
			b.Fatal(err)
		}
		r.Wipe()
	}
}

func BenchmarkCreateReveal(b *testing.B) {
	s, _ := MustOpenStore(b)
	value := bytes.Repeat([]byte("s"), 1024)
	b.ReportAllocs()
	for b.Loop() {
		p, _ := s.Plain(len(value))
		p.SetLen(copy(p.Buf(), value))
		r, err := s.Create(p, CreateOptions{TTL: time.Hour})
		p.Release()
		if err != nil {
			b.Fatal(err)
		}
		out, _, err := s.Reveal(r.SecretKey[:], nil, alice)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
}

// A reveal that lets its scratch slot go while a passphrase is checked
// must not let it go again on its way out: by then another request may
// hold that slot, and two requests deriving keys in one slot seal and
// open with each other's keys.
func TestRevealReleasesScratchOnce(t *testing.T) {
	var taken *Plain
	var s *Store
	armed, calls := false, 0
	s, _ = MustOpenStore(t, func(c *Config) {
		now := c.Now
		c.Now = func() time.Time {
			// The second reading of the clock in a reveal comes after it
			// released its scratch slot: another request takes one now.
			if calls++; armed && calls == 2 {
				taken, _ = s.arena.scratchSlot()
			}
			return now()
		}
	})
	r := MustCreate(t, s, "guarded", CreateOptions{Passphrase: []byte("pw12")})
	armed, calls = true, 0
	if _, err := reveal(s, r.SecretKey, "wrong", alice); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("reveal with a wrong passphrase: %v", err)
	}
	if taken == nil {
		t.Fatal("no slot was taken during the reveal")
	}
	defer taken.Release()
	if !taken.inUse.Load() {
		t.Fatal("the reveal released a scratch slot another request holds")
	}
	var more []*Plain
	defer func() {
		for _, p := range more {
			p.Release()
		}
	}()
	for {
		p, err := s.arena.scratchSlot()
		if err != nil {
			break
		}
		if p == taken {
			t.Fatal("a scratch slot in use was handed out again")
		}
		more = append(more, p)
	}
}

// TestCheckedThenBusyEndsTurn: a right passphrase whose reveal or burn
// then finds no locked memory free ends its turn, so the next check on
// the secret runs at once instead of waiting for the turn to lapse.
func TestCheckedThenBusyEndsTurn(t *testing.T) {
	for _, op := range []string{"reveal", "burn"} {
		t.Run(op, func(t *testing.T) {
			var armed atomic.Bool
			var calls atomic.Int32
			var held []*Plain
			var s *Store
			s, _ = MustOpenStore(t, func(cfg *Config) {
				cfg.HashWait = 300 * time.Millisecond
				now := cfg.Now
				cfg.Now = func() time.Time {
					// The second look at the clock starts the check: by
					// its end every scratch slot is taken.
					if armed.Load() && calls.Add(1) == 2 {
						for {
							p, err := s.arena.scratchSlot()
							if err != nil {
								break
							}
							held = append(held, p)
						}
					}
					return now()
				}
			})
			r := MustCreate(t, s, "still here", CreateOptions{Passphrase: []byte("pw12")})
			armed.Store(true)
			var err error
			if op == "reveal" {
				_, err = reveal(s, r.SecretKey, "pw12", alice)
			} else {
				_, err = s.Burn(r.ReceiptKey[:], []byte("pw12"), alice)
			}
			armed.Store(false)
			if len(held) == 0 {
				t.Fatal("the scratch slots were not taken")
			}
			for _, p := range held {
				p.Release()
			}
			if err == nil {
				return // done without another slot (the in-memory burn)
			}
			if !errors.Is(err, ErrBusy) {
				t.Fatalf("%s with no scratch slot free: %v", op, err)
			}
			if got, err := reveal(s, r.SecretKey, "pw12", alice); err != nil || got != "still here" {
				t.Errorf("the next reveal: %q, %v", got, err)
			}
		})
	}
}
