//go:build !linux

package store

import "github.com/awnumar/memguard"

// mapLocked maps n bytes for plaintext as a memguard LockedBuffer where
// locking on fault is not available: locked and resident whole.
func mapLocked(n int) (*lockedRegion, error) {
	b := memguard.NewBuffer(n)
	return &lockedRegion{inner: b.Bytes(), buffer: b}, nil
}

// unmap gives the region back; it must be wiped first.
func (r *lockedRegion) unmap() { r.buffer.Destroy() }

// wipe zeroes the region.
func (r *lockedRegion) wipe() { clear(r.inner) }
