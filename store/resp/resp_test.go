package resp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeServer answers RESP requests with handle, one connection at a time.
type fakeServer struct {
	ln     net.Listener
	handle func(args []string) string
	mu     sync.Mutex
	conns  []net.Conn
}

func startFake(tb testing.TB, handle func(args []string) string) *fakeServer {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &fakeServer{ln: ln, handle: handle}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			go s.serve(c)
		}
	}()
	tb.Cleanup(func() { ln.Close(); s.dropAll() })
	return s
}

func (s *fakeServer) dropAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
}

func (s *fakeServer) serve(c net.Conn) {
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(line[1 : len(line)-2])
		args := make([]string, n)
		for i := range args {
			l, _ := r.ReadString('\n')
			size, _ := strconv.Atoi(l[1 : len(l)-2])
			b := make([]byte, size+2)
			if _, err := ioReadFull(r, b); err != nil {
				return
			}
			args[i] = string(b[:size])
		}
		if reply := s.handle(args); reply != "" {
			if _, err := c.Write([]byte(reply)); err != nil {
				return
			}
		}
	}
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func bulk(s string) string { return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n" }

func TestPipelinedRepliesMatchRequests(t *testing.T) {
	s := startFake(t, func(args []string) string { return bulk(args[1]) })
	c := New(Options{Addr: s.ln.Addr().String()})
	defer c.Close()
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			for i := range 200 {
				want := fmt.Sprintf("g%d-%d", g, i)
				v, err := c.Do(context.Background(), []byte("ECHO"), []byte(want))
				if err != nil || v.Kind != Bulk || string(v.Bytes) != want {
					t.Errorf("ECHO %s = %q (%v), %v", want, v.Bytes, v.Kind, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestReplyKinds(t *testing.T) {
	replies := map[string]string{
		"simple": "+OK\r\n", "int": ":-42\r\n", "nil": "$-1\r\n", "nilarray": "*-1\r\n",
		"array": "*3\r\n:1\r\n$3\r\nabc\r\n*1\r\n$0\r\n\r\n", "err": "-ERR no such thing\r\n",
		"arrayerr": "*2\r\n:1\r\n-NOPE inside\r\n",
	}
	s := startFake(t, func(args []string) string { return replies[args[0]] })
	c := New(Options{Addr: s.ln.Addr().String()})
	defer c.Close()
	ctx := context.Background()
	if v, err := c.DoStrings(ctx, "simple"); err != nil || v.Kind != Simple || string(v.Bytes) != "OK" {
		t.Errorf("simple: %+v, %v", v, err)
	}
	if v, err := c.DoStrings(ctx, "int"); err != nil || v.Kind != Integer || v.Int != -42 {
		t.Errorf("int: %+v, %v", v, err)
	}
	for _, k := range []string{"nil", "nilarray"} {
		if v, err := c.DoStrings(ctx, k); err != nil || v.Kind != Nil {
			t.Errorf("%s: %+v, %v", k, v, err)
		}
	}
	v, err := c.DoStrings(ctx, "array")
	if err != nil || len(v.Array) != 3 || v.Array[0].Int != 1 || string(v.Array[1].Bytes) != "abc" || v.Array[2].Array[0].Kind != Bulk || len(v.Array[2].Array[0].Bytes) != 0 {
		t.Errorf("array: %+v, %v", v, err)
	}
	var re *Error
	for _, k := range []string{"err", "arrayerr"} {
		if _, err := c.DoStrings(ctx, k); !errors.As(err, &re) {
			t.Errorf("%s: %v, want an *Error", k, err)
		}
	}
	// An error reply leaves the connection in use.
	if v, err := c.DoStrings(ctx, "int"); err != nil || v.Int != -42 {
		t.Errorf("after an error reply: %+v, %v", v, err)
	}
}

func TestUnavailableThenBack(t *testing.T) {
	var mu sync.Mutex
	silent := false
	s := startFake(t, func(args []string) string {
		mu.Lock()
		defer mu.Unlock()
		if silent {
			return ""
		}
		return "+PONG\r\n"
	})
	var states []bool
	var smu sync.Mutex
	c := New(Options{Addr: s.ln.Addr().String(), Timeout: 200 * time.Millisecond, RedialEvery: 50 * time.Millisecond,
		OnState: func(up bool, err error) { smu.Lock(); states = append(states, up); smu.Unlock() }})
	defer c.Close()
	ctx := context.Background()
	if _, err := c.DoStrings(ctx, "PING"); err != nil {
		t.Fatal(err)
	}
	// The server stops answering: requests fail at the timeout, not later.
	mu.Lock()
	silent = true
	mu.Unlock()
	start := time.Now()
	if _, err := c.DoStrings(ctx, "PING"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a silent server: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the timeout took %v", d)
	}
	// The connection is cut: the next request dials again, and fails fast
	// while the server is away.
	addr := s.ln.Addr().String()
	s.ln.Close()
	s.dropAll()
	time.Sleep(60 * time.Millisecond)
	if _, err := c.DoStrings(ctx, "PING"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no server: %v", err)
	}
	// Back on the same address: served again without a new client.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	mu.Lock()
	silent = false
	mu.Unlock()
	s2 := &fakeServer{ln: ln, handle: s.handle}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s2.serve(conn)
		}
	}()
	defer ln.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := c.DoStrings(ctx, "PING"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not served again after the server came back")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	smu.Lock()
	defer smu.Unlock()
	if len(states) < 2 || states[0] || !states[len(states)-1] {
		t.Errorf("state changes %v, want down, ..., up (the first contact is no change)", states)
	}
}

func TestScriptLoadedWhenUnknown(t *testing.T) {
	var mu sync.Mutex
	known := map[string]bool{}
	var evals int
	s := startFake(t, func(args []string) string {
		mu.Lock()
		defer mu.Unlock()
		switch args[0] {
		case "EVALSHA":
			if !known[args[1]] {
				return "-NOSCRIPT No matching script.\r\n"
			}
			return ":1\r\n"
		case "EVAL":
			evals++
			known[string(NewScript(args[1]).sha)] = true
			return ":1\r\n"
		}
		return "-ERR\r\n"
	})
	c := New(Options{Addr: s.ln.Addr().String()})
	defer c.Close()
	sc := NewScript("return 1")
	for range 3 {
		if v, err := c.Eval(context.Background(), sc, nil); err != nil || v.Int != 1 {
			t.Fatalf("Eval: %+v, %v", v, err)
		}
	}
	if evals != 1 {
		t.Errorf("the script was sent whole %d times, want once", evals)
	}
	// Forgotten (Redis restarted): sent whole again.
	mu.Lock()
	clear(known)
	mu.Unlock()
	if _, err := c.Eval(context.Background(), sc, nil); err != nil || evals != 2 {
		t.Errorf("after the script was forgotten: %v, %d whole sends", err, evals)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Options
		err  bool
	}{
		{in: "redis://127.0.0.1", want: Options{Addr: "127.0.0.1:6379"}},
		{in: "redis://:pw@host:6380/2", want: Options{Addr: "host:6380", Password: "pw", DB: 2}},
		{in: "redis://user:pw@[::1]:7000/", want: Options{Addr: "[::1]:7000", Username: "user", Password: "pw"}},
		{in: "rediss://cache.example:6380", want: Options{Addr: "cache.example:6380"}},
		{in: "http://host", err: true},
		{in: "redis://", err: true},
		{in: "redis://host/x", err: true},
		{in: "redis://host/?x=1", err: true},
	} {
		got, err := ParseURL(tc.in)
		if (err != nil) != tc.err {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if tc.err {
			if err != nil && bytes.Contains([]byte(err.Error()), []byte("pw")) {
				t.Errorf("ParseURL(%q) error quotes the password: %v", tc.in, err)
			}
			continue
		}
		tls := got.TLS != nil
		got.TLS = nil
		same := got.Addr == tc.want.Addr && got.Username == tc.want.Username && got.Password == tc.want.Password && got.DB == tc.want.DB
		if !same || tls != (tc.in[:7] == "rediss:") {
			t.Errorf("ParseURL(%q) = %+v (TLS %v), want %+v", tc.in, got, tls, tc.want)
		}
	}
}

// FuzzReadValue feeds the reply parser arbitrary bytes: it returns a value
// or an error, never panics, and never claims more than it was given.
func FuzzReadValue(f *testing.F) {
	for _, s := range []string{"+OK\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*2\r\n:1\r\n$1\r\nx\r\n", "-ERR x\r\n", "*-1\r\n", "$99999999999\r\n", "*1\r\n*1\r\n*1\r\n:1\r\n", "$2\r\nab"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		cn := &conn{r: bufio.NewReaderSize(bytes.NewReader(b), 64)}
		v, err := cn.readValue()
		if err == nil && v.Kind == Bulk && len(v.Bytes) > len(b) {
			t.Fatalf("a bulk reply of %d bytes from %d bytes of input", len(v.Bytes), len(b))
		}
	})
}
