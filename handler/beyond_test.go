package handler

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"otslite/handler/audit"
	"otslite/store"
)

// withFiles lets the server take envelopes of up to n bytes, with slots
// file slots of locked memory for them.
func withFiles(n, slots int) option {
	return func(c *testConfig) {
		c.store.MaxEnvelopeSize = n
		c.store.FileSlots, c.store.FileSlotSize = slots, FileSlotSize(n)
		c.store.MaxBytes = 64 << 20
		c.handler.MaxFileSize = n - 64<<10
	}
}

// rawJSON encodes v as JSON.stringify does: '<', '>' and '&' as they are
// (encoding/json escapes them, which a browser does not).
func rawJSON(tb testing.TB, v any) string {
	tb.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// rawPost is a whole POST request with a body, closing the connection.
func rawPost(path, contentType, body string) []byte {
	return []byte(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: ots.internal\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", path, contentType, len(body), body))
}

const z85Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"

// fakeEnvelope is n bytes that look like an otsz1 envelope.
func fakeEnvelope(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = z85Alphabet[int(b[i])%len(z85Alphabet)]
	}
	copy(b, "otsz1:")
	return string(b)
}

func TestFileEnvelopes(t *testing.T) {
	const max = 600 << 10
	big := fakeEnvelope(500 << 10)

	t.Run("OK/JSON", func(t *testing.T) {
		// One file slot is enough: the envelope is used where it lies in
		// the locked body.
		s := MustOpenServer(t, withFiles(max, 1))
		p := proof(false)
		m := MustOK(t, s.do(t, "POST", "/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": big, "passphrase": p})))
		if got := s.MustReveal(t, str(t, m, "secret_key"), "passphrase", p); got != big {
			t.Error("the envelope came back different")
		}
	})
	t.Run("OK/Multipart", func(t *testing.T) {
		s := MustOpenServer(t, withFiles(max, 1))
		p := proof(false)
		ct, body := multipart("secret", big, "passphrase", p)
		m := MustOK(t, s.do(t, "POST", "/api/v1/share", ct, body))
		if got := s.MustReveal(t, str(t, m, "secret_key"), "passphrase", p); got != big {
			t.Error("the envelope came back different")
		}
	})
	t.Run("OK/FormWithTwoSlots", func(t *testing.T) {
		// A form escapes most of the alphabet: decoded into a second slot.
		small := fakeEnvelope(150 << 10)
		p := proof(false)
		s := MustOpenServer(t, withFiles(max, 2))
		m := MustOK(t, s.do(t, "POST", "/api/v1/share", ctForm, form("secret", small, "passphrase", p)))
		if got := s.MustReveal(t, str(t, m, "secret_key"), "passphrase", p); got != small {
			t.Error("the envelope came back different")
		}
		// With one slot there is no room for the decoded copy.
		s = MustOpenServer(t, withFiles(max, 1))
		MustFail(t, s.do(t, "POST", "/api/v1/share", ctForm, form("secret", small, "passphrase", p)), 503, "")
	})
	t.Run("OK/Chunked", func(t *testing.T) {
		// A chunked body outgrows the heap's limit and moves to locked
		// memory.
		s := MustOpenServer(t, withFiles(max, 1))
		p := proof(false)
		body := rawJSON(t, map[string]string{"secret": big, "passphrase": p})
		var raw bytes.Buffer
		raw.WriteString("POST /api/v1/share HTTP/1.1\r\nHost: ots.internal\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
		for rest := body; len(rest) > 0; {
			n := min(len(rest), 7000)
			fmt.Fprintf(&raw, "%x\r\n%s\r\n", n, rest[:n])
			rest = rest[n:]
		}
		raw.WriteString("0\r\n\r\n")
		r := s.raw(t, raw.Bytes())
		m := MustOK(t, r)
		if got := s.MustReveal(t, str(t, m, "secret_key"), "passphrase", p); got != big {
			t.Error("the envelope came back different")
		}
	})
	t.Run("ErrTooLarge/NoProof", func(t *testing.T) {
		s := MustOpenServer(t, withFiles(max, 2))
		MustFail(t, s.do(t, "POST", "/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": big})), 413, "")
		MustFail(t, s.do(t, "POST", "/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": big, "passphrase": "a human passphrase"})), 413, "")
	})
	t.Run("ErrTooLarge/NotAnEnvelope", func(t *testing.T) {
		s := MustOpenServer(t, withFiles(max, 2))
		MustFail(t, s.do(t, "POST", "/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": "x" + big[1:], "passphrase": proof(false)})), 413, "")
	})
	t.Run("ErrTooLarge/PastTheEnvelopeSize", func(t *testing.T) {
		s := MustOpenServer(t, withFiles(max, 2))
		MustFail(t, s.do(t, "POST", "/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": fakeEnvelope(max + 1), "passphrase": proof(false)})), 413, "")
		// A body past what a locked slot holds is refused before it is read.
		r := s.raw(t, []byte(fmt.Sprintf("POST /api/v1/share HTTP/1.1\r\nHost: ots.internal\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", LockedBodySize(max)+1)))
		if r.intended() != 413 || !r.header.ConnectionClose() {
			t.Errorf("oversized body: %v", r)
		}
	})
	t.Run("ErrTooLarge/NoFileSlots", func(t *testing.T) {
		s := MustOpenServer(t)
		MustFail(t, s.raw(t, rawPost("/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": big, "passphrase": proof(false)}))), 413, "")
	})
	t.Run("ErrBusy", func(t *testing.T) {
		s := MustOpenServer(t, withFiles(max, 1))
		held, err := s.st.Plain(max)
		if err != nil {
			t.Fatal(err)
		}
		MustFail(t, s.raw(t, rawPost("/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": big, "passphrase": proof(false)}))), 503, "")
		held.Release()
		MustOK(t, s.do(t, "POST", "/api/v1/share", ctJSON, rawJSON(t, map[string]string{"secret": big, "passphrase": proof(false)})))
	})
	t.Run("CutShort", func(t *testing.T) {
		// A client gone mid-body gives its locked slot back: the next
		// large body finds it.
		s := MustOpenServer(t, withFiles(max, 1))
		body := rawJSON(t, map[string]string{"secret": big, "passphrase": proof(false)})
		for range 3 {
			c, err := s.ln.Dial()
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "POST /api/v1/share HTTP/1.1\r\nHost: ots.internal\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
			c.Close()
		}
		// Until the slot is back, the server refuses before reading the
		// body, so the poll writes and reads at once.
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := s.raw(t, rawPost("/api/v1/share", ctJSON, body))
			if r.status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the slot never came back: %v", r)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("Config", func(t *testing.T) {
		s := MustOpenServer(t, withFiles(max, 2))
		m := MustOK(t, s.do(t, "GET", "/api/otslite/config", "", ""))
		if num(t, m, "max_envelope_size") != max || num(t, m, "max_file_size") != max-64<<10 || num(t, m, "max_secret_size") != 1024 || num(t, m, "max_links") != 20 {
			t.Errorf("config %v", m)
		}
	})
}

