package handler

// The Onetime Secret v2 API under /api/v2, as upstream v0.26 serves it
// (apps/api/v2: routes.txt, logic/secrets/*.rb, the receipt's and the
// secret's safe_dump fields). It is another door to the same store, with
// the same credentials, rate limits, access policy, passphrase lockouts,
// audit events and memory rules as v1 (see ../shared/ots-v2-api.md); what
// differs is the shape: fields nested under "secret" when creating, records
// in the v0.24 vocabulary ("revealed", not "received"), and errors as
// upstream's ADR-013 has them, {"error","error_type",...} with real status
// codes.
//
// Where otslite departs from upstream's code, on purpose:
//   - GET /secret/:id never consumes (upstream reveals there too when
//     continue=true); reveal and burn without continue=true look but do not
//     check the passphrase (nothing is consumed either way);
//   - the recent list leaves secret_identifier null: a leaked token must
//     not open the secrets it made;
//   - burn answers with the receipt as it is after the burn;
//   - no custom domains, no mail, no memo (PATCH), no previews counted.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"runtime/debug"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"otslite/handler/access"
	"otslite/handler/audit"
	"otslite/handler/params"
	"otslite/store"
)

// generatedShown is how long after generating a password its receipt may
// show it, once (upstream's generated_value_display_ttl default).
const generatedShown = time.Minute

var hdrRequestID = []byte("X-Request-Id")

// v2 is one v2 request.
type v2 struct {
	h     *Handler
	ctx   *fasthttp.RequestCtx
	rid   []byte // the request id errors carry
	guest bool   // a /guest route: anonymous only
}

// serveV2 routes the v2 API as upstream's routes.txt does; a trailing
// slash is ignored and what no route takes gets the router's 404.
func (h *Handler) serveV2(ctx *fasthttp.RequestCtx, path []byte) {
	r := v2{h: h, ctx: ctx, rid: requestID(ctx)}
	path = bytes.TrimSuffix(path, []byte("/"))
	if rest, ok := bytes.CutPrefix(path, []byte("guest/")); ok {
		r.guest, path = true, rest
	}
	var seg [4][]byte
	n := 0
	for p := path; n < len(seg); n++ {
		var s []byte
		s, p = route(p)
		seg[n] = s
		if p == nil {
			n++
			break
		}
		if n == len(seg)-1 {
			n = len(seg) + 1 // too many segments
		}
	}
	get, post := ctx.IsGet() || ctx.IsHead(), ctx.IsPost()
	is := func(i int, s string) bool { return i < n && string(seg[i]) == s }
	switch {
	case n == 1 && !r.guest && get && is(0, "status"):
		r.status()
	case n == 1 && !r.guest && get && is(0, "supported-locales"):
		r.locales()
	case n == 1 && !r.guest && get && is(0, "version"):
		r.version()
	case n == 2 && post && is(0, "secret") && is(1, "conceal"):
		r.create(false)
	case n == 2 && post && is(0, "secret") && is(1, "generate"):
		r.create(true)
	case n == 2 && !r.guest && post && is(0, "secret") && is(1, "status"):
		r.statuses()
	case n == 2 && get && is(0, "secret") && len(seg[1]) > 0:
		r.show(seg[1])
	case n == 3 && !r.guest && get && is(0, "secret") && is(2, "status"):
		r.secretStatus(seg[1])
	case n == 3 && post && is(0, "secret") && is(2, "reveal"):
		r.reveal(seg[1])
	case n == 2 && !r.guest && get && (is(0, "receipt") || is(0, "private") || is(0, "metadata")) && is(1, "recent"):
		r.recent()
	case n == 2 && get && (is(0, "receipt") || !r.guest && (is(0, "private") || is(0, "metadata"))) && len(seg[1]) > 0:
		r.receipt(seg[1])
	case n == 3 && post && (is(0, "receipt") || !r.guest && (is(0, "private") || is(0, "metadata"))) && is(2, "burn"):
		r.burn(seg[1])
	default:
		apiHeaders(ctx)
		ctx.Response.Header.SetBytesKV(hdrIntendedStatus, []byte("404"))
		h.writeJSONStatus(ctx, fasthttp.StatusNotFound, append(newBody().head, `{"error":"Not Found","error_type":"NotFound"}`...))
	}
}

