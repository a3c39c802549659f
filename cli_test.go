package main

// The client commands, run in-process against in-process servers: otslite
// (MustRun) and a stand-in for upstream Onetime Secret's v1 API. The
// release binary, Chromium and memory scans are in cli_binary_test.go.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cliOpts is what a command run gets besides its arguments.
type cliOpts struct {
	input  string            // stdin, when stdin is nil
	stdin  *os.File          // e.g. a terminal
	env    map[string]string // the environment
	tty    *os.File          // the terminal when stdin is not one; nil: none
	stdout *os.File          // nil: a file
	ctx    context.Context   // nil: never cancelled
}

// cliRun is a command running in-process.
type cliRun struct {
	c              *cli
	stdout, stderr string // file names
	code           chan int
}

// startCLI starts the command args[0] with args[1:].
func startCLI(tb testing.TB, o cliOpts, args ...string) *cliRun {
	tb.Helper()
	dir := tb.TempDir()
	open := func(name, content string) *os.File {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			tb.Fatal(err)
		}
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { f.Close() })
		return f
	}
	stdin := o.stdin
	if stdin == nil {
		stdin = open("stdin", o.input)
	}
	r := &cliRun{stdout: filepath.Join(dir, "stdout"), stderr: filepath.Join(dir, "stderr"), code: make(chan int, 1)}
	stdout := open("stdout", "")
	if o.stdout != nil {
		stdout = o.stdout
	}
	r.c = newCLI(stdin, stdout, open("stderr", ""), func(k string) string { return o.env[k] })
	r.c.tty = func() (*os.File, error) {
		if o.tty == nil {
			return nil, os.ErrNotExist
		}
		return o.tty, nil
	}
	r.c.poll = 50 * time.Millisecond
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			cmd = &c
		}
	}
	if cmd == nil {
		tb.Fatalf("no command %q", args[0])
	}
	ctx := o.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	go func() {
		code := cmd.run(ctx, r.c, args[1:])
		if n := r.c.vault.held(); n != 0 {
			tb.Errorf("%s left %d locked buffers held", args[0], n)
		}
		r.c.vault.wipe()
		r.code <- code
	}()
	return r
}

