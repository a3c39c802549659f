// Command redisclients compares Redis clients for otslite's shared store:
// its own (otslite/store/resp) beside go-redis v9 and rueidis, each running
// the same two Lua scripts a create+reveal pair of the store runs (store a
// sealed 1 KiB secret and its receipt; claim it, delete it and mark the
// receipt), from many goroutines at once, against one redis-server. It is
// a module of its own, so that otslite itself does not depend on the
// clients it is compared with.
//
//	cd handler/loadtest/redisclients
//	go run . -addr 127.0.0.1:6379 -clients 32,64 -runs 3
//
// The redis-server should run without persistence, on a CPU of its own if
// the machine has one (taskset).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"otslite/store/resp"
)

const createLua = `redis.call('HSET', KEYS[1], 'e', ARGV[1], 'r', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], 'st', '0', 'm', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {1}`

const claimLua = `local e = redis.call('HGET', KEYS[1], 'e')
if not e then return {0} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[2], 'st', '1')
return {1, e}`

// pair runs one create and one claim of a fresh secret; it returns the
// size of what the claim gave back.
type pair func(ctx context.Context, sid, rid string, sealed []byte) (int, error)

var meta = []byte("receipt fields of about the size the store keeps: created, due, size, ref, custid")

func ownClient(addr string) pair {
	c := resp.New(resp.Options{Addr: addr})
	create, claim := resp.NewScript(createLua), resp.NewScript(claimLua)
	return func(ctx context.Context, sid, rid string, sealed []byte) (int, error) {
		keys := [][]byte{[]byte(sid), []byte(rid)}
		if _, err := c.Eval(ctx, create, keys, sealed, []byte(rid), meta, []byte("60000"), []byte("120000")); err != nil {
			return 0, err
		}
		v, err := c.Eval(ctx, claim, keys)
		if err != nil || len(v.Array) != 2 {
			return 0, fmt.Errorf("claim: %v", err)
		}
		return len(v.Array[1].Bytes), nil
	}
}

func rueidisClient(addr string) pair {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	if err != nil {
		panic(err)
	}
	create, claim := rueidis.NewLuaScript(createLua), rueidis.NewLuaScript(claimLua)
	return func(ctx context.Context, sid, rid string, sealed []byte) (int, error) {
		keys := []string{sid, rid}
		if err := create.Exec(ctx, c, keys, []string{rueidis.BinaryString(sealed), rid, rueidis.BinaryString(meta), "60000", "120000"}).Error(); err != nil {
			return 0, err
		}
		v, err := claim.Exec(ctx, c, keys, nil).ToArray()
		if err != nil || len(v) != 2 {
			return 0, fmt.Errorf("claim: %v", err)
		}
		b, err := v[1].AsBytes()
		return len(b), err
	}
}

func goredisClient(addr string) pair {
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	create, claim := goredis.NewScript(createLua), goredis.NewScript(claimLua)
	return func(ctx context.Context, sid, rid string, sealed []byte) (int, error) {
		keys := []string{sid, rid}
		if err := create.Run(ctx, c, keys, sealed, rid, meta, 60000, 120000).Err(); err != nil {
			return 0, err
		}
		v, err := claim.Run(ctx, c, keys).Slice()
		if err != nil || len(v) != 2 {
			return 0, fmt.Errorf("claim: %v", err)
		}
		s, _ := v[1].(string)
		return len(s), nil
	}
}

// result is one measurement: pairs/s, and the CPU time per pair of this
// process (the client) and of redis-server (the same scripts for every
// client; a check that each did the same work).
type result struct{ perSec, clientUS, serverUS float64 }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU reads a process's user and system time from /proc.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func measure(run pair, clients int, warmup, d time.Duration, size, serverPID int) (result, error) {
	sealed := make([]byte, size)
	rand.Read(sealed)
	var n atomic.Int64
	var failed atomic.Pointer[error]
	var measuring, stop atomic.Bool
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var id [16]byte
			ctx := context.Background()
			for !stop.Load() {
				rand.Read(id[:])
				h := hex.EncodeToString(id[:])
				got, err := run(ctx, "cmp:s:"+h, "cmp:r:"+h, sealed)
				if err == nil && got != size {
					err = fmt.Errorf("claimed %d bytes of %d", got, size)
				}
				if err != nil {
					failed.CompareAndSwap(nil, &err)
					return
				}
				if measuring.Load() {
					n.Add(1)
				}
			}
		})
	}
	time.Sleep(warmup)
	measuring.Store(true)
	t0, c0, s0 := time.Now(), cpuTime(), processCPU(serverPID)
	time.Sleep(d)
	measuring.Store(false)
	elapsed, c1, s1 := time.Since(t0), cpuTime(), processCPU(serverPID)
	stop.Store(true)
	wg.Wait()
	if err := failed.Load(); err != nil {
		return result{}, *err
	}
	pairs := float64(n.Load())
	return result{pairs / elapsed.Seconds(), float64(c1-c0) / 1e3 / pairs, float64(s1-s0) / 1e3 / pairs}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6379", "redis-server to measure against")
	clientList := flag.String("clients", "32,64", "concurrent goroutines, comma separated")
	runs := flag.Int("runs", 3, "runs; the table shows medians")
	d := flag.Duration("duration", 3*time.Second, "measured time per client and concurrency")
	size := flag.Int("secret", 1024+16, "sealed secret size (1 KiB and its tag)")
	flag.Parse()
	serverPID := 0
	if info, err := resp.New(resp.Options{Addr: *addr}).DoStrings(context.Background(), "INFO", "server"); err == nil {
		for _, line := range strings.Split(string(info.Bytes), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
				serverPID, _ = strconv.Atoi(v)
			}
		}
	}
	clients := map[string]pair{"otslite/store/resp": ownClient(*addr), "rueidis v1.0.80": rueidisClient(*addr), "go-redis v9.23.0": goredisClient(*addr)}
	names := []string{"otslite/store/resp", "rueidis v1.0.80", "go-redis v9.23.0"}
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("create+claim pairs/s against %s, %d runs (median [min-max]); load average %s\n", *addr, *runs, strings.Join(strings.Fields(string(load))[:3], " "))
	for _, f := range strings.Split(*clientList, ",") {
		c, err := strconv.Atoi(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "-clients:", err)
			os.Exit(2)
		}
		got := map[string][]result{}
		for range *runs {
			// Interleaved, so that a noisy moment hits every client alike.
			for _, name := range names {
				v, err := measure(clients[name], c, 500*time.Millisecond, *d, *size, serverPID)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
					os.Exit(1)
				}
				got[name] = append(got[name], v)
			}
		}
		field := func(name string, f func(result) float64) []float64 {
			var v []float64
			for _, r := range got[name] {
				v = append(v, f(r))
			}
			return v
		}
		perSec := func(r result) float64 { return r.perSec }
		own := median(field(names[0], perSec))
		for _, name := range names {
			v := field(name, perSec)
			cu := median(field(name, func(r result) float64 { return r.clientUS }))
			su := median(field(name, func(r result) float64 { return r.serverUS }))
			fmt.Printf("  %-20s %3d goroutines: %7.0f pairs/s [%.0f-%.0f] %.2f of otslite/store/resp; CPU per pair: client %.1f µs, redis-server %.1f µs\n",
				name, c, median(v), slices.Min(v), slices.Max(v), median(v)/own, cu, su)
		}
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
