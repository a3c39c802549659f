package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lines waits for n lines of stdout.
func (p *cliProc) lines(tb testing.TB, n int) []string {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if out := p.stdout.String(); strings.Count(out, "\n") >= n {
			return strings.Split(strings.TrimSuffix(out, "\n"), "\n")[:n]
		}
		time.Sleep(20 * time.Millisecond)
	}
	tb.Fatalf("%d lines not printed; stderr:\n%s", n, p.stderr)
	return nil
}

// testCLIResidueShapes: a file and a text, split 2 of 3 by send, rebuilt
// by get from two of the links into a directory; a request answered with
// a marked answer. Each process is stopped on its way out and its memory
// read: no copy of the file's contents, the text, the answer or any
// link's key may be left (the files get wrote are on disk, as asked; not
// in its memory).
func testCLIResidueShapes(t *testing.T) {
	fileCore := marker(t, "file")
	data := make([]byte, 200<<10)
	rand.Read(data)
	copy(data[100<<10:], fileCore)
	src := filepath.Join(t.TempDir(), "contents.bin")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	textCore, text := markerFull(t, "text")
	needles := map[string][]byte{"file/core": []byte(fileCore), "text/core": []byte(textCore)}
	for form, b := range forms(text) {
		needles["text/"+form] = b
	}

	send := startCLIBinary(t, binOpts{stdin: strings.NewReader(text), trace: true}, "send", "--qr=false", "--split", "2/3", "--file", src)
	links := send.lines(t, 3)
	for i, l := range links {
		for k, v := range linkNeedles(t, l) {
			needles[k+" "+string(rune('1'+i))] = v
		}
	}
	host := regexp.MustCompile(`//([^/]+)/`).FindStringSubmatch(links[0])[1]
	waiting := scanProcess(t, send.cmd.Process.Pid, needles, host)

	dir := t.TempDir()
	get := startCLIBinary(t, binOpts{trace: true}, "get", "--out", dir, links[2], links[0])
	getPid := get.stoppedAtExit(t)
	gotten := scanProcess(t, getPid, needles, host)
	if code := get.wait(t); code != exitOK {
		t.Fatalf("get: exit %d; stderr:\n%s", code, get.stderr)
	}
	if get.stdout.String() != text {
		t.Errorf("get wrote %q, want the text", get.stdout.String())
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "contents.bin")); string(got) != string(data) {
		t.Error("the file came back different")
	}
	sendPid := send.stoppedAtExit(t)
	sent := scanProcess(t, sendPid, needles, host)
	if code := send.wait(t); code != exitOK {
		t.Fatalf("send: exit %d; stderr:\n%s", code, send.stderr)
	}

	// A request, answered with a marked answer.
	p := MustRun(t)
	answerCore, answer := markerFull(t, "answer")
	req := startCLIBinary(t, binOpts{trace: true}, "request", "--server", "http://"+p.addr, "--qr=false")
	link := req.firstLine(t)
	if resp := answerRequest(t, link, []byte(answer)); resp.StatusCode != 200 {
		t.Fatalf("answer: %d", resp.StatusCode)
	}
	reqPid := req.stoppedAtExit(t)
	answerNeedles := map[string][]byte{"answer/core": []byte(answerCore)}
	for form, b := range forms(answer) {
		answerNeedles["answer/"+form] = b
	}
	requested := scanProcess(t, reqPid, answerNeedles, strings.Split(p.addr, ":")[0])
	if code := req.wait(t); code != exitOK {
		t.Fatalf("request: exit %d; stderr:\n%s", code, req.stderr)
	}
	if !strings.HasSuffix(req.stdout.String(), "\n"+answer) {
		t.Errorf("request wrote %q", req.stdout.String())
	}

	for _, scan := range []struct {
		name   string
		counts map[string]int
	}{{"send, waiting", waiting}, {"get, at exit", gotten}, {"send, at exit", sent}, {"request, at exit", requested}} {
		found := 0
		for _, name := range sortedKeys(scan.counts) {
			if n := scan.counts[name]; n > 0 {
				found += n
				t.Errorf("%s: %s: %d copies in memory", scan.name, name, n)
			}
		}
		t.Logf("%s: %d copies found", scan.name, found)
	}
}

// TestCLINoFileWritesBeyondAsked: send reads its files and seals them
// without a write to any file system; get writes the files it was asked
// for, into --out, and nothing else (no temporary file, no text file).
func TestCLINoFileWritesBeyondAsked(t *testing.T) {
	strace := needStrace(t)
	trace := func(args ...string) []string {
		return append(straceArgs(strace), append([]string{scanBinary(t)}, args...)...)
	}
	src := filepath.Join(t.TempDir(), "to disk.bin")
	if err := os.WriteFile(src, []byte("only where asked"), 0o600); err != nil {
		t.Fatal(err)
	}
	var sendOut, sendErr syncBuffer
	argv := trace("send", "--qr=false", "--split", "2/2", "--file", src)
	send := exec.Command(argv[0], argv[1:]...)
	send.Stdin = strings.NewReader("and a text")
	send.Stdout, send.Stderr = &sendOut, &sendErr
	if err := send.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { send.Process.Kill() })
	links := (&cliProc{stdout: &sendOut, stderr: &sendErr}).lines(t, 2)

	dir := t.TempDir()
	argv = trace("get", "--out", dir, links[0], links[1])
	get := exec.Command(argv[0], argv[1:]...)
	var getOut, getErr syncBuffer
	get.Stdout, get.Stderr = &getOut, &getErr
	if err := get.Run(); err != nil || getOut.String() != "and a text" {
		t.Fatalf("get: %v, wrote %q; stderr:\n%s", err, getOut.String(), &getErr)
	}
	if err := send.Wait(); err != nil {
		t.Fatalf("send: %v; stderr:\n%s", err, &sendErr)
	}
	calls, writes := fileWrites(sendErr.String())
	for _, w := range writes {
		t.Errorf("send: file system write: %s", w)
	}
	if calls == 0 {
		t.Error("send: strace traced nothing: the trace is not working")
	}
	calls, writes = fileWrites(getErr.String())
	asked := `"` + filepath.Join(dir, "to disk.bin") + `", O_WRONLY|O_CREAT|O_EXCL`
	if len(writes) != 1 || !strings.Contains(writes[0], asked) {
		t.Errorf("get: writes %q; want exactly one, the file asked for (%s)", writes, asked)
	}
	if calls == 0 {
		t.Error("get: strace traced nothing: the trace is not working")
	}
}
