package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestWithoutAsyncPreemption(t *testing.T) {
	for _, c := range []struct {
		name string
		env  []string
		want []string // nil: no re-execution
	}{
		{"NoGODEBUG", []string{"A=1"}, []string{"A=1", "GODEBUG=asyncpreemptoff=1,gcshrinkstackoff=1"}},
		{"EmptyGODEBUG", []string{"GODEBUG=", "A=1"}, []string{"GODEBUG=asyncpreemptoff=1,gcshrinkstackoff=1", "A=1"}},
		{"OtherSetting", []string{"GODEBUG=gctrace=1"}, []string{"GODEBUG=gctrace=1,asyncpreemptoff=1,gcshrinkstackoff=1"}},
		{"AlreadyOff", []string{"GODEBUG=asyncpreemptoff=1,gcshrinkstackoff=1"}, nil},
		{"OneOff", []string{"GODEBUG=asyncpreemptoff=1"}, []string{"GODEBUG=asyncpreemptoff=1,gcshrinkstackoff=1"}},
		{"ExplicitlyOn", []string{"GODEBUG=gctrace=1,asyncpreemptoff=0,gcshrinkstackoff=0"}, nil},
		{"NotAPrefix", []string{"GODEBUG=xasyncpreemptoff=0"}, []string{"GODEBUG=xasyncpreemptoff=0,asyncpreemptoff=1,gcshrinkstackoff=1"}},
		{"DuplicateKeepsFirst", []string{"GODEBUG=a=1", "GODEBUG=b=2"}, []string{"GODEBUG=a=1,asyncpreemptoff=1,gcshrinkstackoff=1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := withoutAsyncPreemption(c.env); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestReleaseBinaryRunsWithoutAsyncPreemption checks the running release
// binary's own environment: it re-executed itself with the setting.
func TestReleaseBinaryRunsWithoutAsyncPreemption(t *testing.T) {
	t.Parallel()
	needRoot(t, "reading another process's environment")
	p := MustStartBinary(t, nil)
	env, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	for _, setting := range runtimeSettings {
		if !regexp.MustCompile(`(^|\x00)GODEBUG=([^\x00]*,)?` + setting + `(,|\x00|$)`).Match(env) {
			t.Errorf("the release binary runs without %s in GODEBUG", setting)
		}
	}
	if status, _, _ := p.do(t, "GET", "/api/v1/status", nil, nil); status != 200 {
		t.Errorf("status %d", status)
	}
}

// The re-execution happens on the main thread. From any other thread, the
// kernel ends the main thread first, and a tracer stopping the process on
// its way out (as the memory-residue tests do) would stop it there, before
// the re-execution: with a link still on the command line, not yet
// blanked, or stuck waiting for output that comes after. Where the main
// goroutine runs at that moment is up to the Go scheduler, so the release
// binary is started many times, several at once to crowd the CPUs.
func TestReexecOnTheMainThread(t *testing.T) {
	needRoot(t, "tracing the release binary")
	const starts, together = 192, 12
	var wg sync.WaitGroup
	errs := make(chan string, starts)
	for g := range together {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < starts; i += together {
				p := startCLIBinary(t, binOpts{trace: true}, "--version")
				for first := true; ; first = false {
					select {
					case <-p.atExit:
						if first && p.execs != 1 {
							errs <- fmt.Sprintf("start %d stopped on its way out after %d re-executions, want 1", i, p.execs)
						}
						p.resume <- struct{}{}
						continue
					case <-p.exited:
					case <-time.After(time.Minute):
						errs <- fmt.Sprintf("start %d did not end", i)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for e := range errs {
		if n++; n <= 5 {
			t.Error(e)
		}
	}
	if n > 0 {
		t.Errorf("%d of %d starts re-executed off the main thread", n, starts)
	}
}
