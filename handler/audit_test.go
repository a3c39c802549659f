package handler

// The audit trail a session leaves, the operator's view of it, and the
// credential left behind in fasthttp's buffers.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/handler/audit"
)

// withAudit records into a trail writing to out, with expiry reported by
// the store, as main wires it.
func withAudit(tb testing.TB, out *syncBuffer) (option, *audit.Trail) {
	tb.Helper()
	trail := audit.New(audit.Config{Out: out})
	tb.Cleanup(trail.Close)
	return func(c *testConfig) {
		c.handler.Audit = trail
		c.store.Expired = AuditExpiry(trail)
	}, trail
}

// auditLines parses every line of out as one event with exactly the six
// fields.
func auditLines(tb testing.TB, out string) []map[string]string {
	tb.Helper()
	var events []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("audit line %q: %v", line, err)
		}
		for _, k := range []string{"time", "event", "ref", "ip", "user", "outcome"} {
			if _, ok := m[k]; !ok {
				tb.Fatalf("audit line %q lacks %q", line, k)
			}
		}
		if len(m) != 6 {
			tb.Fatalf("audit line %q has fields beyond the six", line)
		}
		events = append(events, m)
	}
	return events
}

// find returns the events matching every key, value pair of want.
func find(events []map[string]string, want ...string) []map[string]string {
	var out []map[string]string
next:
	for _, e := range events {
		for i := 0; i+1 < len(want); i += 2 {
			if e[want[i]] != want[i+1] {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// encodings are the forms a marker could take in an audit line.
func encodings(m string) []string {
	j, _ := json.Marshal(m)
	return []string{m, url.QueryEscape(m), strings.Trim(string(j), `"`), base64.StdEncoding.EncodeToString([]byte(m)), base64.RawStdEncoding.EncodeToString([]byte(m))}
}

func TestAuditTrail(t *testing.T) {
	var out syncBuffer
	withTrail, trail := withAudit(t, &out)
	var ended atomic.Bool
	s := MustOpenServer(t,
		withTrail,
		withRateLimit(1000),
		withTokens(t, []string{"alice:" + aliceToken, "bob:" + bobToken}, ""),
		withAdminToken(adminToken),
		withRevealAllow("192.0.2.0/24"),
		withRevealHours(t, "Mon-Fri 08:00-18:00 UTC"),
		func(c *testConfig) { c.handler.EndSession = func() { ended.Store(true) } },
	)
	s.clock.mu.Lock()
	s.clock.t = time.Date(2025, 6, 4, 10, 0, 0, 0, time.UTC) // a Wednesday morning
	s.clock.mu.Unlock()

	const (
		secret1, pass1 = "AUDIT-SECRET-one-7f3a", "AUDIT-PASS-right-91c2"
		secret3        = "AUDIT-SECRET-three-5be0"
		wrongPass      = "AUDIT-PASS-wrong-0d4e"
		wrongToken     = "AUDIT-TOKEN-wrong-66a1"
	)
	a, b, far := s.clientFrom(alice), s.clientFrom(bob), s.clientFrom(net.IPv4(198, 51, 100, 9))
	asAlice := []string{"Authorization", basicAuth("alice", aliceToken)}
	post := func(c *fasthttp.Client, path, body string, headers ...string) *response {
		return s.doWith(t, c, "POST", path, ctForm, body, headers...)
	}

	one := MustOK(t, post(a, "/api/v1/share", form("secret", secret1, "passphrase", pass1), asAlice...))
	gen := MustOK(t, post(b, "/api/v1/generate", "", "Authorization", basicAuth("bob", bobToken)))
	three := MustOK(t, post(a, "/api/v1/share", form("secret", secret3, "ttl", "60"), asAlice...))
	key1 := str(t, one, "secret_key")

	MustFail(t, post(a, "/api/v1/secret/"+key1, ""), 404, msgUnknownSecret)
	for range 5 {
		MustFail(t, post(a, "/api/v1/secret/"+key1, form("passphrase", wrongPass)), 404, msgUnknownSecret)
	}
	MustFail(t, post(a, "/api/v1/secret/"+key1, form("passphrase", pass1)), 429, "")
	MustFail(t, post(far, "/api/v1/secret/"+key1, form("passphrase", pass1)), 403, "")
	if v := str(t, MustOK(t, post(b, "/api/v1/secret/"+key1, form("passphrase", pass1))), "value"); v != secret1 {
		t.Fatalf("revealed %q", v)
	}
	MustFail(t, post(b, "/api/v1/secret/"+key1, ""), 404, msgUnknownSecret)
	MustOK(t, post(b, "/api/v1/receipt/"+str(t, gen, "metadata_key")+"/burn", ""))
	MustFail(t, post(b, "/api/v1/receipt/"+str(t, gen, "metadata_key")+"/burn", ""), 404, msgUnknownSecret)
	MustFail(t, post(a, "/api/v1/share", form("secret", "x"), "Authorization", basicAuth("alice", wrongToken)), 401, "")
	MustFail(t, post(a, "/api/v1/share", form("secret", "x")), 401, "")
	for range maxAuthFailures {
		MustFail(t, s.doWith(t, far, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("mallory", wrongToken)), 401, "")
	}
	MustFail(t, s.doWith(t, far, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("mallory", wrongToken)), 429, "")
	MustFail(t, s.doWith(t, far, "GET", "/api/v1/authcheck", "", "", "Authorization", basicAuth("mallory", wrongToken)), 429, "")

	s.clock.Add(61 * time.Second)
	if n := s.st.Sweep(); n != 1 {
		t.Fatalf("swept %d; want the one short secret", n)
	}
	s.clock.Add(8 * time.Hour) // 18:01: closed
	MustFail(t, post(b, "/api/v1/secret/"+strings.Repeat("a", 32), ""), 403, "")
	view := s.doWith(t, b, "GET", "/api/otslite/audit", "", "", "Authorization", "Bearer "+adminToken)
	MustOK(t, post(b, "/api/otslite/end", "", "Authorization", "Bearer "+adminToken))
	if !ended.Load() {
		t.Error("the operator's end did not end the session")
	}
	trail.Close() // flush
	text := out.String()
	events := auditLines(t, text)

	ip := func(c net.IP) string { return c.String() }
	ref1, refGen, ref3 := "", "", ""
	for _, w := range []struct {
		n    int
		want []string
	}{
		{2, []string{"event", "create", "outcome", "ok", "user", "alice", "ip", ip(alice)}},
		{1, []string{"event", "generate", "outcome", "ok", "user", "bob", "ip", ip(bob)}},
		{1, []string{"event", "reveal", "outcome", "no_passphrase", "ip", ip(alice)}},
		{5, []string{"event", "reveal", "outcome", "wrong_passphrase", "ip", ip(alice)}},
		{1, []string{"event", "reveal", "outcome", "locked_out", "ip", ip(alice)}},
		{1, []string{"event", "reveal", "outcome", "denied_network", "ip", "198.51.100.9"}},
		{1, []string{"event", "reveal", "outcome", "ok", "ip", ip(bob)}},
		{1, []string{"event", "reveal", "outcome", "unknown", "ip", ip(bob)}},
		{1, []string{"event", "burn", "outcome", "ok", "ip", ip(bob)}},
		{1, []string{"event", "burn", "outcome", "unknown", "ip", ip(bob)}},
		{1, []string{"event", "create", "outcome", "denied_token", "user", "alice"}},
		{1, []string{"event", "create", "outcome", "denied_token", "user", ""}},
		{maxAuthFailures, []string{"event", "authcheck", "outcome", "denied_token", "user", "", "ip", "198.51.100.9"}},
		{1, []string{"event", "authcheck", "outcome", "rate_limited", "ip", "198.51.100.9"}},
		{1, []string{"event", "expire", "outcome", "ok", "user", "alice", "ip", ""}},
		{1, []string{"event", "reveal", "outcome", "denied_hours"}},
		{1, []string{"event", "end", "outcome", "ok", "user", "admin"}},
	} {
		got := find(events, w.want...)
		if len(got) != w.n {
			t.Errorf("%d events %v; want %d", len(got), w.want, w.n)
			continue
		}
		switch strings.Join(w.want[:4], " ") {
		case "event create outcome ok":
			ref1, ref3 = got[0]["ref"], got[1]["ref"]
		case "event generate outcome ok":
			refGen = got[0]["ref"]
		}
	}
	if ref1 == "" || refGen == "" || ref3 == "" || ref1 == ref3 || ref1 == refGen {
		t.Fatalf("refs %q %q %q: want three different ones", ref1, refGen, ref3)
	}
	// One secret keeps its ref through its life, whichever link named it.
	for _, w := range [][]string{
		{"event", "reveal", "outcome", "wrong_passphrase", "ref", ref1},
		{"event", "reveal", "outcome", "locked_out", "ref", ref1},
		{"event", "reveal", "outcome", "ok", "ref", ref1},
		{"event", "reveal", "outcome", "unknown", "ref", ref1},
		{"event", "burn", "outcome", "ok", "ref", refGen},
		{"event", "burn", "outcome", "unknown", "ref", refGen},
		{"event", "expire", "ref", ref3},
	} {
		if len(find(events, w...)) == 0 {
			t.Errorf("no event %v", w)
		}
	}

	// The operator's JSON view holds the same events.
	var viewed []map[string]string
	if err := json.Unmarshal(MustOKRaw(t, view), &viewed); err != nil || len(viewed) < len(events)-2 {
		t.Errorf("audit view: %d events, %v; want those recorded before it", len(viewed), err)
	}

	// Nothing secret reached the trail.
	markers := []string{secret1, secret3, pass1, wrongPass, aliceToken, bobToken, adminToken, wrongToken,
		basicAuth("alice", aliceToken), basicAuth("bob", bobToken), basicAuth("mallory", wrongToken),
		str(t, gen, "value")}
	for _, m := range []map[string]any{one, gen, three} {
		for _, k := range []string{"secret_key", "metadata_key"} {
			markers = append(markers, str(t, m, k), str(t, m, k)[:8])
		}
	}
	for _, m := range markers {
		for _, enc := range encodings(m) {
			if strings.Contains(text, enc) || bytes.Contains(view.body, []byte(enc)) {
				t.Errorf("the audit trail holds %q (as %q)", m, enc)
			}
		}
	}
}

// MustOKRaw checks r is a 200 answer and returns its body.
func MustOKRaw(tb testing.TB, r *response) []byte {
	tb.Helper()
	if r.status != fasthttp.StatusOK {
		tb.Fatalf("want 200, got %v", r)
	}
	return r.body
}

func TestOperatorView(t *testing.T) {
	var out syncBuffer
	withTrail, _ := withAudit(t, &out)
	s := MustOpenServer(t, withTrail, withAdminToken(adminToken), withTokens(t, []string{"<i>ops&co:" + aliceToken}, ""))
	MustOK(t, s.shareAs(t, s.clientFrom(alice), basicAuth("<i>ops&co", aliceToken), "x"))

	t.Run("JSON", func(t *testing.T) {
		for _, auth := range []string{"Bearer " + adminToken, "bearer " + adminToken, basicAuth("anyone", adminToken)} {
			r := s.do(t, "GET", "/api/otslite/audit", "", "", "Authorization", auth)
			checkAPIHeaders(t, r)
			var events []map[string]string
			if err := json.Unmarshal(MustOKRaw(t, r), &events); err != nil || len(find(events, "event", "create", "user", "<i>ops&co")) != 1 {
				t.Errorf("%s: events %v, %v", auth, events, err)
			}
		}
		for _, auth := range []string{"", "Bearer nope", "Bearer " + adminToken[1:], basicAuth("admin", "nope"), basicAuth("<i>ops&co", aliceToken)} {
			var headers []string
			if auth != "" {
				headers = []string{"Authorization", auth}
			}
			MustFail(t, s.do(t, "GET", "/api/otslite/audit", "", "", headers...), 401, msgNotAuthorized)
		}
		MustFail(t, s.do(t, "POST", "/api/otslite/audit", ctForm, "", "Authorization", "Bearer "+adminToken), 405, "")
	})

	t.Run("Page", func(t *testing.T) {
		r := s.do(t, "GET", "/api/otslite/audit.html", "", "")
		if r.status != fasthttp.StatusUnauthorized || !strings.HasPrefix(r.get("WWW-Authenticate"), `Basic realm="otslite operator"`) {
			t.Fatalf("without the token: %v, WWW-Authenticate %q", r, r.get("WWW-Authenticate"))
		}
		checkSecurityHeaders(t, r)
		r = s.do(t, "GET", "/api/otslite/audit.html", "", "", "Authorization", basicAuth("", adminToken))
		if r.status != fasthttp.StatusOK || r.get("Content-Type") != "text/html; charset=utf-8" || r.get("Cache-Control") != "no-store" {
			t.Fatalf("page: %v, Cache-Control %q", r, r.get("Cache-Control"))
		}
		checkSecurityHeaders(t, r)
		page := string(r.body)
		if !strings.Contains(page, "<td>create</td><td>ok</td>") || !strings.Contains(page, "&lt;i&gt;ops&amp;co") || strings.Contains(page, "<i>ops") {
			t.Errorf("page does not list the events, escaped:\n%s", page)
		}
		if strings.Contains(page, aliceToken) || strings.Contains(page, adminToken) {
			t.Error("the page shows a token")
		}
	})
}

// TestAuthorizationWiped checks that a credential does not stay behind in
// the request fasthttp keeps for the next one.
func TestAuthorizationWiped(t *testing.T) {
	h, _, _ := MustOpenHandler(t, withTokens(t, []string{"alice:" + aliceToken}, ""), withAdminToken(adminToken))
	for _, tc := range []struct{ name, request string }{
		{"Create", "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nAuthorization: " + basicAuth("alice", aliceToken) + "\r\nContent-Type: " + ctForm + "\r\nContent-Length: 8\r\n\r\nsecret=x"},
		{"Refused", "GET /api/v1/authcheck HTTP/1.1\r\nHost: x\r\nAuthorization: " + basicAuth("alice", aliceToken+"x") + "\r\n\r\n"},
		{"Admin", "GET /api/otslite/audit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + adminToken + "\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var req fasthttp.Request
			if err := req.Read(bufio.NewReader(strings.NewReader(tc.request))); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(req.Header.RawHeaders(), []byte("Authorization")) {
				t.Fatal("the raw header block does not hold the credential to begin with")
			}
			ctx := new(fasthttp.RequestCtx)
			ctx.Init(&req, &net.TCPAddr{IP: alice, Port: 40000}, nil)
			h.Serve(ctx)
			if st := ctx.Response.StatusCode(); st != fasthttp.StatusOK && st != fasthttp.StatusNotFound {
				t.Fatalf("status %d", st)
			}
			wheres := [][]byte{ctx.Request.Header.RawHeaders()[:cap(ctx.Request.Header.RawHeaders())]}
			for k, v := range ctx.Request.Header.All() {
				wheres = append(wheres, k[:cap(k)], v[:cap(v)])
			}
			for _, where := range wheres {
				for _, token := range []string{aliceToken, adminToken, basicAuth("alice", aliceToken)[6:], basicAuth("alice", aliceToken+"x")[6:]} {
					if bytes.Contains(where, []byte(token)) {
						t.Errorf("the request still holds %q", token)
					}
				}
			}
			if v := ctx.Request.Header.Peek("Authorization"); bytes.IndexFunc(v, func(r rune) bool { return r != 0 }) >= 0 {
				t.Errorf("Authorization value = %q; want it zeroed", v)
			}
		})
	}
}
