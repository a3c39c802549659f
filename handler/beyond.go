package handler

// otslite's own endpoints for what goes beyond one text for one person:
// envelopes of files (larger than plain secrets, read into locked
// memory), groups of links to one secret (several recipients, or the
// shares of a split), requests for a secret, and the attempts on links
// that are gone. README "Files, groups, splits and requests" lists the
// endpoints and their shapes. The server stays zero-knowledge: it stores
// envelopes and keyed hashes of proofs, as for any secret.
//
//	POST /api/otslite/group                    {"receipts": [receipt key, ...]}
//	GET  /api/otslite/group/:key
//	POST /api/otslite/group/:key/burn/:link     link from 1
//	POST /api/otslite/request                  {"ttl"}
//	GET  /api/otslite/request/:request_key      the answerer's view
//	POST /api/otslite/request/:request_key/answer  {"secret", "passphrase", "public"}
//	GET  /api/otslite/inbox/:requester_key      the requester's view
//	POST /api/otslite/inbox/:requester_key/reveal  {"passphrase"}

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/handler/audit"
	"otslite/handler/params"
	"otslite/store"
	"otslite/store/envelope"
)

// envelopeTag begins every otsz1 envelope.
const envelopeTag = envelope.Tag

// bodyExtra is the room a body gives the fields beside an envelope.
const bodyExtra = 16 << 10

// LockedBodySize is the longest request body that carries an envelope of
// n bytes: the envelope as JSON or multipart carry it (none of its
// characters needs an escape there), and room for the other fields. A
// form-encoded envelope of files grows past it: send those as JSON.
func LockedBodySize(n int) int { return n + bodyExtra }

// FileSlotSize is the locked slot a request body that carries an envelope
// of n bytes needs (the reader asks for one byte more than a body may
// hold, to see its end): what the store's file slots must hold.
func FileSlotSize(n int) int { return LockedBodySize(n) + 1 }

// Errors of these endpoints.
var (
	errReceipts       = &Error{Status: 400, Message: "Send receipts: a list of 2 to 20 receipt keys"}
	errGroup          = &Error{Status: 400, Message: "A group gathers 2 to 20 different secrets that wait, none with a human passphrase"}
	errUnknownReceipt = &Error{Status: 404, Message: "Unknown receipt: each must be the receipt of a secret that waits"}
	errUnknownGroup   = &Error{Status: 404, Message: "Unknown group"}
	errUnknownLink    = &Error{Status: 404, Message: "This link is not waiting: it was read, burned or expired"}
	errUnknownRequest = &Error{Status: 404, Message: "Unknown request: it was never made, or its time is up"}
	errAnswered       = &Error{Status: 409, Message: "This request has been answered already"}
	errAnswer         = &Error{Status: 400, Message: "An answer is an otsz1 envelope (secret), its proof without a passphrase (passphrase) and the answerer's public key (public, 65 bytes in base64url)"}
)

// decodeSecret puts a secret value in locked memory: where it lies, when
// the body is in locked memory and the value needs no decoding (an
// envelope sent as JSON), else decoded into a slot of its own. A secret
// with a proof may be an envelope up to the store's MaxEnvelopeSize;
// anything longer than MaxSecretSize must be one.
func (h *Handler) decodeSecret(body *bodyBuf, v params.Value, proof bool) (*store.Plain, error) {
	limit := h.store.MaxSecretSize()
	if proof {
		limit = h.store.MaxEnvelopeSize()
	}
	var p *store.Plain
	// Only a value longer than any plain secret can be an envelope taken
	// where it lies; Verbatim's scan is not paid for the others.
	if v.MaxLen() > h.store.MaxSecretSize() {
		if raw, ok := v.Verbatim(); ok {
			if len(raw) > limit {
				return nil, h.errTooLarge
			}
			p = body.plainWindow(raw)
		}
	}
	if p == nil {
		var err error
		if p, err = h.decode(v, limit, h.errTooLarge); err != nil {
			return nil, err
		}
	}
	if len(p.Bytes()) > h.store.MaxSecretSize() && !bytes.HasPrefix(p.Bytes(), []byte(envelopeTag)) {
		p.Release()
		return nil, h.errTooLarge
	}
	return p, nil
}

