//go:build !linux

package store

// lockOnFault leaves b locked and resident where locking on fault is not
// available.
func lockOnFault([]byte) {}