// mustShareProof stores an envelope with a fresh proof.
func (s *testServer) mustShareProof(tb testing.TB) (secretRef, string, string) {
	tb.Helper()
	p, v := proof(false), fakeEnvelope(64)
	return s.MustShare(tb, v, "passphrase", p), p, v
}

// mustGroup stores n envelopes and groups them; it returns the group's
// receipt key and each link's ref and proof.
func (s *testServer) mustGroup(tb testing.TB, n int) (string, []secretRef, []string) {
	tb.Helper()
	var refs []secretRef
	var proofs, keys []string
	for range n {
		ref, p, _ := s.mustShareProof(tb)
		refs, proofs, keys = append(refs, ref), append(proofs, p), append(keys, ref.receiptKey)
	}
	m := MustOK(tb, s.do(tb, "POST", "/api/otslite/group", ctJSON, jsonBody(tb, map[string]any{"receipts": keys})))
	key := str(tb, m, "receipt_key")
	if !store.ValidKey([]byte(key)) || str(tb, m, "metadata_url") != publicURL+"/group/"+key {
		tb.Fatalf("group %v", m)
	}
	return key, refs, proofs
}

// links returns a group's links.
func links(tb testing.TB, m map[string]any) []map[string]any {
	tb.Helper()
	raw, ok := m["links"].([]any)
	if !ok {
		tb.Fatalf("links = %v", m["links"])
	}
	out := make([]map[string]any, len(raw))
	for i, l := range raw {
		out[i] = l.(map[string]any)
	}
	return out
}

