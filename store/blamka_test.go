package store

import (
	"math/rand/v2"
	"testing"
)

// The AVX2 compression gives what the Go one gives, both ways (set and
// XOR into dst), with dst apart from its inputs and with dst as y, and
// leaves x (and y, unless it is dst) as they were.
func TestCompressAVX2(t *testing.T) {
	if !haveCompressAVX2 {
		t.Skip("no AVX2 assembly on this platform")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(b *argonBlock) {
		for i := range b {
			b[i] = rng.Uint64()
		}
	}
	var a argonState
	for n := range 200 {
		var x, y, dst, want argonBlock
		fill(&x)
		fill(&y)
		fill(&dst)
		if n == 0 {
			x, y = argonBlock{}, argonBlock{}
		}
		xor := n%2 == 1
		want = dst
		a.compressGo(&want, &x, &y, xor)
		x0, y0 := x, y
		got := dst
		compressAVX2(&got, &x, &y, &a.r, &a.q, xor)
		if got != want {
			t.Fatalf("round %d (xor %v): AVX2 and Go differ", n, xor)
		}
		if x != x0 || y != y0 {
			t.Fatalf("round %d: inputs changed", n)
		}
		// dst as y, as nextAddresses does.
		want, got = y, y
		a.compressGo(&want, &x, &want, xor)
		compressAVX2(&got, &x, &got, &a.r, &a.q, xor)
		if got != want {
			t.Fatalf("round %d (xor %v): with dst as y, AVX2 and Go differ", n, xor)
		}
	}
}

// BenchmarkCompress is argon2id's compression function in Go and in AVX2
// assembly: a default hash (19 MiB, two passes) runs it 38,912 times.
func BenchmarkCompress(b *testing.B) {
	var a argonState
	var x, y, dst argonBlock
	for i := range x {
		x[i], y[i] = uint64(i)*0x9e3779b97f4a7c15, uint64(i)^0xdeadbeef
	}
	b.Run("Go", func(b *testing.B) {
		b.SetBytes(1024)
		for b.Loop() {
			a.compressGo(&dst, &x, &y, true)
		}
	})
	b.Run("AVX2", func(b *testing.B) {
		if !haveCompressAVX2 {
			b.Skip("no AVX2 assembly on this platform")
		}
		b.SetBytes(1024)
		for b.Loop() {
			compressAVX2(&dst, &x, &y, &a.r, &a.q, true)
		}
	})
}
