package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startUnderMemlock runs the release binary under prlimit with
// RLIMIT_MEMLOCK set to limit (soft and hard), as an unprivileged user:
// as root, prlimit (which may raise the limit) runs setpriv, which runs the
// binary as nobody, since root's CAP_IPC_LOCK would lift any limit.
// Either the binary serves, and is then used and stopped, or it exits on
// its own: it reports which, with its exit code and stderr. auth is a
// Basic credential for the share, if one is needed.
func startUnderMemlock(t *testing.T, prlimit string, limit int64, auth string, args ...string) (served bool, code int, stderr string) {
	t.Helper()
	argv := []string{fmt.Sprintf("--memlock=%d:%d", limit, limit), "--"}
	if os.Geteuid() == 0 {
		argv = append(argv, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--")
	}
	argv = append(append(argv, scanBinary(t), "--listen", "127.0.0.1:0"), args...)
	cmd := exec.Command(prlimit, argv...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A binary that neither serves nor exits is a failure, not a hang.
	proc := cmd.Process
	watchdog := time.AfterFunc(30*time.Second, func() { proc.Kill() })
	defer watchdog.Stop()
	var out strings.Builder
	lines := bufio.NewScanner(pipe)
	base := ""
	for lines.Scan() {
		out.WriteString(lines.Text() + "\n")
		if m := regexp.MustCompile(`open (https?://[^ ]+)/ to share`).FindStringSubmatch(lines.Text()); m != nil {
			base = m[1]
			break
		}
	}
	if base != "" {
		served = true
		// Use it: a secret in and out through the locked arena.
		c := insecureClient // the TLS configuration's certificate is self-signed
		req, _ := http.NewRequest("POST", base+"/api/v1/share", strings.NewReader("secret=under+a+small+limit"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := c.Do(req)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("limit %d: share: %d %s", limit, resp.StatusCode, body)
			}
		} else {
			t.Errorf("limit %d: share: %v", limit, err)
		}
		cmd.Process.Signal(syscall.SIGTERM)
	}
	rest, _ := io.ReadAll(pipe)
	out.Write(rest)
	cmd.Wait()
	return served, cmd.ProcessState.ExitCode(), out.String()
}

// TestMemlockLimits starts the release binary under every locked-memory
// limit from 0 up, page by page, past the smallest it can run with: below
// that, it must exit 2 with one line that says why, never a memguard
// panic; from there on, it must serve. Then larger limits, and other
// configurations that lock more.
func TestMemlockLimits(t *testing.T) {
	t.Parallel()
	prlimit, err := exec.LookPath("prlimit")
	need(t, err, "prlimit (util-linux)")
	if os.Geteuid() == 0 {
		_, err := exec.LookPath("setpriv")
		need(t, err, "setpriv (util-linux)")
	}
	var hard syscall.Rlimit
	if err := syscall.Getrlimit(unix.RLIMIT_MEMLOCK, &hard); err != nil {
		t.Fatal(err)
	}
	type config struct {
		name   string
		auth   string
		args   []string
		limits []int64
	}
	var fine, coarse []int64
	for l := int64(0); l <= 512<<10; l += 4 << 10 {
		fine = append(fine, l)
	}
	fine = append(fine, 1, 4095, 65537, 1<<20, 8<<20, 64<<20)
	for l := int64(0); l <= 2<<20; l += 64 << 10 {
		coarse = append(coarse, l)
	}
	coarse = append(coarse, 16<<20, 64<<20)
	var large []int64
	for l := int64(0); l <= 8<<20; l += 256 << 10 {
		large = append(large, l)
	}
	for _, c := range []config{
		{"Default", "", nil, fine},
		{"LargeSecrets", "", []string{"--max-secret-size", "1MiB"}, large},
		{"Tokens", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:alice-token-0000000001")),
			[]string{"--create-token", "alice:alice-token-0000000001,bob:bob-token-000000000002"}, coarse},
		{"TLS", "", []string{"--tls-self-signed"}, coarse},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var limits []int64
			for _, l := range c.limits {
				// Raising the hard limit needs CAP_SYS_RESOURCE, which
				// containers often drop.
				if uint64(l) <= hard.Max || hard.Max == unix.RLIM_INFINITY {
					limits = append(limits, l)
				}
			}
			slices.Sort(limits)
			var lowestServed int64 = -1
			refused := 0
			for _, limit := range limits {
				served, code, stderr := startUnderMemlock(t, prlimit, limit, c.auth, c.args...)
				switch {
				case served:
					if lowestServed < 0 {
						lowestServed = limit
					}
					if code != exitOK || !strings.Contains(stderr, "session over (signal)") {
						t.Errorf("limit %d: served, then exit %d:\n%s", limit, code, stderr)
					}
				case lowestServed >= 0:
					// More locked memory is never worse.
					t.Errorf("limit %d: refused, though %d served:\n%s", limit, lowestServed, stderr)
				case code != exitConfig || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "locked-memory limit"):
					t.Errorf("limit %d: exit %d, want 2 and one line about the locked-memory limit:\n%s", limit, code, stderr)
				default:
					refused++
				}
				if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
					t.Errorf("limit %d: a panic:\n%s", limit, stderr)
				}
			}
			t.Logf("%s: %d limits refused cleanly; served from %d bytes", c.name, refused, lowestServed)
			if lowestServed < 0 {
				t.Errorf("%s: served under none of the limits", c.name)
			}
		})
	}
}
