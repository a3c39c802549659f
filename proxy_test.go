package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// MustStartHAProxy runs HAProxy (Debian's haproxy) in the foreground on a
// free loopback port with option forwardfor, in front of backend. It
// connects to the backend from source, so the backend can tell it from
// clients. It returns the address it listens on.
func MustStartHAProxy(tb testing.TB, backend, source string) string {
	tb.Helper()
	exe, err := exec.LookPath("haproxy")
	need(tb, err, "haproxy (apt-get install haproxy)")
	front := freePort(tb)
	cfg := fmt.Sprintf(`global
  maxconn 256
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend otslite
  bind %s
  option forwardfor
  default_backend otslite
backend otslite
  server otslite %s source %s
`, front, backend, source)
	path := filepath.Join(tb.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-f", path, "-db")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() { cmd.Process.Kill(); <-exited })
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", front, time.Second); err == nil {
			c.Close()
			return front
		}
		select {
		case <-exited:
			tb.Fatalf("haproxy exited:\n%s", out)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("haproxy did not start:\n%s", out)
		}
	}
}

// TestHAProxyInFront runs the release binary behind a real HAProxy, which
// appends its own X-Forwarded-For line after whatever the client sent. A
// client that writes its own X-Forwarded-For cannot pick its address: not
// to get past --reveal-allow, not to escape the rate limit, not in the
// audit trail. Clients and HAProxy take distinct loopback addresses:
// 127.0.0.3 is HAProxy (the trusted proxy), 127.0.0.4 the one allowed
// client, 127.0.0.2 everyone else.
func TestHAProxyInFront(t *testing.T) {
	t.Parallel()
	addr := freePort(t)
	// Links point at HAProxy, as recipients reach otslite through it.
	front := MustStartHAProxy(t, addr, "127.0.0.3")
	p := MustStartBinary(t, nil, "--listen", addr, "--public-url", "http://"+front,
		"--trusted-proxy", "127.0.0.3", "--reveal-allow", "127.0.0.4", "--rate-limit", "4")
	base := "http://" + front
	outsider, allowed := clientFrom("127.0.0.2", false), clientFrom("127.0.0.4", false)
	sk, _ := shareFrom(t, outsider, base, url.Values{"secret": {"behind haproxy"}})

	reveal := func(c *http.Client, xff ...string) (int, string, string) {
		req, _ := http.NewRequest("POST", base+"/api/v1/secret/"+sk, strings.NewReader(""))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, v := range xff {
			req.Header.Add("X-Forwarded-For", v)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("X-OTS-Intended-Status"), string(b)
	}
	// The outsider names the allowed address, in every shape; each try
	// is refused, and each counts against the outsider's own limit.
	for i, xff := range [][]string{
		{"127.0.0.4"},
		{"127.0.0.4, 127.0.0.3"},
		{"127.0.0.4", "127.0.0.3"},
		{"127.0.0.4:80"},
	} {
		if status, intended, body := reveal(outsider, xff...); intended != "403" {
			t.Errorf("try %d, X-Forwarded-For %q: %d, intended %s: %s; want intended 403", i+1, xff, status, intended, body)
		}
	}
	if _, intended, body := reveal(outsider, "127.0.0.5"); intended != "429" {
		t.Errorf("fifth reveal from one client under fresh names: intended %s: %s; want 429 (the limit is 4)", intended, body)
	}
	// The allowed client, through the same proxy, opens it: the walk
	// reaches the real client, not the proxy.
	if status, _, body := reveal(allowed, "10.9.9.9"); status != 200 || !strings.Contains(body, "behind haproxy") {
		t.Errorf("allowed client: %d %s", status, body)
	}

	// The audit trail names the clients as HAProxy saw them. (Lines
	// reach stderr in batches, within 10 ms.)
	want := map[string]int{"127.0.0.2 denied_network": 4, "127.0.0.2 rate_limited": 1, "127.0.0.4 ok": 1}
	var ips map[string]int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		ips = map[string]int{}
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			var e struct{ Event, IP, Outcome string }
			if json.Unmarshal([]byte(line), &e) == nil && e.Event == "reveal" {
				ips[e.IP+" "+e.Outcome]++
			}
		}
		if maps.Equal(ips, want) {
			return
		}
	}
	t.Errorf("audit trail's reveals by ip and outcome: %v; want %v", ips, want)
}
