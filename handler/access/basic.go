package access

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// Limits on a credential. A request whose credential does not fit is
// refused like a wrong one.
const (
	MaxUser  = 128 // bytes of a username
	MinToken = 16  // characters of a token
	MaxToken = 256 // characters of a token
	// MaxCredential is the longest "user:token" ParseBasic decodes.
	MaxCredential = MaxUser + 1 + MaxToken
	// MaxBasic is the longest Authorization value ParseBasic reads.
	MaxBasic = len("Basic ") + (MaxCredential+2)/3*4
)

var basicScheme = []byte("basic")

// ParseBasic reads an HTTP Basic credential (RFC 7617) from an
// Authorization header value: "Basic " and base64 of "user:token". It
// decodes into buf, which must hold MaxCredential bytes, and returns user and
// token as slices of buf; the caller wipes buf. The scheme is matched in
// any case; padding may be left off. ok is false for anything else.
func ParseBasic(header, buf []byte) (user, token []byte, ok bool) {
	if len(header) > MaxBasic || len(buf) < MaxCredential {
		return nil, nil, false
	}
	scheme, rest, found := bytes.Cut(header, []byte(" "))
	if !found || !bytes.EqualFold(scheme, basicScheme) {
		return nil, nil, false
	}
	rest = bytes.TrimLeft(rest, " ")
	enc := base64.StdEncoding
	if len(rest)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	// Padding is not data: the longest credential, padded, ends in "==",
	// and DecodedLen would count those as two more bytes.
	if base64.RawStdEncoding.DecodedLen(len(bytes.TrimRight(rest, "="))) > MaxCredential {
		return nil, nil, false
	}
	n, err := enc.Decode(buf, rest)
	if err != nil {
		clear(buf[:MaxCredential])
		return nil, nil, false
	}
	user, token, found = bytes.Cut(buf[:n], []byte(":"))
	if !found {
		clear(buf[:n])
		return nil, nil, false
	}
	return user, token, true
}

// validUser reports whether b is a username otslite accepts: 1 to MaxUser
// printable ASCII characters, without spaces, ':' or ','.
func validUser(b []byte) bool {
	return len(b) > 0 && len(b) <= MaxUser && printable(b, ":,")
}

// validToken reports whether b is a token otslite accepts: MinToken to
// MaxToken printable ASCII characters, without spaces or ','.
func validToken(b []byte) bool {
	return len(b) >= MinToken && len(b) <= MaxToken && printable(b, ",")
}

func printable(b []byte, except string) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(except, c) >= 0 {
			return false
		}
	}
	return true
}
