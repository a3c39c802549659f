package store

import (
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// indexMem is an index's own anonymous mapping, asked for huge pages: the
// kernel gives them where transparent huge pages are "madvise" or
// "always". It holds tags and record numbers only, nothing secret.
type indexMem []byte

func mapIndex(n int) (indexMem, []slot) {
	size := n * int(unsafe.Sizeof(slot{}))
	b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		// As the runtime does when the heap cannot grow.
		panic("store: cannot map an index of " + strconv.Itoa(size) + " bytes: " + err.Error())
	}
	unix.Madvise(b, unix.MADV_HUGEPAGE) //nolint:errcheck // without huge pages it works all the same
	return b, unsafe.Slice((*slot)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

func (m indexMem) free() {
	if m != nil {
		unix.Munmap(m) //nolint:errcheck // nothing to do about it
	}
}