// walkBody calls fn for each top-level field of the body (JSON, a form or
// multipart), as readFields reads them.
func (h *Handler) walkBody(ctx *fasthttp.RequestCtx, fn func(key []byte, v params.Value) error) error {
	body := h.requestBody(ctx)
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && !bytes.EqualFold(ce, []byte("identity")) {
		return errEncoding
	}
	ct := ctx.Request.Header.ContentType()
	mt := ct
	if i := bytes.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	switch mt = bytes.TrimSpace(mt); {
	case len(mt) == 0, bytes.EqualFold(mt, []byte("application/x-www-form-urlencoded")):
		return params.Each(body, params.Form, fn)
	case bytes.EqualFold(mt, []byte("application/json")):
		return params.Each(body, params.JSON, fn)
	case bytes.EqualFold(mt, []byte("multipart/form-data")):
		boundary, ok := params.Boundary(ct)
		if !ok {
			return errMalformed
		}
		return params.EachMultipart(body, boundary, fn)
	}
	return errContentType
}

// bodyOf is the request's body buffer, when Serve read one.
func bodyOf(ctx *fasthttp.RequestCtx) *bodyBuf {
	b, _ := ctx.UserValue(bodyKey{}).(*bodyBuf)
	return b
}

// appendLate writes a receipt's late attempts: "late_total" and
// "late_attempts", [{"at", "net", "kind"}], oldest first.
func appendLate(w *jw, r *store.Receipt) {
	w.int("late_total", int64(r.LateTotal))
	w.key("late_attempts")
	w.b = append(w.b, '[')
	for i, a := range r.Late {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = append(w.b, `{"at":`...)
		w.b = strconv.AppendInt(w.b, a.At.Unix(), 10)
		w.b = append(w.b, `,"net":"`...)
		if a.Net.IsValid() {
			w.b = a.Net.AppendTo(w.b)
		}
		w.b = append(w.b, `","kind":"`...)
		w.b = append(w.b, a.Kind.String()...)
		w.b = append(w.b, `"}`...)
	}
	w.b = append(w.b, ']')
}

// recordLate puts an attempt on a gone link in the audit trail.
func (h *Handler) recordLate(ref string, c *caller, kind store.LateKind) {
	h.record(audit.LateOpen, ref, c, kind.String())
}

// ---- groups ----

func (h *Handler) serveGroup(ctx *fasthttp.RequestCtx, rest []byte) {
	key, action := route(rest)
	post, get := ctx.IsPost(), ctx.IsGet() || ctx.IsHead()
	switch {
	case rest == nil:
		h.only(ctx, post, h.createGroup)
	case len(key) > 0 && action == nil:
		h.only(ctx, get, func(ctx *fasthttp.RequestCtx) { h.groupReceipt(ctx, key) })
	case len(key) > 0 && bytes.HasPrefix(action, []byte("burn/")):
		h.only(ctx, post, func(ctx *fasthttp.RequestCtx) { h.burnLink(ctx, key, action[len("burn/"):]) })
	default:
		h.writeError(ctx, errNoRoute, nil)
	}
}

