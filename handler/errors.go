package handler

import (
	"errors"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/handler/params"
	"otslite/store"
)

// Error is an API failure: the status it means and the text the client sees.
// The v1 API answers every failure with HTTP 404 and carries the meaning in
// X-OTS-Intended-Status.
type Error struct {
	Status     int
	Message    string
	RetryAfter time.Duration // for 429 and lockouts
	V2Status   int           // the status v2 answers with, where it is not Status's
}

func (e *Error) Error() string { return e.Message }

// Messages the v1 contract fixes.
const (
	msgNothingToShare = "You did not provide anything to share"
	msgUnknownSecret  = "Unknown secret"
	msgNotFound       = "Not Found"
	msgNotAuthorized  = "Not authorized"
	msgIncorrectPass  = "Incorrect passphrase"
	msgNoEmail        = "An account is required to send emails."
	// Upstream's v1 wording (controllers/base.rb, check_rate_limit!).
	msgRateLimited = "Rate limit exceeded. Please try again later."
)

var (
	errNothingToShare = &Error{Status: 400, Message: msgNothingToShare}
	errUnknownSecret  = &Error{Status: 404, Message: msgUnknownSecret}
	errShortKey       = &Error{Status: 404, Message: msgNotFound}
	errNotAuthorized  = &Error{Status: 401, Message: msgNotAuthorized}
	errNoEmail        = &Error{Status: 400, Message: msgNoEmail}
	errNoRoute        = &Error{Status: 404, Message: msgNotFound}
	errMethod         = &Error{Status: 405, Message: "Method not allowed"}
	errContentType    = &Error{Status: 400, Message: "Send the body as application/x-www-form-urlencoded, multipart/form-data or application/json"}
	errFile           = &Error{Status: 400, Message: "File uploads are not accepted: send the secret as a form field"}
	errEncoding       = &Error{Status: 400, Message: "Compressed request bodies are not accepted"}
	errMalformed      = &Error{Status: 400, Message: "Malformed request body"}
	errInvalidUTF8    = &Error{Status: 400, Message: "Request body is not valid UTF-8"}
	errBadTTL         = &Error{Status: 400, Message: "ttl must be a whole number of seconds"}
	errBadLength      = &Error{Status: 400, Message: "Generated password length must be a positive number"}
	errLongLength     = &Error{Status: 400, Message: "Generated password length must be no more than 128 characters"}
	errCharsets       = &Error{Status: 400, Message: "character_sets cannot turn a set off: generated passwords always mix upper and lower case letters, digits and symbols, without ambiguous characters"}
	errBusy           = &Error{Status: 503, Message: "Server busy, try again shortly"}
	errHashBusy       = &Error{Status: 503, Message: "Server busy checking passphrases, try again shortly", RetryAfter: 5 * time.Second}
	errFull           = &Error{Status: 503, Message: "Server is full, try again later"}
	errClosed         = &Error{Status: 503, Message: "Server is shutting down"}
	errInternal       = &Error{Status: 500, Message: "Internal error"}
)

// Operations whose failures read differently.
type op uint8

const (
	opCreate op = iota
	opReveal
	opReceipt
	opBurn
)

// errorFor is the one place that turns a failure into what the client sees.
// Internal causes are never shown; a wrong passphrase on reveal reads exactly
// like an unknown secret, so it is no oracle.
func (h *Handler) errorFor(o op, err error) *Error {
	var e *Error
	var lock *store.LockoutError
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &lock):
		return &Error{Status: 429, Message: "Too many passphrase attempts; try again later", RetryAfter: lock.Until.Sub(h.now())}
	case errors.Is(err, store.ErrPassphrase) && o == opBurn:
		return &Error{Status: 400, Message: msgIncorrectPass}
	case errors.Is(err, store.ErrPassphrase), errors.Is(err, store.ErrNotFound):
		return errUnknownSecret
	case errors.Is(err, store.ErrEmpty):
		return errNothingToShare
	case errors.Is(err, store.ErrTooLarge), errors.Is(err, params.ErrShortBuffer):
		return h.errTooLarge
	case errors.Is(err, store.ErrHashBusy):
		return errHashBusy
	case errors.Is(err, store.ErrBusy):
		return errBusy
	case errors.Is(err, store.ErrFull):
		return errFull
	case errors.Is(err, store.ErrClosed):
		return errClosed
	case errors.Is(err, params.ErrFile):
		return errFile
	case errors.Is(err, store.ErrUnavailable):
		return errUnavailable
	case errors.Is(err, params.ErrInvalidUTF8):
		return errInvalidUTF8
	case errors.Is(err, params.ErrMalformed),
		errors.Is(err, params.ErrInvalid): // e.g. a secret sent as a JSON object
		return errMalformed
	}
	h.logf("internal error: %v", err)
	return errInternal
}

// writeError answers with the v1 error shape. key, when given, is echoed as
// "secret_key" (reveal failures do that).
func (h *Handler) writeError(ctx *fasthttp.RequestCtx, e *Error, key []byte) {
	markHold(ctx, e)
	apiHeaders(ctx)
	ctx.SetStatusCode(fasthttp.StatusNotFound)
	ctx.Response.Header.SetBytesKV(hdrIntendedStatus, strconv.AppendInt(nil, int64(e.Status), 10))
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		ctx.Response.Header.SetBytesKV(hdrRetryAfter, strconv.AppendInt(nil, secs, 10))
	}
	b := newBody()
	b.head = append(b.head, `{"message":`...)
	b.head = appendString(b.head, []byte(e.Message))
	if key != nil {
		b.head = append(b.head, `,"secret_key":`...)
		b.head = appendString(b.head, key[:min(len(key), 128)])
	}
	b.head = append(b.head, '}')
	ctx.SetBodyStream(b, b.size())
}

// writeNoRoute answers a request no v1 route takes as upstream's router
// does, {"error":"Not Found"}; the intended status says 405 when the path
// is known with another method.
func (h *Handler) writeNoRoute(ctx *fasthttp.RequestCtx, intended int) {
	ctx.Response.Header.SetBytesKV(hdrIntendedStatus, strconv.AppendInt(nil, int64(intended), 10))
	h.writeJSONStatus(ctx, fasthttp.StatusNotFound, append(newBody().head, `{"error":"Not Found"}`...))
}

// holdKey marks a request whose answer is a refusal as busy (errHashBusy).
type holdKey struct{}

// markHold marks the request when e is a refusal as busy.
func markHold(ctx *fasthttp.RequestCtx, e *Error) {
	if e == errHashBusy {
		ctx.SetUserValue(holdKey{}, true)
	}
}

// holdRefusal keeps a refusal as busy from being answered sooner than
// BusyHold after its request came. It runs once the request is wiped, so
// what waits is the answer alone, on its connection. A passphrase request
// refused at once costs the server about what a plain request does, and a
// flood whose clients wait for their answers would otherwise send them as
// fast as they are refused (about 1,900 a second from 256 clients pausing
// 100 ms on one CPU here); held, each client sends about one a second.
// A request refused after waiting its turn (HashWait) is not held more.
func (h *Handler) holdRefusal(ctx *fasthttp.RequestCtx) {
	if h.cfg.BusyHold <= 0 || ctx.UserValue(holdKey{}) == nil {
		return
	}
	if d := h.cfg.BusyHold - time.Since(ctx.Time()); d > 0 {
		time.Sleep(d)
	}
}