func TestGroupAPI(t *testing.T) {
	var out syncBuffer
	withTrail, trail := withAudit(t, &out)
	s := MustOpenServer(t, withTrail)
	key, refs, proofs := s.mustGroup(t, 3)

	g := MustOK(t, s.do(t, "GET", "/api/otslite/group/"+key, "", ""))
	ls := links(t, g)
	if len(ls) != 3 || num(t, g, "created") != s.clock.Now().Unix() {
		t.Fatalf("group %v", g)
	}
	for i, l := range ls {
		if num(t, l, "link") != int64(i+1) || l["state"] != "new" || num(t, l, "secret_expires") != s.clock.Now().Add(time.Hour).Unix() {
			t.Errorf("link %d: %v", i+1, l)
		}
		for _, k := range []string{"secret_key", "metadata_key", "receipt_key"} {
			if _, ok := l[k]; ok {
				t.Errorf("link %d shows %s", i+1, k)
			}
		}
	}

	// Link 2 read, link 3 burned through the group, then link 2 tried
	// again from 198.51.100.7.
	s.clock.Add(time.Minute)
	s.MustReveal(t, refs[1].secretKey, "passphrase", proofs[1])
	b := MustOK(t, s.do(t, "POST", "/api/otslite/group/"+key+"/burn/3", ctForm, ""))
	if num(t, b, "link") != 3 || b["state"] != "burned" {
		t.Errorf("burn %v", b)
	}
	MustFail(t, s.do(t, "POST", "/api/otslite/group/"+key+"/burn/3", ctForm, ""), 404, errUnknownLink.Message)
	MustFail(t, s.do(t, "POST", "/api/otslite/group/"+key+"/burn/2", ctForm, ""), 404, errUnknownLink.Message)
	for _, bad := range []string{"0", "4", "21", "x", "-1", ""} {
		MustFail(t, s.do(t, "POST", "/api/otslite/group/"+key+"/burn/"+bad, ctForm, ""), 404, "")
	}
	s.clock.Add(time.Minute)
	MustFail(t, s.doWith(t, s.clientFrom(net.ParseIP("198.51.100.7")), "GET", "/api/otslite/secret/"+refs[1].secretKey, "", ""), 404, msgUnknownSecret)

	ls = links(t, MustOK(t, s.do(t, "GET", "/api/otslite/group/"+key, "", "")))
	if ls[0]["state"] != "new" || ls[1]["state"] != "received" || ls[2]["state"] != "burned" {
		t.Errorf("states %v %v %v", ls[0]["state"], ls[1]["state"], ls[2]["state"])
	}
	if num(t, ls[1], "received") != s.clock.Now().Add(-time.Minute).Unix() || num(t, ls[2], "updated") != s.clock.Now().Add(-time.Minute).Unix() {
		t.Errorf("times %v %v", ls[1], ls[2])
	}
	late, _ := ls[1]["late_attempts"].([]any)
	if num(t, ls[1], "late_total") != 1 || len(late) != 1 {
		t.Fatalf("late %v", ls[1])
	}
	a := late[0].(map[string]any)
	if a["net"] != "198.51.100.0/24" || a["kind"] != "page" || num(t, a, "at") != s.clock.Now().Unix() {
		t.Errorf("attempt %v", a)
	}
	if num(t, ls[0], "late_total") != 0 {
		t.Errorf("link 1 shows attempts: %v", ls[0])
	}

	// The audit trail names each link by its secret's Ref.
	events := trail.Events()
	var group, burns, lates int
	for _, e := range events {
		switch {
		case e.Event == audit.Group && e.Outcome == audit.OK && e.Ref != "":
			group++
		case e.Event == audit.Burn && e.Outcome == audit.OK:
			burns++
		case e.Event == audit.LateOpen && e.Outcome == "page" && e.IP == netip.MustParseAddr("198.51.100.7"):
			lates++
		}
	}
	if group != 1 || burns != 1 || lates != 1 {
		t.Errorf("audit: %d group, %d burn, %d late_open events", group, burns, lates)
	}

	// The group key is no receipt key or secret key, and the other way
	// round.
	MustFail(t, s.do(t, "GET", "/api/v1/receipt/"+key, "", ""), 404, "")
	MustFail(t, s.do(t, "GET", "/api/otslite/group/"+refs[0].receiptKey, "", ""), 404, errUnknownGroup.Message)
	MustFail(t, s.do(t, "GET", "/api/otslite/group/short", "", ""), 404, "")
	MustFail(t, s.do(t, "POST", "/api/otslite/group/"+key, ctForm, ""), 405, "")
	MustFail(t, s.do(t, "GET", "/api/otslite/group", "", ""), 405, "")
}

