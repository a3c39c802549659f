package handler

// Credentials. v1 clients authenticate with HTTP Basic, "username:token",
// on any endpoint; the operator with the admin token, as a Bearer token or
// as the password of a Basic credential (so a browser can open the audit
// page). A credential that is sent is always checked: one the server does
// not accept is refused (404 + intended 401), never taken as anonymous.
//
// Failed credentials are counted per client address (IPv6 per /64). Past
// the limit, every request carrying a credential from that address is
// refused (intended 429) until the window turns over, the right one too,
// so guessing stops there. Requests without a credential are not affected.
//
// The Authorization header is wiped when the request is done (see Serve).

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/valyala/fasthttp"

	"otslite/handler/access"
	"otslite/handler/audit"
	"otslite/store"
)

// maxAuthFailures caps failed credentials per address per rate window
// (--rate-limit, when lower, caps them too; 0 turns this off with it).
const maxAuthFailures = 20

var (
	hdrAuthorization = []byte(fasthttp.HeaderAuthorization)
	bearerScheme     = []byte("bearer ")
)

// authBlocked refuses an address that has used up its failed credentials.
func (h *Handler) authBlocked(action string, c *caller) *Error {
	ok, wait, first := h.authFails.take(c.addr, kindAuth, h.now(), false)
	if ok {
		return nil
	}
	if wait < 0 {
		return errUnavailable
	}
	if first {
		h.record(action, "", c, audit.RateLimited)
	}
	return &Error{Status: 429, Message: "Too many failed credentials; try again later", RetryAfter: wait}
}

// authFailed counts and records a refused credential.
func (h *Handler) authFailed(action string, c *caller) {
	h.authFails.take(c.addr, kindAuth, h.now(), true)
	h.record(action, "", c, audit.DeniedToken)
}

// admin checks the admin token: "Authorization: Bearer <token>", or Basic
// with the token as password (any username). It is compared in constant
// time through its hash.
func (h *Handler) admin(ctx *fasthttp.RequestCtx, action string) (c caller, e *Error) {
	c = h.where(ctx)
	if e := h.authBlocked(action, &c); e != nil {
		return c, e
	}
	if h.cfg.AdminToken != "" && h.isAdmin(ctx.Request.Header.PeekBytes(hdrAuthorization)) {
		c.cred.User = "admin"
		return c, nil
	}
	h.authFailed(action, &c)
	return c, errNotAuthorized
}

func (h *Handler) isAdmin(header []byte) bool {
	var sum [sha256.Size]byte
	if len(header) > len(bearerScheme) && bytes.EqualFold(header[:len(bearerScheme)], bearerScheme) {
		sum = sha256.Sum256(bytes.TrimSpace(header[len(bearerScheme):]))
	} else {
		var buf [access.MaxCredential]byte
		_, token, ok := access.ParseBasic(header, buf[:])
		if !ok {
			return false
		}
		sum = sha256.Sum256(token)
		clear(buf[:])
	}
	eq := subtle.ConstantTimeCompare(sum[:], h.adminHash[:]) == 1
	clear(sum[:])
	return eq
}

// AuditExpiry returns the store's hook (store.Config.Expired) that puts
// secrets expiring unread in the audit trail.
func AuditExpiry(trail *audit.Trail) func(store.Ref, string) {
	return func(ref store.Ref, custID string) {
		if custID == access.Anonymous {
			custID = ""
		}
		trail.Record(audit.Event{Event: audit.Expire, Ref: trail.Ref(ref), User: custID, Outcome: audit.OK})
	}
}

// ReloadTokens reads the token file again (see access.Tokens.Reload) and
// forgets what credentials that are no longer in force had listed. It
// returns how many tokens the file holds.
func (h *Handler) ReloadTokens() (int, error) {
	if h.cfg.Tokens == nil {
		return 0, errors.New("no tokens are configured")
	}
	n, err := h.cfg.Tokens.Reload()
	outcome := audit.OK
	if err != nil {
		outcome = audit.Failed
	} else {
		h.recents.prune(h.cfg.Tokens.Holds)
	}
	h.record(audit.Reload, "", &caller{}, outcome)
	return n, err
}

// record adds an event about a request to the audit trail.
func (h *Handler) record(action, ref string, c *caller, outcome string) {
	if h.cfg.Audit == nil {
		return
	}
	h.cfg.Audit.Record(audit.Event{Time: h.now(), Event: action, Ref: ref, IP: c.addr, User: c.user(), Outcome: outcome})
}
