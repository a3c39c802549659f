package handler

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"
)

// proof returns a random proof's wire form (with a pp when withPass).
func proof(withPass bool) string {
	b := make([]byte, 64)
	rand.Read(b)
	p := "zk1." + base64.RawURLEncoding.EncodeToString(b[:32])
	if withPass {
		p += "." + base64.RawURLEncoding.EncodeToString(b[32:])
	}
	return p
}

func TestProof(t *testing.T) {
	revealWith := func(s *testServer, ip net.IP, key, pass string) *response {
		return s.doWith(t, s.clientFrom(ip), "POST", "/api/v1/secret/"+key, ctForm, form("passphrase", pass))
	}
	peek := func(s *testServer, ip net.IP, key string) map[string]any {
		return MustOK(t, s.doWith(t, s.clientFrom(ip), "GET", "/api/otslite/secret/"+key, "", ""))
	}

	t.Run("OK/OutsidePassphraseBounds", func(t *testing.T) {
		// A proof is no human passphrase: --passphrase-min/max do not
		// apply to it, in either form, form- or JSON-encoded.
		for _, bounds := range [][2]int{{4, 8}, {100, 128}} {
			s := MustOpenServer(t, func(c *testConfig) { c.handler.PassphraseMin, c.handler.PassphraseMax = bounds[0], bounds[1] })
			for _, withPass := range []bool{false, true} {
				p := proof(withPass)
				ref := s.MustShare(t, "zk", "passphrase", p)
				m := peek(s, alice, ref.secretKey)
				if m["proof"] != true || m["passphrase_required"] != true {
					t.Errorf("peek %v, want a proof secret", m)
				}
				if _, ok := m["tries_left"]; ok != withPass {
					t.Errorf("peek %v: tries_left present %v, want %v", m, ok, withPass)
				}
				if got := str(t, MustOK(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctJSON, jsonBody(t, map[string]string{"passphrase": p}))), "value"); got != "zk" {
					t.Errorf("revealed %q", got)
				}
			}
			MustFail(t, s.do(t, "POST", "/api/v1/share", ctForm, form("secret", "x", "passphrase", "abc")), 400, "")
		}
	})

	t.Run("ErrProofPrefix", func(t *testing.T) {
		s := MustOpenServer(t)
		p := proof(true)
		for _, pass := range []string{"zk1.hello", p[:46], p[:47] + ".", p[:90], p + "A", p[:20] + "+" + p[21:]} {
			MustFail(t, s.do(t, "POST", "/api/v1/share", ctForm, form("secret", "x", "passphrase", pass)), 400, "A passphrase may not begin with zk1.")
			MustFail(t, s.do(t, "POST", "/api/v1/generate", ctForm, form("passphrase", pass)), 400, "A passphrase may not begin with zk1.")
		}
		// Only the exact prefix: these are human passphrases.
		for _, pass := range []string{"zk1 hello", "ZK1.hello", "xzk1.hello"} {
			ref := s.MustShare(t, "x", "passphrase", pass)
			if got := s.MustReveal(t, ref.secretKey, "passphrase", pass); got != "x" {
				t.Errorf("revealed %q", got)
			}
		}
	})

	t.Run("WrongLinkIsUnknown", func(t *testing.T) {
		s := MustOpenServer(t)
		p := proof(true)
		ref := s.MustShare(t, "zk", "passphrase", p)
		stranger := proof(true)
		for range 30 {
			for _, guess := range []string{stranger, stranger[:47] + p[47:], "", p[4:47]} {
				MustFail(t, revealWith(s, alice, ref.secretKey, guess), 404, msgUnknownSecret)
			}
		}
		if got := num(t, peek(s, alice, ref.secretKey), "tries_left"); got != 5 {
			t.Errorf("tries_left after a stranger's guesses = %d, want 5", got)
		}
		m := MustOK(t, s.do(t, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
		if num(t, m, "failed_attempts") != 0 || num(t, m, "locked_until") != 0 {
			t.Errorf("lockout state after a stranger's guesses: %v", m)
		}
		if v := str(t, MustOK(t, revealWith(s, alice, ref.secretKey, p)), "value"); v != "zk" {
			t.Errorf("revealed %q", v)
		}
	})

	t.Run("ErrLockedOut/WrongPassphrase", func(t *testing.T) {
		s := MustOpenServer(t)
		p := proof(true)
		ref := s.MustShare(t, "zk", "passphrase", p)
		// The link alone is not a guess.
		for range 10 {
			MustFail(t, revealWith(s, alice, ref.secretKey, p[:47]), 404, msgUnknownSecret)
		}
		for i := range 5 {
			if got := num(t, peek(s, alice, ref.secretKey), "tries_left"); got != int64(5-i) {
				t.Errorf("tries_left = %d, want %d", got, 5-i)
			}
			MustFail(t, revealWith(s, alice, ref.secretKey, p[:48]+proof(true)[48:]), 404, msgUnknownSecret)
		}
		r := revealWith(s, alice, ref.secretKey, p)
		MustFail(t, r, 429, "")
		until := s.clock.Now().Add(30 * time.Minute).Unix()
		m := peek(s, alice, ref.secretKey)
		if num(t, m, "tries_left") != 0 || num(t, m, "locked_until") != until {
			t.Errorf("peek while locked = %v, want 0 tries, locked until %d", m, until)
		}
		if m := peek(s, bob, ref.secretKey); num(t, m, "locked_until") != 0 {
			t.Errorf("another address sees %v", m)
		}
		m = MustOK(t, s.do(t, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
		if str(t, m, "state") != "new" || num(t, m, "failed_attempts") != 5 || num(t, m, "last_failed") != s.clock.Now().Unix() || num(t, m, "locked_until") != 0 {
			t.Errorf("receipt lockout = %v", m)
		}
		// Burning needs only the receipt key; a proof sent with it is
		// ignored, right, wrong or cut.
		MustOK(t, s.do(t, "POST", "/api/v1/receipt/"+ref.receiptKey+"/burn", ctForm, form("passphrase", "nonsense")))
		m = MustOK(t, s.do(t, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
		if str(t, m, "state") != "burned" || num(t, m, "failed_attempts") != 5 {
			t.Errorf("receipt lockout after burn = %v", m)
		}
	})

	t.Run("OK/BurnWithoutProof", func(t *testing.T) {
		s := MustOpenServer(t)
		for _, withPass := range []bool{false, true} {
			ref := s.MustShare(t, "zk", "passphrase", proof(withPass))
			m := MustOK(t, s.do(t, "POST", "/api/v1/receipt/"+ref.receiptKey+"/burn", ctForm, ""))
			if rc, _ := m["state"].(map[string]any); rc["state"] != "burned" {
				t.Errorf("burn = %v", m)
			}
		}
	})
}

// GET /api/otslite/receipt/:key: the receipt page's view of the guessing,
// behind the receipt key, counted as a receipt read, changing nothing.
func TestReceiptLockout(t *testing.T) {
	s := MustOpenServer(t, withRateLimit(6))
	ref := s.MustShare(t, "guarded", "passphrase", "open sesame")
	a := s.clientFrom(alice)
	for range 3 {
		MustFail(t, s.doWith(t, a, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, form("passphrase", "wrong")), 404, msgUnknownSecret)
	}
	m := MustOK(t, s.do(t, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
	want := map[string]any{"state": "new", "failed_attempts": int64(3), "last_failed": s.clock.Now().Unix(), "locked_until": int64(0), "late_total": int64(0)}
	if late, ok := m["late_attempts"].([]any); !ok || len(late) != 0 {
		t.Errorf("late_attempts = %v, want []", m["late_attempts"])
	}
	if len(m) != len(want)+1 {
		t.Errorf("lockout = %v, want exactly the fields of %v and late_attempts", m, want)
	}
	for k, v := range want {
		if s, ok := v.(string); ok {
			if m[k] != s {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		} else if got := num(t, m, k); got != v {
			t.Errorf("%s = %d, want %v", k, got, v)
		}
	}
	// The secret key opens nothing here, and nothing changed.
	for _, key := range []string{ref.secretKey, strings.Repeat("d", 32), "short"} {
		MustFail(t, s.do(t, "GET", "/api/otslite/receipt/"+key, "", ""), 404, "")
	}
	MustFail(t, s.do(t, "POST", "/api/otslite/receipt/"+ref.receiptKey, ctForm, ""), 405, "")
	s.MustBeWaiting(t, ref)
	// It shares the receipt reads' rate limit.
	b := s.clientFrom(bob)
	for range 3 {
		MustOK(t, s.doWith(t, b, "GET", "/api/v1/receipt/"+ref.receiptKey, "", ""))
		MustOK(t, s.doWith(t, b, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
	}
	MustFail(t, s.doWith(t, b, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""), 429, "")
	MustFail(t, s.doWith(t, b, "GET", "/api/v1/receipt/"+ref.receiptKey, "", ""), 429, "")
	// After the reveal: the failures stay on record, the lock is gone.
	if v := s.MustReveal(t, ref.secretKey, "passphrase", "open sesame"); v != "guarded" {
		t.Errorf("revealed %q", v)
	}
	m = MustOK(t, s.do(t, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
	if str(t, m, "state") != "received" || num(t, m, "failed_attempts") != 3 {
		t.Errorf("after the reveal: %v", m)
	}
}
