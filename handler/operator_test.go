package handler

import (
	"strings"
	"sync/atomic"
	"testing"
)

func withEndSession(n *atomic.Int64) option {
	return func(c *testConfig) { c.handler.EndSession = func() { n.Add(1) } }
}

// TestEndRefusesCrossSite: ending the session needs the admin token as a
// Bearer token, and a browser request from this server's own pages. A
// cached Basic login, or a page of another site, does not end it.
func TestEndRefusesCrossSite(t *testing.T) {
	var ended atomic.Int64
	out := &syncBuffer{}
	withTrail, trail := withAudit(t, out)
	s := MustOpenServer(t, withAdminToken(adminToken), withEndSession(&ended), withTrail)
	bearer := "Bearer " + adminToken
	for _, c := range []struct {
		name    string
		intend  int // 0: ends
		headers []string
	}{
		{"ErrBasicLogin", 401, []string{"Authorization", basicAuth("operator", adminToken)}},
		{"ErrCrossSite", 403, []string{"Authorization", bearer, "Sec-Fetch-Site", "cross-site"}},
		{"ErrSameSite", 403, []string{"Authorization", bearer, "Sec-Fetch-Site", "same-site"}},
		{"ErrCrossSiteBasic", 403, []string{"Authorization", basicAuth("operator", adminToken), "Sec-Fetch-Site", "cross-site", "Origin", "http://localhost:8080"}},
		{"ErrOtherOrigin", 403, []string{"Authorization", bearer, "Origin", "http://evil.example"}},
		{"ErrOriginSuffix", 403, []string{"Authorization", bearer, "Origin", "http://ots.internal.evil.example"}},
		{"ErrNullOrigin", 403, []string{"Authorization", bearer, "Origin", "null"}},
		{"ErrWrongToken", 401, []string{"Authorization", "Bearer wrong-token-00000000000"}},
		{"OKSameOrigin", 0, []string{"Authorization", bearer, "Sec-Fetch-Site", "same-origin", "Origin", "http://ots.internal"}},
		{"OKOriginOverTLSProxy", 0, []string{"Authorization", bearer, "Origin", "https://ots.internal"}},
		{"OKPublicURLOrigin", 0, []string{"Authorization", bearer, "Origin", publicURL}},
		{"OKTyped", 0, []string{"Authorization", bearer, "Sec-Fetch-Site", "none"}},
		{"OKNoBrowser", 0, []string{"Authorization", bearer}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ended.Store(0)
			r := s.do(t, "POST", "/api/otslite/end", ctForm, "", c.headers...)
			if c.intend == 0 {
				MustOK(t, r)
				if ended.Load() != 1 {
					t.Error("the session was not ended")
				}
				return
			}
			MustFail(t, r, c.intend, "")
			if ended.Load() != 0 {
				t.Error("the session was ended")
			}
		})
	}
	trail.Close()
	var origin, bearerOnly int
	for _, e := range auditLines(t, out.String()) {
		if e["event"] == "end" && e["outcome"] == "denied_origin" {
			origin++
		}
		if e["event"] == "end" && e["outcome"] == "denied_token" {
			bearerOnly++
		}
	}
	if origin != 6 || bearerOnly != 2 {
		t.Errorf("audit: %d end denied_origin, %d denied_token; want 6 and 2:\n%s", origin, bearerOnly, out)
	}
}

// TestAuditPage: the page is styled with the UI's CSS and its own, loads
// its script from this server, and offers the "end session" control.
func TestAuditPage(t *testing.T) {
	s := MustOpenServer(t, withAdminToken(adminToken))
	s.MustShare(t, "waiting")
	r := s.do(t, "GET", "/api/otslite/audit.html", "", "", "Authorization", basicAuth("", adminToken))
	if r.status != 200 {
		t.Fatalf("page: %s", r)
	}
	checkSecurityHeaders(t, r)
	if csp := r.get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	page := string(r.body)
	css := s.h.assets.StaticPath("app.css")
	for _, want := range []string{
		`<link rel="stylesheet" href="` + css + `">`,
		`<link rel="stylesheet" href="/api/otslite/operator.css">`,
		`<script src="/api/otslite/operator.js" defer></script>`,
		`<form id="end-form" hidden>`,
		`<input type="password" id="end-token"`,
		`1 secret waits`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if css == "" || !strings.HasPrefix(css, "/static/app.") {
		t.Errorf("app.css served at %q", css)
	}
	for _, bad := range []string{"style=", "<style", "<script>", "onclick", "javascript:"} {
		if strings.Contains(page, bad) {
			t.Errorf("page has inline %q", bad)
		}
	}
	for path, ctype := range map[string]string{
		"/api/otslite/operator.css": "text/css; charset=utf-8",
		"/api/otslite/operator.js":  "text/javascript; charset=utf-8",
		css:                         "text/css; charset=utf-8",
	} {
		r := s.do(t, "GET", path, "", "")
		if r.status != 200 || r.get("Content-Type") != ctype || len(r.body) == 0 {
			t.Errorf("%s: %s", path, r)
		}
	}
	js := string(s.do(t, "GET", "/api/otslite/operator.js", "", "").body)
	for _, want := range []string{`"Authorization": "Bearer " + token`, `credentials: "omit"`} {
		if !strings.Contains(js, want) {
			t.Errorf("operator.js lacks %q", want)
		}
	}
}
