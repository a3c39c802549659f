package main

import (
	"os"
	"runtime"
	"strings"
	"syscall"
)

// Asynchronous preemption interrupts a running goroutine with a signal and
// saves all its registers, vector registers included, on the thread's
// signal stack, which nothing wipes. A goroutine interrupted while it
// copies or hashes a secret (a garbage collection preempts every running
// one) would leave up to a few dozen bytes of it there. With
// GODEBUG=asyncpreemptoff=1 goroutines stop only at function calls, where
// the Go calling convention keeps nothing live in registers.
//
// A garbage collection also shrinks the stack of a goroutine that uses
// little of it: the stack is copied into a smaller one and the old one
// goes back to the allocator unwiped, with whatever the goroutine's live
// frames held (a Receipt's link keys in the middle of a request, say).
// Request handlers grow their stacks first (store.GrowStack) and scrub
// them last, so a shrink is the one way a stack's secrets could be left
// behind: GODEBUG=gcshrinkstackoff=1 turns it off.
//
// The runtime reads these settings once, at start, so otslite
// re-executes itself with them unless GODEBUG already says otherwise.

// The re-execution must come from the main thread: execve from any other
// thread makes the kernel end the main thread first, which a tracer sees
// as the process on its way out, before the new image has even started.
// The main goroutine is locked to the main thread from init until main has
// decided (a goroutine locked in init runs main there); without it, the Go
// scheduler may have moved it to another thread by then.
func init() { runtime.LockOSThread() }

// runtimeSettings are the GODEBUG settings otslite runs with.
var runtimeSettings = []string{"asyncpreemptoff=1", "gcshrinkstackoff=1"}

// withoutAsyncPreemption returns the environment to re-execute with, or
// nil when env already settles each of runtimeSettings either way.
func withoutAsyncPreemption(env []string) []string {
	out := make([]string, 0, len(env)+1)
	set, added := false, false
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
		for _, s := range runtimeSettings {
			name, _, _ := strings.Cut(s, "=")
			if !strings.Contains(","+v, ","+name+"=") {
				if v != "" {
					v += ","
				}
				v += s
				added = true
			}
		}
		out = append(out, "GODEBUG="+v)
	}
	if !set {
		out = append(out, "GODEBUG="+strings.Join(runtimeSettings, ","))
		added = true
	}
	if !added {
		return nil
	}
	return out
}

// reexecWithoutAsyncPreemption replaces the process with itself, asynchronous
// preemption off. It returns only when it did nothing: the setting is
// already decided, or the executable cannot be found or run again (then
// otslite goes on as it is); the main goroutine is then free of the main
// thread.
func reexecWithoutAsyncPreemption() {
	defer runtime.UnlockOSThread()
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
