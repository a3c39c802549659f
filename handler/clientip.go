package handler

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// clientAddr is the address a request comes from: the socket peer, unless
// the peer is a trusted proxy. Then X-Forwarded-For is read as one list,
// every header line in the order received and every comma-separated entry
// in each (RFC 9110 §5.3: repeated lines are one list), and walked from the
// right, the hop nearest us, past every trusted proxy; the first untrusted
// address is the client.
//
// Proxies append: nginx joins what the client sent to its own entry on one
// line, HAProxy adds a line of its own after the client's, Caddy and
// Traefik replace or join. Whatever the shape, what the client wrote stands
// to the left of what our proxies wrote, so reading from the right is the
// only order a client cannot steer.
//
// Empty entries are skipped (RFC 9110 §5.6.1). An entry that is not an
// address (nor an address with a port, as some proxies write) stops the
// walk at the last address known good, a trusted proxy's, so a client
// cannot forge its way past one.
//
// Forwarded (RFC 7239) is ignored: every common proxy sends
// X-Forwarded-For, and believing two headers would let a client choose
// the one its proxy does not rewrite.
func (h *Handler) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	peer := peerAddr(ctx)
	if len(h.cfg.TrustedProxies) == 0 || !h.trusted(peer) {
		return peer
	}
	lines := ctx.Request.Header.PeekAll(fasthttp.HeaderXForwardedFor)
	addr := peer
	for l := len(lines) - 1; l >= 0; l-- {
		xff := lines[l]
		for len(xff) > 0 {
			i := bytes.LastIndexByte(xff, ',')
			hop := bytes.TrimSpace(xff[i+1:])
			xff = xff[:max(i, 0)]
			if len(hop) > 0 {
				a, ok := parseHop(hop)
				if !ok {
					return addr
				}
				addr = a
				if !h.trusted(addr) {
					return addr
				}
			}
			if i < 0 {
				break
			}
		}
	}
	return addr
}

// parseHop reads one X-Forwarded-For entry: an IP address, or an address
// and port (192.0.2.7:4711, [2001:db8::7]:4711). A zoned address names an
// interface of the sender's, not a client, and is refused.
func parseHop(hop []byte) (netip.Addr, bool) {
	s := string(hop) // short, and not secret; the compiler may avoid the copy
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	if a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

func (h *Handler) trusted(a netip.Addr) bool { return within(h.cfg.TrustedProxies, a) }

func peerAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if tcp, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().Unmap()
	}
	a, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return a.Unmap()
}
