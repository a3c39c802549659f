// Package resp is a small Redis client: RESP2 over one pipelined
// connection, for the store's optional shared backend. It speaks to Redis
// and to Valkey, which answer the same protocol.
//
// Rules for this package:
//   - Requests from any number of goroutines share one connection: a writer
//     sends whatever has queued up in one write, and a reader matches the
//     replies to their requests in order. Throughput comes from that
//     pipelining, not from more connections.
//   - When the connection fails or a reply is late, every request in
//     flight fails with ErrUnavailable at once, and the next request dials
//     again (at most once per RedialEvery; requests in between fail
//     fast). So callers get a clear error quickly while Redis is away and
//     are served again as soon as it is back, without a restart.
//   - Callers send only what may leave the process: the store sends sealed
//     bytes and keyed hashes, never plaintext or link keys. The client
//     keeps no copy of a request or a reply beyond its own read and write
//     buffers, which the next traffic overwrites.
//   - Errors never quote a request's arguments. The password is given to
//     Redis only, in AUTH, and appears in no error.
package resp

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"otslite/store/secretmode"
)

// ErrUnavailable means Redis could not be reached, or did not answer in
// time. The request may or may not have been carried out.
var ErrUnavailable = errors.New("redis is unavailable")

// Error is an error reply from Redis.
type Error struct{ Msg string }

func (e *Error) Error() string { return "redis: " + e.Msg }

// Options say where Redis is and how to talk to it.
type Options struct {
	Addr     string      // host:port
	TLS      *tls.Config // nil: plain TCP
	Username string      // "" with a Password: AUTH password alone
	Password string
	DB       int

	DialTimeout time.Duration // default 2s
	Timeout     time.Duration // a reply's longest wait; default 3s
	RedialEvery time.Duration // least time between dials after a failure; default 250ms

	// OnState, when set, is told when Redis becomes unreachable (with
	// why) and when it is reached again (not when it is first reached).
	// It runs on its own goroutine.
	OnState func(up bool, err error)
}

// ParseURL reads redis://[[user]:password@]host[:port][/db] or rediss://
// (TLS, verified against the system's roots). A password given apart
// (a file) is set by the caller afterwards.
func ParseURL(raw string) (Options, error) {
	var o Options
	u, err := url.Parse(raw)
	if err != nil {
		return o, errors.New("not a URL")
	}
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	default:
		return o, errors.New("must start with redis:// or rediss://")
	}
	if u.Hostname() == "" {
		return o, errors.New("has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return o, errors.New("must not have a query or fragment")
	}
	port := u.Port()
	if port == "" {
		port = "6379"
	}
	o.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		o.Username = u.User.Username()
		o.Password, _ = u.User.Password()
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 {
			return o, errors.New("the path must be a database number, e.g. /0")
		}
		o.DB = db
	}
	return o, nil
}

// Value is a reply.
type Value struct {
	Kind  Kind
	Int   int64
	Bytes []byte // bulk and simple strings
	Array []Value
}

// Kind is a reply's type.
type Kind uint8

// Kinds of replies.
const (
	Nil Kind = iota
	Simple
	Integer
	Bulk
	Array
)

// Client is safe for concurrent use. Make one with New; Close it.
type Client struct {
	opts Options

	mu       sync.Mutex
	conn     *conn
	dialing  chan struct{} // closed when the dial under way ends
	lastFail time.Time
	lastErr  error
	closed   bool
	up       atomic.Int32 // 0 unknown, 1 up, 2 down: for OnState
	states   chan stateChange
	done     chan struct{}
}

type stateChange struct {
	up  bool
	err error
}

// New returns a client; it dials on first use.
func New(o Options) *Client {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 2 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Second
	}
	if o.RedialEvery <= 0 {
		o.RedialEvery = 250 * time.Millisecond
	}
	c := &Client{opts: o, states: make(chan stateChange, 16), done: make(chan struct{})}
	go c.report()
	return c
}

// report passes state changes to OnState, in order, off the request path.
func (c *Client) report() {
	defer close(c.done)
	for s := range c.states {
		if c.opts.OnState != nil {
			c.opts.OnState(s.up, s.err)
		}
	}
}

