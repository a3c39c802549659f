package handler

// Access policy: who may create secrets (a create token when tokens are
// configured; an address in --create-allow when it is set), and who may
// open them (an address in --reveal-allow, within --reveal-hours). The
// client address is the one clientAddr finds, so X-Forwarded-For counts
// only from trusted proxies. A refusal is intended 403 with a message that
// says why, and an audit event.

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/handler/audit"
)

var (
	errCreateDenied = &Error{Status: 403, Message: "Creating secrets is not allowed from your address"}
	errRevealDenied = &Error{Status: 403, Message: "Opening secrets is not allowed from your address"}
)

// creating applies to a request that creates a secret the rate limit, the
// caller's credential (required when tokens are configured) and the create
// policy. On refusal it answers and returns false.
func (h *Handler) creating(ctx *fasthttp.RequestCtx, c *caller, action string) bool {
	e := h.mayCreate(c, action)
	if e != nil {
		h.writeError(ctx, e, nil)
		return false
	}
	return true
}

// mayCreate is creating's verdict, for any API version to answer.
func (h *Handler) mayCreate(c *caller, action string) *Error {
	if e := h.credential(c, action, false); e != nil {
		return e
	}
	if e := h.limit(c, kindCreate, action); e != nil {
		return e
	}
	if e := h.credential(c, action, h.cfg.Tokens.Required()); e != nil {
		return e
	}
	if !c.canCreate {
		h.record(action, "", c, audit.DeniedNetwork)
		return errCreateDenied
	}
	return nil
}

// mayOpen applies the reveal policy to a request that opens (or asks
// about) the secret behind key; a refusal is recorded under its Ref.
func (h *Handler) mayOpen(action string, key []byte, c *caller) *Error {
	if !c.canOpen {
		h.record(action, h.secretRef(key), c, audit.DeniedNetwork)
		return errRevealDenied
	}
	if hours := h.cfg.RevealHours; hours != nil {
		now := h.now()
		if !hours.Open(now) {
			h.record(action, h.secretRef(key), c, audit.DeniedHours)
			return h.errClosed(now)
		}
	}
	return nil
}

// errClosed says when secrets can be opened and when that is next.
func (h *Handler) errClosed(now time.Time) *Error {
	hours := h.cfg.RevealHours
	msg := "Secrets can be opened " + hours.String()
	next, ok := hours.Next(now)
	if !ok {
		return &Error{Status: 403, Message: msg}
	}
	msg += "; next at " + next.In(hours.Location()).Format("Mon 2006-01-02 15:04 MST")
	if in := next.Sub(now).Round(time.Minute); in >= time.Minute {
		msg += " (in " + formatWait(in) + ")"
	}
	return &Error{Status: 403, Message: msg, RetryAfter: next.Sub(now)}
}

// formatWait writes d (whole minutes) as 2d 3h 4m, leaving out zero units.
func formatWait(d time.Duration) string {
	m := int64(d / time.Minute)
	var b []byte
	for _, u := range []struct {
		n    int64
		name byte
	}{{24 * 60, 'd'}, {60, 'h'}, {1, 'm'}} {
		if m >= u.n {
			if len(b) > 0 {
				b = append(b, ' ')
			}
			b = strconv.AppendInt(b, m/u.n, 10)
			b = append(b, u.name)
			m %= u.n
		}
	}
	return string(b)
}

// allowed reports whether a is in one of prefixes; an empty list allows
// every address.
func allowed(prefixes []netip.Prefix, a netip.Addr) bool {
	return len(prefixes) == 0 || within(prefixes, a)
}

// within reports whether a is in one of prefixes.
func within(prefixes []netip.Prefix, a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
