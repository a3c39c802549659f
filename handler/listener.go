package handler

// The listener wraps every connection so that what fasthttp reads and
// writes is wiped, not just reused, and so that requests are framed
// strictly (see framing.go):
//
//   - fasthttp's bufio.Reader fills its buffer through conn.Read, and its
//     first Read on a connection is handed the whole buffer (bufio starts
//     empty), so the connection learns where the read buffer is. Every Read
//     is handed free space, which is zeroed before reading into it.
//   - When a connection ends, fasthttp puts its reader back in a pool with
//     the last bytes read still in it, often before the error handler runs.
//     So the buffer is wiped when the connection is closed, which fasthttp
//     does after it has let go of the reader. Another connection may have
//     taken the reader from the pool by then: a registry of read buffers
//     says who holds each one. A connection takes a buffer over, and zeroes
//     it whole, on its first Read; a closing one wipes it only while it is
//     still the holder. The registry also keeps each buffer from being
//     collected, unwiped, while a pooled reader is dropped at a garbage
//     collection.
//   - A header block is withheld in the connection's own buffer until it is
//     whole (framing.go), and that buffer is wiped as it is handed on.
//   - bufio.Writer flushes through conn.Write with a slice of its own
//     buffer, whose capacity is the writer's size; that slice is zeroed once
//     written. A larger write bypasses the buffer with the caller's own bytes
//     (a static asset), and is left alone.
//
// The listener caps connections: per client address, and in all. As the
// cap nears, connections that wait idle between requests are closed first,
// those of the address holding the most going first, so a few addresses
// holding many idle connections cannot lock everyone else out. A
// connection refused all the same gets a 503 with the security headers.
//
// The wrapper also coalesces deadlines. fasthttp sets three per request
// (idle, read, write), each a runtime timer update. The wrapper passes a
// deadline on only when a Read or Write is about to depend on it, and not
// when the one in force is within deadlineSlack of it, so a busy
// keep-alive connection updates its timers a few times a second at most.
// A timeout then fires at most deadlineSlack early or late. Once a request
// begins, its header block must arrive within the read timeout, however
// long the idle timeout that was waiting for it.
//
// Over TLS the wrapper sits outside crypto/tls, so it sees the same bufio
// buffers; the buffer crypto/tls decrypts records in is wiped as its data
// is read and when the connection closes (tlswipe.go). Every call into
// crypto/tls (read, write, close, and the handshake inside the first
// read) runs in secretmode.Do, so the write buffers it drops are erased.

import (
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"otslite/store/secretmode"
)

// Connection caps.
const (
	maxConnsPerIP = 256  // one client address
	maxConns      = 4096 // all; the server's Concurrency is set above it
)

// Buffer sizes set on the server, so the connection knows its writer.
const (
	readBufferSize  = 8 << 10
	writeBufferSize = 4 << 10
)

// Listener wraps ln with TLS (when tlsConfig is not nil), the connection
// caps, strict framing and buffer wiping. (fasthttp's own MaxConnsPerIP
// wrapper races with Shutdown closing idle connections: its Close clears a
// field its Read reads without a lock.)
func (h *Handler) Listener(ln net.Listener, tlsConfig *tls.Config) net.Listener {
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	return newListener(ln, maxConnsPerIP, maxConns, h.readTimeout())
}

func newListener(ln net.Listener, perIP, total int, readTimeout time.Duration) *listener {
	return &listener{Listener: ln, perIPLimit: perIP, limit: total, readTimeout: readTimeout,
		perIP: make(map[netip.Addr]int), conns: make(map[*conn]struct{})}
}

type listener struct {
	net.Listener
	perIPLimit, limit int
	readTimeout       time.Duration

	mu    sync.Mutex
	perIP map[netip.Addr]int
	conns map[*conn]struct{}
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
		wc := &conn{Conn: c, l: l, addr: addr}
		wc.tls, _ = c.(*tls.Conn)
		wc.f.maxHead = readBufferSize
		if l.admit(wc) {
			return wc, nil
		}
		go refuse(secretmode.Conn{Conn: c})
	}
}

