package handler

// Requests shaped exactly as existing Onetime Secret v1 clients send them
// (read from their sources), each answered as upstream's v1 answers it:
//   - four Go libraries put everything, secret and passphrase included, in
//     the query string of a POST: without a body and Content-Type
//     (corbaltcode/go-onetimesecret, jasosa/onetimesecret, j4ng5y's), or
//     with an empty body sent as JSON, to paths with a trailing slash
//     (chelnak/onetimesecret-go);
//   - jdockerty/onetimesecret-go sends a form body without a Content-Type;
//   - ots.bash sends curl -F (multipart), or -d '' for an empty form;
//   - the Go libraries send HTTP Basic even with no user or token set.

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestClientQueryString(t *testing.T) {
	dir := t.TempDir()
	s := MustOpenServer(t, withTokens(t, nil, writeTokens(t, dir, "alice:"+aliceToken)))
	auth := []string{"Authorization", basicAuth("alice", aliceToken)}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return "?" + v.Encode()
	}

	t.Run("corbaltcode", func(t *testing.T) {
		// Put, GetMetadata, Get, Generate, Burn, GetRecentMetadata: POST
		// (GET for recent) with the query only, no body, Basic always.
		created := MustOK(t, s.do(t, "POST", "/api/v1/share"+q("secret", "query secret é&=", "passphrase", "open sesame", "ttl", "600", "recipient", ""), "", "", auth...))
		if created["passphrase_required"] != true || num(t, created, "ttl") != 600 || created["custid"] != "alice" {
			t.Fatalf("share: %v", created)
		}
		sk, rk := str(t, created, "secret_key"), str(t, created, "metadata_key")
		if m := MustOK(t, s.do(t, "POST", "/api/v1/private/"+rk, "", "", auth...)); m["state"] != "new" {
			t.Errorf("metadata: %v", m)
		}
		MustFail(t, s.do(t, "POST", "/api/v1/secret/"+sk+q("passphrase", "wrong"), "", "", auth...), 404, msgUnknownSecret)
		if m := MustOK(t, s.do(t, "POST", "/api/v1/secret/"+sk+q("passphrase", "open sesame"), "", "", auth...)); m["value"] != "query secret é&=" {
			t.Errorf("reveal: %v", m)
		}
		gen := MustOK(t, s.do(t, "POST", "/api/v1/generate"+q("passphrase", "", "ttl", "0", "recipient", ""), "", "", auth...))
		if num(t, gen, "ttl") != 60 || gen["passphrase_required"] != false { // ttl 0 is raised to 60, as upstream does
			t.Errorf("generate: %v", gen)
		}
		burned := MustOK(t, s.do(t, "POST", "/api/v1/private/"+str(t, gen, "metadata_key")+"/burn"+q("passphrase", ""), "", "", auth...))
		if state, _ := burned["state"].(map[string]any); state["state"] != "burned" {
			t.Errorf("burn: %v", burned)
		}
		if list := s.recentList(t, "alice", aliceToken); len(list) != 2 {
			t.Errorf("recent: %d receipts", len(list))
		}
	})

	t.Run("GenerateKeepsQueryPassphrase", func(t *testing.T) {
		// Once a silent downgrade: the passphrase and ttl in the query
		// were dropped and a bare secret made.
		m := MustOK(t, s.do(t, "POST", "/api/v1/generate"+q("passphrase", "open sesame", "ttl", "600"), "", "", auth...))
		if m["passphrase_required"] != true || num(t, m, "ttl") != 600 {
			t.Fatalf("generate: %v", m)
		}
		MustFail(t, s.do(t, "POST", "/api/v1/secret/"+str(t, m, "secret_key"), "", "", auth...), 404, msgUnknownSecret)
		if got := s.MustReveal(t, str(t, m, "secret_key"), "passphrase", "open sesame"); got != m["value"] {
			t.Errorf("revealed %q, generated %v", got, m["value"])
		}
	})

	t.Run("chelnak", func(t *testing.T) {
		// JSON Content-Type, empty body, trailing slashes; recent is a POST.
		const ct = "application/json; charset=utf-8"
		created := MustOK(t, s.do(t, "POST", "/api/v1/share/"+q("secret", "chelnak", "ttl", "300", "recipient", "", "passphrase", "open sesame"), ct, "", auth...))
		if num(t, created, "ttl") != 300 || created["passphrase_required"] != true {
			t.Fatalf("share: %v", created)
		}
		if m := MustOK(t, s.do(t, "POST", "/api/v1/private/"+str(t, created, "metadata_key")+"/", ct, "", auth...)); m["state"] != "new" {
			t.Errorf("metadata: %v", m)
		}
		if m := MustOK(t, s.do(t, "POST", "/api/v1/secret/"+str(t, created, "secret_key")+"/"+q("passphrase", "open sesame"), ct, "", auth...)); m["value"] != "chelnak" {
			t.Errorf("reveal: %v", m)
		}
		// Upstream routes POST /private/recent to a receipt read of the
		// key "recent": its 404 "Not Found".
		MustFail(t, s.do(t, "POST", "/api/v1/private/recent/", ct, "", auth...), 404, msgNotFound)
		MustOK(t, s.do(t, "GET", "/api/v1/status/", ct, "", auth...))
	})

	t.Run("j4ng5y", func(t *testing.T) {
		// Fields joined with commas: upstream reads one secret holding
		// the whole string, without a passphrase, and so does otslite.
		m := MustOK(t, s.do(t, "POST", "/api/v1/share?secret=abc,passphrase=pass,ttl=600", "", "", auth...))
		if m["passphrase_required"] != false || num(t, m, "ttl") != 3600 {
			t.Errorf("share: %v", m)
		}
		if got := s.MustReveal(t, str(t, m, "secret_key")); got != "abc,passphrase=pass,ttl=600" {
			t.Errorf("revealed %q", got)
		}
	})

	t.Run("jasosa", func(t *testing.T) {
		m := MustOK(t, s.do(t, "POST", "/api/v1/generate?ttl=900", "", "", auth...))
		if num(t, m, "ttl") != 900 || len(str(t, m, "value")) != 12 {
			t.Errorf("generate: %v", m)
		}
	})

	t.Run("jdockerty", func(t *testing.T) {
		// A form body with no Content-Type; retrieve also sends secret_key.
		m := MustOK(t, s.do(t, "POST", "/api/v1/share", "", form("secret", "jd", "passphrase", "open sesame", "ttl", "600", "recipient", ""), auth...))
		sk := str(t, m, "secret_key")
		if got := MustOK(t, s.do(t, "POST", "/api/v1/secret/"+sk, "", form("secret_key", sk, "passphrase", "open sesame"), auth...)); got["value"] != "jd" {
			t.Errorf("reveal: %v", got)
		}
	})
}

