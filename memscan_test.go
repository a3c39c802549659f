package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOEXPERIMENT=runtimesecret")
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
	counts, err := scanMemoryOf(pid, needles)
	if err != nil {
		tb.Fatal(err)
	}
	return counts
}

// scanMemoryOf is scanMemory for a process that may be gone (its error
// then says so, with os.ErrNotExist).
func scanMemoryOf(pid int, needles map[string][]byte) (map[string]int, error) {
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	mem, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		return nil, err
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
	return counts, nil
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
					if os.Getenv("SCAN_DEBUG") != "" {
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
	return startScanServerOn(tb, freePort(tb), args...)
}

// startScanServerOn starts the release binary listening on addr.
func startScanServerOn(tb testing.TB, addr string, args ...string) *scanServer {
	tb.Helper()
	cmd := exec.Command(scanBinary(tb), append([]string{"--listen", addr, "--rate-limit", "0"}, args...)...)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	s := &scanServer{cmd: cmd, base: "http://" + addr}
	probe := http.DefaultClient
	if slices.Contains(args, "--tls-self-signed") || slices.Contains(args, "--tls-cert") {
		s.base = "https://" + addr
		probe = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // its own self-signed server
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := probe.Get(s.base + "/api/v1/status")
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

// planted is something sent through the server whose copies are counted.
type planted struct {
	path, fate string // how it went in, what became of it
	core       string // its unique random part, found in any encoding
	full       string // all of it, as sent or revealed
}

// markerFull returns a marker with characters that every encoding changes
// (quote, backslash, newline, non-ASCII, form delimiters) around its
// random core.
func markerFull(tb testing.TB, tag string) (core, full string) {
	core = marker(tb, tag)
	return core, core + "\"\\\né/&+= end"
}

// residues counts every planted item in pid's memory, in its core and its
// encoded forms, and returns the counts by needle name and how many
// needles were looked for. control is a string the process surely holds:
// finding no copy of it means the scan itself is broken.
func residues(tb testing.TB, pid int, items []planted, control string) (map[string]int, int) {
	tb.Helper()
	needles := map[string][]byte{"control": []byte(control)}
	for i, it := range items {
		prefix := fmt.Sprintf("%02d %s/%s/", i, it.path, it.fate)
		needles[prefix+"core"] = []byte(it.core)
		if it.full != it.core {
			for form, b := range forms(it.full) {
				needles[prefix+form] = b
			}
		}
	}
	counts := scanMemory(tb, pid, needles)
	if counts["control"] == 0 {
		tb.Fatalf("the scan found no copy of %q, which the process holds: it does not work", control)
	}
	delete(counts, "control")
	return counts, len(needles) - 1
}

// TestMemoryResidue plants secrets through every v1 path (form and JSON
// bodies, fresh and kept-alive connections, passphrases right and wrong,
// generated passwords), lets each be revealed, burned, expired or left
// waiting, and then reads the whole memory of the server: no copy of any
// of them may be found, in any encoding — not after idle time, not after
// garbage collections, not just before the process exits. Waiting secrets
// are sealed, so their plaintext is absent too.
func TestMemoryResidue(t *testing.T) {
	t.Parallel()
	needRoot(t, "reading another process's memory")
	t.Run("Complete", func(t *testing.T) { t.Parallel(); testResidueComplete(t) })
	t.Run("Interrupted", func(t *testing.T) { t.Parallel(); testResidueInterrupted(t) })
	t.Run("TLS", func(t *testing.T) { t.Parallel(); testResidueTLS(t) })
	t.Run("Beyond", func(t *testing.T) { t.Parallel(); testResidueBeyond(t) })
}

// testResidueComplete covers the requests that complete.
func testResidueComplete(t *testing.T) {
	s := startScanServer(t)
	keepAlive := &http.Client{}
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var items []planted

	type path struct {
		name   string
		client *http.Client
		enc    string // how the fields travel: form, json, query (of a POST) or multipart
		pass   bool
	}
	paths := []path{
		{"form-fresh", fresh, "form", false},
		{"json-keepalive", keepAlive, "json", false},
		{"pass-form", keepAlive, "form", true},
		{"pass-json", fresh, "json", true},
		{"pass-query", keepAlive, "query", true},
		{"pass-multipart", fresh, "multipart", true},
	}
	// encode puts fields where p sends them: it returns the target (with
	// the query), the Content-Type and the body.
	encode := func(p path, target string, fields map[string]string) (string, string, string) {
		v := url.Values{}
		for k, f := range fields {
			v.Set(k, f)
		}
		switch p.enc {
		case "json":
			b, _ := json.Marshal(fields)
			return target, "application/json", string(b)
		case "query":
			return target + "?" + v.Encode(), "", ""
		case "multipart":
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			for k, f := range fields {
				w.WriteField(k, f)
			}
			w.Close()
			return target, w.FormDataContentType(), b.String()
		}
		return target, "application/x-www-form-urlencoded", v.Encode()
	}
	create := func(p path, fate, ttl string) (secretKey, receiptKey, pass string) {
		core, full := markerFull(t, fate)
		fields := map[string]string{"secret": full, "ttl": ttl}
		if p.pass {
			pc, pf := markerFull(t, "pass")
			pass = pf
			fields["passphrase"] = pf
			items = append(items, planted{p.name, fate + "-passphrase", pc, pf})
		}
		target, ct, body := encode(p, "/api/v1/share", fields)
		r := s.call(t, p.client, target, ct, body)
		items = append(items, planted{p.name, fate, core, full})
		return r["secret_key"].(string), r["metadata_key"].(string), pass
	}
	generate := func(client *http.Client, fate, ttl string) (string, string) {
		r := s.call(t, client, "/api/v1/generate", "application/x-www-form-urlencoded", "length=40&ttl="+ttl)
		v := r["value"].(string)
		items = append(items, planted{"generate", fate, v, v})
		return r["secret_key"].(string), r["metadata_key"].(string)
	}

	// First the secrets that will expire: 60 s is the shortest ttl.
	expireAt := time.Now().Add(time.Minute)
	for _, p := range paths {
		create(p, "expired", "60")
	}
	generate(fresh, "expired", "60")

	for _, p := range paths {
		sk, _, pass := create(p, "revealed", "600")
		if p.pass {
			wc, wf := markerFull(t, "wrongpass")
			items = append(items, planted{p.name, "wrong-passphrase", wc, wf})
			target, ct, body := encode(p, "/api/v1/secret/"+sk, map[string]string{"passphrase": wf})
			req, _ := http.NewRequest("POST", s.base+target, strings.NewReader(body))
			req.Header.Set("Content-Type", ct)
			if resp, err := p.client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		target, ct, body := encode(p, "/api/v1/secret/"+sk, map[string]string{"passphrase": pass})
		v := s.call(t, p.client, target, ct, body)
		if v["value"] != items[len(items)-1-btoi(p.pass)].full {
			t.Errorf("%s: revealed value differs from what was sent", p.name)
		}
		_, rk, pass := create(p, "burned", "600")
		target, ct, body = encode(p, "/api/v1/receipt/"+rk+"/burn", map[string]string{"passphrase": pass})
		s.call(t, p.client, target, ct, body)
		create(p, "waiting", "600")
	}
	// Proofs of the zero-knowledge envelope: neither the wire form nor
	// its decoded parts stay, not even for a waiting secret (the store
	// keeps keyed hashes of them).
	for _, fate := range []string{"revealed", "burned", "waiting"} {
		newProof := func(tag string) (wire string, kp, pp []byte) {
			b := make([]byte, 64)
			rand.Read(b)
			kp, pp = b[:32], b[32:]
			wire = "zk1." + base64.RawURLEncoding.EncodeToString(kp) + "." + base64.RawURLEncoding.EncodeToString(pp)
			items = append(items, planted{"proof", tag + "-wire", wire, wire},
				planted{"proof", tag + "-kp", string(kp), string(kp)}, planted{"proof", tag + "-pp", string(pp), string(pp)})
			return wire, kp, pp
		}
		wire, _, _ := newProof(fate)
		core, full := markerFull(t, fate)
		items = append(items, planted{"proof", fate, core, full})
		r := s.call(t, keepAlive, "/api/v1/share", "application/x-www-form-urlencoded", url.Values{"secret": {full}, "passphrase": {wire}}.Encode())
		sk, rk := r["secret_key"].(string), r["metadata_key"].(string)
		switch fate {
		case "revealed":
			wrong, _, _ := newProof("wrong-pp")
			body := url.Values{"passphrase": {wire[:48] + wrong[48:]}}.Encode()
			req, _ := http.NewRequest("POST", s.base+"/api/v1/secret/"+sk, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if resp, err := fresh.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if v := s.call(t, fresh, "/api/v1/secret/"+sk, "application/json", `{"passphrase":"`+wire+`"}`); v["value"] != full {
				t.Errorf("proof: revealed value differs from what was sent")
			}
		case "burned":
			s.call(t, keepAlive, "/api/v1/receipt/"+rk+"/burn", "application/x-www-form-urlencoded", url.Values{"passphrase": {wire}}.Encode())
		}
	}
	for _, c := range []*http.Client{fresh, keepAlive} {
		sk, _ := generate(c, "revealed", "600")
		s.call(t, c, "/api/v1/secret/"+sk, "", "")
		_, rk := generate(c, "burned", "600")
		s.call(t, c, "/api/v1/receipt/"+rk+"/burn", "", "")
		generate(c, "waiting", "600")
	}

	// The v2 API: nested fields in, the value out in a record.
	for _, c := range []*http.Client{fresh, keepAlive} {
		core, full := markerFull(t, "v2")
		pc, pf := markerFull(t, "v2pass")
		items = append(items, planted{"v2", "revealed", core, full}, planted{"v2", "revealed-passphrase", pc, pf})
		b, _ := json.Marshal(map[string]any{"secret": map[string]any{"secret": full, "passphrase": pf, "ttl": 600}})
		r := s.call(t, c, "/api/v2/secret/conceal", "application/json", string(b))
		sk := r["record"].(map[string]any)["secret"].(map[string]any)["identifier"].(string)
		b, _ = json.Marshal(map[string]any{"passphrase": pf, "continue": true})
		v := s.call(t, c, "/api/v2/secret/"+sk+"/reveal", "application/json", string(b))
		if v["record"].(map[string]any)["secret_value"] != full {
			t.Errorf("v2: revealed value differs from what was sent")
		}
	}

	// Credentials sent with requests (refused or not) leave no copy.
	for _, c := range []*http.Client{fresh, keepAlive} {
		for _, path := range []string{"/api/v1/status", "/api/v1/authcheck", "/api/otslite/end"} {
			core := marker(t, "token")
			basic := "user:" + core
			items = append(items, planted{"credential", "basic", core, basic})
			bearer := marker(t, "bearer")
			items = append(items, planted{"credential", "bearer", bearer, bearer})
			for _, auth := range []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(basic)), "Bearer " + bearer} {
				method := "GET"
				if strings.HasSuffix(path, "/end") {
					method = "POST"
				}
				req, _ := http.NewRequest(method, s.base+path, nil)
				req.Header.Set("Authorization", auth)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}

	// Link keys of waiting secrets go through request paths (receipt reads,
	// the page's peek) and responses; none may stay behind, or a memory
	// image would open the secrets they name. This runs right before each
	// scan, so that nothing later overwrites what it leaves.
	touchKeys := func(stage string) {
		for _, c := range []*http.Client{fresh, keepAlive} {
			r := s.call(t, c, "/api/v1/share", "application/x-www-form-urlencoded", "secret=keys+test")
			sk, rk := r["secret_key"].(string), r["metadata_key"].(string)
			items = append(items, planted{"keys-" + stage, "waiting-secret-key", sk, sk}, planted{"keys-" + stage, "waiting-receipt-key", rk, rk})
			for _, target := range []string{"/api/v1/receipt/" + rk, "/api/otslite/secret/" + sk, "/secret/" + sk, "/receipt/" + rk} {
				resp, err := c.Get(s.base + target)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}

	// Idle until the expired ones are gone (the sweeper runs every second).
	time.Sleep(time.Until(expireAt) + 2*time.Second)
	touchKeys("idle")
	keepAlive.CloseIdleConnections()
	time.Sleep(500 * time.Millisecond)
	pid := s.cmd.Process.Pid
	control := strings.TrimPrefix(s.base, "http://") + "/receipt/" // the public URL
	first, n1 := residues(t, pid, items, control)

	// Garbage collections drop pooled buffers without zeroing them: force
	// some (each argon2id hash allocates 19 MiB) and look again.
	gc := paths[2]
	for range 4 {
		create(gc, "waiting-gc", "600")
	}
	touchKeys("gc")
	keepAlive.CloseIdleConnections()
	time.Sleep(time.Second)
	second, n2 := residues(t, pid, items, control)

	for _, scan := range []struct {
		name    string
		counts  map[string]int
		needles int
	}{{"after idle", first, n1}, {"after GC", second, n2}} {
		byPath := map[string]int{}
		for _, name := range sortedKeys(scan.counts) {
			if n := scan.counts[name]; n > 0 {
				t.Errorf("%s: %s: %d copies in memory", scan.name, name, n)
				_, rest, _ := strings.Cut(name, " ")
				byPath[rest[:strings.LastIndex(rest, "/")]] += n
			}
		}
		t.Logf("%s: %d items planted, %d needles scanned, %d copies found %v", scan.name, len(items), scan.needles, sum(scan.counts), byPath)
	}

	// The scan above was the last look before the end: the process now
	// ends as it should.
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("no exit after SIGTERM")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
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
