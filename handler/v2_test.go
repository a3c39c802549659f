package handler

// The v2 API, checked against upstream v0.26's apps/api/v2 (routes.txt,
// logic/secrets/*.rb, the receipt's and secret's safe_dump fields) and
// ADR-013's error shape.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"otslite/handler/audit"
)

// v2OK fails unless r is a 200 JSON answer, and returns its object.
func v2OK(tb testing.TB, r *response) map[string]any {
	tb.Helper()
	if r.status != 200 {
		tb.Fatalf("want 200, got %v", r)
	}
	checkAPIHeaders(tb, r)
	return r.object(tb)
}

// v2Fail fails unless r is an ADR-013 error with status and error_type
// (and message, when not ""), and returns its object.
func v2Fail(tb testing.TB, r *response, status int, errorType, message string) map[string]any {
	tb.Helper()
	if r.status != status || r.intended() != status {
		tb.Fatalf("want %d (intended too), got %v", status, r)
	}
	checkAPIHeaders(tb, r)
	m := r.object(tb)
	if got, _ := m["error"].(string); got == "" || message != "" && got != message {
		tb.Errorf("error = %#v, want %q", m["error"], message)
	}
	if m["error_type"] != errorType {
		tb.Errorf("error_type = %#v, want %q", m["error_type"], errorType)
	}
	if _, ok := m["message"]; ok {
		tb.Errorf("v2 error carries v1's message: %v", m)
	}
	if id, _ := m["request_id"].(string); id == "" || id != r.get("X-Request-Id") {
		tb.Errorf("request_id = %#v, X-Request-Id = %q", m["request_id"], r.get("X-Request-Id"))
	}
	return m
}

func obj(tb testing.TB, m map[string]any, path ...string) map[string]any {
	tb.Helper()
	for _, k := range path {
		next, ok := m[k].(map[string]any)
		if !ok {
			tb.Fatalf("%q = %#v, want an object", k, m[k])
		}
		m = next
	}
	return m
}

func keysOf(m map[string]any) string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return strings.Join(k, " ")
}

// Upstream's safe_dump fields (lib/onetime/models/{receipt,secret}/features/
// safe_dump_fields.rb), in the v0.24 vocabulary.
const (
	v2SecretKeys  = "created has_passphrase identifier is_previewed is_received is_revealed is_viewed key lifespan secret_ttl shortid state updated verification"
	v2ReceiptKeys = "burned created custid has_passphrase identifier is_burned is_destroyed is_expired is_orphaned is_previewed is_received is_revealed is_viewed key kind lifespan memo metadata_ttl owner_id previewed receipt_ttl received recipient_name recipients revealed secret_identifier secret_shortid secret_ttl share_domain shared shortid show_recipients source state updated viewed"
	v2LinkKeys    = "burn_path burn_url metadata_path metadata_url receipt_path receipt_url share_path share_url"
)

// is compares a decoded JSON value with want by its text (numbers decode
// as json.Number).
func is(v any, want any) bool { return fmt.Sprint(v) == fmt.Sprint(want) }

func sortedWords(s ...string) string {
	w := strings.Fields(strings.Join(s, " "))
	sort.Strings(w)
	return strings.Join(w, " ")
}

func without(keys, drop string) string {
	var out []string
	for _, k := range strings.Fields(keys) {
		if k != drop {
			out = append(out, k)
		}
	}
	return strings.Join(out, " ")
}

// v2Conceal creates a secret through v2 and returns the answer.
func (s *testServer) v2Conceal(tb testing.TB, fields map[string]any, headers ...string) map[string]any {
	tb.Helper()
	return v2OK(tb, s.do(tb, "POST", "/api/v2/secret/conceal", ctJSON, jsonAny(tb, map[string]any{"secret": fields}), headers...))
}

