package main

// The client commands as users run them: the release binary, with real
// terminals, in Chromium beside the web UI, and with its memory read
// after it is done with the secret.

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// cliProc is the release binary running a client command.
type cliProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{} // closed when it has exited
	code           int
	at             time.Time // when it exited

	// With tracing: the process stops on its way out, after its last
	// instruction of its own and before the kernel takes its memory.
	atExit chan int      // receives the pid when it is stopped there
	resume chan struct{} // lets it go on
	execs  int           // re-executions seen before that stop
}

// binOpts is how to start it.
type binOpts struct {
	stdin io.Reader
	tty   *os.File // the controlling terminal (a pty slave), for prompts
	trace bool
}

// startCLIBinary runs the release binary with args.
func startCLIBinary(tb testing.TB, o binOpts, args ...string) *cliProc {
	tb.Helper()
	p := &cliProc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(scanBinary(tb), args...)
	p.cmd.Stdin = o.stdin
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	attr := &syscall.SysProcAttr{}
	if o.tty != nil {
		// A session of its own with the terminal as its controlling one,
		// as a shell would start it.
		p.cmd.ExtraFiles = []*os.File{o.tty}
		attr.Setsid, attr.Setctty, attr.Ctty = true, true, 3
	}
	p.cmd.SysProcAttr = attr
	if !o.trace {
		if err := p.cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		go func() {
			p.cmd.Wait()
			p.at = time.Now()
			p.code = p.cmd.ProcessState.ExitCode()
			close(p.exited)
		}()
	} else {
		p.atExit, p.resume = make(chan int, 1), make(chan struct{})
		attr.Ptrace = true
		started := make(chan error, 1)
		go p.trace(started)
		if err := <-started; err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		p.cmd.Process.Kill()
		select {
		case p.resume <- struct{}{}:
		default:
		}
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
		}
	})
	return p
}

// trace starts the process traced and follows it until it exits: it
// passes every signal on, and stops it once at PTRACE_EVENT_EXIT. All
// ptrace calls come from one locked OS thread, the tracer.
func (p *cliProc) trace(started chan<- error) {
	runtime.LockOSThread() // for good: the thread ends with this goroutine
	defer close(p.exited)
	if err := p.cmd.Start(); err != nil {
		started <- err
		return
	}
	pid := p.cmd.Process.Pid
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() {
		started <- fmt.Errorf("no stop at exec: %v %v", err, ws)
		return
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACEEXIT|unix.PTRACE_O_TRACEEXEC); err != nil {
		started <- err
		return
	}
	started <- nil
	sig := 0
	for {
		if err := unix.PtraceCont(pid, sig); err != nil {
			p.code = -1
			return
		}
		sig = 0
		if _, err := unix.Wait4(pid, &ws, unix.WALL, nil); err != nil {
			p.code = -1
			return
		}
		switch {
		case ws.Exited():
			p.code, p.at = ws.ExitStatus(), time.Now()
			return
		case ws.Signaled():
			p.code, p.at = -int(ws.Signal()), time.Now()
			return
		case ws.Stopped() && ws.TrapCause() == unix.PTRACE_EVENT_EXIT:
			p.at = time.Now()
			p.atExit <- pid
			<-p.resume
		case ws.Stopped() && ws.TrapCause() == unix.PTRACE_EVENT_EXEC:
			// it re-executes itself once (preempt.go)
			p.execs++
		case ws.Stopped() && ws.StopSignal() != syscall.SIGTRAP:
			sig = int(ws.StopSignal())
		}
	}
}

// stoppedAtExit waits until a traced process stops on its way out.
func (p *cliProc) stoppedAtExit(tb testing.TB) int {
	tb.Helper()
	select {
	case pid := <-p.atExit:
		return pid
	case <-time.After(90 * time.Second):
		tb.Fatalf("the command did not end; stderr:\n%s", p.stderr)
		return 0
	}
}