func (r *cliRun) out(tb testing.TB) string {
	b, err := os.ReadFile(r.stdout)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func (r *cliRun) errs(tb testing.TB) string {
	b, err := os.ReadFile(r.stderr)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// wait returns the command's exit code.
func (r *cliRun) wait(tb testing.TB) int {
	tb.Helper()
	select {
	case code := <-r.code:
		return code
	case <-time.After(90 * time.Second):
		tb.Fatalf("the command did not end; stderr: %s", r.errs(tb))
		return -1
	}
}

// MustCLI runs a command to its end and returns its exit code and output.
func MustCLI(tb testing.TB, o cliOpts, args ...string) (int, string, string) {
	tb.Helper()
	r := startCLI(tb, o, args...)
	code := r.wait(tb)
	return code, r.out(tb), r.errs(tb)
}

// mustCode checks an exit code, showing stderr when it is not the one.
func mustCode(tb testing.TB, what string, got, want int, stderr string) {
	tb.Helper()
	if got != want {
		tb.Fatalf("%s: exit code %d, want %d; stderr:\n%s", what, got, want, stderr)
	}
}

var (
	zkLinkLine   = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/secret/[0-9a-z]{32}#1[np][A-Za-z0-9_-]{43}$`)
	zkReceiptRE  = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/receipt/[0-9a-z]{32}#1[np][A-Za-z0-9_-]{43}$`)
	plainLinkRE  = regexp.MustCompile(`^https?://[^#]+/secret/[0-9a-z]+$`)
	plainRecptRE = regexp.MustCompile(`^https?://[^#]+/(receipt|private)/[0-9a-z]+$`)
)

// mustShare shares input on base and returns the link and the receipt link.
func mustShare(tb testing.TB, o cliOpts, base string, args ...string) (string, string) {
	tb.Helper()
	code, out, errs := MustCLI(tb, o, append([]string{"share", "--server", base}, args...)...)
	mustCode(tb, "share", code, exitOK, errs)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 {
		tb.Fatalf("share printed %q; want the link and the receipt link", out)
	}
	return lines[0], lines[1]
}

// peekStatus asks otslite whether the secret behind link waits: 200 or
// the intended 404.
func peekStatus(tb testing.TB, base, link string) int {
	tb.Helper()
	key := regexp.MustCompile(`/secret/([0-9a-z]+)`).FindStringSubmatch(link)[1]
	resp, err := http.Get(base + "/api/otslite/secret/" + key)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	if s := resp.Header.Get("X-OTS-Intended-Status"); s != "" {
		var n int
		fmt.Sscan(s, &n)
		return n
	}
	return resp.StatusCode
}

func TestCLIZeroKnowledge(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	secret := "line one\nline \"two\" \\ é 비밀 🔐\n"
	link, receipt := mustShare(t, cliOpts{input: secret}, base)
	if !zkLinkLine.MatchString(link) || !zkReceiptRE.MatchString(receipt) {
		t.Fatalf("share printed %q and %q; want zero-knowledge links", link, receipt)
	}
	if link[strings.Index(link, "#"):] != receipt[strings.Index(receipt, "#"):] {
		t.Error("the receipt link does not carry the link's fragment")
	}

	// The server holds an envelope, not the text: the v1 API, given the
	// proof but no key, returns ciphertext.
	code, out, errs := MustCLI(t, cliOpts{}, "receipt", receipt)
	mustCode(t, "receipt", code, exitOK, errs)
	if !strings.Contains(out, "state:      waiting to be read") || !strings.Contains(out, "passphrase: no") {
		t.Errorf("receipt printed:\n%s", out)
	}

	code, out, errs = MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get", code, exitOK, errs)
	if out != secret {
		t.Errorf("get wrote %q, want %q", out, secret)
	}
	code, out, errs = MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "second get", code, exitGone, errs)
	if out != "" || !strings.Contains(errs, "gone") {
		t.Errorf("second get: stdout %q, stderr %q", out, errs)
	}
	code, out, errs = MustCLI(t, cliOpts{}, "receipt", receipt)
	mustCode(t, "receipt after reading", code, exitOK, errs)
	if !strings.Contains(out, "state:      read") || !strings.Contains(out, "read:       ") {
		t.Errorf("receipt printed:\n%s", out)
	}
	code, _, errs = MustCLI(t, cliOpts{}, "burn", receipt)
	mustCode(t, "burn after reading", code, exitGone, errs)
}

func TestCLIShareKeepsOneLineSecretsClean(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	for input, want := range map[string]string{
		"hunter2\n":        "hunter2",          // echo's newline goes
		"hunter2\r\n":      "hunter2",          // and a Windows one
		"hunter2":          "hunter2",          // printf's stays as it is
		"a\nb\n":           "a\nb\n",           // text of lines is kept exactly
		"key\n-----END\n":  "key\n-----END\n",  // a PEM file's final newline too
		"  spaced  \n":     "  spaced  ",       // spaces are part of it
		"\n\nlate first\n": "\n\nlate first\n", // only one newline at the very end goes
	} {
		link, _ := mustShare(t, cliOpts{input: input}, base)
		code, out, errs := MustCLI(t, cliOpts{}, "get", link)
		mustCode(t, "get", code, exitOK, errs)
		if out != want {
			t.Errorf("shared %q, got back %q, want %q", input, out, want)
		}
	}
	code, _, errs := MustCLI(t, cliOpts{input: "\n"}, "share", "--server", base)
	mustCode(t, "share of nothing", code, exitFail, errs)
	if !strings.Contains(errs, "the secret is empty") {
		t.Errorf("stderr: %s", errs)
	}
}

func TestCLIShareFromFile(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	name := filepath.Join(t.TempDir(), "secret.txt")
	text := bigUnicodeText(40_000)
	os.WriteFile(name, []byte(text), 0o600)
	// Flags after the file work too.
	code, out, errs := MustCLI(t, cliOpts{}, "share", name, "--server", base, "--ttl", "10m")
	mustCode(t, "share FILE", code, exitOK, errs)
	link := strings.Split(out, "\n")[0]
	code, got, errs := MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get", code, exitOK, errs)
	if got != text {
		t.Errorf("a %d-byte file came back as %d bytes", len(text), len(got))
	}

	// Larger than a plain secret: sealed, it goes as files do.
	big := filepath.Join(t.TempDir(), "big.txt")
	os.WriteFile(big, []byte(strings.Repeat("x", 60_000)), 0o600)
	code, _, errs = MustCLI(t, cliOpts{}, "share", "--server", base, big)
	mustCode(t, "share of a text larger than a plain secret", code, exitOK, errs)
	// Larger than the server takes: the command says so before sending.
	p = MustRun(t, "--max-file-size", "0")
	code, _, errs = MustCLI(t, cliOpts{}, "share", "--server", "http://"+p.addr, big)
	mustCode(t, "share of a too large file", code, exitFail, errs)
	if !strings.Contains(errs, "larger than") {
		t.Errorf("stderr: %s", errs)
	}
	code, _, errs = MustCLI(t, cliOpts{}, "share", "--server", base, filepath.Join(t.TempDir(), "missing"))
	mustCode(t, "share of a missing file", code, exitFail, errs)
	if !strings.Contains(errs, "no such file") {
		t.Errorf("stderr: %s", errs)
	}
}

// MustOpenPTY opens a pseudo-terminal: the test types into master, the
// command reads the slave as its terminal. What the terminal shows is
// read and dropped.
func MustOpenPTY(tb testing.TB) (master, slave *os.File) {
	tb.Helper()
	m, s := MustOpenPTYRaw(tb)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := m.Read(buf); err != nil {
				return
			}
		}
	}()
	return m, s
}