func TestGroupCreate(t *testing.T) {
	s := MustOpenServer(t)
	var keys []string
	for range 21 {
		ref, _, _ := s.mustShareProof(t)
		keys = append(keys, ref.receiptKey)
	}
	human := s.MustShare(t, "plain", "passphrase", "a human passphrase")
	read, p, _ := s.mustShareProof(t)
	s.MustReveal(t, read.secretKey, "passphrase", p)

	t.Run("OK/Form", func(t *testing.T) {
		m := MustOK(t, s.do(t, "POST", "/api/otslite/group", ctForm, form("receipts", keys[0], "receipts", keys[1])))
		if len(links(t, m)) != 2 {
			t.Errorf("group %v", m)
		}
	})
	t.Run("OK/Multipart", func(t *testing.T) {
		ct, body := multipart("receipts[]", keys[2], "receipts[]", keys[3], "receipts[]", keys[4])
		if len(links(t, MustOK(t, s.do(t, "POST", "/api/otslite/group", ct, body)))) != 3 {
			t.Error("not three links")
		}
	})
	for name, c := range map[string]struct {
		body     string
		intended int
		msg      string
	}{
		"One":          {jsonBody(t, map[string]any{"receipts": keys[5:6]}), 400, errGroup.Message},
		"None":         {`{}`, 400, errGroup.Message},
		"TwentyOne":    {jsonBody(t, map[string]any{"receipts": keys}), 400, errReceipts.Message},
		"Twice":        {jsonBody(t, map[string]any{"receipts": []string{keys[5], keys[5]}}), 400, errGroup.Message},
		"Human":        {jsonBody(t, map[string]any{"receipts": []string{keys[5], human.receiptKey}}), 400, errGroup.Message},
		"Read":         {jsonBody(t, map[string]any{"receipts": []string{keys[5], read.receiptKey}}), 404, errUnknownReceipt.Message},
		"SecretKey":    {jsonBody(t, map[string]any{"receipts": []string{keys[5], human.secretKey}}), 404, errUnknownReceipt.Message},
		"NotAKey":      {jsonBody(t, map[string]any{"receipts": []string{keys[5], "NOT-A-KEY"}}), 400, errReceipts.Message},
		"Escaped":      {`{"receipts":["` + keys[5] + `","\u0061` + keys[6][1:] + `"]}`, 400, errReceipts.Message},
		"NotStrings":   {`{"receipts":[1,2]}`, 400, errReceipts.Message},
		"Object":       {`{"receipts":{"a":"b"}}`, 400, ""},
		"MalformedJSN": {`{"receipts":[`, 400, ""},
	} {
		t.Run("Err/"+name, func(t *testing.T) {
			MustFail(t, s.do(t, "POST", "/api/otslite/group", ctJSON, c.body), c.intended, c.msg)
		})
	}
	// Nothing was grouped by the failures: the secrets still wait.
	s.MustBeWaiting(t, secretRef{receiptKey: keys[5], secretKey: str(t, s.MustReceipt(t, keys[5]), "secret_key")})
}

