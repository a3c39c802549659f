package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestThirdPartyClient drives the release binary with an existing Onetime
// Secret client library, unchanged: the npm package onetimesecret-api,
// fetched at test time (never committed). It speaks the v1 API with HTTP
// Basic credentials, form bodies, and upstream's error texts.
func TestThirdPartyClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	npm, err2 := exec.LookPath("npm")
	if err != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node and npm are needed; .ci/run installs them")
		}
		skip(t, "node and npm are not installed; CI runs this test")
	}
	dir := t.TempDir()
	// The library asks for node-fetch >= 2; version 3 is ESM-only, which
	// its CommonJS build cannot load, so 2 is pinned beside it.
	install := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", dir, "onetimesecret-api@1.1.3", "node-fetch@2.7.0")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("npm install: %v\n%s", err, out)
	}
	script := filepath.Join(dir, "interop.js")
	if err := os.WriteFile(script, []byte(interopScript), 0o644); err != nil {
		t.Fatal(err)
	}

	const user, token = "interop", "k3y-for-the-interop-test"
	p := MustStartBinary(t, nil, "--create-token", user+":"+token)
	run := exec.Command(node, script)
	run.Dir = dir
	run.Env = append(os.Environ(), "OTS_USER="+user, "OTS_TOKEN="+token, "OTS_URL="+p.base)
	out, err := run.CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	var got struct {
		Status   bool
		Share    map[string]any
		Metadata map[string]any
		Reveal   map[string]any
		After    map[string]any
		Generate map[string]any
		Burn     struct {
			State          map[string]any `json:"state"`
			SecretShortkey string         `json:"secret_shortkey"`
		}
		BurnedReveal string
		Recent       []map[string]any
		WrongToken   string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("client output: %v\n%s", err, out)
	}
	if !got.Status {
		t.Error("status: not nominal to the client")
	}
	if got.Share["custid"] != user || got.Share["state"] != "new" || got.Share["passphrase_required"] != true {
		t.Errorf("share: %v", got.Share)
	}
	if link, _ := got.Share["share_link"].(string); link != p.base+"/secret/"+got.Share["secret_key"].(string) {
		t.Errorf("the client's share link %q", link)
	}
	if got.Metadata["state"] != "new" || got.Metadata["secret_key"] != got.Share["secret_key"] {
		t.Errorf("metadata before reveal: %v", got.Metadata)
	}
	if got.Reveal["value"] != "interop secret \u00e9\nline two" {
		t.Errorf("revealed %q", got.Reveal["value"])
	}
	if got.After["state"] != "received" || got.After["secret_key"] != nil || got.After["received"] == nil {
		t.Errorf("metadata after reveal: %v", got.After)
	}
	if v, _ := got.Generate["value"].(string); len(v) != 12 {
		t.Errorf("generate: value %q", v)
	}
	if got.Burn.State["state"] != "burned" || len(got.Burn.SecretShortkey) != 8 ||
		!strings.HasPrefix(got.Generate["secret_key"].(string), got.Burn.SecretShortkey) {
		t.Errorf("burn: %+v", got.Burn)
	}
	if got.BurnedReveal != "UnknownSecretError" {
		t.Errorf("reveal after burn: the client raised %q, want UnknownSecretError", got.BurnedReveal)
	}
	if len(got.Recent) != 2 {
		t.Errorf("recent: %d receipts, want 2", len(got.Recent))
	}
	if got.WrongToken != "NotAuthorizedError" {
		t.Errorf("a wrong token: the client raised %q, want NotAuthorizedError", got.WrongToken)
	}
}