// MustOpenPTYRaw is MustOpenPTY, leaving what the terminal shows for the
// test to read.
func MustOpenPTYRaw(tb testing.TB) (master, slave *os.File) {
	tb.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	need(tb, err, "a pseudo-terminal (/dev/ptmx)")
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		tb.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// typeLines types lines into a terminal. The terminal keeps them (in its
// line discipline) for the prompts to read, one line each.
func typeLines(tb testing.TB, master, _ *os.File, lines ...string) {
	tb.Helper()
	for _, l := range lines {
		if _, err := master.Write([]byte(l + "\n")); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestCLIPassphrase(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	master, slave := MustOpenPTY(t)
	pass := "pa\u0308ssphrase" // typed decomposed; the envelope hashes its NFC form

	typeLines(t, master, slave, pass, pass)
	link, receipt := mustShare(t, cliOpts{input: "guarded", tty: slave}, base, "--passphrase")
	if !strings.Contains(link, "#1p") {
		t.Fatalf("link %q does not say a passphrase is needed", link)
	}

	typeLines(t, master, slave, "wrong")
	code, out, errs := MustCLI(t, cliOpts{tty: slave}, "get", link)
	mustCode(t, "get with a wrong passphrase", code, exitPassphrase, errs)
	if out != "" || peekStatus(t, base, link) != 200 {
		t.Fatalf("a wrong passphrase: stdout %q, secret gone", out)
	}

	typeLines(t, master, slave, "pässphrase") // precomposed this time
	code, out, errs = MustCLI(t, cliOpts{tty: slave}, "get", link)
	mustCode(t, "get with the passphrase", code, exitOK, errs)
	if out != "guarded" {
		t.Errorf("get wrote %q", out)
	}
	code, out, _ = MustCLI(t, cliOpts{}, "receipt", receipt)
	if code != exitOK || !strings.Contains(out, "passphrase: yes") {
		t.Errorf("receipt: %d\n%s", code, out)
	}

	// Without a terminal, a passphrase cannot be asked for.
	typeLines(t, master, slave, pass, pass)
	link, _ = mustShare(t, cliOpts{input: "guarded", tty: slave}, base, "--passphrase")
	code, _, errs = MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get without a terminal", code, exitFail, errs)
	if !strings.Contains(errs, "terminal") || peekStatus(t, base, link) != 200 {
		t.Errorf("stderr %s", errs)
	}

	// Confirmation must match.
	typeLines(t, master, slave, "one", "two")
	code, _, errs = MustCLI(t, cliOpts{input: "x", tty: slave}, "share", "--server", base, "--passphrase")
	mustCode(t, "share with passphrases that differ", code, exitFail, errs)
	if !strings.Contains(errs, "differ") {
		t.Errorf("stderr %s", errs)
	}
}

func TestCLISecretTypedAtTerminal(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	master, slave := MustOpenPTY(t)
	typeLines(t, master, slave, "typed secret")
	link, _ := mustShare(t, cliOpts{stdin: slave}, base)
	code, out, errs := MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get", code, exitOK, errs)
	if out != "typed secret" {
		t.Errorf("get wrote %q", out)
	}
}

func TestCLIGetRefusesTerminal(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	_, slave := MustOpenPTY(t)
	link, _ := mustShare(t, cliOpts{input: "not on\x1b[2J screen"}, base)

	code, _, errs := MustCLI(t, cliOpts{stdout: slave}, "get", link)
	mustCode(t, "get to a terminal", code, exitConfig, errs)
	if !strings.Contains(errs, "--show") || peekStatus(t, base, link) != 200 {
		t.Errorf("the refusal used the secret up, or does not say what to do: %s", errs)
	}
	// With --show it prints there, ends the line, and shows control
	// characters rather than obeying them.
	master, slave2 := MustOpenPTYRaw(t)
	code, _, errs = MustCLI(t, cliOpts{stdout: slave2}, "get", "--show", link)
	mustCode(t, "get --show", code, exitOK, errs)
	var shown []byte
	buf := make([]byte, 100)
	for !strings.HasSuffix(string(shown), "\n") {
		n, err := master.Read(buf)
		if err != nil {
			break
		}
		shown = append(shown, buf[:n]...)
	}
	if string(shown) != "not on^[[2J screen\r\n" {
		t.Errorf("the terminal shows %q", shown)
	}
}

func TestCLIBurn(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	link, receipt := mustShare(t, cliOpts{input: "to burn"}, base)
	code, _, errs := MustCLI(t, cliOpts{}, "burn", receipt)
	mustCode(t, "burn", code, exitOK, errs)
	code, _, errs = MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get after burning", code, exitGone, errs)
	code, out, errs := MustCLI(t, cliOpts{}, "receipt", receipt)
	mustCode(t, "receipt", code, exitOK, errs)
	if !strings.Contains(out, "burned before it was read") {
		t.Errorf("receipt:\n%s", out)
	}
	code, _, errs = MustCLI(t, cliOpts{}, "burn", receipt)
	mustCode(t, "second burn", code, exitGone, errs)

	// A secret with a passphrase: servers that take the proof as a
	// passphrase want all of it, so burn asks for the passphrase.
	master, slave := MustOpenPTY(t)
	typeLines(t, master, slave, "pw12", "pw12")
	link, receipt = mustShare(t, cliOpts{input: "guarded", tty: slave}, base, "--passphrase")
	typeLines(t, master, slave, "pw12")
	code, _, errs = MustCLI(t, cliOpts{tty: slave}, "burn", receipt)
	mustCode(t, "burn with a passphrase", code, exitOK, errs)
	if peekStatus(t, base, link) != 404 {
		t.Error("the secret is still there")
	}

	// A receipt link from the command line reads like a secret link's
	// mistake: a secret link is not a receipt.
	code, _, errs = MustCLI(t, cliOpts{}, "burn", link)
	mustCode(t, "burn of a secret link", code, exitConfig, errs)
}

func TestCLIReceiptWait(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	for _, tc := range []struct {
		name   string
		action func(link, receipt string)
		want   int
	}{
		{"Read", func(link, _ string) { MustCLI(t, cliOpts{}, "get", link) }, exitOK},
		{"Burned", func(_, receipt string) { MustCLI(t, cliOpts{}, "burn", receipt) }, exitBurned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			link, receipt := mustShare(t, cliOpts{input: "watched"}, base)
			r := startCLI(t, cliOpts{}, "receipt", "--wait", receipt)
			time.Sleep(200 * time.Millisecond)
			select {
			case code := <-r.code:
				t.Fatalf("receipt --wait ended (%d) before anything happened: %s", code, r.errs(t))
			default:
			}
			tc.action(link, receipt)
			code := r.wait(t)
			mustCode(t, "receipt --wait", code, tc.want, r.errs(t))
		})
	}
	code, _, errs := MustCLI(t, cliOpts{}, "receipt", base+"/receipt/"+strings.Repeat("a", 32))
	mustCode(t, "receipt of nothing", code, exitGone, errs)

	// Interrupted, the wait ends and says so; the secret stays.
	link, receipt := mustShare(t, cliOpts{input: "watched"}, base)
	ctx, cancel := context.WithCancel(context.Background())
	r := startCLI(t, cliOpts{ctx: ctx}, "receipt", "--wait", receipt)
	time.Sleep(200 * time.Millisecond)
	cancel()
	mustCode(t, "interrupted wait", r.wait(t), exitInterrupted, r.errs(t))
	if peekStatus(t, base, link) != 200 {
		t.Error("the secret went")
	}
}

func TestCLICredentials(t *testing.T) {
	p := MustRun(t, "--create-token", "alice:0123456789abcdef0123")
	base := "http://" + p.addr
	file := filepath.Join(t.TempDir(), "token")
	os.WriteFile(file, []byte("# mine\n\nalice:0123456789abcdef0123\n"), 0o600)
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("alice:not-the-token-at-all\n"), 0o600)

	for _, tc := range []struct {
		name string
		o    cliOpts
		args []string
		want int
	}{
		{"ErrNone", cliOpts{}, nil, exitRefused},
		{"OKEnvironment", cliOpts{env: map[string]string{"OTSLITE_TOKEN": "alice:0123456789abcdef0123"}}, nil, exitOK},
		{"OKFile", cliOpts{}, []string{"--token-file", file}, exitOK},
		{"OKFileFromEnvironment", cliOpts{env: map[string]string{"OTSLITE_TOKEN_FILE": file}}, nil, exitOK},
		{"ErrWrongToken", cliOpts{}, []string{"--token-file", wrong}, exitRefused},
		{"ErrMissingFile", cliOpts{}, []string{"--token-file", file + ".missing"}, exitFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.input = "with a token"
			code, _, errs := MustCLI(t, tc.o, append([]string{"share", "--server", base}, tc.args...)...)
			mustCode(t, "share", code, tc.want, errs)
			if tc.want == exitRefused && !strings.Contains(errs, "otslite: Not authorized\n") {
				t.Errorf("stderr does not carry the server's message: %q", errs)
			}
			if strings.Contains(errs, "0123456789abcdef0123") || strings.Contains(errs, "not-the-token") {
				t.Errorf("stderr shows the token: %q", errs)
			}
		})
	}
}

