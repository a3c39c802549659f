package handler

import (
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// serveReads accepts connections from l and reads from each until it
// fails, as fasthttp does; accepted gets each, ended each whose read
// failed.
func serveReads(l net.Listener, accepted, ended chan<- net.Conn) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		accepted <- c
		go func() {
			buf := make([]byte, readBufferSize)
			for {
				if _, err := c.Read(buf); err != nil {
					c.Close()
					if ended != nil {
						ended <- c
					}
					return
				}
			}
		}()
	}
}

// refused reads what the listener answers a connection it refuses.
func refused(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("refused connection: %v", err)
	}
	for _, want := range []string{"HTTP/1.1 503 ", "Content-Security-Policy: ", "X-Content-Type-Options: nosniff", "Retry-After: 1", "Too many connections"} {
		if !strings.Contains(string(got), want) {
			t.Fatalf("refused connection got %q, want it to contain %q", got, want)
		}
	}
}

func TestListenerCapsConnectionsPerAddress(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newListener(tcp, 2, 100, time.Second)
	defer l.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first, _ := dial(), dial()
	server1 := <-accepted
	<-accepted

	// The third is answered 503 by the listener without being handed on
	// (neither of the first two waits idle in a read, so none makes room).
	refused(t, dial())
	select {
	case <-accepted:
		t.Fatal("connection over the cap was accepted")
	default:
	}

	// Closing one (twice: the slot is given back once) makes room for
	// exactly one more.
	server1.Close()
	server1.Close()
	first.Close()
	dial()
	select {
	case <-accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("slot was not given back")
	}
	refused(t, dial())
}

// TestListenerEvictsIdleFirst fills the cap with idle connections of a few
// addresses: a newcomer still gets in, by closing an idle one of the
// address holding the most. Connections in the middle of a request are
// never closed for it; when every one is, the newcomer is refused, with
// the security headers.
func TestListenerEvictsIdleFirst(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newListener(tcp, 10, 4, time.Minute)
	defer l.Close()
	accepted, ended := make(chan net.Conn, 20), make(chan net.Conn, 20)
	go serveReads(l, accepted, ended)
	var clients []net.Conn
	dial := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", tcp.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		clients = append(clients, c)
		select {
		case <-accepted:
		case <-time.After(5 * time.Second):
		}
		clients = append(clients, c)
		return c
	}
	// 127.0.0.2 holds three idle connections, 127.0.0.3 one.
	for range 3 {
		dial("127.0.0.2")
	}
	dial("127.0.0.3")
	time.Sleep(100 * time.Millisecond) // let each block in its read

	// A newcomer is let in, and one of 127.0.0.2's is closed for it.
	dial("127.0.0.4")
	select {
	case c := <-ended:
		if got := c.(*conn).addr.String(); got != "127.0.0.2" {
			t.Errorf("evicted a connection of %s, want one of 127.0.0.2 (it holds the most)", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no idle connection was closed to make room")
	}

	// Now every connection is in the middle of a request (its header block
	// has begun): none is idle, and the next newcomer is refused.
	for _, c := range clients {
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x")) // the evicted one's fails
	}
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		l.mu.Lock()
		idle := 0
		for c := range l.conns {
			if c.idle.Load() {
				idle++
			}
		}
		l.mu.Unlock()
		if idle == 0 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d connections still idle after their requests began", idle)
		}
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.5")}}
	c, err := d.Dial("tcp", tcp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	refused(t, c)
}

// deadlineConn records the deadlines passed on to it and reads nothing.
type deadlineConn struct {
	net.Conn
	read, write []time.Time
}

func (d *deadlineConn) SetReadDeadline(t time.Time) error {
	d.read = append(d.read, t)
	return nil
}

func (d *deadlineConn) SetWriteDeadline(t time.Time) error {
	d.write = append(d.write, t)
	return nil
}

// Read returns one whole request each time.
func (d *deadlineConn) Read(p []byte) (int, error)  { return copy(p, "GET / HTTP/1.1\r\n\r\n"), nil }
func (d *deadlineConn) Write(p []byte) (int, error) { return len(p), nil }

func TestConnCoalescesDeadlines(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	inner := &deadlineConn{}
	c := &conn{Conn: inner, l: &listener{}}
	c.f.maxHead = readBufferSize
	buf := make([]byte, 64)
	// Keep-alive requests 1 ms apart, each read at once, as fasthttp
	// drives them: idle deadline 60 s out, read, read deadline 15 s out,
	// write deadline 15 s out, write.
	for now := range 100 {
		c.SetReadDeadline(at(now + 60_000))
		c.Read(buf)
		c.SetReadDeadline(at(now + 15_000))
		c.SetWriteDeadline(at(now + 15_000))
		c.Write(buf)
	}
	if want := []time.Time{at(60_000)}; !slices.EqualFunc(inner.read, want, time.Time.Equal) {
		t.Errorf("read deadlines passed on: %v, want %v", inner.read, want)
	}
	if want := []time.Time{at(15_000)}; !slices.EqualFunc(inner.write, want, time.Time.Equal) {
		t.Errorf("write deadlines passed on: %v, want %v", inner.write, want)
	}
	// A request read in two parts: its second read needs the read deadline.
	c.SetReadDeadline(at(1000 + 60_000))
	c.Read(buf)
	c.SetReadDeadline(at(1000 + 15_000))
	c.Read(buf)
	// No deadline, and one just beyond the slack, go through.
	c.SetDeadline(time.Time{})
	c.Read(buf)
	c.Write(buf)
	c.SetReadDeadline(at(1000 + 15_000).Add(deadlineSlack))
	c.Read(buf)
	want := []time.Time{at(60_000), at(1000 + 60_000), at(1000 + 15_000), {}, at(1000 + 15_000).Add(deadlineSlack)}
	if !slices.EqualFunc(inner.read, want, time.Time.Equal) {
		t.Errorf("read deadlines passed on: %v, want %v", inner.read, want)
	}
	if want := []time.Time{at(15_000), {}}; !slices.EqualFunc(inner.write, want, time.Time.Equal) {
		t.Errorf("write deadlines passed on: %v, want %v", inner.write, want)
	}
}
