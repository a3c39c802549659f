package tlskey

// Arithmetic modulo n, the order of P-256's base point, on values that
// live in fixed arrays (on the caller's stack), in constant time: no branch
// and no memory access depends on a value. Values are 4 little-endian
// 64-bit limbs; Montgomery form uses R = 2^256.

import (
	"math/big"
	"math/bits"
)

type scalar [4]uint64

var (
	// n, little-endian limbs.
	orderN = scalar{0xf3b9cac2fc632551, 0xbce6faada7179e84, 0xffffffffffffffff, 0xffffffff00000000}
	// nInv is -n⁻¹ mod 2^64.
	nInv uint64 = 0xccd1c8aaee00bc4f
	// rr is R² mod n, which takes a value into Montgomery form.
	rr = func() scalar {
		n := limbsToBig(orderN)
		r2 := new(big.Int).Lsh(big.NewInt(1), 512)
		return bigToLimbs(r2.Mod(r2, n))
	}()
	// nMinus2 is the exponent that inverts (Fermat); it is public.
	nMinus2 = func() scalar {
		n := limbsToBig(orderN)
		return bigToLimbs(n.Sub(n, big.NewInt(2)))
	}()
)

func limbsToBig(a scalar) *big.Int {
	b := new(big.Int)
	for i := 3; i >= 0; i-- {
		b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(a[i]))
	}
	return b
}

func bigToLimbs(b *big.Int) scalar {
	var a scalar
	words := make([]byte, 32)
	b.FillBytes(words)
	setBytes(&a, (*[32]byte)(words))
	return a
}

// setBytes sets a to the 32-byte big-endian b (not reduced).
func setBytes(a *scalar, b *[32]byte) {
	for i := range 4 {
		var w uint64
		for j := range 8 {
			w = w<<8 | uint64(b[(3-i)*8+j])
		}
		a[i] = w
	}
}

// putBytes writes a as 32 big-endian bytes.
func putBytes(b *[32]byte, a *scalar) {
	for i := range 4 {
		w := a[i]
		for j := 7; j >= 0; j-- {
			b[(3-i)*8+j] = byte(w)
			w >>= 8
		}
	}
}

// lessThanN is 1 when a < n, 0 otherwise.
func lessThanN(a *scalar) uint64 {
	var borrow uint64
	for i := range 4 {
		_, borrow = bits.Sub64(a[i], orderN[i], borrow)
	}
	return borrow
}

// isZero is 1 when a is 0.
func isZero(a *scalar) uint64 {
	z := a[0] | a[1] | a[2] | a[3]
	return 1 ^ (z|-z)>>63
}

// reduceOnce sets a to a - n when a >= n. (a < 2n.)
func reduceOnce(a *scalar) {
	var d scalar
	var borrow uint64
	for i := range 4 {
		d[i], borrow = bits.Sub64(a[i], orderN[i], borrow)
	}
	// borrow 1: a < n, keep a.
	mask := borrow - 1 // all ones when a >= n
	for i := range 4 {
		a[i] = a[i]&^mask | d[i]&mask
	}
}

// add sets z = a + b mod n (a, b < n).
func add(z, a, b *scalar) {
	var s scalar
	var carry uint64
	for i := range 4 {
		s[i], carry = bits.Add64(a[i], b[i], carry)
	}
	var d scalar
	var borrow uint64
	for i := range 4 {
		d[i], borrow = bits.Sub64(s[i], orderN[i], borrow)
	}
	// Use d when the sum overflowed 2^256 or is at least n.
	mask := -(carry | (1 ^ borrow))
	for i := range 4 {
		z[i] = s[i]&^mask | d[i]&mask
	}
}

// mul sets z = a * b * R⁻¹ mod n (Montgomery multiplication; a, b < n).
func mul(z, a, b *scalar) {
	var t [6]uint64
	for i := range 4 {
		// t += a * b[i]
		var carry uint64
		for j := range 4 {
			hi, lo := bits.Mul64(a[j], b[i])
			var c uint64
			lo, c = bits.Add64(lo, t[j], 0)
			hi += c
			lo, c = bits.Add64(lo, carry, 0)
			hi += c
			t[j], carry = lo, hi
		}
		var c uint64
		t[4], c = bits.Add64(t[4], carry, 0)
		t[5] = c
		// t += m * n, then t >>= 64
		m := t[0] * nInv
		hi, lo := bits.Mul64(m, orderN[0])
		_, c = bits.Add64(lo, t[0], 0)
		carry = hi + c
		for j := 1; j < 4; j++ {
			hi, lo = bits.Mul64(m, orderN[j])
			lo, c = bits.Add64(lo, t[j], 0)
			hi += c
			lo, c = bits.Add64(lo, carry, 0)
			hi += c
			t[j-1], carry = lo, hi
		}
		t[3], c = bits.Add64(t[4], carry, 0)
		t[4] = t[5] + c
	}
	var d scalar
	var borrow uint64
	for i := range 4 {
		d[i], borrow = bits.Sub64(t[i], orderN[i], borrow)
	}
	_, borrow = bits.Sub64(t[4], 0, borrow)
	mask := borrow - 1 // all ones when t >= n
	for i := range 4 {
		z[i] = t[i]&^mask | d[i]&mask
	}
	clear(t[:])
	clear(d[:])
}

// toMont sets z = a * R mod n.
func toMont(z, a *scalar) { mul(z, a, &rr) }

// fromMont sets z = a * R⁻¹ mod n.
func fromMont(z, a *scalar) {
	one := scalar{1}
	mul(z, a, &one)
}

// invert sets z = a⁻¹ (both in Montgomery form), as a^(n-2). The exponent
// is public, so branching on its bits reveals nothing.
func invert(z, a *scalar) {
	var acc scalar
	toMont(&acc, &scalar{1})
	for i := 255; i >= 0; i-- {
		mul(&acc, &acc, &acc)
		if nMinus2[i/64]>>(i%64)&1 == 1 {
			mul(&acc, &acc, a)
		}
	}
	*z = acc
	clear(acc[:])
}
