package handler

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"otslite/handler/params"
	"otslite/store"
)

// The v1 endpoints. See ../shared/ots-v1-api.md for the contract kept here.

var (
	statusJSON = []byte(`{"status":"nominal","locale":"en"}`)
	anon       = []byte("anon")
)

func (h *Handler) status(ctx *fasthttp.RequestCtx) {
	if _, e := h.credential(ctx, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.writeJSON(ctx, append(newBody().head, statusJSON...))
}

func (h *Handler) authcheck(ctx *fasthttp.RequestCtx) {
	if _, e := h.credential(ctx, true); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.writeJSON(ctx, append(newBody().head, statusJSON...))
}

// recent lists the receipts made with the caller's credential. Only
// credentials can be listed, and none is accepted while no tokens are
// configured, so it always answers "Not authorized" for now.
func (h *Handler) recent(ctx *fasthttp.RequestCtx) {
	if _, e := h.credential(ctx, true); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.writeJSON(ctx, append(newBody().head, "[]"...))
}

// credential checks the Basic credential a request carries. No token is
// configurable yet, so any credential sent is refused (a client that
// believes it is authenticated must learn otherwise), and a request without
// one is anonymous unless required.
// Every v1 endpoint checks it, those needing no account included: the
// contract checks credentials that are sent everywhere.
func (h *Handler) credential(ctx *fasthttp.RequestCtx, required bool) ([]byte, *Error) {
	if len(ctx.Request.Header.PeekBytes([]byte(fasthttp.HeaderAuthorization))) == 0 {
		if required {
			return nil, errNotAuthorized
		}
		return anon, nil
	}
	if e := h.limit(ctx, kindAuth); e != nil {
		return nil, e
	}
	return nil, errNotAuthorized
}

// limit counts a request of kind k against its client's rate limit.
func (h *Handler) limit(ctx *fasthttp.RequestCtx, k kind) *Error {
	ok, wait := h.limits.allow(h.clientAddr(ctx), k, h.now())
	if ok {
		return nil
	}
	return &Error{Status: 429, Message: msgRateLimited, RetryAfter: wait}
}

// fields are the request parameters the v1 API reads.
type fields struct {
	secret, passphrase, ttl, recipient, length params.Value
	has                                        uint8
}

const (
	hasSecret = 1 << iota
	hasPassphrase
	hasTTL
	hasRecipient
	hasLength
)

// readFields parses the request body in place. The first occurrence of a
// field counts. Query parameters are never read: a secret in a URL is not
// taken.
func readFields(ctx *fasthttp.RequestCtx) (fields, error) {
	var f fields
	if ce := ctx.Request.Header.ContentEncoding(); len(ce) > 0 && !bytes.EqualFold(ce, []byte("identity")) {
		return f, errEncoding
	}
	ct := ctx.Request.Header.ContentType()
	if i := bytes.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = bytes.TrimSpace(ct)
	var enc params.Encoding
	switch {
	case len(ct) == 0, bytes.EqualFold(ct, []byte("application/x-www-form-urlencoded")):
		enc = params.Form
	case bytes.EqualFold(ct, []byte("application/json")):
		enc = params.JSON
	default:
		return f, errContentType
	}
	body := ctx.PostBody()
	if enc == params.JSON && len(bytes.TrimSpace(body)) == 0 {
		return f, nil // an empty JSON body is an empty request
	}
	err := params.Each(body, enc, func(key []byte, v params.Value) error {
		var bit uint8
		var dst *params.Value
		switch string(key) {
		case "secret":
			bit, dst = hasSecret, &f.secret
		case "passphrase":
			bit, dst = hasPassphrase, &f.passphrase
		case "ttl":
			bit, dst = hasTTL, &f.ttl
		case "recipient":
			bit, dst = hasRecipient, &f.recipient
		case "length":
			bit, dst = hasLength, &f.length
		default:
			return nil
		}
		if f.has&bit == 0 {
			f.has |= bit
			*dst = v
		}
		return nil
	})
	return f, err
}

// decode copies a value into a locked slot. Values whose decoded size is
// over limit fail with tooBig.
func (h *Handler) decode(v params.Value, limit int, tooBig error) (*store.Plain, error) {
	p, err := h.store.Plain(min(v.MaxLen(), max(limit, 1)))
	if err != nil {
		return nil, err
	}
	n, err := v.DecodeTo(p.Buf())
	if errors.Is(err, params.ErrShortBuffer) || n > limit {
		err = tooBig
	}
	if err != nil {
		p.Release()
		return nil, err
	}
	p.SetLen(n)
	return p, nil
}

// passphrase decodes the passphrase field, if any, into a locked slot.
// check applies the configured length bounds (creating); otherwise a
// passphrase too long to be right simply does not match.
func (h *Handler) passphrase(f *fields, check bool) (*store.Plain, error) {
	if f.has&hasPassphrase == 0 || f.passphrase.IsEmpty() {
		// An empty passphrase is no passphrase, as upstream reads it:
		// many clients always send the field.
		return nil, nil
	}
	limit := 4 * h.cfg.PassphraseMax // bytes for PassphraseMax characters
	tooBig := error(store.ErrPassphrase)
	if check {
		tooBig = h.errPassphraseLen()
	}
	p, err := h.decode(f.passphrase, limit, tooBig)
	if err != nil {
		return nil, err
	}
	if check {
		if n := utf8.RuneCount(p.Bytes()); n < h.cfg.PassphraseMin || n > h.cfg.PassphraseMax {
			p.Release()
			return nil, h.errPassphraseLen()
		}
	}
	return p, nil
}

func (h *Handler) errPassphraseLen() *Error {
	return &Error{Status: 400, Message: "Passphrase must be " + strconv.Itoa(h.cfg.PassphraseMin) + " to " + strconv.Itoa(h.cfg.PassphraseMax) + " characters long"}
}

// ttl reads the ttl field: absent or empty means the default; anything
// else is clamped into [minTTL, MaxTTL], as upstream does silently.
func (h *Handler) ttl(f *fields) (time.Duration, error) {
	maxTTL := h.maxTTL()
	if f.has&hasTTL == 0 || f.ttl.IsEmpty() {
		return min(h.cfg.DefaultTTL, maxTTL), nil
	}
	secs, err := f.ttl.Int()
	if err != nil {
		return 0, errBadTTL
	}
	secs = max(secs, int64(minTTL/time.Second))
	return min(time.Duration(min(secs, int64(maxTTL/time.Second)))*time.Second, maxTTL), nil
}

// maxTTL is the longest ttl a secret made now may get: the configured
// maximum, or what is left of the session when that is less (at least a
// second, so a secret made in the last moments still works until the end).
func (h *Handler) maxTTL() time.Duration {
	if h.cfg.Deadline.IsZero() {
		return h.cfg.MaxTTL
	}
	left := h.cfg.Deadline.Sub(h.now()).Truncate(time.Second)
	return max(time.Second, min(h.cfg.MaxTTL, left))
}

// config tells the UI the limits in force now.
func (h *Handler) config(ctx *fasthttp.RequestCtx) {
	b := newBody()
	b.head = append(b.head, `{"default_ttl":`...)
	b.head = strconv.AppendInt(b.head, int64(min(h.cfg.DefaultTTL, h.maxTTL())/time.Second), 10)
	b.head = append(b.head, `,"max_ttl":`...)
	b.head = strconv.AppendInt(b.head, int64(h.maxTTL()/time.Second), 10)
	b.head = append(b.head, `,"max_secret_size":`...)
	b.head = strconv.AppendInt(b.head, int64(h.store.MaxSecretSize()), 10)
	b.head = append(b.head, `,"passphrase_min":`...)
	b.head = strconv.AppendInt(b.head, int64(h.cfg.PassphraseMin), 10)
	b.head = append(b.head, `,"passphrase_max":`...)
	b.head = strconv.AppendInt(b.head, int64(h.cfg.PassphraseMax), 10)
	b.head = append(b.head, '}')
	h.writeBody(ctx, b)
}

// end lets the operator end the session: POST /api/otslite/end with
// "Authorization: Bearer <admin token>". The answer goes out before the
// server stops (shutdown lets in-flight requests finish).
func (h *Handler) end(ctx *fasthttp.RequestCtx) {
	if !h.admin(ctx) {
		if e := h.limit(ctx, kindAuth); e != nil {
			h.writeError(ctx, e, nil)
			return
		}
		h.writeError(ctx, errNotAuthorized, nil)
		return
	}
	h.logf("session ended by the operator from %s", h.clientAddr(ctx))
	h.writeJSON(ctx, append(newBody().head, `{"status":"ending"}`...))
	if h.cfg.EndSession != nil {
		h.cfg.EndSession()
	}
}

// admin reports whether the request carries the admin token, compared in
// constant time through its hash.
func (h *Handler) admin(ctx *fasthttp.RequestCtx) bool {
	if h.cfg.AdminToken == "" {
		return false
	}
	token, ok := bytes.CutPrefix(ctx.Request.Header.Peek(fasthttp.HeaderAuthorization), []byte("Bearer "))
	if !ok {
		return false
	}
	sum := sha256.Sum256(bytes.TrimSpace(token))
	return subtle.ConstantTimeCompare(sum[:], h.adminHash[:]) == 1
}

// createOptions reads what share and generate have in common.
func (h *Handler) createOptions(ctx *fasthttp.RequestCtx, f *fields) (store.CreateOptions, *store.Plain, error) {
	var o store.CreateOptions
	custid, e := h.credential(ctx, false)
	if e != nil {
		return o, nil, e
	}
	if f.has&hasRecipient != 0 && !f.recipient.IsEmpty() {
		return o, nil, errNoEmail
	}
	ttl, err := h.ttl(f)
	if err != nil {
		return o, nil, err
	}
	pass, err := h.passphrase(f, true)
	if err != nil {
		return o, nil, err
	}
	o.TTL = ttl
	o.CustID = string(custid)
	if pass != nil {
		o.Passphrase = pass.Bytes()
	}
	return o, pass, nil
}

func (h *Handler) share(ctx *fasthttp.RequestCtx) {
	if e := h.limit(ctx, kindCreate); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	f, err := readFields(ctx)
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	o, pass, err := h.createOptions(ctx, &f)
	defer pass.Release()
	if err == nil && (f.has&hasSecret == 0 || f.secret.IsEmpty()) {
		err = errNothingToShare
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	secret, err := h.decode(f.secret, h.store.MaxSecretSize(), h.errTooLarge)
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	defer secret.Release()
	r, err := h.store.Create(secret, o)
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	b := newBody()
	b.head = h.appendReceipt(b.head, &r)
	r.Wipe()
	h.writeBody(ctx, b)
}

const (
	defaultGenerated = 12
	minGenerated     = 4
	maxGenerated     = 128
)

func (h *Handler) generate(ctx *fasthttp.RequestCtx) {
	if e := h.limit(ctx, kindCreate); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	f, err := readFields(ctx)
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	length := int64(defaultGenerated)
	if f.has&hasLength != 0 && !f.length.IsEmpty() {
		if length, err = f.length.Int(); err != nil || length < minGenerated || length > maxGenerated {
			h.writeError(ctx, errBadLength, nil)
			return
		}
	}
	o, pass, err := h.createOptions(ctx, &f)
	defer pass.Release()
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	value, err := h.store.Plain(int(length))
	// Released here on every way out but one: handed to the body below.
	defer func() { value.Release() }()
	if err == nil {
		err = h.store.GeneratePassword(value, int(length))
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	r, err := h.store.Create(value, o)
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	b := newBody()
	b.head = h.appendReceipt(b.head, &r)
	r.Wipe()
	b.head = append(b.head[:len(b.head)-1], `,"value":"`...)
	b.plain, value = value, nil // released by b.Close
	b.tail = append(b.tail, `"}`...)
	h.writeBody(ctx, b)
}

func (h *Handler) reveal(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindReveal); e != nil {
		h.writeError(ctx, e, key)
		return
	}
	if _, e := h.credential(ctx, false); e != nil {
		h.writeError(ctx, e, key)
		return
	}
	if len(key) < store.MinKeyLen {
		h.writeError(ctx, errShortKey, key)
		return
	}
	f, err := readFields(ctx)
	var pass *store.Plain
	if err == nil {
		pass, err = h.passphrase(&f, false)
	}
	defer pass.Release()
	var value *store.Plain
	if err == nil {
		value, err = h.store.Reveal(key, pass.Bytes(), h.clientAddr(ctx))
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opReveal, err), key)
		return
	}
	b := newBody()
	b.head = append(b.head, `{"value":"`...)
	b.plain = value // released by b.Close
	b.tail = append(b.tail, `","secret_key":`...)
	b.tail = appendString(b.tail, key)
	b.tail = append(b.tail, `,"share_domain":""}`...)
	h.writeBody(ctx, b)
}

