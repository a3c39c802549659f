package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe to write from the program and read from
// the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type program struct {
	addr   string
	stderr *syncBuffer
	stop   context.CancelFunc
	code   chan int
}

// MustRun starts otslite in-process on a free port with args.
func MustRun(tb testing.TB, args ...string) *program {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &program{stderr: &syncBuffer{}, stop: cancel, code: make(chan int, 1)}
	ready := make(chan string, 1)
	go func() {
		p.code <- run(ctx, append([]string{"--listen", "127.0.0.1:0"}, args...), func(string) string { return "" }, p.stderr, ready)
	}()
	select {
	case p.addr = <-ready:
	case code := <-p.code:
		tb.Fatalf("otslite exited with %d: %s", code, p.stderr)
	case <-time.After(60 * time.Second):
		// Generous: under the race detector on a busy machine, loading
		// the UI alone can take seconds.
		tb.Fatal("otslite did not start")
	}
	tb.Cleanup(func() { p.stop() })
	return p
}

// MustStop ends the program and returns its exit code.
func (p *program) MustStop(tb testing.TB) int {
	tb.Helper()
	p.stop()
	select {
	case code := <-p.code:
		return code
	case <-time.After(10 * time.Second):
		tb.Fatal("otslite did not stop")
		return -1
	}
}

func (p *program) post(tb testing.TB, path string, form url.Values) map[string]any {
	tb.Helper()
	resp, err := http.PostForm("http://"+p.addr+path, form)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		tb.Fatalf("POST %s: %v: %s", path, err, body)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
	}
	return m
}

func TestRunServesAndEnds(t *testing.T) {
	p := MustRun(t)
	r := p.post(t, "/api/v1/share", url.Values{"secret": {"from main"}, "ttl": {"600"}})
	if want := "http://" + p.addr + "/receipt/"; !strings.HasPrefix(r["metadata_url"].(string), want) {
		t.Errorf("metadata_url %q does not start with %q", r["metadata_url"], want)
	}
	v := p.post(t, "/api/v1/secret/"+r["secret_key"].(string), nil)
	if v["value"] != "from main" {
		t.Errorf("revealed %q", v["value"])
	}
	p.post(t, "/api/v1/share", url.Values{"secret": {"left unread"}})
	if code := p.MustStop(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
	out := p.stderr.String()
	for _, want := range []string{
		"open http://" + p.addr + "/",
		"locked memory:",
		"session over (signal): 2 created, 1 revealed, 0 burned, 0 expired, 1 wiped unread",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stderr lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"from main", "left unread", r["secret_key"].(string)} {
		if strings.Contains(out, secret) {
			t.Errorf("stderr holds %q", secret)
		}
	}
}

func TestRunRefusesBadConfig(t *testing.T) {
	for name, args := range map[string][]string{
		"ErrBadTTL":     {"--max-ttl", "7x"},
		"ErrTTLOrder":   {"--default-ttl", "2h", "--max-ttl", "1h"},
		"ErrBadAddress": {"--listen", "not an address"},
		"ErrPositional": {"extra"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), args, func(string) string { return "" }, &stderr, nil)
			if code != exitConfig {
				t.Errorf("exit code %d, want %d", code, exitConfig)
			}
			if lines := strings.Count(strings.TrimSpace(stderr.String()), "\n"); lines != 0 || stderr.Len() == 0 {
				t.Errorf("want one line of reason, got %q", stderr.String())
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &stderr, nil); code != exitOK {
		t.Errorf("-h exit code %d", code)
	}
	if !strings.Contains(stderr.String(), "Usage: otslite") {
		t.Errorf("-h printed %q", stderr.String())
	}
}
