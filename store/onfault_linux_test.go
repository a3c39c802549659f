package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// The arena is locked page by page as it is touched: an idle arena takes
// (almost) no memory, and every page written to is locked.
func TestArenaLocksOnFault(t *testing.T) {
	l, err := PlanArena(4<<20, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	a := newArena(l)
	defer a.destroy()
	b := a.mem.Bytes()
	rss, _ := residence(t, b)
	if rss > 64<<10 {
		t.Errorf("an untouched %d KiB arena has %d KiB resident", len(b)>>10, rss>>10)
	}
	for _, sl := range []*slab{a.scratch, a.small, a.large} {
		for i := range sl.slots {
			p := &sl.slots[i]
			for i := 0; i < len(p.buf); i += 4096 {
				p.buf[i] = 1
			}
			clear(p.buf)
		}
	}
	rss, locked := residence(t, b)
	if locked < len(b)-8<<10 || rss < locked {
		t.Errorf("after touching all of it: %d KiB resident, %d KiB locked, of %d KiB", rss>>10, locked>>10, len(b)>>10)
	}
}

// residence sums Rss and Locked over the mappings that overlap b.
func residence(t *testing.T, b []byte) (rss, locked int) {
	t.Helper()
	lo := uint64(uintptr(unsafe.Pointer(&b[0])))
	hi := lo + uint64(len(b))
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) > 0 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			start, end, _ := strings.Cut(fields[0], "-")
			s, err1 := strconv.ParseUint(start, 16, 64)
			e, err2 := strconv.ParseUint(end, 16, 64)
			in = err1 == nil && err2 == nil && s < hi && e > lo
			continue
		}
		if !in || len(fields) < 2 {
			continue
		}
		kb, _ := strconv.Atoi(fields[1])
		switch fields[0] {
		case "Rss:":
			rss += kb << 10
		case "Locked:":
			locked += kb << 10
		}
	}
	return rss, locked
}
