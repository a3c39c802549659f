package handler

// The Onetime Secret v1 API, checked against ../../shared/ots-v1-api.md.

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var keyRE = regexp.MustCompile(`^[0-9a-z]{20,}$`)

// Field types of the receipt object.
const (
	tString = "string"
	tInt    = "int"
	tBool   = "bool"
	tArray  = "array"
	tNull   = "null"
)

// receiptMembers lists the members a v1 receipt has and their types, by
// state and by how an endpoint shows it, as upstream's receipt_hsh leaves
// them (apps/api/v1/controllers/class_methods.rb): the v0.23 names and,
// beside them, the v0.24 ones.
func receiptMembers(state string, view v1View) map[string]string {
	m := map[string]string{
		"custid": tString, "metadata_key": tString, "ttl": tInt, "metadata_ttl": tInt,
		"metadata_url": tString, "state": tString, "updated": tInt, "created": tInt,
		"recipient": tArray, "share_domain": tString,
		"identifier": tString, "recipients": tArray, "receipt_ttl": tInt, "receipt_url": tString,
	}
	switch {
	case state == "received":
		m["received"] = tInt
	case view == v1Listed:
		m["secret_ttl"] = tNull
	case state == "new":
		m["secret_key"], m["secret_identifier"], m["secret_ttl"] = tString, tString, tInt
		m["passphrase_required"], m["has_passphrase"] = tBool, tBool
	default: // burned, expired: the key is "", the ttl null
		m["secret_key"], m["secret_identifier"], m["secret_ttl"] = tString, tString, tNull
	}
	return m
}

// checkType fails unless m[k] has JSON type t.
func checkType(tb testing.TB, m map[string]any, k, t string) {
	tb.Helper()
	switch t {
	case tString:
		str(tb, m, k)
	case tInt:
		num(tb, m, k)
	case tBool:
		if _, ok := m[k].(bool); !ok {
			tb.Errorf("%q = %#v, want a bool", k, m[k])
		}
	case tArray:
		if _, ok := m[k].([]any); !ok {
			tb.Errorf("%q = %#v, want an array", k, m[k])
		}
	case tNull:
		if v, ok := m[k]; !ok || v != nil {
			tb.Errorf("%q = %#v, want null", k, m[k])
		}
	}
}

// checkReceipt checks a receipt object as share, generate, receipt reads
// and burn show it: its member set and types for its state, the newer
// names equal to the older, and the values every receipt shares.
func checkReceipt(tb testing.TB, m map[string]any, state string) {
	tb.Helper()
	checkReceiptAs(tb, m, state, v1Read)
}

func checkReceiptAs(tb testing.TB, m map[string]any, state string, view v1View) {
	tb.Helper()
	want := receiptMembers(state, view)
	for k, t := range want {
		if _, ok := m[k]; !ok {
			tb.Errorf("receipt (state %s) lacks %q: %v", state, k, m)
			continue
		}
		checkType(tb, m, k, t)
	}
	for k := range m {
		if _, ok := want[k]; !ok {
			tb.Errorf("receipt (state %s) has %q: %v", state, k, m)
		}
	}
	if tb.Failed() {
		tb.FailNow()
	}
	for newer, older := range map[string]string{
		"identifier": "metadata_key", "secret_identifier": "secret_key", "has_passphrase": "passphrase_required",
		"recipients": "recipient", "receipt_ttl": "metadata_ttl", "receipt_url": "metadata_url",
	} {
		if fmt.Sprint(m[newer]) != fmt.Sprint(m[older]) {
			tb.Errorf("%s = %v, but %s = %v", newer, m[newer], older, m[older])
		}
	}
	if got := str(tb, m, "state"); got != state {
		tb.Fatalf("state = %q, want %q", got, state)
	}
	if got := str(tb, m, "custid"); got != "anon" {
		tb.Errorf("custid = %q, want anon", got)
	}
	mk := str(tb, m, "metadata_key")
	if !keyRE.MatchString(mk) {
		tb.Errorf("metadata_key = %q, want 20+ chars of [0-9a-z]", mk)
	}
	switch {
	case state == "new" && view != v1Listed:
		sk := str(tb, m, "secret_key")
		if !keyRE.MatchString(sk) || sk == mk {
			tb.Errorf("secret_key = %q (metadata_key %q), want 20+ chars of [0-9a-z], unlike metadata_key", sk, mk)
		}
	case state == "burned" || state == "expired":
		if sk, ok := m["secret_key"].(string); ok && sk != "" {
			tb.Errorf("secret_key = %q after the secret is gone, want \"\"", sk)
		}
	}
	if got, want := str(tb, m, "metadata_url"), publicURL+"/receipt/"+mk; got != want {
		tb.Errorf("metadata_url = %q, want %q", got, want)
	}
	if got := m["recipient"].([]any); len(got) != 0 {
		tb.Errorf("recipient = %v, want []", got)
	}
	if got := str(tb, m, "share_domain"); got != "" {
		tb.Errorf("share_domain = %q, want \"\"", got)
	}
}

// near fails unless got is within 1 of want (seconds round).
func near(tb testing.TB, name string, got, want int64) {
	tb.Helper()
	if got < want-1 || got > want+1 {
		tb.Errorf("%s = %d, want %d", name, got, want)
	}
}

