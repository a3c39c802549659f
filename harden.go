package main

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// harden makes sure this process leaves nothing to dump: no core files
// (RLIMIT_CORE 0, which memguard also sets) and, unless debuggable, the
// kernel's non-dumpable mark, which also keeps other unprivileged processes
// of the same user from reading its memory or attaching a debugger.
func harden(debuggable bool) error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return fmt.Errorf("failed to turn off core dumps: %w", err)
	}
	if debuggable {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("failed to mark the process non-dumpable: %w", err)
	}
	return nil
}

// dumpable reports the kernel's dumpable mark of this process.
func dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	return v != 0, err
}
