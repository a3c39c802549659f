package store

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mapLocked maps n bytes (rounded up to whole pages) for plaintext, as
// memguard maps a LockedBuffer but without touching a page: an
// inaccessible guard page on each side, excluded from core dumps, and
// locked as its pages are first touched (mlock2 with MLOCK_ONFAULT), so an
// idle arena takes memory only where a plaintext or a key has been written,
// and every such page is locked before anything is written to it. A fresh
// anonymous mapping reads as zeros, so there is nothing to wipe first
// (memguard's NewBuffer writes every page of its buffer, and locks it
// whole: for the arena that was most of the server's start). Where the
// kernel cannot lock on fault (before Linux 4.4) the region is locked
// whole, as memguard would.
func mapLocked(n int) (*lockedRegion, error) {
	page := os.Getpagesize()
	inner := (n + page - 1) &^ (page - 1)
	all, err := unix.Mmap(-1, 0, inner+2*page, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("failed to map %d bytes for the arena: %w", inner, err)
	}
	r := &lockedRegion{all: all, inner: all[page : page+inner : page+inner]}
	fail := func(what string, err error) (*lockedRegion, error) {
		_ = unix.Munmap(all)
		return nil, fmt.Errorf("failed to %s the arena: %w", what, err)
	}
	if err := unix.Mprotect(r.inner, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		return fail("open", err)
	}
	_ = unix.Madvise(r.inner, unix.MADV_DONTDUMP)
	if _, _, errno := unix.Syscall(unix.SYS_MLOCK2, uintptr(unsafePointer(r.inner)), uintptr(len(r.inner)), unix.MLOCK_ONFAULT); errno != 0 {
		if err := unix.Mlock(r.inner); err != nil {
			return fail("lock", err)
		}
	}
	return r, nil
}

// unmap gives the region back; it must be wiped first.
func (r *lockedRegion) unmap() { _ = unix.Munmap(r.all) }

// wipe zeroes the region's pages that hold anything: those resident now
// (mincore). A page never touched, or dropped, reads as zeros, and
// writing it would only fault it in. Should mincore fail, all is zeroed.
func (r *lockedRegion) wipe() {
	page := os.Getpagesize()
	vec := make([]byte, (len(r.inner)+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafePointer(r.inner)), uintptr(len(r.inner)), uintptr(unsafePointer(vec))); errno != 0 {
		clear(r.inner)
		return
	}
	for i, v := range vec {
		if v&1 != 0 {
			clear(r.inner[i*page : min((i+1)*page, len(r.inner))])
		}
	}
}
