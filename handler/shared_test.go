package handler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/awnumar/memguard"
	"github.com/valyala/fasthttp"

	"otslite/store/resp"
)

// The handler's tests on the shared store: the v1 contract and the rules
// around it, run again with the store (and the handler's limits and recent
// lists) in Redis. They need the redis-server OTSLITE_TEST_REDIS names
// (.ci/run starts one); without it they skip, and fail under CI.

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

type sharedSetup struct {
	c      *resp.Client
	prefix string
	key    []byte
}

var (
	sharedMu     sync.Mutex
	sharedByTest = map[string]*sharedSetup{}
)

// useSharedStore puts the store and the handler's shared state in Redis
// when tb runs under TestSharedStore. Every handler one test opens shares
// the prefix and the process key: they are replicas of one another.
func useSharedStore(tb testing.TB, c *testConfig) {
	if !strings.HasPrefix(tb.Name(), "TestSharedStore") {
		return
	}
	name := tb.Name()
	sharedMu.Lock()
	setup := sharedByTest[name]
	if setup == nil {
		rc := testRedis(tb)
		b := make([]byte, 6)
		rand.Read(b)
		setup = &sharedSetup{c: rc, prefix: "otslite-test:" + hex.EncodeToString(b) + ":", key: make([]byte, 32)}
		rand.Read(setup.key)
		sharedByTest[name] = setup
		tb.Cleanup(func() {
			ctx := context.Background()
			if v, err := rc.DoStrings(ctx, "KEYS", setup.prefix+"*"); err == nil {
				for _, k := range v.Array {
					rc.Do(ctx, []byte("DEL"), k.Bytes)
				}
			}
			sharedMu.Lock()
			delete(sharedByTest, name)
			sharedMu.Unlock()
		})
	}
	sharedMu.Unlock()
	key := memguard.NewBuffer(32)
	copy(key.Bytes(), setup.key)
	c.store.Key, c.store.Remote, c.store.RemotePrefix = key, setup.c, setup.prefix
	c.handler.Shared, c.handler.SharedPrefix = setup.c, setup.prefix
}