func jsonAny(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestV2Meta(t *testing.T) {
	s := MustOpenServer(t)
	if m := v2OK(t, s.do(t, "GET", "/api/v2/status", "", "")); m["success"] != true || m["status"] != "nominal" || m["locale"] != "en" {
		t.Errorf("status = %v", m)
	}
	if m := v2OK(t, s.do(t, "GET", "/api/v2/supported-locales", "", "")); fmt.Sprint(m["locales"]) != "[en]" || m["default_locale"] != "en" {
		t.Errorf("supported-locales = %v", m)
	}
	// The exact version is for credentialed callers only.
	v2Fail(t, s.do(t, "GET", "/api/v2/version", "", ""), 401, "Unauthorized", "")
	for _, path := range []string{"/api/v2/nope", "/api/v2/secret", "/api/v2/guest/status", "/api/v2/secret/a/b/c/d"} {
		r := s.do(t, "GET", path, "", "")
		if r.status != 404 || string(r.body) != `{"error":"Not Found","error_type":"NotFound"}` {
			t.Errorf("%s: %v", path, r)
		}
	}
	// A sane request id is echoed; anything else is replaced.
	r := s.do(t, "GET", "/api/v2/secret/"+strings.Repeat("a", 32), "", "", "X-Request-Id", "trace-42")
	if m := v2Fail(t, r, 404, "RecordNotFound", "Unknown secret"); m["request_id"] != "trace-42" {
		t.Errorf("request_id = %v", m["request_id"])
	}
	r = s.do(t, "GET", "/api/v2/secret/"+strings.Repeat("a", 32), "", "", "X-Request-Id", strings.Repeat("x", 201))
	if id := r.get("X-Request-Id"); len(id) != 24 {
		t.Errorf("X-Request-Id = %q, want a fresh one", id)
	}
}

func TestV2Conceal(t *testing.T) {
	s := MustOpenServer(t)
	m := s.v2Conceal(t, map[string]any{"secret": "v2 secret é\n", "ttl": 600, "passphrase": "open sesame"})
	if m["success"] != true || keysOf(m) != "details record success" {
		t.Fatalf("answer = %v", m)
	}
	rec := obj(t, m, "record")
	if keysOf(rec) != "metadata receipt secret share_domain" || rec["share_domain"] != nil {
		t.Errorf("record = %v", keysOf(rec))
	}
	receipt, secret := obj(t, rec, "receipt"), obj(t, rec, "secret")
	if keysOf(receipt) != v2ReceiptKeys || keysOf(secret) != v2SecretKeys {
		t.Fatalf("receipt %q\nsecret %q", keysOf(receipt), keysOf(secret))
	}
	if fmt.Sprint(obj(t, rec, "metadata")) != fmt.Sprint(receipt) {
		t.Errorf("metadata differs from receipt")
	}
	sk, rk := str(t, secret, "identifier"), str(t, receipt, "identifier")
	if receipt["secret_identifier"] != sk || secret["key"] != sk || receipt["key"] != rk || !keyRE.MatchString(sk) || sk == rk {
		t.Errorf("keys: receipt %v, secret %v", receipt, secret)
	}
	for k, want := range map[string]any{"state": "new", "kind": "conceal", "has_passphrase": true, "custid": nil, "owner_id": nil,
		"secret_ttl": 600, "lifespan": 600, "receipt_ttl": 600, "secret_shortid": sk[:8], "shortid": rk[:8], "is_destroyed": false, "source": "standard"} {
		if !is(receipt[k], want) {
			t.Errorf("receipt %s = %#v, want %#v", k, receipt[k], want)
		}
	}
	if secret["state"] != "new" || secret["has_passphrase"] != true || !is(secret["lifespan"], 600) {
		t.Errorf("secret = %v", secret)
	}
	if d := obj(t, m, "details"); d["kind"] != "conceal" || fmt.Sprint(d["recipient"]) != "[]" {
		t.Errorf("details = %v", d)
	}
	// The same store as v1: v1 reads the receipt and opens the secret.
	if r := s.MustReceipt(t, rk); r["state"] != "new" || r["passphrase_required"] != true {
		t.Errorf("v1 receipt = %v", r)
	}
	if got := s.MustReveal(t, sk, "passphrase", "open sesame"); got != "v2 secret é\n" {
		t.Errorf("v1 revealed %q", got)
	}

	for _, tc := range []struct {
		name, ct, body   string
		status           int
		errorType, field string
		message          string
	}{
		{"Form", ctForm, "secret[secret]=x&secret[ttl]=60", 200, "", "", ""},
		{"Multipart", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"secret[secret]\"\r\n\r\nx\r\n--B--\r\n", 200, "", "", ""},
		{"ErrEmpty", ctJSON, `{"secret":{"secret":""}}`, 422, "missing", "secret", msgNothingToShare},
		{"ErrTopLevelIgnored", ctJSON, `{"secret":{},"passphrase":"x"}`, 422, "missing", "secret", msgNothingToShare},
		{"ErrPayload", ctJSON, `{"secret":"flat"}`, 422, "FormError", "", "Incorrect payload format"},
		{"ErrTooLarge", ctJSON, `{"secret":{"secret":"` + strings.Repeat("x", 1025) + `"}}`, 422, "FormError", "secret", "Secret content must be no more than 1024 bytes long"},
		{"ErrPassphrase", ctJSON, `{"secret":{"secret":"x","passphrase":"abc"}}`, 422, "FormError", "", "Passphrase must be at least 4 characters long"},
		{"ErrRecipient", ctJSON, `{"secret":{"secret":"x","recipient":"a@b.c"}}`, 401, "Unauthorized", "", msgNoEmail},
		{"ErrShareDomain", ctJSON, `{"secret":{"secret":"x","share_domain":"other.example"}}`, 403, "Forbidden", "", ""},
		{"ErrMalformed", ctJSON, `{"secret":{"secret":"x"`, 400, "BadRequest", "", ""},
		{"ErrFile", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"secret[secret]\"; filename=\"a\"\r\n\r\nx\r\n--B--\r\n", 400, "BadRequest", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.do(t, "POST", "/api/v2/secret/conceal", tc.ct, tc.body)
			if tc.status == 200 {
				v2OK(t, r)
				return
			}
			m := v2Fail(t, r, tc.status, tc.errorType, tc.message)
			if tc.field != "" && m["field"] != tc.field {
				t.Errorf("field = %v, want %s", m["field"], tc.field)
			}
		})
	}
}

