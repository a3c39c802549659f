package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// withFiles gives a store file slots for envelopes of up to 256 KiB.
func withFiles(slots int) func(*Config) {
	return func(c *Config) {
		c.MaxEnvelopeSize = 256 << 10
		c.FileSlots, c.FileSlotSize = slots, 300<<10
		c.MaxBytes = 8 << 20
	}
}

// mustCreateProof stores value with a fresh proof and returns its receipt
// and proof.
func mustCreateProof(tb testing.TB, s *Store, value []byte, ttl time.Duration) (Receipt, string) {
	tb.Helper()
	wire, _, _ := newProof(false)
	p, err := s.Plain(len(value))
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Release()
	p.SetLen(copy(p.Buf(), value))
	r, err := s.Create(p, CreateOptions{TTL: ttl, Passphrase: []byte(wire)})
	if err != nil {
		tb.Fatal(err)
	}
	return r, wire
}

func TestEnvelopeSizes(t *testing.T) {
	s, _ := MustOpenStore(t, withFiles(2))
	l := s.Layout()
	if l.FileSlots != 2 || l.FileSize < 300<<10 || l.Bytes < 2*l.FileSize {
		t.Fatalf("layout %+v", l)
	}
	big := make([]byte, 200<<10)
	rand.Read(big)

	// Without a proof, MaxSecretSize holds.
	p, err := s.Plain(len(big))
	if err != nil {
		t.Fatal(err)
	}
	p.SetLen(copy(p.Buf(), big))
	if _, err := s.Create(p, CreateOptions{TTL: time.Hour}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a 200 KiB secret without a proof: %v", err)
	}
	if _, err := s.Create(p, CreateOptions{TTL: time.Hour, Passphrase: []byte("human words")}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a 200 KiB secret with a human passphrase: %v", err)
	}
	p.Release()

	// With one, up to MaxEnvelopeSize, and it comes back whole.
	r, proof := mustCreateProof(t, s, big, time.Hour)
	out, _, err := s.Reveal(r.SecretKey[:], []byte(proof), alice)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), big) {
		t.Error("the envelope came back different")
	}
	out.Release()
	huge := make([]byte, 256<<10+1)
	p, err = s.Plain(len(huge))
	if err != nil {
		t.Fatal(err)
	}
	p.SetLen(len(huge))
	wire, _, _ := newProof(false)
	if _, err := s.Create(p, CreateOptions{TTL: time.Hour, Passphrase: []byte(wire)}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("past MaxEnvelopeSize: %v", err)
	}
	p.Release()

	// File slots run out without blocking, and come back.
	a, _ := s.Plain(250 << 10)
	b, _ := s.Plain(250 << 10)
	if _, err := s.Plain(250 << 10); !errors.Is(err, ErrBusy) {
		t.Errorf("a third file slot: %v", err)
	}
	a.Release()
	c, err := s.Plain(250 << 10)
	if err != nil {
		t.Errorf("after a release: %v", err)
	}
	b.Release()
	c.Release()
	if _, err := s.Plain(s.Layout().FileSize + 1); err == nil {
		t.Error("more than a file slot was given")
	}
}

// TestLargeCellsGoBack: the heap a large envelope's ciphertext took is
// given back when it leaves, not kept for the next of its size.
func TestLargeCellsGoBack(t *testing.T) {
	c := newCells()
	x, b := c.alloc(3 << 20)
	b[0] = 1
	c.free(x)
	if c.held != 0 {
		t.Errorf("holding %d bytes", c.held)
	}
}

func TestEnvelopeNeedsFileSlots(t *testing.T) {
	cfg := Config{MaxSecretSize: 4096, LockedBytes: 256 << 10, MaxEnvelopeSize: 1 << 20, SweepInterval: -1}
	if s, err := New(cfg); err == nil {
		s.Close(time.Second)
		t.Error("envelopes larger than any slot were accepted")
	}
}

func TestWindow(t *testing.T) {
	s, _ := MustOpenStore(t)
	p, _ := s.Plain(100)
	copy(p.Buf(), "header:the value:trailer")
	w := p.Window(7, 16)
	if string(w.Bytes()) != "the value" {
		t.Fatalf("window %q", w.Bytes())
	}
	w.Release() // nothing: p owns the memory
	if string(p.Buf()[7:16]) != "the value" {
		t.Error("releasing the window wiped its owner")
	}
	p.Release()
	if string(w.Bytes()) != strings.Repeat("\x00", 9) {
		t.Error("releasing the owner did not wipe the window")
	}
}

