package main

// The command line's shapes: files, several links, splits and requests,
// against otslite servers run in-process.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"otslite/store/envelope"
)

var groupLinkRE = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/group/[0-9a-z]{32}$`)

// mustShareLines shares and returns what share printed, one line each.
func mustShareLines(tb testing.TB, o cliOpts, base string, args ...string) []string {
	tb.Helper()
	code, out, errs := MustCLI(tb, o, append([]string{"share", "--server", base}, args...)...)
	mustCode(tb, "share", code, exitOK, errs)
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// writeFiles writes name, content pairs into a new directory.
func writeFiles(tb testing.TB, pairs ...string) (string, []string) {
	tb.Helper()
	dir := tb.TempDir()
	var paths []string
	for i := 0; i+1 < len(pairs); i += 2 {
		p := filepath.Join(dir, pairs[i])
		if err := os.WriteFile(p, []byte(pairs[i+1]), 0o600); err != nil {
			tb.Fatal(err)
		}
		paths = append(paths, p)
	}
	return dir, paths
}

func randomBytes(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return string(b)
}

// mustReadDir returns a directory's files and their contents.
func mustReadDir(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		info, _ := e.Info()
		if info.Mode().Perm() != 0o600 {
			tb.Errorf("%s has mode %v, want 0600", e.Name(), info.Mode().Perm())
		}
		out[e.Name()] = string(b)
	}
	return out
}

func TestCLIFiles(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	binary := randomBytes(70_000)
	_, paths := writeFiles(t, "report é 비밀.bin", binary, "notes.txt", "plain notes\n")

	// Files with text, given on stdin.
	lines := mustShareLines(t, cliOpts{input: "the text\nwith two lines\n"}, base, "--file", paths[0], "--file", paths[1])
	if len(lines) != 2 || !zkLinkLine.MatchString(lines[0]) || !zkReceiptRE.MatchString(lines[1]) {
		t.Fatalf("share printed %q", lines)
	}
	out := t.TempDir()
	code, stdout, errs := MustCLI(t, cliOpts{}, "get", "--out", out, lines[0])
	mustCode(t, "get", code, exitOK, errs)
	if stdout != "the text\nwith two lines\n" {
		t.Errorf("text %q", stdout)
	}
	got := mustReadDir(t, out)
	if len(got) != 2 || got["report é 비밀.bin"] != binary || got["notes.txt"] != "plain notes\n" {
		t.Errorf("files %v", keys(got))
	}
	if !strings.Contains(errs, "wrote "+filepath.Join(out, "notes.txt")) {
		t.Errorf("stderr %q", errs)
	}

	// Files only, into a directory that has one of the names already:
	// nothing is replaced.
	lines = mustShareLines(t, cliOpts{input: ""}, base, "--file", paths[1])
	code, stdout, errs = MustCLI(t, cliOpts{}, "get", "--out", out, lines[0])
	mustCode(t, "get files only", code, exitOK, errs)
	if stdout != "" {
		t.Errorf("stdout %q", stdout)
	}
	got = mustReadDir(t, out)
	if got["notes.txt"] != "plain notes\n" || got["notes (2).txt"] != "plain notes\n" || len(got) != 3 {
		t.Errorf("files %v", keys(got))
	}

	// The text from FILE, with files.
	_, textFile := writeFiles(t, "t.txt", "text from a file")
	lines = mustShareLines(t, cliOpts{}, base, textFile[0], "--file", paths[1])
	code, stdout, _ = MustCLI(t, cliOpts{}, "get", "--out", t.TempDir(), lines[0])
	if code != exitOK || stdout != "text from a file" {
		t.Errorf("get: %d %q", code, stdout)
	}

	// What cannot be sent is refused before anything is stored.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--file", filepath.Join(t.TempDir(), "missing")}, "no such file"},
		{[]string{"--file", t.TempDir()}, "is a directory"},
	} {
		code, _, errs := MustCLI(t, cliOpts{input: ""}, append([]string{"share", "--server", base}, c.args...)...)
		if code != exitFail || !strings.Contains(errs, c.want) {
			t.Errorf("%v: %d %q", c.args, code, errs)
		}
	}
	// A server that takes no files says so.
	off := MustRun(t, "--max-file-size", "0")
	code, _, errs = MustCLI(t, cliOpts{input: ""}, "share", "--server", "http://"+off.addr, "--file", paths[1])
	if code != exitFail || !strings.Contains(errs, "takes no files") {
		t.Errorf("no files: %d %q", code, errs)
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCLIFileOf5MiB: a 5 MiB file and a text arrive intact (the body goes
// through the server's locked memory).
func TestCLIFileOf5MiB(t *testing.T) {
	needLockable(t, 64<<20)
	p := MustRun(t)
	big := randomBytes(5 << 20)
	_, paths := writeFiles(t, "big.bin", big)
	lines := mustShareLines(t, cliOpts{input: "and a text"}, "http://"+p.addr, "--file", paths[0])
	out := t.TempDir()
	code, stdout, errs := MustCLI(t, cliOpts{}, "get", "--out", out, lines[0])
	mustCode(t, "get", code, exitOK, errs)
	if stdout != "and a text" || mustReadDir(t, out)["big.bin"] != big {
		t.Error("the file or the text came back different")
	}
}

func TestCLILinks(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	lines := mustShareLines(t, cliOpts{input: "for three people"}, base, "--links", "3")
	if len(lines) != 4 || !groupLinkRE.MatchString(lines[3]) {
		t.Fatalf("share printed %q", lines)
	}
	seen := map[string]bool{}
	for _, l := range lines[:3] {
		if !zkLinkLine.MatchString(l) || seen[l[strings.Index(l, "#"):]] {
			t.Fatalf("link %q (each has its own key)", l)
		}
		seen[l[strings.Index(l, "#"):]] = true
	}
	receipt := lines[3]

	code, out, errs := MustCLI(t, cliOpts{}, "get", lines[1])
	mustCode(t, "get link 2", code, exitOK, errs)
	if out != "for three people" {
		t.Errorf("link 2 gave %q", out)
	}
	code, _, errs = MustCLI(t, cliOpts{}, "get", lines[1])
	mustCode(t, "get link 2 again", code, exitGone, errs)

	code, out, errs = MustCLI(t, cliOpts{}, "receipt", receipt)
	mustCode(t, "receipt", code, exitOK, errs)
	for _, want := range []string{"link 1: waiting to be read", "link 2: read at ", "link 3: waiting to be read", "link 2: someone opened this link's page after it was gone"} {
		if !strings.Contains(out, want) {
			t.Errorf("receipt lacks %q:\n%s", want, out)
		}
	}
	code, _, errs = MustCLI(t, cliOpts{}, "burn", receipt)
	mustCode(t, "burn", code, exitOK, errs)
	if !strings.Contains(errs, "link 1: burned") || !strings.Contains(errs, "link 3: burned") || strings.Contains(errs, "link 2: burned") {
		t.Errorf("burn: %s", errs)
	}
	code, _, _ = MustCLI(t, cliOpts{}, "burn", receipt)
	mustCode(t, "burn again", code, exitGone, "")
	code, out, _ = MustCLI(t, cliOpts{}, "receipt", "--wait", receipt)
	if code != exitBurned || !strings.Contains(out, "link 1: burned at ") {
		t.Errorf("receipt --wait: %d\n%s", code, out)
	}
}

func TestCLISplit(t *testing.T) {
	p := MustRun(t)
	base := "http://" + p.addr
	secret := "split me: ünïcödé"
	lines := mustShareLines(t, cliOpts{input: secret}, base, "--split", "2/3")
	if len(lines) != 4 || !groupLinkRE.MatchString(lines[3]) {
		t.Fatalf("share printed %q", lines)
	}
	code, out, errs := MustCLI(t, cliOpts{}, "get", lines[2], lines[0])
	mustCode(t, "get 2 of 3", code, exitOK, errs)
	if out != secret {
		t.Errorf("rebuilt %q", out)
	}
	// One link alone cannot rebuild it, and says so.
	code, out, errs = MustCLI(t, cliOpts{}, "get", lines[1])
	if code != exitFail || out != "" || !strings.Contains(errs, "share 2 of a 2-of-3 split") {
		t.Errorf("one share: %d %q %q", code, out, errs)
	}

	// Files, split 3 of 4; a gone link stops get before any link is used.
	_, paths := writeFiles(t, "key.pem", randomBytes(3000))
	lines = mustShareLines(t, cliOpts{input: "with a file"}, base, "--split", "3/4", "--file", paths[0])
	code, _, errs = MustCLI(t, cliOpts{}, "get", lines[0])
	if code != exitFail {
		t.Fatalf("one share: %d %s", code, errs)
	}
	code, _, errs = MustCLI(t, cliOpts{}, "get", lines[1], lines[0], lines[2])
	if code != exitGone || !strings.Contains(errs, "link 2: ") || !strings.Contains(errs, "none was opened") {
		t.Errorf("with a gone link: %d %q", code, errs)
	}
	dir := t.TempDir()
	code, out, errs = MustCLI(t, cliOpts{}, "get", "--out", dir, lines[1], lines[3], lines[2])
	mustCode(t, "get 3 of 4", code, exitOK, errs)
	want, _ := os.ReadFile(paths[0])
	if out != "with a file" || mustReadDir(t, dir)["key.pem"] != string(want) {
		t.Error("the split files came back different")
	}

	// Shares of different splits do not combine.
	a := mustShareLines(t, cliOpts{input: "one"}, base, "--split", "2/2")
	b := mustShareLines(t, cliOpts{input: "two"}, base, "--split", "2/2")
	code, _, errs = MustCLI(t, cliOpts{}, "get", a[0], b[1])
	if code != exitFail || !strings.Contains(errs, "different splits") {
		t.Errorf("mixed splits: %d %q", code, errs)
	}
}

func TestSendShapes(t *testing.T) {
	t.Run("Links", func(t *testing.T) {
		r := startCLI(t, cliOpts{input: "two people"}, "send", "--qr=false", "--links", "2")
		links := waitLines(t, r, 2)
		for _, l := range links {
			code, out, errs := MustCLI(t, cliOpts{}, "get", l)
			if code != exitOK || out != "two people" {
				t.Fatalf("get: %d %q %s", code, out, errs)
			}
		}
		mustCode(t, "send", r.wait(t), exitOK, r.errs(t))
		for _, want := range []string{"link 1: opened at ", "link 2: opened at ", "all 2 links were read"} {
			if !strings.Contains(r.errs(t), want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.errs(t))
			}
		}
	})
	t.Run("Split", func(t *testing.T) {
		_, paths := writeFiles(t, "f.bin", randomBytes(2000))
		r := startCLI(t, cliOpts{input: ""}, "send", "--qr=false", "--split", "2/3", "--file", paths[0])
		links := waitLines(t, r, 3)
		dir := t.TempDir()
		code, _, errs := MustCLI(t, cliOpts{}, "get", "--out", dir, links[0], links[2])
		mustCode(t, "get", code, exitOK, errs)
		mustCode(t, "send", r.wait(t), exitOK, r.errs(t))
		if !strings.Contains(r.errs(t), "2 of the 3 shares were read") {
			t.Errorf("stderr:\n%s", r.errs(t))
		}
		want, _ := os.ReadFile(paths[0])
		if mustReadDir(t, dir)["f.bin"] != string(want) {
			t.Error("the file came back different")
		}
	})
	t.Run("Interrupted", func(t *testing.T) {
		ctx, cancel := contextWithCancel()
		r := startCLI(t, cliOpts{input: "burn us", ctx: ctx}, "send", "--qr=false", "--links", "3")
		links := waitLines(t, r, 3)
		if code, _, errs := MustCLI(t, cliOpts{}, "get", links[0]); code != exitOK {
			t.Fatalf("get: %s", errs)
		}
		time.Sleep(100 * time.Millisecond)
		cancel()
		mustCode(t, "send", r.wait(t), exitBurned, r.errs(t))
		if !strings.Contains(r.errs(t), "2 of 3 links were burned") {
			t.Errorf("stderr:\n%s", r.errs(t))
		}
	})
}

// waitLines waits for n lines on the command's stdout.
func waitLines(tb testing.TB, r *cliRun, n int) []string {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if out := r.out(tb); strings.Count(out, "\n") >= n {
			return strings.Split(strings.TrimSuffix(out, "\n"), "\n")[:n]
		}
		select {
		case code := <-r.code:
			tb.Fatalf("ended with %d; stderr:\n%s", code, r.errs(tb))
		case <-time.After(20 * time.Millisecond):
		}
	}
	tb.Fatalf("%d lines not printed; stderr:\n%s", n, r.errs(tb))
	return nil
}

// answerRequest answers the request behind link as a browser does: an
// ephemeral key, the answer sealed to the public key in the fragment.
func answerRequest(tb testing.TB, link string, plain []byte) *http.Response {
	tb.Helper()
	m := regexp.MustCompile(`^(https?://[^/]+)/request/([0-9a-z]{32})#([A-Za-z0-9_-]{87})$`).FindStringSubmatch(link)
	if m == nil {
		tb.Fatalf("not a request link: %q", link)
	}
	reqPub, err := base64.RawURLEncoding.DecodeString(m[3])
	if err != nil {
		tb.Fatal(err)
	}
	ePub := make([]byte, envelope.PublicKeyLen)
	k, err := envelope.AnswerKey(make([]byte, envelope.MemorySize), ePub, reqPub, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	var env []byte
	if envelope.IsBundle(plain) {
		env, err = k.SealBundle(nil, plain, rand.Reader)
	} else {
		env, err = k.Seal(nil, plain, rand.Reader)
	}
	if err != nil {
		tb.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"secret": string(env), "passphrase": string(k.PutProof(make([]byte, envelope.ProofLenPassphrase))), "public": base64.RawURLEncoding.EncodeToString(ePub)})
	req, _ := http.NewRequest("POST", m[1]+"/api/otslite/request/"+m[2]+"/answer", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Close = true // no idle connection left for the server's shutdown
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var requestLinkRE = regexp.MustCompile(`^http://127\.0\.0\.1:\d+/request/[0-9a-z]{32}#[A-Za-z0-9_-]{87}$`)

func TestCLIRequest(t *testing.T) {
	t.Run("Server", func(t *testing.T) {
		p := MustRun(t)
		dir := t.TempDir()
		r := startCLI(t, cliOpts{}, "request", "--server", "http://"+p.addr, "--out", dir, "--qr=false")
		link := r.waitLine(t)
		if !requestLinkRE.MatchString(link) {
			t.Fatalf("request printed %q", link)
		}
		b := envelope.Bundle{Text: []byte("the answer"), Files: []envelope.File{{Name: []byte("id_ed25519"), Data: []byte("private key data")}}}
		plain, _ := envelope.PutBundle(make([]byte, envelope.BundleLen(&b)), &b)
		if resp := answerRequest(t, link, plain); resp.StatusCode != 200 {
			t.Fatalf("answer: %d", resp.StatusCode)
		}
		mustCode(t, "request", r.wait(t), exitOK, r.errs(t))
		if r.out(t) != link+"\nthe answer" || mustReadDir(t, dir)["id_ed25519"] != "private key data" {
			t.Errorf("stdout %q, files %v", r.out(t), mustReadDir(t, dir))
		}
		// A second answer is refused.
		if resp := answerRequest(t, link, []byte("again")); resp.StatusCode != 404 || resp.Header.Get("X-OTS-Intended-Status") != "409" {
			t.Errorf("second answer: %d %s", resp.StatusCode, resp.Header.Get("X-OTS-Intended-Status"))
		}
	})
	t.Run("Local", func(t *testing.T) {
		r := startCLI(t, cliOpts{}, "request", "--qr=false")
		link := r.waitLine(t)
		if !requestLinkRE.MatchString(link) {
			t.Fatalf("request printed %q", link)
		}
		if resp := answerRequest(t, link, []byte("answered here")); resp.StatusCode != 200 {
			t.Fatalf("answer: %d", resp.StatusCode)
		}
		mustCode(t, "request", r.wait(t), exitOK, r.errs(t))
		if !strings.HasSuffix(r.out(t), "\nanswered here") {
			t.Errorf("stdout %q", r.out(t))
		}
	})
	t.Run("Interrupted", func(t *testing.T) {
		ctx, cancel := contextWithCancel()
		r := startCLI(t, cliOpts{ctx: ctx}, "request", "--qr=false")
		r.waitLine(t)
		cancel()
		mustCode(t, "request", r.wait(t), exitInterrupted, r.errs(t))
	})
	t.Run("TokenNeeded", func(t *testing.T) {
		p := MustRun(t, "--create-token", "alice:0123456789abcdef0123")
		code, _, errs := MustCLI(t, cliOpts{}, "request", "--server", "http://"+p.addr)
		if code != exitRefused || !strings.Contains(errs, "Not authorized") {
			t.Errorf("no token: %d %q", code, errs)
		}
	})
}

// TestCLIGetTerminal: text is not written to a terminal without --show;
// with --out it goes there as a file.
func TestCLIGetTerminal(t *testing.T) {
	p := MustRun(t)
	master, slave := MustOpenPTY(t)
	_ = master
	lines := mustShareLines(t, cliOpts{input: "on screen?"}, "http://"+p.addr)
	code, _, errs := MustCLI(t, cliOpts{stdout: slave}, "get", lines[0])
	if code != exitConfig || !strings.Contains(errs, "would stay on this screen") {
		t.Errorf("terminal: %d %q", code, errs)
	}
	dir := t.TempDir()
	code, _, errs = MustCLI(t, cliOpts{stdout: slave}, "get", "--out", dir, lines[0])
	mustCode(t, "get --out to a terminal", code, exitOK, errs)
	if mustReadDir(t, dir)["text.txt"] != "on screen?" {
		t.Errorf("files %v", mustReadDir(t, dir))
	}
}

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}
