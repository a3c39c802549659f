//go:build !linux

package store

// hugeMem is nothing here: indexes and argon2id's memory live in the Go
// heap.
type hugeMem []byte

func (hugeMem) free() error { return nil }

func mapIndex(n int) (hugeMem, []slot) { return nil, make([]slot, n) }

func mapArgon(n int) (hugeMem, []argonBlock) { return nil, make([]argonBlock, n) }