func TestV2Generate(t *testing.T) {
	s := MustOpenServer(t)
	m := v2OK(t, s.do(t, "POST", "/api/v2/secret/generate", ctJSON, `{"secret":{"length":20}}`))
	if strings.Contains(string(jsonAny(t, m)), "secret_value") || obj(t, m, "details")["kind"] != "generate" {
		t.Fatalf("generate answered %v", m)
	}
	receipt := obj(t, m, "record", "receipt")
	rk, sk := str(t, receipt, "identifier"), str(t, receipt, "secret_identifier")
	if receipt["kind"] != "generate" {
		t.Errorf("kind = %v", receipt["kind"])
	}
	// The value is shown once, on the first receipt read.
	first := v2OK(t, s.do(t, "GET", "/api/v2/receipt/"+rk, "", ""))
	value, _ := obj(t, first, "details")["secret_value"].(string)
	checkGenerated(t, value, 20)
	second := v2OK(t, s.do(t, "GET", "/api/v2/receipt/"+rk, "", ""))
	if v := obj(t, second, "details")["secret_value"]; v != nil {
		t.Errorf("second read shows %v", v)
	}
	// It still waits for its recipient.
	if got := s.MustReveal(t, sk); got != value {
		t.Errorf("revealed %q, shown %q", got, value)
	}

	t.Run("NotAfterAMinute", func(t *testing.T) {
		m := v2OK(t, s.do(t, "POST", "/api/v2/secret/generate", ctJSON, `{}`))
		rk := str(t, obj(t, m, "record", "receipt"), "identifier")
		s.clock.Add(time.Minute)
		if v := obj(t, v2OK(t, s.do(t, "GET", "/api/v2/receipt/"+rk, "", "")), "details")["secret_value"]; v != nil {
			t.Errorf("shown after a minute: %v", v)
		}
	})
	t.Run("ErrLength", func(t *testing.T) {
		v2Fail(t, s.do(t, "POST", "/api/v2/secret/generate", ctJSON, `{"secret":{"length":129}}`), 422, "FormError", errLongLength.Message)
	})
}

