package store

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// lockedReserve is what memguard's own keys and the process keys lock
// beside the arena (a few pages), with room to spare.
const lockedReserve = 64 << 10

// Budget describes how much memory this process may lock and how much the
// arena will take.
type Budget struct {
	Limit      int64 // RLIMIT_MEMLOCK after raising soft to hard; -1 means unlimited
	CapIPCLock bool  // CAP_IPC_LOCK in the effective set: no limit applies
	Bytes      int   // what the arena may lock
}

// Enough reports whether the arena got all it wanted.
func (b Budget) Enough(want int) bool { return b.Bytes >= want }

// LockedBudget raises RLIMIT_MEMLOCK's soft limit to its hard limit and
// returns how many bytes the arena may lock, at most want.
func LockedBudget(want int) Budget {
	b := Budget{Limit: -1, CapIPCLock: hasCapIPCLock()}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl); err == nil {
		if rl.Cur < rl.Max {
			raised := unix.Rlimit{Cur: rl.Max, Max: rl.Max}
			if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &raised) == nil {
				rl = raised
			}
		}
		if rl.Cur != unix.RLIM_INFINITY {
			b.Limit = int64(rl.Cur)
		}
	}
	b.Bytes = want
	if b.Limit >= 0 && !b.CapIPCLock {
		b.Bytes = int(max(0, min(int64(want), b.Limit-lockedReserve)))
	}
	return b
}

// hasCapIPCLock reads the effective capability set of this process.
func hasCapIPCLock() bool {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		hex, ok := bytes.CutPrefix(sc.Bytes(), []byte("CapEff:"))
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(string(bytes.TrimSpace(hex)), 16, 64)
		return err == nil && caps&(1<<unix.CAP_IPC_LOCK) != 0
	}
	return false
}
