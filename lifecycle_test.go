package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Tests of the session lifecycle against the release binary: each way a
// session ends, what the operator is told, and how the process leaves.
// Exit latencies are logged (the machine is shared, so they are figures,
// not assertions); the bounds asserted only catch a process that does not
// end at all, or ends before its time.

// binProc is a running release binary.
type binProc struct {
	cmd     *exec.Cmd
	stderr  *syncBuffer
	addr    string // host:port served on
	base    string // scheme://addr
	exited  chan struct{}
	code    int
	started time.Time // just before the process was started
	at      time.Time // when it exited
}

// MustStartBinary runs the release binary on a free loopback port with args
// and waits until it serves. wrap, when not empty, is a command line the
// binary runs under (strace).
func MustStartBinary(tb testing.TB, wrap []string, args ...string) *binProc {
	tb.Helper()
	return mustStart(tb, nil, wrap, args...)
}

// mustStart is MustStartBinary with process attributes (a user to run as).
func mustStart(tb testing.TB, attr *syscall.SysProcAttr, wrap []string, args ...string) *binProc {
	tb.Helper()
	addr := freePort(tb)
	argv := append(append(wrap, scanBinary(tb), "--listen", addr), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	p := &binProc{cmd: cmd, stderr: &syncBuffer{}, addr: addr, base: "http://" + addr, exited: make(chan struct{})}
	for i, a := range args {
		if a == "--listen" && i+1 < len(args) {
			p.addr, p.base = args[i+1], "http://"+args[i+1]
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "--tls") {
			p.base = "https://" + p.addr
		}
	}
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = attr
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		p.at = time.Now()
		p.code = cmd.ProcessState.ExitCode()
		if err != nil && p.code < 0 {
			p.code = -1
		}
		close(p.exited)
	}()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderr.String(), "open http") {
		select {
		case <-p.exited:
			tb.Fatalf("otslite exited with %d before serving:\n%s", p.code, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("otslite did not start:\n%s", p.stderr)
		}
	}
	return p
}

// MustExit waits for the process to end and returns its exit code.
func (p *binProc) MustExit(tb testing.TB, within time.Duration) int {
	tb.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(within):
		tb.Fatalf("otslite still running after %s:\n%s", within, p.stderr)
		return -1
	}
}

// running reports whether the process has not exited.
func (p *binProc) running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

var insecureClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true},
}

// do sends one request and returns the status, the intended status and the
// decoded JSON body.
func (p *binProc) do(tb testing.TB, method, path string, form url.Values, header map[string]string) (int, string, map[string]any) {
	tb.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := insecureClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(body, &m)
	return resp.StatusCode, resp.Header.Get("X-OTS-Intended-Status"), m
}

// mustShare creates a secret and returns its receipt.
func (p *binProc) mustShare(tb testing.TB, form url.Values) map[string]any {
	tb.Helper()
	status, _, m := p.do(tb, "POST", "/api/v1/share", form, nil)
	if status != http.StatusOK {
		tb.Fatalf("share: %d %v", status, m)
	}
	return m
}

func TestLifecycleIdle(t *testing.T) {
	t.Parallel()
	const idle = 2 * time.Second
	p := MustStartBinary(t, nil, "--idle", "2s")
	// Health probes do not keep the session alive; working with a secret
	// does.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				if resp, err := http.Get(p.base + "/api/v1/status"); err == nil {
					resp.Body.Close()
				}
			}
		}
	}()
	defer close(stop)
	time.Sleep(time.Second)
	r := p.mustShare(t, url.Values{"secret": {"idle test"}})
	if status, _, _ := p.do(t, "POST", "/api/v1/secret/"+r["secret_key"].(string), url.Values{}, nil); status != 200 {
		t.Fatalf("reveal: %d", status)
	}
	last := time.Now()
	code := p.MustExit(t, 15*time.Second)
	if code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	after := p.at.Sub(last)
	t.Logf("idle window %s: exited %s after the last request (%s past the window)", idle, after.Round(time.Millisecond), (after - idle).Round(time.Millisecond))
	if after < idle {
		t.Errorf("exited %s after the last request, before the %s idle window passed", after, idle)
	}
	mustSummary(t, p, "idle", "1 created, 1 revealed, 0 burned, 0 expired, 0 wiped unread")
}