func TestV2Reveal(t *testing.T) {
	s := MustOpenServer(t)
	ref := s.MustShare(t, "line one\nline two", "passphrase", "open sesame")
	show := func(path string) map[string]any {
		return v2OK(t, s.do(t, "GET", "/api/v2/secret/"+ref.secretKey+path, "", ""))
	}
	// Looking never consumes, whatever the request says.
	for _, q := range []string{"", "?continue=true&passphrase=open+sesame"} {
		m := show(q)
		rec, d := obj(t, m, "record"), obj(t, m, "details")
		if keysOf(rec) != v2SecretKeys || rec["state"] != "new" || rec["has_passphrase"] != true {
			t.Errorf("record = %v", rec)
		}
		// What the secret was given, not what is left of it.
		if !is(rec["lifespan"], 3600) || !is(rec["secret_ttl"], 3600) || !is(rec["created"], s.clock.Now().Unix()) || d["is_owner"] != false {
			t.Errorf("record = %v, is_owner %v", rec, d["is_owner"])
		}
		if d["show_secret"] != false || d["correct_passphrase"] != false || !is(d["display_lines"], 4) || d["one_liner"] != nil {
			t.Errorf("details = %v", d)
		}
	}
	reveal := func(body string) *response {
		return s.do(t, "POST", "/api/v2/secret/"+ref.secretKey+"/reveal", ctJSON, body)
	}
	// Without continue: a look.
	if m := v2OK(t, reveal(`{"passphrase":"open sesame"}`)); obj(t, m, "details")["show_secret"] != false {
		t.Errorf("without continue: %v", m)
	}
	s.MustBeWaiting(t, ref)
	v2Fail(t, reveal(`{"passphrase":"nope","continue":true}`), 422, "FormError", msgIncorrectPass)
	s.MustBeWaiting(t, ref)
	m := v2OK(t, reveal(`{"passphrase":"open sesame","continue":true}`))
	rec, d := obj(t, m, "record"), obj(t, m, "details")
	if rec["secret_value"] != "line one\nline two" || rec["state"] != "revealed" || rec["is_revealed"] != true {
		t.Errorf("record = %v", rec)
	}
	if keysOf(rec) != sortedWords(v2SecretKeys, "secret_value") {
		t.Errorf("record keys %q", keysOf(rec))
	}
	if d["show_secret"] != true || d["correct_passphrase"] != true || d["continue"] != true || d["one_liner"] != false || !is(d["display_lines"], 5) {
		t.Errorf("details = %v", d)
	}
	// Exactly once.
	v2Fail(t, reveal(`{"passphrase":"open sesame","continue":true}`), 404, "RecordNotFound", "Unknown secret")
	v2Fail(t, s.do(t, "GET", "/api/v2/secret/"+ref.secretKey, "", ""), 404, "RecordNotFound", "")
	if r := s.MustReceipt(t, ref.receiptKey); r["state"] != "received" {
		t.Errorf("v1 receipt after a v2 reveal: %v", r)
	}

	t.Run("Lockout", func(t *testing.T) {
		ref := s.MustShare(t, "x", "passphrase", "open sesame")
		for range 5 {
			v2Fail(t, s.do(t, "POST", "/api/v2/secret/"+ref.secretKey+"/reveal", ctForm, "continue=true&passphrase=wrong"), 422, "FormError", msgIncorrectPass)
		}
		m := v2Fail(t, s.do(t, "POST", "/api/v2/secret/"+ref.secretKey+"/reveal", ctForm, "continue=true&passphrase=open+sesame"), 429, "LimitExceeded", "")
		if n, _ := strconv.Atoi(fmt.Sprint(m["retry_after"])); n <= 0 {
			t.Errorf("retry_after = %v", m["retry_after"])
		}
		s.MustBeWaiting(t, ref)
	})
	t.Run("Guest", func(t *testing.T) {
		ref := s.MustShare(t, "guest")
		m := v2OK(t, s.do(t, "POST", "/api/v2/guest/secret/"+ref.secretKey+"/reveal", ctForm, "continue=true"))
		if obj(t, m, "record")["secret_value"] != "guest" {
			t.Errorf("guest reveal: %v", m)
		}
	})
}