func (c *Client) setState(up bool, err error) {
	want := int32(2)
	if up {
		want = 1
	}
	if prev := c.up.Swap(want); prev == want || prev == 0 && up {
		return // no change, or the first contact: nothing came back
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	select {
	case c.states <- stateChange{up, err}:
	default: // a flapping link: the latest state is what matters, and it comes
	}
}

// Close ends the connection; requests afterwards fail.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	cn := c.conn
	c.conn = nil
	close(c.states)
	c.mu.Unlock()
	if cn != nil {
		cn.fail(errors.New("client closed"))
	}
	<-c.done
}

// Do sends one command and waits for its reply. An error reply is an
// *Error; a failed or late connection is ErrUnavailable.
func (c *Client) Do(ctx context.Context, args ...[]byte) (Value, error) {
	cn, err := c.get()
	if err != nil {
		return Value{}, err
	}
	cl := &call{args: args, done: make(chan struct{})}
	if err := cn.send(cl); err != nil {
		return Value{}, err
	}
	t := time.NewTimer(c.opts.Timeout)
	defer t.Stop()
	select {
	case <-cl.done:
	case <-t.C:
		// A reply this late means the connection is stuck: fail it, so
		// that everything behind this request fails now too, and the next
		// request dials afresh.
		cn.fail(fmt.Errorf("%w: no reply within %s", ErrUnavailable, c.opts.Timeout))
		<-cl.done
	case <-ctx.Done():
		// The reply will still come, in order; nobody waits for it.
		return Value{}, ctx.Err()
	}
	if cl.err != nil {
		var re *Error
		if !errors.As(cl.err, &re) {
			c.broken(cn, cl.err)
		}
		return Value{}, cl.err
	}
	c.setState(true, nil)
	return cl.reply, nil
}

// DoStrings is Do with string arguments, for commands that carry nothing
// of a secret's (CONFIG GET, PING).
func (c *Client) DoStrings(ctx context.Context, args ...string) (Value, error) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return c.Do(ctx, b...)
}

// broken forgets cn after a failure on it.
func (c *Client) broken(cn *conn, err error) {
	c.mu.Lock()
	if c.conn == cn {
		c.conn = nil
		c.lastFail, c.lastErr = time.Now(), err
	}
	c.mu.Unlock()
	c.setState(false, err)
}

// get returns a working connection, dialing one when there is none.
func (c *Client) get() (*conn, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, fmt.Errorf("%w: client closed", ErrUnavailable)
		case c.conn != nil && !c.conn.failed():
			cn := c.conn
			c.mu.Unlock()
			return cn, nil
		case c.dialing != nil:
			wait := c.dialing
			c.mu.Unlock()
			<-wait
			continue
		case !c.lastFail.IsZero() && time.Since(c.lastFail) < c.opts.RedialEvery:
			err := c.lastErr
			c.mu.Unlock()
			return nil, err
		}
		wait := make(chan struct{})
		c.dialing = wait
		c.mu.Unlock()

		cn, err := c.dial()
		c.mu.Lock()
		c.dialing = nil
		close(wait)
		if err != nil {
			c.lastFail, c.lastErr = time.Now(), err
			c.mu.Unlock()
			c.setState(false, err)
			return nil, err
		}
		if c.closed {
			c.mu.Unlock()
			cn.fail(errors.New("client closed"))
			continue
		}
		c.conn, c.lastFail, c.lastErr = cn, time.Time{}, nil
		c.mu.Unlock()
		c.setState(true, nil)
		return cn, nil
	}
}

