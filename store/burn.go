package store

// The AVX2 AEAD and the Keccak permutation are assembly that keep what
// they work on (a plaintext's last partial block, key stream, hash state)
// in their own stack frames, and nothing wipes those when they return.
// burnStack zeroes the stack just below its caller, where those frames
// were; the store calls it right after sealing, opening and deriving. Its
// frame is about as deep as theirs, so it seldom makes the stack grow (a
// grown stack leaves the old one unwiped).
const burnSize = 1536

//go:noinline
func burnStack() {
	var b [burnSize]byte
	keepStack(&b)
}

// keepStack makes b's zeroing a store the compiler must keep.
//
//go:noinline
func keepStack(*[burnSize]byte) {}