// TestLifecycleIdleIgnoresStrangers keeps a server busy with requests that
// work with no secret: unknown links, wrong methods, other pages and
// files, the UI's config, refused credentials, a foreign Host. None of
// them restarts the idle window.
func TestLifecycleIdleIgnoresStrangers(t *testing.T) {
	t.Parallel()
	const idle = 2 * time.Second
	p := MustStartBinary(t, nil, "--idle", "2s")
	// Sent from another goroutine: failures are not the test's concern
	// (the server may be gone), only whether it ends.
	send := func(method, path, auth, host string) {
		req, _ := http.NewRequest(method, p.base+path, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		if host != "" {
			req.Host = host
		}
		if resp, err := insecureClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	noise := []func(){
		func() { send("POST", "/api/v1/secret/"+strings.Repeat("a", 32), "", "") },
		func() { send("GET", "/api/otslite/secret/"+strings.Repeat("b", 32), "", "") },
		func() { send("GET", "/api/v1/receipt/"+strings.Repeat("c", 32), "", "") },
		func() { send("GET", "/no/such/page", "", "") },
		func() { send("GET", "/api/v1/share", "", "") },
		func() { send("GET", "/api/otslite/config", "", "") },
		func() { send("GET", "/security", "", "") },
		func() { send("GET", "/api/otslite/audit", "Bearer wrong-token-0000000000", "") },
		func() { send("GET", "/", "", "rebound.example") },
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-p.exited:
				return
			case <-time.After(100 * time.Millisecond):
				noise[i%len(noise)]()
			}
		}
	}()
	if code := p.MustExit(t, 20*time.Second); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	ran := p.at.Sub(p.started)
	t.Logf("idle window %s: exited %s after start under a request every 100 ms", idle, ran.Round(time.Millisecond))
	if ran < idle {
		t.Errorf("exited %s after start, before the %s idle window", ran, idle)
	}
	mustSummary(t, p, "idle", "0 created")
}

// TestLifecycleIdleWaitsForSecret: a waiting secret holds the session open
// past the idle window until it is read; then the window starts afresh.
func TestLifecycleIdleWaitsForSecret(t *testing.T) {
	t.Parallel()
	const idle = 2 * time.Second
	p := MustStartBinary(t, nil, "--idle", "2s")
	r := p.mustShare(t, url.Values{"secret": {"kept for its recipient"}, "ttl": {"600"}})
	time.Sleep(3 * idle)
	if !p.running() {
		t.Fatalf("the session ended with a secret waiting:\n%s", p.stderr)
	}
	if status, _, m := p.do(t, "POST", "/api/v1/secret/"+r["secret_key"].(string), url.Values{}, nil); status != 200 || m["value"] != "kept for its recipient" {
		t.Fatalf("reveal after %s: %d %v", 3*idle, status, m)
	}
	read := time.Now()
	if code := p.MustExit(t, 15*time.Second); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	after := p.at.Sub(read)
	t.Logf("exited %s after the secret was read (idle window %s)", after.Round(time.Millisecond), idle)
	if after < idle {
		t.Errorf("exited %s after the secret was read, before the %s idle window", after, idle)
	}
	mustSummary(t, p, "idle", "1 created, 1 revealed, 0 burned, 0 expired, 0 wiped unread")
}

func TestLifecycleLifetime(t *testing.T) {
	t.Parallel()
	const lifetime = time.Minute // the shortest allowed
	p := MustStartBinary(t, nil, "--lifetime", "1m", "--default-ttl", "1m")
	r := p.mustShare(t, url.Values{"secret": {"short lived"}, "ttl": {"3600"}})
	if ttl := r["ttl"].(float64); ttl > lifetime.Seconds() || ttl < 1 {
		t.Errorf("ttl %v with a %s lifetime: want it clamped to what is left", ttl, lifetime)
	}
	if sttl := r["secret_ttl"].(float64); sttl > lifetime.Seconds() {
		t.Errorf("secret_ttl %v beyond the %s lifetime", sttl, lifetime)
	}
	code := p.MustExit(t, lifetime+20*time.Second)
	if code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	// started is taken before the process starts, so this is an upper bound.
	ran := p.at.Sub(p.started)
	t.Logf("lifetime %s: exited %s after start (at most %s late)", lifetime, ran.Round(time.Millisecond), (ran - lifetime).Round(time.Millisecond))
	if ran < lifetime {
		t.Errorf("exited %s after start, before its %s lifetime", ran, lifetime)
	}
	mustSummary(t, p, "lifetime", "1 created")
}

