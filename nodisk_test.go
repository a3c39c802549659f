package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The no-disk test: the release binary runs a whole session under strace,
// and any system call that could leave something on a file system fails
// the test: an open for writing or creating, creat, rename, unlink, mkdir,
// truncate, link, mknod, or a change of a file's mode, owner or times.

// writeSyscalls are traced; every one of them but an open without write
// or create flags is a violation.
var writeSyscalls = []string{
	"open", "openat", "openat2", "creat",
	"rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir",
	"mkdir", "mkdirat", "truncate", "ftruncate", "fallocate",
	"link", "linkat", "symlink", "symlinkat", "mknod", "mknodat",
	"chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat", "lchown",
	"utimensat", "futimesat", "utimes", "setxattr", "lsetxattr", "fsetxattr",
	"memfd_create",
}

// straceLine is one traced call: "[pid N] name(args) = result" (strace -f).
var straceLine = regexp.MustCompile(`^(?:\[pid +\d+\] )?([a-z0-9_]+)\((.*)\) += (.*)$`)

// writeFlags in an open's flags mean it may write or create.
var writeFlags = regexp.MustCompile(`O_(WRONLY|RDWR|CREAT|TRUNC|APPEND|TMPFILE)`)

// needStrace returns strace's path, or skips outside CI.
func needStrace(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("strace")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("strace is not installed; .ci/run installs it")
		}
		skip(tb, "strace is not installed (apt-get install strace); CI runs this test")
	}
	return path
}

func TestNoFileWrites(t *testing.T) {
	t.Parallel()
	strace := needStrace(t)
	p := MustStartBinary(t, straceArgs(strace))
	fullSession(t, p)

	// SIGTERM goes to otslite itself, not to strace.
	pid := tracedChild(t, p.cmd.Process.Pid)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.MustExit(t, 20*time.Second); code != exitOK {
		t.Errorf("exit code %d, want 0:\n%s", code, p.stderr)
	}

	calls, writes := fileWrites(p.stderr.String())
	for _, w := range writes {
		t.Errorf("file system write: %s", w)
	}
	t.Logf("strace saw %d traced calls over a full session, %d of them writes", calls, len(writes))
	if calls == 0 {
		t.Error("strace traced nothing: the trace is not working")
	}
	if !strings.Contains(p.stderr.String(), "session over (signal)") {
		t.Errorf("the session did not end cleanly:\n%s", p.stderr)
	}
}

// straceArgs trace every call in writeSyscalls, in every thread.
func straceArgs(strace string) []string {
	return []string{strace, "-f", "-qq", "-e", "trace=" + strings.Join(writeSyscalls, ",")}
}

// fileWrites reads strace output and returns how many traced calls it
// holds and those that could write to a file system.
func fileWrites(trace string) (calls int, writes []string) {
	for _, line := range strings.Split(trace, "\n") {
		m := straceLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		calls++
		name, args := m[1], m[2]
		if strings.HasPrefix(name, "open") && !writeFlags.MatchString(args) {
			continue
		}
		writes = append(writes, line)
	}
	return calls, writes
}

// TestFileWritesCatches runs the same trace on a shell that writes, moves
// and removes a file, so the no-disk test is known to see such things.
func TestFileWritesCatches(t *testing.T) {
	t.Parallel()
	strace := needStrace(t)
	dir := t.TempDir()
	argv := append(straceArgs(strace), "/bin/sh", "-c", "echo x > f && mv f g && mkdir d && rm g && rmdir d")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	_, writes := fileWrites(string(out))
	for _, want := range []string{`"f", O_WRONLY|O_CREAT|O_TRUNC`, `rename`, `mkdir`, `unlink`, `rmdir`} {
		found := false
		for _, w := range writes {
			found = found || strings.Contains(w, want)
		}
		if !found {
			t.Errorf("no write matching %q among %q", want, writes)
		}
	}
}