func TestV2SecretStatus(t *testing.T) {
	s := MustOpenServer(t)
	a, b := s.MustShare(t, "a"), s.MustShare(t, "b")
	unknown := strings.Repeat("z", 32)
	if m := v2OK(t, s.do(t, "GET", "/api/v2/secret/"+unknown+"/status", "", "")); fmt.Sprint(m) != "map[record:map[state:unknown]]" {
		t.Errorf("unknown: %v", m)
	}
	m := v2OK(t, s.do(t, "GET", "/api/v2/secret/"+a.secretKey+"/status", "", ""))
	if !is(obj(t, m, "details")["current_expiration"], 3600) || obj(t, m, "record")["state"] != "new" {
		t.Errorf("status = %v", m)
	}
	for name, body := range map[string]string{
		"String": "identifiers=" + url.QueryEscape(a.secretKey+","+unknown+", "+b.secretKey),
		"JSON":   jsonAny(t, map[string]any{"identifiers": []string{a.secretKey, unknown, b.secretKey}}),
	} {
		ct := ctForm
		if name == "JSON" {
			ct = ctJSON
		}
		m := v2OK(t, s.do(t, "POST", "/api/v2/secret/status", ct, body))
		records, _ := m["records"].([]any)
		if !is(m["count"], 2) || len(records) != 2 {
			t.Errorf("%s: %v", name, m)
		}
	}
	s.MustBeWaiting(t, a)
	s.MustBeWaiting(t, b)
}

func TestV2Receipt(t *testing.T) {
	s := MustOpenServer(t)
	ref := s.MustShare(t, "x", "ttl", "7200")
	read := func() map[string]any { return v2OK(t, s.do(t, "GET", "/api/v2/receipt/"+ref.receiptKey, "", "")) }
	m := read()
	rec, d := obj(t, m, "record"), obj(t, m, "details")
	extra := "secret_state natural_expiration expiration expiration_in_seconds " + v2LinkKeys
	if keysOf(rec) != sortedWords(v2ReceiptKeys, extra) {
		t.Errorf("record keys %q", keysOf(rec))
	}
	if rec["secret_identifier"] != ref.secretKey || rec["share_path"] != "secret/"+ref.secretKey || rec["share_url"] != publicURL+"/secret/"+ref.secretKey ||
		rec["burn_path"] != "receipt/"+ref.receiptKey+"/burn" || rec["receipt_url"] != publicURL+"/receipt/"+ref.receiptKey {
		t.Errorf("links: %v", rec)
	}
	if rec["natural_expiration"] != "2 hours" || !is(rec["expiration_in_seconds"], 7200) || rec["secret_state"] != "new" {
		t.Errorf("expiry: %v", rec)
	}
	if !is(d["secret_realttl"], 7200) || d["show_secret"] != true || d["secret_value"] != nil || d["can_decrypt"] != true {
		t.Errorf("details = %v", d)
	}
	for _, alias := range []string{"private", "metadata"} {
		if r := v2OK(t, s.do(t, "GET", "/api/v2/"+alias+"/"+ref.receiptKey, "", "")); fmt.Sprint(obj(t, r, "record")["identifier"]) != ref.receiptKey {
			t.Errorf("%s: %v", alias, r)
		}
	}
	s.MustReveal(t, ref.secretKey)
	rec = obj(t, read(), "record")
	if _, ok := rec["secret_identifier"]; ok || rec["state"] != "revealed" || rec["is_revealed"] != true || rec["revealed"] == nil || rec["share_path"] != "secret/" || rec["secret_state"] != nil {
		t.Errorf("after reveal: %v", rec)
	}
	v2Fail(t, s.do(t, "GET", "/api/v2/receipt/"+strings.Repeat("q", 32), "", ""), 404, "RecordNotFound", "Unknown secret")
	// A passphrase keeps the secret key off the receipt.
	guarded := s.MustShare(t, "x", "passphrase", "open sesame")
	if rec := obj(t, v2OK(t, s.do(t, "GET", "/api/v2/guest/receipt/"+guarded.receiptKey, "", "")), "record"); rec["has_passphrase"] != true {
		t.Errorf("guarded: %v", rec)
	} else if _, ok := rec["secret_identifier"]; ok {
		t.Errorf("guarded receipt shows secret_identifier")
	}
}

