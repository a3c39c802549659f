package store

import (
	"sync"
	"unsafe"

	"github.com/awnumar/memguard"
)

// lockedRegion is the memory the arena carves into slots (see mapLocked):
// the only place plaintext exists.
type lockedRegion struct {
	all    []byte                 // the whole mapping, guard pages included (Linux)
	inner  []byte                 // what the arena uses
	buffer *memguard.LockedBuffer // where memguard maps it instead
}

// regions are the locked regions alive in this process. memguard's Purge
// wipes only the buffers memguard made; Purge wipes these too, so that
// every way out of the process wipes every plaintext, whether or not its
// store was closed.
var regions = struct {
	sync.Mutex
	live map[*lockedRegion]struct{}
}{live: make(map[*lockedRegion]struct{})}

func newLockedRegion(n int) (*lockedRegion, error) {
	r, err := mapLocked(n)
	if err != nil {
		return nil, err
	}
	regions.Lock()
	regions.live[r] = struct{}{}
	regions.Unlock()
	return r, nil
}

// destroy wipes the region and gives it back.
func (r *lockedRegion) destroy() {
	regions.Lock()
	defer regions.Unlock()
	if _, ok := regions.live[r]; !ok {
		return
	}
	delete(regions.live, r)
	r.wipe()
	r.unmap()
}

// Purge wipes every plaintext slot of every store in the process, closed
// or not, and then everything memguard holds (memguard.Purge: the process
// keys among it). Call it on every way out of the process. Stores must not
// be used afterwards.
func Purge() {
	wipeRegions()
	memguard.Purge()
}

// wipeRegions wipes every live region.
func wipeRegions() {
	regions.Lock()
	defer regions.Unlock()
	for r := range regions.live {
		r.wipe()
	}
}

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }
