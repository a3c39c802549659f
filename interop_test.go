package main

import (
	"encoding/json"
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
