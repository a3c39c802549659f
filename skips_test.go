package main

// What the tests skipped, and why. A test that needs a tool or a right
// the machine lacks (Chromium, zbarimg, strace, HAProxy, node, root...)
// skips through skip, which notes the reason. TestMain prints the list
// when the tests are done, and appends it to the file $OTSLITE_SKIPS
// names: go test shows a passing package's output only under -v, so
// .ci/test, the README's test command, prints that file after every
// package has run. Under CI such tests fail instead (see need).

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

var skips struct {
	mu   sync.Mutex
	list []string // "reason\ttest"
}

// skip notes why tb is skipped, then skips it.
func skip(tb testing.TB, reason string) {
	tb.Helper()
	skips.mu.Lock()
	skips.list = append(skips.list, strings.ReplaceAll(reason, "\t", " ")+"\t"+tb.Name())
	skips.mu.Unlock()
	tb.Skip(reason)
}

func TestMain(m *testing.M) {
	code := m.Run()
	skips.mu.Lock()
	list := skips.list
	skips.mu.Unlock()
	sort.Strings(list)
	if len(list) > 0 {
		fmt.Printf("skipped %d tests:\n", len(list))
		for _, l := range list {
			reason, test, _ := strings.Cut(l, "\t")
			fmt.Printf("  %s: %s\n", test, reason)
		}
	}
	if path := os.Getenv("OTSLITE_SKIPS"); path != "" && len(list) > 0 {
		// A test binary's own output, not otslite's: nothing is written
		// while the server runs.
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0); err == nil {
			fmt.Fprintln(f, strings.Join(list, "\n"))
			f.Close()
		}
	}
	os.Exit(code)
}
