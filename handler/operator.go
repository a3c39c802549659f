package handler

// The operator's endpoints, under /api/otslite/, all behind the admin token
// (see admin in auth.go). Failures read as the v1 API's do (404 + intended
// 401), except on the page, which answers a real 401 so that a browser asks
// for the token (as the password; the username is ignored).
//
//	POST /api/otslite/end         end the session now
//	GET  /api/otslite/audit       the audit events kept in memory, oldest first (JSON)
//	GET  /api/otslite/audit.html  the same, newest first, as a page

import (
	"html"
	"strconv"

	"github.com/valyala/fasthttp"

	"otslite/handler/audit"
)

// end lets the operator end the session. The answer goes out before the
// server stops (shutdown lets in-flight requests finish).
func (h *Handler) end(ctx *fasthttp.RequestCtx) {
	c, e := h.admin(ctx, audit.End)
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
	p := make([]byte, 0, 512+160*len(events))
	p = append(p, `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>otslite audit trail</title></head>
<body><h1>Audit trail</h1>
<p>The last `...)
	p = strconv.AppendInt(p, int64(len(events)), 10)
	p = append(p, ` events, newest first. A ref is a keyed fingerprint of a secret: no secret, passphrase, token or link is shown here, or kept.</p>
<table><thead><tr><th>time (UTC)</th><th>event</th><th>outcome</th><th>ref</th><th>client</th><th>user</th></tr></thead>
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
	p = append(p, "</tbody></table></body></html>\n"...)
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