func TestAPIHeaders(t *testing.T) {
	s := MustOpenServer(t)
	revealed := s.MustShare(t, "to reveal")
	burned := s.MustShare(t, "to burn")
	kept := s.MustShare(t, "to keep")
	unknown := strings.Repeat("a", 32)
	// Every request asks for compression: no API response may be
	// compressed (BREACH), success or failure.
	for _, tc := range []struct {
		name, method, path, body string
		intended                 int // 0: success
	}{
		{"Status", "GET", "/api/v1/status", "", 0},
		{"Share", "POST", "/api/v1/share", "secret=abc", 0},
		{"Generate", "POST", "/api/v1/generate", "", 0},
		{"Reveal", "POST", "/api/v1/secret/" + revealed.secretKey, "", 0},
		{"Receipt", "GET", "/api/v1/receipt/" + kept.receiptKey, "", 0},
		{"Burn", "POST", "/api/v1/receipt/" + burned.receiptKey + "/burn", "", 0},
		{"Config", "GET", "/api/otslite/config", "", 0},
		{"Peek", "GET", "/api/otslite/secret/" + kept.secretKey, "", 0},
		{"ErrShare", "POST", "/api/v1/share", "secret=", 400},
		{"ErrReveal", "POST", "/api/v1/secret/" + unknown, "", 404},
		{"ErrReceipt", "GET", "/api/v1/receipt/" + unknown, "", 404},
		{"ErrAuthcheck", "GET", "/api/v1/authcheck", "", 401},
		{"ErrNoRoute", "GET", "/api/v1/nope", "", 404},
		{"ErrOwnNoRoute", "GET", "/api/otslite/nope", "", 404},
		{"ErrMethod", "DELETE", "/api/v1/status", "", 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, tc.method, tc.path, ctForm, tc.body, "Accept-Encoding", "gzip, br, zstd")
			switch {
			case tc.intended == 0:
				MustOK(t, r)
			case tc.name == "ErrNoRoute" || tc.name == "ErrMethod":
				MustNoRoute(t, r, tc.intended)
			default:
				MustFail(t, r, tc.intended, "")
			}
		})
	}
}

func TestReceipt(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		s := MustOpenServer(t)
		now := s.clock.Now().Unix()
		for _, tc := range []struct {
			name, path, body string
			pass             bool
		}{
			{"Share", "/api/v1/share", form("secret", "s3cret"), false},
			{"SharePassphrase", "/api/v1/share", form("secret", "s3cret", "passphrase", "open sesame"), true},
			{"Generate", "/api/v1/generate", "", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				// The receipt's URL comes from the configured public URL,
				// never from the Host the request names.
				r := s.do(t, "POST", tc.path, ctForm, tc.body, "Host", "evil.example")
				created := MustOK(t, r)
				if strings.Contains(string(r.body), "evil.example") {
					t.Errorf("response quotes the Host header: %s", r.body)
				}
				delete(created, "value") // generate only; checked in TestGenerate
				delete(created, "secret_value")
				read := s.MustReceipt(t, str(t, created, "metadata_key"))
				for name, m := range map[string]map[string]any{"created": created, "read": read} {
					t.Run(name, func(t *testing.T) {
						checkReceipt(t, m, "new")
						if got := num(t, m, "ttl"); got != 3600 {
							t.Errorf("ttl = %d, want 3600", got)
						}
						near(t, "secret_ttl", num(t, m, "secret_ttl"), 3600)
						near(t, "metadata_ttl", num(t, m, "metadata_ttl"), 7200)
						if c, u := num(t, m, "created"), num(t, m, "updated"); c != now || u != now {
							t.Errorf("created, updated = %d, %d, want %d", c, u, now)
						}
						if got := m["passphrase_required"]; got != tc.pass {
							t.Errorf("passphrase_required = %v, want %v", got, tc.pass)
						}
					})
				}
				if created["secret_key"] != read["secret_key"] {
					t.Errorf("secret_key read %v, created %v", read["secret_key"], created["secret_key"])
				}
			})
		}
	})

	t.Run("Received", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		s.clock.Add(10 * time.Second)
		s.MustReveal(t, ref.secretKey)
		m := s.MustReceipt(t, ref.receiptKey)
		checkReceipt(t, m, "received")
		at := s.clock.Now().Unix()
		if r, u := num(t, m, "received"), num(t, m, "updated"); r != at || u != at {
			t.Errorf("received, updated = %d, %d, want %d", r, u, at)
		}
		if got := num(t, m, "created"); got != at-10 {
			t.Errorf("created = %d, want %d", got, at-10)
		}
	})

	t.Run("Burned", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		MustOK(t, s.do(t, "POST", "/api/v1/receipt/"+ref.receiptKey+"/burn", ctForm, ""))
		checkReceipt(t, s.MustReceipt(t, ref.receiptKey), "burned")
	})

	t.Run("Expired", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x", "ttl", "300")
		s.clock.Add(301 * time.Second)
		m := s.MustReceipt(t, ref.receiptKey)
		checkReceipt(t, m, "expired")
		near(t, "metadata_ttl", num(t, m, "metadata_ttl"), 299)
	})

	t.Run("ReadingChangesNothing", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		first := s.do(t, "GET", "/api/v1/receipt/"+ref.receiptKey, "", "")
		second := s.do(t, "POST", "/api/v1/receipt/"+ref.receiptKey, ctForm, "")
		MustOK(t, first)
		MustOK(t, second)
		if string(first.body) != string(second.body) {
			t.Errorf("second read differs:\n%s\n%s", first.body, second.body)
		}
		if got := s.MustReveal(t, ref.secretKey); got != "x" {
			t.Errorf("reveal after receipt reads = %q", got)
		}
	})

	t.Run("Aliases", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		want := s.do(t, "GET", "/api/v1/receipt/"+ref.receiptKey, "", "")
		MustOK(t, want)
		for _, prefix := range []string{"receipt", "private", "metadata"} {
			for _, method := range []string{"GET", "POST"} {
				t.Run(prefix+"/"+method, func(t *testing.T) {
					r := s.do(t, method, "/api/v1/"+prefix+"/"+ref.receiptKey, ctForm, "")
					MustOK(t, r)
					if string(r.body) != string(want.body) {
						t.Errorf("got %s, want %s", r.body, want.body)
					}
				})
			}
		}
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		MustFail(t, s.do(t, "GET", "/api/v1/receipt/"+strings.Repeat("b", 32), "", ""), 404, msgUnknownSecret)
		// A secret key is not a receipt key.
		MustFail(t, s.do(t, "GET", "/api/v1/receipt/"+ref.secretKey, "", ""), 404, msgUnknownSecret)
		MustFail(t, s.do(t, "GET", "/api/v1/receipt/short", "", ""), 404, msgNotFound)
		s.MustBeWaiting(t, ref)
	})
}

