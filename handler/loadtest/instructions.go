package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Instructions per pair. Pairs per second on a shared virtual machine move
// by a tenth or more between runs, more than most changes to the 1 KiB
// path are worth. The instructions a server runs in user space per pair
// do not move: valgrind (cachegrind, no cache simulation) counts them
// exactly, whatever else the machine does. Each server runs under valgrind
// twice, for a short and a long drive; the difference between the two
// counts over the difference in pairs is the cost of a pair, with start,
// warm-up and shutdown taken out. The kernel's share (the system calls,
// the same for every server) and the cost of cache misses are not in it:
// it tells which server does more of its own work, not how fast.

type instructionsConfig struct {
	Bin         string
	Clients     int
	SecretSize  int
	Short, Long time.Duration
}

func instructionsMain(args []string) error {
	fs := flag.NewFlagSet("loadtest instructions", flag.ContinueOnError)
	var cfg instructionsConfig
	fs.StringVar(&cfg.Bin, "bin", "", "otslite binary to measure (default: build the release binary)")
	fs.IntVar(&cfg.Clients, "clients", 8, "concurrent clients")
	fs.IntVar(&cfg.SecretSize, "secret", 1024, "secret size in bytes")
	fs.DurationVar(&cfg.Short, "short", 4*time.Second, "the short drive")
	fs.DurationVar(&cfg.Long, "long", 24*time.Second, "the long drive")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.Long <= cfg.Short {
		return errors.New("-long must be longer than -short")
	}
	if _, err := exec.LookPath("valgrind"); err != nil {
		return errors.New("needs valgrind (apt-get install valgrind)")
	}
	if cfg.Bin == "" {
		dir, err := os.MkdirTemp("", "otslite-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Bin = filepath.Join(dir, "otslite")
		if err := buildRelease(cfg.Bin); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	servers := []struct {
		name string
		cmd  func(addr string) []string
	}{
		{"bare baseline", func(addr string) []string { return []string{self, "baseline", "-listen", addr} }},
		{"hardened baseline", func(addr string) []string { return []string{self, "baseline", "-hardened", "-listen", addr} }},
		{"sealed floor", func(addr string) []string { return []string{self, "baseline", "-sealed", "-listen", addr} }},
		{"otslite", func(addr string) []string { return []string{cfg.Bin, "--listen", addr, "--rate-limit", "0"} }},
	}
	per := make([]float64, len(servers))
	for i, s := range servers {
		a, err := cfg.count(self, s.cmd, cfg.Short)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		b, err := cfg.count(self, s.cmd, cfg.Long)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if b.pairs <= a.pairs {
			return fmt.Errorf("%s: %d pairs in the long drive, %d in the short", s.name, b.pairs, a.pairs)
		}
		per[i] = float64(b.instructions-a.instructions) / float64(b.pairs-a.pairs)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "user-space instructions per %d-byte create+reveal pair (valgrind), %d clients\t\tvs hardened\n", cfg.SecretSize, cfg.Clients)
	for i, s := range servers {
		fmt.Fprintf(tw, "  %s\t%.0f\t%.2f\n", s.name, per[i], per[i]/per[1])
	}
	fmt.Fprintf(tw, "  the store's cryptography (sealed floor - hardened)\t%.0f\t%.2f\n", per[2]-per[1], (per[2]-per[1])/per[1])
	fmt.Fprintf(tw, "  otslite's own work (otslite - hardened)\t%.0f\t%.2f\n", per[3]-per[1], (per[3]-per[1])/per[1])
	return tw.Flush()
}

type counted struct {
	instructions int64
	pairs        int64
}

// count runs a server under valgrind, drives it for d, stops it and reads
// valgrind's count of the instructions it ran.
func (cfg instructionsConfig) count(self string, cmd func(addr string) []string, d time.Duration) (counted, error) {
	var c counted
	addr, err := freeAddr()
	if err != nil {
		return c, err
	}
	log, err := os.CreateTemp("", "otslite-load-*.log")
	if err != nil {
		return c, err
	}
	defer os.Remove(log.Name())
	defer log.Close()
	args := append([]string{"--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"}, cmd(addr)...)
	srv := exec.Command("valgrind", args...)
	// GODEBUG is settled here, so otslite does not re-execute itself (out
	// of valgrind's sight); the baselines run with the same settings. One
	// P, as on the one CPU the comparison pins servers to: idle Ps
	// spinning for work would add instructions by the second, not by the
	// pair.
	srv.Env = append(os.Environ(), "GODEBUG=asyncpreemptoff=1,gcshrinkstackoff=1", "GOMAXPROCS=1")
	srv.Stderr = log
	if err := srv.Start(); err != nil {
		return c, err
	}
	exited := make(chan struct{})
	go func() { _ = srv.Wait(); close(exited) }()
	// stop ends the server the way an operator would (valgrind prints its
	// count as the process exits), or kills it after a minute.
	stop := func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			_ = srv.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for !statusOK(addr) {
		if time.Now().After(deadline) {
			stop()
			b, _ := os.ReadFile(log.Name())
			return c, fmt.Errorf("no answer on %s under valgrind: %s", addr, b[max(0, len(b)-2000):])
		}
		time.Sleep(100 * time.Millisecond)
	}
	drive := func(d time.Duration) ([]byte, error) {
		return exec.Command(self, "drive", "-addr", addr, "-clients", strconv.Itoa(cfg.Clients),
			"-secret", strconv.Itoa(cfg.SecretSize), "-duration", d.String(), "-warmup", "0s").Output()
	}
	// Valgrind translates code as it first runs: the first requests are
	// slow, and some may time out. A warm-up drive, the same in both
	// runs, takes that out of the drive that counts.
	_, _ = drive(2 * time.Second)
	out, err := drive(d)
	stop()
	if err != nil {
		return c, fmt.Errorf("load generator: %w", err)
	}
	var res driveResult
	if err := json.Unmarshal(out, &res); err != nil {
		return c, fmt.Errorf("load generator said %q: %w", out, err)
	}
	if res.Errors > 0 {
		return c, fmt.Errorf("%d errors, the first: %s", res.Errors, res.FirstError)
	}
	// Every pair the server answered counts, not only those in the
	// measured window: the generator stops its clients at the end of d,
	// so at most one pair per client is cut short either way.
	c.pairs = res.Pairs
	b, err := os.ReadFile(log.Name())
	if err != nil {
		return c, err
	}
	if c.instructions, err = valgrindRefs(b); err != nil {
		return c, err
	}
	return c, nil
}

// valgrindRefs reads the "I refs:" count from valgrind's summary.
func valgrindRefs(log []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(log))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		_, rest, ok := strings.Cut(sc.Text(), "I   refs:")
		if !ok {
			continue
		}
		n, err := strconv.ParseInt(strings.ReplaceAll(strings.TrimSpace(rest), ",", ""), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("valgrind's count %q: %w", rest, err)
		}
		return n, nil
	}
	return 0, errors.New("valgrind printed no instruction count (did the server exit?)")
}
