package handler

import (
	"bytes"
	"net"
	"net/netip"

	"github.com/valyala/fasthttp"
)

// clientAddr is the address a request comes from: the socket peer, unless
// the peer is a trusted proxy, in which case X-Forwarded-For is walked from
// the right (the hop nearest us) past every trusted proxy, and the first
// untrusted address is the client. A malformed entry stops the walk at the
// last address known good, so a client cannot forge its way past a proxy.
func (h *Handler) clientAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	peer := peerAddr(ctx)
	if len(h.cfg.TrustedProxies) == 0 || !h.trusted(peer) {
		return peer
	}
	xff := ctx.Request.Header.PeekBytes(hdrXForwardedFor)
	addr := peer
	for len(xff) > 0 {
		i := bytes.LastIndexByte(xff, ',')
		hop := bytes.TrimSpace(xff[i+1:])
		xff = xff[:max(i, 0)]
		a, err := netip.ParseAddr(string(hop))
		if err != nil || a.Zone() != "" {
			// A zoned address names an interface of the sender's, not
			// a client; it is as good as malformed here.
			return addr
		}
		addr = a.Unmap()
		if !h.trusted(addr) {
			return addr
		}
		if i < 0 {
			break
		}
	}
	return addr
}

func (h *Handler) trusted(a netip.Addr) bool { return within(h.cfg.TrustedProxies, a) }

func peerAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if tcp, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		return tcp.AddrPort().Addr().Unmap()
	}
	a, _ := netip.AddrFromSlice(ctx.RemoteIP())
	return a.Unmap()
}