// admit counts c in, when the caps allow it, after closing an idle
// connection if that makes room.
func (l *listener) admit(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perIP[c.addr] >= l.perIPLimit && !l.evictLocked(c.addr) {
		return false
	}
	if len(l.conns) >= l.limit && !l.evictLocked(netip.Addr{}) {
		return false
	}
	l.perIP[c.addr]++
	l.conns[c] = struct{}{}
	return true
}

// evictLocked closes one idle connection: of addr when it is valid, else
// of the address holding the most connections. It reports whether one
// was closed. (Its slot is given back at once; closing it makes the
// goroutine serving it end.)
func (l *listener) evictLocked(addr netip.Addr) bool {
	var victim *conn
	for c := range l.conns {
		if !c.idle.Load() || c.closed.Load() || addr.IsValid() && c.addr != addr {
			continue
		}
		if victim == nil || l.perIP[c.addr] > l.perIP[victim.addr] {
			victim = c
		}
	}
	if victim == nil {
		return false
	}
	if victim.closed.CompareAndSwap(false, true) {
		l.releaseLocked(victim)
	}
	victim.Conn.Close()
	return true
}

func (l *listener) release(c *conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked(c)
}

func (l *listener) releaseLocked(c *conn) {
	delete(l.conns, c)
	if l.perIP[c.addr] <= 1 {
		delete(l.perIP, c.addr)
	} else {
		l.perIP[c.addr]--
	}
}

// refusal is the answer to a connection over the caps.
var refusal = []byte("HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: application/json; charset=utf-8\r\n" +
	"Content-Security-Policy: " + string(valCSPAPI) + "\r\n" +
	"Referrer-Policy: no-referrer\r\n" +
	"X-Content-Type-Options: nosniff\r\n" +
	"X-Frame-Options: DENY\r\n" +
	"X-Robots-Tag: noindex, nofollow\r\n" +
	"Cache-Control: no-store\r\n" +
	"Retry-After: 1\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 42\r\n\r\n" +
	`{"message":"Too many connections: retry"}` + "\n")

// refuse answers a connection over the caps, and closes it. (Over TLS
// the write makes the handshake first.)
func refuse(c net.Conn) {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write(refusal) //nolint:errcheck // the connection is closed either way
	c.Close()
}

// deadlineSlack bounds how far a coalesced deadline may be off.
const deadlineSlack = 250 * time.Millisecond