func TestLateAttempts(t *testing.T) {
	s, clock := MustOpenStore(t)
	v6 := netip.MustParseAddr("2001:db8:1234:5678::9")
	mapped := netip.MustParseAddr("::ffff:198.51.100.77")

	t.Run("Read", func(t *testing.T) {
		r := MustCreate(t, s, "one", CreateOptions{})
		if _, err := s.Peek(r.SecretKey[:], alice); err != nil {
			t.Fatal(err) // waiting: not late
		}
		if _, err := reveal(s, r.SecretKey, "", alice); err != nil {
			t.Fatal(err)
		}
		clock.Add(time.Minute)
		if _, err := s.Peek(r.SecretKey[:], v6); !errors.Is(err, ErrLate) || !errors.Is(err, ErrNotFound) {
			t.Errorf("peek of a read secret: %v", err)
		}
		clock.Add(time.Minute)
		if _, err := reveal(s, r.SecretKey, "", mapped); !errors.Is(err, ErrLate) {
			t.Errorf("reveal of a read secret: %v", err)
		}
		got, err := s.Receipt(r.ReceiptKey[:])
		if err != nil {
			t.Fatal(err)
		}
		want := []LateAttempt{
			{clock.Now().Add(-time.Minute), netip.MustParsePrefix("2001:db8:1234::/48"), LatePage},
			{clock.Now(), netip.MustParsePrefix("198.51.100.0/24"), LateReveal},
		}
		if got.LateTotal != 2 || len(got.Late) != 2 {
			t.Fatalf("late %+v, total %d", got.Late, got.LateTotal)
		}
		for i, w := range want {
			if !got.Late[i].At.Equal(w.At) || got.Late[i].Net != w.Net || got.Late[i].Kind != w.Kind {
				t.Errorf("attempt %d: %+v, want %+v", i, got.Late[i], w)
			}
		}
		if got.Late[0].Kind.String() != "page" || got.Late[1].Kind.String() != "reveal" {
			t.Error("kind names")
		}
	})
	t.Run("BurnedAndExpired", func(t *testing.T) {
		burned := MustCreate(t, s, "b", CreateOptions{})
		if _, err := s.Burn(burned.ReceiptKey[:], nil, alice); err != nil {
			t.Fatal(err)
		}
		expired := MustCreate(t, s, "e", CreateOptions{TTL: time.Minute})
		clock.Add(90 * time.Second) // expired; its receipt is kept two minutes
		for _, r := range []Receipt{burned, expired} {
			if _, err := s.Peek(r.SecretKey[:], alice); !errors.Is(err, ErrLate) {
				t.Errorf("peek: %v", err)
			}
			got, _ := s.Receipt(r.ReceiptKey[:])
			if got.LateTotal != 1 || got.Late[0].Net != netip.MustParsePrefix("192.0.2.0/24") {
				t.Errorf("late %+v", got.Late)
			}
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		r := MustCreate(t, s, "x", CreateOptions{})
		reveal(s, r.SecretKey, "", alice)
		for i := range MaxLate + 5 {
			clock.Add(time.Second)
			s.Peek(r.SecretKey[:], netip.AddrFrom4([4]byte{10, byte(i), 0, 1}))
		}
		got, _ := s.Receipt(r.ReceiptKey[:])
		if got.LateTotal != MaxLate+5 || len(got.Late) != MaxLate {
			t.Fatalf("%d kept, %d in all", len(got.Late), got.LateTotal)
		}
		if got.Late[0].Net.Addr() != netip.AddrFrom4([4]byte{10, 5, 0, 0}) || got.Late[MaxLate-1].Net.Addr() != netip.AddrFrom4([4]byte{10, MaxLate + 4, 0, 0}) {
			t.Errorf("not the last %d, oldest first: %v ... %v", MaxLate, got.Late[0].Net, got.Late[MaxLate-1].Net)
		}
	})
	t.Run("NotLate", func(t *testing.T) {
		// An unknown key, and a waiting secret tried with a wrong proof,
		// are nothing to report.
		var unknown Key
		copy(unknown[:], strings.Repeat("a", KeyLen))
		if _, err := s.Peek(unknown[:], alice); err != ErrNotFound {
			t.Errorf("unknown: %v", err)
		}
		r, _ := mustCreateProof(t, s, []byte("otsz1:x"), time.Hour)
		wrong, _, _ := newProof(false)
		if _, _, err := s.Reveal(r.SecretKey[:], []byte(wrong), alice); err != ErrNotFound {
			t.Errorf("wrong proof: %v", err)
		}
		got, _ := s.Receipt(r.ReceiptKey[:])
		if got.LateTotal != 0 {
			t.Errorf("late %+v", got.Late)
		}
	})
	t.Run("ForgottenWithReceipt", func(t *testing.T) {
		r := MustCreate(t, s, "f", CreateOptions{TTL: time.Minute})
		reveal(s, r.SecretKey, "", alice)
		clock.Add(3 * time.Minute) // past the receipt's two minutes
		s.Sweep()
		if _, err := s.Peek(r.SecretKey[:], alice); err != ErrNotFound {
			t.Errorf("after the receipt: %v", err)
		}
		if sid := indexOf(s, labelSecret, r.SecretKey); s.gone.get(&sid) != 0 {
			t.Error("the tombstone outlived its receipt")
		}
		if s.remote != nil {
			// Redis forgets the tombstone with the receipt, not later.
			tomb, rk := s.remote.name('x', indexOf(s, labelSecret, r.SecretKey)), s.remote.name('r', indexOf(s, labelReceipt, r.ReceiptKey))
			ctx := context.Background()
			rt, err2 := s.remote.c.Do(ctx, []byte("PTTL"), rk)
			tt, err1 := s.remote.c.Do(ctx, []byte("PTTL"), tomb)
			if err1 != nil || err2 != nil || tt.Int <= 0 || tt.Int > rt.Int {
				t.Errorf("the tombstone lives %d ms, its receipt %d ms (%v, %v)", tt.Int, rt.Int, err1, err2)
			}
		}
	})
}

// mustGroup makes n proof secrets and a group of them.
func mustGroup(tb testing.TB, s *Store, n int) (GroupReceipt, []Receipt, []string) {
	tb.Helper()
	var rs []Receipt
	var proofs []string
	var keys [][]byte
	for i := range n {
		r, p := mustCreateProof(tb, s, []byte("otsz1:link"+string(rune('a'+i))), time.Hour)
		rs, proofs = append(rs, r), append(proofs, p)
		keys = append(keys, r.ReceiptKey[:])
	}
	g, err := s.CreateGroup(keys)
	if err != nil {
		tb.Fatal(err)
	}
	return g, rs, proofs
}

func TestGroup(t *testing.T) {
	s, clock := MustOpenStore(t)
	g, rs, proofs := mustGroup(t, s, 3)
	if !ValidKey(g.Key[:]) || len(g.Links) != 3 || !g.Expires.Equal(rs[2].ReceiptExpires) {
		t.Fatalf("group %+v", g)
	}
	for _, l := range g.Links {
		if l.State != StateNew || !l.SecretKey.IsZero() || !l.ReceiptKey.IsZero() {
			t.Errorf("link %+v", l)
		}
	}
	clock.Add(time.Minute)
	// Link 2 is read, link 3 burned through the group, link 1 waits.
	out, _, err := s.Reveal(rs[1].SecretKey[:], []byte(proofs[1]), alice)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	b, err := s.BurnGroupLink(g.Key[:], 2)
	if err != nil || b.State != StateBurned {
		t.Fatalf("burn link 3: %v %v", b.State, err)
	}
	if _, err := s.BurnGroupLink(g.Key[:], 2); err != ErrNotFound {
		t.Errorf("burn it again: %v", err)
	}
	if _, err := s.BurnGroupLink(g.Key[:], 1); err != ErrNotFound {
		t.Errorf("burn a read link: %v", err)
	}
	for _, i := range []int{-1, 3} {
		if _, err := s.BurnGroupLink(g.Key[:], i); err != ErrNotFound {
			t.Errorf("burn link %d: %v", i, err)
		}
	}
	clock.Add(time.Minute)
	s.Peek(rs[1].SecretKey[:], bob) // someone tries link 2 again

	v, err := s.Group(g.Key[:])
	if err != nil {
		t.Fatal(err)
	}
	if v.Links[0].State != StateNew || v.Links[1].State != StateReceived || v.Links[2].State != StateBurned {
		t.Errorf("states %v %v %v", v.Links[0].State, v.Links[1].State, v.Links[2].State)
	}
	if !v.Links[1].Received.Equal(clock.Now().Add(-time.Minute)) || v.Links[1].LateTotal != 1 || v.Links[0].LateTotal != 0 {
		t.Errorf("link 2: received %v, late %d", v.Links[1].Received, v.Links[1].LateTotal)
	}
	// The group key is not a receipt key, nor a secret key.
	if _, err := s.Receipt(g.Key[:]); err != ErrNotFound {
		t.Errorf("group key as a receipt: %v", err)
	}
	// Forgotten with its last receipt.
	clock.Add(2 * time.Hour)
	s.Sweep()
	if _, err := s.Group(g.Key[:]); err != ErrNotFound {
		t.Errorf("after its receipts: %v", err)
	}
	if s.Stats().Groups != 0 {
		t.Error("the group is still held")
	}
}

func TestGroupRefuses(t *testing.T) {
	s, _ := MustOpenStore(t)
	one, _ := mustCreateProof(t, s, []byte("otsz1:1"), time.Hour)
	two, _ := mustCreateProof(t, s, []byte("otsz1:2"), time.Hour)
	human := MustCreate(t, s, "h", CreateOptions{Passphrase: []byte("words words")})
	plain := MustCreate(t, s, "p", CreateOptions{})
	read, proof := mustCreateProof(t, s, []byte("otsz1:3"), time.Hour)
	out, _, _ := s.Reveal(read.SecretKey[:], []byte(proof), alice)
	out.Release()
	var many [][]byte
	for range MaxGroup + 1 {
		r, _ := mustCreateProof(t, s, []byte("otsz1:m"), time.Hour)
		many = append(many, r.ReceiptKey[:])
	}
	for name, c := range map[string]struct {
		keys [][]byte
		err  error
	}{
		"One":       {[][]byte{one.ReceiptKey[:]}, ErrGroup},
		"TooMany":   {many, ErrGroup},
		"Twice":     {[][]byte{one.ReceiptKey[:], one.ReceiptKey[:]}, ErrGroup},
		"Human":     {[][]byte{one.ReceiptKey[:], human.ReceiptKey[:]}, ErrGroup},
		"Read":      {[][]byte{one.ReceiptKey[:], read.ReceiptKey[:]}, ErrNotFound},
		"SecretKey": {[][]byte{one.ReceiptKey[:], two.SecretKey[:]}, ErrNotFound},
		"Malformed": {[][]byte{one.ReceiptKey[:], []byte("nope")}, ErrNotFound},
	} {
		if _, err := s.CreateGroup(c.keys); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
	// Plain secrets without a passphrase may be grouped.
	if _, err := s.CreateGroup([][]byte{one.ReceiptKey[:], plain.ReceiptKey[:], two.ReceiptKey[:]}); err != nil {
		t.Errorf("plain and proof secrets: %v", err)
	}
}

// TestGroupLinksOpenOnce: every link of a group, revealed by many at once,
// opens exactly once; burns racing reveals never both win.
func TestGroupLinksOpenOnce(t *testing.T) {
	s, _ := MustOpenStore(t)
	g, rs, proofs := mustGroup(t, s, 5)
	var wins [5]atomic.Int32
	var wg sync.WaitGroup
	for i := range rs {
		for range 8 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				if out, _, err := s.Reveal(rs[i].SecretKey[:], []byte(proofs[i]), alice); err == nil {
					out.Release()
					wins[i].Add(1)
				}
			}()
			go func() {
				defer wg.Done()
				if _, err := s.BurnGroupLink(g.Key[:], i); err == nil {
					wins[i].Add(1)
				}
			}()
		}
	}
	wg.Wait()
	v, _ := s.Group(g.Key[:])
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("link %d: %d winners", i+1, n)
		}
		if v.Links[i].State == StateNew {
			t.Errorf("link %d still waits", i+1)
		}
	}
}

