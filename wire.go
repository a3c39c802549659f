package main

// One HTTP/1.1 exchange with a server, its bytes in locked memory. Go's
// net/http copies request and response bodies through buffers of its own,
// and keeps header values (credentials) as strings; neither can be wiped.
// Here a request is written from vault memory and the whole response read
// into it, one request per connection ("Connection: close"), so every
// copy of a secret, a proof or a credential is one the command wipes.
// Over TLS, crypto/tls decrypts records in buffers of its own, as it does
// for the server (SECURITY.md): the zero-knowledge envelope is what keeps
// a secret's text out of those.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"otslite/store/secretmode"
)

// endpoint is a server as the client reaches it.
type endpoint struct {
	base    *url.URL // scheme, host and path prefix, no trailing '/'
	dial    string   // address to connect to; "" for the URL's host and port
	pin     []byte   // SHA-256 of the certificate expected (self-signed); nil: the system's roots
	timeout time.Duration
}

// newEndpoint reads a server URL (http or https, no query or fragment).
// pin is a certificate fingerprint as otslite prints it ("AB:CD:..."), or
// "".
func newEndpoint(raw, pin string) (*endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q: want a URL like https://secrets.example.org", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	e := &endpoint{base: u, timeout: 30 * time.Second}
	if pin != "" {
		if e.pin, err = parseFingerprint(pin); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// parseFingerprint reads a SHA-256 fingerprint: 64 hex digits, pairs
// optionally separated by ':'.
func parseFingerprint(s string) ([]byte, error) {
	h := strings.ReplaceAll(strings.TrimPrefix(strings.TrimSpace(s), "SHA256:"), ":", "")
	b := make([]byte, 0, sha256.Size)
	for i := 0; i+1 < len(h); i += 2 {
		v, err := strconv.ParseUint(h[i:i+2], 16, 8)
		if err != nil {
			break
		}
		b = append(b, byte(v))
	}
	if len(h) != 2*sha256.Size || len(b) != sha256.Size {
		return nil, fmt.Errorf("--fingerprint: %q: want the certificate's SHA-256, 64 hex digits (AB:CD:...)", s)
	}
	return b, nil
}

func (e *endpoint) String() string { return e.base.String() }

// request is one API call. Parts of the body that hold secrets must be in
// vault memory; the rest (an envelope, say) may be anywhere.
type request struct {
	method      string
	path        []byte // appended to the base path; may hold a link key (vault memory)
	contentType string
	body        [][]byte
	auth        []byte // an Authorization value in vault memory, or nil
}

// response is what came back, all of it in vault memory.
type response struct {
	status     int // the HTTP status
	intended   int // X-OTS-Intended-Status when given (v1 errors are 404), else status
	retryAfter time.Duration
	json       bool   // Content-Type says JSON
	raw        []byte // the whole response
	body       []byte // within raw
}

// maxResponse bounds what is read: an envelope of the largest secret
// otslite takes, escaped, with room to spare.
const maxResponse = 128 << 20

var errCutShort = errors.New("the server's answer was cut short")

// do sends req and reads the whole response into vault memory. The caller
// frees resp.raw with v.free.
func (e *endpoint) do(ctx context.Context, v *vault, req request) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	conn, err := e.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := e.send(conn, v, req); err != nil {
		return nil, e.failed(ctx, "sending the request", err)
	}
	resp, err := readResponse(conn, v)
	if err != nil {
		return nil, e.failed(ctx, "reading the answer", err)
	}
	return resp, nil
}

// failed words a network error, naming a timeout or cancellation.
func (e *endpoint) failed(ctx context.Context, doing string, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: no answer within %s", e.base.Host, e.timeout)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return fmt.Errorf("%s: %s: %w", e.base.Host, doing, err)
}

func (e *endpoint) connect(ctx context.Context) (net.Conn, error) {
	host := e.base.Hostname()
	port := e.base.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[e.base.Scheme]
	}
	addr := e.dial
	if addr == "" {
		addr = net.JoinHostPort(host, port)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, e.failed(ctx, "connecting", err)
	}
	if e.base.Scheme != "https" {
		return conn, nil
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	if e.pin != nil {
		// The certificate is the one pinned, whatever it claims: a
		// self-signed one cannot be checked any other way.
		cfg.InsecureSkipVerify = true //nolint:gosec // verified by pin below
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no certificate")
			}
			got := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if subtle.ConstantTimeCompare(got[:], e.pin) != 1 {
				return fmt.Errorf("the certificate's fingerprint is %s, not the one given", fingerprint(cs.PeerCertificates[0].Raw))
			}
			return nil
		}
	}
	tc := tls.Client(conn, cfg)
	// The handshake and every read and write run in secretmode.Do, so the
	// write buffers crypto/tls drops (a request's credential or proof among
	// them) are erased.
	secretmode.Do(func() { err = tc.HandshakeContext(ctx) })
	if err != nil {
		conn.Close()
		if e.pin == nil && isUnknownAuthority(err) {
			return nil, fmt.Errorf("%s: %w; for a self-signed certificate, give its fingerprint with --fingerprint", e.base.Host, err)
		}
		return nil, e.failed(ctx, "TLS", err)
	}
	return secretmode.Conn{Conn: tc}, nil
}

func isUnknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua)
}