func TestShare(t *testing.T) {
	const secret = "correct horse battery staple"
	for _, tc := range []struct {
		name, path, contentType, body string
		headers                       []string
		intended                      int // 0: success
		message                       string
	}{
		{name: "OK/Form", path: "/api/v1/share", contentType: ctForm, body: form("secret", secret)},
		{name: "OK/CreateAlias", path: "/api/v1/create", contentType: ctForm, body: form("secret", secret)},
		{name: "OK/JSON", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"` + secret + `"}`},
		{name: "OK/JSONCharset", path: "/api/v1/share", contentType: "application/json; charset=utf-8", body: `{"secret":"` + secret + `"}`},
		{name: "OK/NoContentType", path: "/api/v1/share", body: form("secret", secret)},
		{name: "OK/FormCharset", path: "/api/v1/share", contentType: "application/x-www-form-urlencoded; charset=UTF-8", body: form("secret", secret)},
		{name: "OK/LastSecretCounts", path: "/api/v1/share", contentType: ctForm, body: form("secret", "other", "secret", secret)},
		{name: "OK/LastSecretCountsJSON", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"other","secret":"` + secret + `"}`},
		{name: "OK/UnknownFieldsIgnored", path: "/api/v1/share", contentType: ctJSON, body: `{"kind":"share","secret":"` + secret + `","extra":{"a":[1,2]}}`},
		{name: "OK/BodyWinsOverQuery", path: "/api/v1/share?secret=fromquery", contentType: ctForm, body: form("secret", secret)},
		{name: "OK/Query", path: "/api/v1/share?secret=" + url.QueryEscape(secret)},
		{name: "OK/QueryJSONContentTypeNoBody", path: "/api/v1/share?secret=" + url.QueryEscape(secret), contentType: ctJSON},
		{name: "OK/Multipart", path: "/api/v1/share", contentType: "multipart/form-data; boundary=X", body: "--X\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\n" + secret + "\r\n--X--\r\n"},
		{name: "OK/TrailingSlash", path: "/api/v1/share/", contentType: ctForm, body: form("secret", secret)},
		{name: "OK/IdentityEncoding", path: "/api/v1/share", contentType: ctForm, body: form("secret", secret), headers: []string{"Content-Encoding", "identity"}},

		{name: "ErrNothingToShare/Empty", path: "/api/v1/share", contentType: ctForm, body: "secret=", intended: 400, message: msgNothingToShare},
		{name: "ErrNothingToShare/Missing", path: "/api/v1/share", contentType: ctForm, body: "ttl=600", intended: 400, message: msgNothingToShare},
		{name: "ErrNothingToShare/EmptyBody", path: "/api/v1/share", contentType: ctForm, body: "", intended: 400, message: msgNothingToShare},
		{name: "ErrNothingToShare/JSONEmpty", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":""}`, intended: 400, message: msgNothingToShare},
		{name: "ErrNothingToShare/JSONNull", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":null}`, intended: 400, message: msgNothingToShare},
		{name: "ErrNothingToShare/BodyEmptiesQuery", path: "/api/v1/share?secret=fromquery", contentType: ctForm, body: "secret=", intended: 400, message: msgNothingToShare},
		{name: "ErrMalformed/JSONTruncated", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"abc`, intended: 400},
		{name: "ErrMalformed/JSONNotObject", path: "/api/v1/share", contentType: ctJSON, body: `["abc"]`, intended: 400},
		{name: "ErrMalformed/JSONTrailing", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"abc"} {}`, intended: 400},
		{name: "ErrMalformed/FormEscape", path: "/api/v1/share", contentType: ctForm, body: "secret=abc%zz", intended: 400},
		{name: "ErrMalformed/SecretObject", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":{"a":"b"}}`, intended: 400},
		{name: "ErrMalformed/SecretArray", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":["abc"]}`, intended: 400},
		{name: "ErrInvalidUTF8/JSON", path: "/api/v1/share", contentType: ctJSON, body: "{\"secret\":\"ab\xffcd\"}", intended: 400},
		{name: "ErrInvalidUTF8/JSONSurrogate", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"ab\ud800cd"}`, intended: 400},
		{name: "ErrInvalidUTF8/Form", path: "/api/v1/share", contentType: ctForm, body: "secret=ab%FFcd", intended: 400},
		{name: "ErrNoEmail/Form", path: "/api/v1/share", contentType: ctForm, body: form("secret", secret, "recipient", "a@b.c"), intended: 400, message: msgNoEmail},
		{name: "ErrNoEmail/JSON", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"x","recipient":"a@b.c"}`, intended: 400, message: msgNoEmail},
		{name: "ErrNoEmail/NoSecret", path: "/api/v1/share", contentType: ctForm, body: form("recipient", "a@b.c"), intended: 400, message: msgNoEmail},
		{name: "ErrContentType/TextPlain", path: "/api/v1/share", contentType: "text/plain", body: "secret=x", intended: 400},
		{name: "ErrFile/Multipart", path: "/api/v1/share", contentType: "multipart/form-data; boundary=X", body: "--X\r\nContent-Disposition: form-data; name=\"secret\"; filename=\"s.txt\"\r\n\r\nx\r\n--X--\r\n", intended: 400, message: errFile.Message},
		{name: "ErrMalformed/MultipartNoBoundary", path: "/api/v1/share", contentType: "multipart/form-data", body: "--X\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nx\r\n--X--\r\n", intended: 400},
		{name: "ErrMalformed/MultipartTruncated", path: "/api/v1/share", contentType: "multipart/form-data; boundary=X", body: "--X\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nx", intended: 400},
		{name: "ErrShape/SecretArray", path: "/api/v1/share", contentType: ctForm, body: "secret[]=x", intended: 400, message: "Parameter secret must be a single value"},
		{name: "ErrShape/TTLHash", path: "/api/v1/share?ttl[a]=1", contentType: ctForm, body: form("secret", secret), intended: 400, message: "Parameter ttl must be a single value"},
		{name: "ErrNoEmail/RecipientList", path: "/api/v1/share", contentType: ctForm, body: form("secret", secret, "recipient[]", "a@b.c"), intended: 400, message: msgNoEmail},
		{name: "ErrNoEmail/RecipientQuery", path: "/api/v1/share?recipient=a%40b.c", contentType: ctForm, body: form("secret", secret), intended: 400, message: msgNoEmail},
		{name: "ErrNoEmail/RecipientJSONList", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"x","recipient":["a@b.c"]}`, intended: 400, message: msgNoEmail},
		{name: "OK/RecipientEmpty", path: "/api/v1/share", contentType: ctJSON, body: `{"secret":"` + secret + `","recipient":[],"share_domain":""}`},
		{name: "OK/ShareDomainOwn", path: "/api/v1/share", contentType: ctForm, body: form("secret", secret, "share_domain", "ots.example")},
		{name: "ErrShareDomain", path: "/api/v1/share", contentType: ctForm, body: form("secret", secret, "share_domain", "other.example"), intended: 400, message: "You do not have permission to use domain: other.example"},
		{name: "ErrEncoding/Gzip", path: "/api/v1/share", contentType: ctForm, body: form("secret", secret), headers: []string{"Content-Encoding", "gzip"}, intended: 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenServer(t)
			r := s.do(t, "POST", tc.path, tc.contentType, tc.body, tc.headers...)
			if tc.intended != 0 {
				MustFail(t, r, tc.intended, tc.message)
				if n := s.st.Stats().Secrets; n != 0 {
					t.Errorf("a refused share stored %d secrets", n)
				}
				return
			}
			m := MustOK(t, r)
			checkReceipt(t, m, "new")
			if got := s.MustReveal(t, str(t, m, "secret_key")); got != secret {
				t.Errorf("revealed %q, want %q", got, secret)
			}
		})
	}
}

func TestShareTTL(t *testing.T) {
	const week = 7 * 24 * 3600
	for _, tc := range []struct {
		name, contentType, body string
		want                    int64 // 0: refused
	}{
		{"OK/Absent", ctForm, form("secret", "x"), 3600},
		{"OK/EmptyIsZero", ctForm, form("secret", "x", "ttl", ""), 60},
		{"OK/WordIsZero", ctForm, form("secret", "x", "ttl", "abc"), 60},
		{"OK/LeadingDigits", ctForm, form("secret", "x", "ttl", "3600abc"), 3600},
		{"OK/Spaces", ctForm, form("secret", "x", "ttl", " 600 "), 600},
		{"OK/Fraction", ctForm, form("secret", "x", "ttl", "300.9"), 300},
		{"OK/JSONFraction", ctJSON, `{"secret":"x","ttl":300.9}`, 300},
		{"OK/JSONNull", ctJSON, `{"secret":"x","ttl":null}`, 3600},
		{"OK/JSONWordIsZero", ctJSON, `{"secret":"x","ttl":"abc"}`, 60},
		{"OK/Query", ctForm, "secret=x&ttl=300", 300},
		{"OK/Plain", ctForm, form("secret", "x", "ttl", "300"), 300},
		{"OK/Zero", ctForm, form("secret", "x", "ttl", "0"), 60},
		{"OK/Negative", ctForm, form("secret", "x", "ttl", "-5"), 60},
		{"OK/BelowMin", ctForm, form("secret", "x", "ttl", "30"), 60},
		{"OK/AboveMax", ctForm, form("secret", "x", "ttl", "999999999"), week},
		{"OK/Huge", ctForm, form("secret", "x", "ttl", "99999999999999999999999"), week},
		{"OK/JSONNumber", ctJSON, `{"secret":"x","ttl":300}`, 300},
		{"OK/JSONString", ctJSON, `{"secret":"x","ttl":"300"}`, 300},
		{"OK/JSONExponent", ctJSON, `{"secret":"x","ttl":3e2}`, 300},
		{"OK/JSONNegative", ctJSON, `{"secret":"x","ttl":-1}`, 60},
		{"ErrBadTTL/Bool", ctJSON, `{"secret":"x","ttl":true}`, 0},
		{"ErrBadTTL/Object", ctJSON, `{"secret":"x","ttl":{"a":1}}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenServer(t)
			path, body := "/api/v1/share", tc.body
			if strings.HasPrefix(tc.name, "OK/Query") {
				path, body = path+"?"+body, ""
			}
			r := s.do(t, "POST", path, tc.contentType, body)
			if tc.want == 0 {
				MustFail(t, r, 400, "")
				return
			}
			m := MustOK(t, r)
			if got := num(t, m, "ttl"); got != tc.want {
				t.Errorf("ttl = %d, want %d", got, tc.want)
			}
			near(t, "secret_ttl", num(t, m, "secret_ttl"), tc.want)
			near(t, "metadata_ttl", num(t, m, "metadata_ttl"), 2*tc.want)
			// The secret really lives that long, and no longer.
			ref := secretRef{secretKey: str(t, m, "secret_key"), receiptKey: str(t, m, "metadata_key")}
			s.clock.Add(time.Duration(tc.want-1) * time.Second)
			s.MustBeWaiting(t, ref)
			s.clock.Add(2 * time.Second)
			MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 404, msgUnknownSecret)
		})
	}
}

