package access

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func MustParseHours(tb testing.TB, s string) *Hours {
	tb.Helper()
	h, err := ParseHours(s)
	if err != nil {
		tb.Fatalf("ParseHours(%q): %v", s, err)
	}
	return h
}

func mustZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

func TestParseHours(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Mon-Fri 08:00-18:00 Europe/Paris", "Mon-Fri 08:00-18:00 Europe/Paris"},
		{"mon-fri 8:00-18:00", "Mon-Fri 08:00-18:00 UTC"},
		{"08:00-18:00 UTC", "08:00-18:00 UTC"},
		{"  Sat,Sun   10:00-12:00  America/New_York ", "Sat,Sun 10:00-12:00 America/New_York"},
		{"Sun,Sat 10:00-12:00", "Sat,Sun 10:00-12:00 UTC"},
		{"Fri-Mon 22:00-06:00 Asia/Tokyo", "Fri-Mon 22:00-06:00 Asia/Tokyo"},
		{"Mon,Wed-Fri 09:00-12:00; Mon-Fri 13:00-17:30 Europe/Berlin", "Mon,Wed-Fri 09:00-12:00; Mon-Fri 13:00-17:30 Europe/Berlin"},
		{"Mon-Sun 00:00-24:00", "Mon-Sun 00:00-24:00 UTC"},
		{"Tue 20:00-00:00", "Tue 20:00-24:00 UTC"},
		{"Mon,Tue,Wed 09:00-10:00", "Mon-Wed 09:00-10:00 UTC"},
		{"Sun-Sat 09:00-10:00", "Mon-Sun 09:00-10:00 UTC"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			h := MustParseHours(t, tt.in)
			if h.String() != tt.want {
				t.Errorf("String() = %q; want %q", h.String(), tt.want)
			}
			if again := MustParseHours(t, h.String()); again.String() != h.String() || !reflect.DeepEqual(again.days, h.days) {
				t.Errorf("String() does not read back: %q", again.String())
			}
		})
	}

	for _, tt := range []struct{ in, err string }{
		{"", "a window is empty"},
		{"Mon-Fri", `"Mon-Fri": want a time range after the days`},
		{"Mon-Fri 08:00-18:00 Mars/Olympus", `"Mars/Olympus" is not a known time zone`},
		{"Mon-Fri 08:00-18:00 Local", "name the time zone"},
		{"Mon-Fry 08:00-18:00", `"Mon-Fry": days are Mon, Tue`},
		{"Mon-Fri 08:00-08:00", "must not start and end at the same time"},
		{"Mon-Fri 08:00-25:00", `"25:00" is not a time of day`},
		{"Mon-Fri 08:60-09:00", `"08:60" is not a time of day`},
		{"Mon-Fri 24:00-09:00", "cannot start at 24:00"},
		{"Mon-Fri 0800-1800", `"0800" is not a time of day`},
		{"Mon-Fri 08:00-18:00 UTC extra", `"extra" is not a known time zone`},
		{"Mon-Fri 08:00-18:00 Europe/Paris UTC", "want days, a time range and a time zone"},
		{"Mon-Fri 08:00-12:00;", "a window is empty"},
		{"Mon-Fri 08:00-12:00 UTC; Sat 09:00-10:00", "the time zone goes once, at the end"},
		{"Mon-Fri 8-18", `"8" is not a time of day`},
		{"Mon-Fri +8:00-18:00", `"+8:00" is not a time of day`},
	} {
		t.Run("Err/"+tt.in, func(t *testing.T) {
			_, err := ParseHours(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("ParseHours(%q) error = %v; want one containing %q", tt.in, err, tt.err)
			}
			if !strings.HasSuffix(err.Error(), hoursExample) {
				t.Errorf("error %q does not end with an example", err)
			}
		})
	}
}

// naiveNext walks minute by minute: the reference Next must agree with.
func naiveNext(h *Hours, t time.Time) (time.Time, bool) {
	for end := t.Add(35 * 24 * time.Hour); !t.After(end); t = t.Truncate(time.Minute).Add(time.Minute) {
		if h.Open(t) {
			return t, true
		}
	}
	return time.Time{}, false
}

