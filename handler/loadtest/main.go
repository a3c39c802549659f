// Command loadtest measures otslite against three servers of its own doing
// the same create+reveal flow with a map, on one machine in one run, and
// prints one table: a bare fasthttp server; a hardened one that does
// around every request what otslite's server does (its listener with
// strict framing, handler.Guard: the body read into a wiped buffer, the
// security headers, every request buffer and the stack wiped); and the
// sealed floor, the hardened one plus the store's cryptography and
// nothing else (sealed.go). otslite's targets are ratios to the hardened
// baseline.
//
// Run it from the module root (it builds the release binary as the
// Dockerfile does; Linux with taskset; root, to read the server's /proc
// figures, as otslite makes itself non-dumpable):
//
//	go run ./handler/loadtest
//	go run ./handler/loadtest -runs 5 -clients 32,64 -duration 10s -stored 1000000
//
// Each measurement starts a fresh server pinned to one CPU (taskset -c 0)
// and a load generator pinned to another (taskset -c 1): keep-alive
// clients each running share-then-reveal pairs of 1 KiB secrets back to
// back; then pairs as the web UI sends them (envelope and proof), big
// secrets (-big), passphrase clients beside plain ones and a flood of
// them, a server filled with -stored secrets, and start-up. Ratios are
// taken within a run, then the median and range over runs is shown. The
// subcommands it runs itself are also usable alone:
//
//	loadtest baseline -listen 127.0.0.1:8080 [-hardened | -sealed] [-cpuprofile file]
//	loadtest drive -addr 127.0.0.1:7143 -clients 64 -duration 5s [-flood 256] [-proof-clients 32]
//	loadtest drive -addr 127.0.0.1:7143,127.0.0.1:7144 ...  (create on one, reveal on the other)
//
// and one more is never run by the comparison: the user-space instructions
// each server runs per pair, counted under valgrind (see instructions.go),
// figures that do not move with the machine's load:
//
//	loadtest instructions [-bin otslite] [-clients 8] [-short 4s] [-long 24s]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

func main() {
	args := os.Args[1:]
	var err error
	switch {
	case len(args) > 0 && args[0] == "baseline":
		err = baselineMain(args[1:])
	case len(args) > 0 && args[0] == "drive":
		err = driveMain(args[1:])
	case len(args) > 0 && args[0] == "instructions":
		err = instructionsMain(args[1:])
	default:
		err = compareMain(args)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

func compareMain(args []string) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	cc := compareConfig{Out: os.Stdout, Log: os.Stderr}
	clients := fs.String("clients", "32,64", "concurrent clients, comma separated")
	fs.IntVar(&cc.Runs, "runs", 3, "runs; the table shows medians and ranges")
	fs.DurationVar(&cc.Duration, "duration", 5*time.Second, "measured time per load")
	fs.DurationVar(&cc.Warmup, "warmup", time.Second, "unmeasured load before it")
	fs.IntVar(&cc.SecretSize, "secret", 1024, "secret size in bytes")
	fs.IntVar(&cc.Stored, "stored", 1000000, "secrets stored for the RSS measure")
	fs.IntVar(&cc.PassClients, "pass-clients", 8, "passphrase clients in the mixed run")
	fs.IntVar(&cc.PassPlain, "pass-plain", 32, "plain clients in the mixed run (one of -clients)")
	fs.IntVar(&cc.Flood, "flood", 256, "passphrase clients, each from its own address, in the flood run")
	fs.IntVar(&cc.Starts, "starts", 5, "startups timed per run")
	fs.IntVar(&cc.BigSize, "big", 64<<10, "secret size of the big-secret measurement; 0: none")
	fs.StringVar(&cc.Bin, "bin", "", "otslite binary to measure (default: build the release binary)")
	fs.IntVar(&cc.ServerCPU, "server-cpu", 0, "CPU the servers are pinned to")
	fs.IntVar(&cc.LoadCPU, "load-cpu", 1, "CPU the load generator is pinned to")
	fs.BoolVar(&cc.Verbose, "v", false, "print every measurement")
	fs.BoolVar(&cc.Redis, "redis", true, "measure otslite on a Redis store too (1 and 2 replicas; needs redis-server)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, f := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return fmt.Errorf("-clients: bad count %q", f)
		}
		cc.Clients = append(cc.Clients, n)
	}
	if cc.Runs < 1 || cc.Starts < 1 || cc.Stored < 1 || cc.SecretSize < 1 || cc.BigSize < 0 {
		return fmt.Errorf("-runs, -starts, -stored and -secret must be positive, -big not negative")
	}
	return compare(cc)
}

func baselineMain(args []string) error {
	fs := flag.NewFlagSet("loadtest baseline", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on")
	hardened := fs.Bool("hardened", false, "with otslite's server settings, listener and headers")
	sealed := fs.Bool("sealed", false, "hardened, and keys, indexes and secrets derived and sealed as otslite's store does (implies -hardened)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	b := newBaseline()
	srv, wrap := b.server(), func(ln net.Listener) net.Listener { return ln }
	if *hardened || *sealed {
		var serve fasthttp.RequestHandler
		if *sealed {
			f := newSealedFloor()
			serve = func(ctx *fasthttp.RequestCtx) { f.serve(ctx, b) }
		}
		var err error
		if srv, wrap, err = b.hardened(serve); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(wrap(ln)) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-sig:
		return srv.Shutdown()
	}
}

func driveMain(args []string) error {
	fs := flag.NewFlagSet("loadtest drive", flag.ContinueOnError)
	var cfg driveConfig
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:7143", "server address")
	fs.IntVar(&cfg.Clients, "clients", 64, "plain create+reveal clients")
	fs.IntVar(&cfg.PassClients, "pass-clients", 0, "clients doing create+reveal with a passphrase")
	fs.IntVar(&cfg.ProofClients, "proof-clients", 0, "clients doing create+reveal as the web UI does: an envelope and its proof")
	fs.IntVar(&cfg.Flood, "flood", 0, "clients doing create+reveal with a passphrase, each from its own 127.1.x.y address")
	fs.DurationVar(&cfg.FloodPause, "flood-pause", 100*time.Millisecond, "how long a flood client waits after a refusal")
	fs.DurationVar(&cfg.Duration, "duration", 5*time.Second, "measured time")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "unmeasured load before it")
	fs.IntVar(&cfg.SecretSize, "secret", 1024, "secret size in bytes")
	fs.IntVar(&cfg.Creates, "creates", 0, "only create this many secrets, then stop")
	pids := fs.String("pid", "", "server processes whose CPU time to measure, comma separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for i, f := range strings.Split(*pids, ",") {
		if f == "" {
			continue
		}
		pid, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("-pid: %q", f)
		}
		if i == 0 {
			cfg.ServerPID = pid
		} else {
			cfg.MorePIDs = append(cfg.MorePIDs, pid)
		}
	}
	res, err := drive(cfg)
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}
