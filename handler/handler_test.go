package handler

// Test helpers: a real store and handler behind a real fasthttp server on an
// in-memory listener, a settable clock shared by both, and a client that
// speaks raw HTTP so every header and byte of a response can be checked.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"otslite/assets"
	"otslite/store"
)

const publicURL = "https://ots.example"

// fakeClock is a settable clock; store and handler share one.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var (
	uiOnce sync.Once
	uiSet  *assets.Set
	uiErr  error
)

// MustLoadAssets loads the embedded UI once per test binary.
func MustLoadAssets(tb testing.TB) *assets.Set {
	tb.Helper()
	uiOnce.Do(func() { uiSet, uiErr = assets.Load() })
	if uiErr != nil {
		tb.Fatalf("assets.Load: %v", uiErr)
	}
	return uiSet
}

// testConfig is what MustOpenHandler builds from; options edit it.
type testConfig struct {
	store   store.Config
	handler Config
}

type option func(*testConfig)

func withRateLimit(n int) option { return func(c *testConfig) { c.handler.RateLimit = n } }

func withMaxSecretSize(n int) option { return func(c *testConfig) { c.store.MaxSecretSize = n } }

func withTrustedProxies(prefixes ...string) option {
	return func(c *testConfig) {
		for _, p := range prefixes {
			c.handler.TrustedProxies = append(c.handler.TrustedProxies, netip.MustParsePrefix(p))
		}
	}
}

// MustOpenHandler builds a store (cheap argon2id, no sweeper, fake clock)
// and a handler on it. The store is closed when the test ends.
func MustOpenHandler(tb testing.TB, opts ...option) (*Handler, *store.Store, *fakeClock) {
	tb.Helper()
	clock := newFakeClock()
	c := testConfig{
		store: store.Config{
			MaxSecretSize: 1024,
			MaxSecrets:    1000,
			LockedBytes:   512 << 10,
			Hash:          store.HashParams{MemoryKiB: 64, Time: 1, Threads: 1},
			SweepInterval: -1,
			Now:           clock.Now,
		},
		handler: Config{
			PublicURL:     publicURL,
			DefaultTTL:    time.Hour,
			MaxTTL:        7 * 24 * time.Hour,
			PassphraseMin: 4,
			PassphraseMax: 128,
			RateWindow:    20 * time.Minute,
			Now:           clock.Now,
		},
	}
	for _, o := range opts {
		o(&c)
	}
	useSharedStore(tb, &c) // under TestSharedStore, the same tests run on Redis
	st, err := store.New(c.store)
	if err != nil {
		tb.Fatalf("store.New: %v", err)
	}
	tb.Cleanup(func() { st.Close(time.Second) })
	return New(st, MustLoadAssets(tb), c.handler), st, clock
}

// testServer is a handler served by a real fasthttp server over an
// in-memory listener.
type testServer struct {
	h      *Handler
	st     *store.Store
	clock  *fakeClock
	ln     *fasthttputil.InmemoryListener
	client *fasthttp.Client // from the listener's default peer

	mu      sync.Mutex
	clients []*fasthttp.Client
}

// MustOpenServer starts a server; it is shut down when the test ends.
func MustOpenServer(tb testing.TB, opts ...option) *testServer {
	tb.Helper()
	h, st, clock := MustOpenHandler(tb, opts...)
	ln := fasthttputil.NewInmemoryListener()
	srv := h.NewServer()
	roundRobin(tb, srv, h, clock, opts...) // under TestSharedStore/RoundRobin: two replicas
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(h.Listener(ln, nil))
	}()
	s := &testServer{h: h, st: st, clock: clock, ln: ln}
	s.client = s.clientFrom(nil)
	tb.Cleanup(func() {
		s.mu.Lock()
		for _, c := range s.clients {
			c.CloseIdleConnections()
		}
		s.mu.Unlock()
		// Shutdown polls every 100 ms until Serve has returned and every
		// connection is closed. Let them go first, so that it returns at
		// once and tests do not wait for nothing.
		for i := 0; i < 1000 && srv.GetOpenConnectionsCount() > 0; i++ {
			time.Sleep(time.Millisecond)
		}
		_ = ln.Close()
		<-served
		_ = srv.Shutdown()
	})
	return s
}

// clientFrom returns a client whose connections the server sees coming from
// ip (nil: the in-memory listener's default peer).
func (s *testServer) clientFrom(ip net.IP) *fasthttp.Client {
	var local net.Addr
	if ip != nil {
		local = &net.TCPAddr{IP: ip, Port: 40000}
	}
	return s.track(&fasthttp.Client{
		Dial:                func(string) (net.Conn, error) { return s.ln.DialWithLocalAddr(local) },
		MaxConnsPerHost:     2048,
		MaxConnWaitTimeout:  30 * time.Second,
		ReadTimeout:         30 * time.Second,
		WriteTimeout:        30 * time.Second,
		MaxResponseBodySize: 1 << 20,
	})
}

