package store

import (
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeMem is an anonymous mapping of the store's own, asked for huge pages:
// the kernel gives them where transparent huge pages are "madvise" or
// "always". Indexes (tags and record numbers) and argon2id's working
// memory live in such mappings; their look-ups land anywhere in many MiB,
// and with 4 KiB pages nearly each one misses the TLB, which on a virtual
// machine costs a walk of two page tables.
type hugeMem []byte

const hugePage = 2 << 20

// mapHuge maps size bytes and returns the mapping (to free) and the bytes
// to use. A mapping of a huge page or more is made one huge page larger,
// and its bytes start on a huge page boundary, so that huge pages can back
// all of them; the pages around them are never touched.
func mapHuge(size int) (hugeMem, []byte) {
	extra := 0
	if size >= hugePage {
		extra = hugePage
	}
	all, err := unix.Mmap(-1, 0, size+extra, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		// As the runtime does when the heap cannot grow.
		panic("store: cannot map " + strconv.Itoa(size) + " bytes: " + err.Error())
	}
	lead := 0
	if extra > 0 {
		lead = (hugePage - int(uintptr(unsafePointer(all))%hugePage)) % hugePage
	}
	b := all[lead : lead+size : lead+size]
	unix.Madvise(b, unix.MADV_HUGEPAGE) //nolint:errcheck // without huge pages it works all the same
	return all, b
}

// free unmaps the mapping; unix.Munmap knows it only whole, as mapHuge
// made it.
func (m hugeMem) free() error {
	if m == nil {
		return nil
	}
	return unix.Munmap(m)
}

func mapIndex(n int) (hugeMem, []slot) {
	m, b := mapHuge(n * int(unsafe.Sizeof(slot{})))
	return m, unsafe.Slice((*slot)(unsafePointer(b)), n)
}

func mapArgon(n int) (hugeMem, []argonBlock) {
	m, b := mapHuge(n * int(unsafe.Sizeof(argonBlock{})))
	return m, unsafe.Slice((*argonBlock)(unsafePointer(b)), n)
}
