package store

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

// RFC 9106, section 5.3, has a vector with a secret and associated data,
// which otslite never uses; golang.org/x/crypto/argon2 (no secret, no
// data) is the reference instead, over the shapes that exercise every
// branch: several lanes, passes and segment lengths, short and long tags.
func TestArgon2MatchesReference(t *testing.T) {
	a := argonState{pace: newPacer(nil, nil)}
	for _, c := range []struct {
		memory, time uint32
		lanes        uint8
		tag, pass    int
	}{
		{8, 1, 1, 32, 0}, {64, 1, 1, 32, 8}, {64, 2, 1, 32, 8}, {64, 3, 2, 32, 8},
		{100, 2, 3, 16, 300}, {1024, 2, 1, 32, 20}, {1030, 1, 4, 65, 5},
		{256, 1, 1, 100, 128}, {512, 2, 1, 1024, 33}, {19 << 10, 2, 1, 32, 12},
	} {
		t.Run(fmt.Sprintf("m%d-t%d-p%d-T%d", c.memory, c.time, c.lanes, c.tag), func(t *testing.T) {
			pass := bytes.Repeat([]byte{0x5a}, c.pass)
			salt := []byte("somesalt16bytes!")
			want := argon2.IDKey(pass, salt, c.time, c.memory, c.lanes, uint32(c.tag))
			got := make([]byte, c.tag)
			a.idKey(got, pass, salt, HashParams{MemoryKiB: c.memory, Time: c.time, Threads: c.lanes})
			if !bytes.Equal(got, want) {
				t.Errorf("got %s\nwant %s", hex.EncodeToString(got), hex.EncodeToString(want))
			}
			for _, b := range a.mem {
				if b != (argonBlock{}) {
					t.Fatal("memory not wiped after the hash")
				}
			}
		})
	}
}

func BenchmarkArgon2Default(b *testing.B) {
	a := argonState{pace: newPacer(nil, nil)}
	out := make([]byte, hashSize)
	salt := make([]byte, saltSize)
	b.Run("Own", func(b *testing.B) {
		for b.Loop() {
			a.idKey(out, []byte("correct horse"), salt, DefaultHashParams)
		}
	})
	b.Run("XCrypto", func(b *testing.B) {
		p := DefaultHashParams
		for b.Loop() {
			argon2.IDKey([]byte("correct horse"), salt, p.Time, p.MemoryKiB, p.Threads, hashSize)
		}
	})
}

// The pacer only yields while no other work is seen, and pauses while it
// is, to keep each hash on its schedule (hashSpan for all its blocks),
// within the bounds on its share; runs last at least minRun.
func TestPacer(t *testing.T) {
	var busy atomic.Uint64
	clock := time.Unix(0, 0)
	var slept []time.Duration
	yields := 0
	crowded := true
	p := newPacer(&busy, func() bool { return crowded })
	p.now = func() time.Time { return clock }
	p.sleep = func(d time.Duration) { slept = append(slept, d); clock = clock.Add(d) }
	p.gosched = func() { yields++; clock = clock.Add(5 * time.Microsecond) }
	run := func(d time.Duration) {
		clock = clock.Add(d)
		p.yield()
	}
	// A hash of 3200 blocks (100 runs) is due to end hashSpan after it
	// began: after each run, a hundredth of hashSpan more.
	p.start(100 * argonYieldEvery)
	run(60 * time.Microsecond) // nothing else about: just yield
	if yields != 1 || len(slept) != 0 {
		t.Fatalf("with nothing else about: yields %d, pauses %v", yields, slept)
	}
	busy.Add(1)
	// Plain work seen: it pauses until it is on its schedule, two
	// hundredths of hashSpan after it began, 265 µs in.
	run(200 * time.Microsecond)
	if want := 2*hashSpan/100 - 265*time.Microsecond; len(slept) != 1 || slept[0] != want {
		t.Fatalf("pauses %v, want [%v]", slept, want)
	}
	run(20 * time.Microsecond) // too short a run: neither
	if yields != 1 || len(slept) != 1 {
		t.Fatalf("after a short run: yields %d, pauses %v", yields, slept)
	}
	// Ahead of its schedule by more than maxPause: maxPause at once.
	p.blocks += 50 * argonYieldEvery
	run(400 * time.Microsecond)
	if len(slept) != 2 || slept[1] != maxPause {
		t.Fatalf("far ahead: pauses %v, want a last one of %v", slept, maxPause)
	}
	// Away twelve times as long as it has worked, it pauses no more, even
	// ahead of its schedule; nor does it yield: it goes on computing.
	p.start(100 * argonYieldEvery)
	p.started = p.started.Add(-1200 * time.Microsecond) // away that long already
	p.blocks += 50 * argonYieldEvery
	run(100 * time.Microsecond)
	if yields != 1 || len(slept) != 2 {
		t.Fatalf("away eleven times its work: yields %d, pauses %v", yields, slept)
	}
	// Behind its schedule it still pauses three times as long as it has
	// worked, counting what it was away.
	p.start(100 * argonYieldEvery)
	run(time.Millisecond)
	if want := 3*time.Millisecond - 5*time.Microsecond; len(slept) != 3 || slept[2] != min(maxPause, want) {
		t.Fatalf("behind the schedule: pauses %v, want a last one of %v", slept, min(maxPause, want))
	}
	// Once no plain work has been seen for busyWindow, it only yields.
	p.start(100 * argonYieldEvery)
	clock = clock.Add(busyWindow)
	run(60 * time.Microsecond)
	if yields != 2 || len(slept) != 3 {
		t.Errorf("after the window: yields %d, pauses %v", yields, slept)
	}
	// With a processor free of hashes, it only yields, plain work or not.
	busy.Add(1)
	crowded = false
	run(60 * time.Microsecond)
	if yields != 3 || len(slept) != 3 {
		t.Errorf("with a processor free: yields %d, pauses %v", yields, slept)
	}
}

