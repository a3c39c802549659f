package handler

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"otslite/handler/audit"
	"otslite/handler/params"
	"otslite/store"
)

// The v1 endpoints. See ../shared/ots-v1-api.md for the contract kept here,
// and upstream's frozen v1 code (apps/api/v1) for the shapes: where they
// differ, the code wins, but for otslite's own choices (no mail, create
// tokens, X-OTS-Intended-Status on every error).

var statusJSON = []byte(`{"status":"nominal","locale":"en"}`)

func (h *Handler) status(ctx *fasthttp.RequestCtx) {
	c := h.door(ctx, audit.Status)
	defer c.done()
	if e := h.credential(&c, audit.Status, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.writeJSON(ctx, append(newBody().head, statusJSON...))
}

func (h *Handler) authcheck(ctx *fasthttp.RequestCtx) {
	c := h.door(ctx, audit.Authcheck)
	defer c.done()
	if e := h.credential(&c, audit.Authcheck, true); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	h.writeJSON(ctx, append(newBody().head, statusJSON...))
}

// limit counts a request of kind k against its caller's rate limit. The
// first refusal in a window goes to the audit trail as action. With rate
// limits off it does not read the clock.
func (h *Handler) limit(c *caller, k kind, action string) *Error {
	if h.limits == nil {
		return nil
	}
	ok, wait, first := h.limits.take(c.addr, k, h.now(), true)
	if ok {
		return nil
	}
	if wait < 0 {
		return errUnavailable
	}
	if first {
		h.record(action, "", c, audit.RateLimited)
	}
	return &Error{Status: 429, Message: msgRateLimited, RetryAfter: wait}
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
		tooBig = h.errPassTooLong
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
			return nil, h.errPassphraseLen(n)
		}
	}
	p.Release()
	return decodeInto(h.store.PassphrasePlain, f.passphrase, limit, tooBig)
}

var errProofPrefix = &Error{Status: 400, Message: "A passphrase may not begin with " + string(store.ProofPrefix)}

func (h *Handler) errPassphraseLen(n int) *Error {
	if n < h.cfg.PassphraseMin {
		return &Error{Status: 400, Message: "Passphrase must be at least " + strconv.Itoa(h.cfg.PassphraseMin) + " characters long"}
	}
	return &Error{Status: 400, Message: "Passphrase must be no more than " + strconv.Itoa(h.cfg.PassphraseMax) + " characters long"}
}

// ttl reads the ttl field as upstream does: absent (or JSON null) means the
// default; anything else is read as Ruby's to_i reads it ("abc" and "" are
// 0) and clamped into [minTTL, MaxTTL] silently.
func (h *Handler) ttl(f *fields) (time.Duration, error) {
	maxTTL := h.maxTTL()
	if f.has&hasTTL == 0 {
		return min(h.cfg.DefaultTTL, maxTTL), nil
	}
	secs, err := f.ttl.ToI()
	if errors.Is(err, params.ErrEmpty) {
		return min(h.cfg.DefaultTTL, maxTTL), nil
	}
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

// config tells the UI the limits in force now, whether creating needs a
// create token, and when the session ends (unix seconds; 0 when it has no
// lifetime).
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
	b.head = append(b.head, `,"tokens_required":`...)
	b.head = strconv.AppendBool(b.head, h.cfg.Tokens.Required())
	b.head = append(b.head, `,"session_end":`...)
	var end int64
	if !h.cfg.Deadline.IsZero() {
		end = h.cfg.Deadline.Unix()
	}
	b.head = strconv.AppendInt(b.head, end, 10)
	b.head = append(b.head, `,"max_file_size":`...)
	b.head = strconv.AppendInt(b.head, int64(h.cfg.MaxFileSize), 10)
	b.head = append(b.head, `,"max_envelope_size":`...)
	b.head = strconv.AppendInt(b.head, int64(h.store.MaxEnvelopeSize()), 10)
	b.head = append(b.head, `,"max_links":`...)
	b.head = strconv.AppendInt(b.head, store.MaxGroup, 10)
	b.head = append(b.head, '}')
	h.writeBody(ctx, b)
}

