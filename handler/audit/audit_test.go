package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"otslite/store"
)

// lockedBuffer is a writer safe to read while the trail writes.
type lockedBuffer struct {
	mu   sync.Mutex
	b    bytes.Buffer
	gate chan struct{} // when set, each Write waits for a value
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	if l.gate != nil {
		<-l.gate
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(tb testing.TB) []map[string]string {
	tb.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSuffix(l.b.String(), "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

var at = time.Date(2025, 3, 31, 6, 0, 0, 123e6, time.UTC)

func TestEventJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		e    Event
		want string
	}{
		{"Full", Event{Time: at, Event: Reveal, Ref: "0123456789ab", IP: netip.MustParseAddr("192.0.2.7"), User: "alice", Outcome: OK},
			`{"time":"2025-03-31T06:00:00.123Z","event":"reveal","ref":"0123456789ab","ip":"192.0.2.7","user":"alice","outcome":"ok"}`},
		{"Empty", Event{Time: at.In(time.FixedZone("X", 3600)), Event: SessionStart, Outcome: OK},
			`{"time":"2025-03-31T06:00:00.123Z","event":"session_start","ref":"","ip":"","user":"","outcome":"ok"}`},
		{"IPv6", Event{Time: at, Event: Create, IP: netip.MustParseAddr("2001:db8::1"), Outcome: DeniedNetwork},
			`{"time":"2025-03-31T06:00:00.123Z","event":"create","ref":"","ip":"2001:db8::1","user":"","outcome":"denied_network"}`},
		{"Escaped", Event{Time: at, Event: Create, User: "a\"b\\c\n\x7f\xc3\xa9", Outcome: OK},
			`{"time":"2025-03-31T06:00:00.123Z","event":"create","ref":"","ip":"","user":"a\"b\\c\u000a\u007f\u00c3\u00a9","outcome":"ok"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.e.AppendJSON(nil))
			if got != tt.want {
				t.Errorf("AppendJSON =\n%s\nwant\n%s", got, tt.want)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(got), &m); err != nil || len(m) != 6 {
				t.Errorf("not a JSON object of six strings: %v, %v", m, err)
			}
		})
	}
}

func TestTrail(t *testing.T) {
	t.Run("LinesInOrder", func(t *testing.T) {
		var out lockedBuffer
		tr := New(Config{Out: &out, Now: func() time.Time { return at }})
		for i := range 100 {
			tr.Record(Event{Event: Create, Outcome: OK, User: "u" + strconv.Itoa(i)})
		}
		tr.Close()
		lines := out.lines(t)
		if len(lines) != 100 {
			t.Fatalf("%d lines; want 100", len(lines))
		}
		for i, m := range lines {
			if m["user"] != "u"+strconv.Itoa(i) || m["time"] != "2025-03-31T06:00:00.123Z" {
				t.Fatalf("line %d = %v", i, m)
			}
		}
		tr.Record(Event{Event: Create, Outcome: OK})
		if n := len(out.lines(t)); n != 100 {
			t.Errorf("a line was written after Close")
		}
		if n := len(tr.Events()); n != 101 {
			t.Errorf("%d events kept after Close; want 101", n)
		}
	})

	t.Run("KeepsTheLast", func(t *testing.T) {
		tr := New(Config{Keep: 3})
		defer tr.Close()
		if len(tr.Events()) != 0 {
			t.Fatal("a new trail has events")
		}
		for i := range 5 {
			tr.Record(Event{Event: Create, User: strconv.Itoa(i)})
			ev := tr.Events()
			if len(ev) != min(i+1, 3) || ev[len(ev)-1].User != strconv.Itoa(i) {
				t.Fatalf("after %d events: %v", i+1, ev)
			}
		}
		var users []string
		for _, e := range tr.Events() {
			users = append(users, e.User)
		}
		if strings.Join(users, ",") != "2,3,4" {
			t.Errorf("kept %q; want the last three, oldest first", users)
		}
	})

	t.Run("Quiet", func(t *testing.T) {
		tr := New(Config{})
		tr.Record(Event{Event: Reveal, Outcome: OK})
		tr.Close()
		if ev := tr.Events(); len(ev) != 1 || ev[0].Time.IsZero() {
			t.Errorf("quiet trail kept %v", ev)
		}
		var none *Trail
		none.Record(Event{Event: Reveal})
		if none.Events() != nil || none.Ref(store.Ref{1}) != "" {
			t.Error("a nil trail is not empty")
		}
	})

	t.Run("SlowWriterDropsAndSays", func(t *testing.T) {
		out := lockedBuffer{gate: make(chan struct{})}
		tr := New(Config{Out: &out, Queue: 2})
		tr.Record(Event{Event: Create, User: "first"}) // taken by the writer, which then waits
		deadline := time.Now().Add(5 * time.Second)
		for tr.waiting() > 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		for i := range 7 {
			tr.Record(Event{Event: Create, User: strconv.Itoa(i)}) // 2 queued, 5 dropped
		}
		done := make(chan struct{})
		go func() { tr.Close(); close(done) }()
		for {
			select {
			case out.gate <- struct{}{}:
				continue
			case <-done:
			}
			break
		}
		var got []string
		for _, m := range out.lines(t) {
			got = append(got, m["event"]+":"+m["user"]+m["outcome"])
		}
		want := "create:first,create:0,create:1,audit_dropped:5"
		if strings.Join(got, ",") != want {
			t.Errorf("lines %q; want %q", got, want)
		}
		if n := len(tr.Events()); n != 8 {
			t.Errorf("%d events kept; want all 8", n)
		}
	})

	t.Run("Batches", func(t *testing.T) {
		var out countingWriter
		tr := New(Config{Out: &out, Delay: time.Hour})
		for i := range 100 {
			tr.Record(Event{Event: Create, User: strconv.Itoa(i)})
		}
		if out.writes.Load() != 0 {
			t.Errorf("%d writes before the delay ran out", out.writes.Load())
		}
		tr.Close() // cuts the delay short
		if w, n := out.writes.Load(), bytes.Count(out.b.Bytes(), []byte("\n")); w != 1 || n != 100 {
			t.Errorf("%d lines in %d writes; want 100 in 1", n, w)
		}
	})

	t.Run("WritesAfterTheDelay", func(t *testing.T) {
		out := lockedBuffer{}
		tr := New(Config{Out: &out, Delay: time.Millisecond})
		defer tr.Close()
		tr.Record(Event{Event: Create, User: "a"})
		deadline := time.Now().Add(5 * time.Second)
		for len(out.lines(t)) == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if n := len(out.lines(t)); n != 1 {
			t.Fatalf("%d lines written by an open trail; want 1", n)
		}
	})
}

// waiting reports how many lines wait for the writer.
func (t *Trail) waiting() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.queued
}

// countingWriter counts writes; it is read only after the trail closed.
type countingWriter struct {
	b      bytes.Buffer
	writes atomic.Int32
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes.Add(1)
	return w.b.Write(p)
}

func TestStamper(t *testing.T) {
	var s stamper
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := at.In(time.FixedZone("X", -5*3600))
	for i := range 10000 {
		// Mostly small steps (the cache's case), sometimes far jumps.
		step := time.Duration(rng.Int64N(int64(3 * time.Second)))
		if i%100 == 0 {
			step = time.Duration(rng.Int64N(int64(400 * 24 * time.Hour)))
		}
		if rng.IntN(4) == 0 {
			step = -step
		}
		t0 = t0.Add(step)
		got := string(s.appendTime(nil, t0))
		want := t0.UTC().Format("2006-01-02T15:04:05.000Z")
		if got != want {
			t.Fatalf("appendTime(%v) = %q; want %q", t0, got, want)
		}
	}
}

func TestRef(t *testing.T) {
	tr := New(Config{})
	defer tr.Close()
	r1, r2 := store.Ref{1, 2, 3, 4, 5, 6, 7, 8}, store.Ref{1, 2, 3, 4, 5, 7, 7, 8}
	f := tr.Ref(r1)
	if f != "010203040506" {
		t.Fatalf("Ref = %q; want the first 6 bytes in hex", f)
	}
	if tr.Ref(r2) == f {
		t.Error("two refs share a name")
	}
	if tr.Ref(store.Ref{}) != "" {
		t.Error("the zero Ref (no secret) is named")
	}
}

// appendString gives what escaping one byte at a time gives.
func TestAppendString(t *testing.T) {
	reference := func(s string) string {
		out := `"`
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == '"' || c == '\\':
				out += `\` + string(c)
			case c < 0x20 || c >= 0x7f:
				out += fmt.Sprintf(`\u%04x`, c)
			default:
				out += string(c)
			}
		}
		return out + `"`
	}
	alphabet := "az09 ~\"\\\n\x00\x1f\x7f\x80\xc3\xa9\xff"
	rng := rand.New(rand.NewPCG(7, 8))
	for range 1 << 14 {
		b := make([]byte, rng.IntN(24))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if got, want := string(appendString(nil, string(b))), reference(string(b)); got != want {
			t.Fatalf("appendString(%q) = %s, want %s", b, got, want)
		}
	}
}

func BenchmarkEventJSON(b *testing.B) {
	e := Event{Time: at, Event: Reveal, Ref: "0123456789ab", IP: netip.MustParseAddr("192.0.2.7"), Outcome: OK}
	var s stamper
	buf := make([]byte, 0, 256)
	for b.Loop() {
		buf = e.appendJSON(buf[:0], &s)
	}
}
