package main

// The client's side of the Onetime Secret v1 API, as otslite and upstream
// Onetime Secret serve it (../shared/ots-v1-api.md), plus otslite's own
// config and peek endpoints. Refusals come back in the server's own words.
// Link keys, proofs, passphrases and secret values stay in vault memory.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"otslite/handler/params"
)

// apiError is a refusal, in the server's own words.
type apiError struct {
	status     int    // the intended status (v1 sends errors as 404)
	message    string // the server's message; never holds a secret
	retryAfter time.Duration
}

func (e *apiError) Error() string {
	msg := e.message
	if msg == "" {
		msg = fmt.Sprintf("the server refused (HTTP %d)", e.status)
	}
	if e.retryAfter > 0 {
		msg += fmt.Sprintf(" (try again in %s)", formatDuration(e.retryAfter.Round(time.Second)))
	}
	return msg
}

// Messages of the v1 contract the client acts on.
const (
	msgUnknownSecret = "Unknown secret"
	msgIncorrectPass = "Incorrect passphrase"
)

// unknown reports whether err is the v1 "Unknown secret": the secret was
// read, burned, expired or never there, or (on reveal) the passphrase is
// wrong, which v1 does not tell apart.
func unknown(err error) bool {
	var e *apiError
	return errors.As(err, &e) && (e.message == msgUnknownSecret || e.status == 404 && e.message == "")
}

// wrongPassphrase reports whether err is burn's "Incorrect passphrase".
func wrongPassphrase(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.message == msgIncorrectPass
}

// refused reports whether err is a refusal that is not about the secret:
// credentials, policy, rate limits, lockouts.
func refused(err error) bool {
	var e *apiError
	return errors.As(err, &e) && (e.status == 401 || e.status == 403 || e.status == 429)
}

