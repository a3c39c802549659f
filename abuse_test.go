package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Abuse tests: the release binary under slow clients, guessing, big and
// broken input, a full store and passphrase brute force. Everything runs on
// loopback and is bounded in count and time. Clients take distinct source
// addresses in 127.0.0.0/8 where a test needs several "people".

// clientFrom returns an HTTP client whose connections come from source.
func clientFrom(source string, keepAlive bool) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 20 * time.Second,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			DisableKeepAlives:   !keepAlive,
			MaxIdleConnsPerHost: 64,
		},
	}
}

// send posts a form from client and returns status, intended status, the
// response headers and body.
func send(tb testing.TB, c *http.Client, method, target string, form url.Values) (int, string, http.Header, string) {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-OTS-Intended-Status"), resp.Header, string(b)
}

var secretKeyField = regexp.MustCompile(`"secret_key":"([0-9a-z]+)"`)
var receiptKeyField = regexp.MustCompile(`"metadata_key":"([0-9a-z]+)"`)

// shareFrom creates a secret and returns its secret and receipt keys.
func shareFrom(tb testing.TB, c *http.Client, base string, form url.Values) (string, string) {
	tb.Helper()
	status, intended, _, body := send(tb, c, "POST", base+"/api/v1/share", form)
	sk, rk := secretKeyField.FindStringSubmatch(body), receiptKeyField.FindStringSubmatch(body)
	if status != 200 || sk == nil || rk == nil {
		tb.Fatalf("share: %d (intended %s) %s", status, intended, body)
	}
	return sk[1], rk[1]
}

// rss returns the resident set size of pid in bytes.
func rss(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		tb.Fatal(err)
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		tb.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

func TestAbuseSlowClients(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil)
	// 400 connections from four addresses, each trickling a header byte
	// every 300 ms; the per-address cap (256) is not reached by any one.
	var wg sync.WaitGroup
	var opened, cut atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); wg.Wait() }()
	for i := range 400 {
		src := fmt.Sprintf("127.0.0.%d", 2+i%4)
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err := d.Dial("tcp", p.addr)
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		opened.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			head := "POST /api/v1/share HTTP/1.1\r\nHost: slow\r\nX-Slow: " + strings.Repeat("a", 1000)
			for j := 0; j < len(head); j++ {
				if _, err := c.Write([]byte{head[j]}); err != nil {
					cut.Add(1)
					return
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(300 * time.Millisecond):
				}
			}
		}()
	}
	time.Sleep(time.Second)
	// A normal client still creates and reveals, one pair after another.
	normal := clientFrom("127.0.0.1", true)
	start := time.Now()
	for i := range 20 {
		sk, _ := shareFrom(t, normal, p.base, url.Values{"secret": {fmt.Sprint("normal ", i)}})
		status, _, _, body := send(t, normal, "POST", p.base+"/api/v1/secret/"+sk, url.Values{})
		if status != 200 || !strings.Contains(body, fmt.Sprintf(`"value":"normal %d"`, i)) {
			t.Fatalf("reveal %d with %d slow connections open: %d %s", i, opened.Load(), status, body)
		}
	}
	t.Logf("20 create+reveal pairs took %s beside %d slow connections (%d cut by the server so far)",
		time.Since(start).Round(time.Millisecond), opened.Load(), cut.Load())
}

// refusedWithHeaders reads the answer to a connection the server refuses:
// a 503 that carries the security headers.
func refusedWithHeaders(tb testing.TB, c net.Conn) bool {
	tb.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 503 && resp.Header.Get("Content-Security-Policy") != "" &&
		resp.Header.Get("X-Content-Type-Options") == "nosniff" && resp.Header.Get("Retry-After") != ""
}

