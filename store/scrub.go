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