func TestSharePassphrase(t *testing.T) {
	for _, tc := range []struct {
		name, pass string
		ok         bool
	}{
		{"OK/Min", "abcd", true},
		{"OK/MultiByte", "한국어요", true}, // 4 characters, 12 bytes
		{"OK/Max", strings.Repeat("p", 128), true},
		{"OK/MaxFourByte", strings.Repeat("🔐", 128), true}, // 128 characters, 512 bytes
		{"ErrTooShort", "abc", false},
		{"ErrTooShortMultiByte", "한국어", false},
		{"ErrTooLong", strings.Repeat("p", 129), false},
		{"ErrTooLongFourByte", strings.Repeat("🔐", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenServer(t)
			r := s.do(t, "POST", "/api/v1/share", ctForm, form("secret", "x", "passphrase", tc.pass))
			if !tc.ok {
				msg := "Passphrase must be no more than 128 characters long"
				if strings.HasPrefix(tc.name, "ErrTooShort") {
					msg = "Passphrase must be at least 4 characters long"
				}
				MustFail(t, r, 400, msg)
				return
			}
			m := MustOK(t, r)
			if m["passphrase_required"] != true {
				t.Errorf("passphrase_required = %v, want true", m["passphrase_required"])
			}
			key := str(t, m, "secret_key")
			MustFail(t, s.do(t, "POST", "/api/v1/secret/"+key, ctForm, ""), 404, msgUnknownSecret)
			if got := s.MustReveal(t, key, "passphrase", tc.pass); got != "x" {
				t.Errorf("revealed %q", got)
			}
		})
	}
}