func TestAbuseConnectionCap(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil)
	// One address may hold 256 connections. Past that, it gets in only by
	// giving up one of its own idle ones; while all of them are busy in
	// a request, it is refused with a 503.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.9")}}
	for range 256 {
		c, err := d.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		// Each begins a request and stalls: none is idle.
		fmt.Fprintf(c, "GET /api/v1/status HTTP/1.1\r\nHost: x")
		conns = append(conns, c)
	}
	time.Sleep(500 * time.Millisecond) // all accepted and counted
	refused := 0
	for range 10 {
		c, err := d.Dial("tcp", p.addr)
		if err != nil {
			t.Fatal(err)
		}
		if refusedWithHeaders(t, c) {
			refused++
		}
		c.Close()
	}
	if refused != 10 {
		t.Errorf("%d of 10 connections past the cap of 256 were not refused with a 503 and the security headers", 10-refused)
	}
	// Others are not affected.
	if status, _, _, _ := send(t, clientFrom("127.0.0.1", false), "GET", p.base+"/api/v1/status", nil); status != 200 {
		t.Errorf("another address: status %d", status)
	}
}

// TestAbuseIdleConnections: a handful of addresses holding idle
// connections up to every cap cannot lock anyone else out. 17 addresses
// open 256 idle connections each, more than the 4096 the server takes in
// all; idle ones are closed to make room, and a newcomer is still served.
func TestAbuseIdleConnections(t *testing.T) {
	t.Parallel()
	needRoot(t, "raising the open-file limit for 9000 connections")
	lim := syscall.Rlimit{Cur: 20000, Max: 20000}
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)
	if old.Cur < lim.Cur {
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Fatal(err)
		}
	}
	p := MustStartBinary(t, nil)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for a := range 17 {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(10+a))}}
		for range 256 {
			c, err := d.Dial("tcp", p.addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
	}
	time.Sleep(time.Second)
	for i := range 5 {
		status, _, h, _ := send(t, clientFrom(fmt.Sprintf("127.0.2.%d", i+1), false), "GET", p.base+"/api/v1/status", nil)
		if status != 200 {
			t.Errorf("newcomer %d beside %d idle connections: status %d %v", i, len(conns), status, h)
		}
	}
}

func TestAbuseGuessing(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil, "--rate-limit", "1000")
	owner := clientFrom("127.0.0.3", false)
	sk, rk := shareFrom(t, owner, p.base, url.Values{"secret": {"the real one"}})

	guesser := clientFrom("127.0.0.2", true)
	const guesses = 3000
	var unknown, limited, other int
	retryAfter := ""
	for range guesses {
		key := make([]byte, 32)
		rand.Read(key)
		for i := range key {
			key[i] = "0123456789abcdefghjkmnpqrstvwxyz"[key[i]%32]
		}
		status, intended, h, body := send(t, guesser, "POST", p.base+"/api/v1/secret/"+string(key), url.Values{})
		switch {
		case status == 404 && intended == "404" && strings.Contains(body, `"Unknown secret"`):
			unknown++
		case status == 404 && intended == "429":
			limited++
			retryAfter = h.Get("Retry-After")
		default:
			other++
		}
	}
	t.Logf("%d guesses: %d unknown, %d rate-limited (Retry-After %ss), %d other", guesses, unknown, limited, retryAfter, other)
	if unknown != 1000 || limited != guesses-1000 || other != 0 {
		t.Errorf("want 1000 unknown then %d rate-limited, got %d unknown, %d limited, %d other", guesses-1000, unknown, limited, other)
	}
	if s, err := strconv.Atoi(retryAfter); err != nil || s <= 0 || s > 20*60 {
		t.Errorf("Retry-After %q, want seconds within the 20m window", retryAfter)
	}
	// The secret is intact: its receipt says new, and its owner reveals it.
	if _, _, _, body := send(t, owner, "GET", p.base+"/api/v1/receipt/"+rk, nil); !strings.Contains(body, `"state":"new"`) {
		t.Errorf("receipt after guessing: %s", body)
	}
	if status, _, _, body := send(t, owner, "POST", p.base+"/api/v1/secret/"+sk, url.Values{}); status != 200 || !strings.Contains(body, `"value":"the real one"`) {
		t.Errorf("reveal after guessing: %d %s", status, body)
	}
}

