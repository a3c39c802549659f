package handler

// The operator's endpoints, under /api/otslite/, all behind the admin token
// (see admin in auth.go). Failures read as the v1 API's do (404 + intended
// 401), except on the page, which answers a real 401 so that a browser asks
// for the token (as the password; the username is ignored).
//
//	POST /api/otslite/end          end the session now (Bearer only, see end)
//	GET  /api/otslite/audit        the audit events kept in memory, oldest first (JSON)
//	GET  /api/otslite/audit.html   the same, newest first, as a page with an "end session" control
//	GET  /api/otslite/operator.css the page's own styles (beside the UI's)
//	GET  /api/otslite/operator.js  the page's "end session" control

import (
	"bytes"
	_ "embed"
	"html"
	"strconv"
	"strings"

	"github.com/valyala/fasthttp"

	"otslite/handler/audit"
)

var (
	errEndNeedsBearer = &Error{Status: 401, Message: "Ending the session needs the admin token as a Bearer token (Authorization: Bearer <token>); a browser's saved login is not enough"}
	errEndCrossSite   = &Error{Status: 403, Message: "Requests from another site may not end the session"}
)

// end lets the operator end the session. The answer goes out before the
// server stops (shutdown lets in-flight requests finish).
//
// Ending wipes every waiting secret, so a browser must not be made to do
// it by another site (CSRF). Once the operator has opened the audit page,
// the browser attaches that Basic login to every request under
// /api/otslite/, a form posted from any page included. So ending needs a
// credential no browser attaches by itself, the token as a Bearer token,
// and a browser request must come from this server's own pages
// (Sec-Fetch-Site same-origin or none; Origin, when sent, naming the
// Host). Clients other than browsers send neither header.
func (h *Handler) end(ctx *fasthttp.RequestCtx) {
	if !sameOrigin(ctx, h.cfg.PublicURL) {
		c := caller{addr: h.clientAddr(ctx)}
		h.record(audit.End, "", &c, audit.DeniedOrigin)
		h.writeError(ctx, errEndCrossSite, nil)
		return
	}
	c, e := h.admin(ctx, audit.End)
	if e == nil && !bearer(ctx.Request.Header.PeekBytes(hdrAuthorization)) {
		h.record(audit.End, "", &c, audit.DeniedToken)
		e = errEndNeedsBearer
	}
	if e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.logf("session ended by the operator from %s", c.addr)
	h.record(audit.End, "", &c, audit.OK)
	h.writeJSON(ctx, append(newBody().head, `{"status":"ending"}`...))
	if h.cfg.EndSession != nil {
		h.cfg.EndSession()
	}
}

// bearer reports whether an Authorization value uses the Bearer scheme.
func bearer(header []byte) bool {
	return len(header) > len(bearerScheme) && bytes.EqualFold(header[:len(bearerScheme)], bearerScheme)
}

var (
	hdrSecFetchSite = []byte("Sec-Fetch-Site")
	hdrOrigin       = []byte("Origin")
)

// sameOrigin reports whether a request may change state as far as the
// browser's own headers say: Sec-Fetch-Site, when sent, is same-origin or
// none (typed by the user), and Origin, when sent, names the host the
// request was sent to (Host is pinned to this server's names) or the public
// URL. Any scheme is taken for the Host, since a TLS-terminating proxy may
// stand between. Requests without either header are not from a browser
// acting for a page, or from one too old to send them; they still need
// the Bearer token.
func sameOrigin(ctx *fasthttp.RequestCtx, publicURL string) bool {
	site := ctx.Request.Header.PeekBytes(hdrSecFetchSite)
	if len(site) > 0 && !bytes.EqualFold(site, []byte("same-origin")) && !bytes.EqualFold(site, []byte("none")) {
		return false
	}
	origin := ctx.Request.Header.PeekBytes(hdrOrigin)
	if len(origin) == 0 {
		return true
	}
	if bytes.EqualFold(origin, []byte(publicURLOrigin(publicURL))) {
		return true
	}
	_, host, ok := bytes.Cut(origin, []byte("://"))
	return ok && len(host) > 0 && bytes.EqualFold(host, ctx.Host())
}

