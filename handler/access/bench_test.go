package access

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkCheck checks a valid credential against a table of 100 tokens
// (every entry is compared, whichever matches).
func BenchmarkCheck(b *testing.B) {
	var fixed []string
	for i := range 100 {
		fixed = append(fixed, fmt.Sprintf("user%d:token-number-%08d", i, i))
	}
	tok := MustNewTokens(b, fixed, "")
	header := basic("user42", "token-number-00000042")
	var c Credential
	b.ReportAllocs()
	for b.Loop() {
		if !tok.Check(header, &c) {
			b.Fatal("refused")
		}
		c.Wipe()
	}
}

// BenchmarkHoursNext finds the next opening of a weekly window from just
// after it closed: the longest walk there is.
func BenchmarkHoursNext(b *testing.B) {
	h := MustParseHours(b, "Mon 09:00-10:00 Europe/Paris")
	paris, _ := time.LoadLocation("Europe/Paris")
	from := time.Date(2025, 3, 24, 10, 0, 0, 0, paris) // Monday, closed for a week
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := h.Next(from); !ok {
			b.Fatal("never opens")
		}
	}
}
