package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/assets"
	"otslite/handler"
	"otslite/store"
)

// These tests check that the generator and the baseline do what the
// comparison relies on; they measure nothing.

// MustServe serves srv on a loopback port until the test ends.
func MustServe(tb testing.TB, srv *fasthttp.Server, wrap func(net.Listener) net.Listener) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(wrap(ln))
	}()
	tb.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return ln.Addr().String()
}

func plainListener(ln net.Listener) net.Listener { return ln }

// MustOpenOtslite serves the real handler on loopback, with a cheap
// passphrase hash so the race detector keeps up.
func MustOpenOtslite(tb testing.TB) string {
	tb.Helper()
	st, err := store.New(store.Config{
		MaxSecrets:  1 << 16,
		MaxBytes:    1 << 28,
		LockedBytes: 1 << 20,
		Hash:        store.HashParams{MemoryKiB: 64, Time: 1, Threads: 1},
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close(time.Second) })
	ui, err := assets.Load()
	if err != nil {
		tb.Fatal(err)
	}
	h := handler.New(st, ui, handler.Config{PublicURL: "http://127.0.0.1"})
	return MustServe(tb, h.NewServer(), func(ln net.Listener) net.Listener { return h.Listener(ln, nil) })
}

// MustOpenHardened serves the hardened baseline on loopback.
func MustOpenHardened(tb testing.TB) string {
	tb.Helper()
	srv, wrap, err := newBaseline().hardened(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return MustServe(tb, srv, wrap)
}

func TestDrive(t *testing.T) {
	for _, c := range []struct {
		name string
		addr func(testing.TB) string
		pass int
	}{
		{"Baseline", func(tb testing.TB) string { return MustServe(tb, newBaseline().server(), plainListener) }, 0},
		{"HardenedBaseline", MustOpenHardened, 0},
		{"SealedFloor", func(tb testing.TB) string { return mustOpenSealed(tb, newSealedFloor()) }, 0},
		{"Otslite", MustOpenOtslite, 0},
		{"OtslitePassphrase", MustOpenOtslite, 1},
		{"OtsliteProof", MustOpenOtslite, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := driveConfig{Addr: c.addr(t), Clients: 4, PassClients: max(c.pass, 0), SecretSize: 1024, Duration: 300 * time.Millisecond}
			if c.pass < 0 {
				cfg.ProofClients = 2
			}
			res, err := drive(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 0 || res.Pairs == 0 {
				t.Fatalf("%d pairs, %d errors (%s)", res.Pairs, res.Errors, res.FirstError)
			}
			// Pairs count by when they began, answers by when they came:
			// a client's last pair may end after the window.
			if c.pass > 0 && (res.PassPairs == 0 || res.PassReqs < 2*(res.PassPairs-int64(c.pass))) {
				t.Errorf("%d passphrase pairs, %d requests answered", res.PassPairs, res.PassReqs)
			}
			if c.pass < 0 && res.ProofPairs == 0 {
				t.Errorf("no pairs with proofs")
			}
			if res.RevealP50us <= 0 || res.RevealP99us < res.RevealP50us {
				t.Errorf("reveal latencies p50 %v µs, p99 %v µs", res.RevealP50us, res.RevealP99us)
			}
		})
	}
}

// Two servers on one store, each answering only to its own address, as
// replicas pin their Host: each client creates on one and reveals on the
// other, and every request must name the server it is sent to.
func TestDriveAcrossServers(t *testing.T) {
	st, err := store.New(store.Config{MaxSecrets: 1 << 16, MaxBytes: 1 << 28, LockedBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(time.Second) })
	ui, err := assets.Load()
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		h := handler.New(st, ui, handler.Config{PublicURL: "http://" + addr, PinHosts: []string{addr}})
		srv := h.NewServer()
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(h.Listener(ln, nil)) }()
		t.Cleanup(func() { _ = srv.Shutdown(); <-done })
		addrs = append(addrs, addr)
	}
	res, err := drive(driveConfig{Addr: strings.Join(addrs, ","), Clients: 4, SecretSize: 1024, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Pairs == 0 {
		t.Fatalf("%d pairs, %d errors (%s)", res.Pairs, res.Errors, res.FirstError)
	}
}

// Flood clients come from their own addresses, and refusals as busy are
// counted, not taken for errors.
func TestDriveFlood(t *testing.T) {
	st, err := store.New(store.Config{
		MaxSecrets:  1 << 16,
		MaxBytes:    1 << 28,
		LockedBytes: 1 << 20,
		Hash:        store.HashParams{MemoryKiB: 4 << 10, Time: 2, Threads: 1},
		HashWorkers: 1,
		HashWait:    50 * time.Millisecond,
		HashQueue:   2,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(time.Second) })
	ui, err := assets.Load()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	// Refusals answered at once, so that some come within the short window.
	h := handler.New(st, ui, handler.Config{PublicURL: "http://127.0.0.1", BusyHold: -1})
	srv := h.NewServer()
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		mu.Lock()
		seen[ctx.RemoteIP().String()] = true
		mu.Unlock()
		h.Serve(ctx)
	}
	addr := MustServe(t, srv, func(ln net.Listener) net.Listener { return h.Listener(ln, nil) })
	res, err := drive(driveConfig{Addr: addr, Clients: 2, Flood: 40, FloodPause: time.Millisecond, SecretSize: 1024, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Pairs == 0 || res.FloodReqs == 0 || res.FloodBusy == 0 {
		t.Fatalf("%d pairs, %d flood requests answered, %d busy, %d errors (%s)", res.Pairs, res.FloodReqs, res.FloodBusy, res.Errors, res.FirstError)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := range 40 {
		if !seen[floodAddr(i).String()] {
			t.Errorf("no request from flood address %v", floodAddr(i))
		}
	}
}

func TestDriveCreates(t *testing.T) {
	b := newBaseline()
	res, err := drive(driveConfig{Addr: MustServe(t, b.server(), plainListener), Clients: 3, SecretSize: 100, Creates: 50})
	if err != nil {
		t.Fatal(err)
	}
	if res.Creates != 50 || res.Errors != 0 {
		t.Fatalf("%d creates, %d errors (%s)", res.Creates, res.Errors, res.FirstError)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.secrets) != 50 {
		t.Errorf("the server holds %d secrets", len(b.secrets))
	}
}

// A server that answers a reveal with the wrong value is caught.
func TestDriveWrongValue(t *testing.T) {
	b := newBaseline()
	srv := b.server()
	srv.Handler = func(ctx *fasthttp.RequestCtx) {
		b.serve(ctx)
		if strings.HasPrefix(string(ctx.Path()), "/api/v1/secret/") {
			body := ctx.Response.Body()
			body[len(`{"value":"`)] ^= 1
		}
	}
	res, err := drive(driveConfig{Addr: MustServe(t, srv, plainListener), Clients: 1, SecretSize: 64, Duration: 50 * time.Millisecond})
	if err == nil {
		t.Fatalf("no error: %+v", res)
	}
	if !strings.Contains(err.Error(), "wrong value") {
		t.Errorf("error %v", err)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 200; i++ {
		d = append(d, time.Duration(i))
	}
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 100}, {99, 198}, {100, 200}, {0, 1}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
}

func TestSpread(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want spread
	}{
		{[]float64{3, 1, 2}, spread{2, 1, 3}},
		{[]float64{4, 1, 2, 3}, spread{2.5, 1, 4}},
		{[]float64{7}, spread{7, 7, 7}},
	} {
		if got := spreadOf(c.in); got != c.want {
			t.Errorf("spreadOf(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// Ratios are taken within each run before the median, and verdicts follow
// the medians.
func TestRows(t *testing.T) {
	cc := compareConfig{Clients: []int{64}, PassPlain: 64, PassClients: 8, Flood: 256, SecretSize: 1024, Stored: 10, BigSize: 64 << 10}
	run := func(ots, hard, loaded, p99, h99 float64) runResult {
		return runResult{
			Flooded: driveResult{PairsPerSec: loaded * 1.1, FloodReqSec: loaded / 5, FloodBusyPS: loaded, Seconds: 1, ServerCPU: 1},
			Ots:     map[int]driveResult{64: {PairsPerSec: ots, Pairs: int64(ots), RevealP99us: p99, Seconds: 1, ServerCPU: 1}},
			Hard:    map[int]driveResult{64: {PairsPerSec: hard, Pairs: int64(hard), RevealP99us: h99, Seconds: 1, ServerCPU: 0.5}},
			Sealed:  map[int]driveResult{64: {PairsPerSec: hard * 0.9, Seconds: 1, ServerCPU: 1}},
			Base:    map[int]driveResult{64: {PairsPerSec: hard / 0.8, Seconds: 1, ServerCPU: 1}},
			Quiet:   map[int]driveResult{64: {PairsPerSec: ots * 1.1, Seconds: 1, ServerCPU: 1}},
			Proof:   driveResult{ProofPerSec: ots * 0.85, Seconds: 1, ServerCPU: 1},
			BigHard: driveResult{PairsPerSec: hard / 4, Seconds: 1, ServerCPU: 1},
			BigOts:  driveResult{PairsPerSec: ots / 5, Seconds: 1, ServerCPU: 1},
			Stored:  driveResult{PairsPerSec: ots * 0.95, Seconds: 1, ServerCPU: 1},
			Loaded:  driveResult{PairsPerSec: loaded},
			Unloaded: [5]driveResult{
				{PairsPerSec: ots * 0.7, Seconds: 1, ServerCPU: 1},
				{PairsPerSec: ots * 0.9, Seconds: 1, ServerCPU: 1},
				{PairsPerSec: ots * 1.1, Seconds: 1, ServerCPU: 1},
				{PairsPerSec: ots, Seconds: 1, ServerCPU: 1},
				{PairsPerSec: ots * 1.2, Seconds: 1, ServerCPU: 1},
			},
			PerSecret:     1500,
			IdleRSS:       30 << 20,
			StartupMedian: 10 * time.Millisecond,
		}
	}
	// Run 2 is slow for both servers: its ratio is still 0.8.
	runs := []runResult{run(80, 100, 70, 1500, 1000), run(40, 50, 30, 2500, 1900), run(60, 100, 50, 1800, 1500)}
	got := map[string]row{}
	for _, r := range cc.rows(runs, 16e6) {
		got[r.metric] = r
	}
	check := func(metric, field, want string, ok bool) {
		t.Helper()
		r, found := got[metric]
		if !found {
			t.Fatalf("no row %q", metric)
		}
		v := map[string]string{"ots": r.ots, "ratio": r.ratio, "base": r.base}[field]
		if v != want || r.ok == nil || *r.ok != ok {
			t.Errorf("%s: %s %q (met %v), want %q (met %v)", metric, field, v, r.ok != nil && *r.ok, want, ok)
		}
	}
	check("create+reveal pairs/s, 64 clients (baseline: hardened)", "ratio", "0.80 [0.60–0.80]", false)
	if r := got["  hardened / bare baseline, 64 clients"]; r.ratio != "0.80" || r.ok != nil {
		t.Errorf("hardened baseline row %+v", r)
	}
	if r := got["  otslite / bare baseline, 64 clients"]; r.ratio != "0.64 [0.48–0.64]" {
		t.Errorf("otslite / bare row %+v", r)
	}
	if r := got["  sealed floor / hardened baseline, 64 clients"]; r.ratio != "0.90" || r.ok != nil {
		t.Errorf("sealed floor row %+v", r)
	}
	if r := got["  otslite / sealed floor, 64 clients"]; r.ratio != "0.89 [0.67–0.89]" || r.ok != nil {
		t.Errorf("otslite / sealed floor row %+v", r)
	}
	check("reveal p99, 64 clients", "ots", "1.80 ms [1.50–2.50]", true)
	// Proof pairs against the mean of ots*0.7 and ots*0.9 around them, and
	// without a target against the first measurement.
	check("pairs/s as the web UI sends them (envelope and proof), 64 clients (baseline: plain, just before and after)", "ratio", "1.06", true)
	if r := got["  as the web UI / the 64-client pairs/s early in the run"]; r.ratio != "0.85" || r.ok != nil {
		t.Errorf("proof pairs against the early run: %+v", r)
	}
	check("create+reveal pairs/s, 64KiB secrets, 64 clients (baseline: hardened)", "ratio", "0.64 [0.48–0.64]", true)
	// Passphrase runs against the unloaded ones around them (the mean of
	// ots*0.9 and ots*1.1 for the first, of ots*1.1 and ots for the flood),
	// and, without a target, against the first measurement.
	check("pairs/s, 64 clients, with 8 passphrase clients (baseline: unloaded just before and after)", "ratio", "0.83 [0.75–0.88]", true)
	check("pairs/s, 64 clients, in a flood of 256 passphrase clients from 256 addresses (baseline: unloaded just before and after)", "ratio", "0.87 [0.79–0.92]", true)
	if r := got["  in the flood / the 64-client pairs/s early in the run"]; r.ratio != "0.92 [0.82–0.96]" || r.ok != nil {
		t.Errorf("flood against the early run: %+v", r)
	}
	if r := got["  the same / the 64-client pairs/s early in the run"]; r.ratio != "0.83 [0.75–0.88]" || r.ok != nil {
		t.Errorf("passphrase run against the early run: %+v", r)
	}
	check("  flood passphrase requests answered/s (3x as long)", "ots", "10.0 [6.0–14.0]", true)
	// Stored against the mean of ots and ots*1.2 around it: 0.95/1.1.
	check("pairs/s, 64 clients, with 10 stored (baseline: empty, just before and after)", "ratio", "0.86", false)
	if r := got["  with them stored / the 64-client pairs/s early in the run"]; r.ratio != "0.95" || r.ok != nil {
		t.Errorf("stored against the early run: %+v", r)
	}
	check("RSS per stored 1024-byte secret", "ots", "1500 B", true)
	check("start to first served request", "ots", "10.0 ms", true)
	// Per CPU-second the server got: the baseline had only half a CPU.
	if r := got["pairs per server CPU-second, 64 clients"]; r.ratio != "0.40 [0.30–0.40]" {
		t.Errorf("efficiency row %+v", r)
	}
	if n, total := starved(runs); n != 3 || total != 48 {
		t.Errorf("starved(runs) = %d of %d, want 3 of 48", n, total)
	}
	if r := got["  otslite --quiet-audit, 64 clients"]; r.ratio != "0.88 [0.66–0.88]" {
		t.Errorf("quiet row %+v", r)
	}
	check("static binary size", "ots", "16.0 MB", false)
	check("idle RSS", "ots", "30.0 MiB", false)

	// The p99 target applies only while the hardened baseline meets it.
	slow := []runResult{run(80, 100, 70, 2500, 2100)}
	for _, r := range cc.rows(slow, 16e6) {
		if r.metric == "reveal p99, 64 clients" && (r.ok != nil || !strings.Contains(r.target, "n/a")) {
			t.Errorf("p99 row with the baseline over 2 ms: %+v", r)
		}
	}
}

// A secret as the web UI sends it: an envelope of the given length, a
// proof of the 47-character form, and the JSON body JSON.stringify makes.
func TestZK(t *testing.T) {
	z := newZK(1024)
	if len(z.envelope) != 1024 || !bytes.HasPrefix(z.envelope, []byte("otsz1:")) {
		t.Errorf("envelope of %d bytes: %.20q", len(z.envelope), z.envelope)
	}
	if !store.IsProof(z.proof) || len(z.proof) != store.ProofLen {
		t.Errorf("proof %q", z.proof)
	}
	body, ct := z.shareBody()
	var v struct {
		Secret, Passphrase string
		TTL                *int
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || ct != ctJSON || v.Secret != string(z.envelope) || v.Passphrase != string(z.proof) || v.TTL == nil {
		t.Errorf("share body %.80q (%s): %v", body, ct, err)
	}
}

func TestProc(t *testing.T) {
	n, err := rss(os.Getpid())
	if err != nil || n < 1<<20 {
		t.Fatalf("rss = %d, %v", n, err)
	}
	if got := processCPU(0); got != 0 {
		t.Errorf("processCPU(0) = %v", got)
	}
	end := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(end) {
	}
	if got := processCPU(os.Getpid()); got <= 0 {
		t.Errorf("processCPU after spinning = %v", got)
	}
}

// BenchmarkLoopback runs create+reveal pairs of 1 KiB secrets over real
// loopback TCP from 32 parallel keep-alive clients, against the bare
// baseline and against the real handler, and reports pairs per second.
// (Server and clients share the machine here; the load command pins them
// apart.)
func BenchmarkLoopback(b *testing.B) {
	for _, c := range []struct {
		name string
		addr func(testing.TB) string
	}{
		{"Baseline", func(tb testing.TB) string { return MustServe(tb, newBaseline().server(), plainListener) }},
		{"HardenedBaseline", MustOpenHardened},
		{"Otslite", MustOpenOtslite},
	} {
		b.Run(c.name, func(b *testing.B) {
			addr := c.addr(b)
			secret := secretValue(1024)
			b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				cl := &client{addr: addr, timeout: 10 * time.Second}
				defer cl.close()
				for pb.Next() {
					if err := cl.pair(secret, false); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pairs/s")
		})
	}
}

// The hardened baseline serves through otslite's listener and Guard: its
// answers carry the security headers, its bodies are read by Guard (a
// chunked one too; one over otslite's limit is refused as otslite refuses
// it), and requests the framing refuses never reach it.
func TestHardenedBaseline(t *testing.T) {
	addr := MustOpenHardened(t)
	// head sends req on a fresh connection and returns the answer's
	// status line and header block.
	head := func(req string) string {
		t.Helper()
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		var b strings.Builder
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the answer to %.40q: %v", req, err)
			}
			b.WriteString(line)
			if line == "\r\n" {
				return b.String()
			}
		}
	}
	if h := head("GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"); !strings.HasPrefix(h, "HTTP/1.1 200 ") ||
		!strings.Contains(h, "Content-Security-Policy: ") || !strings.Contains(h, "X-Frame-Options: DENY") {
		t.Errorf("status answer without the security headers:\n%s", h)
	}
	if h := head("GET /api/v1/status HTTP/1.1\nHost: x\n\n"); !strings.HasPrefix(h, "HTTP/1.1 400 ") {
		t.Errorf("a request with bare LF line ends was answered, not refused by the framing:\n%s", h)
	}

	c := &client{addr: addr, timeout: 5 * time.Second}
	defer c.close()
	secret := secretValue(100)
	chunked := fmt.Sprintf("POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Transfer-Encoding: chunked\r\n\r\n7\r\nsecret=\r\n%x\r\n%s\r\n0\r\n\r\n", len(secret), secret)
	st, body, err := c.do([]byte(chunked))
	i := bytes.Index(body, keyField)
	if err != nil || st != 200 || i < 0 {
		t.Fatalf("chunked share: %d %q %v", st, body, err)
	}
	key := bytes.Clone(body[i+len(keyField) : i+len(keyField)+32])
	st, body, err = c.do(request(nil, "x", "/api/v1/secret/", key, ctForm, ""))
	if err != nil || st != 200 || !bytes.Contains(body, secret) {
		t.Errorf("reveal of a chunked share: %d %q %v", st, body, err)
	}
	// Refused from its length, before the body (v1 answers errors as
	// 404, the status meant in a header): only its start is sent, so the
	// answer cannot race with the rest being written into a closed
	// connection.
	if h := head(fmt.Sprintf("POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\nsecret=aaaa", ctForm, 1<<20)); !strings.Contains(h, "X-Ots-Intended-Status: 413\r\n") {
		t.Errorf("a body over otslite's limit: %q; want 413, as otslite answers", h)
	}
}

// mustSealedFloor is the sealed floor's server and listener, as loadtest
// baseline -sealed serves them.
func mustSealedFloor(tb testing.TB, f *sealedFloor) (*fasthttp.Server, func(net.Listener) net.Listener) {
	tb.Helper()
	b := newBaseline()
	srv, wrap, err := b.hardened(func(ctx *fasthttp.RequestCtx) { f.serve(ctx, b) })
	if err != nil {
		tb.Fatal(err)
	}
	return srv, wrap
}

func mustOpenSealed(tb testing.TB, f *sealedFloor) string {
	tb.Helper()
	srv, wrap := mustSealedFloor(tb, f)
	return MustServe(tb, srv, wrap)
}

// The sealed floor keeps only ciphertext, under an index that is not the
// link, answers a reveal once with the secret, and refuses a link whose
// derivation finds nothing.
func TestSealedFloor(t *testing.T) {
	f := newSealedFloor()
	c := &client{addr: mustOpenSealed(t, f), timeout: 5 * time.Second}
	defer c.close()
	secret := secretValue(1024)
	st, body, err := c.do(request(nil, "x", "/api/v1/share", nil, ctForm, "secret="+string(secret)))
	i := bytes.Index(body, keyField)
	if err != nil || st != 200 || i < 0 {
		t.Fatalf("share: %d %q %v", st, body, err)
	}
	key := bytes.Clone(body[i+len(keyField) : i+len(keyField)+32])
	f.mu.Lock()
	for idx, sealed := range f.secrets {
		if bytes.Contains(sealed, secret[:64]) || bytes.Contains(idx[:], key[:16]) || len(sealed) != len(secret)+16 {
			t.Errorf("stored %x under %x: not sealed", sealed[:32], idx)
		}
	}
	n := len(f.secrets)
	f.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d secrets stored, want 1", n)
	}
	st, body, err = c.do(request(nil, "x", "/api/v1/secret/", key, ctForm, ""))
	if err != nil || st != 200 || !bytes.Contains(body, secret) {
		t.Fatalf("reveal: %d %.100q %v", st, body, err)
	}
	if st, body, _ = c.do(request(nil, "x", "/api/v1/secret/", key, ctForm, "")); st != 404 {
		t.Errorf("second reveal: %d %.100q", st, body)
	}
}

// TestDriveCountsAnswersInTheWindow: passphrase requests may wait seconds
// for argon2id, so an answer is counted when it arrives within the
// measured window, whenever its pair began. Against a server that answers
// each request a second after it came, one flood client's first pair
// begins in the warm-up and is answered twice within the window, and its
// second begins within it and is answered once in it and once after.
func TestDriveCountsAnswersInTheWindow(t *testing.T) {
	var mu sync.Mutex
	var secret []byte
	const key = "abcdefghjkmnpqrstvwxyz0123456789"
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		time.Sleep(time.Second)
		mu.Lock()
		defer mu.Unlock()
		switch path := string(ctx.Path()); {
		case path == "/api/v1/share":
			secret = append(secret[:0], ctx.PostArgs().Peek("secret")...)
			fmt.Fprintf(ctx, `{"secret_key":"%s"}`, key)
		case path == "/api/v1/secret/"+key:
			fmt.Fprintf(ctx, `{"value":"%s"}`, secret)
		default:
			ctx.SetStatusCode(fasthttp.StatusNotFound)
		}
	}}
	addr := MustServe(t, srv, func(ln net.Listener) net.Listener { return ln })
	res, err := drive(driveConfig{Addr: addr, Flood: 1, SecretSize: 64, Warmup: 400 * time.Millisecond, Duration: 3200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.FloodReqs != 3 || res.Errors != 0 {
		t.Errorf("%d flood requests counted as answered in the window, want 3 (%d errors: %s)", res.FloodReqs, res.Errors, res.FirstError)
	}
}

// The instruction count is read from valgrind's summary, separators and
// all; a log without one is an error, not a zero.
func TestValgrindRefs(t *testing.T) {
	log := []byte("otslite: session over\n==29352== \n==29352== I   refs:      5,698,386,476\n")
	if n, err := valgrindRefs(log); err != nil || n != 5698386476 {
		t.Errorf("valgrindRefs = %d, %v; want 5698386476", n, err)
	}
	if n, err := valgrindRefs([]byte("==1== Memcheck, a memory error detector\n")); err == nil {
		t.Errorf("valgrindRefs of a log without a count = %d, want an error", n)
	}
}