// conn wipes fasthttp's buffers, frames requests, coalesces deadlines, and
// gives its slot back once, on the first Close. Read, Write and the
// deadline setters run on the connection's goroutine; only Close may come
// from another (shutdown, eviction), while a Read waits for bytes: Read
// holds mu, and Close closes the connection (which ends that wait) before
// it takes mu to wipe what Read keeps.
type conn struct {
	net.Conn
	l           *listener
	addr        netip.Addr
	rbuf        []byte    // fasthttp's read buffer for this connection
	rWant, rSet time.Time // read deadline asked for, and in force
	wWant, wSet time.Time // write deadline asked for, and in force
	closed      atomic.Bool
	idle        atomic.Bool // waiting for a request that has not begun
	linger      atomic.Bool // answered before its body was read: drain on close

	f           framer
	held        []byte // bytes read but not handed on: a header block not yet whole, and after
	ready       int    // how many of held may be handed on now
	failed      error  // returned once held's ready bytes are handed on
	placeholder bool   // failNow has handed on its byte
	served      int    // requests Serve has run for

	tls *tls.Conn // Conn, when it is TLS

	// mu is held by Read, and by Close while it wipes what Read uses:
	// Close may come from another goroutine (shutdown closing idle
	// connections), and closes the socket first, so that a Read waiting
	// on it returns and lets go.
	mu sync.Mutex
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

// heldMax bounds held: a header block and one read beyond it.
const heldMax = 2 * readBufferSize

// Read hands fasthttp the next bytes of the connection that framing lets
// through (see above).
func (c *conn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rbuf == nil {
		c.rbuf = p[:cap(p)]
		takeReadBuffer(c)
	}
	if inside(p, c.rbuf) {
		clear(p)
	}
	for {
		if c.ready > 0 {
			return c.handOn(p), nil
		}
		if c.failed != nil {
			return c.failNow(p, c.failed)
		}
		if len(c.held) == 0 {
			// Straight into fasthttp's buffer, the common case: what
			// framing lets through stays there, the rest is held.
			n, err := c.readSocket(p)
			k, ferr := c.f.scan(p[:n])
			if k < n {
				c.hold(p[k:n])
				clear(p[k:n])
			}
			if err = c.fail(ferr, err); k > 0 {
				return k, nil
			}
			if err != nil {
				return c.failNow(p, err)
			}
			continue
		}
		// A header block is being held: read more after it.
		if len(c.held) == cap(c.held) {
			c.grow()
		}
		n, err := c.readSocket(c.held[len(c.held):cap(c.held)])
		c.held = c.held[:len(c.held)+n]
		k, ferr := c.f.scan(c.held)
		c.ready = k
		if err = c.fail(ferr, err); k > 0 {
			continue
		}
		if err != nil {
			return c.failNow(p, err)
		}
	}
}

// inside reports whether p lies in buf. A Read into fasthttp's read
// buffer is handed its free space, which may hold bytes of an earlier
// request: it is zeroed first. A Read elsewhere is bufio reading a large
// body straight into its caller's buffer, here the body buffer Guard reads
// into (reqbody.go), which is zero beyond what has been read (it is
// wiped whole when it is pooled, and when it grows): zeroing it again
// would be a second pass over every byte of the body for nothing.
func inside(p, buf []byte) bool {
	if len(p) == 0 || len(buf) == 0 {
		return false
	}
	at, lo := uintptr(unsafe.Pointer(&p[0])), uintptr(unsafe.Pointer(&buf[0]))
	return at >= lo && at < lo+uintptr(len(buf))
}

// readSocket reads from the connection, with the read deadline in force.
// Once a request has begun, the deadline is at most readTimeout away.
func (c *conn) readSocket(p []byte) (int, error) {
	c.idle.Store(!c.f.started && len(c.held) == 0)
	defer c.idle.Store(false)
	want := c.rWant
	if c.f.started && c.l.readTimeout > 0 {
		if limit := time.Now().Add(c.l.readTimeout); want.IsZero() || limit.Before(want) {
			want = limit
		}
	}
	if err := settle(want, &c.rSet, c.Conn.SetReadDeadline); err != nil {
		return 0, err
	}
	if c.tls == nil {
		return c.Conn.Read(p)
	}
	var n int
	var err error
	secretmode.Do(func() { n, err = c.tls.Read(p) })
	wipeTLSRead(c.tls)
	return n, err
}

// fail records what ends reading: a framing error, else a read error.
// The bytes framing let through before it still go first.
func (c *conn) fail(ferr, err error) error {
	if ferr != nil {
		err = ferr
	}
	if err != nil {
		c.failed = err
		clear(c.held[c.ready:])
		c.held = c.held[:c.ready]
	}
	return err
}

// failNow ends reading with err. When a request had begun but fasthttp
// has seen none of it (its header block was held, or broke the rules),
// one placeholder byte goes first, so fasthttp takes the error as a
// broken request and calls the error handler, which answers it (see
// serveError); otherwise it would take the connection for idle and close
// it without a word.
func (c *conn) failNow(p []byte, err error) (int, error) {
	if c.f.started && c.f.st == stHead && len(p) > 0 && !c.placeholder {
		c.placeholder = true
		p[0] = 'X'
		return 1, nil
	}
	return 0, err
}

// handOn copies ready held bytes into p and wipes them from held.
func (c *conn) handOn(p []byte) int {
	n := copy(p, c.held[:c.ready])
	rest := copy(c.held, c.held[n:])
	clear(c.held[rest:])
	c.held = c.held[:rest]
	c.ready -= n
	if len(c.held) == 0 {
		putHeld(c.held)
		c.held = nil
	}
	return n
}

// hold keeps b, which framing did not let through yet.
func (c *conn) hold(b []byte) {
	if c.held == nil {
		c.held = getHeld()
	}
	for cap(c.held)-len(c.held) < len(b) {
		c.grow()
	}
	c.held = append(c.held, b...)
}

// grow doubles held's room, wiping the old buffer.
func (c *conn) grow() {
	bigger := make([]byte, len(c.held), max(2*cap(c.held), readBufferSize))
	copy(bigger, c.held)
	clear(c.held[:cap(c.held)])
	if cap(c.held) == readBufferSize {
		putHeld(c.held)
	}
	c.held = bigger
}

var heldPool = sync.Pool{New: func() any { b := make([]byte, 0, readBufferSize); return &b }}

func getHeld() []byte { return (*heldPool.Get().(*[]byte))[:0] }

// putHeld gives a wiped buffer of the pool's size back.
func putHeld(b []byte) {
	if cap(b) == readBufferSize {
		b = b[:0]
		heldPool.Put(&b)
	}
}

// begun reports whether a request has begun on c and not been answered:
// some of it arrived, or all of it and Serve has not run for it. The error
// handler answers such a request; a connection where none has begun closes
// without an answer.
func (c *conn) begun() bool { return c.f.started || c.f.heads > c.served }

// closeAfter reports whether the request being served must be the last
// on c (it sent both Content-Length and Transfer-Encoding).
func (c *conn) closeAfter() bool { return c.f.closeAfter }

func (c *conn) Write(p []byte) (int, error) {
	err := settle(c.wWant, &c.wSet, c.Conn.SetWriteDeadline)
	n := 0
	switch {
	case err != nil:
	case c.tls != nil:
		secretmode.Do(func() { n, err = c.Conn.Write(p) })
	default:
		n, err = c.Conn.Write(p)
	}
	if cap(p) == writeBufferSize {
		clear(p[:n])
	}
	return n, err
}

func (c *conn) Close() error {
	if c.linger.CompareAndSwap(true, false) {
		c.drain()
	}
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c)
	}
	var err error
	if c.tls != nil {
		secretmode.Do(func() { err = c.Conn.Close() }) // it writes an alert
	} else {
		err = c.Conn.Close()
	}
	// After the close, so that a Read waiting on another goroutine
	// (shutdown closes idle connections) returns first.
	c.mu.Lock()
	defer c.mu.Unlock()
	dropReadBuffer(c)
	clear(c.held[:cap(c.held)])
	if c.tls != nil {
		wipeTLSAll(c.tls)
	}
	return err
}