func (h *Handler) createGroup(ctx *fasthttp.RequestCtx) {
	c := h.door(ctx, audit.Group)
	defer c.done()
	if !h.creating(ctx, &c, audit.Group) {
		return
	}
	var keys [store.MaxGroup][]byte
	n := 0
	add := func(v params.Value) error {
		raw, ok := v.Verbatim()
		if !ok || !store.ValidKey(raw) || n == len(keys) {
			return errReceipts
		}
		keys[n] = raw
		n++
		return nil
	}
	err := h.walkBody(ctx, func(k []byte, v params.Value) error {
		switch string(k) {
		case "receipts":
			if v.Kind() == params.Other {
				return v.Elements(add)
			}
			return add(v)
		case "receipts[]":
			return add(v)
		}
		return nil
	})
	if errors.Is(err, params.ErrInvalid) {
		err = errReceipts
	}
	var g store.GroupReceipt
	if err == nil {
		g, err = h.store.CreateGroup(keys[:n])
	}
	switch {
	case errors.Is(err, store.ErrGroup):
		err = errGroup
	case errors.Is(err, store.ErrNotFound):
		err = errUnknownReceipt
	}
	if err != nil {
		h.record(audit.Group, "", &c, audit.Failed)
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	if h.cfg.Audit != nil {
		h.record(audit.Group, h.cfg.Audit.Ref(g.Ref), &c, audit.OK)
	}
	b := newBody()
	w := jw{b: b.head}
	w.open("")
	w.str("receipt_key", g.Key[:])
	w.key("metadata_url")
	w.b = append(w.b, '"')
	w.b = append(w.b, h.cfg.PublicURL...)
	w.b = append(w.b, "/group/"...)
	w.b = append(w.b, g.Key[:]...)
	w.b = append(w.b, '"')
	g.Key.Wipe()
	h.appendGroup(&w, &g)
	w.close()
	b.head = w.b
	h.writeBody(ctx, b)
}

// appendGroup writes a group's times and links.
func (h *Handler) appendGroup(w *jw, g *store.GroupReceipt) {
	w.int("created", g.Created.Unix())
	w.int("expires", g.Expires.Unix())
	w.openArray("links")
	for i := range g.Links {
		r := &g.Links[i]
		w.open("")
		w.int("link", int64(i+1))
		w.strs("state", r.State.String())
		w.b = append(w.b, `,"created":`...)
		w.b = appendUnix(w.b, r.Created)
		w.b = append(w.b, `,"updated":`...)
		w.b = appendUnix(w.b, r.Updated)
		w.b = append(w.b, `,"received":`...)
		w.b = appendUnix(w.b, r.Received)
		w.b = append(w.b, `,"secret_expires":`...)
		w.b = appendUnix(w.b, r.SecretExpires)
		w.int("failed_attempts", int64(r.FailedAttempts))
		w.b = append(w.b, `,"last_failed":`...)
		w.b = appendUnix(w.b, r.LastFailed)
		w.b = append(w.b, `,"locked_until":`...)
		w.b = appendUnix(w.b, r.LockedUntil)
		appendLate(w, r)
		w.close()
	}
	w.closeArray()
}

func (h *Handler) groupReceipt(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.where(ctx)
	if e := h.limit(&c, kindReceipt, audit.Receipt); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	g, err := h.store.Group(key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = errUnknownGroup
		}
		h.writeError(ctx, h.errorFor(opReceipt, err), nil)
		return
	}
	b := newBody()
	w := jw{b: b.head}
	w.open("")
	h.appendGroup(&w, &g)
	w.close()
	b.head = w.b
	h.writeBody(ctx, b)
}

func (h *Handler) burnLink(ctx *fasthttp.RequestCtx, key, link []byte) {
	c := h.door(ctx, audit.Burn)
	defer c.done()
	if e := h.credential(&c, audit.Burn, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if e := h.limit(&c, kindBurn, audit.Burn); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	i, err := strconv.Atoi(string(link))
	if err != nil || i < 1 || i > store.MaxGroup {
		h.writeError(ctx, errUnknownLink, nil)
		return
	}
	r, err := h.store.BurnGroupLink(key, i-1)
	if h.cfg.Audit != nil {
		ref := ""
		if err == nil {
			ref = h.cfg.Audit.Ref(r.Ref)
		}
		h.record(audit.Burn, ref, &c, outcome(err, nil))
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = errUnknownLink
		}
		h.writeError(ctx, h.errorFor(opBurn, err), nil)
		return
	}
	b := newBody()
	w := jw{b: b.head}
	w.open("")
	w.int("link", int64(i))
	w.strs("state", r.State.String())
	w.int("updated", r.Updated.Unix())
	w.close()
	b.head = w.b
	h.writeBody(ctx, b)
}

// ---- requests ----