// rawRequest writes req on a fresh connection and returns the status line
// and headers of the answer, or the error that ended the exchange.
func rawRequest(addr string, req []byte) (*http.Response, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go c.Write(req) // the server may answer before it has read everything
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}

func TestAbuseBadInput(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil, "--rate-limit", "0")
	before := rss(t, p.cmd.Process.Pid)
	tenMB := bytes.Repeat([]byte("A"), 10<<20)
	form := func(ct string, body []byte) []byte {
		head := fmt.Sprintf("POST /api/v1/share HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", p.addr, ct, len(body))
		return append([]byte(head), body...)
	}
	chunked := func(body []byte) []byte { return chunkedShare(p.addr, body, 64<<10) }
	const wwwForm = "application/x-www-form-urlencoded"
	for _, c := range []struct {
		name     string
		req      []byte
		intended string // "" when any clean refusal will do; "=N": the real status N
	}{
		{"TenMBSecret", form(wwwForm, append([]byte("secret="), tenMB...)), "413"},
		{"TenMBSecretChunked", chunked(append([]byte("secret="), tenMB...)), "413"},
		{"TenMBJSON", form("application/json", append(append([]byte(`{"secret":"`), tenMB...), `"}`...)), "413"},
		{"JustOverMax", form(wwwForm, append([]byte("secret="), bytes.Repeat([]byte("b"), 64<<10+1)...)), "413"},
		// Refused before any route is chosen: the real status.
		{"HugeHeader", []byte("GET /api/v1/status HTTP/1.1\r\nHost: " + p.addr + "\r\nX-Big: " + strings.Repeat("h", 100<<10) + "\r\n\r\n"), "=431"},
		{"ManyHeaders", []byte("GET /api/v1/status HTTP/1.1\r\nHost: " + p.addr + "\r\n" + strings.Repeat("X-A: b\r\n", 5000) + "\r\n"), "=431"},
		{"TextPlain", form("text/plain", []byte("secret=x")), "400"},
		{"MultipartFile", form("multipart/form-data; boundary=zz", []byte("--zz\r\nContent-Disposition: form-data; name=\"secret\"; filename=\"x\"\r\n\r\nx\r\n--zz--\r\n")), "400"},
		{"MultipartTruncated", form("multipart/form-data; boundary=zz", []byte("--zz\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nx")), "400"},
		{"MultipartNoBoundary", form("multipart/form-data", []byte("--zz\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nx\r\n--zz--\r\n")), "400"},
		{"MultipartManyParts", form("multipart/form-data; boundary=zz", []byte(strings.Repeat("--zz\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n\r\n", 5000)+"--zz\r\nContent-Disposition: form-data; name=\"secret\"; filename=\"x\"\r\n\r\nx\r\n--zz--\r\n")), "400"},
		{"TruncatedJSON", form("application/json", []byte(`{"secret":"abc`)), "400"},
		{"JSONArray", form("application/json", []byte(`["secret","x"]`)), "400"},
		{"JSONRawNUL", form("application/json", []byte("{\"secret\":\"a\x00b\"}")), "400"},
		{"InvalidUTF8", form(wwwForm, []byte("secret=%ff%fe")), "400"},
		{"Gzipped", append([]byte("POST /api/v1/share HTTP/1.1\r\nHost: "+p.addr+"\r\nContent-Encoding: gzip\r\nContent-Length: 8\r\n\r\n"), "secret=x"...), "400"},
		{"PUT", []byte("PUT /api/v1/share HTTP/1.1\r\nHost: " + p.addr + "\r\nContent-Length: 0\r\n\r\n"), "405"},
		{"DELETE", []byte("DELETE /api/v1/secret/abcdefghjkmnpqrstvwxyz0123456789 HTTP/1.1\r\nHost: " + p.addr + "\r\n\r\n"), "405"},
		{"UnknownMethod", []byte("BREW /api/v1/status HTTP/1.1\r\nHost: " + p.addr + "\r\n\r\n"), "405"},
		{"GarbageRequestLine", []byte("\x00\x01\x02 nonsense\r\n\r\n"), ""},
		{"NULInPath", []byte("GET /api/v1/st\x00atus HTTP/1.1\r\nHost: " + p.addr + "\r\n\r\n"), ""},
		{"BadContentLength", []byte("POST /api/v1/share HTTP/1.1\r\nHost: " + p.addr + "\r\nContent-Length: -5\r\n\r\n"), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := rawRequest(p.addr, c.req)
			if err != nil {
				if c.intended != "" {
					t.Fatalf("no answer: %v", err)
				}
				return // the connection was closed: a clean refusal
			}
			got := resp.Header.Get("X-OTS-Intended-Status")
			if real, ok := strings.CutPrefix(c.intended, "="); ok {
				if strconv.Itoa(resp.StatusCode) != real || resp.Header.Get("Content-Security-Policy") == "" {
					t.Errorf("%d, %v; want %s with the security headers", resp.StatusCode, resp.Header, real)
				}
				return
			}
			if c.intended != "" && (resp.StatusCode != 404 || got != c.intended) {
				t.Errorf("%d, intended %q; want 404, intended %s", resp.StatusCode, got, c.intended)
			}
			if c.intended == "" && resp.StatusCode < 400 {
				t.Errorf("accepted: %s", resp.Status)
			}
		})
	}
	// NUL bytes that are properly encoded are data, and round-trip.
	sk, _ := shareFrom(t, clientFrom("127.0.0.1", false), p.base, url.Values{"secret": {"a\x00b"}})
	if _, _, _, body := send(t, clientFrom("127.0.0.1", false), "POST", p.base+"/api/v1/secret/"+sk, url.Values{}); !strings.Contains(body, `"value":"a\u0000b"`) {
		t.Errorf("NUL secret revealed as %s", body)
	}
	// Floods of the largest refused bodies leave memory bounded.
	var wg sync.WaitGroup
	big := form(wwwForm, append([]byte("secret="), tenMB...))
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				rawRequest(p.addr, big)
			}
		}()
	}
	wg.Wait()
	if status, _, _, _ := send(t, clientFrom("127.0.0.1", false), "GET", p.base+"/api/v1/status", nil); status != 200 {
		t.Errorf("status after the abuse: %d", status)
	}
	after := rss(t, p.cmd.Process.Pid)
	t.Logf("RSS %d MiB before, %d MiB after 40 refused 10 MB bodies and the table above", before>>20, after>>20)
	// The request body limit is about 400 KiB; 64 MiB is generous slack.
	if after-before > 64<<20 {
		t.Errorf("RSS grew by %d MiB", (after-before)>>20)
	}
}

