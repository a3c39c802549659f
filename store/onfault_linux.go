package store

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lockOnFault turns the whole pages of b, locked and resident, into pages
// locked as they are first touched (mlock2 with MLOCK_ONFAULT): a page of
// the arena takes memory only once a plaintext or a key is written into
// it, and it is locked before anything is. b must hold nothing yet: its
// pages are dropped and read back as zeros. Where the kernel cannot do
// that (before Linux 4.4), b stays locked and resident as it was.
func lockOnFault(b []byte) {
	page := uintptr(os.Getpagesize())
	base := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (base+page-1)&^(page-1) - base
	hi := (base+uintptr(len(b)))&^(page-1) - base
	if hi <= lo {
		return
	}
	whole := b[lo:hi]
	if unix.Munlock(whole) != nil {
		return
	}
	_ = unix.Madvise(whole, unix.MADV_DONTNEED)
	if _, _, errno := unix.Syscall(unix.SYS_MLOCK2, uintptr(unsafe.Pointer(&whole[0])), uintptr(len(whole)), unix.MLOCK_ONFAULT); errno != 0 {
		// Lock it all again, as memguard had.
		_ = unix.Mlock(whole)
	}
}
