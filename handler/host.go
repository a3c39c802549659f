package handler

// Host pinning. A request must name this server: its Host (or, for an
// absolute-form request target, the target's host, which fasthttp puts in
// its place as RFC 9112 §3.2.2 asks) must be one of Config.PinHosts.
// Anything else gets 421 Misdirected Request, with the security headers,
// and a log line naming the Host seen.
//
// Why: links are built from the public URL and never from Host, so this is
// not about links. It keeps a name an attacker controls from reaching
// otslite: with DNS rebinding, a page on evil.example whose name now
// resolves to otslite's address would otherwise be same-origin with it in
// the victim's browser, from inside the network that --reveal-allow trusts.
//
// Health probes (GET or HEAD /api/v1/status) are also answered for a Host
// that is an IP address or empty: container and load-balancer checks
// address a server by IP, an address cannot be rebound, and the answer is
// the same fixed text for everyone. A name is never excepted.

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// hostNames expands Config.PinHosts into the forms a client may send, in
// lower case: a name without a port also as name:80 and name:443, and
// name:80 or name:443 also without the port.
func hostNames(hosts []string) [][]byte {
	var out [][]byte
	add := func(s string) {
		b := bytes.ToLower([]byte(s))
		for _, have := range out {
			if bytes.Equal(have, b) {
				return
			}
		}
		out = append(out, b)
	}
	for _, h := range hosts {
		if h == "" {
			continue
		}
		add(h)
		name, port, ok := splitHostPort(h)
		switch {
		case !ok:
			add(h + ":80")
			add(h + ":443")
		case port == "80" || port == "443":
			add(name)
		}
	}
	return out
}

// splitHostPort splits "name:port" or "[v6]:port"; ok is false when there
// is no port. A bare IPv6 address ("::1") has no port.
func splitHostPort(h string) (name, port string, ok bool) {
	i := len(h) - 1
	for i >= 0 && '0' <= h[i] && h[i] <= '9' {
		i--
	}
	if i < 0 || h[i] != ':' || i == len(h)-1 {
		return h, "", false
	}
	name = h[:i]
	if strings.Contains(name, ":") && (len(name) < 2 || name[0] != '[' || name[len(name)-1] != ']') {
		return h, "", false // an IPv6 address without brackets
	}
	return name, h[i+1:], true
}

// misdirected reports whether the request names a host that is not this
// server's, and logs it when it does.
func (h *Handler) misdirected(ctx *fasthttp.RequestCtx, probe bool) bool {
	if len(h.pinHosts) == 0 {
		return false
	}
	host := ctx.Host()
	for _, name := range h.pinHosts {
		if bytes.EqualFold(host, name) {
			return false
		}
	}
	if probe && (len(host) == 0 || ipLiteral(host)) {
		return false
	}
	h.misdirects.log(h, host)
	return true
}

// ipLiteral reports whether a Host value is an IP address, with or without
// a port.
func ipLiteral(host []byte) bool {
	s := string(host)
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParseAddrPort(s)
	return err == nil
}

// maxMisdirectLines caps the 421 log lines per second; a flood of foreign
// names is summed up in the next line rather than written line by line.
const maxMisdirectLines = 10

// misdirectLog writes the 421 log lines.
type misdirectLog struct {
	mu         sync.Mutex
	second     int64 // unix second of the current count
	n          int   // lines written in it
	suppressed int   // 421s not logged since the last line
}

func (m *misdirectLog) log(h *Handler, host []byte) {
	if h.cfg.Log == nil {
		return
	}
	now := h.now().Unix()
	m.mu.Lock()
	if now != m.second {
		m.second, m.n = now, 0
	}
	if m.n >= maxMisdirectLines {
		m.suppressed++
		m.mu.Unlock()
		return
	}
	m.n++
	more := m.suppressed
	m.suppressed = 0
	m.mu.Unlock()
	// The name is the client's: quoted (control bytes escaped) and cut.
	quoted := strconv.Quote(string(host[:min(len(host), 100)]))
	line := "421 Misdirected Request for Host " + quoted + ": not a name of this server (the public URL's host, or the listen address); if clients use it, make it the host of --public-url"
	if more > 0 {
		line += " (" + strconv.Itoa(more) + " more 421s since the last such line were not logged)"
	}
	h.logf("%s", line)
}
