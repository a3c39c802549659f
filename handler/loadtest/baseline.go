package main

import (
	"math/rand/v2"
	"net"
	"sync"

	"github.com/valyala/fasthttp"

	"otslite/assets"
	"otslite/handler"
	"otslite/store"
)

// The baseline is the ceiling otslite is measured against: a bare fasthttp
// server doing the same create+reveal flow with a map, no crypto, no
// memory protection and no extra headers. Keys are 32 characters like
// otslite's, drawn from a fast non-cryptographic source.

const keyAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

type baseline struct {
	mu      sync.Mutex
	secrets map[[32]byte][]byte
	// form parses a request's form body; nil: fasthttp's PostArgs. The
	// caller releases what it returns (fasthttp.ReleaseArgs).
	form func(*fasthttp.RequestCtx) *fasthttp.Args
}

func newBaseline() *baseline {
	return &baseline{secrets: make(map[[32]byte][]byte)}
}

func (b *baseline) server() *fasthttp.Server {
	return &fasthttp.Server{Handler: b.serve}
}

// hardened is the baseline with what otslite's server does around every
// request: its fasthttp settings (timeouts, buffer sizes, limits, bodies
// streamed), its listener (connection caps, strict framing ahead of
// fasthttp, read and write buffers wiped, deadlines coalesced), and
// handler.Guard, which otslite's own handler runs in too: the stack grown
// first, the body read into a buffer of otslite's that is wiped, the
// security headers, and every buffer fasthttp kept of the request wiped
// to its capacity, with the stack, at the end. The map, the form parsing
// and the answers are the bare baseline's. So the difference between it
// and the bare baseline is the cost of that hardening; between it and
// otslite, the cost of otslite's own work.
func (b *baseline) hardened(serve fasthttp.RequestHandler) (*fasthttp.Server, func(net.Listener) net.Listener, error) {
	// The store only makes the handler: it is never used, so it needs
	// little locked memory.
	st, err := store.New(store.Config{LockedBytes: 1 << 20, SweepInterval: -1})
	if err != nil {
		return nil, nil, err
	}
	ui, err := assets.Load()
	if err != nil {
		return nil, nil, err
	}
	h := handler.New(st, ui, handler.Config{PublicURL: "http://127.0.0.1"})
	srv := h.NewServer()
	b.form = func(ctx *fasthttp.RequestCtx) *fasthttp.Args {
		a := fasthttp.AcquireArgs()
		a.ParseBytes(handler.Body(ctx))
		return a
	}
	if serve == nil {
		serve = b.serve
	}
	srv.Handler = func(ctx *fasthttp.RequestCtx) { h.Guard(ctx, serve) }
	return srv, func(ln net.Listener) net.Listener { return h.Listener(ln, nil) }, nil
}

func (b *baseline) serve(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	switch {
	case string(path) == "/api/v1/share" && ctx.IsPost():
		b.share(ctx)
	case len(path) == len("/api/v1/secret/")+32 && string(path[:len("/api/v1/secret/")]) == "/api/v1/secret/" && ctx.IsPost():
		b.reveal(ctx, path[len("/api/v1/secret/"):])
	case string(path) == "/api/v1/status":
		ctx.SetContentType("application/json")
		ctx.SetBodyString(`{"status":"nominal","locale":"en"}`)
	default:
		ctx.Error(`{"message":"Not Found"}`, fasthttp.StatusNotFound)
	}
}

func (b *baseline) share(ctx *fasthttp.RequestCtx) {
	var args *fasthttp.Args
	if b.form != nil {
		args = b.form(ctx)
		defer fasthttp.ReleaseArgs(args)
	} else {
		args = ctx.PostArgs()
	}
	secret := args.Peek("secret")
	if len(secret) == 0 {
		ctx.Error(`{"message":"You did not provide anything to share"}`, fasthttp.StatusNotFound)
		return
	}
	var key, receipt [32]byte
	randomKey(&key)
	randomKey(&receipt)
	b.mu.Lock()
	b.secrets[key] = append([]byte(nil), secret...)
	b.mu.Unlock()
	answerShare(ctx, &receipt, &key)
}

// answerShare writes the answer to a share: its receipt and link keys.
func answerShare(ctx *fasthttp.RequestCtx, receipt, key *[32]byte) {
	ctx.SetContentType("application/json")
	out := ctx.Response.BodyWriter()
	w := func(s string) { _, _ = out.Write([]byte(s)) }
	w(`{"custid":"anon","metadata_key":"`)
	_, _ = out.Write(receipt[:])
	w(`","secret_key":"`)
	_, _ = out.Write(key[:])
	w(`","ttl":3600}`)
}

func (b *baseline) reveal(ctx *fasthttp.RequestCtx, k []byte) {
	var key [32]byte
	copy(key[:], k)
	b.mu.Lock()
	secret, ok := b.secrets[key]
	delete(b.secrets, key)
	b.mu.Unlock()
	if !ok {
		ctx.Error(`{"message":"Unknown secret"}`, fasthttp.StatusNotFound)
		return
	}
	body := append(revealStart(len(secret)), secret...) // the load sends JSON-safe characters only
	answerReveal(ctx, body, key[:])
}

// revealStart is the start of the answer to a reveal, with room for a
// secret of n bytes and the rest.
func revealStart(n int) []byte {
	return append(make([]byte, 0, n+96), `{"value":"`...)
}

// answerReveal ends body, which holds the start and the secret, with the
// link key, and answers it.
func answerReveal(ctx *fasthttp.RequestCtx, body, key []byte) {
	body = append(body, `","secret_key":"`...)
	body = append(body, key...)
	body = append(body, `"}`...)
	ctx.SetContentType("application/json")
	ctx.SetBody(body)
}

func randomKey(k *[32]byte) {
	for i := 0; i < len(k); i += 12 {
		v := rand.Uint64()
		for j := i; j < min(i+12, len(k)); j++ {
			k[j] = keyAlphabet[v&31]
			v >>= 5
		}
	}
}
