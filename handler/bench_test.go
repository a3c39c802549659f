package handler

// Benchmarks: the handler's own cost through h.Serve on a reused
// RequestCtx (responses written to a discarding buffered writer, as the
// server would), and a full share-and-reveal round trip over an in-memory
// connection.
//
//	go test -run '^$' -bench . -benchmem -count=3 ./handler

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/store"
)

// benchOptions make a store roomy enough for benchmarks.
func benchOptions(c *testConfig) {
	c.store.MaxSecrets = 1 << 16
	c.store.MaxBytes = 1 << 30
}

// secret1K is a 1 KiB secret that form encoding leaves as it is.
var secret1K = strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_", 16)

// benchCtx is a request context reused across iterations.
func benchCtx(method, path, contentType string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, &net.TCPAddr{IP: alice, Port: 40000}, nil)
	setRequest(ctx, method, path, contentType)
	return ctx
}

// setRequest sets up ctx's request afresh: Serve wipes every buffer of the
// last one, its header values included.
func setRequest(ctx *fasthttp.RequestCtx, method, path, contentType string) {
	ctx.Request.Reset()
	ctx.Request.Header.SetMethod(method)
	ctx.Request.SetRequestURI(path)
	ctx.Request.Header.SetContentType(contentType)
}

// finish writes the response as the server would, then resets it.
func finish(b *testing.B, ctx *fasthttp.RequestCtx, w *bufio.Writer) {
	if ctx.Response.StatusCode() != 200 {
		b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	if err := ctx.Response.Write(w); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	ctx.Response.Reset()
}

func BenchmarkShare(b *testing.B) {
	h, st, clock := MustOpenHandler(b, benchOptions)
	body := []byte("secret=" + secret1K + "&ttl=3600")
	ctx := benchCtx("POST", "/api/v1/share", ctForm)
	w := bufio.NewWriter(io.Discard)
	b.SetBytes(int64(len(secret1K)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%(1<<14) == 1<<14-1 {
			// Keep the store from filling up: expire everything.
			b.StopTimer()
			clock.Add(24 * time.Hour)
			st.Sweep()
			b.StartTimer()
		}
		// Serve wiped everything the last request held, headers too.
		setRequest(ctx, "POST", "/api/v1/share", ctForm)
		ctx.Request.SetBody(body)
		h.Serve(ctx)
		finish(b, ctx, w)
	}
}

func BenchmarkReveal(b *testing.B) {
	h, st, _ := MustOpenHandler(b, benchOptions)
	ctx := benchCtx("POST", "/api/v1/secret/x", ctForm)
	w := bufio.NewWriter(io.Discard)
	paths := make([][]byte, 0, 1<<12)
	b.SetBytes(int64(len(secret1K)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; {
		// Store a batch of secrets, off the clock.
		b.StopTimer()
		paths = paths[:0]
		for range min(cap(paths), b.N-i) {
			p, err := st.Plain(len(secret1K))
			if err != nil {
				b.Fatal(err)
			}
			p.SetLen(copy(p.Buf(), secret1K))
			r, err := st.Create(p, store.CreateOptions{TTL: time.Hour, CustID: "anon"})
			p.Release()
			if err != nil {
				b.Fatal(err)
			}
			paths = append(paths, append([]byte("/api/v1/secret/"), r.SecretKey[:]...))
			r.Wipe()
		}
		b.StartTimer()
		for _, path := range paths {
			setRequest(ctx, "POST", "", ctForm)
			ctx.Request.SetRequestURIBytes(path)
			h.Serve(ctx)
			finish(b, ctx, w)
			i++
		}
	}
}

func BenchmarkShareRevealInmemory(b *testing.B) {
	s := MustOpenServer(b, benchOptions)
	body := "secret=" + secret1K
	keyField := []byte(`"secret_key":"`)
	b.SetBytes(int64(len(secret1K)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := s.try(s.client, "POST", "/api/v1/share", ctForm, body)
		if err != nil || r.status != 200 {
			b.Fatalf("share: %v %v", r, err)
		}
		j := bytes.Index(r.body, keyField)
		if j < 0 {
			b.Fatalf("share answered %s", r.body)
		}
		key := r.body[j+len(keyField) : j+len(keyField)+store.KeyLen]
		r, err = s.try(s.client, "POST", "/api/v1/secret/"+string(key), ctForm, "")
		if err != nil || r.status != 200 || !bytes.Contains(r.body, []byte(secret1K)) {
			b.Fatalf("reveal: %v %v", r, err)
		}
	}
}

// BenchmarkIsActivity is the check made after every answered request,
// on a successful share with otslite's headers set.
func BenchmarkIsActivity(b *testing.B) {
	h, _, _ := MustOpenHandler(b, benchOptions)
	ctx := benchCtx("POST", "/api/v1/share", ctForm)
	securityHeaders(ctx)
	apiHeaders(ctx)
	ctx.SetStatusCode(fasthttp.StatusOK)
	path := []byte("/api/v1/share")
	for b.Loop() {
		if !h.isActivity(ctx, path) {
			b.Fatal("a share that succeeded was not activity")
		}
	}
}
