package handler

// Create tokens, failed-credential limits and the access policy, through a
// real server.

import (
	"encoding/base64"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/handler/access"
	"otslite/store"
)

const (
	aliceToken  = "alice-first-token-0001"
	aliceToken2 = "alice-second-token-002"
	bobToken    = "bob-only-token-000003"
	adminToken  = "the-admin-token-000005"
)

func basicAuth(user, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
}

// withTokens configures create tokens: fixed entries and a token file
// ("" for none).
func withTokens(tb testing.TB, fixed []string, path string) option {
	tb.Helper()
	tok, err := access.NewTokens(fixed, path)
	if err != nil {
		tb.Fatalf("NewTokens: %v", err)
	}
	tb.Cleanup(tok.Close)
	return func(c *testConfig) { c.handler.Tokens = tok }
}

func withAdminToken(token string) option {
	return func(c *testConfig) { c.handler.AdminToken = token }
}

func withCreateAllow(prefixes ...string) option {
	return func(c *testConfig) {
		for _, p := range prefixes {
			c.handler.CreateAllow = append(c.handler.CreateAllow, netip.MustParsePrefix(p))
		}
	}
}

func withRevealAllow(prefixes ...string) option {
	return func(c *testConfig) {
		for _, p := range prefixes {
			c.handler.RevealAllow = append(c.handler.RevealAllow, netip.MustParsePrefix(p))
		}
	}
}

func withRevealHours(tb testing.TB, spec string) option {
	tb.Helper()
	h, err := access.ParseHours(spec)
	if err != nil {
		tb.Fatal(err)
	}
	return func(c *testConfig) { c.handler.RevealHours = h }
}

