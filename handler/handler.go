// Package handler serves otslite over fasthttp: the Onetime Secret v1 API
// under /api/v1 and v2 under /api/v2, the UI's own endpoints under
// /api/otslite, the HTML pages and their static assets.
//
// Rules for this package:
//   - A request body or query string may hold a secret or a passphrase.
//     It is parsed in place; secret values are decoded straight into the
//     store's locked memory; body and request line are wiped when the
//     handler returns, whatever happened.
//   - Secret values never become Go strings, never reach a log line, an error
//     or a panic value.
//   - No API response is compressed (BREACH): only static assets are, and
//     they hold no secret.
//   - Every failure goes through errorFor; every API response through body.
package handler

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/assets"
	"otslite/handler/access"
	"otslite/handler/audit"
	"otslite/store"
	"otslite/store/resp"
)

// Config is what the handler needs beyond the store.
type Config struct {
	PublicURL      string        // base of links, e.g. https://secrets.example.org
	DefaultTTL     time.Duration // ttl of a secret that asks for none
	MaxTTL         time.Duration // longest ttl; longer requests are clamped
	PassphraseMin  int           // characters
	PassphraseMax  int           // characters
	MaxFileSize    int           // files (with any text) one secret may carry, as the UI is told
	RateLimit      int           // requests per kind per address per window; 0: off
	RateWindow     time.Duration
	TrustedProxies []netip.Prefix
	Log            *log.Logger      // nil: discard
	Now            func() time.Time // nil: time.Now
	BusyHold       time.Duration    // a refusal as busy is answered no sooner after its request: 0, 1s; negative, at once (holdRefusal)

	// Session hooks, all optional.
	Activity   func()    // called for each request that keeps a session alive (activity.go)
	EndSession func()    // POST /api/otslite/end with AdminToken calls it
	AdminToken string    // bearer token of the operator endpoints; "": they are off
	Deadline   time.Time // the session's end: no ttl reaches past it
	PinHosts   []string  // the names requests may use (see host.go); empty: any
	HSTS       bool      // send Strict-Transport-Security (serving TLS)

	// Connection timeouts; zero values take the defaults.
	ReadTimeout time.Duration // one request, header block and body; default 15s
	IdleTimeout time.Duration // between requests on a kept-alive connection; default 60s

	// Access policy and audit (see auth.go, policy.go), all optional.
	Tokens      *access.Tokens // create tokens; nil: creating is anonymous
	CreateAllow []netip.Prefix // who may create; empty: any address
	RevealAllow []netip.Prefix // who may open secrets; empty: any address
	RevealHours *access.Hours  // when secrets may be opened; nil: always
	Audit       *audit.Trail   // where events go; nil: nowhere

	// Shared, when set, keeps the rate limits and recent lists in Redis
	// under SharedPrefix (default store.DefaultPrefix), for replicas that
	// share a store (see shared.go).
	Shared       *resp.Client
	SharedPrefix string
}

// minTTL is the shortest ttl; shorter requests are raised to it.
const minTTL = time.Minute

// Handler answers requests. Make one with New.
type Handler struct {
	cfg         Config
	store       *store.Store
	assets      *assets.Set
	limits      *limiter
	authFails   *limiter // failed credentials, per address
	recents     recentIndex
	errTooLarge *Error
	// errPassTooLong refuses a passphrase over PassphraseMax characters.
	errPassTooLong *Error
	receiptBase    []byte // PublicURL + "/receipt/"
	siteURL        []byte // PublicURL without a path: upstream's share_domain on reveal
	publicHost     string // PublicURL's host[:port], lower case
	// publicHostname is publicHost without the port.
	publicHostname string
	adminHash      [sha256.Size]byte
	pinHosts       [][]byte // PinHosts in every form a client may send
	misdirects     misdirectLog
	bodyLimits     bodyLimits
	stopping       atomic.Bool // see Stopping
}

// Stopping tells the handler the server is shutting down: connections end
// after their current request, so their read buffers are wiped with it.
// Call it before fasthttp's Shutdown.
func (h *Handler) Stopping() { h.stopping.Store(true) }