func TestLifecycleDrained(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil, "--exit-when-drained", "--create-allow", "127.0.0.1")
	a := p.mustShare(t, url.Values{"secret": {"first"}})
	b := p.mustShare(t, url.Values{"secret": {"second"}})
	if status, _, m := p.do(t, "POST", "/api/v1/secret/"+a["secret_key"].(string), url.Values{}, nil); status != 200 || m["value"] != "first" {
		t.Fatalf("reveal: %d %v", status, m)
	}
	time.Sleep(time.Second)
	if !p.running() {
		t.Fatal("exited with a secret still waiting")
	}
	status, _, m := p.do(t, "POST", "/api/v1/receipt/"+b["metadata_key"].(string)+"/burn", url.Values{}, nil)
	last := time.Now()
	if status != 200 || m["state"] == nil {
		t.Fatalf("burn: the response that drained the store did not arrive: %d %v", status, m)
	}
	if code := p.MustExit(t, 15*time.Second); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	t.Logf("drained: exited %s after the last secret was burned (grace %s)", p.at.Sub(last).Round(time.Millisecond), drainGrace)
	mustSummary(t, p, "drained", "2 created, 1 revealed, 1 burned, 0 expired, 0 wiped unread")
}

// TestLifecycleDrainedNotByOutsiders: with --exit-when-drained, creating
// must be limited; then someone outside the limit cannot make a secret of
// their own and read it to end the session before the operator shares.
func TestLifecycleDrainedNotByOutsiders(t *testing.T) {
	t.Parallel()
	t.Run("ErrOpenCreating", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, scanBinary(t), "--listen", "127.0.0.1:0", "--exit-when-drained").CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != exitConfig || strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "--exit-when-drained") {
			t.Errorf("--exit-when-drained with creating open to all: %v, %q; want exit 2 and one line", err, out)
		}
	})
	t.Run("CreateAllow", func(t *testing.T) {
		t.Parallel()
		p := MustStartBinary(t, nil, "--exit-when-drained", "--create-allow", "127.0.0.4")
		operator, outsider := clientFrom("127.0.0.4", false), clientFrom("127.0.0.2", false)
		if status, intended, _, body := send(t, outsider, "POST", p.base+"/api/v1/share", url.Values{"secret": {"mine"}}); intended != "403" {
			t.Fatalf("outsider's share: %d, intended %s: %s; want intended 403", status, intended, body)
		}
		if _, intended, _, _ := send(t, outsider, "POST", p.base+"/api/v1/generate", url.Values{}); intended != "403" {
			t.Fatalf("outsider's generate: intended %s; want 403", intended)
		}
		time.Sleep(time.Second)
		if !p.running() {
			t.Fatalf("an outsider ended the session:\n%s", p.stderr)
		}
		sk, _ := shareFrom(t, operator, p.base, url.Values{"secret": {"for the recipient"}})
		if status, _, _, body := send(t, outsider, "POST", p.base+"/api/v1/secret/"+sk, url.Values{}); status != 200 || !strings.Contains(body, "for the recipient") {
			t.Fatalf("the recipient's reveal: %d %s", status, body)
		}
		if code := p.MustExit(t, 15*time.Second); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
		mustSummary(t, p, "drained", "1 created, 1 revealed, 0 burned, 0 expired, 0 wiped unread")
	})
	t.Run("Tokens", func(t *testing.T) {
		t.Parallel()
		const token = "operator-token-0123456789"
		p := MustStartBinary(t, nil, "--exit-when-drained", "--create-token", "op:"+token)
		if status, intended, _ := p.do(t, "POST", "/api/v1/share", url.Values{"secret": {"mine"}}, nil); intended != "401" {
			t.Fatalf("share without a token: %d, intended %s; want intended 401", status, intended)
		}
		time.Sleep(time.Second)
		if !p.running() {
			t.Fatalf("an outsider ended the session:\n%s", p.stderr)
		}
		status, _, m := p.do(t, "POST", "/api/v1/share", url.Values{"secret": {"shared"}}, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("op:"+token))})
		if status != 200 {
			t.Fatalf("operator's share: %d %v", status, m)
		}
		if status, _, _ := p.do(t, "POST", "/api/v1/secret/"+m["secret_key"].(string), url.Values{}, nil); status != 200 {
			t.Fatalf("reveal: %d", status)
		}
		if code := p.MustExit(t, 15*time.Second); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
		mustSummary(t, p, "drained", "1 created, 1 revealed")
	})
}