// answerEnvelope is a stand-in envelope and its proof for an answer.
func answerEnvelope(tb testing.TB, s *Store, body string) (*Plain, []byte) {
	tb.Helper()
	p, err := s.Plain(len(body))
	if err != nil {
		tb.Fatal(err)
	}
	p.SetLen(copy(p.Buf(), body))
	wire, _, _ := newProof(false)
	return p, []byte(wire)
}

var public = append([]byte{4}, bytes.Repeat([]byte{7}, 64)...)

func TestRequest(t *testing.T) {
	s, clock := MustOpenStore(t)
	req, err := s.CreateRequest(time.Hour, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if !ValidKey(req.AskKey[:]) || !ValidKey(req.InboxKey[:]) || req.AskKey == req.InboxKey || req.State != RequestWaiting {
		t.Fatalf("request %+v", req)
	}
	if s.Stats().Requests != 1 {
		t.Error("Stats does not count the waiting request")
	}
	asked, err := s.Asked(req.AskKey[:])
	if err != nil || asked.State != RequestWaiting || !asked.Deadline.Equal(clock.Now().Add(time.Hour)) {
		t.Fatalf("asked: %+v %v", asked, err)
	}
	// The keys are not each other's, nor a secret's.
	if _, err := s.Inbox(req.AskKey[:]); err != ErrNotFound {
		t.Errorf("ask key as inbox: %v", err)
	}
	if _, err := s.Asked(req.InboxKey[:]); err != ErrNotFound {
		t.Errorf("inbox key as ask: %v", err)
	}
	if _, _, err := s.RevealAnswer(req.InboxKey[:], nil, alice); err != ErrNotFound {
		t.Errorf("reveal before an answer: %v", err)
	}

	clock.Add(10 * time.Minute)
	p, proof := answerEnvelope(t, s, "otsz1:the answer")
	defer p.Release()
	if _, err := s.AnswerRequest(req.AskKey[:], p, proof[:10], public, time.Hour); !errors.Is(err, ErrAnswer) {
		t.Errorf("no proof: %v", err)
	}
	if _, err := s.AnswerRequest(req.AskKey[:], p, proof, public[:64], time.Hour); !errors.Is(err, ErrAnswer) {
		t.Errorf("short public key: %v", err)
	}
	withPass, _, _ := newProof(true)
	if _, err := s.AnswerRequest(req.AskKey[:], p, []byte(withPass), public, time.Hour); !errors.Is(err, ErrAnswer) {
		t.Errorf("a proof with a passphrase: %v", err)
	}
	a, err := s.AnswerRequest(req.AskKey[:], p, proof, public, 30*time.Minute)
	if err != nil || a.State != RequestAnswered {
		t.Fatalf("answer: %+v %v", a, err)
	}
	if _, err := s.AnswerRequest(req.AskKey[:], p, proof, public, time.Hour); !errors.Is(err, ErrAnswered) {
		t.Errorf("a second answer: %v", err)
	}
	if s.Stats().Requests != 0 {
		t.Error("an answered request still counts as waiting")
	}

	in, err := s.Inbox(req.InboxKey[:])
	if err != nil || in.State != RequestAnswered || !bytes.Equal(in.Public[:], public) || !in.Answered.Equal(clock.Now()) {
		t.Fatalf("inbox: %+v %v", in, err)
	}
	if !in.AnswerExpires.Equal(clock.Now().Add(30 * time.Minute)) {
		t.Errorf("the answer expires %v, want the session's end", in.AnswerExpires)
	}
	// The answerer's view shows it answered, without the public key.
	if asked, _ := s.Asked(req.AskKey[:]); asked.State != RequestAnswered || asked.Public != [65]byte{} {
		t.Errorf("asked after: %+v", asked)
	}
	wrong, _, _ := newProof(false)
	if _, _, err := s.RevealAnswer(req.InboxKey[:], []byte(wrong), alice); err != ErrNotFound {
		t.Errorf("a wrong proof: %v", err)
	}
	out, ref, err := s.RevealAnswer(req.InboxKey[:], proof, alice)
	if err != nil || string(out.Bytes()) != "otsz1:the answer" || ref != in.AnswerRef {
		t.Fatalf("reveal: %v", err)
	}
	out.Release()
	if _, _, err := s.RevealAnswer(req.InboxKey[:], proof, alice); !errors.Is(err, ErrNotFound) {
		t.Errorf("a second reveal: %v", err)
	}
	clock.Add(time.Minute)
	if in, _ := s.Inbox(req.InboxKey[:]); in.State != RequestRead || !in.Read.Equal(clock.Now().Add(-time.Minute)) {
		t.Errorf("after reading: %+v", in)
	}
	// Kept while the answer's receipt is, then forgotten.
	clock.Add(3 * time.Hour)
	s.Sweep()
	if _, err := s.Inbox(req.InboxKey[:]); err != ErrNotFound {
		t.Errorf("forgotten: %v", err)
	}
}

func TestRequestExpires(t *testing.T) {
	s, clock := MustOpenStore(t)
	req, _ := s.CreateRequest(time.Hour, "")
	clock.Add(time.Hour)
	p, proof := answerEnvelope(t, s, "otsz1:late")
	defer p.Release()
	if _, err := s.AnswerRequest(req.AskKey[:], p, proof, public, time.Hour); err != ErrNotFound {
		t.Errorf("an answer after its time: %v", err)
	}
	if _, err := s.Asked(req.AskKey[:]); err != ErrNotFound {
		t.Errorf("asked after its time: %v", err)
	}
	if in, err := s.Inbox(req.InboxKey[:]); err != nil || in.State != RequestExpired {
		t.Errorf("inbox after its time: %+v %v", in, err)
	}
	s.Sweep()
	if s.Stats().Requests != 0 {
		t.Error("an expired request still counts as waiting")
	}
	clock.Add(time.Hour)
	s.Sweep()
	if _, err := s.Inbox(req.InboxKey[:]); err != ErrNotFound {
		t.Errorf("forgotten: %v", err)
	}

	// An answer that is never read expires, and so does the request.
	req, _ = s.CreateRequest(time.Hour, "")
	if _, err := s.AnswerRequest(req.AskKey[:], p, proof, public, time.Hour); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Hour)
	if in, _ := s.Inbox(req.InboxKey[:]); in.State != RequestExpired {
		t.Errorf("an unread answer: %v", in.State)
	}
}