// track remembers c so its connections are closed when the test ends.
func (s *testServer) track(c *fasthttp.Client) *fasthttp.Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = append(s.clients, c)
	return c
}

// response is one answer, copied out of fasthttp's pooled objects.
type response struct {
	status int
	header fasthttp.ResponseHeader
	body   []byte
}

func (r *response) get(name string) string { return string(r.header.Peek(name)) }

// intended is X-OTS-Intended-Status as a number (0 when absent).
func (r *response) intended() int {
	var n int
	fmt.Sscan(r.get("X-OTS-Intended-Status"), &n)
	return n
}

// object decodes the body as one JSON object, numbers kept as json.Number.
func (r *response) object(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	if dec.More() {
		tb.Fatalf("trailing data after the JSON object: %s", r.body)
	}
	return m
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s intended=%s body=%.300q", r.status, r.get("Content-Type"), r.get("X-OTS-Intended-Status"), r.body)
}

// request describes a request; headers are name, value pairs.
func newRequest(method, path, contentType, body string, headers ...string) *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.Header.SetMethod(method)
	req.SetRequestURI("http://ots.internal" + path)
	if contentType != "" {
		req.Header.SetContentType(contentType)
	} else {
		req.Header.SetNoDefaultContentType(true) // as curl -d sends it
	}
	if body != "" || method == fasthttp.MethodPost {
		req.SetBodyString(body)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if name := headers[i]; name == "Host" {
			req.Header.SetHost(headers[i+1])
			req.UseHostHeader = true
		} else {
			req.Header.Set(name, headers[i+1])
		}
	}
	return req
}

// try sends a request and returns its response; safe from any goroutine.
func (s *testServer) try(c *fasthttp.Client, method, path, contentType, body string, headers ...string) (*response, error) {
	req := newRequest(method, path, contentType, body, headers...)
	defer fasthttp.ReleaseRequest(req)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if method == fasthttp.MethodHead {
		resp.SkipBody = true
	}
	if err := c.DoTimeout(req, resp, 30*time.Second); err != nil {
		return nil, err
	}
	r := &response{status: resp.StatusCode(), body: bytes.Clone(resp.Body())}
	resp.Header.CopyTo(&r.header)
	return r, nil
}

// raw sends req as bytes on a fresh connection, writing and reading at
// once (a server that refuses a body may answer before reading all of it).
func (s *testServer) raw(tb testing.TB, req []byte) *response {
	tb.Helper()
	c, err := s.ln.Dial()
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	go func() { _, _ = c.Write(req) }()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := resp.Read(bufio.NewReader(c)); err != nil {
		tb.Fatalf("reading response: %v", err)
	}
	r := &response{status: resp.StatusCode(), body: bytes.Clone(resp.Body())}
	resp.Header.CopyTo(&r.header)
	return r
}

// do sends a request from the default client.
func (s *testServer) do(tb testing.TB, method, path, contentType, body string, headers ...string) *response {
	tb.Helper()
	return s.doWith(tb, s.client, method, path, contentType, body, headers...)
}

func (s *testServer) doWith(tb testing.TB, c *fasthttp.Client, method, path, contentType, body string, headers ...string) *response {
	tb.Helper()
	r, err := s.try(c, method, path, contentType, body, headers...)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

const (
	ctForm = "application/x-www-form-urlencoded"
	ctJSON = "application/json"
)

// form encodes name, value pairs.
func form(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Add(pairs[i], pairs[i+1])
	}
	return v.Encode()
}

