package store

// ScrubStack zeroes the stack space below its caller's frame: what the
// calls the caller just returned from left there (SHA-3 states, derived
// keys, Receipt copies holding link keys). Go gives no other way to reach a
// returned function's frame. It covers scrubSize bytes, more than the
// deepest request path uses; each call costs a few hundred nanoseconds.
//
//go:noinline
func ScrubStack() { scrubFrame(true) }

const scrubSize = 16 << 10

// GrowStack makes sure the goroutine's stack has room for ScrubStack's
// span below its caller, without writing to it. A request handler calls
// it first: a stack that must grow later, with a secret on it, is copied
// and the old one goes back to the allocator unwiped. Making the room
// while nothing secret is on the stack costs nothing when it is already
// there, unlike scrubbing it.
//
//go:noinline
func GrowStack() { scrubFrame(false) }

// scrubFrame's frame holds scrubSize bytes, so its prologue grows the
// stack to fit them; they are zeroed only when write is set.
//
//go:noinline
func scrubFrame(write bool) {
	if write {
		var b [scrubSize]byte
		keep(b[:])
	}
}

// keep makes the compiler materialise, and so zero, its argument.
//
//go:noinline
func keep([]byte) {}

// burnStack is ScrubStack for the store's own use, right after sealing,
// opening and deriving: the AVX2 AEAD and the hashes are assembly that keep
// what they work on (a plaintext's last partial block, key stream, hash
// input) in their own stack frames, just below the caller's. Their frames
// are shallow, so burnSize covers them at a tenth of ScrubStack's cost.
//
//go:noinline
func burnStack() { burnFrame(true) }

// reserveBurn makes room for burnSize bytes below its caller without
// writing them, so that what the caller runs next within that depth cannot
// make the stack grow (and be copied, the old copy left unwiped) while it
// holds a key.
//
//go:noinline
func reserveBurn() { burnFrame(false) }

// burnFrame's frame holds burnSize bytes, zeroed only when write is set.
//
//go:noinline
func burnFrame(write bool) {
	if write {
		var b [burnSize]byte
		keep(b[:])
	}
}

const burnSize = 1536

// scrubVectors overwrites the vector registers a memmove uses (XMM0-15 on
// amd64: a copy of 129 to 256 bytes loads all of them) with zeros. A
// signal (the runtime's preemption, for a garbage collection) saves the
// registers of the thread it interrupts on the signal stack, which nothing
// wipes; code that computes long in general registers, like argon2id here,
// leaves whatever the last copies put in the vector registers (a request
// body, say) for such a signal to save. It costs a 256-byte copy.
func scrubVectors() {
	var dst [256]byte
	// A length the compiler cannot see makes this a call to memmove
	// rather than inline moves through one register.
	copy(dst[:vectorBytes], zeroVectors[:vectorBytes])
	keep(dst[:])
}

var (
	zeroVectors [256]byte
	vectorBytes = len(zeroVectors)
)