// TestRequestAnsweredOnce: of many answers at once, exactly one is stored.
func TestRequestAnsweredOnce(t *testing.T) {
	s, _ := MustOpenStore(t)
	for range 20 {
		req, _ := s.CreateRequest(time.Hour, "")
		var won atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, proof := answerEnvelope(t, s, "otsz1:race")
				defer p.Release()
				_, err := s.AnswerRequest(req.AskKey[:], p, proof, public, time.Hour)
				switch {
				case err == nil:
					won.Add(1)
				case !errors.Is(err, ErrAnswered):
					t.Errorf("answer: %v", err)
				}
			}()
		}
		wg.Wait()
		if won.Load() != 1 {
			t.Fatalf("%d answers stored", won.Load())
		}
	}
	if st := s.Stats(); st.Secrets != 20 || st.Requests != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestCloseWipesRequests(t *testing.T) {
	s, _ := MustOpenStore(t)
	req, _ := s.CreateRequest(time.Hour, "")
	r := s.extra.asks[indexOf(s, labelAsk, req.AskKey)]
	s.Close(time.Second)
	if r.keyForAsk != (Key{}) || r.keyForInbox != (Key{}) {
		t.Error("the answer's key survived Close")
	}
	if _, err := s.CreateRequest(time.Hour, ""); err == nil {
		t.Error("a request after Close")
	}
}