// jsonBody encodes v.
func jsonBody(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// MustOK checks r is a 200 JSON answer and returns its object.
func MustOK(tb testing.TB, r *response) map[string]any {
	tb.Helper()
	if r.status != fasthttp.StatusOK {
		tb.Fatalf("want 200, got %v", r)
	}
	checkAPIHeaders(tb, r)
	return r.object(tb)
}

// MustFail checks r is a v1 error: HTTP 404, the intended status, the
// message, and returns the object.
func MustFail(tb testing.TB, r *response, intended int, message string) map[string]any {
	tb.Helper()
	if r.status != fasthttp.StatusNotFound || r.intended() != intended {
		tb.Fatalf("want 404 intended %d, got %v", intended, r)
	}
	checkAPIHeaders(tb, r)
	m := r.object(tb)
	if got, ok := m["message"].(string); !ok || (message != "" && got != message) {
		tb.Fatalf("message = %#v, want %q", m["message"], message)
	}
	return m
}

// MustNoRoute fails unless r is the v1 router's answer to a request no
// route takes (upstream's {"error":"Not Found"}), with intended status.
func MustNoRoute(tb testing.TB, r *response, intended int) {
	tb.Helper()
	if r.status != fasthttp.StatusNotFound || r.intended() != intended {
		tb.Fatalf("want 404 intended %d, got %v", intended, r)
	}
	checkAPIHeaders(tb, r)
	if m := r.object(tb); len(m) != 1 || m["error"] != "Not Found" {
		tb.Fatalf(`body = %v, want {"error":"Not Found"}`, m)
	}
}

// checkAPIHeaders checks what every API response carries.
func checkAPIHeaders(tb testing.TB, r *response) {
	tb.Helper()
	want := map[string]string{
		"Content-Type":  "application/json; charset=utf-8",
		"Cache-Control": "no-store",
	}
	for k, v := range want {
		if got := r.get(k); got != v {
			tb.Errorf("%s = %q, want %q (%v)", k, got, v, r)
		}
	}
	checkSecurityHeaders(tb, r)
	if ce := r.get("Content-Encoding"); ce != "" {
		tb.Errorf("API response has Content-Encoding %q", ce)
	}
}

// checkSecurityHeaders checks what every response carries.
func checkSecurityHeaders(tb testing.TB, r *response) {
	tb.Helper()
	want := map[string]string{
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"X-Robots-Tag":           "noindex, nofollow",
	}
	for k, v := range want {
		if got := r.get(k); got != v {
			tb.Errorf("%s = %q, want %q (%v)", k, got, v, r)
		}
	}
	csp := r.get("Content-Security-Policy")
	if csp == "" || !bytes.Contains([]byte(csp), []byte("frame-ancestors 'none'")) {
		tb.Errorf("Content-Security-Policy = %q, want one with frame-ancestors 'none' (%v)", csp, r)
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval"} {
		if bytes.Contains([]byte(csp), []byte(bad)) {
			tb.Errorf("Content-Security-Policy allows %s: %q", bad, csp)
		}
	}
}

// str returns m[k] as a string, failing when it is not one.
func str(tb testing.TB, m map[string]any, k string) string {
	tb.Helper()
	s, ok := m[k].(string)
	if !ok {
		tb.Fatalf("%q = %#v, want a string", k, m[k])
	}
	return s
}

// num returns m[k] as an integer, failing when it is not a JSON integer.
func num(tb testing.TB, m map[string]any, k string) int64 {
	tb.Helper()
	n, ok := m[k].(json.Number)
	if !ok {
		tb.Fatalf("%q = %#v, want a number", k, m[k])
	}
	i, err := n.Int64()
	if err != nil {
		tb.Fatalf("%q = %s, want an integer", k, n)
	}
	return i
}

// secretRef is what a test keeps of a stored secret.
type secretRef struct {
	secretKey, receiptKey string
}

// MustShare stores value (form-encoded, with extra name, value pairs) and
// returns its keys.
func (s *testServer) MustShare(tb testing.TB, value string, extra ...string) secretRef {
	tb.Helper()
	m := MustOK(tb, s.do(tb, "POST", "/api/v1/share", ctForm, form(append([]string{"secret", value}, extra...)...)))
	return secretRef{secretKey: str(tb, m, "secret_key"), receiptKey: str(tb, m, "metadata_key")}
}

// MustReveal reveals key (with extra form pairs) and returns the value.
func (s *testServer) MustReveal(tb testing.TB, key string, extra ...string) string {
	tb.Helper()
	m := MustOK(tb, s.do(tb, "POST", "/api/v1/secret/"+key, ctForm, form(extra...)))
	return str(tb, m, "value")
}

// MustReceipt reads the receipt behind key.
func (s *testServer) MustReceipt(tb testing.TB, key string) map[string]any {
	tb.Helper()
	return MustOK(tb, s.do(tb, "GET", "/api/v1/receipt/"+key, "", ""))
}

// MustBeWaiting checks (without consuming it) that a secret still waits.
func (s *testServer) MustBeWaiting(tb testing.TB, ref secretRef) {
	tb.Helper()
	MustOK(tb, s.do(tb, "GET", "/api/otslite/secret/"+ref.secretKey, "", ""))
	if st := str(tb, s.MustReceipt(tb, ref.receiptKey), "state"); st != "new" {
		tb.Fatalf("receipt state = %q, want new", st)
	}
}

// serveCtx runs h.Serve directly on a RequestCtx from remote (nil: 0.0.0.0)
// and returns the context after Serve has returned.
func serveCtx(h *Handler, remote net.Addr, method, path, contentType, body string, headers ...string) *fasthttp.RequestCtx {
	req := newRequest(method, path, contentType, body, headers...)
	defer fasthttp.ReleaseRequest(req)
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(req, remote, nil)
	h.Serve(ctx)
	return ctx
}

// ctxResponse reads what Serve answered in ctx.
func ctxResponse(ctx *fasthttp.RequestCtx) *response {
	r := &response{status: ctx.Response.StatusCode(), body: bytes.Clone(ctx.Response.Body())}
	ctx.Response.Header.CopyTo(&r.header)
	return r
}
