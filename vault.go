package main

// The client commands' locked memory. Everything that holds a secret, a
// passphrase, a link key, a proof or a credential lives in buffers mapped
// apart from the Go heap: mlocked (never swapped), kept out of core dumps,
// zeroed when freed. A command frees them as it goes and the vault frees
// the rest when the command ends, whichever way it ends.

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// vault owns the locked buffers of one command.
type vault struct {
	mu   sync.Mutex
	bufs map[*byte][]byte // first byte → the whole mapping
}

func newVault() *vault {
	raiseMemlock()
	return &vault{bufs: map[*byte][]byte{}}
}

// errLockedMemory says how to get more locked memory.
var errLockedMemory = errors.New("raise the locked-memory limit (ulimit -l; in Docker, --ulimit memlock=-1)")

// alloc returns n zeroed bytes of locked memory.
func (v *vault) alloc(n int) ([]byte, error) {
	size := (max(n, 1) + pageSize - 1) &^ (pageSize - 1)
	m, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("cannot map %s of memory: %w", formatSize(int64(size)), err)
	}
	unix.Madvise(m, unix.MADV_DONTDUMP) //nolint:errcheck // core dumps are off anyway
	if err := unix.Mlock(m); err != nil {
		unix.Munmap(m) //nolint:errcheck // never used
		return nil, fmt.Errorf("cannot lock %s of memory for the secret (%v): %w", formatSize(int64(size)), err, errLockedMemory)
	}
	v.mu.Lock()
	v.bufs[&m[0]] = m
	v.mu.Unlock()
	return m[:n], nil // its capacity is locked too, to the end of the page
}

// grow returns a locked buffer of n bytes holding b's bytes, and frees b.
func (v *vault) grow(b []byte, n int) ([]byte, error) {
	nb, err := v.alloc(n)
	if err != nil {
		return nil, err
	}
	copy(nb, b)
	v.free(b)
	return nb, nil
}

// free zeroes and unmaps a buffer alloc returned (any slice of it that
// starts where it does). Anything else is ignored.
func (v *vault) free(b []byte) {
	if cap(b) == 0 {
		return
	}
	start := &b[:1][0]
	v.mu.Lock()
	m, ok := v.bufs[start]
	delete(v.bufs, start)
	v.mu.Unlock()
	if ok {
		clear(m)
		unix.Munmap(m) //nolint:errcheck // zeroed already
	}
}

// wipe zeroes and unmaps every buffer still held. Slices of them must not
// be used afterwards.
func (v *vault) wipe() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, m := range v.bufs {
		clear(m)
		unix.Munmap(m) //nolint:errcheck // zeroed already
		delete(v.bufs, k)
	}
}

// held is how many buffers are held (for tests).
func (v *vault) held() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.bufs)
}

const pageSize = 4096

// raiseMemlock raises the soft locked-memory limit to the hard one, as the
// server does at start.
func raiseMemlock() {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		unix.Setrlimit(unix.RLIMIT_MEMLOCK, &rl) //nolint:errcheck // the old limit stays
	}
}