// TestSharedStore runs the v1 and v2 contracts, files, groups, requests
// and late attempts, and the rules around them, on the Redis store. The
// round-robin run leaves out what looks inside one replica (the buffers it
// wiped, the counts it keeps, a panic it was made to raise). A flood of
// passphrase requests (TestPassphraseFlood) is not run here: inside one
// test process on two cores it delays the Redis client's replies past
// its 3 s limit, and requests beside it get 503 for a moment.
func TestSharedStore(t *testing.T) {
	testRedis(t)
	for _, tc := range []struct {
		name string
		test func(*testing.T)
	}{
		{"APIHeaders", TestAPIHeaders},
		{"Receipt", TestReceipt},
		{"Share", TestShare},
		{"ShareTTL", TestShareTTL},
		{"SharePassphrase", TestSharePassphrase},
		{"ShareSize", TestShareSize},
		{"Generate", TestGenerate},
		{"Reveal", TestReveal},
		{"Burn", TestBurn},
		{"Status", TestStatus},
		{"Auth", TestAuth},
		{"Proof", TestProof},
		{"ReceiptLockout", TestReceiptLockout},
		{"Tokens", TestTokens},
		{"Recent", TestRecent},
		{"AuthFailureLimit", TestAuthFailureLimit},
		{"RateLimit", TestRateLimit},
		{"PassphraseLockout", TestPassphraseLockout},
		{"RevealAtomic", TestRevealAtomic},
		{"AuditTrail", TestAuditTrail},
		{"OwnAPI", TestOwnAPI},
		{"PagesDoNotConsume", TestPagesDoNotConsume},
		{"V2Meta", TestV2Meta},
		{"V2Conceal", TestV2Conceal},
		{"V2Generate", TestV2Generate},
		{"V2Reveal", TestV2Reveal},
		{"V2SecretStatus", TestV2SecretStatus},
		{"V2Receipt", TestV2Receipt},
		{"V2Burn", TestV2Burn},
		{"V2Auth", TestV2Auth},
		{"V2Policy", TestV2Policy},
		{"V2RateLimit", TestV2RateLimit},
		{"V2LateOpen", TestV2LateOpen},
		{"ClientQueryString", TestClientQueryString},
		{"ClientMultipart", TestClientMultipart},
		{"ClientEmptyBasic", TestClientEmptyBasic},
		{"FileEnvelopes", TestFileEnvelopes},
		{"GroupAPI", TestGroupAPI},
		{"GroupCreate", TestGroupCreate},
		{"GroupPolicy", TestGroupPolicy},
		{"GroupLinksOpenOnceOverHTTP", TestGroupLinksOpenOnceOverHTTP},
		{"RequestAPI", TestRequestAPI},
		{"RequestPolicy", TestRequestPolicy},
		{"RequestAnsweredOnceOverHTTP", TestRequestAnsweredOnceOverHTTP},
		{"LateOpenLooksUnknown", TestLateOpenLooksUnknown},
		{"LockedBodyWiped", TestLockedBodyWiped},
		{"Activity", TestActivity},
		{"AuditPage", TestAuditPage},
		{"OperatorView", TestOperatorView},
		{"HoursPolicy", TestHoursPolicy},
		{"NetworkPolicy", TestNetworkPolicy},
		{"Pages", TestPages},
		{"RequestBodyWiped", TestRequestBodyWiped},
		{"V2BodyWiped", TestV2BodyWiped},
		{"AuthorizationWiped", TestAuthorizationWiped},
		{"Panic", TestPanic},
	} {
		t.Run(tc.name, tc.test)
	}
	// The v1 contract again, every request going to the other of two
	// replicas than the one before.
	t.Run("RoundRobin", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			test func(*testing.T)
		}{
			{"APIHeaders", TestAPIHeaders},
			{"Receipt", TestReceipt},
			{"Share", TestShare},
			{"ShareTTL", TestShareTTL},
			{"SharePassphrase", TestSharePassphrase},
			{"ShareSize", TestShareSize},
			{"Generate", TestGenerate},
			{"Reveal", TestReveal},
			{"Burn", TestBurn},
			{"Status", TestStatus},
			{"Auth", TestAuth},
			{"Proof", TestProof},
			{"ReceiptLockout", TestReceiptLockout},
			{"Recent", TestRecent},
			{"PassphraseLockout", TestPassphraseLockout},
			{"RevealAtomic", TestRevealAtomic},
			{"OwnAPI", TestOwnAPI},
			{"V2Meta", TestV2Meta},
			{"V2Conceal", TestV2Conceal},
			{"V2Generate", TestV2Generate},
			{"V2Reveal", TestV2Reveal},
			{"V2SecretStatus", TestV2SecretStatus},
			{"V2Receipt", TestV2Receipt},
			{"V2Burn", TestV2Burn},
			{"V2Auth", TestV2Auth},
			{"V2Policy", TestV2Policy},
			{"V2RateLimit", TestV2RateLimit},
			{"V2LateOpen", TestV2LateOpen},
			{"ClientQueryString", TestClientQueryString},
			{"ClientMultipart", TestClientMultipart},
			{"ClientEmptyBasic", TestClientEmptyBasic},
			{"FileEnvelopes", TestFileEnvelopes},
			{"GroupAPI", TestGroupAPI},
			{"GroupCreate", TestGroupCreate},
			{"GroupPolicy", TestGroupPolicy},
			{"GroupLinksOpenOnceOverHTTP", TestGroupLinksOpenOnceOverHTTP},
			{"RequestAPI", TestRequestAPI},
			{"RequestPolicy", TestRequestPolicy},
			{"RequestAnsweredOnceOverHTTP", TestRequestAnsweredOnceOverHTTP},
			{"LateOpenLooksUnknown", TestLateOpenLooksUnknown},
			{"Activity", TestActivity},
			{"AuditPage", TestAuditPage},
			{"OperatorView", TestOperatorView},
			{"HoursPolicy", TestHoursPolicy},
			{"Pages", TestPages},
		} {
			t.Run(tc.name, tc.test)
		}
	})
}

// recentLists counts the recent lists h keeps, in memory or in Redis.
func recentLists(tb testing.TB, h *Handler) int {
	tb.Helper()
	if h.recents.shared == nil {
		return len(h.recents.lists)
	}
	n := 0
	if err := h.recents.shared.lists(func([]byte, [32]byte) { n++ }); err != nil {
		tb.Fatal(err)
	}
	return n
}

// roundRobin makes srv alternate, request by request, between h and a
// second replica on the same shared store (as a round-robin proxy in
// front of two replicas does) when tb runs under TestSharedStore/RoundRobin.
func roundRobin(tb testing.TB, srv *fasthttp.Server, h *Handler, clock *fakeClock, opts ...option) {
	if !strings.HasPrefix(tb.Name(), "TestSharedStore/RoundRobin/") {
		return
	}
	// The replicas' clocks agree, as the test moves them.
	sameClock := func(c *testConfig) { c.store.Now, c.handler.Now = clock.Now, clock.Now }
	other, _, _ := MustOpenHandler(tb, append(opts, sameClock)...)
	var n atomic.Uint64
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		if n.Add(1)%2 == 0 {
			other.Serve(ctx)
			return
		}
		h.Serve(ctx)
	}
}
