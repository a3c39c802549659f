package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/awnumar/memguard"
	"golang.org/x/crypto/chacha20poly1305"

	"otslite/store/resp"
)

// The Redis backend is tested against a real redis-server: the one
// OTSLITE_TEST_REDIS names (.ci/run starts one). Without it these tests
// skip, and fail under CI.

// testRedis connects to the test Redis.
func testRedis(tb testing.TB) *resp.Client {
	tb.Helper()
	url := os.Getenv("OTSLITE_TEST_REDIS")
	if url == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatal("OTSLITE_TEST_REDIS is not set: .ci/run starts a redis-server and names it there")
		}
		tb.Skip("OTSLITE_TEST_REDIS is not set (e.g. redis://127.0.0.1:6379/ of a redis-server with persistence off)")
	}
	o, err := resp.ParseURL(url)
	if err != nil {
		tb.Fatalf("OTSLITE_TEST_REDIS: %v", err)
	}
	c := resp.New(o)
	tb.Cleanup(c.Close)
	if _, err := c.DoStrings(context.Background(), "PING"); err != nil {
		tb.Fatalf("the test Redis at OTSLITE_TEST_REDIS: %v", err)
	}
	return c
}

// testPrefix is a fresh key prefix, whose keys are deleted when the test
// ends: each test gets a Redis of its own within the one server.
func testPrefix(tb testing.TB, c *resp.Client) string {
	tb.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "otslite-test:" + hex.EncodeToString(b) + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		v, err := c.DoStrings(ctx, "KEYS", prefix+"*")
		if err != nil {
			return
		}
		for _, k := range v.Array {
			c.Do(ctx, []byte("DEL"), k.Bytes)
		}
	})
	return prefix
}

// testKey is a process key in locked memory, as ReadKeyFile returns.
func testKey(tb testing.TB, raw []byte) *memguard.LockedBuffer {
	tb.Helper()
	k := memguard.NewBuffer(procKeySize)
	copy(k.Bytes(), raw)
	return k
}

// remoteTests run as subtests of TestRemote pick Redis in MustOpenStore.
type remoteSetup struct {
	c      *resp.Client
	prefix string
	key    []byte
}

var (
	remoteMu     sync.Mutex
	remoteByTest = map[string]*remoteSetup{}
)

// useRedis points cfg at the test Redis when tb runs under TestRemote
// (or a test that asked for replicas), so that every store of one test
// shares one prefix and one process key: its replicas.
func useRedis(tb testing.TB, cfg *Config) {
	if cfg.Remote != nil || !strings.HasPrefix(tb.Name(), "TestRemote") {
		return
	}
	top := tb.Name()
	remoteMu.Lock()
	setup := remoteByTest[top]
	if setup == nil {
		c := testRedis(tb)
		key := make([]byte, procKeySize)
		rand.Read(key)
		setup = &remoteSetup{c: c, prefix: testPrefix(tb, c), key: key}
		remoteByTest[top] = setup
		tb.Cleanup(func() {
			remoteMu.Lock()
			delete(remoteByTest, top)
			remoteMu.Unlock()
		})
	}
	remoteMu.Unlock()
	cfg.Remote, cfg.RemotePrefix, cfg.Key = setup.c, setup.prefix, testKey(tb, setup.key)
}

// TestRemote runs the store's own tests on Redis: the same promises,
// kept by the Redis backend. (Subtests that look at the in-memory cells
// skip there.)
func TestRemote(t *testing.T) {
	testRedis(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"CreateReveal", TestCreateReveal},
		{"ReceiptShowsSecretKeyWhileWaiting", TestReceiptShowsSecretKeyWhileWaiting},
		{"Burn", TestBurn},
		{"Expiry", TestExpiry},
		{"Passphrase", TestPassphrase},
		{"Capacity", TestCapacity},
		{"RevealIsAtomic", TestRevealIsAtomic},
		{"ProofRules", TestProofRules},
		{"LockoutCappedAtDeadline", TestLockoutCappedAtDeadline},
		{"LockoutGroupsIPv6By64", TestLockoutGroupsIPv6By64},
		{"Ref", TestRef},
		{"ExpiredHook", TestExpiredHook},
		{"ShowGenerated", TestShowGenerated},
		{"EnvelopeSizes", TestEnvelopeSizes},
		{"LateAttempts", TestLateAttempts},
		{"Group", TestGroup},
		{"GroupRefuses", TestGroupRefuses},
		{"GroupLinksOpenOnce", TestGroupLinksOpenOnce},
		{"Request", TestRequest},
		{"RequestExpires", TestRequestExpires},
		{"RequestAnsweredOnce", TestRequestAnsweredOnce},
		{"BeyondCapacity", TestBeyondCapacity},
		{"CheckedThenBusyEndsTurn", TestCheckedThenBusyEndsTurn},
	} {
		t.Run(tc.name, tc.test)
	}
}