func TestCLIServerMessages(t *testing.T) {
	p := MustRun(t, "--max-secret-size", "100", "--passphrase-max", "60")
	base := "http://" + p.addr
	// The server's own words, as its API says them.
	code, _, errs := MustCLI(t, cliOpts{input: strings.Repeat("x", 101)}, "share", "--server", base, "--plain")
	mustCode(t, "share of too much", code, exitFail, errs)
	if !strings.Contains(errs, "otslite: Secret value exceeds the maximum size of 100 bytes\n") {
		t.Errorf("stderr: %q", errs)
	}
	// A proof with a passphrase (91 characters) is not a human
	// passphrase: --passphrase-max does not apply to it.
	master, slave := MustOpenPTY(t)
	typeLines(t, master, slave, "pw12", "pw12")
	code, _, errs = MustCLI(t, cliOpts{input: "x", tty: slave}, "share", "--server", base, "--passphrase")
	mustCode(t, "share with a proof longer than --passphrase-max", code, exitOK, errs)
	// Not a server at all.
	code, _, errs = MustCLI(t, cliOpts{input: "x"}, "share", "--server", "http://"+freePort(t))
	mustCode(t, "share to nothing", code, exitFail, errs)
	if !strings.Contains(errs, "connection refused") {
		t.Errorf("stderr: %q", errs)
	}
}

