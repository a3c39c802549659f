package handler

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// maxConnsPerIP caps the connections one client address holds open.
const maxConnsPerIP = 256

// Listener wraps ln with TLS (when tlsConfig is not nil) and the
// per-address connection cap. (fasthttp's own MaxConnsPerIP wrapper races
// with Shutdown closing idle connections: its Close clears a field its Read
// reads without a lock.)
func (h *Handler) Listener(ln net.Listener, tlsConfig *tls.Config) net.Listener {
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return &listener{Listener: ln, limit: maxConnsPerIP, perIP: make(map[netip.Addr]int)}
}

type listener struct {
	net.Listener
	limit int
	mu    sync.Mutex
	perIP map[netip.Addr]int
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var addr netip.Addr
		if tcp, ok := c.RemoteAddr().(*net.TCPAddr); ok {
			addr = bucket(tcp.AddrPort().Addr())
		}
		l.mu.Lock()
		n := l.perIP[addr]
		if n < l.limit {
			l.perIP[addr] = n + 1
		}
		l.mu.Unlock()
		if n >= l.limit {
			c.Close()
			continue
		}
		return &conn{Conn: c, l: l, addr: addr}, nil
	}
}

func (l *listener) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[addr] <= 1 {
		delete(l.perIP, addr)
	} else {
		l.perIP[addr]--
	}
}

// conn gives its slot back once, on the first Close.
type conn struct {
	net.Conn
	l      *listener
	addr   netip.Addr
	closed atomic.Bool
}

func (c *conn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.addr)
	}
	return c.Conn.Close()
}