// multipart builds a curl -F body with boundary "otsb".
func multipart(kv ...string) (contentType, body string) {
	var b strings.Builder
	for i := 0; i < len(kv); i += 2 {
		b.WriteString("--otsb\r\nContent-Disposition: form-data; name=\"" + kv[i] + "\"\r\n\r\n" + kv[i+1] + "\r\n")
	}
	b.WriteString("--otsb--\r\n")
	return "multipart/form-data; boundary=otsb", b.String()
}

func TestClientMultipart(t *testing.T) {
	s := MustOpenServer(t)
	// ots.bash share: -F passphrase=… -F ttl=… -F secret='<-' (stdin).
	ct, body := multipart("passphrase", "open sesame", "ttl", "600", "secret", "from stdin\nline two\n")
	m := MustOK(t, s.do(t, "POST", "/api/v1/share", ct, body))
	if m["passphrase_required"] != true || num(t, m, "ttl") != 600 {
		t.Fatalf("share: %v", m)
	}
	sk, rk := str(t, m, "secret_key"), str(t, m, "metadata_key")
	// metadata: -X POST -d ''
	if got := MustOK(t, s.do(t, "POST", "/api/v1/private/"+rk, ctForm, "")); got["state"] != "new" {
		t.Errorf("metadata: %v", got)
	}
	// retrieve: -F passphrase=…
	ct, body = multipart("passphrase", "wrong")
	MustFail(t, s.do(t, "POST", "/api/v1/secret/"+sk, ct, body), 404, msgUnknownSecret)
	ct, body = multipart("passphrase", "open sesame")
	if got := MustOK(t, s.do(t, "POST", "/api/v1/secret/"+sk, ct, body)); got["value"] != "from stdin\nline two\n" {
		t.Errorf("reveal: %v", got)
	}
	// generate with no arguments: -d "''" (a form body of two quotes).
	gen := MustOK(t, s.do(t, "POST", "/api/v1/generate", ctForm, "''"))
	// burn: -d ''
	if got := MustOK(t, s.do(t, "POST", "/api/v1/private/"+str(t, gen, "metadata_key")+"/burn", ctForm, "")); got["secret_shortkey"] == nil {
		t.Errorf("burn: %v", got)
	}
	// A file (-F secret=@file) cannot be honoured: a clear 400.
	fileBody := "--otsb\r\nContent-Disposition: form-data; name=\"secret\"; filename=\"notes.txt\"\r\nContent-Type: text/plain\r\n\r\nx\r\n--otsb--\r\n"
	MustFail(t, s.do(t, "POST", "/api/v1/share", "multipart/form-data; boundary=otsb", fileBody), 400, errFile.Message)
	// The body wins over the query, as Rack merges them.
	ct, body = multipart("ttl", "300", "secret", "body")
	m = MustOK(t, s.do(t, "POST", "/api/v1/share?ttl=900&secret=query", ct, body))
	if num(t, m, "ttl") != 300 || s.MustReveal(t, str(t, m, "secret_key")) != "body" {
		t.Errorf("merge: %v", m)
	}
}

func TestClientEmptyBasic(t *testing.T) {
	// Go clients send Basic even with no user or token configured.
	// Upstream refuses an empty user or token as invalid credentials
	// (apps/api/v1/controllers/base.rb, authorized), on every endpoint.
	s := MustOpenServer(t)
	ref := s.MustShare(t, "x")
	for name, cred := range map[string]string{"Empty": ":", "EmptyUser": ":some-token-value-1234", "EmptyToken": "someone@example.com:"} {
		header := "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
		for _, p := range []struct{ method, path string }{
			{"GET", "/api/v1/status"},
			{"POST", "/api/v1/share?secret=x"},
			{"POST", "/api/v1/generate"},
			{"POST", "/api/v1/secret/" + ref.secretKey},
			{"POST", "/api/v1/private/" + ref.receiptKey},
			{"POST", "/api/v1/private/" + ref.receiptKey + "/burn"},
			{"GET", "/api/v1/private/recent"},
		} {
			t.Run(name+p.path, func(t *testing.T) {
				MustFail(t, s.do(t, p.method, p.path, "", "", "Authorization", header), 401, msgNotAuthorized)
			})
		}
	}
	s.MustBeWaiting(t, ref)
}
