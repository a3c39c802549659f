package main

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testResidueInterrupted sends secrets, passphrases, link keys and
// credentials through the requests that do not end well: bodies cut
// mid-way, bodies that stall until the read timeout, broken and oversized
// chunked bodies, a refused "Expect: 100-continue", a request pipelined
// behind a malformed one, headers cut mid-way, and a chunked share that
// succeeds. Then it reads the server's whole memory: none may be left.
func testResidueInterrupted(t *testing.T) {
	dir := t.TempDir()
	tokenCore := marker(t, "tok")
	token := "alice:" + tokenCore
	if err := os.WriteFile(filepath.Join(dir, "tokens"), []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startScanServer(t, "--token-file", filepath.Join(dir, "tokens"), "--max-secret-size", "16KiB")
	addr := strings.TrimPrefix(s.base, "http://")
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(token))
	items := []planted{{"credential", "token-file", tokenCore, token}}
	var mu sync.Mutex
	plant := func(path, fate string) (core, full string) {
		core, full = markerFull(t, fate)
		mu.Lock()
		items = append(items, planted{path, fate, core, full})
		mu.Unlock()
		return core, full
	}
	authed := &http.Client{Transport: &basicTransport{auth: basic}}

	// A waiting secret with a passphrase, whose link key and passphrase
	// then go through a reveal cut mid-way.
	_, pass := plant("reveal-cut", "passphrase")
	r := s.call(t, authed, "/api/v1/share", "application/x-www-form-urlencoded",
		url.Values{"secret": {"waiting"}, "passphrase": {pass}}.Encode())
	sk := r["secret_key"].(string)
	items = append(items, planted{"reveal-cut", "waiting-secret-key", sk, sk})

	form := func(full string) string { return "secret=" + url.QueryEscape(full) + "&ttl=600" }
	head := func(method, target, extra string, length int) string {
		h := method + " " + target + " HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: " + basic + "\r\n"
		if length >= 0 {
			h += fmt.Sprintf("Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n", length)
		}
		return h + extra + "\r\n"
	}
	chunked := func(parts ...string) string {
		var b strings.Builder
		for _, p := range parts {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(p), p)
		}
		return b.String()
	}

	type exchange struct {
		name string
		send []string // written one after another
		wait bool     // wait for the server to close the connection
	}
	var cases []exchange

	// A body cut mid-way: the client disconnects after half of it, at
	// several points (inside the first bytes, in the middle, near the end).
	for _, at := range []int{3, 20, 60} {
		_, full := plant("cut-body", fmt.Sprintf("cut%d", at))
		body := form(full)
		cases = append(cases, exchange{name: "cut", send: []string{head("POST", "/api/v1/share", "", len(body)) + body[:min(at, len(body)-1)]}})
	}
	// A large body cut mid-way (read straight into the destination, past
	// the read buffer).
	{
		_, full := plant("cut-large", "cutlarge")
		body := form(full + strings.Repeat("x", 12000) + full)
		cases = append(cases, exchange{name: "cut-large", send: []string{head("POST", "/api/v1/share", "", len(body)) + body[:len(body)-100]}})
	}
	// A body that stalls until the server's read timeout.
	{
		_, full := plant("stalled-body", "stall")
		body := form(full)
		cases = append(cases, exchange{name: "stall", send: []string{head("POST", "/api/v1/share", "", len(body)+50) + body}, wait: true})
	}
	// A reveal whose body is cut: link key, passphrase and credential.
	{
		body := "passphrase=" + url.QueryEscape(pass)
		cases = append(cases, exchange{name: "reveal-cut", send: []string{head("POST", "/api/v1/secret/"+sk, "", len(body)+10) + body}})
	}
	// A broken chunk.
	{
		_, full := plant("broken-chunk", "brokenchunk")
		body := form(full)
		cases = append(cases, exchange{name: "broken-chunk", send: []string{head("POST", "/api/v1/share", "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n", -1) +
			chunked(body[:10], body[10:]) + "zz\r\n"}})
	}
	// A chunked body over the size limit.
	{
		_, full := plant("chunked-over", "chunkedover")
		var parts []string
		for range 40 {
			parts = append(parts, url.QueryEscape(full)+strings.Repeat("y", 4000))
		}
		cases = append(cases, exchange{name: "chunked-over", send: []string{head("POST", "/api/v1/share", "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n", -1) +
			chunked("secret=") + chunked(parts...) + "0\r\n\r\n"}})
	}
	// A body over the size limit announced with "Expect: 100-continue",
	// sent without waiting for the answer (as curl does after a second).
	{
		_, full := plant("expect-refused", "expect")
		body := form(full + strings.Repeat("z", 200<<10))
		cases = append(cases, exchange{name: "expect", send: []string{head("POST", "/api/v1/share", "Expect: 100-continue\r\n", len(body)) + body}})
	}
	// A request pipelined behind a malformed one.
	{
		_, full := plant("pipelined-after-error", "pipelined")
		body := form(full)
		cases = append(cases, exchange{name: "pipelined", send: []string{"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n" + head("POST", "/api/v1/share", "", len(body)) + body}})
	}
	// Headers cut mid-way, with a secret in the query string.
	{
		_, full := plant("cut-headers", "cutheaders")
		cases = append(cases, exchange{name: "cut-headers", send: []string{"POST /api/v1/share?secret=" + url.QueryEscape(full) + " HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: " + basic[:20]}})
	}
	// An invalid request line after a valid request on a kept-alive
	// connection, with a credential in its headers.
	{
		_, full := plant("bad-second-request", "badsecond")
		cases = append(cases, exchange{name: "bad-second", send: []string{
			"GET /api/v1/status HTTP/1.1\r\nHost: " + addr + "\r\n\r\n",
			"POST /api/v1/share HTTP/1.1\r\nHost: " + addr + "\r\nX-Secret: " + full + "\r\nContent-Length: x\r\n\r\n"}})
	}

	var wg sync.WaitGroup
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			for _, part := range c.send {
				if _, err := io.WriteString(conn, part); err != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if c.wait {
				conn.SetReadDeadline(time.Now().Add(40 * time.Second))
				io.Copy(io.Discard, conn)
				return
			}
			time.Sleep(200 * time.Millisecond)
		}()
	}

	// A chunked share that succeeds, then its reveal.
	core, full := plant("chunked-ok", "chunkedok")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	body := form(full)
	io.WriteString(conn, head("POST", "/api/v1/share", "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n", -1)+chunked(body[:5], body[5:17], body[17:])+"0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	conn.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("chunked share: %d %s", resp.StatusCode, raw)
	}
	chunkedKey := jsonField(t, raw, "secret_key")
	v := s.call(t, authed, "/api/v1/secret/"+chunkedKey, "", "")
	if v["value"] != full {
		t.Errorf("chunked share: revealed %q, want the marker %s", v["value"], core)
	}
	wg.Wait()

	// Fifty later shares, then a look at the whole memory.
	for range 50 {
		s.call(t, authed, "/api/v1/share", "", "secret=later&ttl=600")
	}
	authed.CloseIdleConnections()
	time.Sleep(time.Second)
	control := addr + "/receipt/"
	counts, n := residues(t, s.cmd.Process.Pid, items, control)
	found := 0
	for _, name := range sortedKeys(counts) {
		if c := counts[name]; c > 0 {
			found += c
			t.Errorf("%s: %d copies in memory", name, c)
		}
	}
	t.Logf("interrupted requests: %d items planted, %d needles scanned, %d copies found", len(items), n, found)
}