func TestAbuseFullStore(t *testing.T) {
	t.Parallel()
	const maxSecrets = 3000
	p := MustStartBinary(t, nil, "--rate-limit", "0", "--max-secrets", strconv.Itoa(maxSecrets), "--max-bytes", "8MiB")
	pid := p.cmd.Process.Pid
	before := rss(t, pid)
	c := clientFrom("127.0.0.1", true)
	secret := strings.Repeat("s", 1024)
	var firstKey string
	created, full := 0, 0
	for range maxSecrets + 50 {
		status, intended, _, body := send(t, c, "POST", p.base+"/api/v1/share", url.Values{"secret": {secret}})
		switch {
		case status == 200:
			created++
			if firstKey == "" {
				firstKey = secretKeyField.FindStringSubmatch(body)[1]
			}
		case intended == "503" && strings.Contains(body, "Server is full"):
			full++
		default:
			t.Fatalf("create %d: %d (intended %s) %s", created+full, status, intended, body)
		}
	}
	if created != maxSecrets || full != 50 {
		t.Errorf("created %d, refused as full %d; want %d and 50", created, full, maxSecrets)
	}
	after := rss(t, pid)
	t.Logf("RSS %d MiB empty, %d MiB with %d secrets of 1 KiB (%d bytes each)", before>>20, after>>20, created, (after-before)/int64(max(created, 1)))
	// A full store holds at most max-secrets sealed secrets: a few KiB each
	// at most, plus a fixed margin for buffers.
	if limit := int64(maxSecrets)*4<<10 + 32<<20; after-before > limit {
		t.Errorf("RSS grew by %d MiB with a full store; want under %d MiB", (after-before)>>20, limit>>20)
	}
	// Room comes back when a secret leaves.
	if status, _, _, _ := send(t, c, "POST", p.base+"/api/v1/secret/"+firstKey, url.Values{}); status != 200 {
		t.Fatalf("reveal: %d", status)
	}
	if status, intended, _, body := send(t, c, "POST", p.base+"/api/v1/share", url.Values{"secret": {secret}}); status != 200 {
		t.Errorf("create after a reveal made room: %d (intended %s) %s", status, intended, body)
	}

	// --max-bytes is a limit of its own.
	q := MustStartBinary(t, nil, "--rate-limit", "0", "--max-bytes", "256KiB")
	big := strings.Repeat("b", 60<<10)
	n := 0
	for ; n < 10; n++ {
		status, intended, _, _ := send(t, c, "POST", q.base+"/api/v1/share", url.Values{"secret": {big}})
		if status != 200 {
			if intended != "503" {
				t.Errorf("past --max-bytes: intended %s, want 503", intended)
			}
			break
		}
	}
	if n != 4 {
		t.Errorf("%d secrets of 60 KiB fit in 256 KiB; want 4", n)
	}
}