// createOptions reads what creating a secret needs besides its value: the
// checks upstream makes, in its order (ttl, recipient, share domain,
// passphrase).
func (h *Handler) createOptions(c *caller, f *fields) (store.CreateOptions, *store.Plain, error) {
	var o store.CreateOptions
	ttl, err := h.ttl(f)
	if err != nil {
		return o, nil, err
	}
	if f.has&hasRecipient != 0 && recipientGiven(f.recipient) {
		return o, nil, errNoEmail
	}
	if e := h.shareDomain(c, f); e != nil {
		return o, nil, e
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

// recipientGiven reports whether a recipient value names anyone: a
// non-empty string, or a list with a non-empty entry.
func recipientGiven(v params.Value) bool {
	if v.Kind() != params.Other {
		return !v.IsEmpty()
	}
	given := false
	if v.Elements(func(e params.Value) error {
		given = given || !e.IsEmpty()
		return nil
	}) != nil {
		return true // an object: something, not nothing
	}
	return given
}

// shareDomain refuses a share_domain other than this server's own host:
// links are only ever made on the public URL. (Upstream refuses a domain
// it does not host in the same words.)
func (h *Handler) shareDomain(c *caller, f *fields) *Error {
	if f.has&hasShareDomain == 0 || f.shareDomain.IsEmpty() {
		return nil
	}
	var buf [256]byte
	n, err := f.shareDomain.DecodeTo(buf[:min(f.shareDomain.MaxLen(), len(buf))])
	if err != nil {
		return &Error{Status: 400, Message: "Unknown domain"}
	}
	domain := strings.TrimSpace(string(buf[:n]))
	if domain == "" || strings.EqualFold(domain, h.publicHost) || strings.EqualFold(domain, h.publicHostname) {
		return nil
	}
	if c.authed {
		return &Error{Status: 400, Message: "Unknown domain: " + domain}
	}
	return &Error{Status: 400, V2Status: 403, Message: "You do not have permission to use domain: " + domain}
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

// conceal stores the secret a request carries (v1 share and create, v2
// conceal): the value is decoded straight into locked memory.
func (h *Handler) conceal(c *caller, f *fields) (store.Receipt, error) {
	o, pass, err := h.createOptions(c, f)
	defer pass.Release()
	if err == nil && (f.has&hasSecret == 0 || f.secret.IsEmpty()) {
		err = errNothingToShare
	}
	if err != nil {
		return store.Receipt{}, err
	}
	secret, err := h.decodeSecret(f.body, f.secret, store.IsProof(o.Passphrase))
	if err != nil {
		return store.Receipt{}, err
	}
	defer secret.Release()
	r, err := h.store.Create(secret, o)
	if err == nil {
		h.created(audit.Create, c, &r)
	}
	return r, err
}

func (h *Handler) share(ctx *fasthttp.RequestCtx) {
	c := h.door(ctx, audit.Create)
	defer c.done()
	if !h.creating(ctx, &c, audit.Create) {
		return
	}
	f, err := h.readFields(ctx, flat)
	var r store.Receipt
	if err == nil {
		r, err = h.conceal(&c, &f)
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	b := newBody()
	w := jw{b: b.head}
	h.v1Receipt(&w, &r, v1Created)
	r.Wipe()
	b.head = w.b
	h.writeBody(ctx, b)
}

const (
	defaultGenerated = 12
	maxGenerated     = 128
)

// generateLength reads the length field as upstream does (Ruby's to_i,
// at most 128). Passwords hold one character of each of the four sets, so
// 1 to 3 give 4 characters, as upstream's generator does.
func generateLength(f *fields) (int, error) {
	if f.has&hasLength == 0 {
		return defaultGenerated, nil
	}
	n, err := f.length.ToI()
	switch {
	case errors.Is(err, params.ErrEmpty):
		return defaultGenerated, nil
	case err != nil:
		return 0, errBadLength
	case n > maxGenerated:
		return 0, errLongLength
	case n < 1:
		return 0, errBadLength
	}
	return max(int(n), 4), nil
}

// charsets refuses character_sets a generated password cannot follow:
// every set is always used and ambiguous characters always left out, so a
// set turned off (JSON false or null; to upstream every string is true)
// cannot be honoured.
func charsets(f *fields) error {
	if f.has&hasCharsets == 0 {
		return nil
	}
	return f.charsets.Members(func(k []byte, v params.Value) error {
		switch string(k) {
		case "uppercase", "lowercase", "numbers", "symbols", "exclude_ambiguous", "unambiguous":
			if v.Kind() == params.Null || v.Kind() == params.Bool && v.MaxLen() == len("false") {
				return errCharsets
			}
		}
		return nil
	})
}

// generated makes and stores a password; the caller releases value.
func (h *Handler) generated(c *caller, f *fields) (r store.Receipt, value *store.Plain, err error) {
	length, err := generateLength(f)
	if err == nil {
		if e := charsets(f); e != nil && !errors.Is(e, params.ErrInvalid) {
			err = e
		}
	}
	if err != nil {
		return r, nil, err
	}
	o, pass, err := h.createOptions(c, f)
	defer pass.Release()
	if err != nil {
		return r, nil, err
	}
	o.Generated = true
	value, err = h.store.Plain(length)
	if err == nil {
		err = h.store.GeneratePassword(value, length)
	}
	if err == nil {
		r, err = h.store.Create(value, o)
	}
	if err != nil {
		value.Release()
		return r, nil, err
	}
	h.created(audit.Generate, c, &r)
	return r, value, nil
}

func (h *Handler) generate(ctx *fasthttp.RequestCtx) {
	c := h.door(ctx, audit.Generate)
	defer c.done()
	if !h.creating(ctx, &c, audit.Generate) {
		return
	}
	f, err := h.readFields(ctx, flat)
	var r store.Receipt
	var value *store.Plain
	if err == nil {
		r, value, err = h.generated(&c, &f)
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
		return
	}
	// The value goes out twice, as "value" and as its newer name
	// "secret_value", from locked memory (see body).
	b := newBody()
	w := jw{b: b.head}
	now := h.now()
	h.v1ReceiptHead(&w, &r, v1Created, now)
	w.key("value")
	b.head = w.with('"')
	m := jw{b: append(b.mid[:0], '"'), comma: true}
	h.v1ReceiptAliases(&m, &r, v1Created, now)
	m.key("secret_value")
	b.mid = m.with('"')
	r.Wipe()
	b.plain, b.twice = value, true // released by b.Close
	b.tail = append(b.tail, `"}`...)
	h.writeBody(ctx, b)
}

func (h *Handler) reveal(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.door(ctx, audit.Reveal)
	defer c.done()
	if e := h.credential(&c, audit.Reveal, false); e != nil {
		h.writeError(ctx, e, key)
		return
	}
	if len(key) < store.MinKeyLen {
		h.record(audit.Reveal, h.secretRef(key), &c, audit.Unknown)
		h.writeError(ctx, errShortKey, key)
		return
	}
	if e := h.limit(&c, kindReveal, audit.Reveal); e != nil {
		h.writeError(ctx, e, key)
		return
	}
	if e := h.mayOpen(audit.Reveal, key, &c); e != nil {
		h.writeError(ctx, e, key)
		return
	}
	f, err := h.readFields(ctx, flat)
	var value *store.Plain
	if err == nil {
		value, err = h.open(&c, key, &f)
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
	b.tail = append(b.tail, `,"share_domain":`...)
	b.tail = appendString(b.tail, h.siteURL)
	b.tail = append(b.tail, '}')
	h.writeBody(ctx, b)
}

// open reveals the secret behind key with the request's passphrase, and
// records the attempt.
func (h *Handler) open(c *caller, key []byte, f *fields) (*store.Plain, error) {
	pass, err := h.passphrase(f, false)
	defer pass.Release()
	var value *store.Plain
	var ref store.Ref
	if err == nil {
		value, ref, err = h.store.Reveal(key, pass.Bytes(), c.addr)
	} else if h.cfg.Audit != nil {
		ref, _ = h.store.SecretRef(key)
	}
	if h.cfg.Audit != nil {
		h.record(audit.Reveal, h.cfg.Audit.Ref(ref), c, outcome(err, pass))
		if errors.Is(err, store.ErrLate) {
			h.recordLate(h.cfg.Audit.Ref(ref), c, store.LateReveal)
		}
	}
	return value, err
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
	c := h.door(ctx, audit.Receipt)
	defer c.done()
	if e := h.credential(&c, audit.Receipt, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if len(key) < store.MinKeyLen {
		h.writeError(ctx, errShortKey, nil)
		return
	}
	if e := h.limit(&c, kindReceipt, audit.Receipt); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	r, err := h.store.Receipt(key)
	if err != nil {
		h.writeError(ctx, h.errorFor(opReceipt, err), nil)
		return
	}
	b := newBody()
	w := jw{b: b.head}
	h.v1Receipt(&w, &r, v1Read)
	r.Wipe()
	b.head = w.b
	h.writeBody(ctx, b)
}

// burnSecret burns the secret behind a receipt key with the request's
// passphrase, and records the attempt.
func (h *Handler) burnSecret(c *caller, key []byte, f *fields) (store.Receipt, error) {
	pass, err := h.passphrase(f, false)
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
		h.record(audit.Burn, name, c, outcome(err, pass))
	}
	return r, err
}

func (h *Handler) burn(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.door(ctx, audit.Burn)
	defer c.done()
	if e := h.credential(&c, audit.Burn, false); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if len(key) < store.MinKeyLen {
		h.record(audit.Burn, "", &c, audit.Unknown)
		h.writeError(ctx, errShortKey, nil)
		return
	}
	if e := h.limit(&c, kindBurn, audit.Burn); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	f, err := h.readFields(ctx, flat)
	var r store.Receipt
	if err == nil {
		r, err = h.burnSecret(&c, key, &f)
	}
	if err != nil {
		h.writeError(ctx, h.errorFor(opBurn, err), nil)
		return
	}
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.key("state")
	h.v1Receipt(&w, &r, v1Read)
	w.str("secret_shortkey", r.ShortKey[:])
	w.close()
	r.Wipe()
	b.head = w.b
	h.writeBody(ctx, b)
}

// peek tells the secret page whether a secret waits, whether it needs a
// passphrase or a proof, and what its lockouts leave this caller. It never
// consumes anything.
func (h *Handler) peek(ctx *fasthttp.RequestCtx, key []byte) {
	c := h.where(ctx)
	if e := h.limit(&c, kindReveal, audit.Peek); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	if e := h.mayOpen(audit.Peek, key, &c); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	w, err := h.store.Peek(key, c.addr)
	if err != nil {
		if errors.Is(err, store.ErrLate) {
			h.recordLate(h.secretRef(key), &c, store.LatePage)
		}
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
	c := h.where(ctx)
	if e := h.limit(&c, kindReceipt, audit.Receipt); e != nil {
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
	w := jw{b: b.head, comma: true}
	appendLate(&w, &r)
	b.head = append(w.b, '}')
	h.writeBody(ctx, b)
}

// appendUnix appends t in unix seconds, 0 for the zero time.
func appendUnix(dst []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(dst, '0')
	}
	return strconv.AppendInt(dst, t.Unix(), 10)
}

// v1View is how an endpoint shows a receipt: upstream's receipt_hsh is
// called with different options by each.
type v1View uint8

const (
	v1Created v1View = iota // share, generate: everything about the waiting secret
	v1Read                  // receipt reads, burn: the secret's details while it waits
	v1Listed                // the recent list: no secret key, no secret details
)

// v1Receipt appends the v1 receipt object for r as view shows it.
func (h *Handler) v1Receipt(w *jw, r *store.Receipt, view v1View) {
	now := h.now()
	h.v1ReceiptHead(w, r, view, now)
	h.v1ReceiptAliases(w, r, view, now)
	w.close()
}

// v1ReceiptHead opens the v1 receipt object and appends its members up to
// "share_domain", where a generated value would follow.
//
// As upstream's receipt_hsh: "secret_key" and "secret_ttl" are gone once
// the secret was received; after a burn or expiry the key is "" and the
// ttl null, and the recent list shows no ttl; "received" only when received.
func (h *Handler) v1ReceiptHead(w *jw, r *store.Receipt, view v1View, now time.Time) {
	live := r.State == store.StateNew
	w.open("")
	w.strs("custid", r.CustID)
	w.str("metadata_key", r.ReceiptKey[:])
	if r.State != store.StateReceived && view != v1Listed {
		if live {
			w.str("secret_key", r.SecretKey[:])
		} else {
			w.strs("secret_key", "")
		}
	}
	w.int("ttl", int64(r.TTL/time.Second))
	w.int("metadata_ttl", secondsLeft(r.ReceiptExpires, now))
	if r.State != store.StateReceived {
		if live && view != v1Listed {
			w.int("secret_ttl", secondsLeft(r.SecretExpires, now))
		} else {
			w.null("secret_ttl")
		}
	}
	w.key("metadata_url")
	w.b = h.appendReceiptURL(w.b, r)
	w.strs("state", r.State.String())
	w.int("updated", r.Updated.Unix())
	w.int("created", r.Created.Unix())
	if r.State == store.StateReceived {
		w.int("received", r.Received.Unix())
	}
	w.raw("recipient", "[]")
	w.strs("share_domain", "")
}

// v1ReceiptAliases appends "passphrase_required" (while the secret waits,
// as upstream reads it from the secret) and the newer names upstream emits
// beside the v0.23 ones, leaving the object open.
func (h *Handler) v1ReceiptAliases(w *jw, r *store.Receipt, view v1View, now time.Time) {
	pass := r.State == store.StateNew && view != v1Listed
	if pass {
		w.bool("passphrase_required", r.PassphraseRequired)
	}
	w.str("identifier", r.ReceiptKey[:])
	if r.State != store.StateReceived && view != v1Listed {
		if r.State == store.StateNew {
			w.str("secret_identifier", r.SecretKey[:])
		} else {
			w.strs("secret_identifier", "")
		}
	}
	if pass {
		w.bool("has_passphrase", r.PassphraseRequired)
	}
	w.raw("recipients", "[]")
	w.int("receipt_ttl", secondsLeft(r.ReceiptExpires, now))
	w.key("receipt_url")
	w.b = h.appendReceiptURL(w.b, r)
}

// appendReceiptURL appends the receipt page's absolute URL as a JSON string.
func (h *Handler) appendReceiptURL(dst []byte, r *store.Receipt) []byte {
	dst = append(dst, '"')
	dst = append(dst, h.receiptBase...)
	dst = append(dst, r.ReceiptKey[:]...)
	return append(dst, '"')
}

// secondsLeft is the seconds from now until t, rounded (a secret made with
// ttl 300 reads 300 in the response that creates it), never negative.
func secondsLeft(t, now time.Time) int64 {
	return max(0, int64((t.Sub(now)+time.Second/2)/time.Second))
}

// writeJSON answers 200 with head as the whole body; head must come from
// newBody().head so it is wiped and pooled afterwards.
func (h *Handler) writeJSON(ctx *fasthttp.RequestCtx, head []byte) {
	h.writeJSONStatus(ctx, fasthttp.StatusOK, head)
}

// writeJSONStatus is writeJSON with another status.
func (h *Handler) writeJSONStatus(ctx *fasthttp.RequestCtx, status int, head []byte) {
	b := newBody()
	bodyPool.Put(b) // only its head buffer was wanted, already taken
	b = &body{head: head, tail: make([]byte, 0, 256)}
	h.writeBodyStatus(ctx, status, b)
}

func (h *Handler) writeBody(ctx *fasthttp.RequestCtx, b *body) {
	h.writeBodyStatus(ctx, fasthttp.StatusOK, b)
}

func (h *Handler) writeBodyStatus(ctx *fasthttp.RequestCtx, status int, b *body) {
	apiHeaders(ctx)
	ctx.SetStatusCode(status)
	ctx.SetBodyStream(b, b.size())
}