func TestV2Burn(t *testing.T) {
	s := MustOpenServer(t)
	ref := s.MustShare(t, "x", "passphrase", "open sesame")
	burn := func(body string) *response {
		return s.do(t, "POST", "/api/v2/receipt/"+ref.receiptKey+"/burn", ctJSON, body)
	}
	if m := v2OK(t, burn(`{"passphrase":"open sesame"}`)); m["success"] != false {
		t.Errorf("without continue: %v", m)
	}
	s.MustBeWaiting(t, ref)
	v2Fail(t, burn(`{"continue":true,"passphrase":"nope"}`), 422, "FormError", msgIncorrectPass)
	s.MustBeWaiting(t, ref)
	m := v2OK(t, burn(`{"continue":"true","passphrase":"open sesame"}`))
	rec, d := obj(t, m, "record"), obj(t, m, "details")
	if m["success"] != true || rec["state"] != "burned" || rec["is_burned"] != true || rec["secret_identifier"] != "" || d["title"] != "Secret burned" {
		t.Errorf("burn = %v", m)
	}
	if keysOf(rec) != sortedWords(v2ReceiptKeys, "natural_expiration expiration expiration_in_seconds "+v2LinkKeys) {
		t.Errorf("record keys %q", keysOf(rec))
	}
	v2Fail(t, burn(`{"continue":true,"passphrase":"open sesame"}`), 404, "RecordNotFound", "")
	MustFail(t, s.do(t, "POST", "/api/v1/secret/"+ref.secretKey, ctForm, form("passphrase", "open sesame")), 404, msgUnknownSecret)
}

func TestV2Auth(t *testing.T) {
	dir := t.TempDir()
	path := writeTokens(t, dir, "alice:"+aliceToken)
	s := MustOpenServer(t, withTokens(t, nil, path))
	alice := []string{"Authorization", basicAuth("alice", aliceToken)}
	body := `{"secret":{"secret":"x"}}`

	v2Fail(t, s.do(t, "POST", "/api/v2/secret/conceal", ctJSON, body), 401, "Unauthorized", msgNotAuthorized)
	m := v2Fail(t, s.do(t, "POST", "/api/v2/guest/secret/conceal", ctJSON, body), 403, "GuestRoutesDisabled", "Guest conceal is disabled")
	if m["code"] != "GUEST_CONCEAL_DISABLED" {
		t.Errorf("code = %v", m["code"])
	}
	v2Fail(t, s.do(t, "POST", "/api/v2/secret/conceal", ctJSON, body, "Authorization", basicAuth("alice", "wrong-token-0000000000")), 401, "Unauthorized", "")
	// Empty user and token, as clients send when none is configured.
	v2Fail(t, s.do(t, "POST", "/api/v2/secret/conceal", ctJSON, body, "Authorization", "Basic Og=="), 401, "Unauthorized", "")

	made := s.v2Conceal(t, map[string]any{"secret": "x"}, alice...)
	receipt := obj(t, made, "record", "receipt")
	if receipt["owner_id"] != "alice" {
		t.Errorf("owner_id = %v", receipt["owner_id"])
	}
	// The secret's page knows its owner, and only its owner.
	sk := str(t, obj(t, made, "record", "secret"), "identifier")
	if d := obj(t, v2OK(t, s.do(t, "GET", "/api/v2/secret/"+sk, "", "", alice...)), "details"); d["is_owner"] != true {
		t.Errorf("the owner's look: %v", d)
	}
	if d := obj(t, v2OK(t, s.do(t, "GET", "/api/v2/secret/"+sk, "", "")), "details"); d["is_owner"] != false {
		t.Errorf("a guest's look: %v", d)
	}
	v2OK(t, s.do(t, "GET", "/api/v2/version", "", "", alice...))
	v2Fail(t, s.do(t, "GET", "/api/v2/receipt/recent", "", ""), 401, "Unauthorized", "")
	recent := v2OK(t, s.do(t, "GET", "/api/v2/receipt/recent", "", "", alice...))
	records, _ := recent["records"].([]any)
	if recent["success"] != true || recent["custid"] != "alice" || !is(recent["count"], 1) || len(records) != 1 {
		t.Fatalf("recent = %v", recent)
	}
	if r := records[0].(map[string]any); r["identifier"] != receipt["identifier"] || r["secret_identifier"] != nil {
		t.Errorf("recent record = %v", r)
	}
	if d := obj(t, recent, "details"); d["type"] != "list" || d["has_items"] != true {
		t.Errorf("recent details = %v", d)
	}
	// v1 lists it too: one store, one list.
	if list := s.recentList(t, "alice", aliceToken); len(list) != 1 {
		t.Errorf("v1 recent = %v", list)
	}
}

