package store

import (
	"testing"
	"unsafe"
)

// TestGrowStack checks that after GrowStack a request-deep call does not
// move the stack (a move would copy whatever is on it and leave the old
// stack unwiped). The control shows that the same call, without GrowStack,
// does move a new goroutine's stack: otherwise the test could not fail.
func TestGrowStack(t *testing.T) {
	moved := func(grow bool) bool {
		done := make(chan bool)
		go func() {
			var here byte
			if grow {
				GrowStack()
			}
			before := uintptr(unsafe.Pointer(&here))
			deep(scrubSize - 2048)
			done <- uintptr(unsafe.Pointer(&here)) != before
		}()
		return <-done
	}
	if !moved(false) {
		t.Fatal("control: a deep call did not move a new goroutine's stack")
	}
	if moved(true) {
		t.Error("the stack moved after GrowStack")
	}
}

// deep uses about n bytes of stack below its caller.
//
//go:noinline
func deep(n int) byte {
	var b [512]byte
	b[n%len(b)] = byte(n)
	if n <= len(b) {
		return b[0]
	}
	return deep(n-len(b)-64) + b[1]
}

func BenchmarkGrowStack(b *testing.B) {
	for b.Loop() {
		GrowStack()
	}
}

func BenchmarkScrubStack(b *testing.B) {
	for b.Loop() {
		ScrubStack()
	}
}