// A connection whose request was answered before its body was read
// (too large, no locked memory for it, broken framing) is drained before it closes: closing a
// socket with unread bytes makes the kernel reset the connection, and a
// client that sends its whole request before it reads (most do) then
// gets the reset instead of the answer. So the answer is flushed, the
// sending side shut (the client sees the answer end), and what the
// client still sends is read and wiped, for lingerTime or lingerMax bytes
// at most. The connection keeps its slot under the caps meanwhile.
const (
	lingerTime = 2 * time.Second
	lingerMax  = 64 << 20
)

// lingerOnClose asks the next Close to drain the connection first.
func (c *conn) lingerOnClose() { c.linger.Store(true) }

// drain shuts the sending side of c and reads and wipes what comes until
// the client closes, lingerTime passes or lingerMax bytes came. Over TLS
// it reads the records as they come, undecrypted.
func (c *conn) drain() {
	raw := c.Conn
	if c.tls != nil {
		var err error
		secretmode.Do(func() { err = c.tls.CloseWrite() }) // close_notify
		if err != nil {
			return
		}
		raw = c.tls.NetConn()
	}
	cw, ok := raw.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil || raw.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return
	}
	buf := getHeld()[:readBufferSize]
	defer putHeld(buf)
	for n := 0; n < lingerMax; {
		k, err := raw.Read(buf)
		clear(buf[:k])
		if n += k; err != nil {
			return
		}
	}
}

// readBuffers says which connection holds each of fasthttp's read
// buffers (see above), by the buffer's first byte.
var readBuffers = struct {
	sync.Mutex
	holder map[*byte]*conn
}{holder: make(map[*byte]*conn)}

// takeReadBuffer makes c the holder of its read buffer, and zeroes it.
func takeReadBuffer(c *conn) {
	if len(c.rbuf) == 0 {
		return
	}
	readBuffers.Lock()
	defer readBuffers.Unlock()
	readBuffers.holder[&c.rbuf[0]] = c
	clear(c.rbuf)
}

// dropReadBuffer wipes c's read buffer, if c still holds it, and lets it
// go.
func dropReadBuffer(c *conn) {
	if len(c.rbuf) == 0 {
		return
	}
	readBuffers.Lock()
	defer readBuffers.Unlock()
	if readBuffers.holder[&c.rbuf[0]] == c {
		clear(c.rbuf)
		delete(readBuffers.holder, &c.rbuf[0])
	}
}
