package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"otslite/handler"
	"otslite/store"
	"otslite/store/envelope"
)

func TestPlanFiles(t *testing.T) {
	const maxSecret = 64 << 10
	p := planFiles(10<<20, maxSecret)
	if p.MaxFile != 10<<20 || p.Slots != fileSlotsWanted || p.Envelope != fileEnvelope(10<<20) || p.SlotSize != handler.FileSlotSize(p.Envelope) {
		t.Fatalf("plan %+v", p)
	}
	// An envelope of 10 MiB of files and their header fits, and the body
	// that carries it fits a slot.
	if envelope.SealedLen(10<<20+envelope.MaxHeader+6) > p.Envelope || handler.LockedBodySize(p.Envelope) >= p.SlotSize+1 {
		t.Errorf("envelope %d, slot %d", p.Envelope, p.SlotSize)
	}
	// What an operator must give for 10 MiB files: about 46 MiB.
	if n := p.lockedNeeded(); n < 45<<20 || n > 47<<20 {
		t.Errorf("locked memory needed for 10 MiB files: %d", n)
	}

	t.Run("Fits", func(t *testing.T) {
		q := p
		q.fit(q.lockedWant(), maxSecret)
		if q.Slots != 3 || q.MaxFile != 10<<20 || strings.Contains(q.line(), "raise") {
			t.Errorf("%+v: %s", q, q.line())
		}
	})
	t.Run("TwoSlots", func(t *testing.T) {
		q := p
		q.fit(2*pageRound(q.SlotSize)+4095, maxSecret)
		if q.Slots != 2 || q.MaxFile != 10<<20 {
			t.Errorf("%+v", q)
		}
	})
	t.Run("Shrunk", func(t *testing.T) {
		q := p
		q.fit(8<<20, maxSecret)
		if q.Slots != 2 || q.MaxFile <= 0 || q.MaxFile >= 10<<20 || 2*pageRound(q.SlotSize) > 8<<20 {
			t.Fatalf("%+v", q)
		}
		if fileEnvelope(q.MaxFile) > q.Envelope || handler.FileSlotSize(q.Envelope) != q.SlotSize {
			t.Errorf("files of %d do not fit envelopes of %d", q.MaxFile, q.Envelope)
		}
		if !strings.Contains(q.line(), "below --max-file-size (10 MiB)") || !strings.Contains(q.line(), "raise the locked-memory limit to at least") {
			t.Errorf("line %q", q.line())
		}
	})
	t.Run("Off", func(t *testing.T) {
		q := p
		q.fit(100<<10, maxSecret)
		if q.Slots != 0 || q.MaxFile != 0 || q.Envelope != maxSecret || !strings.HasPrefix(q.line(), "files: off: ") {
			t.Errorf("%+v: %s", q, q.line())
		}
		if r := planFiles(0, maxSecret); r.MaxFile != 0 || r.Slots != 0 || r.line() != "files: off (--max-file-size 0)" {
			t.Errorf("--max-file-size 0: %+v", r)
		}
	})
	t.Run("WithinSecretSize", func(t *testing.T) {
		q := planFiles(1<<20, 2<<20)
		if q.Slots != 0 || q.MaxFile != 1<<20 || q.Envelope != 2<<20 {
			t.Errorf("%+v", q)
		}
	})
}

// TestConfigShowsFiles: the UI learns the file limit before it uploads.
func TestConfigShowsFiles(t *testing.T) {
	for _, c := range []struct {
		args     []string
		file     int
		envelope int
	}{
		{nil, 10 << 20, fileEnvelope(10 << 20)},
		{[]string{"--max-file-size", "1MiB"}, 1 << 20, fileEnvelope(1 << 20)},
		{[]string{"--max-file-size", "0"}, 0, 64 << 10},
	} {
		needLockable(t, int64(store.DefaultLockedBytes+3*pageRound(handler.FileSlotSize(c.envelope))))
		p := MustRun(t, c.args...)
		// No idle connection is left for the server's shutdown.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Get("http://" + p.addr + "/api/otslite/config")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var m map[string]any // numbers, and tokens_required
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m["max_file_size"] != float64(c.file) || m["max_envelope_size"] != float64(c.envelope) || m["max_secret_size"] != float64(64<<10) {
			t.Errorf("%v: config %s", c.args, raw)
		}
		if !strings.Contains(p.stderr.String(), "files: ") {
			t.Errorf("%v: the startup log says nothing of files", c.args)
		}
	}
}

// needLockable fails (under CI) or skips unless this process may lock n
// bytes.
func needLockable(tb testing.TB, n int64) {
	tb.Helper()
	if b := store.LockedBudget(int(n)); !b.Enough(int(n)) {
		if os.Getenv("CI") != "" {
			tb.Fatalf("the tests need %d bytes of lockable memory (run as root, or raise ulimit -l)", n)
		}
		tb.Skipf("needs %d bytes of lockable memory", n)
	}
}