// tracedChild returns the pid of strace's child.
func tracedChild(tb testing.TB, stracePid int) int {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(stracePid) + "/task/" + strconv.Itoa(stracePid) + "/children")
	if err != nil {
		tb.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		tb.Fatalf("strace has children %q, want one", f)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		tb.Fatal(err)
	}
	return pid
}

// fullSession uses every feature a session offers: v1 create (form and
// JSON, with and without passphrase), generate, reveal, burn, receipts,
// the pages and their assets in every encoding.
func fullSession(tb testing.TB, p *binProc) {
	tb.Helper()
	plain := p.mustShare(tb, url.Values{"secret": {"plain one"}, "ttl": {"300"}})
	withPass := p.mustShare(tb, url.Values{"secret": {"with a passphrase"}, "passphrase": {"open sesame"}})
	toBurn := p.mustShare(tb, url.Values{"secret": {"to be burned"}})
	p.mustShare(tb, url.Values{"secret": {"left waiting"}})

	req, _ := http.NewRequest("POST", p.base+"/api/v1/share", strings.NewReader(`{"secret":"json one","ttl":120}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := insecureClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	var js map[string]any
	json.NewDecoder(resp.Body).Decode(&js)
	resp.Body.Close()

	_, _, gen := p.do(tb, "POST", "/api/v1/generate", url.Values{"length": {"20"}}, nil)
	for _, r := range []map[string]any{plain, js, gen} {
		if status, _, m := p.do(tb, "POST", "/api/v1/secret/"+r["secret_key"].(string), url.Values{}, nil); status != 200 || m["value"] == nil {
			tb.Errorf("reveal: %d %v", status, m)
		}
	}
	p.do(tb, "POST", "/api/v1/secret/"+withPass["secret_key"].(string), url.Values{"passphrase": {"wrong guess"}}, nil)
	if status, _, m := p.do(tb, "POST", "/api/v1/secret/"+withPass["secret_key"].(string), url.Values{"passphrase": {"open sesame"}}, nil); status != 200 || m["value"] != "with a passphrase" {
		tb.Errorf("reveal with passphrase: %d %v", status, m)
	}
	if status, _, m := p.do(tb, "POST", "/api/v1/receipt/"+toBurn["metadata_key"].(string)+"/burn", url.Values{}, nil); status != 200 {
		tb.Errorf("burn: %d %v", status, m)
	}
	for _, r := range []map[string]any{plain, withPass, toBurn} {
		if status, _, m := p.do(tb, "GET", "/api/v1/receipt/"+r["metadata_key"].(string), nil, nil); status != 200 {
			tb.Errorf("receipt: %d %v", status, m)
		}
	}
	p.do(tb, "GET", "/api/v1/status", nil, nil)
	p.do(tb, "GET", "/api/otslite/config", nil, nil)
	p.do(tb, "GET", "/api/otslite/secret/"+plain["secret_key"].(string), nil, nil)

	// Pages, then every asset they name, in each encoding.
	pages := []string{"/", "/secret/" + toBurn["secret_key"].(string), "/receipt/" + toBurn["metadata_key"].(string), "/security"}
	assetRef := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`)
	seen := map[string]bool{}
	for _, page := range pages {
		body := get(tb, p.base+page, "")
		for _, m := range assetRef.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				continue
			}
			seen[m[1]] = true
			for _, enc := range []string{"", "gzip", "zstd", "br"} {
				get(tb, p.base+m[1], enc)
			}
		}
	}
	if len(seen) == 0 {
		tb.Error("the pages name no assets")
	}
}

// get fetches url with an Accept-Encoding and returns the body as text.
func get(tb testing.TB, url, encoding string) string {
	tb.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if encoding != "" {
		req.Header.Set("Accept-Encoding", encoding)
	}
	resp, err := insecureClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		tb.Errorf("GET %s (%q): %s", url, encoding, resp.Status)
	}
	return string(b)
}
