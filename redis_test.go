package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"otslite/store/envelope"
	"otslite/store/resp"
)

// Replicas of the release binary on one Redis: each test starts a private
// redis-server (Debian's package; .ci/run installs it) on a free loopback
// port, with persistence off, and one or more otslite processes on it.

// redisProc is a private redis-server.
type redisProc struct {
	addr string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
}

// redisServer finds redis-server, or skips (fails under CI).
func redisServer(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatal("redis-server not found; .ci/run installs it (Debian package redis-server)")
		}
		tb.Skip("redis-server not found (Debian package redis-server)")
	}
	return path
}

// startRedis starts a redis-server on a free port; args replace the
// defaults (persistence off) where they name the same setting.
func startRedis(tb testing.TB, args ...string) *redisProc {
	tb.Helper()
	r := &redisProc{addr: freePort(tb)}
	_, port, _ := net.SplitHostPort(r.addr)
	r.args = []string{"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", tb.TempDir()}
	r.args = append(r.args, args...)
	r.start(tb)
	tb.Cleanup(func() { r.kill() })
	return r
}

func (r *redisProc) start(tb testing.TB) {
	tb.Helper()
	r.cmd = exec.Command(redisServer(tb), r.args...)
	r.done = make(chan struct{})
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(r.cmd, r.done)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", r.addr); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("redis-server did not start on %s", r.addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisProc) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Kill()
		<-r.done
	}
}

func (r *redisProc) url() string { return "redis://" + r.addr + "/0" }

// client is a connection for the test's own look into Redis.
func (r *redisProc) client(tb testing.TB) *resp.Client {
	tb.Helper()
	o, err := resp.ParseURL(r.url())
	if err != nil {
		tb.Fatal(err)
	}
	c := resp.New(o)
	tb.Cleanup(c.Close)
	return c
}

