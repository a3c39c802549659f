package main

import (
	"os"
	"strings"
	"syscall"
)

// Asynchronous preemption interrupts a running goroutine with a signal and
// saves all its registers, vector registers included, on the thread's
// signal stack, which nothing wipes. A goroutine interrupted while it
// copies or hashes a secret (a garbage collection preempts every running
// one) would leave up to a few dozen bytes of it there. With
// GODEBUG=asyncpreemptoff=1 goroutines stop only at function calls, where
// the Go calling convention keeps nothing live in registers. The runtime
// reads that setting once, at start, so otslite re-executes itself with it
// unless GODEBUG already says otherwise.

const noAsyncPreempt = "asyncpreemptoff=1"

// withoutAsyncPreemption returns the environment to re-execute with, or
// nil when env already settles asyncpreemptoff either way.
func withoutAsyncPreemption(env []string) []string {
	out := make([]string, 0, len(env)+1)
	set := false
	for _, kv := range env {
		v, ok := strings.CutPrefix(kv, "GODEBUG=")
		if !ok {
			out = append(out, kv)
			continue
		}
		if set {
			continue // the runtime reads the first GODEBUG only
		}
		set = true
		if strings.Contains(v, "asyncpreemptoff=") {
			return nil
		}
		if v != "" {
			v += ","
		}
		out = append(out, "GODEBUG="+v+noAsyncPreempt)
	}
	if !set {
		out = append(out, "GODEBUG="+noAsyncPreempt)
	}
	return out
}

// reexecWithoutAsyncPreemption replaces the process with itself, asynchronous
// preemption off. It returns only when it did nothing: the setting is
// already decided, or the executable cannot be found or run again (then
// otslite goes on as it is).
func reexecWithoutAsyncPreemption() {
	env := withoutAsyncPreemption(os.Environ())
	if env == nil {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	syscall.Exec(exe, os.Args, env) //nolint:errcheck // on failure, carry on
}
