package handler

import (
	"bytes"
	"log"
	"strings"
	"testing"
)

func withPinHosts(hosts ...string) option {
	return func(c *testConfig) { c.handler.PinHosts = append(c.handler.PinHosts, hosts...) }
}

func withLog(w *bytes.Buffer) option {
	return func(c *testConfig) { c.handler.Log = log.New(w, "", 0) }
}

func TestHostNames(t *testing.T) {
	got := hostNames([]string{"Secrets.Example", "127.0.0.1:7143", "[::1]:7143", "lan.example:443", "::1", "", "secrets.example"})
	var s []string
	for _, b := range got {
		s = append(s, string(b))
	}
	want := "secrets.example secrets.example:80 secrets.example:443 127.0.0.1:7143 [::1]:7143 lan.example:443 lan.example ::1 ::1:80 ::1:443"
	if strings.Join(s, " ") != want {
		t.Errorf("hostNames = %q; want %q", strings.Join(s, " "), want)
	}
}

// TestHostPinning sends requests naming this server and others, as a Host
// header and as an absolute-form target, to a handler pinned to
// secrets.example and its listen address.
func TestHostPinning(t *testing.T) {
	var logged bytes.Buffer
	s := MustOpenServer(t, withPinHosts("secrets.example", "127.0.0.1:7143", "localhost:7143"), withLog(&logged))
	for _, c := range []struct {
		name, target, host string
		want               int
	}{
		{"OKPublicName", "/api/otslite/config", "secrets.example", 200},
		{"OKCase", "/api/otslite/config", "SECRETS.example", 200},
		{"OKDefaultPort", "/api/otslite/config", "secrets.example:443", 200},
		{"OKListenAddress", "/api/otslite/config", "127.0.0.1:7143", 200},
		{"OKLocalhost", "/", "localhost:7143", 200},
		{"ErrOtherName", "/api/otslite/config", "evil.example", 421},
		{"ErrSuffix", "/api/otslite/config", "secrets.example.evil.example", 421},
		{"ErrOtherPort", "/api/otslite/config", "127.0.0.1:8080", 421},
		{"ErrPage", "/", "evil.example", 421},
		{"ErrIPLiteral", "/", "192.0.2.1:7143", 421},
		// Absolute-form: the target's host is the one that counts.
		{"OKAbsolute", "http://secrets.example/api/otslite/config", "evil.example", 200},
		{"ErrAbsolute", "http://evil.example/api/otslite/config", "secrets.example", 421},
		// Health probes answer for an address or no Host, never a name.
		{"OKProbeByAddress", "/api/v1/status", "192.0.2.1:7143", 200},
		{"OKProbeIPv6", "/api/v1/status", "[2001:db8::1]:7143", 200},
		{"OKProbeNoHost", "/api/v1/status", "-", 200},
		{"ErrProbeOtherName", "/api/v1/status", "evil.example", 421},
		{"ErrProbeAbsolute", "http://evil.example/api/v1/status", "127.0.0.1:7143", 421},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := "GET " + c.target + " HTTP/1.1\r\nHost: " + c.host + "\r\nConnection: close\r\n\r\n"
			if c.host == "-" {
				req = "GET " + c.target + " HTTP/1.0\r\n\r\n" // as some health checkers send it
			}
			r := s.raw(t, []byte(req))
			if r.status != c.want {
				t.Fatalf("GET %s, Host %q: %s; want %d", c.target, c.host, r, c.want)
			}
			if r.status == 421 {
				for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cache-Control"} {
					if r.get(h) == "" {
						t.Errorf("421 without %s", h)
					}
				}
			}
		})
	}
	// One log line per 421, naming the Host the request named.
	if n := strings.Count(logged.String(), "421 Misdirected Request for Host "); n != 8 {
		t.Errorf("%d log lines for 8 refusals:\n%s", n, logged.String())
	}
	for _, want := range []string{`Host "evil.example"`, `Host "secrets.example.evil.example"`, `Host "127.0.0.1:8080"`, `Host "192.0.2.1:7143"`} {
		if !strings.Contains(logged.String(), "421 Misdirected Request for "+want) {
			t.Errorf("no log line for %s:\n%s", want, logged.String())
		}
	}
}

// TestHostPinningLogIsBounded floods the server with foreign names: the
// log gets a bounded number of lines, and a byte of a Host that is not
// printable ASCII never reaches it raw.
func TestHostPinningLogIsBounded(t *testing.T) {
	var logged bytes.Buffer
	s := MustOpenServer(t, withPinHosts("secrets.example"), withLog(&logged))
	for range 3 * maxMisdirectLines {
		if r := s.raw(t, []byte("GET / HTTP/1.1\r\nHost: evil\xff\".example\r\nConnection: close\r\n\r\n")); r.status != 421 {
			t.Fatalf("foreign Host: %s", r)
		}
	}
	// The fake clock stands still: one second's worth of lines.
	if n := strings.Count(logged.String(), "\n"); n != maxMisdirectLines {
		t.Errorf("%d lines for %d refusals in one second; want %d", n, 3*maxMisdirectLines, maxMisdirectLines)
	}
	if strings.Contains(logged.String(), "\xff") {
		t.Error("a raw byte from the Host reached the log")
	}
	s.clock.Add(1e9)
	s.raw(t, []byte("GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"))
	if !strings.Contains(logged.String(), "(20 more 421s since the last such line were not logged)") {
		t.Errorf("the next line does not count the ones left out:\n%s", logged.String())
	}
}
