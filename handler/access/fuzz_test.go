package access

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseBasic: any Authorization value is read without panicking, and
// what it yields encodes back to a header that reads the same.
func FuzzParseBasic(f *testing.F) {
	for _, s := range []string{
		"Basic YWxpY2U6dG9rZW4=", "basic YWxpY2U6dG9rZW4", "Basic ", "Basic", "Bearer x",
		"Basic  YTpi", "Basic YTpiOmM=", "Basic !!!", "BASIC Og==", "Basic " + strings.Repeat("QUFB", 200),
		"Basic " + base64.RawStdEncoding.EncodeToString([]byte("a:"+strings.Repeat("x", MaxCredential-2))),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, header []byte) {
		var buf [MaxCredential]byte
		user, token, ok := ParseBasic(header, buf[:])
		if !ok {
			if user != nil || token != nil {
				t.Fatalf("refused %q but returned %q, %q", header, user, token)
			}
			return
		}
		if len(user)+1+len(token) > MaxCredential || bytes.IndexByte(user, ':') >= 0 {
			t.Fatalf("ParseBasic(%q) = %q, %q", header, user, token)
		}
		again := []byte("Basic " + base64.StdEncoding.EncodeToString(append(append(append([]byte{}, user...), ':'), token...)))
		var buf2 [MaxCredential]byte
		u2, t2, ok2 := ParseBasic(again, buf2[:])
		if !ok2 || !bytes.Equal(u2, user) || !bytes.Equal(t2, token) {
			t.Fatalf("re-encoded %q reads %q, %q, %v; want %q, %q", again, u2, t2, ok2, user, token)
		}
	})
}

// FuzzTokenFile: any file content is read without panicking, and no error
// quotes a token.
func FuzzTokenFile(f *testing.F) {
	for _, s := range []string{
		"alice:alice-first-token-0001\n", "# c\n\nbob:bob-only-token-000003\r\n", "alice:short\n",
		"no colon here\n", "a b:cccccccccccccccccccc\n", ":\n", "x:" + strings.Repeat("y", 300),
	} {
		f.Add([]byte(s))
	}
	tok, err := NewTokens(nil, "")
	if err != nil {
		f.Fatal(err)
	}
	defer tok.Close()
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := tok.parseFile(bytes.Clone(data))
		if err == nil {
			n := 0
			for _, line := range bytes.Split(data, []byte("\n")) {
				if line = bytes.TrimSpace(line); len(line) > 0 && line[0] != '#' {
					n++
				}
			}
			if len(entries) != n {
				t.Fatalf("%d entries from %d lines", len(entries), n)
			}
			return
		}
		// The message is one of ParseToken's, about the line it names,
		// and quotes nothing but that line's user.
		m := lineError.FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("unexpected error %q", err)
		}
		n, _ := strconv.Atoi(m[1])
		lines := bytes.Split(data, []byte("\n"))
		if n < 1 || n > len(lines) {
			t.Fatalf("error %q names a line that does not exist", err)
		}
		if m[2] != "" {
			user, _, _ := bytes.Cut(bytes.TrimSpace(lines[n-1]), []byte(":"))
			if q, qerr := strconv.Unquote(m[2]); qerr != nil || q != string(user) {
				t.Fatalf("error %q quotes %s, not the user %q of line %d", err, m[2], user, n)
			}
		}
	})
}

var lineError = regexp.MustCompile(`^: line (\d+): (?:want user:token|the user must be 1 to \d+ printable characters without spaces, ':' or ','|the user "anon" means no user; choose another name|the token of user ("(?:[^"\\]|\\.)*") must be \d+ to \d+ printable characters without spaces or ',')$`)

// FuzzParseHours: any spec is read without panicking; an accepted one
// reads back from its canonical form, and Next finds the first open minute.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{
		"Mon-Fri 08:00-18:00 Europe/Paris", "08:00-18:00", "Sat,Sun 10:00-12:00 America/New_York",
		"Fri-Mon 22:00-06:00 UTC", "Mon 09:00-10:00; Tue 13:00-24:00 Australia/Lord_Howe",
		"Sun 02:00-02:30 America/New_York", "mon-sun 0:00-24:00", "Mon-Fri", ";", "Mon-Fri 8-18 Local",
	} {
		f.Add(s)
	}
	starts := []time.Time{
		time.Date(2025, 3, 9, 6, 30, 15, 0, time.UTC),
		time.Date(2025, 10, 26, 0, 59, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, spec string) {
		h, err := ParseHours(spec)
		if err != nil {
			if !strings.HasSuffix(err.Error(), hoursExample) {
				t.Fatalf("error %q lacks the example", err)
			}
			return
		}
		again, err := ParseHours(h.String())
		if err != nil || again.String() != h.String() {
			t.Fatalf("%q reads back as %v, %v", h.String(), again, err)
		}
		for _, now := range starts {
			next, ok := h.Next(now)
			if !ok {
				continue
			}
			if next.Before(now) || !h.Open(next) {
				t.Fatalf("%q: Next(%s) = %s, which is before or closed", h, now, next)
			}
			for u := now; u.Before(next); u = u.Truncate(time.Minute).Add(time.Minute) {
				if h.Open(u) {
					t.Fatalf("%q: Next(%s) = %s, but %s is open", h, now, next, u)
				}
			}
		}
	})
}