// wait lets a traced process go on, and returns the exit code.
func (p *cliProc) wait(tb testing.TB) int {
	tb.Helper()
	if p.resume != nil {
		select {
		case p.resume <- struct{}{}:
		case <-p.exited:
		}
	}
	select {
	case <-p.exited:
		return p.code
	case <-time.After(90 * time.Second):
		tb.Fatalf("the command did not end; stderr:\n%s", p.stderr)
		return -1
	}
}

// firstLine waits for the first line of stdout.
func (p *cliProc) firstLine(tb testing.TB) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if out := p.stdout.String(); strings.Contains(out, "\n") {
			return strings.SplitN(out, "\n", 2)[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("no line on stdout; stderr:\n%s", p.stderr)
	return ""
}

// linkNeedles are the forms of a link's key in memory: the fragment, the
// key it encodes, and the secret key.
func linkNeedles(tb testing.TB, link string) map[string][]byte {
	tb.Helper()
	m := regexp.MustCompile(`/secret/([0-9a-z]+)#(1[np]([A-Za-z0-9_-]{43}))$`).FindStringSubmatch(link)
	if m == nil {
		tb.Fatalf("not a zero-knowledge link: %q", link)
	}
	k, err := base64.RawURLEncoding.DecodeString(m[3])
	if err != nil {
		tb.Fatal(err)
	}
	return map[string][]byte{"fragment": []byte(m[3]), "link key": k}
}

// scanProcess counts needles in pid's memory, failing when the control
// (something it surely holds) is not found.
func scanProcess(tb testing.TB, pid int, needles map[string][]byte, control string) map[string]int {
	tb.Helper()
	all := map[string][]byte{"control": []byte(control)}
	for k, v := range needles {
		all[k] = v
	}
	counts := scanMemory(tb, pid, all)
	if counts["control"] == 0 {
		tb.Fatalf("the scan found no copy of %q, which the process holds: it does not work", control)
	}
	delete(counts, "control")
	return counts
}

// TestCLIMemoryResidue: send and get, the release binary, a secret and a
// passphrase (typed decomposed, so it goes through the normalizer) with
// unique markers. Each process is stopped on its way out, after its last
// instruction of its own, and its whole memory read: no copy of the
// secret or the passphrase may be there, in any encoding; nor of the
// link's key. send is also read while it waits for the recipient, after
// sealing: the plaintext is gone by then.
func TestCLIMemoryResidue(t *testing.T) {
	needRoot(t, "reading another process's memory")
	master, slave := MustOpenPTY(t)
	core, secret := markerFull(t, "secret")
	passCore := marker(t, "pass")
	typed := passCore + "a\u0308" // NFD; the envelope hashes "…ä"

	needles := map[string][]byte{}
	for form, b := range forms(secret) {
		needles["secret/"+form] = b
	}
	needles["secret/core"] = []byte(core)
	needles["passphrase/core"] = []byte(passCore)

	typeLines(t, master, slave, typed, typed)
	send := startCLIBinary(t, binOpts{stdin: strings.NewReader(secret), tty: slave, trace: true},
		"send", "--passphrase", "--qr")
	link := send.firstLine(t)
	for k, v := range linkNeedles(t, link) {
		needles[k] = v
	}
	host := regexp.MustCompile(`//([^/]+)/`).FindStringSubmatch(link)[1]

	// While it waits: sealed and wiped, only the envelope remains (in its
	// server's store, sealed again there).
	waiting := scanProcess(t, send.cmd.Process.Pid, needles, host)

	typeLines(t, master, slave, typed)
	get := startCLIBinary(t, binOpts{tty: slave, trace: true}, "get", link)
	getPid := get.stoppedAtExit(t)
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", getPid))
	gotten := scanProcess(t, getPid, needles, host)
	if code := get.wait(t); code != exitOK {
		t.Fatalf("get: exit %d; stderr:\n%s", code, get.stderr)
	}
	if get.stdout.String() != secret {
		t.Errorf("get wrote %q, want the secret", get.stdout.String())
	}
	if bytes.Contains(cmdline, needles["fragment"]) || bytes.Contains(cmdline, []byte("/secret/")) {
		t.Errorf("the link is still on get's command line (stopped after %d re-executions): %q", get.execs, cmdline)
	}

	sendPid := send.stoppedAtExit(t)
	sent := scanProcess(t, sendPid, needles, host)
	if code := send.wait(t); code != exitOK {
		t.Fatalf("send: exit %d; stderr:\n%s", code, send.stderr)
	}

	for _, scan := range []struct {
		name   string
		counts map[string]int
	}{{"send, waiting", waiting}, {"get, at exit", gotten}, {"send, at exit", sent}} {
		found := 0
		for _, name := range sortedKeys(scan.counts) {
			if n := scan.counts[name]; n > 0 {
				found += n
				t.Errorf("%s: %s: %d copies in memory", scan.name, name, n)
			}
		}
		t.Logf("%s: %d needles, %d copies found %v", scan.name, len(needles), found, scan.counts)
	}
	t.Run("FilesSplitRequest", testCLIResidueShapes)
}

// browser tests of the command line beside the web UI.
func TestCLIBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	b := MustOpenBrowser(t)

	t.Run("SendThenOpenInBrowser", func(t *testing.T) {
		// What a newcomer does: echo hunter2 | otslite send, then opens
		// the link.
		send := startCLIBinary(t, binOpts{stdin: strings.NewReader("hunter2\n")}, "send")
		link := send.firstLine(t)
		ctx := b.tab(t)
		b.openLink(t, ctx, link)
		pressed := time.Now()
		r := pressReveal(t, ctx, "")
		revealed := time.Now()
		if r.value != "hunter2" {
			t.Fatalf("the page shows %+v", r)
		}
		select {
		case <-send.exited:
		case <-time.After(30 * time.Second):
			t.Fatalf("send still runs 30 s after the reveal; stderr:\n%s", send.stderr)
		}
		if send.code != exitOK {
			t.Errorf("send: exit %d; stderr:\n%s", send.code, send.stderr)
		}
		// Figures, not assertions: the machine is shared. The reveal
		// happened between the click and the page showing the secret.
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		t.Logf("send exited %.0f ms after Reveal was pressed, %.0f ms after the page showed the secret",
			ms(send.at.Sub(pressed)), ms(send.at.Sub(revealed)))
		if !strings.Contains(send.stderr.String(), "the secret was read") {
			t.Errorf("stderr:\n%s", send.stderr)
		}

		again := startCLIBinary(t, binOpts{}, "get", link)
		if code := again.wait(t); code != exitGone || !strings.Contains(again.stderr.String(), "gone") {
			t.Errorf("a second get: exit %d, stderr %s", code, again.stderr)
		}
	})

	t.Run("EnvelopeVectors", func(t *testing.T) {
		// The browser's code opens the vectors the Go package is tested
		// with (computed by Node's crypto), and derives the same proofs.
		raw, err := os.ReadFile("store/envelope/testdata/vectors.json")
		if err != nil {
			t.Fatal(err)
		}
		ctx := b.tab(t)
		b.navigate(t, ctx, b.srv.base+"/")
		got := eval[[]string](t, ctx, `(function(vectors){
			return Promise.all(vectors.map(function (v) {
				var link = otsliteZK.parseFragment("#" + v.fragment);
				return otsliteZK.unlock(link, v.passphrase, {}).then(function (u) {
					var proof = u.proof;
					return otsliteZK.open(v.envelope, u.ikm).then(function (text) {
						return (proof === v.proof) + " " + (text === v.text);
					});
				}).catch(function (e) { return "error " + e; });
			}));
		})(`+string(raw)+`)`)
		for i, r := range got {
			if r != "true true" {
				t.Errorf("vector %d: proof matches, text matches: %s", i, r)
			}
		}
		if len(got) == 0 {
			t.Error("no vectors checked")
		}
	})

	t.Run("CLILinkOpensInBrowser", func(t *testing.T) {
		master, slave := MustOpenPTY(t)
		for _, pass := range []string{"", "Ünïcödé pässphrase"} {
			text := "made by the command line\n" + pass + "\n"
			args := []string{"share", "--server", b.srv.base}
			if pass != "" {
				args = append(args, "--passphrase")
				typeLines(t, master, slave, pass, pass)
			}
			share := startCLIBinary(t, binOpts{stdin: strings.NewReader(text), tty: slave}, args...)
			if code := share.wait(t); code != exitOK {
				t.Fatalf("share: exit %d; stderr:\n%s", code, share.stderr)
			}
			link := strings.SplitN(share.stdout.String(), "\n", 2)[0]
			ctx := b.tab(t)
			b.openLink(t, ctx, link)
			if eval[bool](t, ctx, visible("passphrase-field")) != (pass != "") {
				t.Errorf("passphrase %q: the page asks for one: %v", pass, !(pass != ""))
			}
			if pass != "" {
				if r := pressReveal(t, ctx, "wrong"); r.value != "" {
					t.Fatalf("a wrong passphrase revealed it")
				}
			}
			r := pressReveal(t, ctx, pass)
			if r.value != text {
				t.Errorf("passphrase %q: the page shows %q, want %q (%+v)", pass, r.value, text, r)
			}
		}
	})

	t.Run("BrowserLinkOpensWithGet", func(t *testing.T) {
		master, slave := MustOpenPTY(t)
		for _, pass := range []string{"", "Ünïcödé pässphrase"} {
			text := bigUnicodeText(20_000)
			c := b.create(t, b.tab(t), text, pass)
			if pass != "" {
				typeLines(t, master, slave, pass)
			}
			get := startCLIBinary(t, binOpts{tty: slave}, "get", c.link)
			if code := get.wait(t); code != exitOK {
				t.Fatalf("get: exit %d; stderr:\n%s", code, get.stderr)
			}
			if get.stdout.String() != text {
				t.Errorf("passphrase %q: get wrote %d bytes, want the %d the page took", pass, len(get.stdout.String()), len(text))
			}
			// And the receipt link the page made works with burn and
			// receipt.
			rc := startCLIBinary(t, binOpts{}, "receipt", c.receipt)
			if code := rc.wait(t); code != exitOK || !strings.Contains(rc.stdout.String(), "state:      read") {
				t.Errorf("receipt: exit %d, %s %s", code, rc.stdout, rc.stderr)
			}
		}
		c := b.create(t, b.tab(t), "burn it", "")
		burn := startCLIBinary(t, binOpts{}, "burn", c.receipt)
		if code := burn.wait(t); code != exitOK {
			t.Fatalf("burn: exit %d; stderr:\n%s", code, burn.stderr)
		}
		ctx := b.tab(t)
		b.navigate(t, ctx, c.link)
		until(t, ctx, visible("gone")+` || `+visible("error"))
		if !eval[bool](t, ctx, visible("gone")) {
			t.Errorf("the burned secret's page shows %s", pageState(ctx))
		}
	})
}

