package main

// otslite on the shared store: a private redis-server (no persistence) and
// one or two replicas on it, all pinned to the server CPU beside one
// another, driven by the same generator. With two replicas each client
// creates on one and reveals on the other, so every pair crosses
// replicas. On a two-CPU machine this measures what a pair costs through
// Redis, not how replicas scale: in a deployment each replica has
// machines of its own.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// redisRun is a private redis-server for one measurement.
type redisRun struct {
	cmd  *exec.Cmd
	addr string
}

func (cc compareConfig) startRedis() (*redisRun, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server is needed for -redis (Debian package redis-server)")
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	dir, err := os.MkdirTemp("", "otslite-load-redis")
	if err != nil {
		return nil, err
	}
	r := &redisRun{addr: addr}
	r.cmd = exec.Command("taskset", "-c", strconv.Itoa(cc.ServerCPU), path,
		"--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no", "--dir", dir)
	if err := r.cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return r, nil
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("redis-server did not answer on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *redisRun) stop() {
	r.cmd.Process.Kill()
	r.cmd.Wait()
}

// measureRedis drives n replicas of otslite on a fresh Redis.
func (cc compareConfig) measureRedis(self string, replicas, clients int) (driveResult, error) {
	r, err := cc.startRedis()
	if err != nil {
		return driveResult{}, err
	}
	defer r.stop()
	key := make([]byte, 32)
	rand.Read(key)
	keyFile := filepath.Join(os.TempDir(), "otslite-load-"+hex.EncodeToString(key[:4])+".key")
	if err := os.WriteFile(keyFile, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return driveResult{}, err
	}
	defer os.Remove(keyFile)
	var addrs, pids []string
	var first *server
	for range replicas {
		s, err := cc.startOtslite("--redis", "redis://"+r.addr+"/0", "--key-file", keyFile)
		if err != nil {
			return driveResult{}, err
		}
		defer s.stop()
		if first == nil {
			first = s
		}
		addrs = append(addrs, s.addr)
		pids = append(pids, strconv.Itoa(s.pid()))
	}
	pids = append(pids, strconv.Itoa(r.cmd.Process.Pid))
	return cc.drive(self, first, "-addr", strings.Join(addrs, ","), "-pid", strings.Join(pids, ","),
		"-clients", strconv.Itoa(clients), "-duration", cc.Duration.String(), "-warmup", cc.Warmup.String())
}
