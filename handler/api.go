package handler

import (
	"bytes"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"otslite/handler/audit"
	"otslite/handler/params"
	"otslite/store"
)

// The v1 endpoints. See ../shared/ots-v1-api.md for the contract kept here.

var statusJSON = []byte(`{"status":"nominal","locale":"en"}`)

func (h *Handler) status(ctx *fasthttp.RequestCtx) {
	c, e := h.identify(ctx, audit.Status, false)
	c.done()
	if e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.writeJSON(ctx, append(newBody().head, statusJSON...))
}

func (h *Handler) authcheck(ctx *fasthttp.RequestCtx) {
	c, e := h.identify(ctx, audit.Authcheck, true)
	c.done()
	if e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.writeJSON(ctx, append(newBody().head, statusJSON...))
}

// limit counts a request of kind k against its client's rate limit. The
// first refusal in a window goes to the audit trail as action. With rate
// limits off it does not work out the client's address or read the clock.
func (h *Handler) limit(ctx *fasthttp.RequestCtx, k kind, action string) *Error {
	if h.limits == nil {
		return nil
	}
	addr := h.clientAddr(ctx)
	ok, wait, first := h.limits.take(addr, k, h.now(), true)
	if ok {
		return nil
	}
	if wait < 0 {
		return errUnavailable
	}
	if first {
		h.record(action, "", &caller{addr: addr}, audit.RateLimited)
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
func (h *Handler) readFields(ctx *fasthttp.RequestCtx) (fields, error) {
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
	body := h.requestBody(ctx)
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
	return decodeInto(h.store.Plain, v, limit, tooBig)
}

// decodeInto is decode with the slot taken by slot.
func decodeInto(slot func(int) (*store.Plain, error), v params.Value, limit int, tooBig error) (*store.Plain, error) {
	p, err := slot(min(v.MaxLen(), max(limit, 1)))
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

// passphrase decodes the passphrase field, if any, into a locked slot. A
// value of a proof's shape (store.IsProof) is a proof, taken as it is.
// Anything else is a human passphrase: check applies the configured
// length bounds and refuses the proofs' prefix (creating); otherwise a
// passphrase too long to be right simply does not match. A human
// passphrase is decoded again once it may be hashed (PassphrasePlain):
// waiting for argon2id, the request holds no locked memory.
func (h *Handler) passphrase(f *fields, check bool) (*store.Plain, error) {
	if f.has&hasPassphrase == 0 || f.passphrase.IsEmpty() {
		// An empty passphrase is no passphrase, as upstream reads it:
		// many clients always send the field.
		return nil, nil
	}
	limit := max(4*h.cfg.PassphraseMax, store.ProofPassLen) // bytes for PassphraseMax characters, or a proof
	tooBig := error(store.ErrPassphrase)
	if check {
		tooBig = h.errPassphraseLen()
	}
	p, err := h.decode(f.passphrase, limit, tooBig)
	if err != nil {
		return nil, err
	}
	if store.IsProof(p.Bytes()) {
		return p, nil
	}
	if check {
		if bytes.HasPrefix(p.Bytes(), store.ProofPrefix) {
			p.Release()
			return nil, errProofPrefix
		}
		if n := utf8.RuneCount(p.Bytes()); n < h.cfg.PassphraseMin || n > h.cfg.PassphraseMax {
			p.Release()
			return nil, h.errPassphraseLen()
		}
	}
	p.Release()
	return decodeInto(h.store.PassphrasePlain, f.passphrase, limit, tooBig)
}

var errProofPrefix = &Error{Status: 400, Message: "A passphrase may not begin with " + string(store.ProofPrefix)}

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

// createOptions reads what share and generate have in common.
func (h *Handler) createOptions(c *caller, f *fields) (store.CreateOptions, *store.Plain, error) {
	var o store.CreateOptions
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
	o.CustID = c.custID()
	if pass != nil {
		o.Passphrase = pass.Bytes()
	}
	return o, pass, nil
}

// created records a new secret: in the audit trail and, when a credential
// made it, in that credential's recent list.
func (h *Handler) created(action string, c *caller, r *store.Receipt) {
	if c.authed {
		h.recents.add(&c.cred, &r.ReceiptKey)
	}
	if h.cfg.Audit != nil {
		h.record(action, h.cfg.Audit.Ref(r.Ref), c, audit.OK)
	}
}

func (h *Handler) share(ctx *fasthttp.RequestCtx) {
	c, ok := h.creating(ctx, audit.Create)
	if !ok {
		return
	}
	defer c.done()
	f, err := h.readFields(ctx)
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	o, pass, err := h.createOptions(&c, &f)
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
	h.created(audit.Create, &c, &r)
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
	c, ok := h.creating(ctx, audit.Generate)
	if !ok {
		return
	}
	defer c.done()
	f, err := h.readFields(ctx)
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
	o, pass, err := h.createOptions(&c, &f)
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
	h.created(audit.Generate, &c, &r)
	b := newBody()
	b.head = h.appendReceipt(b.head, &r)
	r.Wipe()
	b.head = append(b.head[:len(b.head)-1], `,"value":"`...)
	b.plain, value = value, nil // released by b.Close
	b.tail = append(b.tail, `"}`...)
	h.writeBody(ctx, b)
}

func (h *Handler) reveal(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindReveal, audit.Reveal); e != nil {
		h.writeError(ctx, e, key)
		return
	}
	c, e := h.identify(ctx, audit.Reveal, false)
	defer c.done()
	if e != nil {
		h.writeError(ctx, e, key)
		return
	}
	if len(key) < store.MinKeyLen {
		h.record(audit.Reveal, h.secretRef(key), &c, audit.Unknown)
		h.writeError(ctx, errShortKey, key)
		return
	}
	if e := h.mayOpen(audit.Reveal, key, &c); e != nil {
		h.writeError(ctx, e, key)
		return
	}
	f, err := h.readFields(ctx)
	var pass *store.Plain
	if err == nil {
		pass, err = h.passphrase(&f, false)
	}
	defer pass.Release()
	var value *store.Plain
	var ref store.Ref
	if err == nil {
		value, ref, err = h.store.Reveal(key, pass.Bytes(), c.addr)
	} else if h.cfg.Audit != nil {
		ref, _ = h.store.SecretRef(key)
	}
	if h.cfg.Audit != nil {
		h.record(audit.Reveal, h.cfg.Audit.Ref(ref), &c, outcome(err, pass))
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

// secretRef is the audit trail's name for the secret behind a secret key;
// "" when there is no trail or key is no key.
func (h *Handler) secretRef(key []byte) string {
	if h.cfg.Audit == nil {
		return ""
	}
	if ref, ok := h.store.SecretRef(key); ok {
		return h.cfg.Audit.Ref(ref)
	}
	return ""
}

// outcome names the result of a reveal or burn for the audit trail.
func outcome(err error, pass *store.Plain) string {
	switch {
	case err == nil:
		return audit.OK
	case errors.Is(err, store.ErrNotFound):
		return audit.Unknown
	case errors.Is(err, store.ErrPassphrase) && pass == nil:
		return audit.NoPassphrase
	case errors.Is(err, store.ErrPassphrase):
		return audit.WrongPassphrase
	case lockedOut(err):
		return audit.LockedOut
	case unavailable(err):
		return audit.Unavailable
	}
	return audit.Failed
}

func lockedOut(err error) bool {
	var lock *store.LockoutError
	return errors.As(err, &lock)
}

func (h *Handler) receipt(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindReceipt, audit.Receipt); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	c, e := h.identify(ctx, audit.Receipt, false)
	c.done()
	if e != nil {
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
	if e := h.limit(ctx, kindBurn, audit.Burn); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	c, e := h.identify(ctx, audit.Burn, false)
	defer c.done()
	if e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if len(key) < store.MinKeyLen {
		h.record(audit.Burn, "", &c, audit.Unknown)
		h.writeError(ctx, errShortKey, nil)
		return
	}
	f, err := h.readFields(ctx)
	var pass *store.Plain
	if err == nil {
		pass, err = h.passphrase(&f, false)
	}
	defer pass.Release()
	var r store.Receipt
	if err == nil {
		r, err = h.store.Burn(key, pass.Bytes(), c.addr)
	}
	if h.cfg.Audit != nil {
		ref, ok := r.Ref, err == nil
		if !ok {
			ref, ok = h.store.ReceiptRef(key)
		}
		name := ""
		if ok {
			name = h.cfg.Audit.Ref(ref)
		}
		h.record(audit.Burn, name, &c, outcome(err, pass))
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

// peek tells the secret page whether a secret waits, whether it needs a
// passphrase or a proof, and what its lockouts leave this caller. It never
// consumes anything.
func (h *Handler) peek(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindReveal, audit.Peek); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	c := caller{addr: h.clientAddr(ctx)}
	if e := h.mayOpen(audit.Peek, key, &c); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	w, err := h.store.Peek(key, c.addr)
	if err != nil {
		h.writeError(ctx, h.errorFor(opReveal, err), nil)
		return
	}
	b := newBody()
	b.head = append(b.head, `{"passphrase_required":`...)
	b.head = strconv.AppendBool(b.head, w.PassphraseRequired)
	b.head = append(b.head, `,"proof":`...)
	b.head = strconv.AppendBool(b.head, w.Proof)
	b.head = append(b.head, `,"secret_ttl":`...)
	b.head = strconv.AppendInt(b.head, secondsLeft(w.Expires, h.now()), 10)
	if w.TriesLeft >= 0 {
		b.head = append(b.head, `,"tries_left":`...)
		b.head = strconv.AppendInt(b.head, int64(w.TriesLeft), 10)
	}
	b.head = append(b.head, `,"locked_until":`...)
	b.head = appendUnix(b.head, w.LockedUntil)
	b.head = append(b.head, '}')
	h.writeBody(ctx, b)
}

// lockout tells the receipt page what guessing there has been: the
// secret's state, its failed passphrase attempts, the last one's time, and
// when a lock on everyone ends. Behind the receipt key, counted as a
// receipt read; it never changes anything.
func (h *Handler) lockout(ctx *fasthttp.RequestCtx, key []byte) {
	if e := h.limit(ctx, kindReceipt, audit.Receipt); e != nil {
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
	r.Wipe()
	b := newBody()
	b.head = append(b.head, `{"state":"`...)
	b.head = append(b.head, r.State.String()...)
	b.head = append(b.head, `","failed_attempts":`...)
	b.head = strconv.AppendInt(b.head, int64(r.FailedAttempts), 10)
	b.head = append(b.head, `,"last_failed":`...)
	b.head = appendUnix(b.head, r.LastFailed)
	b.head = append(b.head, `,"locked_until":`...)
	b.head = appendUnix(b.head, r.LockedUntil)
	b.head = append(b.head, '}')
	h.writeBody(ctx, b)
}

// appendUnix appends t in unix seconds, 0 for the zero time.
func appendUnix(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, '0')
	}
	return strconv.AppendInt(dst, t.Unix(), 10)
}

// appendReceipt appends the v1 receipt object for r.
func (h *Handler) appendReceipt(dst []byte, r *store.Receipt) []byte {
	return h.appendReceiptAs(dst, r, true)
}

// appendReceiptAs appends the receipt object, with "secret_key" (while the
// secret waits) only when withSecretKey is set.
func (h *Handler) appendReceiptAs(dst []byte, r *store.Receipt, withSecretKey bool) []byte {
	now := h.now()
	dst = append(dst, `{"custid":`...)
	dst = appendString(dst, []byte(r.CustID))
	dst = append(dst, `,"metadata_key":"`...)
	dst = append(dst, r.ReceiptKey[:]...)
	dst = append(dst, '"')
	if r.State == store.StateNew && withSecretKey {
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
