package access

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones must work on an empty image, with no zoneinfo files
)

// Hours is a weekly schedule: when secrets may be opened, in wall-clock
// time of one zone. Written like "Mon-Fri 08:00-18:00 Europe/Paris":
//
//	hours  = window *(";" window) [zone]
//	window = [days] HH:MM "-" HH:MM
//	days   = day ["-" day] *("," day ["-" day])     (Mon Tue Wed Thu Fri Sat Sun)
//
// Days are every day when left out; a range may wrap (Fri-Mon), and so may
// a window (22:00-06:00 ends the next morning); 24:00 ends a day. The zone
// is an IANA name (Europe/Paris, America/New_York, UTC); UTC when left out.
// Wall-clock times follow daylight saving: on a day the clocks skip an
// hour, a window opens at the first minute that reads inside it.
type Hours struct {
	loc  *time.Location
	days [7][]span // by time.Weekday
	text string
}

// span is a window of one day in minutes after local midnight; end may
// pass 1440 when the window runs into the next day.
type span struct{ start, end int }

const dayMinutes = 24 * 60

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// hoursExample ends every parse error.
const hoursExample = " (example: Mon-Fri 08:00-18:00 Europe/Paris)"

// ParseHours reads a schedule; see Hours.
func ParseHours(s string) (*Hours, error) {
	h := &Hours{loc: time.UTC}
	parts := strings.Split(s, ";")
	var texts []string
	for i, part := range parts {
		f := strings.Fields(part)
		if i == len(parts)-1 && len(f) >= 2 && isLetter(f[len(f)-1][0]) {
			// Zone names start with a letter; days need a range after them.
			loc, err := loadZone(f[len(f)-1])
			if err != nil {
				return nil, err
			}
			h.loc, f = loc, f[:len(f)-1]
		}
		var days [7]bool
		var daysText string
		switch len(f) {
		case 1:
			if _, err := parseDays(f[0]); err == nil {
				return nil, fmt.Errorf("%q: want a time range after the days"+hoursExample, f[0])
			}
			days = [7]bool{true, true, true, true, true, true, true}
		case 2:
			var err error
			if days, err = parseDays(f[0]); err != nil {
				return nil, err
			}
			daysText = formatDays(days) + " "
		case 0:
			return nil, errors.New("a window is empty" + hoursExample)
		default:
			if i < len(parts)-1 {
				return nil, fmt.Errorf("%q: want days and a time range; the time zone goes once, at the end"+hoursExample, strings.TrimSpace(part))
			}
			return nil, fmt.Errorf("%q: want days, a time range and a time zone"+hoursExample, strings.TrimSpace(part))
		}
		start, end, err := parseSpan(f[len(f)-1])
		if err != nil {
			return nil, err
		}
		for d, on := range days {
			if on {
				h.days[d] = append(h.days[d], span{start, end})
			}
		}
		shown := end
		if shown > dayMinutes {
			shown -= dayMinutes
		}
		texts = append(texts, daysText+formatClock(start)+"-"+formatClock(shown))
	}
	h.text = strings.Join(texts, "; ") + " " + h.loc.String()
	return h, nil
}

func loadZone(name string) (*time.Location, error) {
	if name == "Local" || name == "" {
		// The local zone differs between a laptop and a container;
		// a schedule should not.
		return nil, errors.New("name the time zone (Local depends on the machine)" + hoursExample)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known time zone"+hoursExample, name)
	}
	return loc, nil
}

// parseDays reads "Mon-Fri", "Sat,Sun", "Fri-Mon", "Mon,Wed-Fri".
func parseDays(s string) ([7]bool, error) {
	var days [7]bool
	for _, item := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(item, "-")
		a, ok := dayNumber(from)
		b := a
		if ok && isRange {
			b, ok = dayNumber(to)
		}
		if !ok {
			return days, fmt.Errorf("%q: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun, as Mon-Fri or Sat,Sun"+hoursExample, s)
		}
		for d := a; ; d = (d + 1) % 7 {
			days[d] = true
			if d == b {
				break
			}
		}
	}
	return days, nil
}

func dayNumber(s string) (int, bool) {
	for i, n := range dayNames {
		if strings.EqualFold(s, n) {
			return i, true
		}
	}
	return 0, false
}