// TestPacerKeepsItsRate runs hashes through the pacer on a simulated
// clock where every pause lasts longer than asked (a timer's latency, a
// wait for the processor behind other requests), as on a loaded server.
// The hashes must still come at their rate, and a hash must never take
// more than a quarter of the processor nor less than a twelfth. A yield
// there puts the hash behind every runnable request (2 ms here): a pacer
// that yields to catch up falls further behind.
func TestPacerKeepsItsRate(t *testing.T) {
	const blocks = 19456 * 2 // the default cost's
	for _, c := range []struct {
		name      string
		work      time.Duration // a hash's compute time
		overshoot time.Duration // added to every pause
		wantRate  float64
	}{
		{"Exact", 16 * time.Millisecond, 0, hashRate},
		{"LatePauses", 16 * time.Millisecond, 150 * time.Microsecond, hashRate},
		{"VeryLatePauses", 16 * time.Millisecond, 400 * time.Microsecond, hashRate},
		{"SlowProcessor", 22 * time.Millisecond, 150 * time.Microsecond, hashRate},
		// A hash that needs more than a quarter of the processor to keep
		// the rate gets a quarter: 40 ms of work spans 160 ms.
		{"TooSlowProcessor", 40 * time.Millisecond, 150 * time.Microsecond, 6.25},
		// A fast one's hashes keep the rate and take less of it.
		{"FastProcessor", 9 * time.Millisecond, 150 * time.Microsecond, hashRate},
		// One that would need less than a twelfth gets a twelfth.
		{"VeryFastProcessor", 2 * time.Millisecond, 0, 1000.0 / 24},
	} {
		t.Run(c.name, func(t *testing.T) {
			var busy atomic.Uint64
			clock := time.Unix(0, 0)
			var away time.Duration
			p := newPacer(&busy, func() bool { return true })
			p.now = func() time.Time { return clock }
			p.sleep = func(d time.Duration) { away += d + c.overshoot; clock = clock.Add(d + c.overshoot) }
			p.gosched = func() { away += 2 * time.Millisecond; clock = clock.Add(2 * time.Millisecond) }
			step := c.work / (blocks / argonYieldEvery)
			var span time.Duration
			for range 3 {
				begin := clock
				away = 0
				p.start(blocks)
				for range blocks / argonYieldEvery {
					clock = clock.Add(step)
					busy.Add(1) // plain requests keep coming
					p.yield()
				}
				span = clock.Sub(begin)
			}
			if rate := float64(time.Second) / float64(span); rate < c.wantRate*0.97 || rate > c.wantRate*1.03 {
				t.Errorf("a hash of %v spans %v: %.1f a second, want %.1f", c.work, span, rate, c.wantRate)
			}
			if share := float64(span-away) / float64(span); share > 0.25*1.01 || share < 1.0/12*0.99 {
				t.Errorf("hashes take %.3f of the processor, want between a twelfth and a quarter", share)
			}
		})
	}
}