// keyFile writes a fresh process key, as openssl rand -hex 32 prints it.
func keyFile(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	path := filepath.Join(tb.TempDir(), "otslite.key")
	if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// startReplica runs the release binary on r with the key file, env added
// to its environment, and args.
func startReplica(tb testing.TB, env []string, args ...string) *binProc {
	tb.Helper()
	addr := freePort(tb)
	cmd := exec.Command(scanBinary(tb), append([]string{"--listen", addr, "--rate-limit", "0"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	p := &binProc{cmd: cmd, stderr: &syncBuffer{}, addr: addr, base: "http://" + addr, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		cmd.Wait()
		p.at = time.Now()
		p.code = cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(p.stderr.String(), "open http"); {
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

// replicas starts n replicas on r sharing one key file.
func replicas(tb testing.TB, r *redisProc, n int, args ...string) []*binProc {
	tb.Helper()
	key := keyFile(tb)
	out := make([]*binProc, n)
	for i := range out {
		out[i] = startReplica(tb, nil, append([]string{"--redis", r.url(), "--key-file", key}, args...)...)
	}
	return out
}

func TestRedisReplicas(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	reps := replicas(t, r, 2)
	a, b := reps[0], reps[1]

	t.Run("CreateOnAReadOnB", func(t *testing.T) {
		m := a.mustShare(t, url.Values{"secret": {"made on A"}, "ttl": {"600"}})
		sk, rk := m["secret_key"].(string), m["metadata_key"].(string)
		if _, _, rc := b.do(t, "GET", "/api/v1/receipt/"+rk, nil, nil); rc["state"] != "new" || rc["secret_key"] != sk {
			t.Fatalf("B's receipt of A's secret: %v", rc)
		}
		status, _, v := b.do(t, "POST", "/api/v1/secret/"+sk, url.Values{}, nil)
		if status != 200 || v["value"] != "made on A" {
			t.Fatalf("B revealed %d %v", status, v)
		}
		if status, intended, _ := a.do(t, "POST", "/api/v1/secret/"+sk, url.Values{}, nil); status != 404 || intended != "404" {
			t.Errorf("A after B revealed: %d (intended %s)", status, intended)
		}
		if _, _, rc := a.do(t, "GET", "/api/v1/receipt/"+rk, nil, nil); rc["state"] != "received" {
			t.Errorf("A's receipt after B revealed: %v", rc)
		}
		// Burning through B what A made.
		m = a.mustShare(t, url.Values{"secret": {"burn me"}})
		if status, _, v := b.do(t, "POST", "/api/v1/receipt/"+m["metadata_key"].(string)+"/burn", url.Values{}, nil); status != 200 || v["state"] == nil {
			t.Fatalf("burn on B: %d %v", status, v)
		}
		if status, _, _ := a.do(t, "POST", "/api/v1/secret/"+m["secret_key"].(string), url.Values{}, nil); status != 404 {
			t.Errorf("A revealed a secret burned on B: %d", status)
		}
	})

	t.Run("OneWinnerOf200", func(t *testing.T) {
		for _, pass := range []string{"", "correct horse"} {
			form := url.Values{"secret": {"only once"}}
			if pass != "" {
				form.Set("passphrase", pass)
			}
			m := a.mustShare(t, form)
			sk := m["secret_key"].(string)
			var wins, unknown atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 200 {
				p := reps[i%2]
				wg.Go(func() {
					<-start
					body := url.Values{}
					if pass != "" {
						body.Set("passphrase", pass)
					}
					resp, err := http.Post(p.base+"/api/v1/secret/"+sk, "application/x-www-form-urlencoded", strings.NewReader(body.Encode()))
					if err != nil {
						t.Errorf("reveal: %v", err)
						return
					}
					defer resp.Body.Close()
					raw := make([]byte, 4096)
					n, _ := resp.Body.Read(raw)
					switch intended := resp.Header.Get("X-OTS-Intended-Status"); {
					case resp.StatusCode == 200 && strings.Contains(string(raw[:n]), `"value":"only once"`):
						wins.Add(1)
					case intended == "404":
						unknown.Add(1)
					case intended == "503":
						// Busy checking passphrases: a miss, as in memory.
						unknown.Add(1)
					default:
						t.Errorf("reveal: %d (intended %s) %s", resp.StatusCode, intended, raw[:n])
					}
				})
			}
			close(start)
			wg.Wait()
			if wins.Load() != 1 || unknown.Load() != 199 {
				t.Errorf("passphrase %q: %d reveals over A and B got the secret, %d did not; want exactly 1", pass, wins.Load(), unknown.Load())
			}
		}
	})

	t.Run("BeyondAcrossReplicas", func(t *testing.T) {
		// post sends a JSON body to p and returns the status and answer.
		post := func(p *binProc, path string, fields any) (int, map[string]any) {
			body, _ := json.Marshal(fields)
			resp, err := http.Post(p.base+path, "application/json", strings.NewReader(string(body)))
			if err != nil {
				t.Error(err)
				return 0, nil
			}
			defer resp.Body.Close()
			var m map[string]any
			json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != 200 {
				intended, _ := strconv.Atoi(resp.Header.Get("X-OTS-Intended-Status"))
				return intended, m
			}
			return 200, m
		}
		// Three links of one group, made on A: each opened (or burned
		// through the group) by 20 callers at once over A and B, once.
		var rks, sks, proofs []string
		for range 3 {
			proof := proofOf(t)
			status, m := post(a, "/api/v1/share", map[string]string{"secret": "otsz1:link", "passphrase": proof})
			if status != 200 {
				t.Fatalf("share: %d %v", status, m)
			}
			rks, sks, proofs = append(rks, m["metadata_key"].(string)), append(sks, m["secret_key"].(string)), append(proofs, proof)
		}
		status, g := post(a, "/api/otslite/group", map[string]any{"receipts": rks})
		if status != 200 {
			t.Fatalf("group: %d %v", status, g)
		}
		gk := g["receipt_key"].(string)
		for i := range sks {
			var wins atomic.Int32
			var wg sync.WaitGroup
			for j := range 20 {
				wg.Go(func() {
					p := reps[j%2]
					path, body := "/api/v1/secret/"+sks[i], any(map[string]string{"passphrase": proofs[i]})
					if j%4 == 3 {
						path, body = "/api/otslite/group/"+gk+"/burn/"+strconv.Itoa(i+1), nil
					}
					switch status, m := post(p, path, body); status {
					case 200:
						wins.Add(1)
					case 404:
					default:
						t.Errorf("link %d: %d %v", i+1, status, m)
					}
				})
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Errorf("link %d opened or burned %d times over A and B", i+1, wins.Load())
			}
		}
		// One more look on B after link 1 is gone is late, and A's group
		// view counts it. (The losers above need not be: one that found the
		// secret still there, waiting for the winner's check, came in time.)
		lateOn := func(p *binProc) float64 {
			_, _, gv := p.do(t, "GET", "/api/otslite/group/"+gk, nil, nil)
			links, _ := gv["links"].([]any)
			if len(links) != 3 {
				t.Fatalf("group view: %v", gv)
			}
			n, _ := links[0].(map[string]any)["late_total"].(float64)
			return n
		}
		before := lateOn(b)
		b.do(t, "GET", "/api/otslite/secret/"+sks[0], nil, nil)
		if after := lateOn(a); after != before+1 {
			t.Errorf("late attempts on link 1: %v, then %v after one more look", before, after)
		}

		// A request made on B, answered by 20 at once over A and B: one
		// answer is taken, read on A.
		status, r := post(b, "/api/otslite/request", map[string]string{"ttl": "600"})
		if status != 200 {
			t.Fatalf("request: %d %v", status, r)
		}
		ask, inbox := r["request_key"].(string), r["requester_key"].(string)
		priv, pub := make([]byte, envelope.PrivateKeyLen), make([]byte, envelope.PublicKeyLen)
		if err := envelope.NewRequestKeys(priv, pub, rand.Reader); err != nil {
			t.Fatal(err)
		}
		var taken, told atomic.Int32
		var answerProof atomic.Value
		var wg sync.WaitGroup
		for j := range 20 {
			wg.Go(func() {
				proof := proofOf(t)
				switch status, m := post(reps[j%2], "/api/otslite/request/"+ask+"/answer", map[string]string{
					"secret": "otsz1:answer", "passphrase": proof, "public": base64.RawURLEncoding.EncodeToString(pub)}); status {
				case 200:
					taken.Add(1)
					answerProof.Store(proof)
				case 409:
					told.Add(1)
				default:
					t.Errorf("answer: %d %v", status, m)
				}
			})
		}
		wg.Wait()
		if taken.Load() != 1 || told.Load() != 19 {
			t.Fatalf("%d answers taken over A and B, %d told it was answered", taken.Load(), told.Load())
		}
		if _, _, in := a.do(t, "GET", "/api/otslite/inbox/"+inbox, nil, nil); in["state"] != "answered" {
			t.Errorf("A's inbox: %v", in)
		}
		if status, v := post(a, "/api/otslite/inbox/"+inbox+"/reveal", map[string]string{"passphrase": answerProof.Load().(string)}); status != 200 || v["value"] != "otsz1:answer" {
			t.Errorf("the answer on A: %d %v", status, v)
		}
		if _, _, in := b.do(t, "GET", "/api/otslite/inbox/"+inbox, nil, nil); in["state"] != "read" {
			t.Errorf("B's inbox after reading: %v", in)
		}
	})

	t.Run("LockoutAcrossReplicas", func(t *testing.T) {
		m := a.mustShare(t, url.Values{"secret": {"guarded"}, "passphrase": {"right one"}})
		sk, rk := m["secret_key"].(string), m["metadata_key"].(string)
		// Five wrong guesses from one address, spread over A and B.
		for i := range 5 {
			status, intended, v := reps[i%2].do(t, "POST", "/api/v1/secret/"+sk, url.Values{"passphrase": {"wrong " + strconv.Itoa(i)}}, nil)
			if status != 404 || intended != "404" {
				t.Fatalf("wrong guess %d: %d (intended %s) %v", i+1, status, intended, v)
			}
		}
		// The lock holds on both, even for the right passphrase.
		for _, p := range reps {
			if status, intended, _ := p.do(t, "POST", "/api/v1/secret/"+sk, url.Values{"passphrase": {"right one"}}, nil); intended != "429" {
				t.Errorf("right passphrase during the lockout: %d (intended %s)", status, intended)
			}
		}
		if _, _, rc := b.do(t, "GET", "/api/otslite/receipt/"+rk, nil, nil); rc["failed_attempts"] != float64(5) {
			t.Errorf("B's receipt view: %v, want 5 failed attempts", rc)
		}
		if _, _, w := a.do(t, "GET", "/api/otslite/secret/"+sk, nil, nil); w["tries_left"] != float64(0) || w["locked_until"] == float64(0) {
			t.Errorf("A's view of the lock: %v", w)
		}
	})
}

func TestRedisReplicaKilled(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	reps := replicas(t, r, 2)
	a, b := reps[0], reps[1]
	type made struct{ secret, key string }
	var mu sync.Mutex
	var created []made
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				secret := fmt.Sprintf("from A, worker %d, number %d", w, i)
				resp, err := client.PostForm(a.base+"/api/v1/share", url.Values{"secret": {secret}})
				if err != nil {
					return // A is gone
				}
				var sk string
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					if _, after, ok := strings.Cut(sc.Text(), `"secret_key":"`); ok {
						sk, _, _ = strings.Cut(after, `"`)
					}
				}
				resp.Body.Close()
				if resp.StatusCode == 200 && sk != "" {
					mu.Lock()
					created = append(created, made{secret, sk})
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	close(stop)
	wg.Wait()
	if len(created) < 10 {
		t.Fatalf("A created only %d secrets before it was killed", len(created))
	}
	missing := 0
	for _, m := range created {
		status, _, v := b.do(t, "POST", "/api/v1/secret/"+m.key, url.Values{}, nil)
		if status != 200 || v["value"] != m.secret {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("B served %d of the %d secrets A created before kill -9; %d missing", len(created)-missing, len(created), missing)
	}
	t.Logf("A created %d secrets in 1 s before kill -9; B served every one", len(created))
}

func TestRedisRestart(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	a := replicas(t, r, 1)[0]
	before := a.mustShare(t, url.Values{"secret": {"before the restart"}})
	r.kill()
	// While Redis is away: a clear 503, for every request that needs it.
	for _, req := range []struct {
		method, path string
		form         url.Values
	}{
		{"POST", "/api/v1/share", url.Values{"secret": {"while away"}}},
		{"POST", "/api/v1/secret/" + before["secret_key"].(string), url.Values{}},
		{"GET", "/api/v1/receipt/" + before["metadata_key"].(string), nil},
		{"GET", "/api/otslite/secret/" + before["secret_key"].(string), nil},
	} {
		start := time.Now()
		status, intended, v := a.do(t, req.method, req.path, req.form, nil)
		if intended != "503" || !strings.Contains(fmt.Sprint(v["message"]), "unavailable") {
			t.Errorf("%s %s while Redis is away: %d (intended %s) %v", req.method, req.path, status, intended, v)
		}
		t.Logf("%s %s while Redis is away: answered in %v", req.method, req.path, time.Since(start).Round(time.Millisecond))
	}
	if status, _, _ := a.do(t, "GET", "/api/v1/status", nil, nil); status != 200 {
		t.Errorf("status while Redis is away: %d", status)
	}
	r.start(t)
	// Back: served again, without restarting otslite.
	var m map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; {
		status, _, v := a.do(t, "POST", "/api/v1/share", url.Values{"secret": {"after the restart"}}, nil)
		if status == 200 {
			m = v
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served again 10 s after Redis came back: %d %v", status, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, _, v := a.do(t, "POST", "/api/v1/secret/"+m["secret_key"].(string), url.Values{}, nil); status != 200 || v["value"] != "after the restart" {
		t.Errorf("reveal after the restart: %d %v", status, v)
	}
	// Redis kept nothing (no persistence): what waited is gone, cleanly.
	if status, intended, _ := a.do(t, "POST", "/api/v1/secret/"+before["secret_key"].(string), url.Values{}, nil); intended != "404" {
		t.Errorf("a secret from before the restart: %d (intended %s)", status, intended)
	}
	// The trail says Redis went away, that requests were refused for it,
	// and then that it came back (written within moments).
	away, back := `"event":"store","ref":"","ip":"","user":"","outcome":"unavailable"`, `"event":"store","ref":"","ip":"","user":"","outcome":"ok"`
	var log string
	for deadline := time.Now().Add(5 * time.Second); ; {
		log = a.stderr.String()
		if i := strings.Index(log, away); i >= 0 && strings.Contains(log[i:], back) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	refused := false
	for _, line := range strings.Split(log, "\n") {
		refused = refused || strings.Contains(line, `"event":"reveal"`) && strings.HasSuffix(line, `"outcome":"unavailable"}`)
	}
	i := strings.Index(log, away)
	if i < 0 || !strings.Contains(log[i:], back) || !refused {
		t.Errorf("the audit trail does not say Redis went away (%s), that a reveal was refused for it, and that it came back (%s):\n%s", away, back, log)
	}
	if !strings.Contains(log, "is unavailable") || !strings.Contains(log, "reachable again") {
		t.Errorf("the log does not say Redis went away and came back:\n%s", log)
	}
}

func TestRedisPersistenceCheck(t *testing.T) {
	t.Parallel()
	key := keyFile(t)
	start := func(t *testing.T, r *redisProc, extra ...string) (int, string) {
		args := append([]string{"--listen", freePort(t), "--redis", r.url(), "--key-file", key}, extra...)
		cmd := exec.Command(scanBinary(t), args...)
		var out syncBuffer
		cmd.Stderr = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case <-done:
				return cmd.ProcessState.ExitCode(), out.String()
			case <-deadline:
				cmd.Process.Kill()
				<-done
				t.Fatalf("neither served nor exited:\n%s", out.String())
			case <-time.After(20 * time.Millisecond):
			}
			if strings.Contains(out.String(), "open http") {
				cmd.Process.Signal(syscall.SIGTERM)
				<-done
				return -1, out.String() // it served
			}
		}
	}
	t.Run("RefusesSave", func(t *testing.T) {
		r := startRedis(t, "--save", "3600 1")
		code, log := start(t, r)
		if code != exitConfig || !strings.Contains(log, `redis-server --save "" --appendonly no`) || !strings.Contains(log, "saves to disk") {
			t.Errorf("a Redis with save on: exit %d:\n%s", code, log)
		}
	})
	t.Run("RefusesAppendOnly", func(t *testing.T) {
		r := startRedis(t, "--appendonly", "yes")
		code, log := start(t, r)
		if code != exitConfig || !strings.Contains(log, `redis-server --save "" --appendonly no`) || !strings.Contains(log, "appendonly yes") {
			t.Errorf("a Redis with appendonly on: exit %d:\n%s", code, log)
		}
	})
	t.Run("AllowedAndSaidSo", func(t *testing.T) {
		r := startRedis(t, "--save", "3600 1")
		code, log := start(t, r, "--redis-allow-persistence")
		if code != -1 || !strings.Contains(log, "WARNING: --redis-allow-persistence") {
			t.Errorf("--redis-allow-persistence: exit %d:\n%s", code, log)
		}
	})
	t.Run("WarnsWithoutConfig", func(t *testing.T) {
		r := startRedis(t, "--rename-command", "CONFIG", "")
		code, log := start(t, r)
		if code != -1 || !strings.Contains(log, "does not let otslite read its configuration") || !strings.Contains(log, `redis-server --save "" --appendonly no`) {
			t.Errorf("a Redis without CONFIG: exit %d:\n%s", code, log)
		}
	})
	t.Run("Off", func(t *testing.T) {
		r := startRedis(t)
		code, log := start(t, r)
		if code != -1 || strings.Contains(log, "WARNING") {
			t.Errorf("a Redis without persistence: exit %d:\n%s", code, log)
		}
	})
	t.Run("RefusesAnotherKey", func(t *testing.T) {
		r := startRedis(t)
		first := startReplica(t, nil, "--redis", r.url(), "--key-file", key)
		_ = first
		args := []string{"--listen", freePort(t), "--redis", r.url(), "--key-file", keyFile(t)}
		out, err := exec.Command(scanBinary(t), args...).CombinedOutput()
		if code := exitCode(err); code != exitConfig || !strings.Contains(string(out), "different process key") {
			t.Errorf("a replica with another key: exit %d:\n%s", code, out)
		}
	})
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -2
	}
	return 0
}

// The password of a Redis that asks for one comes from OTSLITE_REDIS or a
// file, and is refused on the command line.
func TestRedisPassword(t *testing.T) {
	t.Parallel()
	pw := "pw-" + hex.EncodeToString([]byte(time.Now().String()))[:16]
	r := startRedis(t, "--requirepass", pw)
	key := keyFile(t)
	withPass := "redis://:" + pw + "@" + r.addr + "/0"
	out, err := exec.Command(scanBinary(t), "--listen", freePort(t), "--redis", withPass, "--key-file", key).CombinedOutput()
	if code := exitCode(err); code != exitConfig || strings.Contains(string(out), pw) || !strings.Contains(string(out), "OTSLITE_REDIS") {
		t.Errorf("a password on the command line: exit %d:\n%s", code, out)
	}
	a := startReplica(t, []string{"OTSLITE_REDIS=" + withPass}, "--key-file", key)
	pwFile := filepath.Join(t.TempDir(), "redis.pw")
	os.WriteFile(pwFile, []byte(pw+"\n"), 0o600)
	b := startReplica(t, nil, "--redis", r.url(), "--redis-password-file", pwFile, "--key-file", key)
	m := a.mustShare(t, url.Values{"secret": {"behind a password"}})
	if status, _, v := b.do(t, "POST", "/api/v1/secret/"+m["secret_key"].(string), url.Values{}, nil); status != 200 || v["value"] != "behind a password" {
		t.Errorf("reveal through the replica with the password file: %d %v", status, v)
	}
	for _, p := range []*binProc{a, b} {
		if strings.Contains(p.stderr.String(), pw) {
			t.Errorf("the log shows the Redis password:\n%s", p.stderr)
		}
	}
	// A wrong password: a clear refusal at start.
	os.WriteFile(pwFile, []byte("not it\n"), 0o600)
	out, err = exec.Command(scanBinary(t), "--listen", freePort(t), "--redis", r.url(), "--redis-password-file", pwFile, "--key-file", key).CombinedOutput()
	if code := exitCode(err); code == 0 || !strings.Contains(string(out), "authentication refused") {
		t.Errorf("a wrong password: exit %d:\n%s", code, out)
	}
}

// rediss://: replicas reach Redis over TLS, verifying its certificate
// against the system's roots, which SSL_CERT_FILE extends; one that cannot
// verify it refuses to start.
func TestRedisTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caPEM, certPEM, keyPEM := testCertificates(t)
	files := map[string][]byte{"ca.pem": caPEM, "cert.pem": certPEM, "key.pem": keyPEM}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r := &redisProc{addr: freePort(t)}
	_, port, _ := net.SplitHostPort(r.addr)
	r.args = []string{"--bind", "127.0.0.1", "--port", "0", "--tls-port", port, "--save", "", "--appendonly", "no", "--dir", dir,
		"--tls-cert-file", filepath.Join(dir, "cert.pem"), "--tls-key-file", filepath.Join(dir, "key.pem"),
		"--tls-ca-cert-file", filepath.Join(dir, "ca.pem"), "--tls-auth-clients", "no"}
	r.start(t)
	t.Cleanup(r.kill)
	key := keyFile(t)
	tlsURL := "rediss://" + r.addr + "/0"
	env := []string{"SSL_CERT_FILE=" + filepath.Join(dir, "ca.pem")}
	a := startReplica(t, env, "--redis", tlsURL, "--key-file", key)
	b := startReplica(t, env, "--redis", tlsURL, "--key-file", key)
	m := a.mustShare(t, url.Values{"secret": {"over TLS"}})
	if status, _, v := b.do(t, "POST", "/api/v1/secret/"+m["secret_key"].(string), url.Values{}, nil); status != 200 || v["value"] != "over TLS" {
		t.Errorf("reveal on B over TLS: %d %v", status, v)
	}
	out, err := exec.Command(scanBinary(t), "--listen", freePort(t), "--redis", tlsURL, "--key-file", key).CombinedOutput()
	if code := exitCode(err); code == 0 || !strings.Contains(string(out), "certificate") {
		t.Errorf("a replica that cannot verify Redis's certificate: exit %d:\n%s", code, out)
	}
}

// testCertificates makes a CA and a certificate for 127.0.0.1 it signed.
func testCertificates(tb testing.TB) (caPEM, certPEM, keyPEM []byte) {
	tb.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otslite test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redis"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	caCert, _ := x509.ParseCertificate(caDER)
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// Ending a replica (here by a signal; the idle window, the lifetime,
// draining and the operator end it the same way) wipes that process and
// leaves the shared store as it was: the other replicas serve on.
func TestRedisReplicaEndKeepsSharedData(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	reps := replicas(t, r, 2)
	a, b := reps[0], reps[1]
	m := a.mustShare(t, url.Values{"secret": {"outlives its maker"}})
	a.cmd.Process.Signal(syscall.SIGTERM)
	if code := a.MustExit(t, 15*time.Second); code != 0 {
		t.Fatalf("A exited with %d:\n%s", code, a.stderr)
	}
	if !strings.Contains(a.stderr.String(), "1 left waiting in the shared store for the other replicas") {
		t.Errorf("A's summary does not say what it left in the shared store:\n%s", a.stderr)
	}
	if status, _, v := b.do(t, "POST", "/api/v1/secret/"+m["secret_key"].(string), url.Values{}, nil); status != 200 || v["value"] != "outlives its maker" {
		t.Errorf("B after A ended: %d %v", status, v)
	}
}

// What the handler keeps beside the store is shared too: the recent lists
// of a create token, the rate limits, and the operator's audit view.
func TestRedisSharedState(t *testing.T) {
	t.Parallel()
	r := startRedis(t)
	const token, admin = "alice:tok-0123456789abcdef", "shared-admin-token-0123"
	reps := replicas(t, r, 2, "--rate-limit", "4", "--create-token", token, "--admin-token", admin)
	a := reps[0]
	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(token))}
	var made []string
	for _, p := range reps {
		status, _, m := p.do(t, "POST", "/api/v1/share", url.Values{"secret": {"listed"}}, basic)
		if status != 200 {
			t.Fatalf("share as alice: %d %v", status, m)
		}
		made = append(made, m["metadata_key"].(string))
	}
	for _, p := range reps {
		req, _ := http.NewRequest("GET", p.base+"/api/v1/receipt/recent", nil)
		req.Header.Set("Authorization", basic["Authorization"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []map[string]any
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list) != 2 || list[0]["metadata_key"] != made[0] || list[1]["metadata_key"] != made[1] {
			t.Errorf("recent on %s: %v; want %v oldest first, as upstream lists them", p.addr, list, made)
		}
	}
	// Four reveals per address and window, counted over both replicas.
	for i := range 4 {
		if _, intended, _ := reps[i%2].do(t, "POST", "/api/v1/secret/"+strings.Repeat("x", 32), url.Values{}, nil); intended != "404" {
			t.Fatalf("reveal %d: intended %s", i+1, intended)
		}
	}
	for _, p := range reps {
		if _, intended, _ := p.do(t, "POST", "/api/v1/secret/"+strings.Repeat("x", 32), url.Values{}, nil); intended != "429" {
			t.Errorf("a fifth reveal on %s: intended %s, want 429", p.addr, intended)
		}
	}
	// The operator's view on A shows what happened on B.
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest("GET", a.base+"/api/otslite/audit", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var events []map[string]any
		json.NewDecoder(resp.Body).Decode(&events)
		resp.Body.Close()
		creates, limited := 0, 0
		for _, e := range events {
			switch {
			case e["event"] == "create" && e["user"] == "alice":
				creates++
			case e["outcome"] == "rate_limited":
				limited++
			}
		}
		if creates == 2 && limited >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A's audit view: %d creates by alice (one made on B), %d rate limits; want 2 and 1 or more: %v", creates, limited, events)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