func TestGroupPolicy(t *testing.T) {
	const token = "0123456789abcdef0123"
	s := MustOpenServer(t, withTokens(t, []string{"alice:" + token}, ""), withRateLimit(4))
	auth := basicAuth("alice", token)
	var keys []string
	for range 2 {
		m := MustOK(t, s.do(t, "POST", "/api/v1/share", ctForm, form("secret", "x"), "Authorization", auth))
		keys = append(keys, str(t, m, "metadata_key"))
	}
	body := jsonBody(t, map[string]any{"receipts": keys})
	MustFail(t, s.do(t, "POST", "/api/otslite/group", ctJSON, body), 401, msgNotAuthorized)
	MustOK(t, s.do(t, "POST", "/api/otslite/group", ctJSON, body, "Authorization", auth))
	// The two shares and the group counted toward the create limit: one
	// more, then refused.
	MustFail(t, s.do(t, "POST", "/api/otslite/group", ctJSON, body, "Authorization", auth), 429, "")
}

// TestGroupLinksOpenOnceOverHTTP: many clients reveal every link of a
// group at once; each opens exactly once.
func TestGroupLinksOpenOnceOverHTTP(t *testing.T) {
	s := MustOpenServer(t)
	_, refs, proofs := s.mustGroup(t, 4)
	var wins [4]atomic.Int32
	var wg sync.WaitGroup
	for i := range refs {
		for j := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := s.clientFrom(net.IPv4(10, 0, byte(i), byte(j)))
				r, err := s.try(c, "POST", "/api/v1/secret/"+refs[i].secretKey, ctForm, form("passphrase", proofs[i]))
				if err == nil && r.status == 200 {
					wins[i].Add(1)
				}
			}()
		}
	}
	wg.Wait()
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("link %d opened %d times", i+1, n)
		}
	}
}

// newRequestKeys makes a requester's P-256 key pair and returns the
// public key as the request link's fragment carries it.
func p256Public(tb testing.TB) string {
	tb.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes())
}