func TestShareSize(t *testing.T) {
	// 341 three-byte characters and one byte: exactly 1024 bytes decoded,
	// 3070 bytes form-encoded.
	atLimit := strings.Repeat("한", 341) + "a"
	if len(atLimit) != 1024 {
		t.Fatalf("len = %d", len(atLimit))
	}
	tooLarge := "Secret value exceeds the maximum size of 1024 bytes"
	for _, tc := range []struct {
		name, contentType, body string
		ok                      bool
	}{
		{"OK/FormUnicodeAtLimit", ctForm, form("secret", atLimit), true},
		{"OK/JSONUnicodeAtLimit", ctJSON, `{"secret":"` + atLimit + `"}`, true},
		{"OK/JSONEscapedAtLimit", ctJSON, `{"secret":"` + strings.Repeat(`\u00e9`, 512) + `"}`, true},
		{"ErrTooLarge/FormUnicode", ctForm, form("secret", atLimit+"b"), false},
		{"ErrTooLarge/JSONUnicode", ctJSON, `{"secret":"` + atLimit + `b"}`, false},
		{"ErrTooLarge/JSONEscaped", ctJSON, `{"secret":"` + strings.Repeat(`\u00e9`, 512) + `b"}`, false},
		{"ErrTooLarge/Plain", ctForm, form("secret", strings.Repeat("x", 1025)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenServer(t)
			r := s.do(t, "POST", "/api/v1/share", tc.contentType, tc.body)
			if !tc.ok {
				MustFail(t, r, 413, tooLarge)
				return
			}
			m := MustOK(t, r)
			got := s.MustReveal(t, str(t, m, "secret_key"))
			if len(got) != 1024 || !utf8.ValidString(got) {
				t.Errorf("revealed %d bytes, want 1024", len(got))
			}
		})
	}

	t.Run("ErrTooLarge/Body", func(t *testing.T) {
		// Past the server's request body limit: fasthttp refuses it before
		// the handler, and the answer is still the v1 error.
		s := MustOpenServer(t)
		body := "secret=" + strings.Repeat("x", s.h.MaxBodySize())
		req := fmt.Sprintf("POST /api/v1/share HTTP/1.1\r\nHost: ots.internal\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", ctForm, len(body), body)
		MustFail(t, s.raw(t, []byte(req)), 413, tooLarge)
	})

	t.Run("OK/BodyRoomForEncoding", func(t *testing.T) {
		// The largest secret, every byte percent-encoded, plus the other
		// fields, fits the body limit.
		s := MustOpenServer(t)
		body := form("secret", atLimit, "passphrase", strings.Repeat("🔐", 128), "ttl", "3600")
		if len(body) > s.h.MaxBodySize() {
			t.Fatalf("body of %d bytes exceeds MaxBodySize %d", len(body), s.h.MaxBodySize())
		}
		MustOK(t, s.do(t, "POST", "/api/v1/share", ctForm, body))
	})
}

// generated password alphabet rules (contract: four sets, no ambiguous
// characters, at least one from each set).
func checkGenerated(tb testing.TB, v string, n int) {
	tb.Helper()
	if len(v) != n {
		tb.Errorf("value %q has %d characters, want %d", v, len(v), n)
	}
	if strings.ContainsAny(v, "ilo1IO0") {
		tb.Errorf("value %q has an ambiguous character", v)
	}
	for _, set := range []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghjkmnpqrstuvwxyz", "23456789", "!#$%&*+-=?@^_~"} {
		if !strings.ContainsAny(v, set) {
			tb.Errorf("value %q has none of %q", v, set)
		}
	}
}

