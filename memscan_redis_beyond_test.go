package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"otslite/store/envelope"
	"otslite/store/shamir"
)

// plantBeyondOnReplicas sends through two replicas on one Redis what goes
// beyond one text, each shape made on one replica and used on the other:
// envelopes of files (read on the other replica, burned there, or left
// waiting), the 2-of-3 split of a marked text gathered in a group (share
// 1 read and then tried again, share 2 burned through the group, share 3
// waiting), a request answered with a marked answer and read, and a
// generated password shown once on the other replica's v2 receipt. It
// returns what must be found nowhere: the markers in the texts, files,
// shares and answer, pieces of every envelope (Redis holds them sealed
// once more), their proofs, and the keys of secrets, receipts, the group,
// the request and the inbox.
func plantBeyondOnReplicas(t *testing.T, a, b *binProc) []planted {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	var items []planted
	plant := func(path, fate, v string) { items = append(items, planted{path, fate, v, v}) }
	plantEnvelope := func(path, fate string, env []byte) {
		for i, at := range []int{len(envelope.Tag), len(env) / 2, len(env) - 40} {
			plant(path, fmt.Sprintf("%s-envelope-%d", fate, i), string(env[at:at+32]))
		}
	}
	sealBundle := func(path, fate string, bundle *envelope.Bundle) ([]byte, string) {
		env, proof, _ := sealTestBundle(t, bundle)
		plantEnvelope(path, fate, env)
		plant(path, fate+"-proof", proof)
		return env, proof
	}
	// sealFiles seals a marked text and a marked file of size bytes.
	sealFiles := func(fate string, size int) ([]byte, string) {
		tc, text := markerFull(t, "redis"+fate+"text")
		fc := marker(t, "redis"+fate+"file")
		data := make([]byte, size)
		rand.Read(data)
		copy(data[size/2:], fc)
		items = append(items, planted{"files", fate + "-text", tc, text}, planted{"files", fate + "-file", fc, fc})
		return sealBundle("files", fate, &envelope.Bundle{Text: []byte(text), Files: []envelope.File{{Name: []byte("f.bin"), Data: data}}})
	}
	send := func(p *binProc, method, path string, fields any) map[string]any {
		t.Helper()
		var body bytes.Buffer
		if fields != nil {
			enc := json.NewEncoder(&body)
			enc.SetEscapeHTML(false) // as a browser's JSON.stringify
			enc.Encode(fields)
		}
		req, _ := http.NewRequest(method, p.base+path, &body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		m := map[string]any{}
		json.Unmarshal(raw, &m)
		clear(raw)
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s on %s: %d %v", method, strings.SplitN(path, "/", 5)[:4], p.addr, resp.StatusCode, m)
		}
		return m
	}
	share := func(p *binProc, path string, env []byte, proof string) (sk, rk string) {
		m := send(p, "POST", "/api/v1/share", map[string]string{"secret": string(env), "passphrase": proof, "ttl": "600"})
		sk, rk = m["secret_key"].(string), m["metadata_key"].(string)
		plant(path, "secret-key", sk)
		plant(path, "receipt-key", rk)
		return sk, rk
	}
	reveal := func(p *binProc, sk, proof string, want []byte) {
		if m := send(p, "POST", "/api/v1/secret/"+sk, map[string]string{"passphrase": proof}); m["value"] != string(want) {
			t.Errorf("an envelope came back different on %s", p.addr)
		}
	}
	look := func(p *binProc, path string) {
		resp, err := client.Get(p.base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	// Files: made on A and read on B, made on B and burned on A, waiting.
	env, proof := sealFiles("revealed", 1<<20)
	sk, _ := share(a, "files", env, proof)
	reveal(b, sk, proof, env)
	env, proof = sealFiles("burned", 600<<10)
	_, rk := share(b, "files", env, proof)
	send(a, "POST", "/api/v1/receipt/"+rk+"/burn", nil)
	env, proof = sealFiles("waiting", 700<<10)
	share(a, "files", env, proof)

	// A 2-of-3 split, gathered in a group made on A.
	yc := marker(t, "redissplit")
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
		e, p := sealBundle("split", fmt.Sprintf("share-%d", i+1), &envelope.Bundle{Share: envelope.Share{K: 2, N: 3, X: i + 1, ID: id}, Payload: y})
		sk, rk := share([]*binProc{a, b}[i%2], "split", e, p)
		sks, rks, proofs, envs = append(sks, sk), append(rks, rk), append(proofs, p), append(envs, e)
	}
	g := send(a, "POST", "/api/otslite/group", map[string]any{"receipts": rks})
	gk := g["receipt_key"].(string)
	plant("group", "receipt-key", gk)
	reveal(b, sks[0], proofs[0], envs[0])
	send(b, "POST", "/api/otslite/group/"+gk+"/burn/2", nil)
	look(a, "/api/otslite/secret/"+sks[0]) // tried again after it was read
	look(b, "/api/otslite/group/"+gk)
	look(a, "/api/otslite/receipt/"+rks[0])

	// A request made on A, answered on B, looked at on A, read on B.
	r := send(a, "POST", "/api/otslite/request", map[string]string{"ttl": "600"})
	ask, inbox := r["request_key"].(string), r["requester_key"].(string)
	plant("request", "request-key", ask)
	plant("request", "requester-key", inbox)
	priv, pub := make([]byte, envelope.PrivateKeyLen), make([]byte, envelope.PublicKeyLen)
	if err := envelope.NewRequestKeys(priv, pub, rand.Reader); err != nil {
		t.Fatal(err)
	}
	ac, answer := markerFull(t, "redisanswer")
	items = append(items, planted{"request", "answer", ac, answer})
	ePub := make([]byte, envelope.PublicKeyLen)
	ak, err := envelope.AnswerKey(make([]byte, envelope.MemorySize), ePub, pub, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	aenv, err := ak.Seal(nil, []byte(answer), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	aproof := string(ak.PutProof(make([]byte, envelope.ProofLenPassphrase)))
	plantEnvelope("request", "answer", aenv)
	plant("request", "answer-proof", aproof)
	look(b, "/api/otslite/request/"+ask)
	send(b, "POST", "/api/otslite/request/"+ask+"/answer", map[string]string{
		"secret": string(aenv), "passphrase": aproof, "public": base64.RawURLEncoding.EncodeToString(ePub)})
	look(a, "/api/otslite/inbox/"+inbox)
	if m := send(b, "POST", "/api/otslite/inbox/"+inbox+"/reveal", map[string]string{"passphrase": aproof}); m["value"] != string(aenv) {
		t.Error("the answer came back different")
	}

	// A generated password, shown once on the other replica's receipt.
	m := send(a, "POST", "/api/v2/secret/generate", map[string]any{"secret": map[string]any{"length": 40}})
	receipt := m["record"].(map[string]any)["receipt"].(map[string]any)
	grk, gsk := receipt["identifier"].(string), receipt["secret_identifier"].(string)
	plant("v2-generate", "receipt-key", grk)
	plant("v2-generate", "secret-key", gsk)
	shown := send(b, "GET", "/api/v2/receipt/"+grk, nil)
	v, _ := shown["details"].(map[string]any)["secret_value"].(string)
	if len(v) != 40 {
		t.Fatalf("the generated password was not shown on the other replica: %v", shown["details"])
	}
	plant("v2-generate", "shown", v)
	return items
}
