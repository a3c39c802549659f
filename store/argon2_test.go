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
// is: span/work − 1 times as long as each run took, so that a worker ends
// hashRate hashes a second; runs last at least minRun.
func TestPacer(t *testing.T) {
	var busy atomic.Uint64
	clock := time.Unix(0, 0)
	var slept []time.Duration
	yields := 0
	crowded := true
	rate := hashRate
	span := time.Duration(float64(time.Second) / rate)
	p := pacer{
		busy:     &busy,
		crowded:  func() bool { return crowded },
		now:      func() time.Time { return clock },
		sleep:    func(d time.Duration) { slept = append(slept, d); clock = clock.Add(d) },
		gosched:  func() { yields++; clock = clock.Add(5 * time.Microsecond) },
		hashWork: span / 5, // so it pauses four times as long as it works
	}
	run := func(d time.Duration) {
		clock = clock.Add(d)
		p.yield()
	}
	near := func(got []time.Duration, want ...time.Duration) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if d := got[i] - want[i]; d < -time.Microsecond || d > time.Microsecond {
				return false
			}
		}
		return true
	}
	p.start()
	run(60 * time.Microsecond) // nothing else about: just yield
	busy.Add(1)
	run(60 * time.Microsecond) // plain work seen: pause
	run(20 * time.Microsecond) // too short a run: neither
	run(30 * time.Microsecond) // now 50 µs: pause
	run(time.Millisecond)      // a long run: the pause is capped
	if yields != 1 || !near(slept, 240*time.Microsecond, 200*time.Microsecond, maxPause) {
		t.Fatalf("yields %d, pauses %v", yields, slept)
	}
	// The hash's work is its time less its pauses and yields: 60+60+20+30+1000 µs.
	p.done()
	if want := span/5 + (1170*time.Microsecond-span/5)/4; p.hashWork != want {
		t.Errorf("hashWork after a hash of 1.17 ms = %v, want %v", p.hashWork, want)
	}
	// Once no plain work has been seen for busyWindow, it only yields.
	p.start()
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
	// A fast processor's hashes take less of it, a slow one's more, within
	// a twelfth and a quarter.
	for _, c := range []struct {
		work time.Duration
		want float64
	}{{span / 5, 4}, {span / 7, 6}, {time.Millisecond, maxFactor}, {span, minFactor}, {0, float64(span)/float64(firstWork) - 1}} {
		p.hashWork = c.work
		if got := p.factor(); got < c.want-1e-6 || got > c.want+1e-6 {
			t.Errorf("factor with hashes of %v = %v, want %v", c.work, got, c.want)
		}
	}
}