func TestGenerate(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		want                    int // 0: refused
	}{
		{"OK/Default", ctForm, "", 12},
		{"OK/Length", ctForm, "length=20", 20},
		{"OK/Min", ctForm, "length=4", 4},
		{"OK/Max", ctForm, "length=128", 128},
		{"OK/JSON", ctJSON, `{"length":16}`, 16},
		{"OK/Passphrase", ctForm, "passphrase=abcdef", 12},
		{"OK/OneIsFour", ctForm, "length=1", 4},
		{"OK/ThreeIsFour", ctForm, "length=3", 4},
		{"OK/LeadingDigits", ctForm, "length=20chars", 20},
		{"OK/JSONFraction", ctJSON, `{"length":16.9}`, 16},
		{"OK/JSONNull", ctJSON, `{"length":null}`, 12},
		{"OK/Query", "", "?length=20", 20},
		{"OK/CharsetsAllOn", ctJSON, `{"character_sets":{"uppercase":true,"lowercase":true,"numbers":true,"symbols":true,"exclude_ambiguous":true}}`, 12},
		{"OK/CharsetsFormIsTrue", ctForm, "character_sets[uppercase]=false", 12},
		{"ErrBadLength/Long", ctForm, "length=129", 0},
		{"ErrBadLength/Word", ctForm, "length=x", 0},
		{"ErrBadLength/Zero", ctForm, "length=0", 0},
		{"ErrBadLength/Negative", ctForm, "length=-12", 0},
		{"ErrBadLength/Bool", ctJSON, `{"length":true}`, 0},
		{"ErrCharsets/Off", ctJSON, `{"character_sets":{"symbols":false}}`, 0},
		{"ErrCharsets/Ambiguous", ctJSON, `{"character_sets":{"exclude_ambiguous":false}}`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := MustOpenServer(t)
			path, body := "/api/v1/generate", tc.body
			if strings.HasPrefix(body, "?") {
				path, body = path+body, ""
			}
			r := s.do(t, "POST", path, tc.contentType, body)
			if tc.want == 0 {
				MustFail(t, r, 400, "")
				return
			}
			m := MustOK(t, r)
			value := str(t, m, "value")
			if m["secret_value"] != value {
				t.Errorf("secret_value = %v, value = %q", m["secret_value"], value)
			}
			delete(m, "value")
			delete(m, "secret_value")
			checkReceipt(t, m, "new")
			checkGenerated(t, value, tc.want)
			rm := s.MustReceipt(t, str(t, m, "metadata_key"))
			if _, ok := rm["value"]; ok {
				t.Errorf("receipt read carries value")
			}
			var extra []string
			if m["passphrase_required"] == true {
				extra = []string{"passphrase", "abcdef"}
			}
			if got := s.MustReveal(t, str(t, m, "secret_key"), extra...); got != value {
				t.Errorf("revealed %q, generated %q", got, value)
			}
			// Only the generate response ever carries the value.
			rr := s.do(t, "GET", "/api/v1/receipt/"+str(t, m, "metadata_key"), "", "")
			if strings.Contains(string(rr.body), value) || strings.Contains(string(rr.body), `"value"`) {
				t.Errorf("receipt after reveal carries the value: %s", rr.body)
			}
		})
	}
}

