package handler

// What keeps a session alive (see "The session's promises" in DESIGN.md).
// The idle window (--idle) runs only while no secret waits; a waiting
// secret holds the session open by itself. Beyond that, a request restarts
// the window only when it succeeded at something a person sharing a secret
// does:
//
//   - creating a secret (share, generate), which the create policy allowed;
//   - opening, burning or reading the receipt of a secret that exists, and
//     the secret page asking whether one waits (a 200, so the link was
//     right: links cannot be guessed);
//   - the operator's requests that carry the admin token;
//   - the create page, for a caller who may create without a token (with
//     create tokens, the create itself counts).
//
// Nothing else counts: health probes, the UI's config, static files, the
// security page, and every refusal or failure (404 for an unknown link, a
// wrong passphrase, 401, 403, 421, 429, malformed requests). So a stranger
// hitting the server every few seconds does not keep it alive, and nobody
// without a link or the right to create can.

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// activityPrefixes are the API paths whose success counts as activity.
var activityPrefixes = [][]byte{
	[]byte("/api/v1/share"), []byte("/api/v1/create"), []byte("/api/v1/generate"),
	[]byte("/api/v1/secret/"), []byte("/api/v1/receipt/"), []byte("/api/v1/private/"), []byte("/api/v1/metadata/"),
	[]byte("/api/v2/secret/"), []byte("/api/v2/receipt/"), []byte("/api/v2/private/"), []byte("/api/v2/metadata/"),
	[]byte("/api/v2/guest/"),
	[]byte("/api/otslite/secret/"), []byte("/api/otslite/audit"), []byte("/api/otslite/end"),
}

// suffixStatus ends the v2 paths that only ask about a secret's state
// (GET /secret/:id/status, POST /secret/status): they answer 200 for
// unknown links too, so they do not count.
var suffixStatus = []byte("/status")

// isActivity reports whether a request that has been answered restarts
// the session's idle window.
func (h *Handler) isActivity(ctx *fasthttp.RequestCtx, path []byte) bool {
	// Every refusal and failure answers with a status other than 200
	// (writeError, writeNoRoute and v2's failCode set 404 or the error's
	// own), so the status alone tells them apart.
	if ctx.Response.StatusCode() != fasthttp.StatusOK {
		return false
	}
	if string(path) == "/" {
		return !h.cfg.Tokens.Required() && allowed(h.cfg.CreateAllow, h.clientAddr(ctx))
	}
	if bytes.HasSuffix(path, suffixStatus) {
		return false
	}
	for _, p := range activityPrefixes {
		if bytes.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
