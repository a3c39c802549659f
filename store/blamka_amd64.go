//go:build amd64 && gc && !purego

package store

import "golang.org/x/sys/cpu"

// compressAVX2 is argonState.compress in AVX2 assembly (blamka_amd64.s):
// dst = G(x, y), or dst ^= G(x, y) when xor, with r and q as scratch
// blocks. It keeps nothing on the stack, and clears the vector registers
// it used before it returns. dst may be y.
//
//go:noescape
func compressAVX2(dst, x, y, r, q *argonBlock, xor bool)

// haveCompressAVX2 reports whether compressAVX2 can run here.
var haveCompressAVX2 = cpu.X86.HasAVX2