// upstream is a stand-in for Onetime Secret's v1 API as upstream serves
// it: no otslite endpoints (a page answers any other path), receipts
// under /private/, answers sent chunked, and the secret's text in the
// clear.
type upstream struct {
	mu      sync.Mutex
	secrets map[string]map[string]string // key -> secret, passphrase, receipt key, state
	bodies  []string                     // what arrived, for the test
}

func newUpstream(t *testing.T) *httptest.Server {
	u := &upstream{secrets: map[string]map[string]string{}}
	srv := httptest.NewServer(u)
	t.Cleanup(srv.Close)
	return srv
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		b, _ := json.Marshal(v)
		// In two flushed pieces: the client must read chunked bodies.
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		w.Write(b[len(b)/2:])
	}
	var form url.Values
	if r.Method == "POST" {
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			var m map[string]string
			json.NewDecoder(r.Body).Decode(&m)
			form = url.Values{}
			for k, v := range m {
				form.Set(k, v)
			}
		} else {
			r.ParseForm()
			form = r.PostForm
		}
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v1/"), "/")
	switch {
	case r.Method == "POST" && parts[0] == "share":
		u.bodies = append(u.bodies, form.Encode())
		key, rkey := fmt.Sprintf("%032d", len(u.secrets)), fmt.Sprintf("r%031d", len(u.secrets))
		u.secrets[key] = map[string]string{"secret": form.Get("secret"), "passphrase": form.Get("passphrase"), "receipt": rkey, "state": "new"}
		reply(200, map[string]any{"custid": "anon", "metadata_key": rkey, "secret_key": key, "ttl": "3600",
			"metadata_url": "http://" + r.Host + "/private/" + rkey, "state": "new", "passphrase_required": form.Get("passphrase") != ""})
	case r.Method == "POST" && parts[0] == "secret" && len(parts) == 2:
		s := u.secrets[parts[1]]
		if s == nil || s["state"] != "new" || s["passphrase"] != form.Get("passphrase") {
			reply(404, map[string]any{"message": "Unknown secret", "secret_key": parts[1]})
			return
		}
		s["state"] = "received"
		reply(200, map[string]any{"value": s["secret"], "secret_key": parts[1], "share_domain": ""})
	default:
		// A web app's catch-all: any other path is a page.
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>an app</html>"))
	}
}