// requestID is the request's X-Request-Id when it sent a sane one (printable
// ASCII, at most 200 bytes), else a new random one; the response carries it.
func requestID(ctx *fasthttp.RequestCtx) []byte {
	id := ctx.Request.Header.PeekBytes(hdrRequestID)
	ok := len(id) > 0 && len(id) <= 200
	for _, c := range id {
		ok = ok && c >= 0x20 && c <= 0x7e
	}
	if ok {
		id = append([]byte(nil), id...)
	} else {
		var b [12]byte
		rand.Read(b[:])
		id = hex.AppendEncode(nil, b[:])
	}
	ctx.Response.Header.SetBytesKV(hdrRequestID, id)
	return id
}

// fail answers with an ADR-013 error. status is the HTTP status; typ the
// error_type; field, when not "", the field at fault.
func (r *v2) fail(status int, typ, msg, field string, e *Error) {
	r.failCode(status, typ, msg, field, "", e)
}

// failCode is fail with ADR-013's "code" (an operation's discriminator).
func (r *v2) failCode(status int, typ, msg, field, code string, e *Error) {
	ctx := r.ctx
	markHold(ctx, e)
	apiHeaders(ctx)
	ctx.Response.Header.SetBytesKV(hdrIntendedStatus, strconv.AppendInt(nil, int64(status), 10))
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.strs("error", msg)
	w.strs("error_type", typ)
	if field != "" {
		w.strs("field", field)
	}
	if e != nil && e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		ctx.Response.Header.SetBytesKV(hdrRetryAfter, strconv.AppendInt(nil, secs, 10))
		w.int("retry_after", secs)
	}
	if code != "" {
		w.strs("code", code)
	}
	w.str("request_id", r.rid)
	w.close()
	b.head = w.b
	r.h.writeBodyStatus(ctx, status, b)
}

var (
	errGuestConceal  = &Error{Status: 403, Message: "Guest conceal is disabled"}
	errGuestGenerate = &Error{Status: 403, Message: "Guest generate is disabled"}
	errPayload       = &Error{Status: 400, Message: "Incorrect payload format"}
	errNoMail        = &Error{Status: 400, Message: "This server sends no email: leave recipient out"}
)

// failWith answers err as v2 reads it for operation o.
func (r *v2) failWith(o op, err error) {
	e := r.h.errorFor(o, err)
	switch {
	case errorIs(err, store.ErrPassphrase) && (o == opReveal || o == opBurn):
		r.fail(422, "FormError", msgIncorrectPass, "passphrase", nil)
	case e == errNothingToShare:
		r.fail(422, "missing", e.Message, "secret", nil)
	case e == r.h.errTooLarge:
		r.fail(422, "FormError", "Secret content must be no more than "+strconv.Itoa(r.h.store.MaxSecretSize())+" bytes long", "secret", nil)
	case e == errMalformed, e == errInvalidUTF8, e == errContentType, e == errEncoding, e == errFile:
		r.fail(400, "BadRequest", e.Message, "", nil)
	case e == errGuestConceal:
		r.failCode(403, "GuestRoutesDisabled", e.Message, "", "GUEST_CONCEAL_DISABLED", nil)
	case e == errGuestGenerate:
		r.failCode(403, "GuestRoutesDisabled", e.Message, "", "GUEST_GENERATE_DISABLED", nil)
	case e.V2Status == 403:
		r.fail(403, "Forbidden", e.Message, "", nil)
	case e.Status == 400:
		r.fail(422, "FormError", e.Message, "", nil)
	case e.Status == 401:
		r.fail(401, "Unauthorized", e.Message, "", nil)
	case e.Status == 403:
		r.fail(403, "Forbidden", e.Message, "", e)
	case e.Status == 404:
		r.fail(404, "RecordNotFound", msgUnknownSecret, "", nil)
	case e.Status == 429:
		r.fail(429, "LimitExceeded", e.Message, "", e)
	case e.Status == 503:
		r.fail(503, "ServiceUnavailable", e.Message, "", e)
	default:
		r.fail(500, "ServerError", "Internal Server Error", "", nil)
	}
}

