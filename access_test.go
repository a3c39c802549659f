package main

// The operator controls as a new user meets them: the release binary, run
// in a directory that holds nothing but itself and a token file (as the
// scratch image does: no zoneinfo, no /etc), with two create tokens and a
// reveal network; a token rotated away through the token file and SIGHUP;
// opening from an allowed and a denied address; and the audit trail read
// at the end.

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"otslite/handler/access"
)

// jailed is the release binary running chrooted in an empty directory.
type jailed struct {
	dir    string
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	exited chan struct{} // closed once the process is waited for
	err    error         // what Wait returned
}

// needRoot skips (or, under CI, fails) a test that needs Linux and root;
// why says what for.
func needRoot(tb testing.TB, why string) {
	tb.Helper()
	if runtime.GOOS != "linux" {
		skip(tb, why+": Linux only")
	}
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			tb.Fatal(why + " needs root; CI runs as root")
		}
		skip(tb, why+" needs root (CI runs as root)")
	}
}

// MustStartJailed copies the release binary into a fresh directory with
// the given files and runs it there, chrooted, on a free port.
func MustStartJailed(tb testing.TB, files map[string]string, args ...string) *jailed {
	tb.Helper()
	dir := tb.TempDir()
	bin, err := os.ReadFile(scanBinary(tb))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "otslite"), bin, 0o755); err != nil {
		tb.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	addr := freePort(tb)
	j := &jailed{dir: dir, base: "http://" + addr, stderr: &syncBuffer{}, exited: make(chan struct{})}
	j.cmd = exec.Command("/otslite", append([]string{"--listen", addr}, args...)...)
	j.cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: dir}
	j.cmd.Dir = "/"
	j.cmd.Env = []string{}
	j.cmd.Stderr = j.stderr
	if err := j.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { j.err = j.cmd.Wait(); close(j.exited) }()
	tb.Cleanup(func() {
		j.cmd.Process.Kill()
		<-j.exited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(j.base + "/api/v1/status")
		if err == nil {
			resp.Body.Close()
			return j
		}
		select {
		case <-j.exited:
			tb.Fatalf("otslite exited (%v):\n%s", j.err, j.stderr)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("otslite did not start: %v\n%s", err, j.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// writeFile replaces a file in the jail.
func (j *jailed) writeFile(tb testing.TB, name, text string) {
	tb.Helper()
	if err := os.WriteFile(filepath.Join(j.dir, name), []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// hangUp sends SIGHUP and waits for the n-th re-read to be logged.
func (j *jailed) hangUp(tb testing.TB, n int) {
	tb.Helper()
	if err := j.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		tb.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(j.stderr.String(), "SIGHUP: re-read") < n {
		if time.Now().After(deadline) {
			tb.Fatalf("no re-read after SIGHUP:\n%s", j.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM and returns the exit code.
func (j *jailed) stop(tb testing.TB) int {
	tb.Helper()
	j.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-j.exited:
		return j.cmd.ProcessState.ExitCode()
	case <-time.After(15 * time.Second):
		tb.Fatal("otslite did not stop on SIGTERM")
		return -1
	}
}

// clientAt returns a client whose connections come from ip, and which
// reports whether each request reused a connection.
func clientAt(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}, Timeout: 15 * time.Second}
}

// answer is a response: status, intended status and JSON body.
type answer struct {
	status, intended int
	retryAfter       string
	body             []byte
	conn             string // local address of the connection used
}

func (a answer) object(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.body, &m); err != nil {
		tb.Fatalf("not a JSON object: %v: %s", err, a.body)
	}
	return m
}

func (j *jailed) call(tb testing.TB, c *http.Client, method, path, auth string, form url.Values) answer {
	tb.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	var conn string
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conn = i.Conn.LocalAddr().String() }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), method, j.base+path, body)
	if err != nil {
		tb.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	intended, _ := strconv.Atoi(resp.Header.Get("X-OTS-Intended-Status"))
	return answer{resp.StatusCode, intended, resp.Header.Get("Retry-After"), raw, conn}
}

func basic(user, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
}

func mustOK(tb testing.TB, a answer) map[string]any {
	tb.Helper()
	if a.status != http.StatusOK {
		tb.Fatalf("want 200, got %d (intended %d): %s", a.status, a.intended, a.body)
	}
	return a.object(tb)
}

func mustRefuse(tb testing.TB, a answer, intended int, message string) {
	tb.Helper()
	if a.status != http.StatusNotFound || a.intended != intended {
		tb.Fatalf("want 404 intended %d, got %d intended %d: %s", intended, a.status, a.intended, a.body)
	}
	if m := a.object(tb); message != "" && m["message"] != message {
		tb.Fatalf("message %q; want %q", m["message"], message)
	}
}

func TestOperatorControls(t *testing.T) {
	needRoot(t, "chroot and /proc/PID/mem")
	var (
		aliceOld = marker(t, "tokalice1")
		aliceNew = marker(t, "tokalice2")
		bobTok   = marker(t, "tokbob")
		admin    = marker(t, "tokadmin")
	)
	j := MustStartJailed(t, map[string]string{"tokens": "# two create tokens\nalice:" + aliceOld + "\nbob:" + bobTok + "\n"},
		"--token-file", "/tokens", "--reveal-allow", "127.0.0.1", "--admin-token", admin,
		"--reveal-hours", "Mon-Sun 00:00-24:00 Europe/Paris")
	here, there := clientAt("127.0.0.1"), clientAt("127.0.0.2")

	type made struct{ value, secretKey, receiptKey string }
	var secrets []made
	share := func(c *http.Client, user, token string) (made, map[string]any) {
		t.Helper()
		v := marker(t, "secret"+user)
		m := mustOK(t, j.call(t, c, "POST", "/api/v1/share", basic(user, token), url.Values{"secret": {v}}))
		s := made{v, m["secret_key"].(string), m["metadata_key"].(string)}
		secrets = append(secrets, s)
		return s, m
	}

	// Create with each token; custid is the Basic username.
	first := j.call(t, here, "GET", "/api/v1/authcheck", basic("alice", aliceOld), nil)
	mustOK(t, first)
	fromAlice, m := share(here, "alice", aliceOld)
	if m["custid"] != "alice" {
		t.Errorf("custid = %v; want alice", m["custid"])
	}
	fromBob, m := share(here, "bob", bobTok)
	if m["custid"] != "bob" {
		t.Errorf("custid = %v; want bob", m["custid"])
	}
	mustRefuse(t, j.call(t, here, "POST", "/api/v1/share", "", url.Values{"secret": {"anonymous"}}), 401, "Not authorized")

	// Rotate alice's token: add the new one, then take the old away.
	j.writeFile(t, "tokens", "alice:"+aliceOld+"\nalice:"+aliceNew+"\nbob:"+bobTok+"\n")
	j.hangUp(t, 1)
	share(here, "alice", aliceOld)
	share(here, "alice", aliceNew)
	j.writeFile(t, "tokens", "alice:"+aliceNew+"\nbob:"+bobTok+"\n")
	j.hangUp(t, 2)
	mustRefuse(t, j.call(t, here, "POST", "/api/v1/share", basic("alice", aliceOld), url.Values{"secret": {"refused"}}), 401, "Not authorized")
	mustRefuse(t, j.call(t, here, "GET", "/api/v1/receipt/recent", basic("alice", aliceOld), nil), 401, "Not authorized")
	fromNew, _ := share(here, "alice", aliceNew)
	share(here, "bob", bobTok)
	last := j.call(t, here, "GET", "/api/v1/authcheck", basic("alice", aliceNew), nil)
	mustOK(t, last)
	if last.conn != first.conn {
		t.Errorf("the connection changed across the reloads: %s, then %s", first.conn, last.conn)
	}
	var recent []map[string]any
	if err := json.Unmarshal(mustOKRaw(t, j.call(t, here, "GET", "/api/v1/receipt/recent", basic("alice", aliceNew), nil)), &recent); err != nil ||
		len(recent) != 2 || recent[1]["metadata_key"] != fromNew.receiptKey {
		t.Errorf("alice's new token lists %v (%v); want only the two it made, oldest first", recent, err)
	}

	// Open from a denied address, then from the allowed one: the secrets
	// made before the reloads are all there.
	for _, s := range []made{fromAlice, fromBob} {
		mustRefuse(t, j.call(t, there, "POST", "/api/v1/secret/"+s.secretKey, "", nil), 403, "Opening secrets is not allowed from your address")
	}
	for _, s := range secrets {
		if got := mustOK(t, j.call(t, here, "POST", "/api/v1/secret/"+s.secretKey, "", nil))["value"]; got != s.value {
			t.Errorf("revealed %q; want %q", got, s.value)
		}
	}
	view := mustOKRaw(t, j.call(t, here, "GET", "/api/otslite/audit", "Bearer "+admin, nil))

	// No token read from the file is left in the process's memory.
	needles := map[string][]byte{}
	for _, tok := range []struct{ user, token string }{{"alice", aliceOld}, {"alice", aliceNew}, {"bob", bobTok}} {
		needles[tok.token+"/raw"] = []byte(tok.token)
		needles[tok.token+"/basic"] = []byte(basic(tok.user, tok.token)[len("Basic "):])
	}
	for name, n := range scanMemory(t, j.cmd.Process.Pid, needles) {
		if n > 0 {
			t.Errorf("%s: %d copies in the server's memory", name, n)
		}
	}

	if code := j.stop(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
	stderr := j.stderr.String()
	var events []map[string]string
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "{") {
			var e map[string]string
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("audit line %q: %v", line, err)
			}
			events = append(events, e)
		}
	}
	count := func(want ...string) int {
		n := 0
	next:
		for _, e := range events {
			for i := 0; i+1 < len(want); i += 2 {
				if e[want[i]] != want[i+1] {
					continue next
				}
			}
			n++
		}
		return n
	}
	if len(events) < 2 || events[0]["event"] != "session_start" || events[len(events)-1]["event"] != "session_end" || events[len(events)-1]["outcome"] != "signal" {
		t.Errorf("the trail does not run from session_start to session_end (signal):\n%s", stderr)
	}
	for _, w := range []struct {
		n    int
		want []string
	}{
		{4, []string{"event", "create", "outcome", "ok", "user", "alice", "ip", "127.0.0.1"}},
		{2, []string{"event", "create", "outcome", "ok", "user", "bob", "ip", "127.0.0.1"}},
		{0, []string{"event", "create", "outcome", "ok", "ref", ""}},
		{2, []string{"event", "reload", "outcome", "ok"}},
		{1, []string{"event", "create", "outcome", "denied_token", "user", ""}},
		{1, []string{"event", "create", "outcome", "denied_token", "user", "alice"}},
		{1, []string{"event", "recent", "outcome", "denied_token", "user", "alice"}},
		{2, []string{"event", "reveal", "outcome", "denied_network", "ip", "127.0.0.2"}},
		{len(secrets), []string{"event", "reveal", "outcome", "ok", "ip", "127.0.0.1"}},
	} {
		if got := count(w.want...); got != w.n {
			t.Errorf("%d events %v; want %d", got, w.want, w.n)
		}
	}
	if !regexp.MustCompile(`"event":"reveal","ref":"[0-9a-f]{12}","ip":"127.0.0.2","user":"","outcome":"denied_network"`).MatchString(stderr) {
		t.Errorf("no refused reveal with its ref in the trail:\n%s", stderr)
	}

	// Nothing secret in stderr or the operator's view.
	markers := []string{aliceOld, aliceNew, bobTok, admin}
	for _, tok := range []struct{ user, token string }{{"alice", aliceOld}, {"alice", aliceNew}, {"bob", bobTok}} {
		markers = append(markers, basic(tok.user, tok.token)[len("Basic "):])
	}
	for _, s := range secrets {
		markers = append(markers, s.value, s.secretKey, s.receiptKey, s.secretKey[:8], s.receiptKey[:8])
	}
	for _, m := range markers {
		for form, b := range forms(m) {
			if strings.Contains(stderr, string(b)) || strings.Contains(string(view), string(b)) {
				t.Errorf("the audit trail or log holds %q (%s)", m, form)
			}
		}
	}
}

func mustOKRaw(tb testing.TB, a answer) []byte {
	tb.Helper()
	if a.status != http.StatusOK {
		tb.Fatalf("want 200, got %d (intended %d): %s", a.status, a.intended, a.body)
	}
	return a.body
}

// TestRevealHoursWithoutZoneFiles checks that a schedule in a named zone
// works where no zoneinfo exists (the scratch image): the zone data is
// built into the binary.
func TestRevealHoursWithoutZoneFiles(t *testing.T) {
	needRoot(t, "chroot and /proc/PID/mem")
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	// A one-hour window two days from now: closed now.
	day := time.Now().In(paris).AddDate(0, 0, 2).Weekday().String()[:3]
	spec := day + " 10:00-11:00 Europe/Paris"
	hours, err := access.ParseHours(spec)
	if err != nil {
		t.Fatal(err)
	}
	j := MustStartJailed(t, nil, "--reveal-hours", spec)
	s := mustOK(t, j.call(t, http.DefaultClient, "POST", "/api/v1/share", "", url.Values{"secret": {"later"}}))
	a := j.call(t, http.DefaultClient, "POST", "/api/v1/secret/"+s["secret_key"].(string), "", nil)
	next, _ := hours.Next(time.Now())
	want := fmt.Sprintf("Secrets can be opened %s; next at %s", spec, next.In(paris).Format("Mon 2006-01-02 15:04 MST"))
	if a.intended != 403 || !strings.HasPrefix(a.object(t)["message"].(string), want) {
		t.Errorf("refusal: %d %s; want a message starting %q", a.intended, a.body, want)
	}
	if !regexp.MustCompile(` CES?T \(in \d+d`).Match(a.body) {
		t.Errorf("the message does not name Paris time (CET or CEST): %s", a.body)
	}
	if ra, err := strconv.Atoi(a.retryAfter); err != nil || ra < 24*3600 || ra > 3*24*3600 {
		t.Errorf("Retry-After = %q; want the one to three days until the window", a.retryAfter)
	}
	if code := j.stop(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}

func TestRunTokenFileErrors(t *testing.T) {
	const token = "Secr3t-T0ken-in-a-file"
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("alice:"+token+"\nbob "+token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ path, want string }{
		"ErrMissing": {filepath.Join(dir, "missing"), "--token-file: open " + filepath.Join(dir, "missing") + ": no such file or directory"},
		"ErrLine":    {bad, "--token-file: " + bad + ": line 2: want user:token"},
	} {
		t.Run(name, func(t *testing.T) {
			var stderr syncBuffer
			code := run(context.Background(), []string{"--listen", "127.0.0.1:0", "--token-file", tc.path}, func(string) string { return "" }, &stderr, nil)
			out := strings.TrimSpace(stderr.String())
			if code != exitConfig || out != "otslite: "+tc.want {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, out, exitConfig, tc.want)
			}
			if strings.Contains(out, token) {
				t.Errorf("stderr shows the token: %q", out)
			}
		})
	}
}

func TestRunQuietAudit(t *testing.T) {
	const admin = "quiet-admin-token-0007"
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprint("quiet=", quiet), func(t *testing.T) {
			args := []string{"--admin-token", admin}
			if quiet {
				args = append(args, "--quiet-audit")
			}
			p := MustRun(t, args...)
			p.post(t, "/api/v1/share", url.Values{"secret": {"quietly"}})
			req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/otslite/audit", nil)
			req.Header.Set("Authorization", "Bearer "+admin)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var events []map[string]string
			err = json.NewDecoder(resp.Body).Decode(&events)
			resp.Body.Close()
			if err != nil || len(events) != 2 || events[0]["event"] != "session_start" || events[1]["event"] != "create" {
				t.Errorf("audit view: %v, %v; want session_start and create", events, err)
			}
			if code := p.MustStop(t); code != exitOK {
				t.Errorf("exit code %d", code)
			}
			lines := strings.Count(p.stderr.String(), "\n{\"time\":")
			if quiet && lines != 0 || !quiet && lines != 3 {
				t.Errorf("%d audit lines on stderr with quiet=%v:\n%s", lines, quiet, p.stderr)
			}
		})
	}
}

