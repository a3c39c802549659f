package store

// ScrubStack zeroes the stack space below its caller's frame: what the
// calls the caller just returned from left there (SHA-3 states, derived
// keys, Receipt copies holding link keys). Go gives no other way to reach a
// returned function's frame. It covers scrubSize bytes, more than the
// deepest request path uses; each call costs a few hundred nanoseconds.
//
//go:noinline
func ScrubStack() {
	var b [scrubSize]byte
	keep(b[:])
}

const scrubSize = 16 << 10

// keep makes the compiler materialise, and so zero, its argument.
//
//go:noinline
func keep([]byte) {}

// burnStack is ScrubStack for the store's own use, right after sealing,
// opening and deriving: the AVX2 AEAD and the Keccak permutation are
// assembly that keep what they work on (a plaintext's last partial block,
// key stream, hash state) in their own stack frames, just below the
// caller's. Their frames are shallow, so burnSize covers them at a tenth
// of ScrubStack's cost; its frame is about as deep as theirs, so it seldom
// makes the stack grow (a grown stack leaves the old one unwiped).
//
//go:noinline
func burnStack() {
	var b [burnSize]byte
	keep(b[:])
}

const burnSize = 1536