// skipRemote skips a test that looks inside the in-memory store.
func skipRemote(tb testing.TB, s *Store) {
	tb.Helper()
	if s.remote != nil {
		tb.Skip("looks at the in-memory store's cells")
	}
}

// The generic construction with additional data is RFC 8439's AEAD, as the
// assembly's is.
func TestSealADMatchesRFC8439(t *testing.T) {
	var key [derivedSize]byte
	rand.Read(key[:])
	msg, ad := []byte("a sealed secret for the shared store, longer than one block"), []byte("h0123456789abcdef")
	want, _ := chacha20poly1305.New(key[:])
	sealed := want.Seal(nil, make([]byte, 12), msg, ad)
	saved := aeadType
	defer func() { aeadType = saved }()
	for _, typ := range []reflect.Type{saved, nil} {
		aeadType = typ
		got := make([]byte, len(msg)+tagSize)
		sealAD(got, &key, msg, ad)
		if !bytes.Equal(got, sealed) {
			t.Errorf("overlay %v: sealAD differs from chacha20poly1305", typ != nil)
		}
		out := make([]byte, len(msg))
		if err := openAD(out, &key, sealed, ad); err != nil || !bytes.Equal(out, msg) {
			t.Errorf("overlay %v: openAD: %v", typ != nil, err)
		}
		if err := openAD(out, &key, sealed, nil); err == nil {
			t.Errorf("overlay %v: opened without its additional data", typ != nil)
		}
	}
}

// Whoever can write to Redis cannot take the passphrase off a secret and
// open it with the link alone: the secret does not open without its own
// verifier. It is destroyed instead (a writer can do that anyway).
func TestRemoteVerifierBound(t *testing.T) {
	c := testRedis(t)
	s, _ := MustOpenStore(t, func(cfg *Config) {
		cfg.Remote, cfg.RemotePrefix = c, testPrefix(t, c)
	})
	r := MustCreate(t, s, "guarded by a passphrase", CreateOptions{Passphrase: []byte("pw12")})
	sid := indexOf(s, labelSecret, r.SecretKey)
	ctx := context.Background()
	if _, err := c.Do(ctx, []byte("HSET"), s.remote.name('s', sid), []byte("v"), []byte("")); err != nil {
		t.Fatal(err)
	}
	got, err := reveal(s, r.SecretKey, "", alice)
	if err == nil || got != "" {
		t.Fatalf("revealed without its passphrase after the verifier was removed in Redis: %q, %v", got, err)
	}
}

// BenchmarkRemoteCreateReveal is BenchmarkCreateReveal on Redis, from
// parallel goroutines (the client pipelines what they send).
func BenchmarkRemoteCreateReveal(b *testing.B) {
	c := testRedis(b)
	s, _ := MustOpenStore(b, roomy, func(cfg *Config) {
		cfg.Remote, cfg.RemotePrefix, cfg.Now = c, testPrefix(b, c), nil
	})
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := s.Plain(1024)
			if err != nil {
				b.Error(err)
				return
			}
			p.SetLen(1024)
			r, err := s.Create(p, CreateOptions{TTL: time.Hour})
			p.Release()
			if err != nil {
				b.Error(err)
				return
			}
			v, _, err := s.Reveal(r.SecretKey[:], nil, alice)
			if err != nil {
				b.Error(err)
				return
			}
			v.Release()
			r.Wipe()
		}
	})
}

