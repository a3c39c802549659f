package assets

import "bytes"

// This file chooses a body for an Accept-Encoding header (RFC 9110, section
// 12.5.3). It runs on every static request, so it must not allocate: the
// header is walked in place, never split.

// acceptance is what a header says about one content coding.
type acceptance uint8

const (
	unmentioned acceptance = iota // not named in the header
	refused                       // named with q=0 (or an unreadable q)
	accepted                      // named with q>0
)

// Encode picks the body for an Accept-Encoding header value: zstd if it is
// acceptable and f has it, else gzip likewise, else Raw. It returns the body
// and the Content-Encoding value, "" for Raw. A coding is acceptable when it
// is named with a q-value above zero, or not named while "*" is; "gzip;q=0"
// refuses gzip even beside "*". An empty header gives Raw. Matching ignores
// case and optional whitespace. Encode does not allocate.
//
// Callers serving the result should send "Vary: Accept-Encoding".
func (f *File) Encode(acceptEncoding []byte) (body []byte, contentEncoding string) {
	if f.Zstd == nil && f.Gzip == nil {
		return f.Raw(), ""
	}
	zst, gz, star := parseAcceptEncoding(acceptEncoding)
	if f.Zstd != nil && (zst == accepted || zst == unmentioned && star == accepted) {
		return f.Zstd, "zstd"
	}
	if f.Gzip != nil && (gz == accepted || gz == unmentioned && star == accepted) {
		return f.Gzip, "gzip"
	}
	return f.Raw(), ""
}

// parseAcceptEncoding reports what h says about zstd, gzip (or its alias
// x-gzip) and "*". When a coding is named more than once, the most permissive
// mention wins.
func parseAcceptEncoding(h []byte) (zst, gz, star acceptance) {
	for len(h) > 0 {
		var item []byte
		item, h = cutByte(h, ',')
		name, params := cutByte(item, ';')
		name = trimOWS(name)
		if len(name) == 0 {
			continue
		}
		a := refused
		if weight(params) > 0 {
			a = accepted
		}
		switch {
		case equalFoldASCII(name, "zstd"):
			zst = max(zst, a)
		case equalFoldASCII(name, "gzip"), equalFoldASCII(name, "x-gzip"):
			gz = max(gz, a)
		case len(name) == 1 && name[0] == '*':
			star = max(star, a)
		}
	}
	return zst, gz, star
}

// cutByte splits b around the first c: before, and after (nil when b holds
// no c).
func cutByte(b []byte, c byte) (before, after []byte) {
	if i := bytes.IndexByte(b, c); i >= 0 {
		return b[:i], b[i+1:]
	}
	return b, nil
}

// weight reads the q parameter among an item's parameters (RFC 9110,
// section 12.4.2) as thousandths: 1000 without one, 0 for q=0 and for a
// q-value that is not one (the safe reading: not wanted).
func weight(params []byte) int {
	for len(params) > 0 {
		var p []byte
		p, params = cutByte(params, ';')
		p = trimOWS(p)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' {
			continue
		}
		return qThousandths(p[2:])
	}
	return 1000
}

// qThousandths parses an RFC 9110 qvalue, ( "0" [ "." 0*3DIGIT ] ) /
// ( "1" [ "." 0*3("0") ] ), into 0..1000; anything else gives 0.
func qThousandths(v []byte) int {
	if len(v) == 0 || (v[0] != '0' && v[0] != '1') {
		return 0
	}
	whole := int(v[0] - '0')
	v = v[1:]
	if len(v) == 0 {
		return whole * 1000
	}
	if v[0] != '.' || len(v) > 4 {
		return 0
	}
	frac, scale := 0, 100
	for _, d := range v[1:] {
		if d < '0' || d > '9' {
			return 0
		}
		frac += int(d-'0') * scale
		scale /= 10
	}
	if whole == 1 && frac != 0 {
		return 0
	}
	return whole*1000 + frac
}

// trimOWS trims HTTP optional whitespace (spaces and tabs) from both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFoldASCII reports whether b equals the lower-case ASCII string lower,
// ignoring ASCII case in b.
func equalFoldASCII(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