func TestReveal(t *testing.T) {
	t.Run("OK/RoundTrip", func(t *testing.T) {
		s := MustOpenServer(t, withMaxSecretSize(8192))
		ctl := string(rune(0x01)) + string(rune(0x1f)) + string(rune(0x7f))
		for _, tc := range []struct{ name, value string }{
			{"ASCII", "hunter2"},
			{"MultiLineUnicode", "línea 1\nzweite Zeile: ÄÖÜ ß\r\n第三行 🔐🗝️\n"},
			{"QuotesBackslashes", `"quoted" \back\slash\ \\ \" \u0041 </script>`},
			{"ControlChars", "a\x01b\tc\nd\re\x00f" + ctl},
			{"JSONLooking", `","secret_key":"x","value":"`},
			{"OneKiB", strings.Repeat("0123456789abcdef", 64)},
			{"NearFourKiB", strings.Repeat("é\"\\\n", 819)[:4090]},
			{"EightKiB", strings.Repeat("\x01\t", 4096)},
		} {
			for _, enc := range []string{"Form", "JSON"} {
				t.Run(tc.name+"/"+enc, func(t *testing.T) {
					body, ct := form("secret", tc.value), ctForm
					if enc == "JSON" {
						body, ct = jsonBody(t, map[string]string{"secret": tc.value}), ctJSON
					}
					if !utf8.ValidString(tc.value) {
						t.Fatalf("test value is not UTF-8")
					}
					m := MustOK(t, s.do(t, "POST", "/api/v1/share", ct, body))
					key := str(t, m, "secret_key")
					r := s.do(t, "POST", "/api/v1/secret/"+key, ctForm, "")
					got := MustOK(t, r)
					// share_domain is the site's scheme and host, as
					// upstream's show_secret gives it.
					if len(got) != 3 || got["secret_key"] != key || got["share_domain"] != publicURL {
						t.Errorf("reveal answered %v, want exactly value, secret_key, share_domain %s", got, publicURL)
					}
					if v := str(t, got, "value"); v != tc.value {
						t.Errorf("revealed %q, want %q", v, tc.value)
					}
				})
			}
		}
	})

	t.Run("ErrSecondReveal", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "once")
		s.MustReveal(t, ref.secretKey)
		m := MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 404, msgUnknownSecret)
		if got := m["secret_key"]; got != ref.secretKey {
			t.Errorf("secret_key = %v, want %s", got, ref.secretKey)
		}
	})

	t.Run("ErrShortKey", func(t *testing.T) {
		s := MustOpenServer(t)
		m := MustFail(t, s.do(t, "POST", "/api/v1/secret/abc123", ctForm, ""), 404, msgNotFound)
		if got := m["secret_key"]; got != "abc123" {
			t.Errorf("secret_key = %v, want abc123", got)
		}
	})

	t.Run("ErrUnknown", func(t *testing.T) {
		s := MustOpenServer(t)
		for _, key := range []string{strings.Repeat("a", 20), strings.Repeat("7", 32), strings.Repeat("Z", 32), strings.Repeat("a", 200)} {
			m := MustFail(t, s.do(t, "POST", "/api/v1/secret/"+key, ctForm, ""), 404, msgUnknownSecret)
			if got, ok := m["secret_key"].(string); !ok || !strings.HasPrefix(key, got) {
				t.Errorf("secret_key = %v, want the key %s", m["secret_key"], key)
			}
		}
	})

	t.Run("ErrUnknown/OddKeys", func(t *testing.T) {
		// Whatever the key, its echo keeps the answer valid JSON.
		s := MustOpenServer(t)
		for _, key := range []string{
			url.PathEscape(`"quoted\key<script>` + strings.Repeat("a", 20)),
			"%FF%FE" + strings.Repeat("a", 30),
			url.PathEscape("\u0000\n\t" + strings.Repeat("b", 20) + "\x01"),
		} {
			m := MustFail(t, s.do(t, "POST", "/api/v1/secret/"+key, ctForm, ""), 404, msgUnknownSecret)
			str(t, m, "secret_key")
		}
	})

	t.Run("ErrMethod", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		for _, method := range []string{"GET", "HEAD", "PUT", "DELETE"} {
			r := s.do(t, method, "/api/v1/secret/"+ref.secretKey, "", "")
			if r.status != 404 || r.intended() != 405 {
				t.Errorf("%s: want 404 intended 405, got %v", method, r)
			}
		}
		s.MustBeWaiting(t, ref)
		if got := s.MustReveal(t, ref.secretKey); got != "x" {
			t.Errorf("revealed %q", got)
		}
	})

	t.Run("ErrReceiptKey", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.receiptKey, ctForm, ""), 404, msgUnknownSecret)
		s.MustBeWaiting(t, ref)
	})

	t.Run("Passphrase", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "guarded", "passphrase", "open sesame")
		unknown := strings.Repeat("c", 32)
		want := MustFail(t, s.do(t, "POST", "/api/v1/secret/"+unknown, ctForm, ""), 404, msgUnknownSecret)
		for _, tc := range []struct{ name, body string }{
			{"Missing", ""},
			{"Empty", form("passphrase", "")},
			{"Wrong", form("passphrase", "open sesame!")},
			{"WrongJSON", `{"passphrase":"nope"}`},
			{"TooLong", form("passphrase", strings.Repeat("x", 2000))},
			{"QueryWrong", ""},
			{"BodyWrongWinsOverQuery", form("passphrase", "nope")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				path, ct := "/api/v1/secret/"+ref.secretKey, ctForm
				if tc.name == "WrongJSON" {
					ct = ctJSON
				}
				switch tc.name {
				case "QueryWrong":
					path += "?passphrase=" + url.QueryEscape("open sesame?")
				case "BodyWrongWinsOverQuery":
					path += "?passphrase=" + url.QueryEscape("open sesame")
				}
				r := s.do(t, "POST", path, ct, tc.body)
				m := MustFail(t, r, 404, msgUnknownSecret)
				// No oracle: the answer is the unknown secret's, key aside.
				if m["secret_key"] != ref.secretKey || len(m) != len(want) {
					t.Errorf("answer %v differs from an unknown secret's %v", m, want)
				}
				s.MustBeWaiting(t, ref)
			})
		}
		if got := s.MustReveal(t, ref.secretKey, "passphrase", "open sesame"); got != "guarded" {
			t.Errorf("revealed %q", got)
		}
	})

	t.Run("ErrAfterBurn", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		MustOK(t, s.do(t, "POST", "/api/v1/receipt/"+ref.receiptKey+"/burn", ctForm, ""))
		MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 404, msgUnknownSecret)
	})

	t.Run("ErrAfterExpiry", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x", "ttl", "60")
		s.clock.Add(61 * time.Second)
		MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 404, msgUnknownSecret)
		MustFail(t, s.do(t, "GET", "/api/otslite/secret/"+ref.secretKey, "", ""), 404, msgUnknownSecret)
	})
}