// TestCLIContainer: send as the Docker image runs it (README, "Hand over
// one secret"): the user nobody, an 8 MiB locked-memory limit, and no
// environment but the image's OTSLITE_LISTEN=0.0.0.0:<port>.
func TestCLIContainer(t *testing.T) {
	needRoot(t, "running as nobody")
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Fatal("prlimit (util-linux) is needed to set the child's locked-memory limit")
	}
	var stdout, stderr syncBuffer
	cmd := exec.Command(prlimit, "--memlock=8388608:8388608", scanBinary(t), "send")
	cmd.Env = []string{"OTSLITE_LISTEN=0.0.0.0:0"} // the image says 0.0.0.0:7143
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Stdin = strings.NewReader("from a container\n")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	p := &cliProc{stdout: &stdout, stderr: &stderr}
	link := p.firstLine(t)
	if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/secret/`).MatchString(link) {
		t.Errorf("link %q; want it under http://127.0.0.1:<port> (the port the container publishes)", link)
	}
	// No core dumps, and not dumpable: its /proc files belong to root,
	// so other processes of its user cannot read its memory.
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", cmd.Process.Pid))
	if err != nil || !regexp.MustCompile(`Max core file size +0 +0 `).Match(limits) {
		t.Errorf("core dumps are not off: %v\n%s", err, limits)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/mem", cmd.Process.Pid), &st); err != nil || st.Uid != 0 {
		t.Errorf("the process is dumpable (/proc/PID/mem owned by %d): %v", st.Uid, err)
	}
	code, out, errs := MustCLI(t, cliOpts{}, "get", link)
	mustCode(t, "get", code, exitOK, errs)
	if out != "from a container" {
		t.Errorf("get wrote %q", out)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("send: %v; stderr:\n%s", err, &stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("send did not end; stderr:\n%s", &stderr)
	}
}

// TestCLISignals: the release binary and real signals. send burns on the
// first SIGINT; get interrupted at its passphrase prompt puts the
// terminal's echo back and wipes what it holds.
func TestCLISignals(t *testing.T) {
	send := startCLIBinary(t, binOpts{stdin: strings.NewReader("interrupted")}, "send")
	link := send.firstLine(t)
	send.cmd.Process.Signal(os.Interrupt)
	if code := send.wait(t); code != exitBurned || !strings.Contains(send.stderr.String(), "burned before anyone read it") {
		t.Errorf("send after SIGINT: exit %d; stderr:\n%s", code, send.stderr)
	}
	get := startCLIBinary(t, binOpts{}, "get", link)
	if code := get.wait(t); code != exitGone {
		t.Errorf("get after the burn: exit %d; stderr:\n%s", code, get.stderr)
	}

	p := MustRun(t)
	master, slave := MustOpenPTY(t)
	typeLines(t, master, slave, "pw12", "pw12")
	link, _ = mustShare(t, cliOpts{input: "x", tty: slave}, "http://"+p.addr, "--passphrase")
	get = startCLIBinary(t, binOpts{tty: slave}, "get", link)
	deadline := time.Now().Add(20 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
		if err == nil && tio.Lflag&unix.ECHO == 0 {
			break // at the prompt
		}
		if time.Now().After(deadline) {
			t.Fatalf("no prompt; stderr:\n%s", get.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	get.cmd.Process.Signal(os.Interrupt)
	if code := get.wait(t); code != exitInterrupted {
		t.Errorf("get interrupted at its prompt: exit %d; stderr:\n%s", code, get.stderr)
	}
	if tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS); err != nil || tio.Lflag&unix.ECHO == 0 {
		t.Errorf("the terminal's echo is still off after the interrupted prompt")
	}
	if peekStatus(t, "http://"+p.addr, link) != 200 {
		t.Error("the interrupted get used the secret up")
	}
}

// TestCLINoFileWrites: send and get, under strace, open nothing for
// writing, create, rename or remove nothing: the secret goes from stdin
// to the link and from the link to stdout.
func TestCLINoFileWrites(t *testing.T) {
	strace := needStrace(t)
	trace := func(args ...string) []string {
		return append(straceArgs(strace), append([]string{scanBinary(t)}, args...)...)
	}
	var sendOut, sendErr syncBuffer
	send := exec.Command(trace("send")[0], trace("send")[1:]...)
	send.Stdin = strings.NewReader("to no disk\n")
	send.Stdout, send.Stderr = &sendOut, &sendErr
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { send.Process.Kill() })
	link := (&cliProc{stdout: &sendOut, stderr: &sendErr}).firstLine(t)

	get := exec.Command(trace("get", link)[0], trace("get", link)[1:]...)
	var getOut, getErr syncBuffer
	get.Stdout, get.Stderr = &getOut, &getErr
	if err := get.Run(); err != nil || getOut.String() != "to no disk" {
		t.Fatalf("get: %v, wrote %q; stderr:\n%s", err, getOut.String(), &getErr)
	}
	if err := send.Wait(); err != nil {
		t.Fatalf("send: %v; stderr:\n%s", err, &sendErr)
	}
	for name, out := range map[string]string{"send": sendErr.String(), "get": getErr.String()} {
		calls, writes := fileWrites(out)
		for _, w := range writes {
			t.Errorf("%s: file system write: %s", name, w)
		}
		if calls == 0 {
			t.Errorf("%s: strace traced nothing: the trace is not working", name)
		}
		t.Logf("%s: strace saw %d traced calls, %d of them writes", name, calls, len(writes))
	}
}