// dial connects, authenticates and selects the database, then starts the
// connection's writer and reader.
func (c *Client) dial() (*conn, error) {
	d := net.Dialer{Timeout: c.opts.DialTimeout}
	nc, err := d.Dial("tcp", c.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if c.opts.TLS != nil {
		// The handshake and every read and write run in secretmode.Do, so
		// the write buffers crypto/tls drops (AUTH's password among them)
		// are erased.
		tc := tls.Client(nc, c.opts.TLS)
		tc.SetDeadline(time.Now().Add(c.opts.DialTimeout))
		secretmode.Do(func() { err = tc.Handshake() })
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("%w: TLS: %v", ErrUnavailable, err)
		}
		tc.SetDeadline(time.Time{})
		nc = secretmode.Conn{Conn: tc}
	}
	cn := newConn(nc)
	var setup [][][]byte
	if c.opts.Password != "" {
		if c.opts.Username != "" {
			setup = append(setup, [][]byte{[]byte("AUTH"), []byte(c.opts.Username), []byte(c.opts.Password)})
		} else {
			setup = append(setup, [][]byte{[]byte("AUTH"), []byte(c.opts.Password)})
		}
	}
	if c.opts.DB != 0 {
		setup = append(setup, [][]byte{[]byte("SELECT"), []byte(strconv.Itoa(c.opts.DB))})
	}
	nc.SetDeadline(time.Now().Add(c.opts.DialTimeout))
	for i, args := range setup {
		if err := cn.writeCommand(args); err == nil {
			err = cn.w.Flush()
		}
		var v Value
		if err == nil {
			v, err = cn.readValue()
		}
		if err != nil {
			nc.Close()
			var re *Error
			if errors.As(err, &re) {
				if i == 0 && c.opts.Password != "" {
					// The reply may say why (wrong password, no such
					// user); it never quotes what was sent.
					return nil, fmt.Errorf("%w: authentication refused: %s", ErrUnavailable, re.Msg)
				}
				return nil, fmt.Errorf("%w: %s", ErrUnavailable, re.Msg)
			}
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		_ = v
	}
	nc.SetDeadline(time.Time{})
	go cn.writer()
	go cn.reader()
	return cn, nil
}

// call is one request in flight.
type call struct {
	args  [][]byte
	reply Value
	err   error
	done  chan struct{}
}

// conn is one pipelined connection.
type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer

	mu      sync.Mutex
	queue   []*call // waiting to be written
	pending []*call // written, waiting for replies, in order
	err     error   // set once the connection has failed
	wake    chan struct{}
	scratch []byte
}

const bufSize = 64 << 10

func newConn(nc net.Conn) *conn {
	return &conn{nc: nc, r: bufio.NewReaderSize(nc, bufSize), w: bufio.NewWriterSize(nc, bufSize), wake: make(chan struct{}, 1)}
}

func (cn *conn) failed() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.err != nil
}

func (cn *conn) send(cl *call) error {
	cn.mu.Lock()
	if cn.err != nil {
		err := cn.err
		cn.mu.Unlock()
		return err
	}
	cn.queue = append(cn.queue, cl)
	cn.mu.Unlock()
	select {
	case cn.wake <- struct{}{}:
	default:
	}
	return nil
}

// fail ends the connection: every call queued or in flight gets err.
func (cn *conn) fail(err error) {
	if !errors.Is(err, ErrUnavailable) {
		err = fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	cn.mu.Lock()
	if cn.err != nil {
		cn.mu.Unlock()
		return
	}
	cn.err = err
	calls := append(cn.pending, cn.queue...)
	cn.pending, cn.queue = nil, nil
	cn.mu.Unlock()
	cn.nc.Close()
	select { // the writer sees err and ends
	case cn.wake <- struct{}{}:
	default:
	}
	for _, cl := range calls {
		cl.err = err
		close(cl.done)
	}
}

// writer sends whatever has queued, in one write per turn. A turn that
// found only a few requests lets the callers run once more before it
// writes: more requests join it, and fewer writes carry more of them.
func (cn *conn) writer() {
	var batch []*call
	for range cn.wake {
		for {
			cn.mu.Lock()
			if cn.err != nil {
				cn.mu.Unlock()
				return
			}
			batch, cn.queue = cn.queue, batch[:0]
			// Pending first: a reply may arrive before the write returns.
			cn.pending = append(cn.pending, batch...)
			cn.mu.Unlock()
			var err error
			for _, cl := range batch {
				if err = cn.writeCommand(cl.args); err != nil {
					break
				}
			}
			n := len(batch)
			clear(batch)
			if err != nil {
				cn.fail(err)
				return
			}
			if n >= smallBatch {
				break
			}
			runtime.Gosched()
			cn.mu.Lock()
			more := len(cn.queue) > 0
			cn.mu.Unlock()
			if !more {
				break
			}
		}
		if err := cn.w.Flush(); err != nil {
			cn.fail(err)
			return
		}
	}
}

// smallBatch is the size under which a turn waits for company.
const smallBatch = 16

// reader hands each reply to the oldest call waiting.
func (cn *conn) reader() {
	for {
		v, err := cn.readValue()
		var re *Error
		if err != nil && !errors.As(err, &re) {
			cn.fail(err)
			return
		}
		cn.mu.Lock()
		if len(cn.pending) == 0 {
			cn.mu.Unlock()
			cn.fail(errors.New("a reply nobody asked for"))
			return
		}
		cl := cn.pending[0]
		cn.pending[0] = nil
		cn.pending = cn.pending[1:]
		cn.mu.Unlock()
		cl.reply, cl.err = v, err
		close(cl.done)
	}
}

func (cn *conn) writeCommand(args [][]byte) error {
	b := cn.scratch[:0]
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, '\r', '\n')
		if _, err := cn.w.Write(b); err != nil {
			return err
		}
		if _, err := cn.w.Write(a); err != nil {
			return err
		}
		b = append(b[:0], '\r', '\n')
	}
	_, err := cn.w.Write(b)
	cn.scratch = b
	return err
}