// sessionOver reports whether err says that nothing listens at the
// server's address. For a link only otslite makes (one with a
// zero-knowledge fragment) that means its session has ended, and an
// otslite server keeps nothing past its end.
func sessionOver(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

const msgSessionOver = "nothing answers at %s: the otslite session that held this secret has ended, and with it everything it held"

// reply is what the client reads from a v1 (or otslite) JSON answer.
// Keys and values are in vault memory, freed with the reply.
type reply struct {
	resp       *response
	fields     []byte // vault memory the keys below are decoded into
	secretKey  []byte
	receiptKey []byte // metadata_key, or a group's receipt_key
	requestKey []byte
	inboxKey   []byte
	requestURL []byte
	receiptURL []byte // metadata_url
	value      []byte // reveal and generate; its own vault buffer
	valueBuf   []byte

	state                   string
	ttl, secretTTL          int64
	metadataTTL             int64
	created, updated, recvd int64
	passphraseRequired      bool

	// otslite's config
	maxSecretSize, passphraseMin, passphraseMax int64
	maxFileSize, maxEnvelopeSize                int64
}

// free wipes the reply's memory.
func (a *reply) free(v *vault) {
	if a == nil {
		return
	}
	v.free(a.valueBuf)
	v.free(a.fields)
	if a.resp != nil {
		v.free(a.resp.raw)
	}
}

// client talks to one server.
type client struct {
	ep   *endpoint
	v    *vault
	json bool   // send JSON bodies rather than forms
	auth []byte // "Basic ..." in vault memory, or nil
}

// call sends one request and reads the JSON answer. A refusal comes back
// as *apiError with the server's message; an answer that is not JSON as a
// plain error naming the HTTP status.
func (c *client) call(ctx context.Context, method string, path []byte, form []field, auth bool) (*reply, error) {
	req := request{method: method, path: path}
	var parts [][]byte
	if method == "POST" {
		var err error
		if parts, err = c.encode(form); err != nil {
			return nil, err
		}
		defer func() {
			for _, p := range parts {
				c.v.free(p)
			}
		}()
		req.body = parts
		req.contentType = "application/x-www-form-urlencoded"
		if c.json {
			req.contentType = "application/json"
		}
	}
	if auth {
		req.auth = c.auth
	}
	resp, err := c.ep.do(ctx, c.v, req)
	if err != nil {
		return nil, err
	}
	return c.answer(resp)
}

// field is one request parameter. secret says the value must be composed
// in vault memory (the body part holding it is).
type field struct {
	name   string
	value  []byte
	secret bool
}

// encode writes the fields as one form or JSON body, in vault memory when
// any field is secret, else on the heap (an envelope is not a secret; it
// can be large, and locked memory is scarce). The parts are returned for
// freeing.
func (c *client) encode(fields []field) ([][]byte, error) {
	// Secret fields go in a vault part of their own; the rest on the heap.
	var parts [][]byte
	var sep byte = '&'
	if c.json {
		sep = ','
	}
	first := true
	add := func(f field, dst []byte) []byte {
		if !first {
			dst = append(dst, sep)
		}
		first = false
		if c.json {
			dst = append(dst, '"')
			dst = append(dst, f.name...)
			dst = append(dst, `":"`...)
			dst = appendJSONString(dst, f.value)
			return append(dst, '"')
		}
		dst = append(dst, f.name...)
		dst = append(dst, '=')
		return appendFormValue(dst, f.value)
	}
	if c.json {
		parts = append(parts, []byte{'{'})
	}
	for _, f := range fields {
		size := len(f.name) + 6*len(f.value) + 8
		if !f.secret {
			// Exactly what it takes: an envelope may be large.
			size = len(f.name) + encodedLen(f.value, c.json) + 8
			parts = append(parts, add(f, make([]byte, 0, size)))
			continue
		}
		buf, err := c.v.alloc(size)
		if err != nil {
			for _, p := range parts {
				c.v.free(p)
			}
			return nil, err
		}
		out := add(f, buf[:0])
		if &out[0] != &buf[0] {
			clear(out)
			return nil, errors.New("request outgrew its buffer")
		}
		parts = append(parts, out)
	}
	if c.json {
		parts = append(parts, []byte{'}'})
	}
	return parts, nil
}

// encodedLen is the length of b in a form (or, with asJSON, a JSON
// string) as appendFormValue and appendJSONString write it.
func encodedLen(b []byte, asJSON bool) int {
	n := len(b)
	for _, c := range b {
		switch {
		case asJSON && (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t'):
			n++
		case asJSON && c < 0x20:
			n += 5
		case asJSON:
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '*', c == ' ':
		default:
			n += 2
		}
	}
	return n
}

// appendFormValue percent-encodes b as application/x-www-form-urlencoded.
func appendFormValue(dst, b []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range b {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '*':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// appendJSONString escapes b (UTF-8) for a JSON string.
func appendJSONString(dst, b []byte) []byte {
	const hex = "0123456789abcdef"
	for _, c := range b {
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// parse reads the fields the client uses from the JSON answer. It returns
// "message", the server's words on a refusal.
func (a *reply) parse(v *vault) (string, error) {
	body := a.resp.body
	var err error
	if a.fields, err = v.alloc(len(body) + 1); err != nil {
		return "", err
	}
	at := 0
	decode := func(val params.Value) ([]byte, error) {
		n, err := val.DecodeTo(a.fields[at:])
		if err != nil {
			return nil, err
		}
		b := a.fields[at : at+n : at+n]
		at += n
		return b, nil
	}
	var message string
	err = params.Each(body, params.JSON, func(key []byte, val params.Value) error {
		var err error
		switch string(key) {
		case "message":
			var b []byte
			if b, err = decode(val); err == nil {
				message = string(b) // the server's words, never a secret
			}
		case "secret_key":
			a.secretKey, err = decode(val)
		case "metadata_key", "receipt_key":
			a.receiptKey, err = decode(val)
		case "request_key":
			a.requestKey, err = decode(val)
		case "requester_key":
			a.inboxKey, err = decode(val)
		case "request_url":
			a.requestURL, err = decode(val)
		case "metadata_url":
			a.receiptURL, err = decode(val)
		case "state":
			// A string on receipts; burn's answer nests the receipt there.
			if val.Kind() == params.String {
				var b []byte
				if b, err = decode(val); err == nil && len(b) <= 16 {
					a.state = string(b)
				}
			}
		case "value":
			if a.valueBuf, err = v.alloc(max(val.MaxLen(), 1)); err == nil {
				var n int
				n, err = val.DecodeTo(a.valueBuf)
				a.value = a.valueBuf[:n]
			}
		case "passphrase_required":
			var b [5]byte
			n, _ := val.DecodeTo(b[:])
			a.passphraseRequired = string(b[:n]) == "true"
		case "ttl":
			a.ttl, _ = val.Int()
		case "secret_ttl":
			a.secretTTL, _ = val.Int()
		case "metadata_ttl":
			a.metadataTTL, _ = val.Int()
		case "created":
			a.created, _ = val.Int()
		case "updated":
			a.updated, _ = val.Int()
		case "received":
			a.recvd, _ = val.Int()
		case "max_secret_size":
			a.maxSecretSize, _ = val.Int()
		case "passphrase_min":
			a.passphraseMin, _ = val.Int()
		case "passphrase_max":
			a.passphraseMax, _ = val.Int()
		case "max_file_size":
			a.maxFileSize, _ = val.Int()
		case "max_envelope_size":
			a.maxEnvelopeSize, _ = val.Int()
		}
		return err
	})
	if err != nil {
		return "", errNotV1
	}
	return message, nil
}

// apiPath builds "/api/v1/<kind>/<key>[/<action>]" in vault memory.
func (c *client) apiPath(prefix string, key []byte, suffix string) ([]byte, error) {
	p, err := c.v.alloc(len(prefix) + len(key) + len(suffix))
	if err != nil {
		return nil, err
	}
	n := copy(p, prefix)
	n += copy(p[n:], key)
	copy(p[n:], suffix)
	return p, nil
}

// errNotJSON means an answer that should be JSON is not; errNotV1, that
// it is not the flat object the v1 API sends.
var (
	errNotJSON = errors.New("the answer is not JSON")
	errNotV1   = errors.New("the answer is not the JSON object the v1 API sends")
)

// otsliteConfig asks whether the server is otslite (its own config
// endpoint answers) and returns its limits; nil when it is not otslite.
// Only a failure to reach the server, or a refusal to answer (rate
// limits, policy), is an error: whatever else a server says to a path it
// does not know (an error, a web page) means it is not otslite.
func (c *client) otsliteConfig(ctx context.Context) (*reply, error) {
	a, err := c.call(ctx, "GET", []byte("/api/otslite/config"), nil, false)
	var e *apiError
	if errors.Is(err, errNotJSON) || errors.Is(err, errNotV1) || errors.As(err, &e) && !refused(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if a.passphraseMax <= 0 || a.maxSecretSize <= 0 {
		a.free(c.v)
		return nil, nil
	}
	return a, nil
}

// share stores a secret (or an envelope with its proof as the passphrase).
func (c *client) share(ctx context.Context, secret []byte, secretIsPlain bool, passphrase []byte, ttl time.Duration) (*reply, error) {
	fields := []field{{name: "secret", value: secret, secret: secretIsPlain}}
	if len(passphrase) > 0 {
		fields = append(fields, field{name: "passphrase", value: passphrase, secret: true})
	}
	if ttl > 0 {
		fields = append(fields, field{name: "ttl", value: strconv.AppendInt(nil, int64(ttl/time.Second), 10)})
	}
	a, err := c.call(ctx, "POST", []byte("/api/v1/share"), fields, true)
	if err == nil && (!validLinkKey(a.secretKey) || !validLinkKey(a.receiptKey)) {
		a.free(c.v)
		return nil, fmt.Errorf("%s: the answer has no secret_key and metadata_key a link can carry", c.ep.base.Host)
	}
	return a, err
}

// reveal opens a secret once.
func (c *client) reveal(ctx context.Context, key, passphrase []byte) (*reply, error) {
	path, err := c.apiPath("/api/v1/secret/", key, "")
	if err != nil {
		return nil, err
	}
	defer c.v.free(path)
	var fields []field
	if len(passphrase) > 0 {
		fields = []field{{name: "passphrase", value: passphrase, secret: true}}
	}
	return c.call(ctx, "POST", path, fields, false)
}

// peek asks otslite whether a secret waits, without consuming it. It
// returns false (and no error) when the server says it is unknown.
func (c *client) peek(ctx context.Context, key []byte) (waiting bool, passphrase bool, err error) {
	path, err := c.apiPath("/api/otslite/secret/", key, "")
	if err != nil {
		return false, false, err
	}
	defer c.v.free(path)
	a, err := c.call(ctx, "GET", path, nil, false)
	if unknown(err) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	defer a.free(c.v)
	return true, a.passphraseRequired, nil
}

// receipt reads a secret's receipt.
func (c *client) receipt(ctx context.Context, key []byte) (*reply, error) {
	path, err := c.apiPath("/api/v1/receipt/", key, "")
	if err != nil {
		return nil, err
	}
	defer c.v.free(path)
	return c.call(ctx, "GET", path, nil, false)
}

// burn destroys a secret before it is read.
func (c *client) burn(ctx context.Context, key, passphrase []byte) (*reply, error) {
	path, err := c.apiPath("/api/v1/receipt/", key, "/burn")
	if err != nil {
		return nil, err
	}
	defer c.v.free(path)
	var fields []field
	if len(passphrase) > 0 {
		fields = []field{{name: "passphrase", value: passphrase, secret: true}}
	}
	return c.call(ctx, "POST", path, fields, false)
}

// basicAuth makes the Authorization value for a "user:token" credential,
// in vault memory.
func basicAuth(v *vault, cred []byte) ([]byte, error) {
	const prefix = "Basic "
	out, err := v.alloc(len(prefix) + base64.StdEncoding.EncodedLen(len(cred)))
	if err != nil {
		return nil, err
	}
	copy(out, prefix)
	base64.StdEncoding.Encode(out[len(prefix):], cred)
	return out, nil
}

// linkBase is the base of a server's links from a receipt's metadata_url
// (".../receipt/<key>" or ".../private/<key>"), or "" when it has none.
func linkBase(receiptURL, receiptKey []byte) string {
	for _, p := range []string{"/receipt/", "/private/", "/metadata/"} {
		suffix := append([]byte(p), receiptKey...)
		if len(receiptKey) > 0 && bytes.HasSuffix(receiptURL, suffix) {
			clear(suffix)
			base := receiptURL[:len(receiptURL)-len(suffix)]
			if u, err := url.Parse(string(base)); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
				return string(base)
			}
			return ""
		}
		clear(suffix)
	}
	return ""
}
