package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// modulesFromTerminal reads back what writeTerminal drew: rows of booleans,
// true for dark, quiet zone included.
func modulesFromTerminal(t *testing.T, drawn string, colored bool) [][]bool {
	t.Helper()
	var rows [][]bool
	sgr := regexp.MustCompile(`\x1b\[(\d+);(\d+)m▀`)
	for _, line := range strings.Split(strings.TrimSuffix(drawn, "\n"), "\n") {
		var top, bottom []bool
		if colored {
			line = strings.TrimSuffix(line, "\x1b[0m")
			cells := sgr.FindAllStringSubmatch(line, -1)
			if len(sgr.ReplaceAllString(line, "")) != 0 {
				t.Fatalf("stray text in a colored line: %q", sgr.ReplaceAllString(line, ""))
			}
			for _, c := range cells {
				top = append(top, c[1] == "30")
				bottom = append(bottom, c[2] == "40")
			}
		} else {
			for _, r := range line {
				top = append(top, r == '█' || r == '▀')
				bottom = append(bottom, r == '█' || r == '▄')
			}
		}
		rows = append(rows, top, bottom)
	}
	return rows
}

// pngOf draws modules at scale pixels each, with a light border.
func pngOf(t *testing.T, rows [][]bool, scale int) []byte {
	t.Helper()
	n := len(rows[0])
	border := 4
	img := image.NewGray(image.Rect(0, 0, (n+2*border)*scale, (len(rows)+2*border)*scale))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y, row := range rows {
		for x, dark := range row {
			if !dark {
				continue
			}
			for dy := range scale {
				for dx := range scale {
					img.SetGray((x+border)*scale+dx, (y+border)*scale+dy, color.Gray{})
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestQRCodeDecodes(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	need(t, err, "zbarimg (zbar-tools)")
	texts := []string{
		"x",
		"http://127.0.0.1:41234/secret/0123456789abcdefghjkmnpqrstvwxyz#1nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
		"https://192.168.100.200:7143/secret/0123456789abcdefghjkmnpqrstvwxyz#1p__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA",
		"https://secrets.example.org/with/a/path/secret/0123456789abcdefghjkmnpqrstvwxyz#1nBxQhLjtIVWJvfImWo7C9ytfk8f4LGCUyP0xZZnOAjZo",
		"Ünïcödé 비밀 🔐",
		strings.Repeat("z", qrMaxBytes), // the largest: version 10
	}
	for i := 1; i <= 10; i++ {
		// The largest text of each version, to cross every boundary.
		n := 0
		for qrVersion(n+1) <= i && n < qrMaxBytes {
			n++
		}
		texts = append(texts, strings.Repeat(string(rune('a'+i)), n))
	}
	for _, text := range texts {
		q := encodeQR([]byte(text))
		if q == nil {
			t.Fatalf("no code for %d bytes", len(text))
		}
		for _, colored := range []bool{false, true} {
			var drawn bytes.Buffer
			if err := q.writeTerminal(&drawn, colored); err != nil {
				t.Fatal(err)
			}
			rows := modulesFromTerminal(t, drawn.String(), colored)
			if got := len(rows[0]); got != q.size+2*quietZone {
				t.Fatalf("drawn %d modules wide, want %d", got, q.size+2*quietZone)
			}
			if got := decodeQR(t, zbar, pngOf(t, rows, 4)); got != text {
				t.Errorf("colored %v: decoded %q, want %q", colored, got, text)
			}
		}
		q.wipe()
	}
}

func TestQRCodeLimits(t *testing.T) {
	if encodeQR([]byte(strings.Repeat("x", qrMaxBytes+1))) != nil {
		t.Errorf("%d bytes encoded; the encoder stops at version 10-L", qrMaxBytes+1)
	}
	if encodeQR([]byte(strings.Repeat("x", qrMaxBytes))) == nil {
		t.Errorf("%d bytes not encoded", qrMaxBytes)
	}
	// A usual link fits a 24-line terminal: version 6, 41 modules and the
	// quiet zone, two modules a line.
	link := "https://192.168.100.200:7143/secret/0123456789abcdefghjkmnpqrstvwxyz#1p__79_Pv6-fj39vX08_Lx8O_u7ezr6uno5-bl5OPi4eA"
	q := encodeQR([]byte(link))
	var drawn bytes.Buffer
	q.writeTerminal(&drawn, true)
	if lines := strings.Count(drawn.String(), "\n"); lines > 24 {
		t.Errorf("a %d-byte link takes %d lines", len(link), lines)
	}
	q.wipe()
	for _, d := range q.dark {
		if d {
			t.Fatal("wipe left dark modules")
		}
	}
}

// The module matrix against the standard's worked example: "01234567" in
// version 1-M is not byte mode, so instead check the fixed parts every
// code has, which a reader needs to find it.
func TestQRCodeFunctionPatterns(t *testing.T) {
	q := encodeQR([]byte("hello"))
	n := q.size
	if n != 21 {
		t.Fatalf("version 1 is 21 modules, got %d", n)
	}
	finder := []string{"1111111", "1000001", "1011101", "1011101", "1011101", "1000001", "1111111"}
	for _, corner := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
		for dy, row := range finder {
			for dx, c := range row {
				if q.at(corner[0]+dx, corner[1]+dy) != (c == '1') {
					t.Fatalf("finder at %v wrong at %d,%d", corner, dx, dy)
				}
			}
		}
	}
	for i := 8; i < n-8; i++ {
		if q.at(i, 6) != (i%2 == 0) || q.at(6, i) != (i%2 == 0) {
			t.Fatalf("timing pattern wrong at %d", i)
		}
	}
	if !q.at(8, n-8) {
		t.Error("the dark module is light")
	}
}
