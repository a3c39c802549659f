package handler

// Rate limits, passphrase lockouts, and the one-time claim under load.

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

var (
	alice = net.IPv4(192, 0, 2, 1)
	bob   = net.IPv4(192, 0, 2, 2)
	proxy = net.IPv4(127, 0, 0, 1)
)

// retryAfter returns r's Retry-After in seconds, failing unless it is a
// positive number.
func retryAfter(tb testing.TB, r *response) int {
	tb.Helper()
	n, err := strconv.Atoi(r.get("Retry-After"))
	if err != nil || n <= 0 {
		tb.Fatalf("Retry-After = %q, want seconds > 0 (%v)", r.get("Retry-After"), r)
	}
	return n
}

func TestRateLimit(t *testing.T) {
	const limit = 3
	window := int((20 * time.Minute) / time.Second)

	// Each kind of request is counted on its own.
	kinds := []struct {
		name string
		do   func(tb testing.TB, s *testServer, c *fasthttp.Client) *response
	}{
		{"Create", func(tb testing.TB, s *testServer, c *fasthttp.Client) *response {
			return s.doWith(tb, c, "POST", "/api/v1/share", ctForm, "secret=x")
		}},
		{"Generate", func(tb testing.TB, s *testServer, c *fasthttp.Client) *response {
			return s.doWith(tb, c, "POST", "/api/v1/generate", ctForm, "")
		}},
		{"Reveal", func(tb testing.TB, s *testServer, c *fasthttp.Client) *response {
			return s.doWith(tb, c, "POST", "/api/v1/secret/"+strings.Repeat("a", 32), ctForm, "")
		}},
		{"Receipt", func(tb testing.TB, s *testServer, c *fasthttp.Client) *response {
			return s.doWith(tb, c, "GET", "/api/v1/receipt/"+strings.Repeat("a", 32), "", "")
		}},
		{"Burn", func(tb testing.TB, s *testServer, c *fasthttp.Client) *response {
			return s.doWith(tb, c, "POST", "/api/v1/receipt/"+strings.Repeat("a", 32)+"/burn", ctForm, "")
		}},
		{"Peek", func(tb testing.TB, s *testServer, c *fasthttp.Client) *response {
			return s.doWith(tb, c, "GET", "/api/otslite/secret/"+strings.Repeat("a", 32), "", "")
		}},
		{"BadCredential", func(tb testing.TB, s *testServer, c *fasthttp.Client) *response {
			return s.doWith(tb, c, "GET", "/api/v1/status", "", "", "Authorization", "Basic Zm9vOmJhcg==")
		}},
	}
	for _, k := range kinds {
		t.Run("ErrRateLimited/"+k.name, func(t *testing.T) {
			s := MustOpenServer(t, withRateLimit(limit))
			a, b := s.clientFrom(alice), s.clientFrom(bob)
			for i := 0; i < limit; i++ {
				if r := k.do(t, s, a); r.intended() == 429 {
					t.Fatalf("request %d refused: %v", i+1, r)
				}
			}
			r := k.do(t, s, a)
			MustFail(t, r, 429, "")
			if ra := retryAfter(t, r); ra > window {
				t.Errorf("Retry-After = %d, longer than the %d s window", ra, window)
			}
			// Another client is not affected; nor is another kind.
			if r := k.do(t, s, b); r.intended() == 429 {
				t.Errorf("another client refused: %v", r)
			}
			other := kinds[0] // Create
			if k.name == "Create" || k.name == "Generate" {
				other = kinds[2] // Reveal
			}
			if r := other.do(t, s, a); r.intended() == 429 {
				t.Errorf("%s refused after %s was limited: %v", other.name, k.name, r)
			}
		})
	}

	t.Run("OK/WindowRollover", func(t *testing.T) {
		s := MustOpenServer(t, withRateLimit(limit))
		a := s.clientFrom(alice)
		share := func() *response { return s.doWith(t, a, "POST", "/api/v1/share", ctForm, "secret=x") }
		for i := 0; i < limit; i++ {
			MustOK(t, share())
		}
		ra := retryAfter(t, MustFailResponse(t, share(), 429))
		MustFail(t, share(), 429, msgRateLimited)
		s.clock.Add(time.Duration(ra-1) * time.Second)
		MustFail(t, share(), 429, "")
		s.clock.Add(time.Second)
		for i := 0; i < limit; i++ {
			MustOK(t, share())
		}
		MustFail(t, share(), 429, "")
	})

	t.Run("ErrSpoofedForwardedFor", func(t *testing.T) {
		// The peer is not a trusted proxy: X-Forwarded-For is ignored.
		for _, trusted := range [][]string{nil, {"127.0.0.0/8"}} {
			t.Run(fmt.Sprint(trusted), func(t *testing.T) {
				s := MustOpenServer(t, withRateLimit(limit), withTrustedProxies(trusted...))
				a := s.clientFrom(alice)
				for i := 0; i <= limit; i++ {
					r := s.doWith(t, a, "POST", "/api/v1/share", ctForm, "secret=x", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
					if i < limit {
						MustOK(t, r)
					} else {
						MustFail(t, r, 429, "")
					}
				}
			})
		}
	})

	t.Run("OK/TrustedProxy", func(t *testing.T) {
		s := MustOpenServer(t, withRateLimit(limit), withTrustedProxies("127.0.0.0/8"))
		p := s.clientFrom(proxy)
		share := func(xff string) *response {
			return s.doWith(t, p, "POST", "/api/v1/share", ctForm, "secret=x", "X-Forwarded-For", xff)
		}
		for i := 0; i < limit; i++ {
			MustOK(t, share("198.51.100.1"))
		}
		MustFail(t, share("198.51.100.1"), 429, "")
		// A client cannot dodge its limit by prepending addresses: the
		// rightmost untrusted hop is the client.
		MustFail(t, share("203.0.113.7, 198.51.100.1"), 429, "")
		MustFail(t, share("203.0.113.7,198.51.100.1, 127.0.0.2"), 429, "")
		// Other clients behind the same proxy are counted apart.
		MustOK(t, share("198.51.100.2"))
		MustOK(t, share("198.51.100.1, 198.51.100.3"))
	})
}

// MustFailResponse checks r is a v1 error with the intended status and
// returns r.
func MustFailResponse(tb testing.TB, r *response, intended int) *response {
	tb.Helper()
	MustFail(tb, r, intended, "")
	return r
}

func TestPassphraseLockout(t *testing.T) {
	const pass = "open sesame"
	reveal := func(tb testing.TB, s *testServer, c *fasthttp.Client, key, p string) *response {
		return s.doWith(tb, c, "POST", "/api/v1/secret/"+key, ctForm, form("passphrase", p))
	}

	t.Run("ErrLockedOut/PerClient", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "guarded", "passphrase", pass)
		a := s.clientFrom(alice)
		for i := 0; i < 5; i++ {
			MustFail(t, reveal(t, s, a, ref.secretKey, fmt.Sprintf("wrong %d", i)), 404, msgUnknownSecret)
		}
		// The sixth attempt is refused, wrong or even right.
		MustFail(t, reveal(t, s, a, ref.secretKey, "wrong 5"), 429, "")
		r := reveal(t, s, a, ref.secretKey, pass)
		MustFail(t, r, 429, "")
		if ra := retryAfter(t, r); ra > 30*60 {
			t.Errorf("Retry-After = %d, want at most the 30 min lockout", ra)
		}
		// Also for burn, and the secret is intact.
		MustFail(t, s.doWith(t, a, "POST", "/api/v1/receipt/"+ref.receiptKey+"/burn", ctForm, form("passphrase", pass)), 429, "")
		s.MustBeWaiting(t, ref)
		s.clock.Add(29 * time.Minute)
		MustFail(t, reveal(t, s, a, ref.secretKey, pass), 429, "")
		s.clock.Add(time.Minute)
		if v := str(t, MustOK(t, reveal(t, s, a, ref.secretKey, pass)), "value"); v != "guarded" {
			t.Errorf("revealed %q", v)
		}
	})

	t.Run("OK/OtherClient", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "guarded", "passphrase", pass)
		a, b := s.clientFrom(alice), s.clientFrom(bob)
		for i := 0; i < 5; i++ {
			MustFail(t, reveal(t, s, a, ref.secretKey, "wrong"), 404, msgUnknownSecret)
		}
		MustFail(t, reveal(t, s, a, ref.secretKey, pass), 429, "")
		MustOK(t, reveal(t, s, b, ref.secretKey, pass))
	})

	t.Run("ErrLockedOut/Total", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "guarded", "passphrase", pass)
		for i := 0; i < 5; i++ {
			c := s.clientFrom(net.IPv4(198, 51, 100, byte(i+1)))
			for j := 0; j < 4; j++ {
				MustFail(t, reveal(t, s, c, ref.secretKey, "wrong"), 404, msgUnknownSecret)
			}
		}
		MustFail(t, reveal(t, s, s.clientFrom(bob), ref.secretKey, pass), 429, "")
		s.MustBeWaiting(t, ref)
		s.clock.Add(30 * time.Minute)
		MustOK(t, reveal(t, s, s.clientFrom(bob), ref.secretKey, pass))
	})

	t.Run("ErrLockedOut/IPv6By64", func(t *testing.T) {
		// Eight addresses of one /64 share one client's five guesses.
		s := MustOpenServer(t)
		ref := s.MustShare(t, "guarded", "passphrase", pass)
		guesses := 0
		for i := range 8 {
			c := s.clientFrom(net.ParseIP(fmt.Sprintf("2001:db8:0:1:%x::%x", i*4099, i+1)))
			for range 2 {
				r := reveal(t, s, c, ref.secretKey, "wrong")
				if r.intended() == 429 {
					break
				}
				MustFail(t, r, 404, msgUnknownSecret)
				guesses++
			}
		}
		if guesses != 5 {
			t.Errorf("one /64 made %d wrong guesses, want 5", guesses)
		}
		MustOK(t, reveal(t, s, s.clientFrom(net.ParseIP("2001:db8:0:2::1")), ref.secretKey, pass))
	})

	t.Run("OK/MissingIsNotCounted", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "guarded", "passphrase", pass)
		for i := 0; i < 10; i++ {
			MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 404, msgUnknownSecret)
		}
		MustOK(t, reveal(t, s, s.client, ref.secretKey, pass))
	})
}