// New makes a handler for st, serving the UI in ui.
func New(st *store.Store, ui *assets.Set, cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BusyHold == 0 {
		cfg.BusyHold = time.Second
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = time.Hour
	}
	if cfg.MaxTTL <= 0 {
		cfg.MaxTTL = 7 * 24 * time.Hour
	}
	if cfg.PassphraseMax <= 0 {
		cfg.PassphraseMax = 128
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 15 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	h := &Handler{
		cfg:         cfg,
		store:       st,
		assets:      ui,
		limits:      newLimiter(cfg.RateLimit, cfg.RateWindow),
		authFails:   newLimiter(min(cfg.RateLimit, maxAuthFailures), cfg.RateWindow),
		errTooLarge: &Error{Status: 413, Message: fmt.Sprintf("Secret value exceeds the maximum size of %d bytes", st.MaxSecretSize())},
		receiptBase: []byte(cfg.PublicURL + "/receipt/"),
	}
	h.errPassTooLong = h.errPassphraseLen(cfg.PassphraseMax + 1)
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Host != "" {
		h.siteURL = []byte(u.Scheme + "://" + u.Host)
		h.publicHost, h.publicHostname = strings.ToLower(u.Host), strings.ToLower(u.Hostname())
	}
	if cfg.AdminToken != "" {
		h.adminHash = sha256.Sum256([]byte(cfg.AdminToken))
	}
	h.pinHosts = hostNames(cfg.PinHosts)
	h.bodyLimits = bodyLimits{heap: 6*st.MaxSecretSize() + 16<<10, slot: st.Plain}
	if st.MaxEnvelopeSize() > st.MaxSecretSize() {
		h.bodyLimits.locked = LockedBodySize(st.MaxEnvelopeSize())
	}
	if cfg.Shared != nil {
		h.useShared(cfg.Shared, cfg.SharedPrefix)
	}
	return h
}

func (h *Handler) now() time.Time { return h.cfg.Now() }

func (h *Handler) logf(format string, args ...any) {
	if h.cfg.Log != nil {
		h.cfg.Log.Printf(format, args...)
	}
}

// MaxBodySize is the largest request body read: room for a maximum-size
// secret in its longest encoding (JSON writes a control character as six
// bytes, \u00XX; form encoding takes three), plus the other fields; and
// for an envelope of files as JSON or multipart send it (its characters
// need no escape there), plus the other fields (see beyond.go).
func (h *Handler) MaxBodySize() int { return h.bodyLimits.most() }

// NewRedirectServer returns a plain-HTTP server that only redirects to the
// public URL. It never serves the API in the clear.
func (h *Handler) NewRedirectServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler: func(ctx *fasthttp.RequestCtx) {
			securityHeaders(ctx)
			target := append([]byte(h.cfg.PublicURL), ctx.Path()...)
			if q := ctx.URI().QueryString(); len(q) > 0 {
				target = append(append(target, '?'), q...)
			}
			ctx.Response.Header.SetBytesV(fasthttp.HeaderLocation, target)
			ctx.SetStatusCode(fasthttp.StatusPermanentRedirect)
		},
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		MaxRequestBodySize:           1 << 10,
		ReadTimeout:                  5 * time.Second,
		WriteTimeout:                 5 * time.Second,
		IdleTimeout:                  10 * time.Second,
		DisablePreParseMultipartForm: true,
		SecureErrorLogMessage:        true,
		Logger:                       quietLogger{h},
	}
}

func (h *Handler) readTimeout() time.Duration { return h.cfg.ReadTimeout }

// NewServer returns a fasthttp server configured for this handler. Serve it
// on h.Listener(ln), which caps connections and frames requests.
func (h *Handler) NewServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:               h.Serve,
		ErrorHandler:          h.serveError,
		Name:                  "",
		NoDefaultServerHeader: true,
		NoDefaultDate:         false,
		NoDefaultContentType:  true,
		// Bodies are read by Serve (see reqbody.go): fasthttp stops after
		// the header block and the body's first byte.
		StreamRequestBody:  true,
		MaxRequestBodySize: 1,
		ReadBufferSize:     readBufferSize,
		WriteBufferSize:    writeBufferSize,
		ReadTimeout:        h.cfg.ReadTimeout,
		WriteTimeout:       15 * time.Second,
		IdleTimeout:        h.cfg.IdleTimeout,
		// The listener caps connections below this, and answers those
		// over its cap itself, with the security headers.
		Concurrency: maxConns + 256,
		// Multipart bodies are walked in place (params.EachMultipart);
		// never let fasthttp parse them (it copies every part and may
		// spill large ones to temporary files).
		DisablePreParseMultipartForm: true,
		SecureErrorLogMessage:        true,
		CloseOnShutdown:              true,
		Logger:                       quietLogger{h},
	}
}

