package handler

// The HTTP/1.1 protocol as clients and attackers use it, over real TCP
// through the listener: strict framing (RFC 9112), quiet ends of idle
// connections, 408 for requests cut short by the read timeout.

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// tcpServer serves h over loopback TCP through its listener.
func tcpServer(tb testing.TB, h *Handler) string {
	tb.Helper()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := h.NewServer()
	go srv.Serve(h.Listener(tcp, nil))
	tb.Cleanup(func() { srv.Shutdown() })
	return tcp.Addr().String()
}

func withTimeouts(read, idle time.Duration) option {
	return func(c *testConfig) { c.handler.ReadTimeout, c.handler.IdleTimeout = read, idle }
}

// exchange writes req on a fresh connection and reads until the server
// closes it (or 10 s pass); it returns what came back and how long the
// server took to close.
func exchange(tb testing.TB, addr string, req ...string) (string, time.Duration) {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for _, r := range req {
		io.WriteString(c, r)
		time.Sleep(20 * time.Millisecond)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(c)
	return string(got), time.Since(start)
}

// responses parses every response in raw.
func responses(tb testing.TB, raw string) []*http.Response {
	tb.Helper()
	var out []*http.Response
	r := bufio.NewReader(strings.NewReader(raw))
	for {
		if _, err := r.Peek(1); err == io.EOF {
			return out
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			tb.Fatalf("%v in %q", err, raw)
		}
		io.ReadAll(resp.Body)
		out = append(out, resp)
	}
}

func TestProtocolStrict(t *testing.T) {
	h, _, _ := MustOpenHandler(t)
	addr := tcpServer(t, h)
	share := "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
	for _, tc := range []struct {
		name   string
		req    string
		status int
	}{
		{"ObsFold", "GET /api/v1/status HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400},
		{"BareLF", "GET /api/v1/status HTTP/1.1\nHost: x\n\n", 400},
		{"BareLFInFields", "GET /api/v1/status HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400},
		{"ChunkSizeSpace", share + "Transfer-Encoding: chunked\r\n\r\n8 \r\nsecret=x\r\n0\r\n\r\n", 400},
		{"ChunkSizeGarbage", share + "Transfer-Encoding: chunked\r\n\r\nzz\r\nsecret=x\r\n0\r\n\r\n", 400},
		{"Coding", share + "Transfer-Encoding: gzip, chunked\r\n\r\n8\r\nsecret=x\r\n0\r\n\r\n", 501},
		{"ContentLengthsDiffer", share + "Content-Length: 8\r\nContent-Length: 9\r\n\r\nsecret=x", 400},
		{"SpaceBeforeColon", "GET /api/v1/status HTTP/1.1\r\nHost : x\r\n\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each also on a kept-alive connection, after a good request.
			for _, before := range []string{"", "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"} {
				raw, _ := exchange(t, addr, before+tc.req)
				rs := responses(t, raw)
				if len(rs) == 0 {
					t.Fatalf("no answer (before: %q)", before)
				}
				last := rs[len(rs)-1]
				if last.StatusCode != tc.status || !last.Close {
					t.Errorf("status %d, close %v; want %d and the connection closed (before: %q)", last.StatusCode, last.Close, tc.status, before)
				}
				if last.Header.Get("Content-Security-Policy") == "" || last.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("the refusal lacks the security headers: %v", last.Header)
				}
				if before != "" && (len(rs) != 2 || rs[0].StatusCode != 200) {
					t.Errorf("the good request before it: %d answers", len(rs))
				}
			}
		})
	}

	t.Run("ContentLengthWithChunked", func(t *testing.T) {
		// Read as chunked; the connection closes after the answer (RFC
		// 9112, section 6.1), so nothing pipelined behind it is read.
		raw, _ := exchange(t, addr, share+"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nsecret=x\r\n0\r\n\r\nGET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
		rs := responses(t, raw)
		if len(rs) != 1 || rs[0].StatusCode != 200 || !rs[0].Close {
			t.Fatalf("%d answers, first %v; want one, 200, closing the connection", len(rs), rs[0])
		}
	})
	t.Run("PipelinedAfterError", func(t *testing.T) {
		raw, _ := exchange(t, addr, "GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
		if rs := responses(t, raw); len(rs) != 1 || rs[0].StatusCode != 400 {
			t.Fatalf("answers %d; want one 400 and nothing for the request behind it", len(rs))
		}
	})
}

// TestProtocolHeadOnKeptAlive: a HEAD answer has no body, also once the
// request has been wiped, and the connection stays usable.
func TestProtocolHeadOnKeptAlive(t *testing.T) {
	h, _, _ := MustOpenHandler(t)
	addr := tcpServer(t, h)
	raw, _ := exchange(t, addr, "GET /security HTTP/1.1\r\nHost: x\r\n\r\n", "HEAD /security HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	var out []*http.Response
	r := bufio.NewReader(strings.NewReader(raw))
	for _, method := range []string{"GET", "HEAD", "GET"} {
		resp, err := http.ReadResponse(r, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("after %d answers: %v", len(out), err)
		}
		io.ReadAll(resp.Body)
		out = append(out, resp)
	}
	if out[2].StatusCode != 200 || r.Buffered() != 0 {
		t.Errorf("the answer after HEAD: %d, %d bytes more: a HEAD answer carried a body", out[2].StatusCode, r.Buffered())
	}
}

func TestProtocolQuietEnds(t *testing.T) {
	read, idle := 300*time.Millisecond, 1500*time.Millisecond
	h, _, _ := MustOpenHandler(t, withTimeouts(read, idle))
	addr := tcpServer(t, h)
	status := "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"

	t.Run("NeverARequest", func(t *testing.T) {
		raw, took := exchange(t, addr)
		if raw != "" {
			t.Errorf("a connection that sent nothing got %q; want a quiet close", raw)
		}
		if took > idle {
			t.Errorf("closed after %v; want about the read timeout, %v", took, read)
		}
	})
	t.Run("OnlyEmptyLines", func(t *testing.T) {
		if raw, _ := exchange(t, addr, "\r\n\r\n"); raw != "" {
			t.Errorf("a connection that sent empty lines got %q; want a quiet close", raw)
		}
	})
	t.Run("StrayCRLFAfterRequest", func(t *testing.T) {
		raw, _ := exchange(t, addr, status+"\r\n")
		if rs := responses(t, raw); len(rs) != 1 || rs[0].StatusCode != 200 {
			t.Errorf("got %q; want one 200 and then a quiet close", raw)
		}
	})
	t.Run("KeptAliveIdle", func(t *testing.T) {
		raw, took := exchange(t, addr, status)
		if rs := responses(t, raw); len(rs) != 1 {
			t.Errorf("got %q; want one answer and then a quiet close", raw)
		}
		if took < idle-deadlineSlack {
			t.Errorf("a kept-alive connection closed after %v; want the idle timeout, %v", took, idle)
		}
	})
	for _, tc := range []struct{ name, before string }{{"First", ""}, {"KeptAlive", status}} {
		t.Run("PartialRequest408/"+tc.name, func(t *testing.T) {
			raw, took := exchange(t, addr, tc.before+"POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-")
			rs := responses(t, raw)
			if len(rs) == 0 || rs[len(rs)-1].StatusCode != 408 {
				t.Fatalf("got %q; want 408", raw)
			}
			if took >= idle {
				t.Errorf("answered after %v; want the read timeout (%v), not the idle one (%v)", took, read, idle)
			}
		})
	}
	t.Run("StalledBody408", func(t *testing.T) {
		raw, _ := exchange(t, addr, "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nsecret=")
		if rs := responses(t, raw); len(rs) != 1 || rs[0].StatusCode != 408 {
			t.Fatalf("got %q; want 408", raw)
		}
	})
}