// TestLockedMemoryLimit runs the release binary as an unprivileged user
// with the 8 MiB of locked memory Docker allows by default, with create
// tokens and the audit trail (which lock memory of their own beside the
// store's arena): it must start, check tokens and end cleanly.
func TestLockedMemoryLimit(t *testing.T) {
	needRoot(t, "chroot and /proc/PID/mem")
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("prlimit (util-linux) is needed to set the child's locked-memory limit")
	}
	dir, err := os.MkdirTemp("", "otslite-memlock") // nobody must reach it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(scanBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	const token = "locked-memory-token-01"
	if err := os.WriteFile(filepath.Join(dir, "otslite"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens"), []byte("alice:"+token+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	var stderr syncBuffer
	cmd := exec.Command(prlimit, "--memlock=8388608:8388608", filepath.Join(dir, "otslite"),
		"--listen", addr, "--token-file", filepath.Join(dir, "tokens"), "--admin-token", "locked-memory-admin-02")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	j := &jailed{cmd: cmd, base: "http://" + addr, stderr: &stderr, exited: exited}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := http.Get(j.base + "/api/v1/status"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-exited:
			t.Fatalf("otslite exited at startup:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("otslite did not start:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "(limit 8 MiB)") {
		t.Fatalf("the limit did not apply:\n%s", stderr.String())
	}
	c := clientAt("127.0.0.1")
	mustOK(t, j.call(t, c, "POST", "/api/v1/share", basic("alice", token), url.Values{"secret": {"x"}}))
	mustRefuse(t, j.call(t, c, "POST", "/api/v1/share", basic("alice", token+"x"), url.Values{"secret": {"x"}}), 401, "")
	mustOKRaw(t, j.call(t, c, "GET", "/api/otslite/audit", "Bearer locked-memory-admin-02", nil))
	if code := j.stop(t); code != exitOK || strings.Contains(stderr.String(), "panic") {
		t.Errorf("exit code %d:\n%s", code, stderr.String())
	}
}