func TestCLIUpstream(t *testing.T) {
	up := newUpstream(t)
	secret := "plain & clear = \"visible\" + é"

	// Not otslite and no terminal: nothing is sent without --plain.
	code, out, errs := MustCLI(t, cliOpts{input: secret}, "share", "--server", up.URL)
	mustCode(t, "share without --plain", code, exitConfig, errs)
	if out != "" || !strings.Contains(errs, "is not an otslite server") || !strings.Contains(errs, "--plain") {
		t.Errorf("stdout %q, stderr %q", out, errs)
	}
	if n := len(up.Config.Handler.(*upstream).bodies); n != 0 {
		t.Fatalf("%d bodies reached the server", n)
	}

	// On a terminal, the notice is a question.
	master, slave := MustOpenPTY(t)
	go func() {
		time.Sleep(300 * time.Millisecond)
		master.Write([]byte("y\n"))
	}()
	link, receipt := mustShare(t, cliOpts{input: secret, tty: slave}, up.URL)
	if !plainLinkRE.MatchString(link) || !plainRecptRE.MatchString(receipt) || !strings.Contains(receipt, "/private/") {
		t.Errorf("links %q %q", link, receipt)
	}

	for _, asJSON := range []bool{false, true} {
		args := []string{"--plain"}
		if asJSON {
			args = append(args, "--json")
		}
		link, _ := mustShare(t, cliOpts{input: secret}, up.URL, args...)
		if !plainLinkRE.MatchString(link) {
			t.Errorf("link %q", link)
		}
		code, out, errs := MustCLI(t, cliOpts{}, "get", link)
		mustCode(t, "get", code, exitOK, errs)
		if out != secret {
			t.Errorf("json %v: get wrote %q", asJSON, out)
		}
		code, _, errs = MustCLI(t, cliOpts{}, "get", link)
		mustCode(t, "second get", code, exitGone, errs)
	}
	bodies := up.Config.Handler.(*upstream).bodies
	for _, b := range bodies {
		if !strings.Contains(b, url.Values{"secret": {secret}}.Encode()) {
			t.Errorf("the upstream server got %q", b)
		}
	}
}

// Plain v1 against otslite's own v1 API, in both request shapes.
func TestCLIPlainAgainstOtslite(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	master, slave := MustOpenPTY(t)
	for _, asJSON := range []bool{false, true} {
		for _, pass := range []string{"", "pass phrase"} {
			args := []string{"--plain"}
			if asJSON {
				args = append(args, "--json")
			}
			o := cliOpts{input: "plain v1 \"text\" & more"}
			if pass != "" {
				args = append(args, "--passphrase")
				o.tty = slave
				typeLines(t, master, slave, pass, pass)
			}
			link, receipt := mustShare(t, o, base, args...)
			if !plainLinkRE.MatchString(link) || strings.Contains(receipt, "#") {
				t.Fatalf("plain links %q %q", link, receipt)
			}
			v := p.post(t, "/api/v1/receipt/"+regexp.MustCompile(`[0-9a-z]{32}$`).FindString(receipt), nil)
			if v["state"] != "new" || v["passphrase_required"] != (pass != "") {
				t.Errorf("receipt %v", v)
			}
			getArgs := []string{"get", link}
			if asJSON {
				getArgs = append(getArgs, "--json")
			}
			if pass != "" {
				// otslite says a passphrase is needed; get asks.
				typeLines(t, master, slave, pass)
			}
			code, out, errs := MustCLI(t, cliOpts{tty: slave}, getArgs...)
			mustCode(t, "get", code, exitOK, errs)
			if out != "plain v1 \"text\" & more" {
				t.Errorf("json %v pass %q: got %q", asJSON, pass, out)
			}
		}
	}
}