// quietLogger keeps fasthttp's own messages (which may quote request
// fragments) out of the log; SecureErrorLogMessage already trims them.
type quietLogger struct{ h *Handler }

func (q quietLogger) Printf(format string, args ...any) { q.h.logf("http: "+format, args...) }

// serveError answers requests fasthttp could not read. fasthttp has reset
// the request by now, so it is wiped to the full capacity of its buffers.
// A connection on which no request had begun (it timed out, or the client
// closed it, before sending one) closes without an answer; a request cut
// short by a timeout gets 408; one the framing refused gets its status.
// The connection closes afterwards.
func (h *Handler) serveError(ctx *fasthttp.RequestCtx, err error) {
	wipeRequest(ctx)
	c, _ := ctx.Conn().(*conn)
	var fe *framingError
	var ne net.Error
	switch {
	case c != nil && c.failed != nil && errors.As(c.failed, &fe), errors.As(err, &fe):
		writeProtocolError(ctx, fe.status, fe.msg)
	case c != nil && !c.begun(), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// No request, or no one left to answer.
		if c != nil {
			c.Close()
		}
	case errors.As(err, &ne) && ne.Timeout():
		writeProtocolError(ctx, fasthttp.StatusRequestTimeout, "Request timeout")
	case errors.As(err, new(*fasthttp.ErrSmallBuffer)):
		writeProtocolError(ctx, fasthttp.StatusRequestHeaderFieldsTooLarge, "Request header fields too large")
	default:
		writeProtocolError(ctx, fasthttp.StatusBadRequest, "Bad request")
	}
}

// writeProtocolError answers a request that could not be read as HTTP:
// the status is the real one (nothing was routed, so the v1 API's 404 does
// not apply), with the security headers.
func writeProtocolError(ctx *fasthttp.RequestCtx, status int, msg string) {
	ctx.Response.Reset()
	securityHeaders(ctx)
	apiHeaders(ctx)
	ctx.SetStatusCode(status)
	b := newBody()
	b.head = append(b.head, `{"message":`...)
	b.head = appendString(b.head, []byte(msg))
	b.head = append(b.head, '}')
	ctx.SetBodyStream(b, b.size())
	ctx.SetConnectionClose()
}

// Serve is the fasthttp request handler.
func (h *Handler) Serve(ctx *fasthttp.RequestCtx) { h.Guard(ctx, h.route) }

// Guard runs next as Serve runs its routes, with what otslite does around
// every request: the stack grown first, the body read into a buffer of its
// own (reqbody.go) and handed out by Body, the security headers, a panic
// answered without its value, and the request wiped at the end whatever
// happened (wipeRequest). The load command's hardened baseline serves
// through it too, so that it pays for exactly this.
func (h *Handler) Guard(ctx *fasthttp.RequestCtx, next fasthttp.RequestHandler) {
	// Grow this goroutine's stack now, while nothing secret is on it;
	// growing it later would copy the stack and leave the old one, keys
	// and all, to the allocator unwiped.
	store.GrowStack()
	defer func() {
		// Whatever happened, the request is wiped.
		wipeRequest(ctx)
		h.holdRefusal(ctx)
		if r := recover(); r != nil {
			// The panic value is not logged: it could quote request data.
			h.logf("handler panic (%T) on %s; stack:\n%s", r, ctx.Method(), debug.Stack())
			ctx.Response.Reset()
			securityHeaders(ctx)
			h.writeError(ctx, errInternal, nil)
		}
	}()
	if c, ok := ctx.Conn().(*conn); ok {
		c.served++
		if c.closeAfter() {
			ctx.SetConnectionClose() // RFC 9112, section 6.1
		}
	}
	if err := readBody(ctx, h.bodyLimits); err != nil {
		securityHeaders(ctx)
		h.bodyFailure(ctx, err)
		return
	}
	securityHeaders(ctx)
	next(ctx)
}