func (h *Handler) serveRequest(ctx *fasthttp.RequestCtx, rest []byte) {
	key, action := route(rest)
	post, get := ctx.IsPost(), ctx.IsGet() || ctx.IsHead()
	switch {
	case rest == nil:
		h.only(ctx, post, h.createRequest)
	case len(key) > 0 && action == nil:
		h.only(ctx, get, func(ctx *fasthttp.RequestCtx) { h.asked(ctx, key) })
	case len(key) > 0 && string(action) == "answer":
		h.only(ctx, post, func(ctx *fasthttp.RequestCtx) { h.answer(ctx, key) })
	default:
		h.writeError(ctx, errNoRoute, nil)
	}
}

func (h *Handler) serveInbox(ctx *fasthttp.RequestCtx, rest []byte) {
	key, action := route(rest)
	switch {
	case len(key) > 0 && action == nil:
		h.only(ctx, ctx.IsGet() || ctx.IsHead(), func(ctx *fasthttp.RequestCtx) { h.inbox(ctx, key) })
	case len(key) > 0 && string(action) == "reveal":
		h.only(ctx, ctx.IsPost(), func(ctx *fasthttp.RequestCtx) { h.revealAnswer(ctx, key) })
	default:
		h.writeError(ctx, errNoRoute, nil)
	}
}

// createRequest makes a request for a secret: creating rules apply (a
// create token when they are required, --create-allow, the create rate
// limit).
func (h *Handler) createRequest(ctx *fasthttp.RequestCtx) {
	c := h.door(ctx, audit.Request)
	defer c.done()
	if !h.creating(ctx, &c, audit.Request) {
		return
	}
	f, err := h.readFields(ctx, flat)
	var ttl time.Duration
	if err == nil {
		ttl, err = h.ttl(&f)
	}
	var r store.RequestReceipt
	if err == nil {
		r, err = h.store.CreateRequest(ttl, c.custID())
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	defer r.Wipe()
	if h.cfg.Audit != nil {
		h.record(audit.Request, h.cfg.Audit.Ref(r.Ref), &c, audit.OK)
	}
	b := newBody()
	w := jw{b: b.head}
	w.open("")
	w.str("request_key", r.AskKey[:])
	w.str("requester_key", r.InboxKey[:])
	w.joined("request_url", h.cfg.PublicURL+"/request/", [][]byte{r.AskKey[:]})
	w.joined("requester_url", h.cfg.PublicURL+"/inbox/", [][]byte{r.InboxKey[:]})
	w.int("ttl", int64(ttl/time.Second))
	w.int("created", r.Created.Unix())
	w.int("deadline", r.Deadline.Unix())
	w.close()
	b.head = w.b
	h.writeBody(ctx, b)
}

// asked tells the answerer's page whether the request still waits.
func (h *Handler) asked(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.where(ctx)
	if e := h.limit(&c, kindReveal, audit.Peek); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	r, err := h.store.Asked(key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = errUnknownRequest
		}
		h.writeError(ctx, h.errorFor(opReveal, err), nil)
		return
	}
	b := newBody()
	w := jw{b: b.head}
	w.open("")
	w.strs("state", r.State.String())
	w.int("deadline", r.Deadline.Unix())
	w.close()
	b.head = w.b
	h.writeBody(ctx, b)
}

