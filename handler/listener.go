package handler

// The listener wraps every connection so the buffers fasthttp reads requests
// into and writes responses from are wiped, not just reused:
//
//   - fasthttp's bufio.Reader fills its buffer through conn.Read, and its
//     first Read on a connection is handed the whole buffer (bufio starts
//     empty), so the connection learns where the read buffer is. Every Read
//     is handed free space, which is zeroed before reading into it. When a
//     Read fails (the client left, a timeout, shutdown closing an idle
//     connection) fasthttp still owns the reader, and the whole buffer is
//     wiped before it goes back to fasthttp's pool.
//   - A connection that ends without another Read (Connection: close, the
//     server shutting down) has its read buffer wiped by the handler at the
//     end of its last request (wipeRead), when fasthttp will not read it
//     again.
//   - bufio.Writer flushes through conn.Write with a slice of its own
//     buffer, whose capacity is the writer's size; that slice is zeroed once
//     written. A larger write bypasses the buffer with the caller's own bytes
//     (a static asset), and is left alone.
//
// The wrapper also coalesces deadlines. fasthttp sets three per request
// (idle, read, write), each a runtime timer update. The wrapper passes a
// deadline on only when a Read or Write is about to depend on it, and not
// when the one in force is within deadlineSlack of it, so a busy
// keep-alive connection updates its timers a few times a second at most.
// A timeout then fires at most deadlineSlack early or late.
//
// Over TLS the wrapper sits outside crypto/tls, so it sees the same bufio
// buffers; the TLS records' own buffers are out of reach (see SECURITY.md).

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// maxConnsPerIP caps the connections one client address holds open.
const maxConnsPerIP = 256

// Buffer sizes set on the server, so the connection knows its writer.
const (
	readBufferSize  = 8 << 10
	writeBufferSize = 4 << 10
)

// Listener wraps ln with TLS (when tlsConfig is not nil), the per-address
// connection cap, and buffer wiping. (fasthttp's own MaxConnsPerIP wrapper
// races with Shutdown closing idle connections: its Close clears a field its
// Read reads without a lock.)
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

// deadlineSlack bounds how far a coalesced deadline may be off.
const deadlineSlack = 250 * time.Millisecond

// conn wipes fasthttp's buffers (see above), coalesces deadlines, and gives
// its slot back once, on the first Close. Read, Write and the deadline
// setters run on the connection's goroutine; only Close may come from
// another (shutdown).
type conn struct {
	net.Conn
	l           *listener
	addr        netip.Addr
	rbuf        []byte    // fasthttp's read buffer for this connection
	rWant, rSet time.Time // read deadline asked for, and in force
	wWant, wSet time.Time // write deadline asked for, and in force
	closed      atomic.Bool
}

// Deadlines are recorded when set and passed on when the next Read or
// Write needs them, unless the one in force is within deadlineSlack.
func (c *conn) SetReadDeadline(t time.Time) error  { c.rWant = t; return nil }
func (c *conn) SetWriteDeadline(t time.Time) error { c.wWant = t; return nil }
func (c *conn) SetDeadline(t time.Time) error      { c.rWant, c.wWant = t, t; return nil }

// settle passes want on to set when the deadline in force is not close
// enough to it.
func settle(want time.Time, set *time.Time, apply func(time.Time) error) error {
	if want.Equal(*set) || !want.IsZero() && !set.IsZero() && want.Sub(*set).Abs() < deadlineSlack {
		return nil
	}
	if err := apply(want); err != nil {
		return err
	}
	*set = want
	return nil
}

func (c *conn) Read(p []byte) (int, error) {
	if c.rbuf == nil {
		c.rbuf = p[:cap(p)]
	}
	clear(p)
	err := settle(c.rWant, &c.rSet, c.Conn.SetReadDeadline)
	n := 0
	if err == nil {
		n, err = c.Conn.Read(p)
	}
	if err != nil {
		c.wipeRead()
	}
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	err := settle(c.wWant, &c.wSet, c.Conn.SetWriteDeadline)
	n := 0
	if err == nil {
		n, err = c.Conn.Write(p)
	}
	if cap(p) == writeBufferSize {
		clear(p[:n])
	}
	return n, err
}

// wipeRead zeroes the read buffer. Only safe when fasthttp will not use
// what it holds: after a failed Read, or at the end of a connection's last
// request.
func (c *conn) wipeRead() { clear(c.rbuf) }

func (c *conn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.addr)
	}
	return c.Conn.Close()
}
