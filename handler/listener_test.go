package handler

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestListenerCapsConnectionsPerAddress(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &listener{Listener: tcp, limit: 2, perIP: make(map[netip.Addr]int)}
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

	// The third is closed by the listener without being handed on.
	third := dial()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := third.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("connection over the cap: read err = %v, want EOF", err)
	}
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
	next := dial()
	next.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := next.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("double Close gave back two slots: read err = %v", err)
	}
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

func (d *deadlineConn) Read(p []byte) (int, error)  { return len(p), nil }
func (d *deadlineConn) Write(p []byte) (int, error) { return len(p), nil }

func TestConnCoalescesDeadlines(t *testing.T) {
	base := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return base.Add(time.Duration(ms) * time.Millisecond) }
	inner := &deadlineConn{}
	c := &conn{Conn: inner}
	buf := make([]byte, 16)
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