// writeTokens (re)writes a token file in dir.
func writeTokens(tb testing.TB, dir string, lines ...string) string {
	tb.Helper()
	path := filepath.Join(dir, "tokens")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// shareAs stores value with credential auth ("" for none).
func (s *testServer) shareAs(tb testing.TB, c *fasthttp.Client, auth, value string) *response {
	tb.Helper()
	var headers []string
	if auth != "" {
		headers = []string{"Authorization", auth}
	}
	return s.doWith(tb, c, "POST", "/api/v1/share", ctForm, form("secret", value), headers...)
}

func TestTokens(t *testing.T) {
	t.Run("None", func(t *testing.T) {
		s := MustOpenServer(t)
		m := MustOK(t, s.shareAs(t, s.client, "", "anonymous"))
		if m["custid"] != "anon" {
			t.Errorf("custid = %v; want anon", m["custid"])
		}
		MustFail(t, s.shareAs(t, s.client, basicAuth("alice", aliceToken), "x"), 401, msgNotAuthorized)
		MustFail(t, s.do(t, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", aliceToken)), 401, msgNotAuthorized)
	})

	t.Run("Valid", func(t *testing.T) {
		s := MustOpenServer(t, withTokens(t, []string{"alice:" + aliceToken, "bob:" + bobToken}, ""))
		for _, tc := range []struct{ user, token, path string }{
			{"alice", aliceToken, "/api/v1/share"},
			{"bob", bobToken, "/api/v1/create"},
			{"bob", bobToken, "/api/v1/generate"},
		} {
			m := MustOK(t, s.do(t, "POST", tc.path, ctForm, form("secret", "from "+tc.user), "Authorization", basicAuth(tc.user, tc.token)))
			if m["custid"] != tc.user {
				t.Errorf("%s: custid = %v; want %s", tc.path, m["custid"], tc.user)
			}
			// Opening, reading the receipt and burning stay keyed by
			// their links: no credential needed.
			MustOK(t, s.do(t, "GET", "/api/v1/receipt/"+str(t, m, "metadata_key"), "", ""))
			if tc.path == "/api/v1/generate" {
				MustOK(t, s.do(t, "POST", "/api/v1/receipt/"+str(t, m, "metadata_key")+"/burn", ctForm, ""))
			} else if got := s.MustReveal(t, str(t, m, "secret_key")); got != "from "+tc.user {
				t.Errorf("revealed %q", got)
			}
		}
		// A valid credential is accepted where none is needed, too.
		MustOK(t, s.do(t, "GET", "/api/v1/status", "", "", "Authorization", basicAuth("alice", aliceToken)))
		m := MustOK(t, s.do(t, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", aliceToken)))
		if m["status"] != "nominal" {
			t.Errorf("authcheck = %v", m)
		}
	})

	t.Run("ErrRequired", func(t *testing.T) {
		s := MustOpenServer(t, withTokens(t, []string{"alice:" + aliceToken}, ""))
		MustFail(t, s.shareAs(t, s.client, "", "x"), 401, msgNotAuthorized)
		MustFail(t, s.do(t, "POST", "/api/v1/generate", ctForm, ""), 401, msgNotAuthorized)
		MustFail(t, s.do(t, "GET", "/api/v1/authcheck", "", ""), 401, msgNotAuthorized)
		if n := s.st.Stats().Created; n != 0 {
			t.Errorf("%d secrets created without a credential", n)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		s := MustOpenServer(t, withTokens(t, []string{"alice:" + aliceToken, "bob:" + bobToken}, ""), withAdminToken(adminToken))
		ref := s.MustShareAs(t, "alice", aliceToken, "waiting")
		for name, auth := range map[string]string{
			"OtherUsersToken": basicAuth("alice", bobToken),
			"UnknownUser":     basicAuth("mallory", aliceToken),
			"TokenAsUser":     basicAuth(aliceToken, "alice"),
			"Truncated":       basicAuth("alice", aliceToken[:len(aliceToken)-1]),
			"NoColon":         "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"+aliceToken)),
			"Garbage":         "Basic !!!",
			"BearerCreate":    "Bearer " + aliceToken,
			"AdminBearer":     "Bearer " + adminToken,
			"AdminBasic":      basicAuth("admin", adminToken),
		} {
			t.Run(name, func(t *testing.T) {
				MustFail(t, s.shareAs(t, s.client, auth, "x"), 401, msgNotAuthorized)
				MustFail(t, s.do(t, "GET", "/api/v1/authcheck", "", "", "Authorization", auth), 401, msgNotAuthorized)
				// A credential that is sent is checked everywhere.
				MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, "", "Authorization", auth), 401, msgNotAuthorized)
				MustFail(t, s.do(t, "GET", "/api/v1/status", "", "", "Authorization", auth), 401, msgNotAuthorized)
			})
		}
		s.MustBeWaiting(t, ref)
		if n := s.st.Stats().Created; n != 1 {
			t.Errorf("%d secrets created; want only the first", n)
		}
	})

	t.Run("OKAdminListedAsCreateToken", func(t *testing.T) {
		s := MustOpenServer(t, withTokens(t, []string{"ops:" + adminToken}, ""), withAdminToken(adminToken))
		MustOK(t, s.shareAs(t, s.client, basicAuth("ops", adminToken), "x"))
	})

	t.Run("RotatedAndReloaded", func(t *testing.T) {
		dir := t.TempDir()
		path := writeTokens(t, dir, "alice:"+aliceToken, "bob:"+bobToken)
		s := MustOpenServer(t, withTokens(t, nil, path))
		before := s.MustShareAs(t, "alice", aliceToken, "made with the old token")

		// A connection kept open across the reload.
		c := s.clientFrom(alice)
		MustOK(t, s.shareAs(t, c, basicAuth("bob", bobToken), "before"))

		writeTokens(t, dir, "alice:"+aliceToken, "alice:"+aliceToken2, "bob:"+bobToken)
		if n, err := s.h.ReloadTokens(); err != nil || n != 3 {
			t.Fatalf("ReloadTokens = %d, %v", n, err)
		}
		MustOK(t, s.shareAs(t, c, basicAuth("alice", aliceToken), "old still works"))
		MustOK(t, s.shareAs(t, c, basicAuth("alice", aliceToken2), "new works"))

		writeTokens(t, dir, "alice:"+aliceToken2, "bob:"+bobToken)
		if _, err := s.h.ReloadTokens(); err != nil {
			t.Fatal(err)
		}
		MustFail(t, s.shareAs(t, c, basicAuth("alice", aliceToken), "old refused"), 401, msgNotAuthorized)
		MustOK(t, s.shareAs(t, c, basicAuth("alice", aliceToken2), "new works"))
		MustOK(t, s.shareAs(t, c, basicAuth("bob", bobToken), "untouched"))
		// Secrets made before the reload are all still there.
		if got := s.MustReveal(t, before.secretKey); got != "made with the old token" {
			t.Errorf("revealed %q", got)
		}

		// A file that cannot be read changes nothing.
		writeTokens(t, dir, "alice "+aliceToken2)
		if _, err := s.h.ReloadTokens(); err == nil {
			t.Fatal("a broken file was accepted")
		}
		MustOK(t, s.shareAs(t, c, basicAuth("alice", aliceToken2), "still works"))
		if n := c.ConnsCount(); n != 1 {
			t.Errorf("the client holds %d connections; want its one connection kept", n)
		}
	})
}

// MustShareAs stores value with user's token and returns its keys.
func (s *testServer) MustShareAs(tb testing.TB, user, token, value string) secretRef {
	tb.Helper()
	m := MustOK(tb, s.shareAs(tb, s.client, basicAuth(user, token), value))
	return secretRef{secretKey: str(tb, m, "secret_key"), receiptKey: str(tb, m, "metadata_key")}
}

// recentList reads GET /api/v1/receipt/recent as user.
func (s *testServer) recentList(tb testing.TB, user, token string) []map[string]any {
	tb.Helper()
	r := s.do(tb, "GET", "/api/v1/receipt/recent", "", "", "Authorization", basicAuth(user, token))
	if r.status != fasthttp.StatusOK {
		tb.Fatalf("recent: %v", r)
	}
	checkAPIHeaders(tb, r)
	var list []map[string]any
	if err := json.Unmarshal(r.body, &list); err != nil {
		tb.Fatalf("recent is not a JSON array: %v: %s", err, r.body)
	}
	return list
}

func TestRecent(t *testing.T) {
	dir := t.TempDir()
	path := writeTokens(t, dir, "alice:"+aliceToken, "alice:"+aliceToken2, "bob:"+bobToken)
	s := MustOpenServer(t, withTokens(t, nil, path))
	a1 := s.MustShareAs(t, "alice", aliceToken, "a1")
	s.clock.Add(time.Second)
	a2 := s.MustShareAs(t, "alice", aliceToken, "a2")
	b1 := s.MustShareAs(t, "bob", bobToken, "b1")
	other := s.MustShareAs(t, "alice", aliceToken2, "with alice's other token")
	short := MustOK(t, s.do(t, "POST", "/api/v1/share", ctForm, form("secret", "short", "ttl", "60"), "Authorization", basicAuth("alice", aliceToken)))
	if got := s.MustReveal(t, a1.secretKey); got != "a1" {
		t.Fatalf("revealed %q", got)
	}

	keys := func(list []map[string]any) []string {
		var k []string
		for _, m := range list {
			for _, k := range []string{"secret_key", "secret_identifier"} {
				if _, ok := m[k]; ok {
					t.Errorf("a recent receipt shows its %s: %v", k, m)
				}
			}
			k = append(k, m["metadata_key"].(string)+":"+m["state"].(string)+":"+m["custid"].(string))
		}
		return k
	}
	got := keys(s.recentList(t, "alice", aliceToken))
	want := []string{a1.receiptKey + ":received:alice", a2.receiptKey + ":new:alice", str(t, short, "metadata_key") + ":new:alice"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("alice's recent =\n%q\nwant (oldest first, as upstream lists them, her token's only)\n%q", got, want)
	}
	if got := keys(s.recentList(t, "bob", bobToken)); len(got) != 1 || got[0] != b1.receiptKey+":new:bob" {
		t.Errorf("bob's recent = %q", got)
	}
	if got := keys(s.recentList(t, "alice", aliceToken2)); len(got) != 1 || got[0] != other.receiptKey+":new:alice" {
		t.Errorf("alice's other token lists %q", got)
	}
	MustFail(t, s.do(t, "GET", "/api/v1/receipt/recent", "", ""), 401, msgNotAuthorized)
	MustFail(t, s.do(t, "GET", "/api/v1/private/recent", "", "", "Authorization", basicAuth("alice", bobToken)), 401, msgNotAuthorized)

	// Receipts that are gone leave the list.
	s.clock.Add(2 * time.Minute)
	if got := keys(s.recentList(t, "alice", aliceToken)); len(got) != 2 {
		t.Errorf("after the short receipt expired: %q", got)
	}
	if n := recentLists(t, s.h); n != 3 {
		t.Errorf("%d lists kept; want 3", n)
	}
	// A credential taken away takes its list with it.
	writeTokens(t, dir, "alice:"+aliceToken, "bob:"+bobToken)
	if _, err := s.h.ReloadTokens(); err != nil {
		t.Fatal(err)
	}
	if n := recentLists(t, s.h); n != 2 {
		t.Errorf("%d lists kept after a token was removed; want 2", n)
	}
}

// TestRecentKeysMasked checks that the recent index holds no receipt key
// in clear, and that it is bounded.
func TestRecentKeysMasked(t *testing.T) {
	s := MustOpenServer(t, withTokens(t, []string{"alice:" + aliceToken}, ""))
	var refs []secretRef
	for range 3 {
		refs = append(refs, s.MustShareAs(t, "alice", aliceToken, "x"))
	}
	for _, list := range s.h.recents.lists {
		for _, it := range list {
			for _, ref := range refs {
				if string(it.key[:]) == ref.receiptKey || strings.Contains(string(it.key[:]), ref.receiptKey[:8]) {
					t.Errorf("the recent index holds a receipt key in clear")
				}
			}
		}
	}
	var r recentIndex
	var tok access.Credential
	s.h.cfg.Tokens.Check([]byte(basicAuth("alice", aliceToken)), &tok)
	var k store.Key
	for range recentKeep + 10 {
		r.add(&tok, &k)
	}
	if n := len(r.lists[tok.ID]); n != recentKeep {
		t.Errorf("%d items kept; want %d", n, recentKeep)
	}
}

func TestAuthFailureLimit(t *testing.T) {
	const window = 20 * time.Minute
	open := func(t *testing.T) *testServer {
		return MustOpenServer(t, withRateLimit(1000), withTokens(t, []string{"alice:" + aliceToken}, ""), withAdminToken(adminToken))
	}
	t.Run("ErrTooManyFailures", func(t *testing.T) {
		s := open(t)
		ref := s.MustShareAs(t, "alice", aliceToken, "waiting")
		a := s.clientFrom(alice)
		wrong := basicAuth("alice", "wrong-token-guess-000")
		for i := range maxAuthFailures {
			if r := s.shareAs(t, a, wrong, "x"); r.intended() != 401 {
				t.Fatalf("failure %d: %v", i+1, r)
			}
		}
		r := MustFailResponse(t, s.shareAs(t, a, wrong, "x"), 429)
		if ra := retryAfter(t, r); ra > int(window/time.Second) {
			t.Errorf("Retry-After = %d; longer than the window", ra)
		}
		// The right credential is refused too from there: guessing stops.
		MustFail(t, s.shareAs(t, a, basicAuth("alice", aliceToken), "x"), 429, "")
		MustFail(t, s.doWith(t, a, "POST", "/api/otslite/end", ctForm, "", "Authorization", "Bearer "+adminToken), 429, "")
		// Requests without a credential go on; so do other clients.
		MustOK(t, s.doWith(t, a, "GET", "/api/v1/receipt/"+ref.receiptKey, "", ""))
		MustOK(t, s.shareAs(t, s.clientFrom(bob), basicAuth("alice", aliceToken), "x"))
		// Until the window turns over.
		s.clock.Add(window)
		MustOK(t, s.shareAs(t, a, basicAuth("alice", aliceToken), "x"))
	})

	t.Run("OKSuccessesNotCounted", func(t *testing.T) {
		s := open(t)
		a := s.clientFrom(alice)
		for range 3 * maxAuthFailures {
			MustOK(t, s.doWith(t, a, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", aliceToken)))
		}
	})

	t.Run("ErrAdminFailuresCount", func(t *testing.T) {
		s := open(t)
		a := s.clientFrom(alice)
		for range maxAuthFailures {
			MustFail(t, s.doWith(t, a, "GET", "/api/otslite/audit", "", "", "Authorization", "Bearer not-the-admin-token"), 401, msgNotAuthorized)
		}
		MustFail(t, s.doWith(t, a, "GET", "/api/otslite/audit", "", "", "Authorization", "Bearer "+adminToken), 429, "")
		MustFail(t, s.doWith(t, a, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", aliceToken)), 429, "")
	})

	t.Run("ErrIPv6Slash64", func(t *testing.T) {
		s := open(t)
		for i := range maxAuthFailures {
			c := s.clientFrom(net.ParseIP("2001:db8:1:2::" + string(rune('a'+i%6))))
			MustFail(t, s.doWith(t, c, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", "wrong-token-guess-000")), 401, "")
		}
		MustFail(t, s.doWith(t, s.clientFrom(net.ParseIP("2001:db8:1:2::ffff")), "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", aliceToken)), 429, "")
		MustOK(t, s.doWith(t, s.clientFrom(net.ParseIP("2001:db8:1:3::1")), "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", aliceToken)))
	})

	t.Run("OKLowerRateLimitCaps", func(t *testing.T) {
		s := MustOpenServer(t, withRateLimit(3), withTokens(t, []string{"alice:" + aliceToken}, ""))
		for range 3 {
			MustFail(t, s.do(t, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", "x")), 401, "")
		}
		MustFail(t, s.do(t, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("alice", aliceToken)), 429, "")
	})
}

func TestNetworkPolicy(t *testing.T) {
	loopback4, loopback6 := net.IPv4(127, 0, 0, 1), net.ParseIP("::1")
	lan := net.IPv4(192, 0, 2, 50)

	t.Run("Create", func(t *testing.T) {
		s := MustOpenServer(t, withCreateAllow("127.0.0.1/32", "::1/128"))
		for _, ip := range []net.IP{loopback4, loopback6, net.ParseIP("::ffff:127.0.0.1")} {
			MustOK(t, s.shareAs(t, s.clientFrom(ip), "", "x"))
			MustOK(t, s.doWith(t, s.clientFrom(ip), "POST", "/api/v1/generate", ctForm, ""))
		}
		for _, ip := range []net.IP{lan, net.IPv4(127, 0, 0, 2), net.ParseIP("2001:db8::1")} {
			MustFail(t, s.shareAs(t, s.clientFrom(ip), "", "x"), 403, "Creating secrets is not allowed from your address")
			MustFail(t, s.doWith(t, s.clientFrom(ip), "POST", "/api/v1/generate", ctForm, ""), 403, "Creating secrets is not allowed from your address")
		}
		if n := s.st.Stats().Created; n != 6 {
			t.Errorf("%d created; want 6", n)
		}
	})

	t.Run("Reveal", func(t *testing.T) {
		s := MustOpenServer(t, withRevealAllow("10.0.0.0/8", "fd00::/8"))
		ref := s.MustShare(t, "for the office only")
		for _, ip := range []net.IP{lan, loopback4, net.ParseIP("2001:db8::1")} {
			c := s.clientFrom(ip)
			m := MustFail(t, s.doWith(t, c, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 403, "Opening secrets is not allowed from your address")
			if m["secret_key"] != ref.secretKey {
				t.Errorf("refusal echoes secret_key %v", m["secret_key"])
			}
			MustFail(t, s.doWith(t, c, "GET", "/api/otslite/secret/"+ref.secretKey, "", ""), 403, "")
		}
		// Receipts and burning are the creator's, by link: not restricted.
		if st := str(t, MustOK(t, s.doWith(t, s.clientFrom(lan), "GET", "/api/v1/receipt/"+ref.receiptKey, "", "")), "state"); st != "new" {
			t.Errorf("state = %q after refused reveals; want new", st)
		}
		if got := str(t, MustOK(t, s.doWith(t, s.clientFrom(net.ParseIP("fd00::7")), "POST", "/api/v1/secret/"+ref.secretKey, ctForm, "")), "value"); got != "for the office only" {
			t.Errorf("revealed %q", got)
		}
		ref = s.MustShare(t, "again")
		MustOK(t, s.doWith(t, s.clientFrom(net.IPv4(10, 1, 2, 3)), "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""))
	})

	t.Run("TrustedProxyOnly", func(t *testing.T) {
		s := MustOpenServer(t, withRevealAllow("10.0.0.0/8"), withTrustedProxies("127.0.0.1/32"))
		ref := s.MustShare(t, "x")
		reveal := func(c *fasthttp.Client, xff string) *response {
			return s.doWith(t, c, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, "", "X-Forwarded-For", xff)
		}
		// An untrusted peer cannot claim an allowed address.
		MustFail(t, reveal(s.clientFrom(lan), "10.0.0.1"), 403, "")
		// Behind the trusted proxy, the forwarded client counts, and the
		// proxy's own address does not make a denied client allowed.
		MustFail(t, reveal(s.clientFrom(loopback4), "192.0.2.9"), 403, "")
		MustFail(t, reveal(s.clientFrom(loopback4), "10.0.0.1, 192.0.2.9"), 403, "")
		MustOK(t, reveal(s.clientFrom(loopback4), "192.0.2.9, 10.0.0.1"))
	})
}

func TestHoursPolicy(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	newYork, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct {
		name    string
		spec    string
		closed  time.Time // when a reveal is refused
		message string    // what the refusal says
		wait    time.Duration
		opens   time.Time // when it works again
	}{
		{
			"ParisWeekendAcrossDST", "Mon-Fri 08:00-18:00 Europe/Paris",
			time.Date(2025, 3, 28, 18, 30, 0, 0, paris), // Friday, CET
			"Secrets can be opened Mon-Fri 08:00-18:00 Europe/Paris; next at Mon 2025-03-31 08:00 CEST (in 2d 12h 30m)",
			60*time.Hour + 30*time.Minute, // an hour less than the wall clock says
			time.Date(2025, 3, 31, 8, 0, 0, 0, paris),
		},
		{
			"NewYorkSkippedHour", "Sun 02:30-04:00 America/New_York",
			time.Date(2025, 3, 9, 1, 59, 0, 0, newYork),
			"Secrets can be opened Sun 02:30-04:00 America/New_York; next at Sun 2025-03-09 03:00 EDT (in 1m)",
			time.Minute,
			time.Date(2025, 3, 9, 3, 0, 0, 0, newYork),
		},
		{
			"UTCEvening", "Mon-Fri 09:00-17:00",
			time.Date(2025, 6, 2, 17, 0, 0, 0, time.UTC),
			"Secrets can be opened Mon-Fri 09:00-17:00 UTC; next at Tue 2025-06-03 09:00 UTC (in 16h)",
			16 * time.Hour,
			time.Date(2025, 6, 3, 9, 0, 0, 0, time.UTC),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenServer(t, withRevealHours(t, tc.spec))
			s.clock.mu.Lock()
			s.clock.t = tc.closed.Add(-time.Minute)
			s.clock.mu.Unlock()
			ref := s.MustShare(t, "office hours", "ttl", "604800")
			s.clock.Add(time.Minute)
			r := s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, "")
			m := MustFail(t, r, 403, tc.message)
			if m["secret_key"] != ref.secretKey {
				t.Errorf("refusal echoes secret_key %v", m["secret_key"])
			}
			if ra := retryAfter(t, r); ra != int(tc.wait/time.Second) {
				t.Errorf("Retry-After = %d; want %d", ra, int(tc.wait/time.Second))
			}
			MustFail(t, s.do(t, "GET", "/api/otslite/secret/"+ref.secretKey, "", ""), 403, tc.message)
			if st := str(t, s.MustReceipt(t, ref.receiptKey), "state"); st != "new" {
				t.Errorf("state = %q after a refused reveal; want new", st)
			}
			s.clock.Add(tc.opens.Sub(s.clock.Now()) - time.Second)
			MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 403, "")
			s.clock.Add(time.Second)
			if got := s.MustReveal(t, ref.secretKey); got != "office hours" {
				t.Errorf("revealed %q", got)
			}
		})
	}
}