// answer stores the one answer to a request. The request link is the
// answerer's authority: no create token is asked for, and --create-allow
// does not apply (the requester, who may create, asked); a credential
// that is sent must be good, and the create rate limit applies.
func (h *Handler) answer(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.door(ctx, audit.Answer)
	defer c.done()
	if e := h.credential(&c, audit.Answer, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if e := h.limit(&c, kindCreate, audit.Answer); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	var secret, proof, public params.Value
	var has uint8
	err := h.walkBody(ctx, func(k []byte, v params.Value) error {
		switch string(k) {
		case "secret":
			secret, has = v, has|1
		case "passphrase":
			proof, has = v, has|2
		case "public":
			public, has = v, has|4
		}
		return nil
	})
	var pub [envelope.PublicKeyLen]byte
	if err == nil && has != 7 {
		err = errAnswer
	}
	if err == nil {
		raw, ok := public.Verbatim()
		if n, derr := base64.RawURLEncoding.Strict().Decode(pub[:], raw); !ok || len(raw) != base64.RawURLEncoding.EncodedLen(len(pub)) || derr != nil || n != len(pub) || !envelope.ValidPublicKey(pub[:]) {
			err = errAnswer
		}
	}
	var pass, value *store.Plain
	if err == nil {
		pass, err = h.decode(proof, store.ProofLen, errAnswer)
	}
	defer pass.Release()
	if err == nil && !store.IsProof(pass.Bytes()) {
		err = errAnswer
	}
	if err == nil {
		value, err = h.decodeSecret(bodyOf(ctx), secret, true)
	}
	defer value.Release()
	if err == nil && !bytes.HasPrefix(value.Bytes(), []byte(envelopeTag)) {
		err = errAnswer
	}
	var r store.RequestReceipt
	if err == nil {
		r, err = h.store.AnswerRequest(key, value, pass.Bytes(), pub[:], h.maxTTL())
	}
	if h.cfg.Audit != nil && !errors.Is(err, errAnswer) {
		ref := ""
		if err == nil {
			ref = h.cfg.Audit.Ref(r.Ref)
		}
		h.record(audit.Answer, ref, &c, outcome(err, nil))
	}
	switch {
	case errors.Is(err, store.ErrAnswered):
		err = errAnswered
	case errors.Is(err, store.ErrAnswer):
		err = errAnswer
	case errors.Is(err, store.ErrNotFound):
		err = errUnknownRequest
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	b := newBody()
	w := jw{b: b.head}
	w.open("")
	w.strs("state", r.State.String())
	w.int("answer_expires", r.AnswerExpires.Unix())
	w.close()
	b.head = w.b
	h.writeBody(ctx, b)
}

// inbox tells the requester where their request is.
func (h *Handler) inbox(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.where(ctx)
	if e := h.limit(&c, kindReceipt, audit.Inbox); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	r, err := h.store.Inbox(key)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = errUnknownRequest
		}
		h.writeError(ctx, h.errorFor(opReceipt, err), nil)
		return
	}
	b := newBody()
	w := jw{b: b.head}
	w.open("")
	w.strs("state", r.State.String())
	w.int("created", r.Created.Unix())
	w.int("deadline", r.Deadline.Unix())
	w.b = append(w.b, `,"answered":`...)
	w.b = appendUnix(w.b, r.Answered)
	w.b = append(w.b, `,"answer_expires":`...)
	w.b = appendUnix(w.b, r.AnswerExpires)
	w.b = append(w.b, `,"read":`...)
	w.b = appendUnix(w.b, r.Read)
	w.key("public")
	w.b = append(w.b, '"')
	if !r.Answered.IsZero() {
		w.b = base64.RawURLEncoding.AppendEncode(w.b, r.Public[:])
	}
	w.b = append(w.b, '"')
	w.close()
	b.head = w.b
	h.writeBody(ctx, b)
}

// revealAnswer reveals the answer to a request, once, with its proof: as
// a reveal, under the reveal policy and rate limit.
func (h *Handler) revealAnswer(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.door(ctx, audit.Reveal)
	defer c.done()
	if e := h.credential(&c, audit.Reveal, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if e := h.limit(&c, kindReveal, audit.Reveal); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if e := h.mayOpen(audit.Reveal, nil, &c); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	f, err := h.readFields(ctx, flat)
	var pass, value *store.Plain
	if err == nil {
		pass, err = h.passphrase(&f, false)
	}
	defer pass.Release()
	var ref store.Ref
	if err == nil {
		value, ref, err = h.store.RevealAnswer(key, pass.Bytes(), c.addr)
	}
	if h.cfg.Audit != nil {
		name := ""
		if ref != (store.Ref{}) {
			name = h.cfg.Audit.Ref(ref)
		}
		h.record(audit.Reveal, name, &c, outcome(err, pass))
		if errors.Is(err, store.ErrLate) {
			h.recordLate(name, &c, store.LateReveal)
		}
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opReveal, err), nil)
		return
	}
	b := newBody()
	b.head = append(b.head, `{"value":"`...)
	b.plain = value // released by b.Close
	b.tail = append(b.tail, `"}`...)
	h.writeBody(ctx, b)
}