func (h *Handler) receipt(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindReceipt); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if _, e := h.credential(ctx, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if len(key) < store.MinKeyLen {
		h.writeError(ctx, errShortKey, nil)
		return
	}
	r, err := h.store.Receipt(key)
	if err != nil {
		h.writeError(ctx, h.errorFor(opReceipt, err), nil)
		return
	}
	b := newBody()
	b.head = h.appendReceipt(b.head, &r)
	r.Wipe()
	h.writeBody(ctx, b)
}

func (h *Handler) burn(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindBurn); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if _, e := h.credential(ctx, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if len(key) < store.MinKeyLen {
		h.writeError(ctx, errShortKey, nil)
		return
	}
	f, err := readFields(ctx)
	var pass *store.Plain
	if err == nil {
		pass, err = h.passphrase(&f, false)
	}
	defer pass.Release()
	var r store.Receipt
	if err == nil {
		r, err = h.store.Burn(key, pass.Bytes(), h.clientAddr(ctx))
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opBurn, err), nil)
		return
	}
	b := newBody()
	b.head = append(b.head, `{"state":`...)
	b.head = h.appendReceipt(b.head, &r)
	b.head = append(b.head, `,"secret_shortkey":`...)
	b.head = appendString(b.head, r.ShortKey[:])
	b.head = append(b.head, '}')
	r.Wipe()
	h.writeBody(ctx, b)
}

