package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/assets"
	"otslite/handler"
	"otslite/handler/audit"
	"otslite/store"
)

// BenchmarkHandlerPair runs create+reveal pairs through the request
// handlers alone, in this process, on a reused request: no network, no
// fasthttp parsing, only what each server does per pair from its handler
// on (the hardened baseline's Guard, map and answers; otslite's Guard,
// routes, store and audit trail), and the writing of the answers into a
// buffer. It reports server CPU per pair (user and system time of the
// whole process, so the audit trail's writer counts too), which is less
// moved than wall time by other work on a shared machine. The difference
// between the two is otslite's own work per pair.
func BenchmarkHandlerPair(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			b.Run("Hardened", func(b *testing.B) {
				srv, _, err := newBaseline().hardened(nil)
				if err != nil {
					b.Fatal(err)
				}
				benchmarkPairs(b, srv.Handler, size)
			})
			b.Run("SealedFloor", func(b *testing.B) {
				srv, _ := mustSealedFloor(b, newSealedFloor())
				benchmarkPairs(b, srv.Handler, size)
			})
			b.Run("Otslite", func(b *testing.B) {
				benchmarkPairs(b, mustOtsliteHandler(b, size), size)
			})
			b.Run("OtsliteProof", func(b *testing.B) {
				benchmarkPairs(b, mustOtsliteHandler(b, size), size, newZK(size))
			})
		})
	}
}

// mustOtsliteHandler is otslite's handler wired as the server wires it,
// its audit trail written to nowhere.
func mustOtsliteHandler(tb testing.TB, maxSecret int) fasthttp.RequestHandler {
	tb.Helper()
	trail := audit.New(audit.Config{Out: io.Discard})
	tb.Cleanup(trail.Close)
	st, err := store.New(store.Config{MaxSecretSize: max(maxSecret, 64<<10), Expired: handler.AuditExpiry(trail)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close(time.Second) })
	ui, err := assets.Load()
	if err != nil {
		tb.Fatal(err)
	}
	// The session's Activity hook reads the clock once a tick, not once a
	// request: nothing of it is measured here.
	h := handler.New(st, ui, handler.Config{PublicURL: "http://127.0.0.1", Audit: trail, Activity: func() {}})
	return h.Serve
}

// benchmarkPairs runs the pairs; with zk, as the web UI sends them.
func benchmarkPairs(b *testing.B, serve fasthttp.RequestHandler, size int, zk ...*zkSecret) {
	secret := secretValue(size)
	share := append([]byte("secret="), secret...)
	share = append(share, "&ttl=3600"...)
	var reveal []byte
	shareType := ctForm
	if len(zk) > 0 {
		var body string
		body, shareType = zk[0].shareBody()
		secret, share = zk[0].envelope, []byte(body)
		reveal = append([]byte("passphrase="), zk[0].proof...)
	}
	var out bytes.Buffer
	w := bufio.NewWriterSize(&out, 4<<10)
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&ctx.Request, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	do := func(path []byte, contentType string, body []byte) []byte {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod(fasthttp.MethodPost)
		ctx.Request.SetRequestURIBytes(path)
		ctx.Request.Header.SetContentType(contentType)
		ctx.Request.SetBody(body)
		serve(ctx)
		out.Reset()
		if err := ctx.Response.Write(w); err != nil {
			b.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("%s: status %d: %.200s", path, ctx.Response.StatusCode(), out.Bytes())
		}
		return out.Bytes()
	}
	sharePath := []byte("/api/v1/share")
	revealPath := []byte("/api/v1/secret/")
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		resp := do(sharePath, shareType, share)
		i := bytes.Index(resp, keyField)
		if i < 0 {
			b.Fatalf("share: %.200s", resp)
		}
		key := resp[i+len(keyField) : i+len(keyField)+store.KeyLen]
		revealPath = append(revealPath[:len("/api/v1/secret/")], key...)
		resp = do(revealPath, ctForm, reveal)
		if i = bytes.Index(resp, valueStart); i < 0 || !bytes.HasPrefix(resp[i+len(valueStart):], secret) {
			b.Fatalf("reveal: %.200s", resp)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pair")
}