// route answers a request Guard has read.
func (h *Handler) route(ctx *fasthttp.RequestCtx) {
	path := ctx.Path()
	probe := string(path) == "/api/v1/status" && (ctx.IsGet() || ctx.IsHead())
	// Static files hold nothing and mint no link: under any Host they
	// let the 421 page be drawn.
	if !bytes.HasPrefix(path, prefixStatic) && h.misdirected(ctx, probe) {
		// Links are built from the public URL, never from Host; refusing
		// other names also keeps look-alike domains from fronting us.
		// (Error resets the headers, so they are set again after it.)
		ctx.Error("Misdirected Request", fasthttp.StatusMisdirectedRequest)
		securityHeaders(ctx)
		if h.cfg.HSTS {
			ctx.Response.Header.SetCanonical(hdrHSTS, valHSTS)
		}
		if !bytes.HasPrefix(path, prefixAPI) {
			h.ErrorPage(ctx, fasthttp.StatusMisdirectedRequest) // a person's browser: say it in their words
		}
		return
	}
	if h.cfg.HSTS {
		ctx.Response.Header.SetCanonical(hdrHSTS, valHSTS)
	}
	switch {
	case bytes.HasPrefix(path, prefixV1):
		h.serveV1(ctx, path[len(prefixV1):])
	case bytes.HasPrefix(path, prefixV2):
		h.serveV2(ctx, path[len(prefixV2):])
	case bytes.HasPrefix(path, prefixOwn):
		h.serveOwn(ctx, path[len(prefixOwn):])
	default:
		h.servePage(ctx, path)
	}
	if h.cfg.Activity != nil && h.isActivity(ctx, path) {
		h.cfg.Activity()
	}
}

var (
	prefixAPI = []byte("/api/")
	prefixV1  = []byte("/api/v1/")
	prefixV2  = []byte("/api/v2/")
	prefixOwn = []byte("/api/otslite/")
)

// route splits "name/rest" into name and rest.
func route(path []byte) (name, rest []byte) {
	if i := bytes.IndexByte(path, '/'); i >= 0 {
		return path[:i], path[i+1:]
	}
	return path, nil
}

// serveV1 routes the v1 API as upstream's routes.txt does. Upstream's
// router ignores a trailing slash; what no route takes gets its 404
// {"error":"Not Found"}. POST /receipt/recent is a receipt read of the key
// "recent", too short to be one: its 404 "Not Found".
func (h *Handler) serveV1(ctx *fasthttp.RequestCtx, path []byte) {
	path = bytes.TrimSuffix(path, []byte("/"))
	name, rest := route(path)
	post, get := ctx.IsPost(), ctx.IsGet() || ctx.IsHead()
	one := rest != nil && bytes.IndexByte(rest, '/') < 0 // exactly one more segment
	known := false                                       // the path has a route, for another method
	switch string(name) {
	case "status", "authcheck", "share", "create", "generate":
		if rest != nil {
			break
		}
		known = true
		switch {
		case get && string(name) == "status":
			h.status(ctx)
			return
		case get && string(name) == "authcheck":
			h.authcheck(ctx)
			return
		case post && string(name) == "generate":
			h.generate(ctx)
			return
		case post && (string(name) == "share" || string(name) == "create"):
			h.share(ctx)
			return
		}
	case "secret":
		if one && len(rest) > 0 {
			known = true
			if post {
				h.reveal(ctx, rest)
				return
			}
		}
	case "receipt", "private", "metadata":
		key, action := route(rest)
		switch {
		case len(key) == 0:
		case action == nil:
			known = true
			if get && string(key) == "recent" {
				h.recent(ctx)
				return
			}
			if get || post {
				h.receipt(ctx, key)
				return
			}
		case string(action) == "burn":
			known = true
			if post {
				h.burn(ctx, key)
				return
			}
		}
	}
	if known {
		h.writeNoRoute(ctx, fasthttp.StatusMethodNotAllowed)
		return
	}
	h.writeNoRoute(ctx, fasthttp.StatusNotFound)
}