func TestBurn(t *testing.T) {
	burnPath := func(key string) string { return "/api/v1/receipt/" + key + "/burn" }

	t.Run("OK", func(t *testing.T) {
		s := MustOpenServer(t)
		for _, prefix := range []string{"receipt", "private", "metadata"} {
			t.Run(prefix, func(t *testing.T) {
				ref := s.MustShare(t, "x")
				m := MustOK(t, s.do(t, "POST", "/api/v1/"+prefix+"/"+ref.receiptKey+"/burn", ctForm, ""))
				if len(m) != 2 {
					t.Errorf("burn answered %v, want state and secret_shortkey only", m)
				}
				if got := str(t, m, "secret_shortkey"); got != ref.secretKey[:8] {
					t.Errorf("secret_shortkey = %q, want %q", got, ref.secretKey[:8])
				}
				state, ok := m["state"].(map[string]any)
				if !ok {
					t.Fatalf("state = %#v, want the receipt object", m["state"])
				}
				checkReceipt(t, state, "burned")
				if got := str(t, state, "metadata_key"); got != ref.receiptKey {
					t.Errorf("metadata_key = %q, want %q", got, ref.receiptKey)
				}
				MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, ""), 404, msgUnknownSecret)
			})
		}
	})

	t.Run("ErrSecretKey", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		MustFail(t, s.do(t, "POST", burnPath(ref.secretKey), ctForm, ""), 404, msgUnknownSecret)
		s.MustBeWaiting(t, ref)
	})

	t.Run("ErrTwice", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		MustOK(t, s.do(t, "POST", burnPath(ref.receiptKey), ctForm, ""))
		MustFail(t, s.do(t, "POST", burnPath(ref.receiptKey), ctForm, ""), 404, msgUnknownSecret)
	})

	t.Run("ErrRevealed", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		s.MustReveal(t, ref.secretKey)
		MustFail(t, s.do(t, "POST", burnPath(ref.receiptKey), ctForm, ""), 404, msgUnknownSecret)
		checkReceipt(t, s.MustReceipt(t, ref.receiptKey), "received")
	})

	t.Run("ErrExpired", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x", "ttl", "60")
		s.clock.Add(time.Minute)
		MustFail(t, s.do(t, "POST", burnPath(ref.receiptKey), ctForm, ""), 404, msgUnknownSecret)
	})

	t.Run("ErrShortKey", func(t *testing.T) {
		s := MustOpenServer(t)
		MustFail(t, s.do(t, "POST", burnPath("short"), ctForm, ""), 404, msgNotFound)
	})

	t.Run("ErrMethod", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x")
		MustNoRoute(t, s.do(t, "GET", burnPath(ref.receiptKey), "", ""), 405)
		s.MustBeWaiting(t, ref)
	})

	t.Run("Passphrase", func(t *testing.T) {
		s := MustOpenServer(t)
		ref := s.MustShare(t, "x", "passphrase", "open sesame")
		for _, tc := range []struct{ name, body string }{
			{"ErrMissing", ""},
			{"ErrEmpty", form("passphrase", "")},
			{"ErrWrong", form("passphrase", "open sesame?")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				MustFail(t, s.do(t, "POST", burnPath(ref.receiptKey), ctForm, tc.body), 400, msgIncorrectPass)
				s.MustBeWaiting(t, ref)
			})
		}
		t.Run("OK", func(t *testing.T) {
			m := MustOK(t, s.do(t, "POST", burnPath(ref.receiptKey), ctJSON, `{"passphrase":"open sesame"}`))
			checkReceipt(t, m["state"].(map[string]any), "burned")
			MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, form("passphrase", "open sesame")), 404, msgUnknownSecret)
		})
	})
}

func TestStatus(t *testing.T) {
	s := MustOpenServer(t)
	for _, method := range []string{"GET", "HEAD"} {
		r := s.do(t, method, "/api/v1/status", "", "")
		if r.status != 200 {
			t.Fatalf("%s: %v", method, r)
		}
		checkAPIHeaders(t, r)
		if method == "GET" && string(r.body) != `{"status":"nominal","locale":"en"}` {
			t.Errorf("body = %s", r.body)
		}
	}
}

func TestAuth(t *testing.T) {
	s := MustOpenServer(t)
	ref := s.MustShare(t, "x")
	// No tokens are configured, so no credential is accepted: a client
	// that sends one must learn it is not authenticated.
	creds := map[string]string{
		"Valid":   "Basic dXNlckBleGFtcGxlLmNvbTp0b2tlbg==", // user@example.com:token
		"Garbage": "Basic !!!not-base64",
		"Empty":   "Basic ",
		"Bearer":  "Bearer abc",
	}
	paths := []struct{ method, path, body string }{
		{"GET", "/api/v1/status", ""},
		{"GET", "/api/v1/authcheck", ""},
		{"POST", "/api/v1/share", "secret=x"},
		{"POST", "/api/v1/generate", ""},
		{"GET", "/api/v1/receipt/recent", ""},
		{"POST", "/api/v1/secret/" + ref.secretKey, ""},
		{"GET", "/api/v1/receipt/" + ref.receiptKey, ""},
		{"POST", "/api/v1/receipt/" + ref.receiptKey + "/burn", ""},
	}
	for name, cred := range creds {
		for _, p := range paths {
			t.Run("ErrNotAuthorized/"+name+p.path, func(t *testing.T) {
				r := s.do(t, p.method, p.path, ctForm, p.body, "Authorization", cred)
				MustFail(t, r, 401, msgNotAuthorized)
			})
		}
	}
	s.MustBeWaiting(t, ref)
	if n := s.st.Stats().Secrets; n != 1 {
		t.Errorf("%d secrets stored, want 1", n)
	}

	t.Run("ErrNoCredential", func(t *testing.T) {
		MustFail(t, s.do(t, "GET", "/api/v1/authcheck", "", ""), 401, msgNotAuthorized)
		MustFail(t, s.do(t, "GET", "/api/v1/receipt/recent", "", ""), 401, msgNotAuthorized)
		MustFail(t, s.do(t, "GET", "/api/v1/private/recent", "", ""), 401, msgNotAuthorized)
	})

	t.Run("OK/Anonymous", func(t *testing.T) {
		m := MustOK(t, s.do(t, "GET", "/api/v1/status", "", ""))
		if len(m) != 2 || m["status"] != "nominal" || m["locale"] != "en" {
			t.Errorf("status = %v", m)
		}
	})
}
