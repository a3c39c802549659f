package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"otslite/store/resp"
)

// TestRedisHoldsNothingSecret plants secrets, passphrases, proofs and link
// keys through two replicas on one Redis, lets them be revealed (on the
// other replica), burned, guessed at or left waiting, does the same with
// files, a split in a group, a request and its answer, and a generated
// password shown on v2 (plantBeyondOnReplicas), and then looks for
// every one of them in the whole memory of the redis-server process, in
// every key and value Redis holds (SCAN), and in the memory of both
// replicas: none may be found, in any encoding. Redis holds only sealed
// secrets and keyed hashes.
func TestRedisHoldsNothingSecret(t *testing.T) {
	t.Parallel()
	needRoot(t, "reading another process's memory")
	r := startRedis(t)
	reps := replicas(t, r, 2)
	a, b := reps[0], reps[1]
	client := &http.Client{Timeout: 10 * time.Second}
	var items []planted
	post := func(p *binProc, path string, form url.Values) map[string]any {
		t.Helper()
		s := &scanServer{base: p.base}
		return s.call(t, client, path, "application/x-www-form-urlencoded", form.Encode())
	}
	keys := func(tag string, m map[string]any) (string, string) {
		sk, rk := m["secret_key"].(string), m["metadata_key"].(string)
		items = append(items, planted{tag, "secret-key", sk, sk}, planted{tag, "receipt-key", rk, rk})
		return sk, rk
	}
	proof := func(tag string) string {
		raw := make([]byte, 64)
		rand.Read(raw)
		kp, pp := raw[:32], raw[32:]
		wire := "zk1." + base64.RawURLEncoding.EncodeToString(kp) + "." + base64.RawURLEncoding.EncodeToString(pp)
		items = append(items, planted{tag, "proof-wire", wire, wire}, planted{tag, "proof-kp", string(kp), string(kp)}, planted{tag, "proof-pp", string(pp), string(pp)})
		return wire
	}
	for i, fate := range []string{"revealed", "burned", "waiting", "guessed"} {
		maker, other := reps[i%2], reps[(i+1)%2]
		for _, kind := range []string{"plain", "passphrase", "proof"} {
			tag := kind + "-" + fate
			core, full := markerFull(t, tag)
			items = append(items, planted{tag, "secret", core, full})
			form := url.Values{"secret": {full}, "ttl": {"600"}}
			pass := ""
			switch kind {
			case "passphrase":
				pc, pf := markerFull(t, tag+"-pass")
				items = append(items, planted{tag, "passphrase", pc, pf})
				pass = pf
			case "proof":
				pass = proof(tag)
			}
			if pass != "" {
				form.Set("passphrase", pass)
			}
			sk, rk := keys(tag, post(maker, "/api/v1/share", form))
			// Every read path of the other replica sees the keys too.
			for _, path := range []string{"/api/v1/receipt/" + rk, "/api/otslite/secret/" + sk, "/api/otslite/receipt/" + rk} {
				if resp, err := client.Get(other.base + path); err == nil {
					resp.Body.Close()
				}
			}
			switch fate {
			case "revealed":
				v := post(other, "/api/v1/secret/"+sk, url.Values{"passphrase": {pass}})
				if v["value"] != full {
					t.Errorf("%s: revealed value differs", tag)
				}
			case "burned":
				post(other, "/api/v1/receipt/"+rk+"/burn", url.Values{"passphrase": {pass}})
			case "guessed":
				if kind == "plain" {
					continue
				}
				wrong := ""
				if kind == "proof" {
					wrong = pass[:48] + proof(tag + "-wrong")[48:]
				} else {
					wc, wf := markerFull(t, tag+"-wrong")
					items = append(items, planted{tag, "wrong-passphrase", wc, wf})
					wrong = wf
				}
				resp, err := client.PostForm(other.base+"/api/v1/secret/"+sk, url.Values{"passphrase": {wrong}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.Header.Get("X-OTS-Intended-Status") != "404" {
					t.Errorf("%s: a wrong guess got %s", tag, resp.Header.Get("X-OTS-Intended-Status"))
				}
			}
		}
	}
	// Generated passwords, revealed and waiting.
	for _, fate := range []string{"revealed", "waiting"} {
		m := post(a, "/api/v1/generate", url.Values{"length": {"40"}})
		v := m["value"].(string)
		items = append(items, planted{"generate", fate, v, v})
		sk, _ := keys("generate-"+fate, m)
		if fate == "revealed" {
			post(b, "/api/v1/secret/"+sk, url.Values{})
		}
	}

	// Files, a split in a group, a request and a generated password shown
	// on v2, each made on one replica and used on the other.
	items = append(items, plantBeyondOnReplicas(t, a, b)...)

	// A value the scans must find, planted in Redis by hand: a scan that
	// finds nothing would otherwise prove nothing.
	rc := r.client(t)
	ctx := context.Background()
	control := marker(t, "control")
	if _, err := rc.DoStrings(ctx, "SET", "scan-control", control); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)

	// 1. Every key and value Redis holds.
	var dump []byte
	for cursor := "0"; ; {
		v, err := rc.DoStrings(ctx, "SCAN", cursor, "COUNT", "1000")
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range v.Array[1].Array {
			dump = append(append(dump, k.Bytes...), '\n')
			typ, _ := rc.Do(ctx, []byte("TYPE"), k.Bytes)
			var val resp.Value
			switch string(typ.Bytes) {
			case "string":
				val, err = rc.Do(ctx, []byte("GET"), k.Bytes)
			case "hash":
				val, err = rc.Do(ctx, []byte("HGETALL"), k.Bytes)
			case "list":
				val, err = rc.Do(ctx, []byte("LRANGE"), k.Bytes, []byte("0"), []byte("-1"))
			case "zset":
				val, err = rc.Do(ctx, []byte("ZRANGE"), k.Bytes, []byte("0"), []byte("-1"), []byte("WITHSCORES"))
			case "set":
				val, err = rc.Do(ctx, []byte("SMEMBERS"), k.Bytes)
			default:
				t.Errorf("key %q of type %q not looked into", k.Bytes, typ.Bytes)
			}
			if err != nil {
				t.Fatal(err)
			}
			dump = appendValue(dump, val)
		}
		if cursor = string(v.Array[0].Bytes); cursor == "0" {
			break
		}
	}
	needles := map[string][]byte{"control": []byte(control)}
	for i, it := range items {
		prefix := strconv.Itoa(i) + " " + it.path + "/" + it.fate + "/"
		needles[prefix+"core"] = []byte(it.core)
		if it.full != it.core {
			for form, nb := range forms(it.full) {
				needles[prefix+form] = nb
			}
		}
	}
	counts := map[string]int{}
	countIn(dump, needles, counts)
	if counts["control"] == 0 {
		t.Fatal("the dump of Redis's keys and values lacks the control value: the scan does not work")
	}
	delete(counts, "control")
	report := func(where string, counts map[string]int) {
		n := 0
		for _, name := range sortedKeys(counts) {
			if counts[name] > 0 {
				t.Errorf("%s: %s: %d copies", where, name, counts[name])
				n += counts[name]
			}
		}
		t.Logf("%s: %d items planted, %d needles, %d copies found", where, len(items), len(needles)-1, n)
	}
	report("Redis keys and values", counts)

	// 2. The whole memory of the redis-server process.
	counts = scanMemory(t, r.cmd.Process.Pid, needles)
	if counts["control"] == 0 {
		t.Fatal("the scan of redis-server's memory found no copy of the control value: it does not work")
	}
	delete(counts, "control")
	report("redis-server memory", counts)

	// 3. The replicas: no copy either (waiting secrets are sealed there
	// too, and their link keys are gone with the requests).
	for _, p := range reps {
		got, _ := residues(t, p.cmd.Process.Pid, items, strings.TrimPrefix(p.base, "http://")+"/receipt/")
		report("replica "+p.addr, got)
	}
}

func appendValue(dst []byte, v resp.Value) []byte {
	switch v.Kind {
	case resp.Bulk, resp.Simple:
		dst = append(append(dst, v.Bytes...), '\n')
	case resp.Integer:
		dst = strconv.AppendInt(dst, v.Int, 10)
	case resp.Array:
		for _, e := range v.Array {
			dst = appendValue(dst, e)
		}
	}
	return dst
}
