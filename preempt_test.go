package main

import (
	"os"
	"regexp"
	"slices"
	"strconv"
	"testing"
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