// TestBeyondCapacity: groups and requests are bounded as secrets are,
// MaxSecrets of each, and make room again once they are forgotten.
func TestBeyondCapacity(t *testing.T) {
	s, clock := MustOpenStore(t, func(c *Config) { c.MaxSecrets = 4 })
	var keys [][]byte
	for range 4 {
		r, _ := mustCreateProof(t, s, []byte("otsz1:c"), time.Hour)
		keys = append(keys, r.ReceiptKey[:])
	}
	for i := range 4 {
		if _, err := s.CreateGroup([][]byte{keys[i], keys[(i+1)%4]}); err != nil {
			t.Fatalf("group %d: %v", i+1, err)
		}
		if _, err := s.CreateRequest(time.Hour, ""); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	if st := s.Stats(); st.Groups != 4 || st.Requests != 4 {
		t.Errorf("stats %+v", st)
	}
	if _, err := s.CreateGroup(keys[:2]); !errors.Is(err, ErrFull) {
		t.Errorf("a fifth group: %v", err)
	}
	if _, err := s.CreateRequest(time.Hour, ""); !errors.Is(err, ErrFull) {
		t.Errorf("a fifth request: %v", err)
	}
	clock.Add(2 * time.Hour)
	s.Sweep()
	if st := s.Stats(); st.Groups != 0 || st.Requests != 0 {
		t.Errorf("stats after %+v", st)
	}
	a, _ := mustCreateProof(t, s, []byte("otsz1:a"), time.Hour)
	b, _ := mustCreateProof(t, s, []byte("otsz1:b"), time.Hour)
	if _, err := s.CreateGroup([][]byte{a.ReceiptKey[:], b.ReceiptKey[:]}); err != nil {
		t.Errorf("a group once the others are forgotten: %v", err)
	}
	if _, err := s.CreateRequest(time.Hour, ""); err != nil {
		t.Errorf("a request once the others are forgotten: %v", err)
	}
}
