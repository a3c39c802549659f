//go:build !linux

package store

// indexMem is nothing here: the slots live in the Go heap.
type indexMem []byte

func mapIndex(n int) (indexMem, []slot) { return nil, make([]slot, n) }

func (indexMem) free() {}