func TestRequestAPI(t *testing.T) {
	var out syncBuffer
	withTrail, trail := withAudit(t, &out)
	s := MustOpenServer(t, withTrail)
	m := MustOK(t, s.do(t, "POST", "/api/otslite/request", ctForm, form("ttl", "600")))
	ask, inbox := str(t, m, "request_key"), str(t, m, "requester_key")
	if str(t, m, "request_url") != publicURL+"/request/"+ask || str(t, m, "requester_url") != publicURL+"/inbox/"+inbox || num(t, m, "ttl") != 600 || num(t, m, "deadline") != s.clock.Now().Add(10*time.Minute).Unix() {
		t.Fatalf("request %v", m)
	}
	a := MustOK(t, s.do(t, "GET", "/api/otslite/request/"+ask, "", ""))
	if a["state"] != "waiting" || len(a) != 2 {
		t.Errorf("asked %v", a)
	}
	in := MustOK(t, s.do(t, "GET", "/api/otslite/inbox/"+inbox, "", ""))
	if in["state"] != "waiting" || in["public"] != "" || num(t, in, "answered") != 0 {
		t.Errorf("inbox %v", in)
	}
	// The keys are each other's nothing.
	MustFail(t, s.do(t, "GET", "/api/otslite/inbox/"+ask, "", ""), 404, errUnknownRequest.Message)
	MustFail(t, s.do(t, "GET", "/api/otslite/request/"+inbox, "", ""), 404, errUnknownRequest.Message)
	MustFail(t, s.do(t, "POST", "/api/otslite/inbox/"+inbox+"/reveal", ctForm, form("passphrase", proof(false))), 404, msgUnknownSecret)

	pub, p, env := p256Public(t), proof(false), fakeEnvelope(300)
	answer := func(fields map[string]string) *response {
		return s.do(t, "POST", "/api/otslite/request/"+ask+"/answer", ctJSON, jsonBody(t, fields))
	}
	for name, f := range map[string]map[string]string{
		"NoPublic":       {"secret": env, "passphrase": p},
		"NoProof":        {"secret": env, "public": pub},
		"NoSecret":       {"passphrase": p, "public": pub},
		"HumanPass":      {"secret": env, "passphrase": "a human passphrase", "public": pub},
		"ProofWithPP":    {"secret": env, "passphrase": proof(true), "public": pub},
		"NotEnvelope":    {"secret": "plain text", "passphrase": p, "public": pub},
		"ShortPublic":    {"secret": env, "passphrase": p, "public": pub[:80]},
		"PaddedPublic":   {"secret": env, "passphrase": p, "public": pub + "="},
		"NotOnTheCurve":  {"secret": env, "passphrase": p, "public": base64.RawURLEncoding.EncodeToString(append([]byte{4}, bytes.Repeat([]byte{1}, 64)...))},
		"CompressedForm": {"secret": env, "passphrase": p, "public": base64.RawURLEncoding.EncodeToString(append([]byte{2}, bytes.Repeat([]byte{1}, 64)...))},
	} {
		t.Run("Err/"+name, func(t *testing.T) { MustFail(t, answer(f), 400, "") })
	}
	s.clock.Add(time.Minute)
	r := MustOK(t, answer(map[string]string{"secret": env, "passphrase": p, "public": pub}))
	if r["state"] != "answered" || num(t, r, "answer_expires") != s.clock.Now().Add(10*time.Minute).Unix() {
		t.Errorf("answer %v", r)
	}
	MustFail(t, answer(map[string]string{"secret": env, "passphrase": proof(false), "public": pub}), 409, errAnswered.Message)
	if a := MustOK(t, s.do(t, "GET", "/api/otslite/request/"+ask, "", "")); a["state"] != "answered" {
		t.Errorf("asked after %v", a)
	}
	in = MustOK(t, s.do(t, "GET", "/api/otslite/inbox/"+inbox, "", ""))
	if in["state"] != "answered" || in["public"] != pub || num(t, in, "answered") != s.clock.Now().Unix() {
		t.Errorf("inbox after %v", in)
	}

	MustFail(t, s.do(t, "POST", "/api/otslite/inbox/"+inbox+"/reveal", ctForm, form("passphrase", proof(false))), 404, msgUnknownSecret)
	MustFail(t, s.do(t, "POST", "/api/otslite/inbox/"+inbox+"/reveal", ctForm, ""), 404, msgUnknownSecret)
	v := MustOK(t, s.do(t, "POST", "/api/otslite/inbox/"+inbox+"/reveal", ctJSON, jsonBody(t, map[string]string{"passphrase": p})))
	if v["value"] != env || len(v) != 1 {
		t.Errorf("reveal %v", v)
	}
	MustFail(t, s.do(t, "POST", "/api/otslite/inbox/"+inbox+"/reveal", ctForm, form("passphrase", p)), 404, msgUnknownSecret)
	if in := MustOK(t, s.do(t, "GET", "/api/otslite/inbox/"+inbox, "", "")); in["state"] != "read" || num(t, in, "read") != s.clock.Now().Unix() {
		t.Errorf("inbox after reading %v", in)
	}

	var made, answered, revealed int
	for _, e := range trail.Events() {
		switch {
		case e.Event == audit.Request && e.Outcome == audit.OK && e.Ref != "":
			made++
		case e.Event == audit.Answer && e.Outcome == audit.OK && e.Ref != "":
			answered++
		case e.Event == audit.Reveal && e.Outcome == audit.OK:
			revealed++
		}
	}
	if made != 1 || answered != 1 || revealed != 1 {
		t.Errorf("audit: %d request, %d answer, %d reveal events", made, answered, revealed)
	}

	// A request whose time is up takes no answer.
	m = MustOK(t, s.do(t, "POST", "/api/otslite/request", ctForm, form("ttl", "60")))
	s.clock.Add(time.Minute)
	MustFail(t, s.do(t, "POST", "/api/otslite/request/"+str(t, m, "request_key")+"/answer", ctJSON, jsonBody(t, map[string]string{"secret": env, "passphrase": p, "public": pub})), 404, errUnknownRequest.Message)
	if in := MustOK(t, s.do(t, "GET", "/api/otslite/inbox/"+str(t, m, "requester_key"), "", "")); in["state"] != "expired" {
		t.Errorf("expired request %v", in)
	}
}

