package handler

// What the handler leaves behind: request bodies wiped whatever happened,
// panics answered without a word of what caused them.

import (
	"bytes"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRequestBodyWiped(t *testing.T) {
	h, st, _ := MustOpenHandler(t)
	addr := &net.TCPAddr{IP: alice, Port: 40000}
	mustShare := func(extra ...string) secretRef {
		ctx := serveCtx(h, addr, "POST", "/api/v1/share", ctForm, form(append([]string{"secret", "x"}, extra...)...))
		m := MustOK(t, ctxResponse(ctx))
		return secretRef{secretKey: str(t, m, "secret_key"), receiptKey: str(t, m, "metadata_key")}
	}
	guarded := mustShare("passphrase", "open sesame")
	burnable := mustShare("passphrase", "open sesame")
	guarded2 := mustShare("passphrase", "open sesame")
	burnable2 := mustShare("passphrase", "open sesame")

	for _, tc := range []struct {
		name, path, contentType, body string
		intended                      int // 0: success
	}{
		{"Share/Form", "/api/v1/share", ctForm, form("secret", "WIPE-ME form", "passphrase", "WIPE-ME pass"), 0},
		{"Share/JSON", "/api/v1/share", ctJSON, `{"secret":"WIPE-ME json","passphrase":"WIPE-ME pass"}`, 0},
		{"Share/NoContentType", "/api/v1/share", "", form("secret", "WIPE-ME"), 0},
		{"Generate/Passphrase", "/api/v1/generate", ctForm, form("passphrase", "WIPE-ME pass"), 0},
		{"Reveal/Passphrase", "/api/v1/secret/" + guarded.secretKey, ctForm, form("passphrase", "open sesame"), 0},
		{"Burn/Passphrase", "/api/v1/receipt/" + burnable.receiptKey + "/burn", ctJSON, `{"passphrase":"open sesame"}`, 0},
		{"ErrShare/TooLarge", "/api/v1/share", ctForm, form("secret", strings.Repeat("WIPE-ME ", 200)), 413},
		{"ErrShare/MalformedJSON", "/api/v1/share", ctJSON, `{"secret":"WIPE-ME", "passphrase":`, 400},
		{"ErrShare/InvalidUTF8", "/api/v1/share", ctForm, "secret=WIPE-ME%FF", 400},
		{"ErrShare/Recipient", "/api/v1/share", ctForm, form("secret", "WIPE-ME", "recipient", "a@b.c"), 400},
		{"ErrShare/ContentType", "/api/v1/share", "text/plain", "secret=WIPE-ME", 400},
		{"ErrShare/PassphraseTooShort", "/api/v1/share", ctForm, form("secret", "WIPE-ME", "passphrase", "WIP"), 400},
		{"ErrShare/Credential", "/api/v1/share", ctForm, form("secret", "WIPE-ME"), 401},
		{"ErrReveal/WrongPassphrase", "/api/v1/secret/" + guarded2.secretKey, ctForm, form("passphrase", "WIPE-ME pass"), 404},
		{"ErrBurn/WrongPassphrase", "/api/v1/receipt/" + burnable2.receiptKey + "/burn", ctForm, form("passphrase", "WIPE-ME pass"), 400},
		{"ErrNoRoute", "/api/v1/nope", ctForm, form("secret", "WIPE-ME"), 404},
		{"ErrMethod", "/api/v1/status", ctForm, form("secret", "WIPE-ME"), 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var headers []string
			if tc.intended == 401 {
				headers = []string{"Authorization", "Basic dTpw"}
			}
			ctx := serveCtx(h, addr, "POST", tc.path, tc.contentType, tc.body, headers...)
			r := ctxResponse(ctx)
			switch {
			case tc.intended == 0:
				MustOK(t, r)
			case strings.HasPrefix(tc.name, "ErrNoRoute"), strings.HasPrefix(tc.name, "ErrMethod"):
				MustNoRoute(t, r, tc.intended)
			default:
				MustFail(t, r, tc.intended, "")
			}
			body := ctx.Request.Body()
			if len(body) != len(tc.body) {
				t.Fatalf("request body is %d bytes, sent %d", len(body), len(tc.body))
			}
			if i := bytes.IndexFunc(body, func(r rune) bool { return r != 0 }); i >= 0 {
				t.Errorf("request body not wiped: byte %d is %q", i, body[i])
			}
		})
	}
	// guarded2 and burnable2, and what the four successful creations made.
	if n := st.Stats().Secrets; n != 6 {
		t.Errorf("%d secrets waiting, want 6", n)
	}
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPanic(t *testing.T) {
	// The handler's clock is the seam: armed, it panics with a value that
	// quotes request data, as a careless bug might.
	const secret, marker = "PANIC-SECRET-VALUE", "PANIC-VALUE-MARKER"
	var armed atomic.Bool
	logs := new(syncBuffer)
	s := MustOpenServer(t, func(c *testConfig) {
		now := c.handler.Now
		c.handler.Now = func() time.Time {
			if armed.Load() {
				panic(marker + " " + secret)
			}
			return now()
		}
		c.handler.Log = log.New(logs, "", 0)
	})
	armed.Store(true)
	for _, tc := range []struct{ name, path, body string }{
		{"Share", "/api/v1/share", form("secret", secret)},
		{"Generate", "/api/v1/generate", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, "POST", tc.path, ctForm, tc.body)
			m := MustFail(t, r, 500, "Internal error")
			if len(m) != 1 {
				t.Errorf("answer %v, want only a message", m)
			}
			for _, leak := range []string{secret, marker, "panic", "goroutine"} {
				if strings.Contains(string(r.body), leak) {
					t.Errorf("answer quotes %q: %s", leak, r.body)
				}
			}
		})
	}
	if l := logs.String(); !strings.Contains(l, "panic") || strings.Contains(l, secret) || strings.Contains(l, marker) {
		t.Errorf("log should note the panic without its value:\n%s", l)
	}
	// The server goes on serving.
	armed.Store(false)
	ref := s.MustShare(t, "after")
	if got := s.MustReveal(t, ref.secretKey); got != "after" {
		t.Errorf("revealed %q", got)
	}

	t.Run("BodyWiped", func(t *testing.T) {
		armed.Store(true)
		defer armed.Store(false)
		ctx := serveCtx(s.h, nil, "POST", "/api/v1/share", ctForm, form("secret", secret))
		MustFail(t, ctxResponse(ctx), 500, "Internal error")
		if bytes.Contains(ctx.Request.Body(), []byte(secret)) || len(bytes.Trim(ctx.Request.Body(), "\x00")) != 0 {
			t.Errorf("request body not wiped after a panic")
		}
	})
}