// basicTransport adds an Authorization header to every request.
type basicTransport struct {
	auth string
	base http.Transport
}

func (b *basicTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", b.auth)
	return b.base.RoundTrip(r)
}

func (b *basicTransport) CloseIdleConnections() { b.base.CloseIdleConnections() }

// jsonField returns one string field of a JSON object.
func jsonField(tb testing.TB, raw []byte, name string) string {
	tb.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		tb.Fatalf("%v: %s", err, raw)
	}
	s, _ := m[name].(string)
	return s
}

// testResidueTLS sends secrets, passphrases, link keys and credentials
// over TLS (--tls-self-signed): crypto/tls decrypts each record in a
// buffer of its own, which is wiped as its data is read and when the
// connection closes.
func testResidueTLS(t *testing.T) {
	s := startScanServer(t, "--tls-self-signed")
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // a test against its own self-signed server
	keepAlive := &http.Client{Transport: tr}
	fresh := &http.Client{Transport: &http.Transport{TLSClientConfig: tr.TLSClientConfig, DisableKeepAlives: true}}
	var items []planted
	for i, c := range []*http.Client{keepAlive, fresh} {
		path := []string{"tls-keepalive", "tls-fresh"}[i]
		for _, fate := range []string{"revealed", "burned", "waiting"} {
			core, full := markerFull(t, fate)
			pc, pf := markerFull(t, "pass")
			items = append(items, planted{path, fate, core, full}, planted{path, fate + "-passphrase", pc, pf})
			r := s.call(t, c, "/api/v1/share", "application/x-www-form-urlencoded",
				url.Values{"secret": {full}, "passphrase": {pf}, "ttl": {"600"}}.Encode())
			sk, rk := r["secret_key"].(string), r["metadata_key"].(string)
			body := url.Values{"passphrase": {pf}}.Encode()
			switch fate {
			case "revealed":
				if v := s.call(t, c, "/api/v1/secret/"+sk, "application/x-www-form-urlencoded", body); v["value"] != full {
					t.Errorf("%s: revealed value differs", path)
				}
			case "burned":
				s.call(t, c, "/api/v1/receipt/"+rk+"/burn", "application/x-www-form-urlencoded", body)
			case "waiting":
				items = append(items, planted{path, "waiting-secret-key", sk, sk}, planted{path, "waiting-receipt-key", rk, rk})
				for _, target := range []string{"/api/v1/receipt/" + rk, "/api/otslite/secret/" + sk, "/secret/" + sk} {
					resp, err := c.Get(s.base + target)
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}
		core := marker(t, "token")
		items = append(items, planted{path, "credential", core, "user:" + core})
		req, _ := http.NewRequest("GET", s.base+"/api/v1/status", nil)
		req.SetBasicAuth("user", core)
		if resp, err := c.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	keepAlive.CloseIdleConnections()
	time.Sleep(time.Second)
	counts, n := residues(t, s.cmd.Process.Pid, items, "/receipt/")
	found := 0
	for _, name := range sortedKeys(counts) {
		if c := counts[name]; c > 0 {
			found += c
			t.Errorf("%s: %d copies in memory", name, c)
		}
	}
	t.Logf("TLS: %d items planted, %d needles scanned, %d copies found", len(items), n, found)
}