func TestHours(t *testing.T) {
	paris := mustZone(t, "Europe/Paris")
	newYork := mustZone(t, "America/New_York")
	sydney := mustZone(t, "Australia/Sydney")
	lordHowe := mustZone(t, "Australia/Lord_Howe") // moves its clocks by 30 minutes
	kathmandu := mustZone(t, "Asia/Kathmandu")     // UTC+05:45
	at := func(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return at(time.UTC, y, m, d, hh, mm) }

	for _, tt := range []struct {
		name  string
		spec  string
		now   time.Time
		open  bool
		next  time.Time // the same instant when open
		never bool
	}{
		// Paris office hours; 2025-03-31 is a Monday, the day after the
		// clocks went forward.
		{"ParisMondayOpen", "Mon-Fri 08:00-18:00 Europe/Paris", at(paris, 2025, 3, 31, 8, 0), true, utc(2025, 3, 31, 6, 0), false},
		{"ParisBeforeOpening", "Mon-Fri 08:00-18:00 Europe/Paris", at(paris, 2025, 3, 31, 7, 59), false, utc(2025, 3, 31, 6, 0), false},
		{"ParisLastMinute", "Mon-Fri 08:00-18:00 Europe/Paris", at(paris, 2025, 3, 31, 17, 59), true, utc(2025, 3, 31, 15, 59), false},
		{"ParisClosingTime", "Mon-Fri 08:00-18:00 Europe/Paris", at(paris, 2025, 3, 31, 18, 0), false, utc(2025, 4, 1, 6, 0), false},
		// Friday evening before the change (CET, UTC+1) to Monday (CEST, UTC+2).
		{"ParisWeekendAcrossDST", "Mon-Fri 08:00-18:00 Europe/Paris", at(paris, 2025, 3, 28, 18, 30), false, utc(2025, 3, 31, 6, 0), false},
		{"ParisWeekendAcrossDSTEnd", "Mon-Fri 08:00-18:00 Europe/Paris", at(paris, 2025, 10, 24, 19, 0), false, utc(2025, 10, 27, 7, 0), false},
		{"ParisSeconds", "Mon-Fri 08:00-18:00 Europe/Paris", at(paris, 2025, 3, 31, 7, 59).Add(30 * time.Second), false, utc(2025, 3, 31, 6, 0), false},
		{"SameScheduleInUTC", "Mon-Fri 08:00-18:00 UTC", at(paris, 2025, 3, 31, 8, 0), false, utc(2025, 3, 31, 8, 0), false},

		// New York: 2025-03-09 02:00 EST jumps to 03:00 EDT.
		{"NewYorkWindowInSkippedHour", "Sun 02:30-04:00 America/New_York", at(newYork, 2025, 3, 9, 1, 0), false, utc(2025, 3, 9, 7, 0), false},
		{"NewYorkOnlyTheSkippedHour", "Sun 02:00-02:30 America/New_York", at(newYork, 2025, 3, 8, 12, 0), false, at(newYork, 2025, 3, 16, 2, 0), false},
		// 2025-11-02 02:00 EDT falls back to 01:00 EST: 01:00-01:30 happens twice.
		{"NewYorkRepeatedHourFirst", "Sun 01:00-01:30 America/New_York", utc(2025, 11, 2, 4, 30), false, utc(2025, 11, 2, 5, 0), false},
		{"NewYorkRepeatedHourBetween", "Sun 01:00-01:30 America/New_York", utc(2025, 11, 2, 5, 45), false, utc(2025, 11, 2, 6, 0), false},
		{"NewYorkRepeatedHourSecond", "Sun 01:00-01:30 America/New_York", utc(2025, 11, 2, 6, 10), true, utc(2025, 11, 2, 6, 10), false},

		// Sydney (southern hemisphere): 2025-04-06 03:00 AEDT falls back to 02:00 AEST.
		{"SydneyAfterFallBack", "Mon-Fri 09:00-17:00 Australia/Sydney", at(sydney, 2025, 4, 4, 17, 0), false, utc(2025, 4, 6, 23, 0), false},
		// Lord Howe: 2025-10-05 02:00 jumps to 02:30.
		{"LordHoweHalfHourJump", "Sun 02:15-02:45 Australia/Lord_Howe", at(lordHowe, 2025, 10, 5, 1, 0), false, at(lordHowe, 2025, 10, 5, 2, 30), false},
		{"Kathmandu", "Mon-Fri 10:00-17:00 Asia/Kathmandu", utc(2025, 6, 2, 4, 14), false, utc(2025, 6, 2, 4, 15), false},
		{"KathmanduOpen", "Mon-Fri 10:00-17:00 Asia/Kathmandu", at(kathmandu, 2025, 6, 2, 10, 0), true, utc(2025, 6, 2, 4, 15), false},

		// Windows past midnight belong to the day they start.
		{"WrapOpenNextMorning", "Fri-Mon 22:00-06:00", utc(2025, 6, 3, 5, 59), true, utc(2025, 6, 3, 5, 59), false},   // Tuesday
		{"WrapClosedAfter", "Fri-Mon 22:00-06:00", utc(2025, 6, 3, 6, 0), false, utc(2025, 6, 6, 22, 0), false},       // to Friday
		{"WrapNotBeforeStartDay", "Fri-Mon 22:00-06:00", utc(2025, 6, 6, 5, 0), false, utc(2025, 6, 6, 22, 0), false}, // Friday morning
		{"Midnight", "Tue 20:00-00:00", utc(2025, 6, 3, 23, 59), true, utc(2025, 6, 3, 23, 59), false},                // Tuesday
		{"MidnightClosed", "Tue 20:00-00:00", utc(2025, 6, 4, 0, 0), false, utc(2025, 6, 10, 20, 0), false},           // Wednesday
		{"TwoWindows", "Mon-Fri 09:00-12:00; Mon-Fri 13:00-17:00", utc(2025, 6, 2, 12, 30), false, utc(2025, 6, 2, 13, 0), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := MustParseHours(t, tt.spec)
			if got := h.Open(tt.now); got != tt.open {
				t.Errorf("Open(%s) = %v; want %v", tt.now, got, tt.open)
			}
			next, ok := h.Next(tt.now)
			if ok == tt.never || !next.Equal(tt.next) {
				t.Errorf("Next(%s) = %s, %v; want %s", tt.now, next.In(h.Location()), ok, tt.next.In(h.Location()))
			}
			if ref, rok := naiveNext(h, tt.now); rok != ok || !ref.Equal(next) {
				t.Errorf("Next(%s) = %s; walking minute by minute finds %s", tt.now, next, ref)
			}
		})
	}
}