func TestRequestPolicy(t *testing.T) {
	const token = "0123456789abcdef0123"
	s := MustOpenServer(t, withTokens(t, []string{"alice:" + token}, ""), withCreateAllow("10.0.0.0/8"), withRevealAllow("10.0.0.0/8"))
	inside, outside := s.clientFrom(net.IPv4(10, 1, 2, 3)), s.clientFrom(net.IPv4(203, 0, 113, 9))
	auth := basicAuth("alice", token)
	MustFail(t, s.doWith(t, inside, "POST", "/api/otslite/request", ctForm, ""), 401, msgNotAuthorized)
	MustFail(t, s.doWith(t, outside, "POST", "/api/otslite/request", ctForm, "", "Authorization", auth), 403, errCreateDenied.Message)
	m := MustOK(t, s.doWith(t, inside, "POST", "/api/otslite/request", ctForm, "", "Authorization", auth))
	ask, inbox := str(t, m, "request_key"), str(t, m, "requester_key")

	// The answerer needs no token and may be anywhere; a bad token is
	// still refused.
	pub, p := p256Public(t), proof(false)
	body := rawJSON(t, map[string]string{"secret": fakeEnvelope(100), "passphrase": p, "public": pub})
	MustFail(t, s.doWith(t, outside, "POST", "/api/otslite/request/"+ask+"/answer", ctJSON, body, "Authorization", basicAuth("alice", "wrong-token-0123456789")), 401, msgNotAuthorized)
	MustOK(t, s.doWith(t, outside, "POST", "/api/otslite/request/"+ask+"/answer", ctJSON, body))
	// Reading the answer is opening a secret.
	MustFail(t, s.doWith(t, outside, "POST", "/api/otslite/inbox/"+inbox+"/reveal", ctForm, form("passphrase", p)), 403, errRevealDenied.Message)
	MustOK(t, s.doWith(t, inside, "POST", "/api/otslite/inbox/"+inbox+"/reveal", ctForm, form("passphrase", p)))
}

