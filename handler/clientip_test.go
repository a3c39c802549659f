package handler

import (
	"bufio"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// clientOf parses head (a request head as a proxy sends it, lines joined
// by \n) with fasthttp's own parser, as the server does, and returns the
// client address h finds for it when it arrives from peer.
func clientOf(tb testing.TB, h *Handler, peer, head string) netip.Addr {
	tb.Helper()
	raw := strings.ReplaceAll(head, "\n", "\r\n") + "\r\n\r\n"
	var req fasthttp.Request
	if err := req.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		tb.Fatalf("parsing %q: %v", raw, err)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(peer), Port: 40000}, nil)
	return h.clientAddr(&ctx)
}

// TestClientAddrProxyShapes sends the X-Forwarded-For shapes that nginx,
// HAProxy, Caddy and Traefik send, each with a client that wrote its own
// X-Forwarded-For to pick an address (10.9.9.9). The proxies are
// 192.0.2.0/24 (trusted); the real client is 198.51.100.7 or 2001:db8::7.
func TestClientAddrProxyShapes(t *testing.T) {
	h, _, _ := MustOpenHandler(t, withTrustedProxies("192.0.2.0/24", "2001:db8:ffff::/48"))
	const start = "POST /api/v1/share HTTP/1.1\nHost: ots.example\n"
	for _, c := range []struct {
		name, peer, head, want string
	}{
		// nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for
		// joins every line the client sent, then the client's address.
		{"Nginx", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, 198.51.100.7", "198.51.100.7"},
		{"NginxClientSentTwoLines", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, 10.8.8.8, 198.51.100.7", "198.51.100.7"},
		{"NginxNoClientHeader", "192.0.2.1", "X-Forwarded-For: 198.51.100.7", "198.51.100.7"},
		// HAProxy: option forwardfor adds a line of its own after
		// whatever the client sent.
		{"HAProxy", "192.0.2.1", "X-Forwarded-For: 10.9.9.9\nX-Forwarded-For: 198.51.100.7", "198.51.100.7"},
		{"HAProxyClientSentTwoLines", "192.0.2.1", "X-Forwarded-For: 10.9.9.9\nX-Forwarded-For: 10.8.8.8, 10.7.7.7\nX-Forwarded-For: 198.51.100.7", "198.51.100.7"},
		{"HAProxyIPv6", "2001:db8:ffff::1", "X-Forwarded-For: 10.9.9.9\nX-Forwarded-For: 2001:db8::7", "2001:db8::7"},
		{"HAProxyHeaderNameCase", "192.0.2.1", "x-forwarded-for: 10.9.9.9\nX-FORWARDED-FOR: 198.51.100.7", "198.51.100.7"},
		// Caddy replaces the header of an untrusted client, and joins
		// with ", " behind a trusted one.
		{"Caddy", "192.0.2.1", "X-Forwarded-For: 198.51.100.7", "198.51.100.7"},
		{"CaddyBehindTrustedProxy", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, 198.51.100.7, 192.0.2.2", "198.51.100.7"},
		// Traefik: its own entry, joined to a trusted upstream's with ",".
		{"Traefik", "192.0.2.1", "X-Forwarded-For: 198.51.100.7", "198.51.100.7"},
		{"TraefikNoSpace", "192.0.2.1", "X-Forwarded-For: 10.9.9.9,198.51.100.7,192.0.2.3", "198.51.100.7"},
		// Two proxies: HAProxy in front of nginx.
		{"HAProxyThenNginx", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, 198.51.100.7, 192.0.2.2", "198.51.100.7"},
		// Some proxies write ports.
		{"Port", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, 198.51.100.7:4711", "198.51.100.7"},
		{"IPv6Port", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, [2001:db8::7]:4711", "2001:db8::7"},
		{"Mapped", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, ::ffff:198.51.100.7", "198.51.100.7"},
		// Empty entries and lines are skipped.
		{"EmptyEntries", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, , 198.51.100.7,", "198.51.100.7"},
		{"EmptyLine", "192.0.2.1", "X-Forwarded-For: 198.51.100.7\nX-Forwarded-For:", "198.51.100.7"},
		// Garbage to the left of the trusted hops stops the walk at the
		// last proxy: never at anything the client wrote.
		{"GarbageLeftOfProxy", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, unknown, 192.0.2.2", "192.0.2.2"},
		{"ZonedEntry", "192.0.2.1", "X-Forwarded-For: 10.9.9.9, fe80::1%eth0", "192.0.2.1"},
		// Without a header, the trusted peer is the client.
		{"NoHeader", "192.0.2.1", "", "192.0.2.1"},
		// Forwarded is ignored, alone and beside X-Forwarded-For.
		{"ForwardedIgnored", "192.0.2.1", "Forwarded: for=10.9.9.9", "192.0.2.1"},
		{"ForwardedBesideXFF", "192.0.2.1", "Forwarded: for=10.9.9.9\nX-Forwarded-For: 198.51.100.7", "198.51.100.7"},
		// An untrusted peer is the client, whatever it says.
		{"UntrustedPeer", "198.51.100.7", "X-Forwarded-For: 10.9.9.9\nX-Forwarded-For: 192.0.2.1", "198.51.100.7"},
	} {
		t.Run(c.name, func(t *testing.T) {
			head := start + c.head
			if c.head == "" {
				head = strings.TrimSuffix(start, "\n")
			}
			if got := clientOf(t, h, c.peer, head); got != netip.MustParseAddr(c.want) {
				t.Errorf("from %s with\n%s\nclient %s; want %s", c.peer, c.head, got, c.want)
			}
		})
	}
}

// TestClientAddrPolicyBehindHAProxy runs HAProxy's shape through the
// server: a client outside --reveal-allow that sends its own
// X-Forwarded-For line with an allowed address is still refused, and the
// rate limit counts it under its real address.
func TestClientAddrPolicyBehindHAProxy(t *testing.T) {
	s := MustOpenServer(t, withRevealAllow("10.0.0.0/8"), withTrustedProxies("127.0.0.1/32"), withRateLimit(3))
	ref := s.MustShare(t, "for the office only")
	proxy := s.clientFrom(net.IPv4(127, 0, 0, 1))
	reveal := func(spoof string) *response {
		req := newRequest("POST", "/api/v1/secret/"+ref.secretKey, ctForm, "")
		defer fasthttp.ReleaseRequest(req)
		req.Header.Add("X-Forwarded-For", spoof)
		req.Header.Add("X-Forwarded-For", "198.51.100.7") // HAProxy's line
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(resp)
		if err := proxy.Do(req, resp); err != nil {
			t.Fatal(err)
		}
		r := &response{status: resp.StatusCode(), body: append([]byte(nil), resp.Body()...)}
		resp.Header.CopyTo(&r.header)
		return r
	}
	MustFail(t, reveal("10.0.0.1"), 403, "Opening secrets is not allowed from your address")
	// Each try names a new address; the limit still sees one client.
	MustFail(t, reveal("10.0.0.2"), 403, "")
	MustFail(t, reveal("10.0.0.3"), 403, "")
	MustFail(t, reveal("10.0.0.4"), 429, "")
}