// peek tells the secret page whether a secret waits and needs a passphrase.
// It never consumes anything.
func (h *Handler) peek(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindReveal); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	w, err := h.store.Peek(key)
	if err != nil {
		h.writeError(ctx, h.errorFor(opReveal, err), nil)
		return
	}
	b := newBody()
	b.head = append(b.head, `{"passphrase_required":`...)
	b.head = strconv.AppendBool(b.head, w.PassphraseRequired)
	b.head = append(b.head, `,"secret_ttl":`...)
	b.head = strconv.AppendInt(b.head, secondsLeft(w.Expires, h.now()), 10)
	b.head = append(b.head, '}')
	h.writeBody(ctx, b)
}

// appendReceipt appends the v1 receipt object for r.
func (h *Handler) appendReceipt(dst []byte, r *store.Receipt) []byte {
	now := h.now()
	dst = append(dst, `{"custid":`...)
	dst = appendString(dst, []byte(r.CustID))
	dst = append(dst, `,"metadata_key":"`...)
	dst = append(dst, r.ReceiptKey[:]...)
	dst = append(dst, '"')
	if r.State == store.StateNew {
		dst = append(dst, `,"secret_key":"`...)
		dst = append(dst, r.SecretKey[:]...)
		dst = append(dst, '"')
	}
	dst = append(dst, `,"ttl":`...)
	dst = strconv.AppendInt(dst, int64(r.TTL/time.Second), 10)
	dst = append(dst, `,"metadata_ttl":`...)
	dst = strconv.AppendInt(dst, secondsLeft(r.ReceiptExpires, now), 10)
	if r.State == store.StateNew {
		dst = append(dst, `,"secret_ttl":`...)
		dst = strconv.AppendInt(dst, secondsLeft(r.SecretExpires, now), 10)
	}
	dst = append(dst, `,"metadata_url":"`...)
	dst = append(dst, h.receiptBase...)
	dst = append(dst, r.ReceiptKey[:]...)
	dst = append(dst, `","state":"`...)
	dst = append(dst, r.State.String()...)
	dst = append(dst, `","updated":`...)
	dst = strconv.AppendInt(dst, r.Updated.Unix(), 10)
	dst = append(dst, `,"created":`...)
	dst = strconv.AppendInt(dst, r.Created.Unix(), 10)
	if r.State == store.StateReceived {
		dst = append(dst, `,"received":`...)
		dst = strconv.AppendInt(dst, r.Received.Unix(), 10)
	}
	dst = append(dst, `,"recipient":[],"share_domain":"","passphrase_required":`...)
	dst = strconv.AppendBool(dst, r.PassphraseRequired)
	return append(dst, '}')
}

// secondsLeft is the seconds from now until t, rounded (a secret made with
// ttl 300 reads 300 in the response that creates it), never negative.
func secondsLeft(t, now time.Time) int64 {
	return max(0, int64((t.Sub(now)+time.Second/2)/time.Second))
}

// writeJSON answers 200 with head as the whole body; head must come from
// newBody().head so it is wiped and pooled afterwards.
func (h *Handler) writeJSON(ctx *fasthttp.RequestCtx, head []byte) {
	b := newBody()
	bodyPool.Put(b) // only its head buffer was wanted, already taken
	b = &body{head: head, tail: make([]byte, 0, 256)}
	h.writeBody(ctx, b)
}

func (h *Handler) writeBody(ctx *fasthttp.RequestCtx, b *body) {
	apiHeaders(ctx)
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetBodyStream(b, b.size())
}
