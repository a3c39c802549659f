package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// waitLine waits until the command has written a whole first line to
// stdout and returns it.
func (r *cliRun) waitLine(tb testing.TB) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if out := r.out(tb); strings.Contains(out, "\n") {
			return strings.SplitN(out, "\n", 2)[0]
		}
		select {
		case code := <-r.code:
			tb.Fatalf("ended with %d before printing a link; stderr:\n%s", code, r.errs(tb))
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("no link printed; stderr:\n%s", r.errs(tb))
	return ""
}

// waitErrs waits until the command's stderr holds want and returns it:
// the command goes on writing to stderr after the link reaches stdout.
func (r *cliRun) waitErrs(tb testing.TB, want string) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		errs := r.errs(tb)
		if strings.Contains(errs, want) {
			return errs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("stderr lacks %q:\n%s", want, errs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSendRead(t *testing.T) {
	r := startCLI(t, cliOpts{input: "hunter2\n"}, "send", "--qr=false")
	link := r.waitLine(t)
	if !zkLinkLine.MatchString(link) {
		t.Fatalf("send printed %q", link)
	}
	code, out, errs := MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get", code, exitOK, errs)
	if out != "hunter2" {
		t.Errorf("get wrote %q", out)
	}
	mustCode(t, "send", r.wait(t), exitOK, r.errs(t))
	for _, want := range []string{"waiting until the link is opened", "the secret was read"} {
		if !strings.Contains(r.errs(t), want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.errs(t))
		}
	}
	if strings.Contains(r.errs(t), "hunter2") || strings.Contains(r.errs(t), link[strings.Index(link, "#"):]) {
		t.Errorf("stderr shows the secret or the link's key:\n%s", r.errs(t))
	}
	// The session is over, and the secret with it.
	code, _, errs = MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "second get", code, exitGone, errs)
	if !strings.Contains(errs, "session that held this secret has ended") {
		t.Errorf("stderr: %s", errs)
	}
}

func TestSendInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := startCLI(t, cliOpts{input: "burn me", ctx: ctx}, "send", "--qr=false")
	link := r.waitLine(t)
	cancel() // Ctrl-C
	mustCode(t, "send", r.wait(t), exitBurned, r.errs(t))
	if !strings.Contains(r.errs(t), "burned before anyone read it") {
		t.Errorf("stderr:\n%s", r.errs(t))
	}
	code, _, errs := MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get after Ctrl-C", code, exitGone, errs)
}

func TestSendExpires(t *testing.T) {
	if testing.Short() {
		t.Skip("waits a minute, the shortest ttl")
	}
	t.Parallel()
	r := startCLI(t, cliOpts{input: "nobody comes"}, "send", "--ttl", "1m", "--qr=false")
	r.waitLine(t)
	mustCode(t, "send", r.wait(t), exitExpired, r.errs(t))
	if !strings.Contains(r.errs(t), "expired unread") {
		t.Errorf("stderr:\n%s", r.errs(t))
	}
}

var fingerprintRE = regexp.MustCompile(`otslite:   ([0-9A-F]{2}(?::[0-9A-F]{2}){31})\n`)

func TestSendTLS(t *testing.T) {
	r := startCLI(t, cliOpts{input: "over TLS"}, "send", "--tls-self-signed", "--qr")
	link := r.waitLine(t)
	if !strings.HasPrefix(link, "https://127.0.0.1:") {
		t.Fatalf("link %q", link)
	}
	drawn := r.waitErrs(t, "waiting until the link is opened")
	m := fingerprintRE.FindStringSubmatch(drawn)
	if m == nil {
		t.Fatalf("no fingerprint on stderr:\n%s", drawn)
	}
	// The QR code on stderr holds the link.
	if zbar, err := exec.LookPath("zbarimg"); err == nil {
		start := strings.IndexAny(drawn, "█▀▄")
		start = strings.LastIndex(drawn[:start], "\n") + 1
		end := strings.Index(drawn, "otslite: the certificate")
		rows := modulesFromTerminal(t, drawn[start:end], false)
		if got := decodeQR(t, zbar, pngOf(t, rows, 4)); got != link {
			t.Errorf("the QR code holds %q, want the link", got)
		}
	} else {
		need(t, err, "zbarimg (zbar-tools)")
	}

	// A client that does not know the certificate refuses it, and says
	// what to do; with the fingerprint, it opens the link.
	code, _, errs := MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get without the fingerprint", code, exitFail, errs)
	if !strings.Contains(errs, "--fingerprint") {
		t.Errorf("stderr: %s", errs)
	}
	wrong := strings.Repeat("AB:", 31) + "AB"
	code, _, errs = MustCLI(t, cliOpts{}, "get", "--fingerprint", wrong, link)
	mustCode(t, "get with another fingerprint", code, exitFail, errs)
	code, out, errs := MustCLI(t, cliOpts{}, "get", "--fingerprint", m[1], link)
	mustCode(t, "get", code, exitOK, errs)
	if out != "over TLS" {
		t.Errorf("get wrote %q", out)
	}
	mustCode(t, "send", r.wait(t), exitOK, r.errs(t))
}