// TestRequestAnsweredOnceOverHTTP: answers sent at once: one is taken,
// the others hear it was answered.
func TestRequestAnsweredOnceOverHTTP(t *testing.T) {
	s := MustOpenServer(t)
	ask := str(t, MustOK(t, s.do(t, "POST", "/api/otslite/request", ctForm, "")), "request_key")
	pub := p256Public(t)
	var ok, answered atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.clientFrom(net.IPv4(10, 9, 0, byte(i)))
			r, err := s.try(c, "POST", "/api/otslite/request/"+ask+"/answer", ctJSON, rawJSON(t, map[string]string{"secret": fakeEnvelope(200), "passphrase": proof(false), "public": pub}))
			switch {
			case err != nil:
				t.Error(err)
			case r.status == 200:
				ok.Add(1)
			case r.intended() == 409:
				answered.Add(1)
			default:
				t.Errorf("answer: %v", r)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || answered.Load() != 9 {
		t.Errorf("%d answers taken, %d told it was answered", ok.Load(), answered.Load())
	}
}

// TestLateOpenLooksUnknown: a link tried after its secret is gone is
// answered byte for byte as an unknown one, and the attempt shows on the
// receipt.
func TestLateOpenLooksUnknown(t *testing.T) {
	var out syncBuffer
	withTrail, trail := withAudit(t, &out)
	s := MustOpenServer(t, withTrail)
	ref := s.MustShare(t, "read once")
	s.MustReveal(t, ref.secretKey)
	unknown := strings.Repeat("k", 32)
	from := s.clientFrom(net.ParseIP("2001:db8:aa:bb::1"))
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/api/otslite/secret/", ""},
		{"POST", "/api/v1/secret/", ""},
		{"POST", "/api/v2/secret/%s/reveal", "{}"},
	} {
		path := func(key string) string {
			if strings.Contains(c.path, "%s") {
				return fmt.Sprintf(c.path, key)
			}
			return c.path + key
		}
		late := s.doWith(t, from, c.method, path(ref.secretKey), ctJSON, c.body)
		never := s.doWith(t, from, c.method, path(unknown), ctJSON, c.body)
		requestID := regexp.MustCompile(`"request_id":"[0-9a-f]+"`)
		lateBody := requestID.ReplaceAllString(strings.ReplaceAll(string(late.body), ref.secretKey, "KEY"), "")
		neverBody := requestID.ReplaceAllString(strings.ReplaceAll(string(never.body), unknown, "KEY"), "")
		if late.status != never.status || late.intended() != never.intended() || lateBody != neverBody {
			t.Errorf("%s %s: late %v, unknown %v", c.method, c.path, late, never)
		}
	}
	m := MustOK(t, s.do(t, "GET", "/api/otslite/receipt/"+ref.receiptKey, "", ""))
	late, _ := m["late_attempts"].([]any)
	if num(t, m, "late_total") != 3 || len(late) != 3 {
		t.Fatalf("receipt %v", m)
	}
	// (The v2 reveal asks whether the secret waits first: a page's look.)
	for i, kind := range []string{"page", "reveal", "page"} {
		a := late[i].(map[string]any)
		if a["kind"] != kind || a["net"] != "2001:db8:aa::/48" {
			t.Errorf("attempt %d: %v", i, a)
		}
	}
	// The v1 receipt keeps its shape.
	if _, ok := s.MustReceipt(t, ref.receiptKey)["late_attempts"]; ok {
		t.Error("the v1 receipt changed shape")
	}
	n := 0
	for _, e := range trail.Events() {
		if e.Event == audit.LateOpen && e.Ref != "" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d late_open events, want 3 (one for each attempt kept)", n)
	}
}

// TestLockedBodyWiped: a body read into locked memory is wiped when the
// request ends, by every way it ends.
func TestLockedBodyWiped(t *testing.T) {
	s := MustOpenServer(t, withFiles(600<<10, 1))
	body := rawJSON(t, map[string]string{"secret": fakeEnvelope(400 << 10), "passphrase": proof(false)})
	MustOK(t, s.do(t, "POST", "/api/v1/share", ctJSON, body))
	held, err := s.st.Plain(400 << 10)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	if !bytes.Equal(held.Buf(), make([]byte, len(held.Buf()))) {
		t.Error("the file slot still holds the body")
	}
}
