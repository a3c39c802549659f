package handler

import (
	"bytes"
	"strconv"

	"github.com/valyala/fasthttp"

	"otslite/assets"
)

// Pages and static assets. Pages are fixed HTML shells: they never contain a
// secret, and GET or HEAD on them consumes nothing, so link previews, mail
// scanners and prefetchers cannot burn a secret. Only the page's explicit
// reveal POST to the API does.
//
// Each page exists in every language of the UI, rendered at startup; the
// request picks one (?locale=, then Accept-Language, then English: see
// assets.Negotiate).

// valAcceptEnLang is the Vary of pages: they differ by language too.
var valAcceptEnLang = []byte("Accept-Encoding, Accept-Language")

var (
	prefixStatic  = []byte("/static/")
	prefixSecret  = []byte("/secret/")
	prefixReceipt = []byte("/receipt/")
	prefixPrivate = []byte("/private/")
	prefixGroup   = []byte("/group/")
	prefixRequest = []byte("/request/")
	prefixInbox   = []byte("/inbox/")
)

func (h *Handler) servePage(ctx *fasthttp.RequestCtx, path []byte) {
	if !ctx.IsGet() && !ctx.IsHead() {
		pageError(ctx, "Method not allowed", fasthttp.StatusMethodNotAllowed)
		ctx.Response.Header.Set(fasthttp.HeaderAllow, "GET, HEAD")
		return
	}
	var f *assets.File
	page := ""
	switch {
	case bytes.HasPrefix(path, prefixStatic):
		f, _ = h.assets.Static(path)
	case string(path) == "/":
		page = "create"
	case string(path) == "/security":
		page = "security"
	case pageKey(path, prefixSecret):
		page = "secret"
	case pageKey(path, prefixReceipt), pageKey(path, prefixPrivate):
		page = "receipt"
	case pageKey(path, prefixGroup):
		page = "group"
	case string(path) == "/combine":
		page = "combine"
	case string(path) == "/ask":
		page = "ask"
	case pageKey(path, prefixRequest):
		page = "request"
	case pageKey(path, prefixInbox):
		page = "inbox"
	}
	if page != "" {
		f = h.assets.Page(page, pageLocale(ctx))
	}
	if f == nil {
		h.ErrorPage(ctx, fasthttp.StatusNotFound)
		return
	}
	h.serveFile(ctx, f)
}

// pageLocale is the language a page request asks for.
func pageLocale(ctx *fasthttp.RequestCtx) string {
	return assets.Negotiate(ctx.QueryArgs().Peek("locale"), ctx.Request.Header.Peek(fasthttp.HeaderAcceptLanguage))
}

// ErrorPage answers a request for a page with the styled page for status
// (404, 421, 429 or 503; see assets.ErrorPages) in the visitor's language,
// with the page headers and the security headers. Any other status gets
// plain text. The page is static and holds nothing of the request.
func (h *Handler) ErrorPage(ctx *fasthttp.RequestCtx, status int) {
	f := h.assets.Page("error-"+strconv.Itoa(status), pageLocale(ctx))
	if f == nil {
		pageError(ctx, fasthttp.StatusMessage(status), status)
		return
	}
	ctx.Response.Reset()
	securityHeaders(ctx)
	if h.cfg.HSTS {
		ctx.Response.Header.SetCanonical(hdrHSTS, valHSTS)
	}
	hdr := &ctx.Response.Header
	hdr.SetBytesKV(hdrCSP, valCSPPage)
	hdr.SetBytesKV(hdrVary, valAcceptEnLang)
	hdr.Set(fasthttp.HeaderContentLanguage, f.Language)
	hdr.SetContentType(f.ContentType)
	ctx.SetStatusCode(status)
	body, enc := f.Encode(ctx.Request.Header.Peek(fasthttp.HeaderAcceptEncoding))
	if enc != "" {
		hdr.Set(fasthttp.HeaderContentEncoding, enc)
	}
	ctx.Response.SetBodyRaw(body)
}

// pageError answers a page request with a plain-text error. ctx.Error
// resets the response headers, so the security headers are set again.
func pageError(ctx *fasthttp.RequestCtx, msg string, status int) {
	ctx.Error(msg, status)
	securityHeaders(ctx)
}

// pageKey reports whether path is prefix followed by one non-empty segment.
func pageKey(path, prefix []byte) bool {
	key, ok := bytes.CutPrefix(path, prefix)
	return ok && len(key) > 0 && bytes.IndexByte(key, '/') < 0
}

func (h *Handler) serveFile(ctx *fasthttp.RequestCtx, f *assets.File) {
	hdr := &ctx.Response.Header
	if !f.Immutable {
		hdr.SetBytesKV(hdrCSP, valCSPPage)
		hdr.SetBytesKV(hdrVary, valAcceptEnLang)
		hdr.Set(fasthttp.HeaderContentLanguage, f.Language)
	} else {
		hdr.SetBytesKV(hdrCacheControl, valForever)
		hdr.SetBytesKV(hdrVary, valAcceptEn)
	}
	hdr.SetBytesKV(hdrETag, []byte(f.ETag))
	hdr.SetContentType(f.ContentType)
	if match := ctx.Request.Header.Peek(fasthttp.HeaderIfNoneMatch); len(match) > 0 && bytes.Contains(match, []byte(f.ETag)) {
		ctx.SetStatusCode(fasthttp.StatusNotModified)
		return
	}
	body, enc := f.Encode(ctx.Request.Header.Peek(fasthttp.HeaderAcceptEncoding))
	if enc != "" {
		hdr.Set(fasthttp.HeaderContentEncoding, enc)
	}
	// Static, secret-free bytes: handed over without a copy.
	ctx.Response.SetBodyRaw(body)
}