// send writes req: its head (with any credential) composed in vault
// memory, then the body parts as they are.
func (e *endpoint) send(conn net.Conn, v *vault, req request) error {
	n := 0
	for _, p := range req.body {
		n += len(p)
	}
	headLen := 256 + len(e.base.EscapedPath()) + len(req.path) + len(e.base.Host) + len(req.contentType) + len(req.auth)
	head, err := v.alloc(headLen)
	if err != nil {
		return err
	}
	defer v.free(head)
	h := head[:0]
	h = append(h, req.method...)
	h = append(h, ' ')
	h = append(h, e.base.EscapedPath()...)
	h = append(h, req.path...)
	h = append(h, " HTTP/1.1\r\nHost: "...)
	h = append(h, e.base.Host...)
	h = append(h, "\r\nUser-Agent: otslite\r\nAccept: application/json\r\nConnection: close\r\n"...)
	if req.auth != nil {
		h = append(h, "Authorization: "...)
		h = append(h, req.auth...)
		h = append(h, "\r\n"...)
	}
	if req.method == "POST" {
		if req.contentType != "" {
			h = append(h, "Content-Type: "...)
			h = append(h, req.contentType...)
			h = append(h, "\r\n"...)
		}
		h = append(h, "Content-Length: "...)
		h = strconv.AppendInt(h, int64(n), 10)
		h = append(h, "\r\n"...)
	}
	h = append(h, "\r\n"...)
	if &h[0] != &head[0] {
		clear(h)
		return errors.New("request head outgrew its buffer")
	}
	if _, err := conn.Write(h); err != nil {
		return err
	}
	for _, p := range req.body {
		if _, err := conn.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// readResponse reads a whole HTTP/1.1 response into vault memory and
// parses its head. Chunked bodies are decoded in place.
func readResponse(r io.Reader, v *vault) (*response, error) {
	buf, err := v.alloc(16 << 10)
	if err != nil {
		return nil, err
	}
	n := 0
	headEnd := -1
	want := -1 // total length, once the head says so
	var resp *head
	for {
		if n == len(buf) {
			if len(buf) >= maxResponse {
				v.free(buf)
				return nil, errors.New("the server's answer is too large")
			}
			if buf, err = v.grow(buf, min(2*len(buf), maxResponse)); err != nil {
				return nil, err
			}
		}
		m, rerr := r.Read(buf[n:])
		n += m
		if headEnd < 0 {
			if i := bytes.Index(buf[:n], []byte("\r\n\r\n")); i >= 0 {
				headEnd = i + 4
				if resp, err = parseHead(buf[:headEnd]); err != nil {
					v.free(buf)
					return nil, err
				}
				if resp.contentLength >= 0 {
					want = headEnd + resp.contentLength
					if want > maxResponse {
						v.free(buf)
						return nil, errors.New("the server's answer is too large")
					}
					if want > len(buf) {
						if buf, err = v.grow(buf, want); err != nil {
							return nil, err
						}
					}
				}
			}
		}
		if want >= 0 && n >= want {
			n = want
			break
		}
		if resp != nil && resp.chunked && (bytes.HasSuffix(buf[headEnd:n], []byte("\r\n0\r\n\r\n")) || string(buf[headEnd:n]) == "0\r\n\r\n") {
			break // the last chunk: the server need not close first
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			v.free(buf)
			return nil, rerr
		}
	}
	if headEnd < 0 || want > n {
		v.free(buf)
		return nil, errCutShort
	}
	body := buf[headEnd:n]
	if resp.chunked {
		size, err := dechunk(body)
		if err != nil {
			v.free(buf)
			return nil, err
		}
		clear(body[size:])
		body = body[:size]
	}
	resp.raw, resp.body = buf, body
	return &resp.response, nil
}

// head is a parsed response head.
type head struct {
	response
	contentLength int // -1 when not given
	chunked       bool
}

func parseHead(h []byte) (*head, error) {
	lines := bytes.Split(h[:len(h)-4], []byte("\r\n"))
	status := lines[0]
	if !bytes.HasPrefix(status, []byte("HTTP/1.")) || len(status) < 12 || status[8] != ' ' {
		return nil, errors.New("the server did not answer in HTTP/1.1")
	}
	code, err := strconv.Atoi(string(status[9:12]))
	if err != nil {
		return nil, errors.New("the server's answer has no status")
	}
	r := &head{contentLength: -1}
	r.status, r.intended = code, code
	for _, l := range lines[1:] {
		name, value, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch strings.ToLower(string(bytes.TrimSpace(name))) {
		case "content-length":
			if r.contentLength, err = strconv.Atoi(string(value)); err != nil || r.contentLength < 0 {
				return nil, errors.New("the server's answer has a bad Content-Length")
			}
		case "transfer-encoding":
			r.chunked = bytes.EqualFold(value, []byte("chunked"))
		case "content-type":
			r.json = bytes.HasPrefix(bytes.ToLower(value), []byte("application/json"))
		case "x-ots-intended-status":
			if n, err := strconv.Atoi(string(value)); err == nil {
				r.intended = n
			}
		case "retry-after":
			if n, err := strconv.Atoi(string(value)); err == nil && n > 0 {
				r.retryAfter = time.Duration(n) * time.Second
			}
		}
	}
	if r.chunked {
		r.contentLength = -1
	}
	return r, nil
}

// dechunk decodes a chunked body in place and returns its length.
func dechunk(b []byte) (int, error) {
	bad := errors.New("the server's answer has a malformed chunked body")
	out, in := 0, 0
	for {
		end := bytes.Index(b[in:], []byte("\r\n"))
		if end < 0 {
			return 0, errCutShort
		}
		sizeField, _, _ := bytes.Cut(b[in:in+end], []byte(";"))
		size, err := strconv.ParseUint(string(bytes.TrimSpace(sizeField)), 16, 32)
		if err != nil {
			return 0, bad
		}
		in += end + 2
		if size == 0 {
			return out, nil
		}
		if uint64(len(b)-in) < size+2 {
			return 0, errCutShort
		}
		copy(b[out:], b[in:in+int(size)])
		out += int(size)
		in += int(size)
		if !bytes.HasPrefix(b[in:], []byte("\r\n")) {
			return 0, bad
		}
		in += 2
	}
}
