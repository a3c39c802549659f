package store

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The assembly that seals, opens and derives leaves blocks of its input in
// its stack frames (see burn.go). After a secret is stored and revealed,
// the goroutine that did it (still alive, its stack intact) must hold no
// copy of the value, and neither must any other memory of the process.
// The value exists unmasked only in locked memory; the test keeps it
// masked, so any copy found is one the store left.
func TestCryptoLeavesNoResidue(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/mem: Linux only")
	}
	s, _ := MustOpenStore(t)
	for _, size := range []int{12, 40, 100, 1000} {
		for _, step := range []string{"Create", "Reveal"} {
			t.Run(strconv.Itoa(size)+"/"+step, func(t *testing.T) {
				mask, masked := make([]byte, size), make([]byte, size)
				rand.Read(mask)
				rand.Read(masked)
				var ready, stop atomic.Bool
				var failed atomic.Value
				go func() {
					// After the step, nothing but this loop runs on this
					// goroutine's stack until the scan is over.
					if err := storeAndReveal(s, mask, masked, step == "Reveal"); err != nil {
						failed.Store(err)
					}
					ready.Store(true)
					for !stop.Load() {
						runtime.Gosched()
					}
				}()
				defer stop.Store(true)
				for !ready.Load() {
					runtime.Gosched()
				}
				if err, _ := failed.Load().(error); err != nil {
					t.Fatal(err)
				}
				if n := countMasked(t, mask, masked); n > 0 {
					t.Errorf("%d copies of a %d-byte value left in memory", n, size)
				}
			})
		}
	}
}

// storeAndReveal stores the value mask^masked, built in locked memory,
// and, if reveal, reveals it.
func storeAndReveal(s *Store, mask, masked []byte, reveal bool) error {
	p, err := s.Plain(len(mask))
	if err != nil {
		return err
	}
	defer p.Release()
	for i := range mask {
		p.Buf()[i] = mask[i] ^ masked[i]
	}
	p.SetLen(len(mask))
	r, err := s.Create(p, CreateOptions{TTL: time.Hour})
	if err != nil || !reveal {
		return err
	}
	// The plaintext slot goes first: from here on the value's only
	// rightful place is the revealed slot, wiped before the scan.
	p.Release()
	out, err := s.Reveal(r.SecretKey[:], nil, alice)
	r.Wipe()
	if err != nil {
		return err
	}
	defer out.Release()
	for i, c := range out.Bytes() {
		if c^mask[i] != masked[i] {
			return fmt.Errorf("revealed value differs at byte %d", i)
		}
	}
	return nil
}

// countMasked counts the places in this process's readable memory that
// hold mask^masked.
func countMasked(t *testing.T, mask, masked []byte) int {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		t.Fatal(err)
	}
	defer mem.Close()
	first := mask[0] ^ masked[0]
	found := 0
	var buf []byte
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[1][0] != 'r' || len(f) >= 6 && strings.HasPrefix(f[5], "[v") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		for off := start; off < end; off += 1 << 20 {
			n := min(end-off, 1<<20+uint64(len(mask)))
			if uint64(cap(buf)) < n {
				buf = make([]byte, n)
			}
			got, _ := mem.ReadAt(buf[:n], int64(off))
			found += matchesMasked(buf[:got], first, mask, masked, int(min(got, 1<<20)))
			clear(buf[:got])
		}
	}
	return found
}

// matchesMasked counts the places before limit in b where mask^masked
// starts.
func matchesMasked(b []byte, first byte, mask, masked []byte, limit int) int {
	found := 0
	for i := 0; i < limit; {
		j := bytes.IndexByte(b[i:limit], first)
		if j < 0 {
			break
		}
		i += j
		k := 1
		for k < len(mask) && i+k < len(b) && b[i+k]^mask[k] == masked[k] {
			k++
		}
		if k == len(mask) {
			found++
		}
		i++
	}
	return found
}
