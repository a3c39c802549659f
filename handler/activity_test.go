package handler

import (
	"net"
	"sync/atomic"
	"testing"
)

func withActivity(n *atomic.Int64) option {
	return func(c *testConfig) { c.handler.Activity = func() { n.Add(1) } }
}

// TestActivity checks which requests restart the session's idle window:
// success with a secret or by the operator, never a stranger's noise.
func TestActivity(t *testing.T) {
	const admin = "operator-admin-token-000000001"
	var n atomic.Int64
	s := MustOpenServer(t, withActivity(&n), withAdminToken(admin))
	counts := func(t *testing.T, want bool, r *response) {
		t.Helper()
		if got := n.Swap(0) == 1; got != want {
			t.Errorf("%s: counted %v; want %v", r, got, want)
		}
	}
	ref := s.MustShare(t, "waiting")
	locked := str(t, MustOK(t, s.do(t, "POST", "/api/v1/share", ctForm, "secret=y&passphrase=right-one")), "secret_key")
	n.Store(0)
	bogus := "0123456789abcdefghijklmnopqrstuv"
	for _, c := range []struct {
		name                      string
		want                      bool
		method, path, ctype, body string
		headers                   []string
	}{
		{"Share", true, "POST", "/api/v1/share", ctForm, "secret=x", nil},
		{"Generate", true, "POST", "/api/v1/generate", ctForm, "", nil},
		{"Peek", true, "GET", "/api/otslite/secret/" + ref.secretKey, "", "", nil},
		{"Receipt", true, "GET", "/api/v1/receipt/" + ref.receiptKey, "", "", nil},
		{"CreatePage", true, "GET", "/", "", "", nil},
		{"AuditByOperator", true, "GET", "/api/otslite/audit", "", "", []string{"Authorization", "Bearer " + admin}},

		{"Status", false, "GET", "/api/v1/status", "", "", nil},
		{"Config", false, "GET", "/api/otslite/config", "", "", nil},
		{"SecurityPage", false, "GET", "/security", "", "", nil},
		{"SecretPageShell", false, "GET", "/secret/" + bogus, "", "", nil},
		{"NotFoundPage", false, "GET", "/nope", "", "", nil},
		{"UnknownReveal", false, "POST", "/api/v1/secret/" + bogus, ctForm, "", nil},
		{"UnknownPeek", false, "GET", "/api/otslite/secret/" + bogus, "", "", nil},
		{"UnknownReceipt", false, "GET", "/api/v1/receipt/" + bogus, "", "", nil},
		{"WrongPassphrase", false, "POST", "/api/v1/secret/" + locked, ctForm, "passphrase=wrong-one", nil},
		{"WrongMethod", false, "GET", "/api/v1/share", "", "", nil},
		{"EmptyShare", false, "POST", "/api/v1/share", ctForm, "", nil},
		{"AuditWrongToken", false, "GET", "/api/otslite/audit", "", "", []string{"Authorization", "Bearer wrong-wrong-wrong-wrong"}},
		{"AuthcheckAnonymous", false, "GET", "/api/v1/authcheck", "", "", nil},

		{"Reveal", true, "POST", "/api/v1/secret/" + ref.secretKey, ctForm, "", nil},
		{"RevealAgain", false, "POST", "/api/v1/secret/" + ref.secretKey, ctForm, "", nil},
		{"ReceiptOfRead", true, "GET", "/api/v1/receipt/" + ref.receiptKey, "", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			counts(t, c.want, s.do(t, c.method, c.path, c.ctype, c.body, c.headers...))
		})
	}

	// With create tokens, or outside --create-allow, the create page alone
	// does not count: only a create that is allowed does.
	t.Run("CreatePageWithTokens", func(t *testing.T) {
		var n atomic.Int64
		s := MustOpenServer(t, withActivity(&n), withTokens(t, []string{"alice:alice-token-000000000001"}, ""))
		s.do(t, "GET", "/", "", "")
		if n.Load() != 0 {
			t.Error("the create page counted where creating needs a token")
		}
	})
	t.Run("CreatePageOutsideCreateAllow", func(t *testing.T) {
		var n atomic.Int64
		s := MustOpenServer(t, withActivity(&n), withCreateAllow("10.0.0.0/8"))
		s.doWith(t, s.clientFrom(net.IPv4(192, 0, 2, 1)), "GET", "/", "", "")
		if n.Load() != 0 {
			t.Error("the create page counted for an address that may not create")
		}
		s.doWith(t, s.clientFrom(net.IPv4(10, 0, 0, 1)), "GET", "/", "", "")
		if n.Load() != 1 {
			t.Error("the create page did not count for an address that may create")
		}
	})
}