func TestSendPassphrase(t *testing.T) {
	master, slave := MustOpenPTY(t)
	typeLines(t, master, slave, "s3nd pass", "s3nd pass")
	r := startCLI(t, cliOpts{input: "guarded", tty: slave}, "send", "--passphrase", "--qr=false")
	link := r.waitLine(t)
	if !strings.Contains(link, "#1p") {
		t.Fatalf("link %q", link)
	}
	typeLines(t, master, slave, "s3nd pass")
	code, out, errs := MustCLI(t, cliOpts{tty: slave}, "get", link)
	mustCode(t, "get", code, exitOK, errs)
	if out != "guarded" {
		t.Errorf("get wrote %q", out)
	}
	mustCode(t, "send", r.wait(t), exitOK, r.errs(t))
}

func TestSendServerErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		want string
		code int
	}{
		"ErrListen":        {[]string{"--listen", "127.0.0.1:notaport"}, nil, `--listen: "127.0.0.1:notaport"`, exitConfig},
		"ErrListenFromEnv": {nil, map[string]string{"OTSLITE_LISTEN": "nowhere"}, `OTSLITE_LISTEN: "nowhere"`, exitConfig},
		"ErrPublicURL":     {[]string{"--public-url", "ftp://x"}, nil, "--public-url", exitConfig},
		"ErrTLSKeyAlone":   {[]string{"--tls-key", "/nonexistent"}, nil, "--tls-key", exitConfig},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errs := MustCLI(t, cliOpts{input: "x", env: tc.env}, append([]string{"send"}, tc.args...)...)
			mustCode(t, "send", code, tc.code, errs)
			if out != "" || !strings.Contains(errs, tc.want) || strings.Contains(errs, "admin token") {
				t.Errorf("stdout %q, stderr:\n%s", out, errs)
			}
		})
	}
	// Settings of the server that would change what send is are not read
	// from the environment.
	r := startCLI(t, cliOpts{input: "x", env: map[string]string{"OTSLITE_IDLE": "1s", "OTSLITE_EXIT_WHEN_DRAINED": "false", "OTSLITE_MAX_SECRET_SIZE": "10"}}, "send", "--qr=false")
	link := r.waitLine(t)
	time.Sleep(1500 * time.Millisecond)
	code, out, errs := MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get", code, exitOK, errs)
	if out != "x" {
		t.Errorf("get wrote %q", out)
	}
	mustCode(t, "send", r.wait(t), exitOK, r.errs(t))
}

// No secret on the command line: a file named there is read, and an
// argument that is not a file is an error, not a secret.
func TestSendReadsFiles(t *testing.T) {
	name := t.TempDir() + "/s.txt"
	os.WriteFile(name, []byte("from a file\n"), 0o600)
	r := startCLI(t, cliOpts{}, "send", "--qr=false", name)
	link := r.waitLine(t)
	code, out, _ := MustCLI(t, cliOpts{}, "get", link)
	if code != exitOK || out != "from a file" {
		t.Errorf("get: %d %q", code, out)
	}
	r.wait(t)
	code, out, errs := MustCLI(t, cliOpts{}, "send", "hunter2")
	mustCode(t, "send with a secret as argument", code, exitFail, errs)
	if out != "" || !bytes.Contains([]byte(errs), []byte("no such file")) {
		t.Errorf("stdout %q, stderr %q", out, errs)
	}
}