func TestRevealAtomic(t *testing.T) {
	const n = 1000
	s := MustOpenServer(t)
	ref := s.MustShare(t, "only once")
	// Each connection comes from its own address, so the per-address
	// connection cap does not queue them.
	var next atomic.Uint32
	c := s.track(&fasthttp.Client{
		Dial: func(string) (net.Conn, error) {
			i := next.Add(1)
			return s.ln.DialWithLocalAddr(&net.TCPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)), Port: 40000})
		},
		MaxConnsPerHost:    2 * n,
		MaxConnWaitTimeout: 30 * time.Second,
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       30 * time.Second,
	})

	var (
		wg                          sync.WaitGroup
		start                       = make(chan struct{})
		ok, unknown, busy, failures atomic.Int32
		mu                          sync.Mutex
		others                      []string
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := s.try(c, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, "")
			switch {
			case err != nil:
				failures.Add(1)
				mu.Lock()
				others = append(others, err.Error())
				mu.Unlock()
			case r.status == 200 && strings.Contains(string(r.body), `"value":"only once"`):
				ok.Add(1)
			case r.status == 404 && r.intended() == 404 && strings.Contains(string(r.body), msgUnknownSecret):
				unknown.Add(1)
			case r.status == 404 && r.intended() == 503:
				busy.Add(1)
			default:
				failures.Add(1)
				mu.Lock()
				others = append(others, r.String())
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("%d revealed, %d unknown, %d busy, %d other", ok.Load(), unknown.Load(), busy.Load(), failures.Load())
	if ok.Load() != 1 || failures.Load() != 0 || ok.Load()+unknown.Load()+busy.Load() != n {
		if len(others) > 5 {
			others = others[:5]
		}
		t.Fatalf("want exactly 1 reveal and %d unknown or busy; other outcomes: %q", n-1, others)
	}
}
