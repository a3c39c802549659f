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
	type value struct {
		name         string
		mask, masked []byte
	}
	var values []value
	var stop atomic.Bool
	defer stop.Store(true)
	for _, size := range []int{12, 40, 100, 1000} {
		for _, step := range []string{"Create", "Reveal"} {
			v := value{strconv.Itoa(size) + "/" + step, make([]byte, size), make([]byte, size)}
			rand.Read(v.mask)
			rand.Read(v.masked)
			for v.mask[0]^v.masked[0] == 0 || v.mask[0]^v.masked[0] == 0xff {
				// The scan looks for the first byte; make it one that is rare
				// in memory.
				v.masked[0]++
			}
			values = append(values, v)
			var ready atomic.Bool
			var failed atomic.Value
			go func() {
				// After the step, nothing but this loop runs on this
				// goroutine's stack until the scan is over.
				if err := storeAndReveal(s, v.mask, v.masked, step == "Reveal"); err != nil {
					failed.Store(err)
				}
				ready.Store(true)
				for !stop.Load() {
					runtime.Gosched()
				}
			}()
			for !ready.Load() {
				runtime.Gosched()
			}
			if err, _ := failed.Load().(error); err != nil {
				t.Fatalf("%s: %v", v.name, err)
			}
		}
	}
	masks, maskeds := make([][]byte, len(values)+1), make([][]byte, len(values)+1)
	for i, v := range values {
		masks[i], maskeds[i] = v.mask, v.masked
	}
	// The process key, which every derivation hashes, has one place: the
	// locked buffer (which the scan must find, or it proves nothing).
	pk := len(values)
	masks[pk], maskeds[pk] = make([]byte, procKeySize), make([]byte, procKeySize)
	rand.Read(masks[pk])
	for i, c := range s.procKey() {
		maskeds[pk][i] = c ^ masks[pk][i]
	}
	found := countMasked(t, masks, maskeds)
	for i, n := range found[:pk] {
		if n > 0 {
			t.Errorf("%s: %d copies of the value left in memory", values[i].name, n)
		}
	}
	if found[pk] != 1 {
		t.Errorf("the process key is in %d places; want 1 (its locked buffer)", found[pk])
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
	out, _, err := s.Reveal(r.SecretKey[:], nil, alice)
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

// countMasked counts, for each i, the places in this process's readable
// memory that hold masks[i]^maskeds[i].
func countMasked(t *testing.T, masks, maskeds [][]byte) []int {
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
	longest := 0
	for _, m := range masks {
		longest = max(longest, len(m))
	}
	found := make([]int, len(masks))
	const window = 1 << 20
	buf := make([]byte, window+longest)
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[1][0] != 'r' || len(f) >= 6 && strings.HasPrefix(f[5], "[v") {
			continue
		}
		lo, hi, _ := strings.Cut(f[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		for off := start; off < end; off += window {
			n := min(end-off, uint64(len(buf)))
			got, _ := mem.ReadAt(buf[:n], int64(off))
			for i := range masks {
				found[i] += matchesMasked(buf[:got], masks[i], maskeds[i], min(got, window))
			}
			clear(buf[:got])
		}
	}
	return found
}

// matchesMasked counts the places before limit in b where mask^masked
// starts.
func matchesMasked(b, mask, masked []byte, limit int) int {
	first := mask[0] ^ masked[0]
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