// TestHoursNextMatchesWalk checks Next against a minute-by-minute walk for
// random schedules and instants around the daylight-saving changes of
// several zones.
func TestHoursNextMatchesWalk(t *testing.T) {
	zones := []string{"Europe/Paris", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kathmandu", "UTC"}
	starts := []time.Time{
		time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 3, 28, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 4, 4, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 3, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 24, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 31, 0, 0, 0, 0, time.UTC),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 60
	if testing.Short() {
		n = 10
	}
	for range n {
		spec := randomSpec(rng) + " " + zones[rng.IntN(len(zones))]
		h := MustParseHours(t, spec)
		for range 3 {
			now := starts[rng.IntN(len(starts))].Add(time.Duration(rng.Int64N(int64(9 * 24 * time.Hour))))
			got, ok := h.Next(now)
			want, wok := naiveNext(h, now)
			if ok != wok || !got.Equal(want) {
				t.Fatalf("%q: Next(%s) = %s, %v; walking finds %s, %v", spec, now, got, ok, want, wok)
			}
		}
	}
}

func randomSpec(rng *rand.Rand) string {
	var windows []string
	for range 1 + rng.IntN(3) {
		a, b := rng.IntN(7), rng.IntN(7)
		start := rng.IntN(24*4) * 15
		end := (start + 15 + rng.IntN(24*4-1)*15) % dayMinutes
		windows = append(windows, dayNames[a]+"-"+dayNames[b]+" "+formatClock(start)+"-"+formatClock(end))
	}
	return strings.Join(windows, "; ")
}
