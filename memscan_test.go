package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The memory-residue test: run the real binary, send secrets through every
// path with unique markers, then read every readable mapping of the process
// and count each marker. A consumed secret must have left no copy anywhere;
// a waiting one no plaintext copy (it is sealed).

var (
	scanBinOnce sync.Once
	scanBin     string
	scanBinErr  error
)

// scanBinary builds the release binary once, as the Dockerfile does.
func scanBinary(tb testing.TB) string {
	tb.Helper()
	scanBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "otslite-scan")
		if err != nil {
			scanBinErr = err
			return
		}
		// Readable by every user: some tests run it as nobody.
		if err := os.Chmod(dir, 0o755); err != nil {
			scanBinErr = err
			return
		}
		scanBin = filepath.Join(dir, "otslite")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", scanBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			scanBinErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if scanBinErr != nil {
		tb.Fatal(scanBinErr)
	}
	return scanBin
}

func freePort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func marker(tb testing.TB, tag string) string {
	tb.Helper()
	b := make([]byte, 12)
	rand.Read(b)
	return "MRK" + tag + hex.EncodeToString(b)
}

// forms lists the encodings a marker may sit in: as sent in a form body, as
// sent in JSON, as a JSON response carries it, and base64.
func forms(m string) map[string][]byte {
	return map[string][]byte{
		"raw":    []byte(m),
		"url":    []byte(url.QueryEscape(m)),
		"json":   mustJSON(m),
		"base64": []byte(base64.StdEncoding.EncodeToString([]byte(m))),
	}
}

func mustJSON(s string) []byte {
	b, _ := json.Marshal(s)
	return bytes.Trim(b, `"`)
}

// scanMemory counts every needle in every readable mapping of pid.
func scanMemory(tb testing.TB, pid int, needles map[string][]byte) map[string]int {
	tb.Helper()
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		tb.Fatal(err)
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer mem.Close()
	counts := make(map[string]int, len(needles))
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[1][0] != 'r' {
			continue
		}
		if len(f) >= 6 && (f[5] == "[vvar]" || f[5] == "[vsyscall]" || f[5] == "[vvar_vclock]") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		buf := make([]byte, end-start)
		n, _ := mem.ReadAt(buf, int64(start))
		countIn(buf[:n], needles, counts)
	}
	return counts
}

// countIn adds to counts the occurrences of each needle in buf, scanning
// buf once per distinct 4-byte needle prefix.
func countIn(buf []byte, needles map[string][]byte, counts map[string]int) {
	byPrefix := map[string][]string{}
	for name, needle := range needles {
		byPrefix[string(needle[:4])] = append(byPrefix[string(needle[:4])], name)
	}
	for prefix, names := range byPrefix {
		for rest := buf; ; {
			i := bytes.Index(rest, []byte(prefix))
			if i < 0 {
				break
			}
			for _, name := range names {
				if bytes.HasPrefix(rest[i:], needles[name]) {
					counts[name]++
					if os.Getenv("SCAN_DEBUG") != "" && strings.HasSuffix(name, "/raw") {
						lo := max(0, i-120)
						fmt.Printf("HIT %s: %q\n", name, rest[lo:min(len(rest), i+60)])
					}
				}
			}
			rest = rest[i+1:]
		}
	}
}

type scanServer struct {
	cmd  *exec.Cmd
	base string
}

func startScanServer(tb testing.TB, args ...string) *scanServer {
	tb.Helper()
	addr := freePort(tb)
	cmd := exec.Command(scanBinary(tb), append([]string{"--listen", addr, "--rate-limit", "0"}, args...)...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s := &scanServer{cmd: cmd, base: "http://" + addr}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.base + "/api/v1/status")
		if err == nil {
			resp.Body.Close()
			return s
		}
		if time.Now().After(deadline) {
			tb.Fatalf("server did not start: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// call sends one request; fresh says whether to use a new connection.
func (s *scanServer) call(tb testing.TB, client *http.Client, path, contentType, body string) map[string]any {
	tb.Helper()
	req, _ := http.NewRequest("POST", s.base+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	json.Unmarshal(raw, &m)
	clear(raw)
	if resp.StatusCode != 200 {
		tb.Fatalf("POST %s: %d %v", path, resp.StatusCode, m)
	}
	return m
}

func TestMemoryResidue(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/PID/mem: Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("reading another process's memory needs root (CI runs as root)")
	}
	s := startScanServer(t)
	keepAlive := &http.Client{}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

	type secret struct {
		marker, path, fate string
	}
	var secrets []secret
	for _, c := range []struct {
		name   string
		client *http.Client
	}{{"fresh", fresh}, {"keepalive", keepAlive}} {
		for _, fate := range []string{"revealed", "burned", "waiting", "pass-revealed"} {
			m := marker(t, strings.ReplaceAll(fate, "-", "")+c.name)
			pass := marker(t, "pass"+c.name)
			form := url.Values{"secret": {m}}
			if fate == "pass-revealed" {
				form.Set("passphrase", pass)
			}
			ct, body := "application/x-www-form-urlencoded", form.Encode()
			if c.name == "keepalive" {
				ct = "application/json"
				js, _ := json.Marshal(map[string]string{"secret": m, "passphrase": form.Get("passphrase")})
				body = string(js)
			}
			r := s.call(t, c.client, "/api/v1/share", ct, body)
			sk, rk := r["secret_key"].(string), r["metadata_key"].(string)
			switch fate {
			case "revealed":
				s.call(t, c.client, "/api/v1/secret/"+sk, "", "")
			case "pass-revealed":
				s.call(t, c.client, "/api/v1/secret/"+sk, "application/x-www-form-urlencoded", "passphrase="+pass)
			case "burned":
				s.call(t, c.client, "/api/v1/receipt/"+rk+"/burn", "", "")
			}
			secrets = append(secrets, secret{m, c.name, fate})
			if fate == "pass-revealed" {
				secrets = append(secrets, secret{pass, c.name, "passphrase"})
			}
		}
		g := s.call(t, c.client, "/api/v1/generate", "", "")
		s.call(t, c.client, "/api/v1/secret/"+g["secret_key"].(string), "", "")
		secrets = append(secrets, secret{g["value"].(string), c.name, "generated-revealed"})
	}
	keepAlive.CloseIdleConnections()
	time.Sleep(2 * time.Second) // let connections close and the sweeper run

	needles := map[string][]byte{}
	for i, sec := range secrets {
		for form, b := range forms(sec.marker) {
			needles[fmt.Sprintf("%02d %s/%s/%s", i, sec.path, sec.fate, form)] = b
		}
	}
	counts := scanMemory(t, s.cmd.Process.Pid, needles)
	total := 0
	for _, name := range sortedKeys(counts) {
		if counts[name] > 0 {
			t.Errorf("%s: %d copies in memory", name, counts[name])
			total += counts[name]
		}
	}
	t.Logf("%d secrets × %d forms scanned; %d copies found", len(secrets), len(forms("x")), total)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if keys[j] < keys[i] {
				keys[i], keys[j] = keys[j], keys[i]
			}
		}
	}
	return keys
}