func TestV2Policy(t *testing.T) {
	s := MustOpenServer(t, withCreateAllow("192.0.2.0/24"), withRevealAllow("192.0.2.0/24"))
	v2Fail(t, s.do(t, "POST", "/api/v2/secret/conceal", ctJSON, `{"secret":{"secret":"x"}}`), 403, "Forbidden", errCreateDenied.Message)
	v2Fail(t, s.do(t, "GET", "/api/v2/secret/"+strings.Repeat("a", 32), "", ""), 403, "Forbidden", errRevealDenied.Message)
}

func TestV2RateLimit(t *testing.T) {
	s := MustOpenServer(t, withRateLimit(2))
	for range 2 {
		v2OK(t, s.do(t, "POST", "/api/v2/secret/generate", ctJSON, ""))
	}
	r := s.do(t, "POST", "/api/v2/secret/conceal", ctJSON, `{"secret":{"secret":"x"}}`)
	v2Fail(t, r, 429, "LimitExceeded", msgRateLimited)
	if r.get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}

// v2 request bodies are wiped like v1's.
func TestV2BodyWiped(t *testing.T) {
	h, _, _ := MustOpenHandler(t)
	for _, body := range []string{`{"secret":{"secret":"WIPE-ME","passphrase":"WIPE-ME pass"}}`, `{"secret":{"secret":"WIPE-ME"`} {
		ctx := serveCtx(h, nil, "POST", "/api/v2/secret/conceal", ctJSON, body)
		if b := ctx.Request.Body(); len(bytes.Trim(b, "\x00")) != 0 {
			t.Errorf("request body not wiped: %q", b)
		}
	}
}

// TestV2LateOpen: every v2 look at a link whose secret is gone (the page's
// look, its status, the status of several, a reveal, which looks first)
// is answered as for an unknown secret, kept on the receipt, and written
// to the audit trail as late_open, one event for each attempt kept.
func TestV2LateOpen(t *testing.T) {
	var out syncBuffer
	withTrail, trail := withAudit(t, &out)
	s := MustOpenServer(t, withTrail)
	ref := s.MustShare(t, "read once")
	s.MustReveal(t, ref.secretKey)
	from := s.clientFrom(net.ParseIP("198.51.100.23"))
	v2Fail(t, s.doWith(t, from, "GET", "/api/v2/secret/"+ref.secretKey, "", ""), 404, "RecordNotFound", "")
	if m := v2OK(t, s.doWith(t, from, "GET", "/api/v2/secret/"+ref.secretKey+"/status", "", "")); fmt.Sprint(m) != "map[record:map[state:unknown]]" {
		t.Errorf("status: %v", m)
	}
	if m := v2OK(t, s.doWith(t, from, "POST", "/api/v2/secret/status", ctJSON, `{"identifiers":["`+ref.secretKey+`"]}`)); !is(m["count"], 0) {
		t.Errorf("statuses: %v", m)
	}
	v2Fail(t, s.doWith(t, from, "POST", "/api/v2/secret/"+ref.secretKey+"/reveal", ctJSON, `{"continue":true}`), 404, "RecordNotFound", "")

	m := MustOK(t, s.do(t, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
	late, _ := m["late_attempts"].([]any)
	if num(t, m, "late_total") != 4 || len(late) != 4 {
		t.Fatalf("receipt %v", m)
	}
	for i, a := range late {
		if a := a.(map[string]any); a["kind"] != "page" || a["net"] != "198.51.100.0/24" {
			t.Errorf("attempt %d: %v", i+1, a)
		}
	}
	want := ""
	if ref, ok := s.st.SecretRef([]byte(ref.secretKey)); ok {
		want = s.h.cfg.Audit.Ref(ref)
	}
	n := 0
	for _, e := range trail.Events() {
		if e.Event == audit.LateOpen {
			n++
			if e.Ref != want || e.Outcome != "page" || e.IP != netip.MustParseAddr("198.51.100.23") {
				t.Errorf("event %+v, want ref %s", e, want)
			}
		}
	}
	if n != 4 {
		t.Errorf("%d late_open events for 4 attempts", n)
	}
}