func errorIs(err, target error) bool {
	for err != nil {
		if err == target {
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// door works out the caller; on a guest route a credential is still
// checked (a wrong one is refused) but the caller counts as anonymous.
func (r *v2) door(action string) caller {
	c := r.h.door(r.ctx, action)
	if r.guest && c.refused == nil {
		c.cred.Wipe()
		c.cred, c.authed = access.Credential{}, false
	}
	return c
}

func (r *v2) ok(b *body) { r.h.writeBody(r.ctx, b) }

// ---- meta ----

func (r *v2) status() {
	c := r.door(audit.Status)
	defer c.done()
	if e := r.h.credential(&c, audit.Status, false); e != nil {
		r.failWith(opReceipt, e)
		return
	}
	r.h.writeJSON(r.ctx, append(newBody().head, `{"success":true,"status":"nominal","locale":"en"}`...))
}

func (r *v2) locales() {
	c := r.door(audit.Status)
	defer c.done()
	if e := r.h.credential(&c, audit.Status, false); e != nil {
		r.failWith(opReceipt, e)
		return
	}
	// The API speaks English only (the web UI has its own languages).
	r.h.writeJSON(r.ctx, append(newBody().head, `{"success":true,"locales":["en"],"default_locale":"en","locale":"en"}`...))
}

// version needs a credential, as upstream's does: a build's exact version
// helps whoever matches it against known flaws.
func (r *v2) version() {
	c := r.door(audit.Status)
	defer c.done()
	if e := r.h.credential(&c, audit.Status, true); e != nil {
		r.failWith(opReceipt, e)
		return
	}
	v, rev := "devel", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.bool("success", true)
	w.key("version")
	w.grow(16 + roomString(len(v)+len(rev)))
	w.b = appendString(append(w.b, `["otslite",`...), []byte(v))
	if rev != "" {
		w.b = appendString(append(w.b, ','), []byte(rev))
	}
	w.b = append(w.b, ']')
	w.strs("locale", "en")
	w.close()
	b.head = w.b
	r.ok(b)
}

// ---- creating ----

func (r *v2) create(generate bool) {
	action := audit.Create
	if generate {
		action = audit.Generate
	}
	c := r.door(action)
	defer c.done()
	e := r.h.mayCreate(&c, action)
	if e == errNotAuthorized && r.guest && c.refused == nil {
		// Anonymous creating is off: the guest route says so.
		e = errGuestConceal
		if generate {
			e = errGuestGenerate
		}
	}
	if e != nil {
		r.failWith(opCreate, e)
		return
	}
	f, err := r.h.readFields(r.ctx, nested)
	if err == nil && f.payload {
		err = errPayload
	}
	if err == nil && f.has&hasRecipient != 0 && recipientGiven(f.recipient) {
		if !c.authed {
			// As upstream: an account is needed, an authentication failure.
			r.fail(401, "Unauthorized", msgNoEmail, "", nil)
			return
		}
		err = errNoMail
	}
	var rc store.Receipt
	var value *store.Plain
	if err == nil {
		if generate {
			rc, value, err = r.h.generated(&c, &f)
			value.Release() // shown on the first receipt read, not here
		} else {
			rc, err = r.h.conceal(&c, &f)
		}
	}
	if err != nil {
		r.failWith(opCreate, err)
		return
	}
	kind := "conceal"
	if generate {
		kind = "generate"
	}
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.bool("success", true)
	w.open("record")
	for _, name := range []string{"receipt", "metadata"} {
		w.open(name)
		r.receiptFields(&w, &rc, sidShow)
		w.close()
	}
	w.open("secret")
	r.secretFields(&w, rc.SecretKey[:], store.Waiting{
		PassphraseRequired: rc.PassphraseRequired, Created: rc.Created, TTL: rc.TTL, CustID: rc.CustID, Generated: generate,
	}, "new")
	w.close()
	w.null("share_domain")
	w.close()
	w.open("details")
	w.strs("kind", kind)
	w.raw("recipient", "[]")
	w.raw("recipient_safe", "[]")
	w.close()
	w.close()
	rc.Wipe()
	b.head = w.b
	r.ok(b)
}

// ---- secrets ----

// opening starts a request about the secret behind key: the caller's
// credential, the rate limit and the reveal policy. On refusal it answers
// and returns false.
func (r *v2) opening(c *caller, action string, key []byte) bool {
	e := r.h.credential(c, action, false)
	if e == nil {
		e = r.h.limit(c, kindReveal, action)
	}
	if e == nil {
		e = r.h.mayOpen(action, key, c)
	}
	if e != nil {
		r.failWith(opReveal, e)
		return false
	}
	return true
}

// peek is the store's Peek, writing a look at a link whose secret is
// gone (kept on its receipt) to the audit trail, as the page's look does.
func (r *v2) peek(c *caller, key []byte) (store.Waiting, error) {
	wt, err := r.h.store.Peek(key, c.addr)
	if errorIs(err, store.ErrLate) {
		r.h.recordLate(r.h.secretRef(key), c, store.LatePage)
	}
	return wt, err
}

// show is GET /secret/:id: what the recipient's page needs to know. It
// never consumes the secret, whatever the request says.
func (r *v2) show(key []byte) {
	c := r.door(audit.Peek)
	defer c.done()
	if !r.opening(&c, audit.Peek, key) {
		return
	}
	wt, err := r.peek(&c, key)
	if err != nil {
		r.failWith(opReveal, err)
		return
	}
	f, _ := r.h.readFields(r.ctx, flat)
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.open("record")
	r.secretFields(&w, key, wt, "new")
	w.close()
	w.open("details")
	w.bool("continue", truthy(f.has&hasContinue != 0, f.cont))
	w.bool("is_owner", c.authed && wt.CustID == c.cred.User)
	w.bool("show_secret", false)
	w.bool("correct_passphrase", !wt.PassphraseRequired)
	w.int("display_lines", displayLines(nil))
	w.null("one_liner")
	w.close()
	w.close()
	b.head = w.b
	r.ok(b)
}

// reveal is POST /secret/:id/reveal: with continue=true (and the
// passphrase, when there is one) it consumes the secret, exactly once.
func (r *v2) reveal(key []byte) {
	c := r.door(audit.Reveal)
	defer c.done()
	if !r.opening(&c, audit.Reveal, key) {
		return
	}
	f, err := r.h.readFields(r.ctx, flat)
	var wt store.Waiting
	if err == nil {
		wt, err = r.peek(&c, key)
	}
	if err != nil {
		if r.h.cfg.Audit != nil {
			r.h.record(audit.Reveal, r.h.secretRef(key), &c, outcome(err, nil))
		}
		r.failWith(opReveal, err)
		return
	}
	owner := c.authed && wt.CustID == c.cred.User
	if !truthy(f.has&hasContinue != 0, f.cont) {
		// A look, as GET: nothing consumed, no passphrase tried.
		b := newBody()
		w := jw{b: append(b.head, '{')}
		w.open("record")
		r.secretFields(&w, key, wt, "new")
		w.close()
		r.details(&w, false, owner, false, !wt.PassphraseRequired, nil)
		w.close()
		b.head = w.b
		r.ok(b)
		return
	}
	value, err := r.h.open(&c, key, &f)
	if err != nil {
		r.failWith(opReveal, err)
		return
	}
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.open("record")
	r.secretFields(&w, key, wt, "revealed")
	w.key("secret_value")
	b.head = w.with('"')
	t := jw{b: append(b.tail, '"', '}'), comma: true}
	r.details(&t, true, owner, true, true, value.Bytes())
	t.close()
	b.tail = t.b
	b.plain = value // released by b.Close
	r.ok(b)
}

// details appends a secret's "details" object.
func (r *v2) details(w *jw, cont, owner, show, correct bool, value []byte) {
	w.open("details")
	w.bool("continue", cont)
	w.bool("is_owner", owner)
	w.bool("show_secret", show)
	w.bool("correct_passphrase", correct)
	w.int("display_lines", displayLines(value))
	if len(value) == 0 {
		w.null("one_liner")
	} else {
		w.bool("one_liner", bytes.IndexByte(value, '\n') < 0)
	}
	w.close()
}

// displayLines is upstream's guess at how many lines a value needs shown.
func displayLines(v []byte) int64 {
	n := int64((80+utf8.RuneCount(v))/80 + bytes.Count(v, []byte("\n")) + 3)
	return min(n, 30)
}

// truthy reports whether a flag parameter says "true" (a string or a JSON
// true, as upstream compares it).
func truthy(has bool, v params.Value) bool {
	if !has || v.MaxLen() != len("true") {
		return false
	}
	var buf [4]byte
	n, err := v.DecodeTo(buf[:])
	return err == nil && string(buf[:n]) == "true"
}

// secretStatus is GET /secret/:id/status: whether it waits, never consuming.
func (r *v2) secretStatus(key []byte) {
	c := r.door(audit.Peek)
	defer c.done()
	if !r.opening(&c, audit.Peek, key) {
		return
	}
	wt, err := r.peek(&c, key)
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.open("record")
	if err != nil {
		w.strs("state", "unknown")
		w.close()
	} else {
		r.secretFields(&w, key, wt, "new")
		w.close()
		w.open("details")
		w.int("current_expiration", secondsLeft(wt.Expires, r.h.now()))
		w.close()
	}
	w.close()
	b.head = w.b
	r.ok(b)
}

// maxStatuses bounds the identifiers one status request may ask about.
const maxStatuses = 100

// statuses is POST /secret/status: the waiting secrets among identifiers
// (a comma-separated string or a JSON list).
func (r *v2) statuses() {
	c := r.door(audit.Peek)
	defer c.done()
	if !r.opening(&c, audit.Peek, nil) {
		return
	}
	f, err := r.h.readFields(r.ctx, flat)
	if err != nil {
		r.failWith(opReveal, err)
		return
	}
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.openArray("records")
	count, asked := 0, 0
	// Keys are link keys: decoded onto the stack (wiped with it) and
	// only looked up.
	var buf [4096]byte
	look := func(v params.Value) {
		if asked++; asked > maxStatuses || v.MaxLen() > len(buf) {
			return
		}
		n, err := v.DecodeTo(buf[:v.MaxLen()])
		if err != nil {
			return
		}
		for _, id := range bytes.Split(buf[:n], []byte(",")) {
			id = bytes.TrimSpace(id)
			if wt, err := r.peek(&c, id); err == nil {
				w.open("")
				r.secretFields(&w, id, wt, "new")
				w.close()
				count++
			}
		}
		clear(buf[:n])
	}
	if f.has&hasIdentifiers != 0 {
		if f.identifiers.Kind() == params.Other {
			f.identifiers.Elements(func(v params.Value) error { look(v); return nil })
		} else {
			look(f.identifiers)
		}
	}
	w.closeArray()
	w.int("count", int64(count))
	w.close()
	b.head = w.b
	r.ok(b)
}

// secretFields appends a secret's fields as upstream's safe_dump has them.
func (r *v2) secretFields(w *jw, key []byte, wt store.Waiting, state string) {
	w.str("identifier", key)
	w.str("key", key)
	w.str("shortid", key[:min(8, len(key))])
	w.strs("state", state)
	ttl := int64(wt.TTL / time.Second)
	w.int("lifespan", ttl)
	w.int("secret_ttl", ttl)
	w.bool("has_passphrase", wt.PassphraseRequired)
	w.bool("verification", false)
	w.int("created", wt.Created.Unix())
	w.int("updated", wt.Created.Unix())
	w.bool("is_previewed", false)
	w.bool("is_revealed", state == "revealed")
	w.bool("is_viewed", false)
	w.bool("is_received", state == "revealed")
}

// ---- receipts ----

// v2State is a receipt's state in the v0.24 vocabulary.
func v2State(s store.State) string {
	if s == store.StateReceived {
		return "revealed"
	}
	return s.String()
}

// How a receipt shows "secret_identifier".
type sidMode uint8

const (
	sidShow sidMode = iota // the secret key while it waits, then ""
	sidNull                // null (the recent list)
	sidOmit                // left out (a receipt read that cannot show the secret)
)

// receiptFields appends a receipt's fields as upstream's safe_dump has them.
func (r *v2) receiptFields(w *jw, rc *store.Receipt, sid sidMode) {
	live := rc.State == store.StateNew
	w.str("identifier", rc.ReceiptKey[:])
	w.str("key", rc.ReceiptKey[:])
	w.null("custid") // upstream's deprecated custid is null on its new records
	if rc.CustID == access.Anonymous || rc.CustID == "" {
		w.null("owner_id")
	} else {
		w.strs("owner_id", rc.CustID)
	}
	w.strs("state", v2State(rc.State))
	if rc.ShortKey[0] != 0 {
		w.str("secret_shortid", rc.ShortKey[:])
	} else {
		w.strs("secret_shortid", "")
	}
	switch {
	case sid == sidShow && live:
		w.str("secret_identifier", rc.SecretKey[:])
	case sid == sidShow:
		w.strs("secret_identifier", "")
	case sid == sidNull:
		w.null("secret_identifier")
	}
	ttl := int64(rc.TTL / time.Second)
	w.int("secret_ttl", ttl)
	w.int("metadata_ttl", ttl)
	w.int("receipt_ttl", ttl)
	w.int("lifespan", ttl)
	w.null("share_domain")
	w.int("created", rc.Created.Unix())
	w.int("updated", rc.Updated.Unix())
	w.null("shared")
	w.strs("recipients", "")
	w.null("recipient_name")
	w.null("memo")
	w.str("shortid", rc.ReceiptKey[:8])
	w.bool("show_recipients", false)
	w.null("previewed")
	revealed := rc.State == store.StateReceived
	if revealed {
		w.int("revealed", rc.Received.Unix())
	} else {
		w.null("revealed")
	}
	w.bool("is_previewed", false)
	w.null("viewed")
	if revealed {
		w.int("received", rc.Received.Unix())
	} else {
		w.null("received")
	}
	if rc.State == store.StateBurned {
		w.int("burned", rc.Updated.Unix())
	} else {
		w.null("burned")
	}
	w.bool("is_viewed", false)
	w.bool("is_received", revealed)
	w.bool("is_revealed", revealed)
	w.bool("is_burned", rc.State == store.StateBurned)
	w.bool("is_expired", rc.State == store.StateExpired)
	w.bool("is_orphaned", false)
	w.bool("is_destroyed", !live)
	w.bool("has_passphrase", rc.PassphraseRequired)
	if rc.Generated {
		w.strs("kind", "generate")
	} else {
		w.strs("kind", "conceal")
	}
	w.strs("source", "standard")
}

// links appends the paths (without a leading slash, as upstream's
// build_path makes them) and URLs of a receipt, straight into w. sid is the
// secret key, or empty once the secret is gone.
func (r *v2) links(w *jw, rid, sid []byte) {
	share := [][]byte{[]byte("secret"), sid}
	burn := [][]byte{[]byte("receipt"), rid, []byte("burn")}
	rec := [][]byte{[]byte("receipt"), rid}
	base := r.h.cfg.PublicURL + "/"
	w.joined("share_path", "", share)
	w.joined("burn_path", "", burn)
	w.joined("receipt_path", "", rec)
	w.joined("metadata_path", "", rec)
	w.joined("share_url", base, share)
	w.joined("receipt_url", base, rec)
	w.joined("metadata_url", base, rec)
	w.joined("burn_url", base, burn)
}

// naturalDuration is upstream's natural_duration: "30 seconds", "60
// minutes", "2 hours", "7 days".
func naturalDuration(secs int64) string {
	switch {
	case secs <= 60:
		return strconv.FormatInt(secs, 10) + " seconds"
	case secs <= 3600:
		return strconv.FormatInt(secs/60, 10) + " minutes"
	case secs <= 86400:
		return strconv.FormatInt(secs/3600, 10) + " hours"
	}
	return strconv.FormatInt(secs/86400, 10) + " days"
}

// receipt is GET /receipt/:id. A generated password that still waits is
// shown here once, within a minute of its making (details.secret_value).
func (r *v2) receipt(key []byte) {
	c := r.door(audit.Receipt)
	defer c.done()
	e := r.h.credential(&c, audit.Receipt, false)
	if e == nil {
		e = r.h.limit(&c, kindReceipt, audit.Receipt)
	}
	if e != nil {
		r.failWith(opReceipt, e)
		return
	}
	rc, err := r.h.store.Receipt(key)
	if err != nil {
		r.failWith(opReceipt, err)
		return
	}
	defer rc.Wipe()
	var value *store.Plain
	if rc.State == store.StateNew && rc.Generated {
		value, err = r.h.store.ShowGenerated(key, generatedShown)
		if err != nil {
			r.failWith(opReceipt, err)
			return
		}
	}
	live := rc.State == store.StateNew
	show := live && !rc.PassphraseRequired
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.open("record")
	if show {
		r.receiptFields(&w, &rc, sidShow)
	} else {
		r.receiptFields(&w, &rc, sidOmit)
	}
	if live {
		w.strs("secret_state", "new")
	} else {
		w.null("secret_state")
	}
	ttl := int64(rc.TTL / time.Second)
	w.strs("natural_expiration", naturalDuration(ttl))
	w.int("expiration", rc.Created.Unix()+ttl)
	w.int("expiration_in_seconds", ttl)
	var sid []byte
	if live {
		sid = rc.SecretKey[:]
	}
	r.links(&w, rc.ReceiptKey[:], sid)
	w.close()
	w.open("details")
	w.strs("type", "record")
	w.int("display_lines", displayLines(value.Bytes()))
	w.bool("no_cache", true)
	if live {
		w.int("secret_realttl", secondsLeft(rc.SecretExpires, r.h.now()))
	} else {
		w.null("secret_realttl")
	}
	w.int("view_count", 0)
	w.null("first_access")
	w.null("last_access")
	w.bool("has_passphrase", live && rc.PassphraseRequired)
	w.bool("can_decrypt", live)
	rest := func(t *jw) {
		t.bool("show_secret", show)
		t.bool("show_secret_link", show)
		t.bool("show_receipt_link", live)
		t.bool("show_receipt", true)
		t.bool("show_recipients", false)
		t.close()
		t.close()
	}
	if value == nil {
		w.null("secret_value")
		rest(&w)
		b.head = w.b
	} else {
		w.key("secret_value")
		b.head = w.with('"')
		t := jw{b: append(b.tail, '"'), comma: true}
		rest(&t)
		b.tail = t.b
		b.plain = value // released by b.Close
	}
	r.ok(b)
}

// burn is POST /receipt/:id/burn: with continue=true (and the passphrase,
// when there is one) it destroys the secret before it is read.
func (r *v2) burn(key []byte) {
	c := r.door(audit.Burn)
	defer c.done()
	e := r.h.credential(&c, audit.Burn, false)
	if e == nil {
		e = r.h.limit(&c, kindBurn, audit.Burn)
	}
	if e != nil {
		r.failWith(opBurn, e)
		return
	}
	f, err := r.h.readFields(r.ctx, flat)
	if err != nil {
		r.failWith(opBurn, err)
		return
	}
	var rc store.Receipt
	burned := truthy(f.has&hasContinue != 0, f.cont)
	if burned {
		rc, err = r.h.burnSecret(&c, key, &f)
	} else {
		// Without continue nothing is burned: the receipt as it is.
		if rc, err = r.h.store.Receipt(key); err == nil && rc.State != store.StateNew {
			rc.Wipe()
			err = store.ErrNotFound
		}
	}
	if err != nil {
		r.failWith(opBurn, err)
		return
	}
	defer rc.Wipe()
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.bool("success", burned)
	w.open("record")
	r.receiptFields(&w, &rc, sidShow)
	ttl := 2 * int64(rc.TTL/time.Second) // the receipt's own lifetime
	w.strs("natural_expiration", naturalDuration(ttl))
	w.int("expiration", rc.Created.Unix()+ttl)
	w.int("expiration_in_seconds", ttl)
	var sid []byte
	if rc.State == store.StateNew {
		sid = rc.SecretKey[:]
	}
	r.links(&w, rc.ReceiptKey[:], sid)
	w.close()
	w.raw("details", `{"type":"record","title":"Secret burned","display_lines":0,"display_feedback":false,"no_cache":true,"view_count":0,"has_passphrase":false,"can_decrypt":false,"show_secret":false,"show_secret_link":false,"show_receipt_link":false,"show_receipt":true,"show_recipients":false,"is_orphaned":false}`)
	w.close()
	b.head = w.b
	r.ok(b)
}

// recent is GET /receipt/recent: the receipts made with the caller's
// credential in the last 30 days, most recently updated first.
func (r *v2) recent() {
	c := r.door(audit.Recent)
	defer c.done()
	if e := r.h.credential(&c, audit.Recent, true); e != nil {
		r.failWith(opReceipt, e)
		return
	}
	items, err := r.h.recents.unmasked(&c.cred)
	if err != nil {
		r.failWith(opReceipt, errUnavailable)
		return
	}
	gone := make(map[uint64]bool)
	now := r.h.now()
	var list []store.Receipt
	for i := range items {
		rc, err := r.h.store.Receipt(items[i].key[:])
		items[i].key.Wipe()
		if unavailable(err) {
			for j := range items[i:] {
				items[i+j].key.Wipe()
			}
			for k := range list {
				list[k].Wipe()
			}
			r.failWith(opReceipt, errUnavailable)
			return
		}
		if err != nil {
			if errorIs(err, store.ErrNotFound) {
				gone[items[i].nonce] = true
			}
			continue
		}
		if now.Sub(rc.Created) <= 30*24*time.Hour {
			list = append(list, rc)
		} else {
			rc.Wipe()
		}
	}
	r.h.recents.drop(c.cred.ID, gone)
	// Most recently updated first (a stable sort keeps newest-made first
	// among equals).
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && list[j].Updated.After(list[j-1].Updated); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	b := newBody()
	w := jw{b: append(b.head, '{')}
	w.bool("success", true)
	w.strs("custid", c.cred.User)
	w.int("count", int64(len(list)))
	each := func(name string, keep func(*store.Receipt) bool) {
		w.openArray(name)
		for i := range list {
			if keep(&list[i]) {
				w.open("")
				r.receiptFields(&w, &list[i], sidNull)
				w.close()
			}
		}
		w.closeArray()
	}
	all := func(*store.Receipt) bool { return true }
	each("records", all)
	w.open("details")
	w.strs("type", "list")
	w.null("scope")
	w.null("scope_label")
	w.int("since", now.Add(-30*24*time.Hour).Unix())
	w.int("now", now.Unix())
	w.bool("has_items", len(list) > 0)
	each("revealed_receipts", func(rc *store.Receipt) bool { return rc.State != store.StateNew })
	each("pending_receipts", func(rc *store.Receipt) bool { return rc.State == store.StateNew })
	w.close()
	w.close()
	for i := range list {
		list[i].Wipe()
	}
	b.head = w.b
	r.ok(b)
}