// interopScript uses the library as its README shows, and prints what it
// got as JSON; errors print their class, which the library picks from the
// server's message.
const interopScript = `
const { OneTimeSecretApi } = require('onetimesecret-api/index.js');
const errName = (e) => e.constructor.name;
(async () => {
  const ots = new OneTimeSecretApi(process.env.OTS_USER, process.env.OTS_TOKEN, { url: process.env.OTS_URL });
  const out = {};
  out.status = await ots.status();
  out.share = await ots.share('interop secret \u00e9\nline two', { passphrase: 'open sesame', ttl: 600 });
  out.metadata = await ots.retrieveMetadata(out.share.metadata_key);
  out.reveal = await ots.retrieveSecret(out.share.secret_key, { passphrase: 'open sesame' });
  out.after = await ots.retrieveMetadata(out.share.metadata_key);
  out.generate = await ots.generate({ ttl: 300 });
  out.burn = await ots.burn(out.generate.metadata_key);
  try { await ots.retrieveSecret(out.generate.secret_key); out.burnedReveal = 'opened'; }
  catch (e) { out.burnedReveal = errName(e); }
  out.recent = await ots.recentMetadata();
  const wrong = new OneTimeSecretApi(process.env.OTS_USER, 'not-the-token-at-all', { url: process.env.OTS_URL });
  try { await wrong.share('x'); out.wrongToken = 'accepted'; }
  catch (e) { out.wrongToken = errName(e); }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(errName(e) + ': ' + e.message); process.exit(1); });
`

// TestCurlClient drives the release binary with curl in the shapes ots.bash
// (and a shell user) sends: multipart fields (-F, the secret read from
// standard input), empty form bodies (-d ”), and everything in the query
// string of a POST, as four Go libraries send it.
func TestCurlClient(t *testing.T) {
	t.Parallel()
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("curl is needed; .ci/run installs it")
		}
		t.Skip("curl is not installed; CI runs this test")
	}
	const user, token = "shell", "k3y-for-the-curl-test"
	p := MustStartBinary(t, nil, "--create-token", user+":"+token)
	call := func(stdin string, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(curl, append([]string{"-sS", "--max-time", "10"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("curl %v: %v", args, err)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("curl %v: %v: %s", args, err, out)
		}
		return m
	}
	api := p.base + "/api/v1"
	auth := user + ":" + token

	share := call("from standard input\nline two\n", "-X", "POST", "-u", auth, "-F", "passphrase=open sesame", "-F", "ttl=600", "-F", "secret=<-", api+"/share")
	sk, _ := share["secret_key"].(string)
	rk, _ := share["metadata_key"].(string)
	if share["passphrase_required"] != true || share["ttl"] != 600.0 || sk == "" {
		t.Fatalf("share: %v", share)
	}
	if m := call("", "-X", "POST", "-d", "", api+"/private/"+rk); m["state"] != "new" {
		t.Errorf("metadata: %v", m)
	}
	if m := call("", "-X", "POST", "-F", "passphrase=wrong", api+"/secret/"+sk); m["message"] != "Unknown secret" {
		t.Errorf("a wrong passphrase: %v", m)
	}
	if m := call("", "-X", "POST", "-F", "passphrase=open sesame", api+"/secret/"+sk); m["value"] != "from standard input\nline two\n" {
		t.Errorf("reveal: %v", m)
	}
	gen := call("", "-X", "POST", "-u", auth, "-d", "''", api+"/generate")
	if v, _ := gen["value"].(string); len(v) != 12 {
		t.Errorf("generate: %v", gen)
	}
	if m := call("", "-X", "POST", "-u", auth, "-d", "", api+"/private/"+gen["metadata_key"].(string)+"/burn"); m["secret_shortkey"] == nil {
		t.Errorf("burn: %v", m)
	}
	q := url.Values{"secret": {"in the query"}, "passphrase": {"open sesame"}, "ttl": {"300"}, "recipient": {""}}
	m := call("", "-X", "POST", "-u", auth, api+"/share?"+q.Encode())
	if m["passphrase_required"] != true || m["ttl"] != 300.0 {
		t.Errorf("query share: %v", m)
	}
	file := filepath.Join(t.TempDir(), "secret.txt")
	os.WriteFile(file, []byte("in a file"), 0o600)
	if m := call("", "-X", "POST", "-u", auth, "-F", "secret=@"+file, api+"/share"); !strings.Contains(fmt.Sprint(m["message"]), "File uploads are not accepted") {
		t.Errorf("a file part: %v", m)
	}
}
