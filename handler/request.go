package handler

// What a request brings: its body, who sent it (worked out once, at the
// door), and its parameters, read as Onetime Secret reads them (Rack's
// merged params: the query string, then the body, the last value of a name
// winning, so the body wins a clash).
//
// Parameters are never copied: each is a params.Value pointing into the
// query string or the body, decoded only by the handler that needs it,
// straight into locked memory for a secret or a passphrase. The query
// string and the body are wiped when the request ends (wipeRequest).

import (
	"bytes"
	"net/netip"

	"github.com/valyala/fasthttp"

	"otslite/handler/access"
	"otslite/handler/audit"
	"otslite/handler/params"
)

// caller is who sent a request, worked out once at the door: the client's
// address (the trusted-proxy walk), the identity its credential proves, and
// what the access policy lets that address do. Handlers take it from there;
// nothing works any of it out again.
type caller struct {
	addr      netip.Addr
	cred      access.Credential
	authed    bool   // it presented an accepted create token
	refused   *Error // it presented a credential that was not accepted, or may not try now
	canCreate bool   // --create-allow admits addr
	canOpen   bool   // --reveal-allow admits addr
}

// user is the credential's username for the audit trail; "" when none.
func (c *caller) user() string { return c.cred.User }

// custID is what receipts show as their creator.
func (c *caller) custID() string {
	if c.authed {
		return c.cred.User
	}
	return access.Anonymous
}

// done forgets what the credential derived from the token.
func (c *caller) done() { c.cred.Wipe() }

// door works out the caller of an API request. action names the request in
// the audit trail, where a refused credential is recorded. A credential that
// is sent is always checked, whatever the endpoint. Call done on the result.
func (h *Handler) door(ctx *fasthttp.RequestCtx, action string) caller {
	c := h.where(ctx)
	header := ctx.Request.Header.PeekBytes(hdrAuthorization)
	if len(header) == 0 {
		return c
	}
	if e := h.authBlocked(action, &c); e != nil {
		c.refused = e
		return c
	}
	if !h.cfg.Tokens.Check(header, &c.cred) {
		h.authFailed(action, &c)
		c.refused = errNotAuthorized
		return c
	}
	c.authed = true
	return c
}

// where works out the caller's address and what the policy lets it do,
// leaving credentials aside (the UI's own endpoints send none; a browser
// may still replay the operator's Basic login to them).
func (h *Handler) where(ctx *fasthttp.RequestCtx) caller {
	c := caller{addr: h.clientAddr(ctx)}
	c.canCreate = allowed(h.cfg.CreateAllow, c.addr)
	c.canOpen = allowed(h.cfg.RevealAllow, c.addr)
	return c
}

// credential refuses a caller whose credential was not accepted and, when
// required, one that sent none.
func (h *Handler) credential(c *caller, action string, required bool) *Error {
	if c.refused != nil {
		return c.refused
	}
	if required && !c.authed {
		h.record(action, "", c, audit.DeniedToken)
		return errNotAuthorized
	}
	return nil
}

// fields are the request parameters the API reads, each the last one sent.
type fields struct {
	secret, passphrase, ttl, recipient, length, shareDomain, charsets params.Value
	cont, identifiers                                                 params.Value
	has                                                               uint16
	// bad names a parameter sent in a shape it cannot have (ttl[x]=1,
	// secret[]=a): it is refused, never dropped.
	bad string
	// payload is set (v2) when the nested "secret" parameter is not an
	// object of fields.
	payload bool
	// body is the request body the values point into (a locked one lets
	// an envelope be used where it lies; see decodeSecret).
	body *bodyBuf
}

const (
	hasSecret = 1 << iota
	hasPassphrase
	hasTTL
	hasRecipient
	hasLength
	hasShareDomain
	hasCharsets
	hasContinue
	hasIdentifiers
)

// scope says where a request's fields are.
type scope uint8

const (
	flat   scope = iota // at the top level (v1, and v2 apart from creating)
	nested              // inside the "secret" parameter (v2 conceal and generate)
)

// set records one parameter.
func (f *fields) set(key []byte, v params.Value, sc scope) error {
	if sc == nested {
		switch {
		case string(key) == "secret":
			err := v.Members(func(k []byte, v params.Value) error { return f.set(k, v, flat) })
			if err == params.ErrInvalid {
				f.payload = true // not an object of fields
				return nil
			}
			return err
		case bytes.HasPrefix(key, []byte("secret[")) && bytes.HasSuffix(key, []byte("]")):
			return f.set(key[len("secret["):len(key)-1], v, flat)
		}
		return nil
	}
	var bit uint16
	var dst *params.Value
	switch string(key) {
	case "secret":
		bit, dst = hasSecret, &f.secret
	case "passphrase":
		bit, dst = hasPassphrase, &f.passphrase
	case "ttl":
		bit, dst = hasTTL, &f.ttl
	case "recipient", "recipient[]":
		bit, dst = hasRecipient, &f.recipient
	case "length":
		bit, dst = hasLength, &f.length
	case "share_domain":
		bit, dst = hasShareDomain, &f.shareDomain
	case "character_sets":
		bit, dst = hasCharsets, &f.charsets
	case "continue":
		bit, dst = hasContinue, &f.cont
	case "identifiers":
		bit, dst = hasIdentifiers, &f.identifiers
	default:
		// Rack reads "name[...]" as a structure; a known name in that
		// shape cannot be honoured. (character_sets[...] values are all
		// truthy to Onetime Secret, which is what the generator does.)
		if i := bytes.IndexByte(key, '['); i > 0 {
			switch base := string(key[:i]); base {
			case "secret", "passphrase", "ttl", "length", "share_domain", "continue":
				f.bad = base
			case "identifiers":
				if string(key[i:]) != "[]" {
					f.bad = base
				}
			}
		}
		return nil
	}
	f.has |= bit
	*dst = v
	return nil
}

// readFields reads the query string and then the body, in place.
func (h *Handler) readFields(ctx *fasthttp.RequestCtx, sc scope) (fields, error) {
	var f fields
	set := func(k []byte, v params.Value) error { return f.set(k, v, sc) }
	if q := ctx.URI().QueryString(); len(q) > 0 {
		if err := params.Each(q, params.Form, set); err != nil {
			return f, err
		}
	}
	body := h.requestBody(ctx)
	f.body, _ = ctx.UserValue(bodyKey{}).(*bodyBuf)
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && !bytes.EqualFold(ce, []byte("identity")) {
		return f, errEncoding
	}
	ct := ctx.Request.Header.ContentType()
	mt := ct
	if i := bytes.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = bytes.TrimSpace(mt)
	var err error
	switch {
	case len(bytes.TrimSpace(body)) == 0:
		// Nothing sent in the body, whatever its type says (some clients
		// send everything in the query with a JSON Content-Type).
	case len(mt) == 0, bytes.EqualFold(mt, []byte("application/x-www-form-urlencoded")):
		err = params.Each(body, params.Form, set)
	case bytes.EqualFold(mt, []byte("application/json")):
		err = params.Each(body, params.JSON, set)
	case bytes.EqualFold(mt, []byte("multipart/form-data")):
		boundary, ok := params.Boundary(ct)
		if !ok {
			return f, errMalformed
		}
		err = params.EachMultipart(body, boundary, set)
	default:
		return f, errContentType
	}
	if err == nil && f.bad != "" {
		err = &Error{Status: 400, Message: "Parameter " + f.bad + " must be a single value"}
	}
	return f, err
}