func (h *Handler) serveOwn(ctx *fasthttp.RequestCtx, path []byte) {
	name, rest := route(path)
	get := ctx.IsGet() || ctx.IsHead()
	switch string(name) {
	case "config":
		h.only(ctx, get && rest == nil, h.config)
	case "end":
		h.only(ctx, ctx.IsPost() && rest == nil, h.end)
	case "audit":
		h.only(ctx, get && rest == nil, h.auditJSON)
	case "audit.html":
		h.only(ctx, get && rest == nil, h.auditPage)
	case "operator.css":
		h.only(ctx, get && rest == nil, func(ctx *fasthttp.RequestCtx) { h.operatorFile(ctx, "text/css; charset=utf-8", operatorCSS) })
	case "operator.js":
		h.only(ctx, get && rest == nil, func(ctx *fasthttp.RequestCtx) { h.operatorFile(ctx, "text/javascript; charset=utf-8", operatorJS) })
	case "secret":
		h.only(ctx, get && len(rest) > 0, func(ctx *fasthttp.RequestCtx) { h.peek(ctx, rest) })
	case "receipt":
		h.only(ctx, get && len(rest) > 0, func(ctx *fasthttp.RequestCtx) { h.lockout(ctx, rest) })
	case "group":
		h.serveGroup(ctx, rest)
	case "request":
		h.serveRequest(ctx, rest)
	case "inbox":
		h.serveInbox(ctx, rest)
	default:
		h.writeError(ctx, errNoRoute, nil)
	}
}

// only runs fn when ok (the method fits), else answers 405.
func (h *Handler) only(ctx *fasthttp.RequestCtx, ok bool, fn fasthttp.RequestHandler) {
	if !ok {
		h.writeError(ctx, errMethod, nil)
		return
	}
	fn(ctx)
}

// Header names and values, made once. Names set with SetCanonical
// (canonicalHeaders) must be in the form fasthttp keeps names in: first
// letter of each word upper case, the rest lower case.
var (
	hdrIntendedStatus = []byte("X-OTS-Intended-Status")
	hdrRetryAfter     = []byte("Retry-After")
	hdrCSP            = []byte("Content-Security-Policy")
	hdrReferrer       = []byte("Referrer-Policy")
	hdrNoSniff        = []byte("X-Content-Type-Options")
	hdrFrame          = []byte("X-Frame-Options")
	hdrRobots         = []byte("X-Robots-Tag")
	hdrCacheControl   = []byte("Cache-Control")
	hdrVary           = []byte("Vary")
	hdrETag           = []byte("ETag")
	hdrHSTS           = []byte("Strict-Transport-Security")

	valCSPAPI   = []byte("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	valCSPPage  = []byte("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	valNoRef    = []byte("no-referrer")
	valNoSniff  = []byte("nosniff")
	valDeny     = []byte("DENY")
	valNoIndex  = []byte("noindex, nofollow")
	valNoStore  = []byte("no-store")
	valForever  = []byte("public, max-age=31536000, immutable")
	valAcceptEn = []byte("Accept-Encoding")
	valJSON     = []byte("application/json; charset=utf-8")
	valHSTS     = []byte("max-age=31536000")
)

// canonicalHeaders are the names set with SetCanonical.
var canonicalHeaders = [][]byte{hdrCSP, hdrReferrer, hdrNoSniff, hdrFrame, hdrRobots, hdrCacheControl, hdrHSTS}

// securityHeaders go on every response: Serve and serveError set them
// first, and whoever resets a response sets them again. Their names are
// canonical already, which spares fasthttp normalizing them on every
// request.
func securityHeaders(ctx *fasthttp.RequestCtx) {
	h := &ctx.Response.Header
	h.SetCanonical(hdrCSP, valCSPAPI)
	h.SetCanonical(hdrReferrer, valNoRef)
	h.SetCanonical(hdrNoSniff, valNoSniff)
	h.SetCanonical(hdrFrame, valDeny)
	h.SetCanonical(hdrRobots, valNoIndex)
	h.SetCanonical(hdrCacheControl, valNoStore)
}

// wipeRequest zeroes what a request may have left behind: everything
// fasthttp keeps of it (see scrub.go: the body, credentials, the raw
// header block, the request line and URI), the body Guard read, and the
// stack below the caller. Guard and serveError call it last.
func wipeRequest(ctx *fasthttp.RequestCtx) {
	if b, ok := ctx.UserValue(bodyKey{}).(*bodyBuf); ok {
		b.wipe()
	}
	scrubRequest(&ctx.Request)
	store.ScrubStack()
}

// apiHeaders complete the security headers for an API response.
func apiHeaders(ctx *fasthttp.RequestCtx) {
	ctx.Response.Header.SetContentTypeBytes(valJSON)
}