// maxBulk bounds one bulk reply (a sealed secret is far smaller).
const maxBulk = 512 << 20

var errProtocol = errors.New("malformed reply")

// readValue reads one reply. An error reply is returned as *Error.
func (cn *conn) readValue() (Value, error) {
	line, err := cn.readLine()
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, errProtocol
	}
	switch line[0] {
	case '+':
		return Value{Kind: Simple, Bytes: append([]byte(nil), line[1:]...)}, nil
	case '-':
		return Value{}, &Error{Msg: string(line[1:])}
	case ':':
		n, err := strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil {
			return Value{}, errProtocol
		}
		return Value{Kind: Integer, Int: n}, nil
	case '$':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n > maxBulk {
			return Value{}, errProtocol
		}
		if n < 0 {
			return Value{Kind: Nil}, nil
		}
		// Grown as the bytes arrive: a length alone reserves nothing.
		b := make([]byte, 0, min(n+2, bufSize))
		for len(b) < n+2 {
			if len(b) == cap(b) {
				b = append(b, 0)[:len(b)]
			}
			m, err := cn.r.Read(b[len(b):min(cap(b), n+2)])
			b = b[:len(b)+m]
			if err != nil && len(b) < n+2 {
				if errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return Value{}, err
			}
		}
		if b[n] != '\r' || b[n+1] != '\n' {
			return Value{}, errProtocol
		}
		return Value{Kind: Bulk, Bytes: b[:n:n]}, nil
	case '*':
		n, err := strconv.Atoi(string(line[1:]))
		if err != nil || n > 1<<20 {
			return Value{}, errProtocol
		}
		if n < 0 {
			return Value{Kind: Nil}, nil
		}
		v := Value{Kind: Array, Array: make([]Value, 0, min(n, 64))}
		var first error
		for range n {
			e, err := cn.readValue()
			var re *Error
			if err != nil && !errors.As(err, &re) {
				return Value{}, err
			}
			if err != nil && first == nil {
				first = err
			}
			v.Array = append(v.Array, e)
		}
		return v, first
	}
	return Value{}, errProtocol
}

// readLine reads a line without its CRLF; it stays valid until the next read.
func (cn *conn) readLine() ([]byte, error) {
	line, err := cn.r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errProtocol
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errProtocol
	}
	return line[:len(line)-2], nil
}

// Script is a Lua script, sent by its SHA-1 and loaded when Redis does not
// know it (first use, or after Redis restarted).
type Script struct {
	src []byte
	sha []byte
}

// NewScript prepares src.
func NewScript(src string) *Script {
	sum := sha1.Sum([]byte(src))
	return &Script{src: []byte(src), sha: []byte(hex.EncodeToString(sum[:]))}
}

// Eval runs s with keys and args.
func (c *Client) Eval(ctx context.Context, s *Script, keys [][]byte, args ...[]byte) (Value, error) {
	cmd := make([][]byte, 0, 3+len(keys)+len(args))
	cmd = append(cmd, []byte("EVALSHA"), s.sha, []byte(strconv.Itoa(len(keys))))
	cmd = append(append(cmd, keys...), args...)
	v, err := c.Do(ctx, cmd...)
	var re *Error
	if errors.As(err, &re) && strings.HasPrefix(re.Msg, "NOSCRIPT") {
		cmd[0], cmd[1] = []byte("EVAL"), s.src
		return c.Do(ctx, cmd...)
	}
	return v, err
}