func TestAbusePassphraseBruteForce(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil, "--rate-limit", "0")
	owner := clientFrom("127.0.0.1", false)
	attempt := func(src, key, pass string) (int, string, string) {
		status, intended, _, body := send(t, clientFrom(src, false), "POST", p.base+"/api/v1/secret/"+key, url.Values{"passphrase": {pass}})
		return status, intended, body
	}

	t.Run("PerAddress", func(t *testing.T) {
		sk, rk := shareFrom(t, owner, p.base, url.Values{"secret": {"guarded"}, "passphrase": {"correct horse"}})
		for i := range 5 {
			if _, intended, body := attempt("127.0.0.2", sk, fmt.Sprint("guess ", i)); intended != "404" || !strings.Contains(body, "Unknown secret") {
				t.Fatalf("wrong passphrase %d: intended %s %s", i+1, intended, body)
			}
		}
		// The sixth try from the same address is refused, right or not.
		if _, intended, _ := attempt("127.0.0.2", sk, "correct horse"); intended != "429" {
			t.Errorf("after 5 failures: intended %s, want 429", intended)
		}
		if _, _, _, body := send(t, owner, "GET", p.base+"/api/v1/receipt/"+rk, nil); !strings.Contains(body, `"state":"new"`) {
			t.Errorf("the secret did not survive: %s", body)
		}
		// Another address with the right passphrase still opens it.
		if status, _, body := attempt("127.0.0.3", sk, "correct horse"); status != 200 || !strings.Contains(body, `"value":"guarded"`) {
			t.Errorf("right passphrase from elsewhere: %d %s", status, body)
		}
	})
	t.Run("Total", func(t *testing.T) {
		sk, _ := shareFrom(t, owner, p.base, url.Values{"secret": {"guarded too"}, "passphrase": {"battery staple"}})
		for i := range 20 {
			src := fmt.Sprintf("127.0.1.%d", 1+i/4) // 4 each: no address reaches its own 5
			if _, intended, _ := attempt(src, sk, fmt.Sprint("guess ", i)); intended != "404" {
				t.Fatalf("wrong passphrase %d: intended %s", i+1, intended)
			}
		}
		if _, intended, _ := attempt("127.0.2.1", sk, "battery staple"); intended != "429" {
			t.Errorf("after 20 failures in all: intended %s from a new address, want 429", intended)
		}
		// Burned or revealed it is not: the receipt still says new.
		status, _, _, body := send(t, owner, "POST", p.base+"/api/v1/secret/"+sk, url.Values{"passphrase": {"battery staple"}})
		if status == 200 || !strings.Contains(body, "Too many") {
			t.Errorf("locked secret opened: %d %s", status, body)
		}
	})
}

