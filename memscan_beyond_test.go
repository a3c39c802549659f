package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"otslite/store/envelope"
	"otslite/store/shamir"
)

// testResidueBeyond sends through the server what goes beyond one text:
// envelopes of files large enough to be read into locked memory (JSON,
// multipart, a form, chunked, and one cut mid-way), the shares of a
// split gathered in a group (read, burned through the group, waiting, and
// tried again after reading), and a request with its answer. Markers sit
// in the files' contents, the shares and the answer; the server only ever
// sees their envelopes, so what the scan mostly looks for is what the
// server did see: pieces of every envelope (the store keeps them sealed
// once more, so even a waiting one must not be there as sent), proofs,
// and the keys of groups, requests and inboxes. None may be left.
func testResidueBeyond(t *testing.T) {
	s := startScanServer(t)
	addr := strings.TrimPrefix(s.base, "http://")
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	keepAlive := &http.Client{}
	var items []planted
	plant := func(path, fate, v string) { items = append(items, planted{path, fate, v, v}) }
	// plantEnvelope looks for pieces of an envelope: its start, middle and
	// end (the tag aside).
	plantEnvelope := func(path, fate string, env []byte) {
		for i, at := range []int{len(envelope.Tag), len(env) / 2, len(env) - 40} {
			plant(path, fmt.Sprintf("%s-envelope-%d", fate, i), string(env[at:at+32]))
		}
	}

	// seal makes a bundle with a marked text and a marked file of size
	// bytes, seals it under a new key and returns the envelope, its proof
	// and the key.
	seal := func(path, fate string, size int) ([]byte, string, *envelope.Key) {
		tc, text := markerFull(t, fate+"text")
		fc := marker(t, fate+"file")
		data := make([]byte, size)
		rand.Read(data)
		copy(data[size/2:], fc)
		items = append(items, planted{path, fate + "-text", tc, text}, planted{path, fate + "-file", fc, fc})
		env, proof, k := sealTestBundle(t, &envelope.Bundle{Text: []byte(text), Files: []envelope.File{{Name: []byte("f.bin"), Data: data}}})
		plantEnvelope(path, fate, env)
		plant(path, fate+"-proof", proof)
		return env, proof, k
	}
	post := func(c *http.Client, path, ct string, body []byte, chunked bool) *http.Response {
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(bytes.NewReader(body)) // no length: sent chunked
		}
		req, _ := http.NewRequest("POST", s.base+path, r)
		req.Header.Set("Content-Type", ct)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	mustJSON := func(resp *http.Response) map[string]any {
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		m := map[string]any{}
		json.Unmarshal(raw, &m)
		clear(raw)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
		return m
	}
	jsonOf := func(fields map[string]string) []byte {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(fields)
		return b.Bytes()
	}
	share := func(c *http.Client, how string, env []byte, proof string) (sk, rk string) {
		var resp *http.Response
		switch how {
		case "json", "chunked":
			resp = post(c, "/api/v1/share", "application/json", jsonOf(map[string]string{"secret": string(env), "passphrase": proof, "ttl": "600"}), how == "chunked")
		case "multipart":
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			w.WriteField("secret", string(env))
			w.WriteField("passphrase", proof)
			w.Close()
			resp = post(c, "/api/v1/share", w.FormDataContentType(), b.Bytes(), false)
		default:
			resp = post(c, "/api/v1/share", "application/x-www-form-urlencoded", []byte(url.Values{"secret": {string(env)}, "passphrase": {proof}}.Encode()), false)
		}
		m := mustJSON(resp)
		sk, rk = m["secret_key"].(string), m["metadata_key"].(string)
		plant(how, "secret-key", sk)
		plant(how, "receipt-key", rk)
		return sk, rk
	}
	reveal := func(c *http.Client, sk, proof string, want []byte) {
		m := mustJSON(post(c, "/api/v1/secret/"+sk, "application/json", jsonOf(map[string]string{"passphrase": proof}), false))
		if m["value"] != string(want) {
			t.Errorf("the envelope came back different")
		}
	}

	// Files, by every way a body comes, each fate.
	env, proof, _ := seal("json", "revealed", 1500<<10)
	sk, _ := share(keepAlive, "json", env, proof)
	reveal(keepAlive, sk, proof, env)
	env, proof, _ = seal("chunked", "revealed", 900<<10)
	sk, _ = share(fresh, "chunked", env, proof)
	reveal(fresh, sk, proof, env)
	env, proof, _ = seal("multipart", "burned", 1<<20)
	_, rk := share(fresh, "multipart", env, proof)
	mustJSON(post(fresh, "/api/v1/receipt/"+rk+"/burn", "application/x-www-form-urlencoded", nil, false))
	env, proof, _ = seal("form", "waiting", 700<<10)
	share(keepAlive, "form", env, proof)

	// Many large secrets in a row: their requests allocate enough for
	// garbage collections to run while link keys are on a request's stack
	// (a collection that shrank that stack would leave the old copy).
	for range 8 {
		big := make([]byte, 300<<10)
		for i := range big {
			big[i] = 'a' + byte(i%26)
		}
		copy(big, envelope.Tag)
		share(keepAlive, "json", big, proofOf(t))
	}

	// A large body cut mid-way.
	env, proof, _ = seal("cut", "interrupted", 800<<10)
	body := jsonOf(map[string]string{"secret": string(env), "passphrase": proof})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/v1/share HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	conn.Write(body[:len(body)*2/3])
	conn.Close()

	// A 2-of-3 split of a marked text, its shares in a group: share 1
	// read (and tried again after), share 2 burned through the group,
	// share 3 waiting.
	yc := marker(t, "splitsecret")
	secret := []byte(yc + strings.Repeat(" padding", 40))
	items = append(items, planted{"split", "secret", yc, yc})
	ys := [][]byte{make([]byte, len(secret)), make([]byte, len(secret)), make([]byte, len(secret))}
	if err := shamir.Split(ys, secret, 2, rand.Reader, make([]byte, 1024)); err != nil {
		t.Fatal(err)
	}
	var id [envelope.ShareIDLen]byte
	rand.Read(id[:])
	var sks, rks, proofs []string
	var envs [][]byte
	for i, y := range ys {
		plant("split", fmt.Sprintf("share-%d-y", i+1), string(y[:24]))
		b := envelope.Bundle{Share: envelope.Share{K: 2, N: 3, X: i + 1, ID: id}, Payload: y}
		plain, _ := envelope.PutBundle(make([]byte, envelope.BundleLen(&b)), &b)
		k, _ := envelope.NewKey(make([]byte, envelope.MemorySize), rand.Reader, false)
		k.Unlock(nil)
		e, _ := k.SealBundle(nil, plain, rand.Reader)
		p := string(k.PutProof(make([]byte, envelope.ProofLenPassphrase)))
		plantEnvelope("split", fmt.Sprintf("share-%d", i+1), e)
		plant("split", fmt.Sprintf("share-%d-proof", i+1), p)
		sk, rk := share(keepAlive, "json", e, p)
		sks, rks, proofs, envs = append(sks, sk), append(rks, rk), append(proofs, p), append(envs, e)
	}
	g := mustJSON(post(keepAlive, "/api/otslite/group", "application/json", jsonOf2(map[string]any{"receipts": rks}), false))
	gk := g["receipt_key"].(string)
	plant("group", "receipt-key", gk)
	reveal(fresh, sks[0], proofs[0], envs[0])
	mustJSON(post(fresh, "/api/otslite/group/"+gk+"/burn/2", "application/x-www-form-urlencoded", nil, false))
	for _, target := range []string{"/api/otslite/secret/" + sks[0], "/api/otslite/group/" + gk, "/api/otslite/receipt/" + rks[0]} {
		resp, err := keepAlive.Get(s.base + target)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	resp := post(fresh, "/api/v1/secret/"+sks[0], "application/json", jsonOf(map[string]string{"passphrase": proofs[0]}), false)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	// A request, answered with a marked answer, read.
	r := mustJSON(post(keepAlive, "/api/otslite/request", "application/x-www-form-urlencoded", []byte("ttl=600"), false))
	ask, inbox := r["request_key"].(string), r["requester_key"].(string)
	plant("request", "request-key", ask)
	plant("request", "requester-key", inbox)
	priv, pub := make([]byte, envelope.PrivateKeyLen), make([]byte, envelope.PublicKeyLen)
	if err := envelope.NewRequestKeys(priv, pub, rand.Reader); err != nil {
		t.Fatal(err)
	}
	ac, answer := markerFull(t, "answer")
	items = append(items, planted{"request", "answer", ac, answer})
	ePub := make([]byte, envelope.PublicKeyLen)
	ak, err := envelope.AnswerKey(make([]byte, envelope.MemorySize), ePub, pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	aenv, _ := ak.Seal(nil, []byte(answer), rand.Reader)
	aproof := string(ak.PutProof(make([]byte, envelope.ProofLenPassphrase)))
	plantEnvelope("request", "answer", aenv)
	plant("request", "answer-proof", aproof)
	mustJSON(post(fresh, "/api/otslite/request/"+ask+"/answer", "application/json", jsonOf(map[string]string{
		"secret": string(aenv), "passphrase": aproof, "public": base64.RawURLEncoding.EncodeToString(ePub)}), false))
	for _, target := range []string{"/api/otslite/request/" + ask, "/api/otslite/inbox/" + inbox} {
		resp, err := keepAlive.Get(s.base + target)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if m := mustJSON(post(keepAlive, "/api/otslite/inbox/"+inbox+"/reveal", "application/json", jsonOf(map[string]string{"passphrase": aproof}), false)); m["value"] != string(aenv) {
		t.Error("the answer came back different")
	}

	keepAlive.CloseIdleConnections()
	time.Sleep(time.Second)
	pid := s.cmd.Process.Pid
	control := addr + "/receipt/"
	counts, n := residues(t, pid, items, control)
	found := 0
	for _, name := range sortedKeys(counts) {
		if c := counts[name]; c > 0 {
			found += c
			t.Errorf("%s: %d copies in memory", name, c)
		}
	}
	t.Logf("%d items planted, %d needles scanned, %d copies found", len(items), n, found)
}

// proofOf is a random proof without a passphrase.
func proofOf(tb testing.TB) string {
	b := make([]byte, 32)
	rand.Read(b)
	return "zk1." + base64.RawURLEncoding.EncodeToString(b)
}

// jsonOf2 encodes any value as JSON.
func jsonOf2(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// sealTestBundle seals bundle as the web UI does, under a fresh key, and
// returns the envelope, its proof and the key.
func sealTestBundle(t *testing.T, bundle *envelope.Bundle) ([]byte, string, *envelope.Key) {
	t.Helper()
	plain, err := envelope.PutBundle(make([]byte, envelope.BundleLen(bundle)), bundle)
	if err != nil {
		t.Fatal(err)
	}
	k, err := envelope.NewKey(make([]byte, envelope.MemorySize), rand.Reader, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Unlock(nil); err != nil {
		t.Fatal(err)
	}
	env, err := k.SealBundle(nil, plain, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return env, string(k.PutProof(make([]byte, envelope.ProofLenPassphrase))), k
}
