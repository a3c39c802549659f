//go:build !amd64 || !gc || purego

package store

func compressAVX2(dst, x, y, r, q *argonBlock, xor bool) { panic("unreachable") }

const haveCompressAVX2 = false