// publicURLOrigin is the scheme and host of a public URL, without its path.
func publicURLOrigin(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

func (h *Handler) auditJSON(ctx *fasthttp.RequestCtx) {
	if _, e := h.admin(ctx, audit.View); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	events := h.cfg.Audit.Events()
	b := newBody()
	b.head = append(b.head, '[')
	for i := range events {
		if i > 0 {
			b.head = append(b.head, ',')
		}
		b.head = events[i].AppendJSON(b.head)
	}
	b.head = append(b.head, ']')
	h.writeBody(ctx, b)
}

var valOperatorRealm = []byte(`Basic realm="otslite operator", charset="UTF-8"`)

//go:embed operator.css
var operatorCSS []byte

//go:embed operator.js
var operatorJS []byte

// operatorFile serves the audit page's own CSS or JavaScript: fixed,
// secret-free bytes.
func (h *Handler) operatorFile(ctx *fasthttp.RequestCtx, contentType string, body []byte) {
	ctx.SetContentType(contentType)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.Response.SetBodyRaw(body)
}

func (h *Handler) auditPage(ctx *fasthttp.RequestCtx) {
	if _, e := h.admin(ctx, audit.View); e != nil {
		status := fasthttp.StatusUnauthorized
		if e.Status == 429 {
			status = fasthttp.StatusTooManyRequests
		} else {
			ctx.Response.Header.SetBytesV(fasthttp.HeaderWWWAuthenticate, valOperatorRealm)
		}
		ctx.SetStatusCode(status)
		ctx.SetContentType("text/plain; charset=utf-8")
		ctx.SetBodyString(e.Message + "\n")
		return
	}
	events := h.cfg.Audit.Events()
	waiting := h.store.Stats().Secrets
	p := make([]byte, 0, 4096+200*len(events))
	p = append(p, `<!doctype html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="light dark">
<title>Audit trail · otslite</title>
`...)
	if icon := h.assets.StaticPath("icon.svg"); icon != "" {
		p = append(p, `<link rel="icon" href="`...)
		p = append(p, html.EscapeString(icon)...)
		p = append(p, `" type="image/svg+xml">
`...)
	}
	if css := h.assets.StaticPath("app.css"); css != "" {
		p = append(p, `<link rel="stylesheet" href="`...)
		p = append(p, html.EscapeString(css)...)
		p = append(p, `">
`...)
	}
	p = append(p, `<link rel="stylesheet" href="/api/otslite/operator.css">
<script src="/api/otslite/operator.js" defer></script>
</head>
<body data-page="audit">
<a class="skip" href="#main">Skip to content</a>
<header class="site">
  <a class="brand" href="/">`...)
	if icon := h.assets.StaticPath("icon.svg"); icon != "" {
		p = append(p, `<img src="`...)
		p = append(p, html.EscapeString(icon)...)
		p = append(p, `" alt="" width="28" height="28">`...)
	}
	p = append(p, `<span>otslite</span></a>
  <p class="tools role">Operator</p>
</header>
<main id="main" tabindex="-1">
<h1>Audit trail</h1>
<p class="intro">`...)
	p = strconv.AppendInt(p, int64(waiting), 10)
	if waiting == 1 {
		p = append(p, ` secret waits`...)
	} else {
		p = append(p, ` secrets wait`...)
	}
	p = append(p, ` to be read. A ref is a keyed fingerprint of one secret; no secret, passphrase, token or link is shown here, or kept.</p>
<section class="card end" aria-labelledby="end-title">
<h2 id="end-title">End the session</h2>
<p>Ending the session wipes every secret still waiting and stops otslite; links not yet opened then lead nowhere.</p>
<noscript><p class="notice warn">Ending the session from this page needs JavaScript. Without it: <code>curl -X POST -H "Authorization: Bearer &lt;admin token&gt;" `...)
	p = append(p, html.EscapeString(h.cfg.PublicURL)...)
	p = append(p, `/api/otslite/end</code></p></noscript>
<form id="end-form" hidden>
<div class="field">
<label for="end-token">Admin token</label>
<input type="password" id="end-token" name="token" autocomplete="off" autocapitalize="off" spellcheck="false" required aria-describedby="end-hint">
<p class="hint" id="end-hint">The token printed when otslite started. The login this browser saved for this page is not enough: another site could use it.</p>
</div>
<div class="actions"><button type="submit" class="danger" id="end-button">End the session now</button></div>
<p id="end-status" class="end-status" role="status" aria-live="polite"></p>
</form>
</section>
<section class="card" aria-labelledby="events-title">
<h2 id="events-title">Events</h2>
<p class="hint">The last `...)
	p = strconv.AppendInt(p, int64(len(events)), 10)
	p = append(p, ` events, newest first; times in UTC.</p>
<div class="table-wrap" tabindex="0" role="region" aria-labelledby="events-title">
<table class="audit">
<thead><tr><th scope="col">time (UTC)</th><th scope="col">event</th><th scope="col">outcome</th><th scope="col">ref</th><th scope="col">client</th><th scope="col">user</th></tr></thead>
<tbody>
`...)
	for i := len(events) - 1; i >= 0; i-- {
		e := &events[i]
		p = append(p, "<tr><td>"...)
		p = e.Time.UTC().AppendFormat(p, "2006-01-02 15:04:05")
		for _, cell := range []string{e.Event, e.Outcome, e.Ref, addrString(e), e.User} {
			p = append(p, "</td><td>"...)
			p = append(p, html.EscapeString(cell)...)
		}
		p = append(p, "</td></tr>\n"...)
	}
	p = append(p, `</tbody></table>
</div>
</section>
</main>
</body>
</html>
`...)
	ctx.Response.Header.SetBytesKV(hdrCSP, valCSPPage)
	ctx.SetContentType("text/html; charset=utf-8")
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBody(p)
}

func addrString(e *audit.Event) string {
	if !e.IP.IsValid() {
		return ""
	}
	return e.IP.String()
}
