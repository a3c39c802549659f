package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// MustServeRaw answers each connection on a loopback port with answer,
// after reading the request, and hands the request to got.
func MustServeRaw(tb testing.TB, answer string, got chan<- string) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(5 * time.Second))
				var req []byte
				buf := make([]byte, 4096)
				for !bytes.Contains(req, []byte("\r\n\r\n")) {
					n, err := conn.Read(buf)
					req = append(req, buf[:n]...)
					if err != nil {
						return
					}
				}
				// The body, if any, follows; read what arrived with it.
				conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				for {
					n, err := conn.Read(buf)
					req = append(req, buf[:n]...)
					if err != nil {
						break
					}
				}
				if got != nil {
					got <- string(req)
				}
				io.WriteString(conn, answer)
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestWireResponses(t *testing.T) {
	for name, tc := range map[string]struct {
		answer string
		body   string
		err    error // errors.Is target, or nil
		errHas string
	}{
		"OKContentLength": {answer: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"b c\"}trailing junk", body: `{"a":"b c"}`},
		"OKChunked":       {answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n7\r\n:\"b c\"}\r\n0\r\n\r\n", body: `{"a":"b c"}`},
		"OKToTheEnd":      {answer: "HTTP/1.0 200 OK\r\n\r\n{\"a\":1}", body: `{"a":1}`},
		"OKEmpty":         {answer: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", body: ""},
		"ErrCutShort":     {answer: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"a\"", err: errCutShort},
		"ErrChunkCut":     {answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", err: errCutShort},
		"ErrChunkSize":    {answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", errHas: "malformed chunked"},
		"ErrHeadCut":      {answer: "HTTP/1.1 200 OK\r\nContent-Le", err: errCutShort},
		"ErrNotHTTP":      {answer: "SSH-2.0-OpenSSH_9.6\r\n\r\n", errHas: "did not answer in HTTP/1.1"},
		"ErrLength":       {answer: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", errHas: "bad Content-Length"},
		"ErrHuge":         {answer: "HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n", errHas: "too large"},
		"ErrNothing":      {answer: "", err: errCutShort},
	} {
		t.Run(name, func(t *testing.T) {
			base := MustServeRaw(t, tc.answer, nil)
			ep, err := newEndpoint(base, "")
			if err != nil {
				t.Fatal(err)
			}
			v := newVault()
			defer v.wipe()
			resp, err := ep.do(context.Background(), v, request{method: "GET", path: []byte("/x")})
			switch {
			case tc.err == nil && tc.errHas == "":
				if err != nil {
					t.Fatalf("do: %v", err)
				}
				if string(resp.body) != tc.body {
					t.Errorf("body %q, want %q", resp.body, tc.body)
				}
				v.free(resp.raw)
			case tc.err != nil && !errors.Is(err, tc.err), tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
				t.Errorf("do: %v; want %v%s", err, tc.err, tc.errHas)
			}
			if n := v.held(); n != 0 {
				t.Errorf("%d locked buffers left held", n)
			}
		})
	}
}

func TestWireRequest(t *testing.T) {
	got := make(chan string, 1)
	msg := `{"message":"Apologies dear citizen! You have been rate limited."}`
	base := MustServeRaw(t, fmt.Sprintf("HTTP/1.1 404 Not Found\r\nContent-Type: application/json; charset=utf-8\r\nX-OTS-Intended-Status: 429\r\nRetry-After: 7\r\nContent-Length: %d\r\n\r\n%s", len(msg), msg), got)
	v := newVault()
	defer v.wipe()
	auth, _ := basicAuth(v, []byte("alice:token-of-alice"))
	ep, _ := newEndpoint(base+"/prefix/", "")
	c := &client{ep: ep, v: v, auth: auth}
	_, err := c.share(context.Background(), []byte("a=b&c d\"é"), true, []byte("pass word"), 90*time.Second)
	var e *apiError
	if !errors.As(err, &e) || e.status != 429 || e.retryAfter != 7*time.Second || !strings.HasPrefix(e.message, "Apologies dear citizen") {
		t.Fatalf("share: %#v", err)
	}
	if !refused(err) || !strings.Contains(err.Error(), "(try again in 7s)") {
		t.Errorf("refusal reads %q", err)
	}
	req := <-got
	head, body, _ := strings.Cut(req, "\r\n\r\n")
	for _, want := range []string{
		"POST /prefix/api/v1/share HTTP/1.1\r\n",
		"\r\nHost: " + strings.TrimPrefix(base, "http://") + "\r\n",
		"\r\nAuthorization: Basic YWxpY2U6dG9rZW4tb2YtYWxpY2U=\r\n",
		"\r\nContent-Type: application/x-www-form-urlencoded\r\n",
		"\r\nConnection: close\r\n",
	} {
		if !strings.Contains(head, want) {
			t.Errorf("request head lacks %q:\n%s", want, head)
		}
	}
	if want := "secret=a%3Db%26c+d%22%C3%A9&passphrase=pass+word&ttl=90"; body != want {
		t.Errorf("body %q, want %q", body, want)
	}
	v.free(auth)
	if n := v.held(); n != 0 {
		t.Errorf("%d locked buffers left held", n)
	}

	// JSON bodies.
	c.json = true
	c.auth = nil
	c.share(context.Background(), []byte("a\"b\\c\nd\x01é"), true, nil, 0)
	req = <-got
	head, body, _ = strings.Cut(req, "\r\n\r\n")
	if want := `{"secret":"a\"b\\c\nd\u0001é"}`; body != want || !strings.Contains(head, "Content-Type: application/json\r\n") || strings.Contains(head, "Authorization") {
		t.Errorf("JSON request:\n%s\n\n%s", head, body)
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("HTTP/1.1 404 x\r\nX-OTS-Intended-Status: 429\r\nRetry-After: 5\r\n\r\n{}"))
	v := newVault()
	defer v.wipe()
	f.Fuzz(func(t *testing.T, in []byte) {
		resp, err := readResponse(bytes.NewReader(in), v)
		if err != nil {
			if v.held() != 0 {
				t.Fatalf("a failed read left %d buffers held", v.held())
			}
			return
		}
		if len(resp.body) > len(in) || resp.status < 0 || resp.status > 999 {
			t.Errorf("body of %d bytes from %d in, status %d", len(resp.body), len(in), resp.status)
		}
		v.free(resp.raw)
	})
}