var adminTokenLine = regexp.MustCompile(`admin token \(shown once;[^)]*\): ([a-z2-7]+)\n`)

func TestLifecycleOperator(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil)
	match := adminTokenLine.FindStringSubmatch(p.stderr.String())
	if match == nil {
		t.Fatalf("no admin token printed:\n%s", p.stderr)
	}
	token := match[1]
	if strings.Count(p.stderr.String(), token) != 1 {
		t.Error("the admin token is printed more than once")
	}
	for name, header := range map[string]map[string]string{
		"ErrNoToken":    nil,
		"ErrWrongToken": {"Authorization": "Bearer " + strings.Repeat("a", len(token))},
		"ErrBasic":      {"Authorization": "Basic " + token},
		"ErrBasicLogin": {"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("operator:"+token))},
		"ErrCrossSite":  {"Authorization": "Bearer " + token, "Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
	} {
		want := "401"
		if name == "ErrCrossSite" {
			want = "403"
		}
		status, intended, _ := p.do(t, "POST", "/api/otslite/end", url.Values{}, header)
		if status != 404 || intended != want {
			t.Errorf("%s: %d, intended %q; want 404, intended %s", name, status, intended, want)
		}
	}
	if status, intended, _ := p.do(t, "GET", "/api/otslite/end", nil, map[string]string{"Authorization": "Bearer " + token}); intended != "405" {
		t.Errorf("GET end: %d, intended %q; want intended 405", status, intended)
	}
	time.Sleep(300 * time.Millisecond)
	if !p.running() {
		t.Fatal("a refused request ended the session")
	}
	status, _, m := p.do(t, "POST", "/api/otslite/end", url.Values{}, map[string]string{"Authorization": "Bearer " + token})
	sent := time.Now()
	if status != 200 || m["status"] != "ending" {
		t.Errorf("end with the token: %d %v", status, m)
	}
	if code := p.MustExit(t, 15*time.Second); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	t.Logf("operator: exited %s after the end request", p.at.Sub(sent).Round(time.Millisecond))
	mustSummary(t, p, "operator", "0 created")
	if strings.Count(p.stderr.String(), token) != 1 {
		t.Error("the admin token appears again in the log")
	}
}

// slowRequest sends the head and half the body of a share request, and
// returns a function that sends the rest and reads the response.
func slowRequest(tb testing.TB, addr, secret string) func() (*http.Response, error) {
	tb.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	body := "secret=" + secret
	fmt.Fprintf(c, "POST /api/v1/share HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	io.WriteString(c, body[:len(body)/2])
	return func() (*http.Response, error) {
		if _, err := io.WriteString(c, body[len(body)/2:]); err != nil {
			return nil, err
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		return http.ReadResponse(bufio.NewReader(c), nil)
	}
}

func TestLifecycleSignal(t *testing.T) {
	t.Parallel()
	t.Run("SIGTERMFinishesInFlight", func(t *testing.T) {
		t.Parallel()
		p := MustStartBinary(t, nil, "--grace", "5s")
		finish := slowRequest(t, p.addr, "in flight")
		time.Sleep(200 * time.Millisecond) // the head is read
		p.cmd.Process.Signal(syscall.SIGTERM)
		time.Sleep(500 * time.Millisecond)
		if !p.running() {
			t.Fatalf("exited with a request in flight:\n%s", p.stderr)
		}
		// A new connection is no longer accepted.
		if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			fmt.Fprintf(c, "GET /api/v1/status HTTP/1.1\r\nHost: %s\r\n\r\n", p.addr)
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				t.Errorf("a new request was served after SIGTERM: %s", resp.Status)
			}
			c.Close()
		}
		resp, err := finish()
		if err != nil {
			t.Fatalf("the in-flight request was cut off: %v", err)
		}
		resp.Body.Close()
		done := time.Now()
		if resp.StatusCode != 200 {
			t.Errorf("in-flight request: %s", resp.Status)
		}
		if code := p.MustExit(t, 15*time.Second); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
		t.Logf("SIGTERM: exited %s after the in-flight request finished", p.at.Sub(done).Round(time.Millisecond))
		mustSummary(t, p, "signal", "1 created, 0 revealed, 0 burned, 0 expired, 1 wiped unread")
	})
	t.Run("SIGHUPWithoutTokenFileEnds", func(t *testing.T) {
		t.Parallel()
		p := MustStartBinary(t, nil)
		p.mustShare(t, url.Values{"secret": {"hung up"}})
		p.cmd.Process.Signal(syscall.SIGHUP)
		sent := time.Now()
		if code := p.MustExit(t, 15*time.Second); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
		t.Logf("SIGHUP: exited %s after it", p.at.Sub(sent).Round(time.Millisecond))
		mustSummary(t, p, "signal", "1 created, 0 revealed, 0 burned, 0 expired, 1 wiped unread")
	})
	t.Run("SecondSignalExitsAtOnce", func(t *testing.T) {
		t.Parallel()
		p := MustStartBinary(t, nil, "--grace", "30s")
		slowRequest(t, p.addr, "never finished")
		time.Sleep(200 * time.Millisecond)
		p.cmd.Process.Signal(syscall.SIGINT)
		time.Sleep(500 * time.Millisecond)
		if !p.running() {
			t.Fatal("exited at the first signal with a request in flight and 30s of grace")
		}
		p.cmd.Process.Signal(syscall.SIGINT)
		sent := time.Now()
		if code := p.MustExit(t, 10*time.Second); code != exitFail {
			t.Errorf("exit code %d, want %d", code, exitFail)
		}
		t.Logf("second signal: exited %s after it", p.at.Sub(sent).Round(time.Millisecond))
		if !strings.Contains(p.stderr.String(), "second signal") {
			t.Errorf("no word of the second signal:\n%s", p.stderr)
		}
	})
}

// TestLifecycleEverySignal sends each signal whose default action ends a
// process (SIGHUP has its own test) to a binary with a secret waiting: each
// must wipe and end the session with its summary line and exit 0, without
// a goroutine dump. The few the Go runtime never delivers to a program
// (SIGPROF while not profiling, 32, 33, 34) must leave it running, never end
// it without the wipe. The list is the system's (signal(7)), written out
// here rather than taken from the code.
func TestLifecycleEverySignal(t *testing.T) {
	t.Parallel()
	ends := []syscall.Signal{
		syscall.SIGINT, syscall.SIGQUIT, syscall.SIGILL, syscall.SIGTRAP, syscall.SIGABRT, syscall.SIGBUS,
		syscall.SIGFPE, syscall.SIGUSR1, syscall.SIGSEGV, syscall.SIGUSR2, syscall.SIGPIPE, syscall.SIGALRM,
		syscall.SIGTERM, syscall.SIGSTKFLT, syscall.SIGXCPU, syscall.SIGXFSZ, syscall.SIGVTALRM, syscall.SIGIO,
		syscall.SIGPWR, syscall.SIGSYS,
	}
	for s := syscall.Signal(35); s <= 64; s++ {
		ends = append(ends, s)
	}
	ignored := []syscall.Signal{syscall.SIGPROF, 32, 33, 34}
	slots := make(chan struct{}, 4) // the machine is shared: a few at a time
	for _, sig := range append(ends, ignored...) {
		end := !slices.Contains(ignored, sig)
		t.Run(fmt.Sprintf("%d", int(sig)), func(t *testing.T) {
			t.Parallel()
			slots <- struct{}{}
			defer func() { <-slots }()
			p := MustStartBinary(t, nil, "--grace", "1s")
			p.mustShare(t, url.Values{"secret": {"waiting"}})
			p.cmd.Process.Signal(sig)
			if !end {
				time.Sleep(500 * time.Millisecond)
				if !p.running() {
					t.Fatalf("signal %d (%s) ended the process (exit %d):\n%s", sig, sig, p.code, p.stderr)
				}
				p.cmd.Process.Signal(syscall.SIGTERM)
			}
			if code := p.MustExit(t, 15*time.Second); code != exitOK {
				t.Errorf("signal %d (%s): exit code %d, want 0:\n%s", sig, sig, code, p.stderr)
			}
			mustSummary(t, p, "signal", "1 created, 0 revealed, 0 burned, 0 expired, 1 wiped unread")
			if strings.Contains(p.stderr.String(), "goroutine ") {
				t.Errorf("signal %d (%s): a goroutine dump:\n%s", sig, sig, p.stderr)
			}
		})
	}
	t.Run("QuitDebuggableDumps", func(t *testing.T) {
		t.Parallel()
		p := MustStartBinary(t, nil, "--debuggable")
		p.mustShare(t, url.Values{"secret": {"waiting"}})
		p.cmd.Process.Signal(syscall.SIGQUIT)
		if code := p.MustExit(t, 15*time.Second); code != exitOK {
			t.Errorf("exit code %d, want 0", code)
		}
		if !strings.Contains(p.stderr.String(), "SIGQUIT received") || !strings.Contains(p.stderr.String(), "goroutine 1 [") {
			t.Errorf("--debuggable: no goroutine dump on SIGQUIT:\n%s", p.stderr)
		}
		mustSummary(t, p, "signal", "1 wiped unread")
	})
}

func TestLifecycleHostPinning(t *testing.T) {
	t.Parallel()
	t.Run("PublicURL", func(t *testing.T) {
		t.Parallel()
		addr := freePort(t)
		_, port, _ := net.SplitHostPort(addr)
		public := "http://secrets.example:" + port
		p := MustStartBinary(t, nil, "--listen", addr, "--public-url", public)
		for _, c := range []struct {
			host string
			want int
		}{
			{"secrets.example:" + port, 200},
			{"SECRETS.example:" + port, 200},
			{"127.0.0.1:" + port, 200}, // the listen address
			{"localhost:" + port, 200},
			{"secrets.example.evil:" + port, 421},
			{"secrets.example", 421}, // the port is part of the name
			{"127.0.0.2:" + port, 421},
		} {
			status, _, m := p.do(t, "POST", "/api/v1/share", url.Values{"secret": {"pinned"}}, map[string]string{"Host": c.host})
			if status != c.want {
				t.Errorf("Host %q: %d, want %d", c.host, status, c.want)
			}
			if status == 200 && !strings.HasPrefix(m["metadata_url"].(string), public+"/receipt/") {
				t.Errorf("Host %q: metadata_url %q not built from the public URL", c.host, m["metadata_url"])
			}
		}
		mustMisdirect(t, p, "secrets.example.evil:"+port)
	})
	t.Run("Default", func(t *testing.T) {
		t.Parallel()
		p := MustStartBinary(t, nil)
		_, port, _ := net.SplitHostPort(p.addr)
		for _, c := range []struct {
			host string
			want int
		}{
			{p.addr, 200},
			{"localhost:" + port, 200},
			{"rebound.example:" + port, 421}, // DNS rebinding: a name that now points here
			{"192.0.2.1:" + port, 421},
		} {
			status, _, _ := p.do(t, "POST", "/api/v1/share", url.Values{"secret": {"pinned"}}, map[string]string{"Host": c.host})
			if status != c.want {
				t.Errorf("Host %q: %d, want %d", c.host, status, c.want)
			}
		}
		mustMisdirect(t, p, "rebound.example:"+port)
		// Health probes: by address whatever the Host names, never by a
		// foreign name, and the binary's own health check works.
		if status, _, _ := p.do(t, "GET", "/api/v1/status", nil, map[string]string{"Host": "192.0.2.1:" + port}); status != 200 {
			t.Errorf("status probe by address: %d", status)
		}
		if status, _, _ := p.do(t, "GET", "/api/v1/status", nil, map[string]string{"Host": "rebound.example"}); status != 421 {
			t.Errorf("status probe naming another host: %d, want 421", status)
		}
		if out, err := exec.Command(scanBinary(t), "--healthcheck", "--listen", p.addr).CombinedOutput(); err != nil {
			t.Errorf("--healthcheck: %v: %s", err, out)
		}
		// An absolute-form target names the host that counts.
		resp, err := rawRequest(p.addr, []byte("GET http://rebound.example/api/v1/status HTTP/1.1\r\nHost: "+p.addr+"\r\nConnection: close\r\n\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 421 {
			t.Errorf("absolute-form target naming another host: %s, want 421", resp.Status)
		}
	})
}

// mustMisdirect checks that a request for host gets 421 with the security
// headers, and that the log names the Host it saw.
func mustMisdirect(tb testing.TB, p *binProc, host string) {
	tb.Helper()
	resp, err := insecureClient.Do(&http.Request{Method: "GET", URL: mustURL(tb, p.base+"/"), Host: host})
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 421 || resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		tb.Errorf("Host %q: %d without the security headers: %v", host, resp.StatusCode, resp.Header)
	}
	if want := "421 Misdirected Request for Host " + strconv.Quote(host); !strings.Contains(p.stderr.String(), want) {
		tb.Errorf("no log line %q:\n%s", want, p.stderr)
	}
}

var fingerprintLine = regexp.MustCompile(`TLS certificate SHA-256 fingerprint: ([0-9A-F:]+)\n`)

func TestLifecycleTLSFingerprint(t *testing.T) {
	t.Parallel()
	p := MustStartBinary(t, nil, "--tls-self-signed")
	match := fingerprintLine.FindStringSubmatch(p.stderr.String())
	if match == nil {
		t.Fatalf("no fingerprint printed:\n%s", p.stderr)
	}
	c, err := tls.Dial("tcp", p.addr, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sum := sha256.Sum256(c.ConnectionState().PeerCertificates[0].Raw)
	got := strings.ToUpper(hex.EncodeToString(sum[:]))
	if want := strings.ReplaceAll(match[1], ":", ""); got != want {
		t.Errorf("served certificate %s, printed fingerprint %s", got, want)
	}
	status, _, _ := p.do(t, "GET", "/api/v1/status", nil, nil)
	if status != 200 {
		t.Errorf("status over TLS: %d", status)
	}
	resp, err := insecureClient.Get(p.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("no HSTS over TLS: %q", hsts)
	}
}

// mustSummary checks the last line names why the session ended and counts
// only.
func mustSummary(tb testing.TB, p *binProc, reason, counts string) {
	tb.Helper()
	out := p.stderr.String()
	want := "session over (" + reason + "): "
	i := strings.LastIndex(out, want)
	if i < 0 {
		tb.Errorf("no summary %q:\n%s", want, out)
		return
	}
	line, _, _ := strings.Cut(out[i:], "\n")
	if !strings.Contains(line, counts) {
		tb.Errorf("summary %q lacks %q", line, counts)
	}
	if n := strings.Count(line, ","); n != 4 {
		tb.Errorf("summary %q: want five counts", line)
	}
	for _, f := range strings.Split(strings.TrimPrefix(line, want), ", ") {
		if _, err := strconv.Atoi(strings.Fields(f)[0]); err != nil {
			tb.Errorf("summary %q: %q is not a count", line, f)
		}
	}
}

func TestLifecycleHardened(t *testing.T) {
	t.Parallel()
	needRoot(t, "running the binary as another user")
	// A process that is not dumpable has its /proc files owned by root
	// whatever user it runs as; so it runs as nobody here.
	nobody := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	for _, c := range []struct {
		name     string
		args     []string
		wantRoot bool
	}{
		{"NonDumpable", nil, true},
		{"Debuggable", []string{"--debuggable"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := mustStart(t, nobody, nil, c.args...)
			pid := strconv.Itoa(p.cmd.Process.Pid)
			fi, err := os.Stat("/proc/" + pid + "/environ")
			if err != nil {
				t.Fatal(err)
			}
			owner := fi.Sys().(*syscall.Stat_t).Uid
			if (owner == 0) != c.wantRoot {
				t.Errorf("/proc/%s/environ owned by uid %d; dumpable mark wrong (want owned by root: %v)", pid, owner, c.wantRoot)
			}
			limits, err := os.ReadFile("/proc/" + pid + "/limits")
			if err != nil {
				t.Fatal(err)
			}
			core := regexp.MustCompile(`Max core file size +(\S+) +(\S+)`).FindStringSubmatch(string(limits))
			if core == nil || core[1] != "0" || core[2] != "0" {
				t.Errorf("core dumps not off: %q", core)
			}
			// Plaintext lives only in the locked arena: it is mlocked, so
			// it never reaches swap.
			status, err := os.ReadFile("/proc/" + pid + "/status")
			if err != nil {
				t.Fatal(err)
			}
			lck := regexp.MustCompile(`VmLck:\s+(\d+) kB`).FindStringSubmatch(string(status))
			if kb, _ := strconv.Atoi(lck[1]); kb < 4<<10 {
				t.Errorf("only %d KiB locked; the arena alone is several MiB", kb)
			} else {
				t.Logf("%d KiB locked", kb)
			}
		})
	}
}

func mustURL(tb testing.TB, s string) *url.URL {
	tb.Helper()
	u, err := url.Parse(s)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