// formatDays writes days as runs from Monday on: Mon-Fri, Sat,Sun,
// Mon,Wed-Fri; a run may wrap past Sunday (Fri-Mon).
func formatDays(days [7]bool) string {
	// Start after a day that is off, so a run that wraps stays whole.
	first := 1 // Monday
	for i := range 7 {
		if d := (1 + i) % 7; !days[(d+6)%7] && days[d] {
			first = d
			break
		}
	}
	var items []string
	for i := 0; i < 7; {
		d := (first + i) % 7
		if !days[d] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && days[(first+j+1)%7] {
			j++
		}
		switch last := (first + j) % 7; {
		case j == i:
			items = append(items, dayNames[d])
		case j == i+1:
			items = append(items, dayNames[d], dayNames[last])
		default:
			items = append(items, dayNames[d]+"-"+dayNames[last])
		}
		i = j + 1
	}
	return strings.Join(items, ",")
}

// parseSpan reads "08:00-18:00"; an end at or before the start wraps into
// the next day, except that equal times are an error.
func parseSpan(s string) (start, end int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want a time range like 08:00-18:00"+hoursExample, s)
	}
	if start, err = parseClock(a); err == nil {
		end, err = parseClock(b)
	}
	switch {
	case err != nil:
		return 0, 0, fmt.Errorf("%q: %v"+hoursExample, s, err)
	case start == dayMinutes:
		return 0, 0, fmt.Errorf("%q: a window cannot start at 24:00"+hoursExample, s)
	case start == end:
		return 0, 0, fmt.Errorf("%q: a window must not start and end at the same time"+hoursExample, s)
	case end < start:
		end += dayMinutes
	}
	return start, end, nil
}

// parseClock reads HH:MM (or H:MM), 00:00 to 24:00.
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	bad := fmt.Errorf("%q is not a time of day (HH:MM, 00:00 to 24:00)", s)
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 || !digits(hh) || !digits(mm) {
		return 0, bad
	}
	h, _ := strconv.Atoi(hh)
	m, _ := strconv.Atoi(mm)
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, bad
	}
	return h*60 + m, nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func digits(s string) bool { return strings.Trim(s, "0123456789") == "" }

func formatClock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// String is the schedule in canonical form, which ParseHours reads back.
func (h *Hours) String() string { return h.text }

// Location is the schedule's time zone.
func (h *Hours) Location() *time.Location { return h.loc }

// Open reports whether secrets may be opened at t.
func (h *Hours) Open(t time.Time) bool {
	lt := t.In(h.loc)
	wd, m := int(lt.Weekday()), lt.Hour()*60+lt.Minute()
	for _, sp := range h.days[wd] {
		if sp.start <= m && m < sp.end {
			return true
		}
	}
	for _, sp := range h.days[(wd+6)%7] {
		if m < sp.end-dayMinutes {
			return true
		}
	}
	return false
}

// zoneShift is more than any clock change moves wall-clock time (real
// ones move it an hour at most).
const zoneShift = 3 * 60

// Next returns the first instant at or after t when secrets may be opened;
// false if none comes within five weeks (a schedule whose only window falls
// in a skipped hour, at worst).
//
// Whether secrets may be opened changes only where a wall-clock minute
// begins (zones in use today are offset from UTC by whole minutes), so Next
// walks minute by minute. Far from every window edge it jumps: when no edge
// lies within zoneShift minutes of wall-clock time behind, and the next
// opening is more than zoneShift ahead, it moves on by that distance less
// zoneShift. A clock change inside the jump moves wall-clock time by less
// than zoneShift either way, so the jump lands, and passes, only on
// wall-clock times that are closed.
func (h *Hours) Next(t time.Time) (time.Time, bool) {
	limit := t.Add(35 * 24 * time.Hour)
	for !t.After(limit) {
		if h.Open(t) {
			return t, true
		}
		lt := t.In(h.loc)
		step := h.skip(int(lt.Weekday()), lt.Hour()*60+lt.Minute())
		t = t.Truncate(time.Minute).Add(time.Duration(max(step, 1)) * time.Minute)
	}
	return time.Time{}, false
}

// skip is how many minutes Next may jump from minute m of weekday wd, a
// closed time; 0 means a window edge is near.
func (h *Hours) skip(wd, m int) int {
	ahead := 8 * dayMinutes
	for k := -2; k <= 8; k++ {
		for _, sp := range h.days[((wd+k)%7+7)%7] {
			start, end := k*dayMinutes+sp.start, k*dayMinutes+sp.end
			if m-zoneShift <= start && start <= m || m-zoneShift <= end && end <= m {
				return 0
			}
			if start > m {
				ahead = min(ahead, start-m)
			}
		}
	}
	return max(ahead-zoneShift, 0)
}