// Redis's own expiry backs the store's: the secret's keys go a little
// after its ttl, the receipt's after twice that, and nothing of a secret
// is kept without a time to live.
func TestRemoteTTLs(t *testing.T) {
	c := testRedis(t)
	prefix := testPrefix(t, c)
	s, _ := MustOpenStore(t, func(cfg *Config) { cfg.Remote, cfg.RemotePrefix = c, prefix })
	r := MustCreate(t, s, "ttl", CreateOptions{TTL: time.Hour, Passphrase: []byte("pw12")})
	ctx := context.Background()
	pttl := func(key []byte) time.Duration {
		v, err := c.Do(ctx, []byte("PTTL"), key)
		if err != nil {
			t.Fatal(err)
		}
		return time.Duration(v.Int) * time.Millisecond
	}
	sk := s.remote.name('s', indexOf(s, labelSecret, r.SecretKey))
	rk := s.remote.name('r', indexOf(s, labelReceipt, r.ReceiptKey))
	if d := pttl(sk); d <= time.Hour || d > time.Hour+remoteGrace {
		t.Errorf("the secret's key lives %v, want a little over its ttl", d)
	}
	if d := pttl(rk); d <= 2*time.Hour || d > 2*time.Hour+remoteGrace {
		t.Errorf("the receipt's key lives %v, want a little over twice the ttl", d)
	}
	// A wrong guess takes the turn and gives it back; nothing is left
	// without a time to live.
	if _, err := reveal(s, r.SecretKey, "wrong", alice); err == nil {
		t.Fatal("a wrong passphrase opened the secret")
	}
	v, err := c.DoStrings(ctx, "KEYS", prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range v.Array {
		name := string(k.Bytes)
		if strings.HasSuffix(name, ":count") || strings.HasSuffix(name, ":due") {
			continue // the shared counts and the expiry queue
		}
		if d := pttl(k.Bytes); d < 0 {
			t.Errorf("%s is kept without a time to live", name)
		}
	}
	if got, err := reveal(s, r.SecretKey, "pw12", alice); err != nil || got != "ttl" {
		t.Fatalf("reveal: %q, %v", got, err)
	}
	if d := pttl(sk); d != -2*time.Millisecond {
		t.Errorf("the secret's key after its reveal: PTTL %v, want gone", d)
	}
	// Its tombstone lives as long as its receipt, no longer.
	if rd, d := pttl(rk), pttl(s.remote.name('x', indexOf(s, labelSecret, r.SecretKey))); d <= 0 || d > rd {
		t.Errorf("the tombstone lives %v, its receipt %v", d, rd)
	}

	// Groups and requests: their keys live as long as they are kept, plus
	// the grace; only the indexes by time live on.
	var keys [][]byte
	for range 2 {
		r, _ := mustCreateProof(t, s, []byte("otsz1:g"), time.Hour)
		keys = append(keys, r.ReceiptKey[:])
	}
	g, err := s.CreateGroup(keys)
	if err != nil {
		t.Fatal(err)
	}
	if d := pttl(s.remote.name('g', indexOf(s, labelGroup, g.Key))); d <= 2*time.Hour || d > 2*time.Hour+remoteGrace {
		t.Errorf("the group's key lives %v, want a little over its receipts", d)
	}
	req, err := s.CreateRequest(time.Hour, "")
	if err != nil {
		t.Fatal(err)
	}
	qk, ik := s.remote.name('q', indexOf(s, labelAsk, req.AskKey)), s.remote.name('i', indexOf(s, labelInbox, req.InboxKey))
	for _, k := range [][]byte{qk, ik} {
		if d := pttl(k); d <= 2*time.Hour || d > 2*time.Hour+remoteGrace {
			t.Errorf("%s lives %v, want a little over twice its ttl", k, d)
		}
	}
	p, proof := answerEnvelope(t, s, "otsz1:answer")
	defer p.Release()
	if _, err := s.AnswerRequest(req.AskKey[:], p, proof, public, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][]byte{qk, ik} {
		if d := pttl(k); d <= 2*time.Hour || d > 2*time.Hour+remoteGrace {
			t.Errorf("%s lives %v after its answer, want a little over the answer's receipt", k, d)
		}
	}
	v, err = c.DoStrings(ctx, "KEYS", prefix+"*")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range v.Array {
		name := strings.TrimPrefix(string(k.Bytes), prefix)
		switch name {
		case "count", "due", "groups", "requests", "asking":
			continue // the shared counts and the indexes by time
		}
		if d := pttl(k.Bytes); d < 0 {
			t.Errorf("%s is kept without a time to live", name)
		}
	}
}

// TestRemoteReplicasBeyond: two stores on one Redis with one key, as two
// replicas are. What one makes the other serves, and what may happen once
// happens once across both.
func TestRemoteReplicasBeyond(t *testing.T) {
	c := testRedis(t)
	prefix := testPrefix(t, c)
	key := make([]byte, procKeySize)
	rand.Read(key)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	open := func() *Store {
		s, _ := MustOpenStore(t, withFiles(4), func(cfg *Config) {
			cfg.Remote, cfg.RemotePrefix, cfg.Key, cfg.Now = c, prefix, testKey(t, key), clock.Now
		})
		return s
	}
	a, b := open(), open()
	reps := []*Store{a, b}
	race := func(n int, fn func(i int, s *Store) bool) int {
		var won atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if fn(i, reps[i%2]) {
					won.Add(1)
				}
			}()
		}
		wg.Wait()
		return int(won.Load())
	}

	t.Run("GeneratedShownOnce", func(t *testing.T) {
		r := MustCreate(t, a, "Gen3rated!", CreateOptions{Generated: true})
		var shown atomic.Value
		n := race(10, func(_ int, s *Store) bool {
			p, err := s.ShowGenerated(r.ReceiptKey[:], time.Minute)
			if err != nil || p == nil {
				return false
			}
			shown.Store(string(p.Bytes()))
			p.Release()
			return true
		})
		if n != 1 || shown.Load() != "Gen3rated!" {
			t.Errorf("shown %d times: %v", n, shown.Load())
		}
		w, err := b.Peek(r.SecretKey[:], alice)
		if err != nil || !w.Generated || !w.Created.Equal(clock.Now()) || w.TTL != time.Hour {
			t.Errorf("the other replica's look: %+v, %v", w, err)
		}
	})
	t.Run("EnvelopeOnTheOther", func(t *testing.T) {
		big := make([]byte, 200<<10)
		rand.Read(big)
		r, proof := mustCreateProof(t, a, big, time.Hour)
		out, _, err := b.Reveal(r.SecretKey[:], []byte(proof), alice)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), big) {
			t.Error("the envelope came back different")
		}
		out.Release()
	})
	t.Run("LateOnTheOther", func(t *testing.T) {
		r := MustCreate(t, a, "once", CreateOptions{})
		if _, err := reveal(a, r.SecretKey, "", alice); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Peek(r.SecretKey[:], bob); !errors.Is(err, ErrLate) {
			t.Errorf("a look on the other replica: %v", err)
		}
		if _, err := reveal(b, r.SecretKey, "", bob); !errors.Is(err, ErrLate) {
			t.Errorf("a reveal on the other replica: %v", err)
		}
		got, err := a.Receipt(r.ReceiptKey[:])
		if err != nil || got.LateTotal != 2 || len(got.Late) != 2 || got.Late[0].Kind != LatePage || got.Late[1].Kind != LateReveal {
			t.Errorf("the receipt: %+v, %v", got.Late, err)
		}
	})
	t.Run("GroupLinksOpenOnce", func(t *testing.T) {
		g, rs, proofs := mustGroup(t, a, 4)
		for i := range rs {
			n := race(12, func(j int, s *Store) bool {
				if j%3 == 0 {
					_, err := s.BurnGroupLink(g.Key[:], i)
					return err == nil
				}
				out, _, err := s.Reveal(rs[i].SecretKey[:], []byte(proofs[i]), alice)
				if err != nil {
					return false
				}
				out.Release()
				return true
			})
			if n != 1 {
				t.Errorf("link %d: %d winners", i+1, n)
			}
		}
		v, err := b.Group(g.Key[:])
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range v.Links {
			if l.State != StateReceived && l.State != StateBurned {
				t.Errorf("link %d: %v", i+1, l.State)
			}
		}
	})
	t.Run("RequestAnsweredOnce", func(t *testing.T) {
		req, err := a.CreateRequest(time.Hour, "alice")
		if err != nil {
			t.Fatal(err)
		}
		var proofs [8][]byte
		n := race(8, func(i int, s *Store) bool {
			p, proof := answerEnvelope(t, s, "otsz1:answer "+string(rune('a'+i)))
			defer p.Release()
			proofs[i] = proof
			_, err := s.AnswerRequest(req.AskKey[:], p, proof, public, time.Hour)
			if err != nil && !errors.Is(err, ErrAnswered) {
				t.Errorf("answer: %v", err)
			}
			return err == nil
		})
		if n != 1 {
			t.Fatalf("%d answers taken", n)
		}
		in, err := b.Inbox(req.InboxKey[:])
		if err != nil || in.State != RequestAnswered || !bytes.Equal(in.Public[:], public) {
			t.Fatalf("inbox on the other replica: %+v, %v", in, err)
		}
		if st := a.Stats(); st.Requests != 0 {
			t.Errorf("an answered request still waits: %+v", st)
		}
		n = race(8, func(i int, s *Store) bool {
			for _, proof := range proofs {
				if proof == nil {
					continue
				}
				if out, _, err := s.RevealAnswer(req.InboxKey[:], proof, alice); err == nil {
					out.Release()
					return true
				}
			}
			return false
		})
		if n != 1 {
			t.Errorf("the answer read %d times", n)
		}
		if in, _ := a.Inbox(req.InboxKey[:]); in.State != RequestRead {
			t.Errorf("after reading: %v", in.State)
		}
	})
}
