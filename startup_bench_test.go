package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// BenchmarkStartup starts the release binary (built as the Dockerfile
// builds it) and times it from exec to its first answered request. It also
// reports the idle server's RSS and the binary's size.
func BenchmarkStartup(b *testing.B) {
	bin := scanBinary(b)
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	var rss int64
	for b.Loop() {
		addr := freePort(b)
		cmd := exec.Command(bin, "--listen", addr)
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for !statusAnswers(addr) {
			if time.Since(start) > 10*time.Second {
				cmd.Process.Kill()
				cmd.Wait()
				b.Fatal("the server did not answer within 10 s")
			}
			time.Sleep(100 * time.Microsecond)
		}
		if rss == 0 {
			b.StopTimer()
			time.Sleep(time.Second)
			rss = residentBytes(b, cmd.Process.Pid)
			b.StartTimer()
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	b.ReportMetric(float64(rss)/(1<<20), "idle-RSS-MiB")
	b.ReportMetric(float64(fi.Size())/1e6, "binary-MB")
}

// statusAnswers reports whether GET /api/v1/status answers 200 on addr.
func statusAnswers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("GET /api/v1/status HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 12)
	n, _ := c.Read(buf)
	return bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 200"))
}

// residentBytes reads a process's RSS (root can read it though otslite
// makes itself non-dumpable).
func residentBytes(tb testing.TB, pid int) int64 {
	tb.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			kb, err := strconv.ParseInt(string(bytes.Fields(v)[0]), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}
