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
	a, err := newArena(l)
	if err != nil {
		t.Fatal(err)
	}
	defer a.destroy()
	b := a.mem.inner
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

// The arena's region sits between inaccessible guard pages, is kept out of
// core dumps, and is wiped on its way out: by destroy, and by Purge while
// its store is still open.
func TestLockedRegion(t *testing.T) {
	r, err := newLockedRegion(5 * 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r.destroy()
	lo := uintptr(unsafe.Pointer(&r.all[0]))
	inner := uintptr(unsafe.Pointer(&r.inner[0]))
	maps, flags := regionMaps(t, lo, lo+uintptr(len(r.all)))
	for _, want := range []struct {
		at    uintptr
		perms string
	}{{lo, "---p"}, {inner, "rw-p"}, {inner + uintptr(len(r.inner)), "---p"}} {
		if got := maps[want.at]; got != want.perms {
			t.Errorf("page at %#x: %q, want %q (maps %v)", want.at, got, want.perms, maps)
		}
	}
	if !strings.Contains(flags[inner], " dd") || !strings.Contains(flags[inner], " lf") {
		t.Errorf("region flags %q: want dd (not dumped) and lf (locked on fault)", flags[inner])
	}
	marker := []byte("locked region marker")
	for _, off := range []int{0, 2*4096 + 100, len(r.inner) - len(marker)} {
		copy(r.inner[off:], marker)
	}
	wipeRegions()
	for i, c := range r.inner {
		if c != 0 {
			t.Fatalf("byte %d is %#x after the regions were wiped", i, c)
		}
	}
	// wipe writes only the pages that hold something.
	r2, err := newLockedRegion(5 * 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.destroy()
	copy(r2.inner[4096:], marker)
	r2.wipe()
	if rss, _ := residence(t, r2.inner); rss > 4096 {
		t.Errorf("wiping touched untouched pages: %d KiB resident", rss>>10)
	}
	for i, c := range r2.inner {
		if c != 0 {
			t.Fatalf("byte %d is %#x after wipe", i, c)
		}
	}
}

// regionMaps reads /proc/self/smaps for the mappings within [lo, hi): the
// permissions and VmFlags of each, by start address.
func regionMaps(t *testing.T, lo, hi uintptr) (perms, vmflags map[uintptr]string) {
	t.Helper()
	perms, vmflags = map[uintptr]string{}, map[uintptr]string{}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cur uintptr
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			start, _, _ := strings.Cut(fields[0], "-")
			s, err := strconv.ParseUint(start, 16, 64)
			in = err == nil && uintptr(s) >= lo && uintptr(s) < hi
			if in {
				cur = uintptr(s)
				perms[cur] = fields[1]
			}
			continue
		}
		if in && len(fields) > 0 && fields[0] == "VmFlags:" {
			vmflags[cur] = " " + strings.Join(fields[1:], " ")
		}
	}
	return perms, vmflags
}