// TestAbuseRefusedBodyAnswered sends bodies the server refuses before
// reading them the way many clients do: the whole request first, the
// answer read only then. The refusal must reach them; a server that
// closes with the body unread makes the kernel reset the connection,
// and the client sees that instead of the answer.
func TestAbuseRefusedBodyAnswered(t *testing.T) {
	t.Parallel()
	for _, tlsOn := range []bool{false, true} {
		name, args := "HTTP", []string{"--rate-limit", "0"}
		if tlsOn {
			name, args = "TLS", append(args, "--tls-self-signed")
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			refusedBodyAnswered(t, MustStartBinary(t, nil, args...), tlsOn)
		})
	}
}

// TestAbuseRefusedBodyTrickle refuses a body that comes a byte at a
// time: the refusal comes at once, and the connection still closes
// within a few seconds, however long the client goes on sending.
func TestAbuseRefusedBodyTrickle(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil, "--rate-limit", "0")
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/share HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nsecret=", p.addr, 1<<30)
	stop, refused := make(chan struct{}), make(chan time.Time, 1)
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := conn.Write([]byte("x")); err != nil {
					refused <- time.Now()
					return
				}
			}
		}
	}()
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	io.ReadAll(resp.Body)
	if resp.Header.Get("X-OTS-Intended-Status") != "413" {
		t.Errorf("%s, intended %q", resp.Status, resp.Header.Get("X-OTS-Intended-Status"))
	}
	answered := time.Now()
	if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("read %d bytes after the answer (%v), want the end", n, err)
	}
	// The server reads what still comes for lingerTime (2 s), then closes,
	// and the client's next write fails.
	select {
	case at := <-refused:
		t.Logf("the client could send for %v after the answer", at.Sub(answered).Round(time.Millisecond))
	case <-time.After(20 * time.Second):
		t.Errorf("the server still takes the body 20 s after answering")
	}
}

func refusedBodyAnswered(t *testing.T, p *binProc, tlsOn bool) {
	big := bytes.Repeat([]byte("A"), 32<<20)
	head := "POST /api/v1/share HTTP/1.1\r\nHost: " + p.addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(big)+7)
	for _, c := range []struct {
		name string
		req  []byte
	}{
		{"ContentLength", append([]byte(head+"secret="), big...)},
		{"Chunked", chunkedShare(p.addr, append([]byte("secret="), big...), 1<<20)},
	} {
		t.Run(c.name, func(t *testing.T) {
			var conn net.Conn
			var err error
			if tlsOn {
				conn, err = tls.Dial("tcp", p.addr, &tls.Config{InsecureSkipVerify: true})
			} else {
				conn, err = net.Dial("tcp", p.addr)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(20 * time.Second))
			if _, err := conn.Write(c.req); err != nil {
				t.Fatalf("sending the request: %v", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.Header.Get("X-OTS-Intended-Status") != "413" || !strings.Contains(string(body), "exceeds the maximum size") {
				t.Errorf("%s, intended %q: %s", resp.Status, resp.Header.Get("X-OTS-Intended-Status"), body)
			}
		})
	}
}

// chunkedShare is a form share to addr whose body goes in chunks of at
// most chunk bytes.
func chunkedShare(addr string, body []byte, chunk int) []byte {
	var b bytes.Buffer
	b.WriteString("POST /api/v1/share HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n")
	for len(body) > 0 {
		n := min(len(body), chunk)
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(body[:n])
		b.WriteString("\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}
