package handler

import (
	"errors"
	"io"
	"net"
	"net/netip"
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