func TestCLIUsage(t *testing.T) {
	for _, cmd := range commands() {
		t.Run(cmd.name, func(t *testing.T) {
			code, out, errs := MustCLI(t, cliOpts{}, cmd.name, "-h")
			mustCode(t, "-h", code, exitOK, errs)
			if out != "" || errs != cmd.usage {
				t.Errorf("-h wrote stdout %q, stderr %q", out, errs)
			}
			lines := strings.Split(strings.TrimSuffix(cmd.usage, "\n"), "\n")
			if len(lines) > 24 {
				t.Errorf("usage has %d lines", len(lines))
			}
			for _, l := range lines {
				if n := len([]rune(l)); n > 80 || strings.HasSuffix(l, " ") || strings.Contains(l, "\t") {
					t.Errorf("usage line (%d columns): %q", n, l)
				}
			}
			if !strings.HasPrefix(cmd.usage, "otslite "+cmd.name+": ") || !strings.Contains(cmd.usage, "\nUsage: otslite "+cmd.name) {
				t.Errorf("usage does not start with what the command is and how to call it")
			}
			// Every flag is in the usage, and the usage names no other.
			fs := cmd.flags()
			listed := map[string]bool{}
			for _, l := range lines {
				col, _, ok := strings.Cut(strings.TrimPrefix(l, "  "), "  ")
				if !strings.HasPrefix(l, "  --") || !ok {
					continue
				}
				prev := ""
				for _, part := range strings.Split(col, ", ") {
					name := strings.TrimPrefix(part, "--")
					if !strings.HasPrefix(part, "--") { // "--tls-cert, -key"
						name = prev[:strings.LastIndex(prev, "-")] + part
					}
					listed[name] = true
					prev = name
				}
			}
			fs.VisitAll(func(f *flag.Flag) {
				if !listed[f.Name] {
					t.Errorf("--%s is not in the usage", f.Name)
				}
				delete(listed, f.Name)
			})
			for name := range listed {
				t.Errorf("the usage lists --%s, which is no flag", name)
			}
		})
	}
	var b strings.Builder
	if code := helpMain(&b, nil); code != exitOK || strings.Count(b.String(), "\n") > 24 {
		t.Errorf("help: %d, %d lines", code, strings.Count(b.String(), "\n"))
	}
	for _, cmd := range commands() {
		if !strings.Contains(b.String(), "\n  "+cmd.name+" ") {
			t.Errorf("help does not list %s", cmd.name)
		}
	}
}

func TestCLIBadCommandLines(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"share"}, "say which server"},
		{[]string{"share", "--server", "ftp://x"}, "want a URL"},
		{[]string{"share", "--server", base, "a", "b"}, "at most one FILE"},
		{[]string{"share", "--server", base, "--ttl", "7x"}, "not a duration"},
		{[]string{"share", "--server", base, "--fingerprint", "AB:CD"}, "64 hex digits"},
		{[]string{"send", "--ttl", "10s"}, "between 1m and 7d"},
		{[]string{"send", "--nope"}, "not defined"},
		{[]string{"get", "http://x/secret/short"}, "not a secret link"},
		{[]string{"get", "http://127.0.0.1:1/secret/" + strings.Repeat("a", 32) + "#1nshort"}, "damaged"},
		{[]string{"get", "a", "b"}, "not a secret link"},
		{[]string{"get", "--out", "/nonexistent", "a"}, "not a directory"},
		{[]string{"send", "--links", "1"}, "2 to 20 links"},
		{[]string{"send", "--split", "3/2"}, "2 <= K <= N <= 20"},
		{[]string{"send", "--links", "2", "--split", "2/3"}, "do not go together"},
		{[]string{"share", "--server", base, "--file", "x", "--plain"}, "--plain sends text only"},
		{[]string{"request", "extra"}, "no arguments"},
		{[]string{"receipt", base + "/secret/" + strings.Repeat("a", 32)}, "not a receipt link"},
		{[]string{"completion", "tcsh"}, "bash, zsh or fish"},
	} {
		code, _, errs := MustCLI(t, cliOpts{input: "x"}, tc.args...)
		if code != exitConfig || !strings.Contains(errs, tc.want) || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 2 and one line with %q", tc.args, code, errs, tc.want)
		}
	}
}
