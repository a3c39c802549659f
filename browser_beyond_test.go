package main

// The browser tests of what goes beyond one text for one person: files,
// several links of one secret, split secrets, requests for a secret, and
// attempts on links that are gone. Each flow runs in Chromium against the
// release binary, the recipient in a fresh browser context; the formats
// are checked against store/envelope and store/shamir (and their published
// vectors, store/envelope/testdata/beyond.json), and links made by the
// browser are opened by the command line and the other way round.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	vaultshamir "github.com/hashicorp/vault/shamir"

	"otslite/assets"
	"otslite/store/envelope"
	"otslite/store/shamir"
)

// beyondVectors are store/envelope/testdata/beyond.json: computed with
// Node's crypto and the field arithmetic written out, independently of
// the Go packages and of the browser's code.
type beyondVectors struct {
	Bundle struct {
		Key, IV, Text, Plain, Envelope string
		FilesOnly                      string `json:"files_only"`
		Files                          []struct{ Name, Type, Data string }
	}
	Split struct {
		K, N         int
		Secret, ID   string
		Coefficients []string
		Shares       []string
		ShareBundles []string `json:"share_bundles"`
	}
	Request struct {
		RequesterPrivate string `json:"requester_private"`
		RequesterPublic  string `json:"requester_public"`
		AnswerPublic     string `json:"answer_public"`
		Key, Proof       string
		Plain, Envelope  string
	}
}

func loadBeyondVectors(t *testing.T) (beyondVectors, string) {
	t.Helper()
	raw, err := os.ReadFile("store/envelope/testdata/beyond.json")
	if err != nil {
		t.Fatal(err)
	}
	var v beyondVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v, string(raw)
}

// hexJS is the JavaScript that turns hex into a Uint8Array.
const hexJS = `function (h) { var b = new Uint8Array(h.length / 2); for (var i = 0; i < b.length; i++) b[i] = parseInt(h.substr(2 * i, 2), 16); return b; }`

// jsEval runs a script in the page with V (the vectors), H (hex to bytes)
// and X (bytes to hex) defined; the script's last expression is returned.
func jsEval[T any](t *testing.T, ctx context.Context, vectors, body string) T {
	t.Helper()
	return eval[T](t, ctx, `(async function () { var V = `+vectors+`; var H = `+hexJS+`;
		var X = function (b) { return Array.from(b, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join(""); };
		`+body+` })()`)
}

// openBrowserEnvelope opens, in Go, the envelope behind a secret link made
// by the browser (reveals it through the v1 API): the plaintext.
func openBrowserEnvelope(t *testing.T, srv *scanServer, link string) []byte {
	t.Helper()
	m := zkLinkRE.FindStringSubmatch(link)
	if m == nil || m[2] != "n" {
		t.Fatalf("not a zero-knowledge link without passphrase: %q", link)
	}
	k, err := envelope.ParseFragment(make([]byte, envelope.MemorySize), []byte("1n"+m[3]))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Unlock(nil); err != nil {
		t.Fatal(err)
	}
	proof := k.PutProof(make([]byte, envelope.ProofLenPassphrase))
	r := srv.call(t, http.DefaultClient, "/api/v1/secret/"+m[1], "application/json", `{"passphrase":"`+string(proof)+`"}`)
	env, _ := r["value"].(string)
	plain := make([]byte, envelope.OpenedLen(len(env)))
	n, err := k.Open(plain, []byte(env))
	if err != nil {
		t.Fatalf("Go cannot open the browser's envelope: %v", err)
	}
	return plain[:n]
}

// setFiles chooses files in the page's file input, as a person picking
// them does.
func setFiles(t *testing.T, ctx context.Context, paths ...string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("files"), paths)); err != nil {
		t.Fatalf("choose files: %v", err)
	}
}

// allowDownloads sends this tab's downloads into a new directory.
func allowDownloads(t *testing.T, ctx context.Context) string {
	t.Helper()
	dir := t.TempDir()
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior:         browser.SetDownloadBehaviorBehaviorAllow,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		DownloadPath:     dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// waitDownload waits until name is in dir with size bytes, and returns it.
func waitDownload(t *testing.T, dir, name string, size int) []byte {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil && len(b) == size {
			return b
		}
		time.Sleep(100 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	t.Fatalf("download %q (%d bytes) did not arrive; the directory holds %q", name, size, names)
	return nil
}

// blobWatch records, in the page, the type of every blob handed to a
// download, by the download's name.
const blobWatch = `(function () {
	window.__otsliteBlobs = {};
	var make = URL.createObjectURL;
	var click = HTMLAnchorElement.prototype.click;
	var last = null;
	URL.createObjectURL = function (b) { last = b; return make.apply(URL, arguments); };
	HTMLAnchorElement.prototype.click = function () { if (this.download && last) window.__otsliteBlobs[this.download] = last.type; return click.apply(this, arguments); };
	return true;
})()`

// revealFull presses Reveal and waits until the page shows contents, a
// part, or why not.
func revealFull(t *testing.T, ctx context.Context) {
	t.Helper()
	click(t, ctx, "reveal")
	until(t, ctx, `(`+visible("revealed")+` || `+visible("parts")+` || `+visible("gone")+` || `+visible("error")+`) && document.getElementById("reveal-form").getAttribute("aria-busy") !== "true"`)
	noProblems(t, ctx)
}

// shownFiles lists the files the page offers: "name|meta".
func shownFiles(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#files-out-list li")).map(function (li) { return li.querySelector(".file-name").textContent + "|" + li.querySelector(".file-size").textContent; })`)
}

// downloadFile presses the Download button of the file named name.
func downloadFile(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	ok := eval[bool](t, ctx, `(function () { var b = Array.from(document.querySelectorAll("#files-out-list li")).filter(function (li) { return li.querySelector(".file-name").textContent === `+jsString(name)+`; }).map(function (li) { return li.querySelector("button"); })[0]; if (!b) return false; b.click(); return true; })()`)
	if !ok {
		t.Fatalf("no file %q on the page (%q)", name, shownFiles(t, ctx))
	}
}

// createShaped fills the create page (text, files, passphrase, shape) and
// creates; it returns the links (one, or the list) and the receipt link.
func (b *browserEnv) createShaped(t *testing.T, ctx context.Context, base, text, pass, shape string, n, k int, paths ...string) ([]string, string) {
	t.Helper()
	b.navigate(t, ctx, base+"/")
	until(t, ctx, `!document.getElementById("create").disabled && !document.getElementById("add-files").hidden`)
	setField(t, ctx, "secret", text)
	if pass != "" {
		setField(t, ctx, "passphrase", pass)
	}
	if len(paths) > 0 {
		setFiles(t, ctx, paths...)
		until(t, ctx, fmt.Sprintf(`document.querySelectorAll("#file-list li").length === %d`, len(paths)))
	}
	switch shape {
	case "many":
		eval[bool](t, ctx, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
		click(t, ctx, "shape-many")
		setField(t, ctx, "links-n", fmt.Sprint(n))
	case "split":
		eval[bool](t, ctx, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
		click(t, ctx, "shape-split")
		setField(t, ctx, "split-n", fmt.Sprint(n))
		setField(t, ctx, "split-k", fmt.Sprint(k))
	}
	click(t, ctx, "create")
	until(t, ctx, visible("result")+` || (`+visible("error")+` && document.getElementById("create-form").getAttribute("aria-busy") !== "true")`)
	if msg := eval[string](t, ctx, `document.getElementById("result").hidden ? document.getElementById("error").textContent : ""`); msg != "" {
		t.Fatalf("create failed: %s", msg)
	}
	noProblems(t, ctx)
	receipt := eval[string](t, ctx, `document.getElementById("receipt-link").value`)
	if shape == "one" {
		return []string{eval[string](t, ctx, `document.getElementById("share-link").value`)}, receipt
	}
	return eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#link-list textarea")).map(function (e) { return e.value; })`), receipt
}

// writeTemp writes a file for the browser to pick.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomData(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// browserFormats: the browser's bundles, splits and request keys against
// the published vectors, store/envelope, store/shamir and an independent
// Shamir implementation (HashiCorp Vault's), both ways; and a split's
// fewer-than-k shares are uniform whatever the secret.
func (b *browserEnv) browserFormats(t *testing.T) {
	ctx := b.tab(t)
	b.navigate(t, ctx, b.srv.base+"/combine")
	v, raw := loadBeyondVectors(t)

	t.Run("Vectors", func(t *testing.T) {
		got := jsEval[[]string](t, ctx, raw, `
		var B = otsliteBundle, S = otsliteShamir, zk = otsliteZK, out = [];
		var enc = new TextEncoder();
		var w = B.write({ text: enc.encode(V.bundle.text), files: V.bundle.files.map(function (f) { return { name: f.name, type: f.type, data: H(f.data) }; }) });
		out.push("bundle " + (X(w) === V.bundle.plain));
		var p = B.parse(H(V.bundle.plain));
		out.push("parse " + (p.text === V.bundle.text && p.files.length === 3 && p.files.every(function (f, i) { return f.name === V.bundle.files[i].name && f.type === V.bundle.files[i].type && X(f.data) === V.bundle.files[i].data; })));
		var fo = B.parse(H(V.bundle.files_only));
		out.push("files only " + (fo.text === "" && fo.files[0].name === "a" && X(fo.files[0].data) === "6162"));
		var opened = await zk.openBytes(V.bundle.envelope, H(V.bundle.key));
		out.push("envelope " + (X(opened) === V.bundle.plain));
		var coef = H(V.split.coefficients.join(""));
		var ys = S.split(H(V.split.secret), V.split.k, V.split.n, function (buf) { buf.set(coef.subarray(0, buf.length)); });
		out.push("shares " + ys.every(function (y, i) { return X(y) === V.split.shares[i]; }));
		var id = zk.b64urlDecode(V.split.id);
		out.push("share bundles " + ys.every(function (y, i) { return X(B.write({ share: { k: 2, n: 3, x: i + 1, id: id }, payload: y })) === V.split.share_bundles[i]; }));
		[[0, 1], [0, 2], [1, 2], [2, 1]].forEach(function (pair) {
			var ps = pair.map(function (i) { return B.parse(H(V.split.share_bundles[i])); });
			out.push("combine " + pair + " " + (X(S.combine(ps.map(function (q) { return q.share.x; }), ps.map(function (q) { return q.payload; }))) === V.split.secret));
		});
		var priv = H(V.request.requester_private);
		out.push("public " + (zk.b64urlEncode(await zk.publicOf(priv)) === V.request.requester_public));
		var K = await zk.openAnswerKey(priv, zk.b64urlDecode(V.request.answer_public));
		out.push("answer key " + (X(K) === V.request.key));
		out.push("answer proof " + ((await zk.keyProof(K)) === V.request.proof));
		out.push("answer " + (X(await zk.openBytes(V.request.envelope, K.slice())) === V.request.plain));
		// The requester's link carries the scalar and the public key.
		var link = new Uint8Array(97); link.set(priv, 0); link.set(zk.b64urlDecode(V.request.requester_public), 32);
		var frag = zk.parseKeyFragment("#" + zk.b64urlEncode(link), [97, 32]);
		out.push("link key " + (X(await zk.openAnswerKey(frag, zk.b64urlDecode(V.request.answer_public))) === V.request.key));
		// A public key that is not the scalar's is refused.
		link.set(zk.b64urlDecode(V.request.answer_public), 32);
		out.push("mismatch refused " + (await zk.openAnswerKey(link, zk.b64urlDecode(V.request.answer_public)).then(function () { return false; }, function () { return true; })));
		return out;`)
		for _, g := range got {
			if !strings.HasSuffix(g, " true") {
				t.Errorf("browser against the published vectors: %s", g)
			}
		}
		if len(got) != 16 {
			t.Errorf("%d checks ran: %q", len(got), got)
		}
	})

	t.Run("RefusesBadBundles", func(t *testing.T) {
		bad := map[string]string{
			"version": "0002" + v.Bundle.Plain[4:],
			"sizes":   v.Bundle.Plain + "00",
			"short":   v.Bundle.Plain[:len(v.Bundle.Plain)-2],
			"cut":     "000100",
			"name":    hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[{"name":"../etc/passwd","type":"","size":1}]}`, "x")),
			"dot":     hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[{"name":"..","type":"","size":1}]}`, "x")),
			"control": hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[{"name":"a\u0007b","type":"","size":1}]}`, "x")),
			"nul":     hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[{"name":"a\u0000b","type":"","size":1}]}`, "x")),
			"slash":   hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[{"name":"a\\b","type":"","size":1}]}`, "x")),
			"c1":      hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[{"name":"a\u0085b","type":"","size":1}]}`, "x")),
			"share":   hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[],"share":{"k":3,"n":2,"x":1,"id":"AAAAAAAAAAAAAAAAAAAAAA"}}`, "x")),
		}
		want := map[string]string{"version": "version", "name": "name", "dot": "name", "control": "name", "nul": "name", "slash": "name", "c1": "name"}
		for name, h := range bad {
			got := eval[string](t, ctx, `(function () { try { otsliteBundle.parse((`+hexJS+`)(`+jsString(h)+`)); return "parsed"; } catch (e) { return e.code || String(e); } })()`)
			w := want[name]
			if w == "" {
				w = "damaged"
			}
			if got != w {
				t.Errorf("%s: the browser's reader says %q, want %q", name, got, w)
			}
			// The Go reader refuses the same.
			if _, err := envelope.ParseBundle(mustHex(t, h), nil); err == nil {
				t.Errorf("%s: store/envelope reads it", name)
			}
		}
		// What the writer makes of names no reader takes.
		got := eval[[]string](t, ctx, `["a/b\\c\u0001.txt", "..", ".", "", "x\u0085y", "\ud800z"].map(otsliteBundle.cleanName)`)
		for i, want := range []string{"a_b_c_.txt", "_..", "_.", "_", "x_y", "_z"} {
			if got[i] != want || !envelope.ValidName([]byte(got[i])) {
				t.Errorf("cleanName %d: %q, want %q (valid for Go: %v)", i, got[i], want, envelope.ValidName([]byte(got[i])))
			}
		}
		long := eval[string](t, ctx, `otsliteBundle.cleanName("é".repeat(300) + ".txt")`)
		if len(long) > envelope.MaxNameLen || !strings.HasSuffix(long, ".txt") || !envelope.ValidName([]byte(long)) {
			t.Errorf("a long name becomes %d bytes: %q", len(long), long)
		}
	})

	t.Run("GoOpensBrowserBundles", func(t *testing.T) {
		// The browser seals a bundle under a fresh key; Go opens it with
		// the fragment and reads the same files.
		res := eval[[]string](t, ctx, `(function () {
			var B = otsliteBundle, enc = new TextEncoder();
			var data = new Uint8Array(70000); for (var i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 255;
			var plain = B.write({ text: enc.encode("text beside ünïcode files"), files: [{ name: "données.bin", type: "application/x-test", data: data }, { name: "empty", type: "", data: new Uint8Array(0) }] });
			return otsliteZK.sealBytes(plain, "").then(function (s) { return [s.envelope, s.proof, s.fragment]; });
		})()`)
		k, err := envelope.ParseFragment(make([]byte, envelope.MemorySize), []byte(res[2]))
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Unlock(nil); err != nil {
			t.Fatal(err)
		}
		if proof := string(k.PutProof(make([]byte, envelope.ProofLenPassphrase))); proof != res[1] {
			t.Errorf("proofs differ: browser %q, Go %q", res[1], proof)
		}
		plain := make([]byte, envelope.OpenedLen(len(res[0])))
		n, err := k.Open(plain, []byte(res[0]))
		if err != nil {
			t.Fatal(err)
		}
		bd, err := envelope.ParseBundle(plain[:n], nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(bd.Text) != "text beside ünïcode files" || len(bd.Files) != 2 || string(bd.Files[0].Name) != "données.bin" || string(bd.Files[0].Type) != "application/x-test" || len(bd.Files[0].Data) != 70000 || bd.Files[0].Data[69999] != byte((69999*31+7)&255) || len(bd.Files[1].Data) != 0 {
			t.Errorf("Go reads text %q, %d files", bd.Text, len(bd.Files))
		}
	})

	t.Run("AnswerKeysAgree", func(t *testing.T) {
		// A requester key pair made in Go; the browser answers it; Go
		// derives the same key and opens the answer.
		priv, pub := make([]byte, envelope.PrivateKeyLen), make([]byte, envelope.PublicKeyLen)
		if err := envelope.NewRequestKeys(priv, pub, rand.Reader); err != nil {
			t.Fatal(err)
		}
		res := eval[[]string](t, ctx, `(function () {
			var zk = otsliteZK;
			return zk.answerKey(zk.b64urlDecode(`+jsString(base64.RawURLEncoding.EncodeToString(pub))+`)).then(function (a) {
				return zk.sealWithKey(a.key, new TextEncoder().encode("answered from the browser")).then(function (s) { return [s.envelope, s.proof, zk.b64urlEncode(a.pub)]; });
			});
		})()`)
		ePub, err := base64.RawURLEncoding.DecodeString(res[2])
		if err != nil {
			t.Fatal(err)
		}
		k, err := envelope.OpenAnswerKey(make([]byte, envelope.MemorySize), priv, pub, ePub)
		if err != nil {
			t.Fatal(err)
		}
		if proof := string(k.PutProof(make([]byte, envelope.ProofLenPassphrase))); proof != res[1] {
			t.Errorf("answer proofs differ: browser %q, Go %q", res[1], proof)
		}
		plain := make([]byte, envelope.OpenedLen(len(res[0])))
		n, err := k.Open(plain, []byte(res[0]))
		if err != nil || string(plain[:n]) != "answered from the browser" {
			t.Errorf("Go opens the browser's answer: %q, %v", plain[:n], err)
		}
		// And the other way: Go answers a key pair the browser made.
		keys := eval[[]string](t, ctx, `otsliteZK.requestKeys().then(function (k) { return [otsliteZK.b64urlEncode(k.priv), otsliteZK.b64urlEncode(k.pub)]; })`)
		bpub, _ := base64.RawURLEncoding.DecodeString(keys[1])
		if !envelope.ValidPublicKey(bpub) {
			t.Fatalf("the browser's public key is not a P-256 point: %q", keys[1])
		}
		ePub = make([]byte, envelope.PublicKeyLen)
		ak, err := envelope.AnswerKey(make([]byte, envelope.MemorySize), ePub, bpub, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		env, err := ak.Seal(nil, []byte("answered from Go"), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		got := eval[string](t, ctx, `otsliteZK.openAnswerKey(otsliteZK.b64urlDecode(`+jsString(keys[0])+`), otsliteZK.b64urlDecode(`+jsString(base64.RawURLEncoding.EncodeToString(ePub))+`)).then(function (k) { return otsliteZK.open(`+jsString(string(env))+`, k); })`)
		if got != "answered from Go" {
			t.Errorf("the browser opens Go's answer as %q", got)
		}
	})

	t.Run("ShamirAgainstGoAndVault", func(t *testing.T) {
		secret := randomData(t, 1001)
		// Vault splits; the browser combines any 3 of its 5 shares (Vault
		// puts a share's x after its y bytes).
		vs, err := vaultshamir.Split(secret, 5, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, pick := range [][]int{{0, 1, 2}, {4, 2, 0}, {1, 3, 4}} {
			var xs []int
			var ys []string
			for _, i := range pick {
				s := vs[i]
				xs = append(xs, int(s[len(s)-1]))
				ys = append(ys, hex.EncodeToString(s[:len(s)-1]))
			}
			xj, _ := json.Marshal(xs)
			yj, _ := json.Marshal(ys)
			got := eval[string](t, ctx, `(function () { var H = `+hexJS+`; var r = otsliteShamir.combine(`+string(xj)+`, `+string(yj)+`.map(H)); return Array.from(r, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join(""); })()`)
			if got != hex.EncodeToString(secret) {
				t.Errorf("the browser combines Vault's shares %v wrongly", pick)
			}
		}
		// The browser splits (4 of 6); Vault and store/shamir combine.
		shares := eval[[]string](t, ctx, `(function () { var H = `+hexJS+`; return otsliteShamir.split(H(`+jsString(hex.EncodeToString(secret))+`), 4, 6).map(function (y) { return Array.from(y, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join(""); }); })()`)
		if len(shares) != 6 {
			t.Fatalf("%d shares", len(shares))
		}
		for _, pick := range [][]int{{0, 1, 2, 3}, {5, 3, 1, 0}, {2, 3, 4, 5}} {
			var vin [][]byte
			var xs []byte
			var ys [][]byte
			for _, i := range pick {
				y := mustHex(t, shares[i])
				vin = append(vin, append(slices.Clone(y), byte(i+1)))
				xs = append(xs, byte(i+1))
				ys = append(ys, y)
			}
			if got, err := vaultshamir.Combine(vin); err != nil || !bytes.Equal(got, secret) {
				t.Errorf("Vault combines the browser's shares %v: %v", pick, err)
			}
			got := make([]byte, len(secret))
			if err := shamir.Combine(got, xs, ys); err != nil || !bytes.Equal(got, secret) {
				t.Errorf("store/shamir combines the browser's shares %v: %v", pick, err)
			}
			// Three of the four give something else.
			if err := shamir.Combine(got, xs[:3], ys[:3]); err == nil && bytes.Equal(got, secret) {
				t.Errorf("3 of a 4-of-6 split rebuild the secret")
			}
		}
	})

	t.Run("FewerThanKRevealNothing", func(t *testing.T) {
		// Each byte of one share of a 2-of-n split, and each pair of bytes
		// of two shares of a 3-of-n split, is uniform whatever the secret
		// is: two secrets as unlike as can be (all 0x00, all 0xff) give
		// the same distribution. A chi-square test against uniform, with
		// thresholds some 8 standard deviations out (a correct split
		// fails it about once in 10^15 runs; a biased one every time).
		chi := eval[[]float64](t, ctx, `(function () {
			var S = otsliteShamir, out = [];
			[0, 255].forEach(function (v) {
				var secret = new Uint8Array(262144).fill(v);
				var one = S.split(secret, 2, 3)[0], c = new Float64Array(256);
				for (var i = 0; i < one.length; i++) c[one[i]]++;
				var e = one.length / 256, x = 0;
				for (i = 0; i < 256; i++) x += (c[i] - e) * (c[i] - e) / e;
				out.push(x);
				var secret2 = new Uint8Array(1048576).fill(v);
				var sh = S.split(secret2, 3, 4), p = new Float64Array(65536);
				for (i = 0; i < secret2.length; i++) p[sh[0][i] << 8 | sh[2][i]]++;
				e = secret2.length / 65536; x = 0;
				for (i = 0; i < 65536; i++) x += (p[i] - e) * (p[i] - e) / e;
				out.push(x);
			});
			return out;
		})()`)
		for i, x := range chi {
			dof, limit := 255.0, 255+8*22.6
			if i%2 == 1 {
				dof, limit = 65535, 65535+8*362
			}
			if x > limit {
				t.Errorf("k-1 shares of a secret of bytes %d: chi-square %.0f with %.0f degrees of freedom: not uniform", []int{0, 0, 255, 255}[i], x, dof)
			}
		}
		t.Logf("chi-square of k-1 shares (secret 0x00: %.0f, %.0f; 0xff: %.0f, %.0f; 255 and 65535 degrees of freedom)", chi[0], chi[1], chi[2], chi[3])
	})
	noProblems(t, ctx)
}

func mustHex(t *testing.T, h string) []byte {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mustBundleJSON makes a bundle of a header written by hand and a payload.
func mustBundleJSON(header, payload string) []byte {
	out := []byte{0, 1, 0, 0, 0, 0}
	out[5] = byte(len(header))
	out[4] = byte(len(header) >> 8)
	return append(append(out, header...), payload...)
}

// sha is a short digest for messages.
func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:6])
}

// browserFiles: a 5 MiB file, a second with a name of many scripts, and a
// text go from the create page to a recipient in a fresh browser context,
// who downloads each under its name and type, byte for byte; the cap is on
// the button before anything is chosen, and files over it are refused
// before anything is sent; the command line opens the browser's link and
// the browser opens the command line's.
func (b *browserEnv) browserFiles(t *testing.T) {
	sender, recipient := b.tab(t), b.tab(t)
	big := randomData(t, 5<<20)
	small := []byte("a small file\nwith two lines\n")
	bigPath := writeTemp(t, "archive.tar.gz", big)
	smallName := "notes été 비밀 (1).txt"
	smallPath := writeTemp(t, smallName, small)
	text := "the text beside the files: ünïcödé 🔐"

	b.navigate(t, sender, b.srv.base+"/")
	until(t, sender, `!document.getElementById("add-files").hidden`)
	if got := eval[string](t, sender, `document.getElementById("add-files").textContent`); got != "Add files (up to 10.5 MB)" {
		t.Errorf("the button that adds files says %q; it must show the cap before anything is chosen", got)
	}
	links, receipt := b.createShaped(t, sender, b.srv.base, text, "", "one", 0, 0, bigPath, smallPath)
	link := links[0]
	if !regexp.MustCompile(`/secret/[0-9a-z]+#1n[A-Za-z0-9_-]{43}$`).MatchString(link) || !strings.Contains(receipt, "/receipt/") {
		t.Fatalf("links %q, receipt %q", link, receipt)
	}
	posts := 0
	for _, f := range fetches(t, sender) {
		if strings.HasPrefix(f, "POST /api/v1/share ") {
			posts++
			if strings.Contains(f, "archive.tar.gz") || strings.Contains(f, "the text beside") {
				t.Errorf("the share request carries plaintext: %.200s", f)
			}
		}
	}
	if posts != 1 {
		t.Errorf("%d share requests, want 1", posts)
	}

	dir := allowDownloads(t, recipient)
	b.openLink(t, recipient, link)
	eval[bool](t, recipient, blobWatch)
	revealFull(t, recipient)
	if !eval[bool](t, recipient, visible("revealed")) {
		t.Fatalf("reveal: %s", pageState(recipient))
	}
	if got := eval[string](t, recipient, `document.getElementById("value").value`); got != text {
		t.Errorf("text %q, want %q", got, text)
	}
	files := shownFiles(t, recipient)
	if len(files) != 2 || !strings.HasPrefix(files[0], "archive.tar.gz|application/gzip, 5.2 MB") && !strings.HasPrefix(files[0], "archive.tar.gz|application/x-gzip, 5.2 MB") || !strings.HasPrefix(files[1], smallName+"|text/plain, ") {
		t.Errorf("files shown: %q", files)
	}
	downloadFile(t, recipient, "archive.tar.gz")
	if got := waitDownload(t, dir, "archive.tar.gz", len(big)); !bytes.Equal(got, big) {
		t.Errorf("the 5 MiB file arrived changed: %s, want %s", sha(got), sha(big))
	}
	downloadFile(t, recipient, smallName)
	if got := waitDownload(t, dir, smallName, len(small)); !bytes.Equal(got, small) {
		t.Errorf("%s arrived as %q", smallName, got)
	}
	types := eval[map[string]string](t, recipient, `window.__otsliteBlobs`)
	if !strings.Contains(types["archive.tar.gz"], "gzip") || types[smallName] != "text/plain" {
		t.Errorf("downloads typed %v", types)
	}
	noProblems(t, recipient)
	b.openLink(t, recipient, link)
	if !eval[bool](t, recipient, visible("gone")) {
		t.Errorf("the link opened twice: %s", pageState(recipient))
	}

	t.Run("OverTheCap", func(t *testing.T) {
		srv := startScanServer(t, "--max-file-size", "1MiB")
		ctx := b.tab(t)
		b.navigate(t, ctx, srv.base+"/")
		until(t, ctx, `!document.getElementById("add-files").hidden`)
		if got := eval[string](t, ctx, `document.getElementById("add-files").textContent`); got != "Add files (up to 1 MB)" {
			t.Errorf("cap shown as %q", got)
		}
		setFiles(t, ctx, writeTemp(t, "too-big.bin", make([]byte, 1<<20+1)))
		until(t, ctx, visible("error"))
		if msg := errorNow(t, ctx); !strings.Contains(msg, "over this server's limit of 1 MB") {
			t.Errorf("over the cap: %q", msg)
		}
		click(t, ctx, "create")
		time.Sleep(300 * time.Millisecond)
		for _, f := range fetches(t, ctx) {
			if strings.HasPrefix(f, "POST ") {
				t.Errorf("files over the cap were sent: %.80s", f)
			}
		}
		// Removing the file takes the refusal away; text and a file under
		// the cap go.
		eval[bool](t, ctx, `(document.querySelector("#file-list button").click(), true)`)
		setField(t, ctx, "secret", "small enough")
		setFiles(t, ctx, writeTemp(t, "fits.bin", make([]byte, 1<<20-100)))
		click(t, ctx, "create")
		until(t, ctx, visible("result")+" || "+visible("error"))
		if !eval[bool](t, ctx, visible("result")) {
			t.Errorf("a file under the cap: %s", errorNow(t, ctx))
		}
	})

	t.Run("CommandLineBothWays", func(t *testing.T) {
		// The browser's files, opened by otslite get.
		ctx := b.tab(t)
		data := randomData(t, 200_000)
		links, _ := b.createShaped(t, ctx, b.srv.base, "for the command line", "", "one", 0, 0, writeTemp(t, "key.pem", data))
		out := t.TempDir()
		code, stdout, errs := MustCLI(t, cliOpts{}, "get", "--out", out, links[0])
		mustCode(t, "get", code, exitOK, errs)
		if got, err := os.ReadFile(filepath.Join(out, "key.pem")); err != nil || !bytes.Equal(got, data) || stdout != "for the command line" {
			t.Errorf("get wrote %s (%v) and printed %q", sha(got), err, stdout)
		}
		// The command line's files, opened in the browser.
		_, paths := writeFiles(t, "report.csv", "a,b\n1,2\n", "photo.jpg", string(data[:5000]))
		lines := mustShareLines(t, cliOpts{input: "from the command line"}, b.srv.base, "--file", paths[0], "--file", paths[1])
		r := b.tab(t)
		d := allowDownloads(t, r)
		b.openLink(t, r, lines[0])
		revealFull(t, r)
		if got := eval[string](t, r, `document.getElementById("value").value`); got != "from the command line" {
			t.Errorf("text %q", got)
		}
		downloadFile(t, r, "photo.jpg")
		if got := waitDownload(t, d, "photo.jpg", 5000); !bytes.Equal(got, data[:5000]) {
			t.Error("photo.jpg arrived changed")
		}
		if files := shownFiles(t, r); len(files) != 2 || !strings.HasPrefix(files[0], "report.csv|") {
			t.Errorf("files %q", files)
		}
	})
}

// groupLinks reads the group receipt page: per link, its heading, state
// line and late-attempt notice.
type linkView struct{ Name, State, Late, Data string }

func groupLinks(t *testing.T, ctx context.Context) []linkView {
	t.Helper()
	raw := eval[string](t, ctx, `JSON.stringify(Array.from(document.querySelectorAll("#group-links > li")).map(function (li) {
		var late = li.querySelector(".notice.alert");
		return { Name: li.querySelector("h3").textContent, State: li.querySelector(".state-line").textContent, Late: late.hidden ? "" : late.innerText, Data: li.getAttribute("data-state") };
	}))`)
	var v []linkView
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// errorNow is the page's error notice as it is now ("" when hidden).
func errorNow(t *testing.T, ctx context.Context) string {
	t.Helper()
	return eval[string](t, ctx, `document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`)
}

// blank leaves the page, so that a link differing only after "#" loads.
func blank(t *testing.T, ctx context.Context) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
}

// openGroup opens a group receipt and waits for its links.
func (b *browserEnv) openGroup(t *testing.T, ctx context.Context, receipt string) {
	t.Helper()
	blank(t, ctx)
	b.navigate(t, ctx, receipt)
	until(t, ctx, visible("group")+` && document.querySelectorAll("#group-links > li").length > 0`)
}

// browserSeveralLinks: three links of one secret, each opened once from a
// browser of its own; the receipt tells them apart (which, when) and burns
// one alone.
func (b *browserEnv) browserSeveralLinks(t *testing.T) {
	sender := b.tab(t)
	links, receipt := b.createShaped(t, sender, b.srv.base, "one secret for three people", "", "many", 3, 0)
	if len(links) != 3 || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/group/[0-9a-z]{32}$`).MatchString(receipt) {
		t.Fatalf("links %q, receipt %q", links, receipt)
	}
	keys := map[string]bool{}
	for _, l := range links {
		keys[secretKeyOf(t, l)] = true
	}
	if len(keys) != 3 || links[0][strings.Index(links[0], "#"):] == links[1][strings.Index(links[1], "#"):] {
		t.Errorf("the links share keys: %q", links)
	}
	if got := eval[string](t, sender, `document.getElementById("result-title").textContent`); got != "Your 3 links are ready" {
		t.Errorf("result title %q", got)
	}
	// The second link first, then the third, each in a browser of its own.
	opened := map[int]bool{}
	for _, i := range []int{1, 2} {
		r := b.tab(t)
		b.openLink(t, r, links[i])
		if got := pressReveal(t, r, ""); got.value != "one secret for three people" {
			t.Fatalf("link %d: %+v", i+1, got)
		}
		b.openLink(t, r, links[i])
		if !eval[bool](t, r, visible("gone")) {
			t.Errorf("link %d opened twice", i+1)
		}
		opened[i] = true
		b.openGroup(t, sender, receipt)
		v := groupLinks(t, sender)
		for j, l := range v {
			want := "new"
			if opened[j] {
				want = "received"
			}
			if l.Name != fmt.Sprintf("Link %d", j+1) || l.Data != want || want == "received" && !strings.HasPrefix(l.State, "Opened at ") || want == "new" && !strings.HasPrefix(l.State, "Waiting") {
				t.Errorf("after link %d: the receipt shows link %d as %+v", i+1, j+1, l)
			}
		}
	}
	if got := eval[string](t, sender, `document.getElementById("group-state").textContent`); got != "2 of 3 links opened" {
		t.Errorf("group state %q", got)
	}
	// Burn the first link alone.
	eval[bool](t, sender, `(document.querySelector("#link-1 button.danger").click(), true)`)
	until(t, sender, visible("burn-form"))
	if q := eval[string](t, sender, `document.getElementById("burn-question").textContent`); !strings.HasPrefix(q, "Burn Link 1 now?") {
		t.Errorf("burn question %q", q)
	}
	click(t, sender, "burn-confirm")
	until(t, sender, visible("burned-note"))
	if v := groupLinks(t, sender); v[0].Data != "burned" || !strings.HasPrefix(v[0].State, "Burned at ") || v[1].Data != "received" {
		t.Errorf("after burning link 1: %+v", v)
	}
	if got := b.peek(t, secretKeyOf(t, links[0])); got != 404 {
		t.Errorf("burned link: peek %d", got)
	}
	noProblems(t, sender)

	t.Run("BurnAll", func(t *testing.T) {
		ctx := b.tab(t)
		links, receipt := b.createShaped(t, ctx, b.srv.base, "two of them", "", "many", 4, 0)
		r := b.tab(t)
		b.openLink(t, r, links[3])
		pressReveal(t, r, "")
		b.openGroup(t, ctx, receipt)
		click(t, ctx, "burn-all")
		until(t, ctx, visible("burn-form"))
		click(t, ctx, "burn-confirm")
		until(t, ctx, visible("burned-note"))
		if got := eval[string](t, ctx, `document.getElementById("burned-note").textContent`); got != "3 links burned. Nobody can open them now." {
			t.Errorf("burned note %q", got)
		}
		for i, l := range links {
			want := 404
			if b.peek(t, secretKeyOf(t, l)) != want {
				t.Errorf("link %d still waits", i+1)
			}
		}
		if v := groupLinks(t, ctx); v[3].Data != "received" || v[0].Data != "burned" {
			t.Errorf("after burning all: %+v", v)
		}
	})

	t.Run("CommandLineLinks", func(t *testing.T) {
		// The command line's links open in the browser, and its group
		// receipt reads in the page.
		lines := mustShareLines(t, cliOpts{input: "from the command line, twice"}, b.srv.base, "--links", "2")
		var secretLinks []string
		var group string
		for _, l := range lines {
			switch {
			case strings.Contains(l, "/secret/"):
				secretLinks = append(secretLinks, l)
			case strings.Contains(l, "/group/"):
				group = l
			}
		}
		if len(secretLinks) != 2 || group == "" {
			t.Fatalf("share printed %q", lines)
		}
		r := b.tab(t)
		b.openLink(t, r, secretLinks[1])
		if got := pressReveal(t, r, ""); got.value != "from the command line, twice" {
			t.Fatalf("%+v", got)
		}
		b.openGroup(t, r, group)
		if v := groupLinks(t, r); len(v) != 2 || v[1].Data != "received" || v[0].Data != "new" {
			t.Errorf("the command line's group in the page: %+v", v)
		}
	})
}

// browserSplit: a 2-of-3 split rebuilds from any two links, opened one
// after another in one tab (the secret page, then the combine page); one
// link alone shows nothing of the secret; the receipt says when enough
// parts were opened; the command line combines the browser's parts and the
// browser the command line's.
func (b *browserEnv) browserSplit(t *testing.T) {
	sender := b.tab(t)
	secret := "split me: " + base64.StdEncoding.EncodeToString(randomData(t, 48))
	fileData := randomData(t, 30_000)
	filePath := writeTemp(t, "seed.bin", fileData)
	for _, pair := range [][2]int{{0, 1}, {0, 2}, {2, 1}} {
		links, receipt := b.createShaped(t, sender, b.srv.base, secret, "", "split", 3, 2, filePath)
		if len(links) != 3 || !strings.HasSuffix(receipt, "#k2") {
			t.Fatalf("split: %q, receipt %q", links, receipt)
		}
		if got := eval[string](t, sender, `document.getElementById("result-title").textContent`); got != "Your secret is split into 3 parts" {
			t.Errorf("result title %q", got)
		}
		r := b.tab(t)
		dir := allowDownloads(t, r)
		b.openLink(t, r, links[pair[0]])
		revealFull(t, r)
		if !eval[bool](t, r, visible("parts")) || eval[bool](t, r, visible("revealed")) {
			t.Fatalf("one part: %s", pageState(r))
		}
		// One part alone: nothing of the secret on the page, or in what
		// the page holds as text.
		page := eval[string](t, r, `document.documentElement.innerText + " " + Array.from(document.querySelectorAll("textarea, input")).map(function (e) { return e.value; }).join(" ")`)
		if strings.Contains(page, secret[10:30]) || strings.Contains(page, "seed.bin") {
			t.Fatal("one part shows the secret")
		}
		if !strings.Contains(page, fmt.Sprintf("Part of a secret split into 3 parts")) || !strings.Contains(page, "1 more part is needed") {
			t.Errorf("one part says: %.300s", page)
		}
		b.openGroup(t, sender, receipt)
		if got := eval[string](t, sender, `document.getElementById("group-state").textContent`); got != "1 of 3 parts opened; any 2 rebuild the secret" || eval[bool](t, sender, visible("group-enough")) {
			t.Errorf("after one part the receipt says %q", got)
		}
		// The second part's link, pasted into the same tab.
		setField(t, r, "part-link", links[pair[1]])
		click(t, r, "part-open")
		until(t, r, visible("revealed")+" || "+visible("error"))
		if got := eval[string](t, r, `document.getElementById("value").value`); got != secret {
			t.Fatalf("parts %v rebuild %q (%s)", pair, got, errorNow(t, r))
		}
		downloadFile(t, r, "seed.bin")
		if got := waitDownload(t, dir, "seed.bin", len(fileData)); !bytes.Equal(got, fileData) {
			t.Error("seed.bin arrived changed")
		}
		noProblems(t, r)
		b.openGroup(t, sender, receipt)
		if !eval[bool](t, sender, visible("group-enough")) {
			t.Errorf("after two parts the receipt does not say enough were opened")
		}
		if v := groupLinks(t, sender); v[0].Name != "Part 1 of 3" {
			t.Errorf("parts named %+v", v)
		}
	}

	t.Run("CombinePage", func(t *testing.T) {
		links, _ := b.createShaped(t, sender, b.srv.base, "rebuilt on the combine page", "", "split", 3, 3)
		r := b.tab(t)
		b.navigate(t, r, b.srv.base+"/combine")
		until(t, r, visible("parts"))
		for i, l := range links {
			setField(t, r, "part-link", l)
			click(t, r, "part-open")
			if i < 2 {
				until(t, r, fmt.Sprintf(`(document.querySelectorAll("#parts-list li").length === %d || `, i+1)+visible("error")+`) && document.getElementById("parts-form").getAttribute("aria-busy") !== "true"`)
				if msg := errorNow(t, r); msg != "" {
					t.Fatalf("part %d: %s", i+1, msg)
				}
			}
		}
		until(t, r, visible("revealed")+" || "+visible("error"))
		if got := eval[string](t, r, `document.getElementById("value").value`); got != "rebuilt on the combine page" {
			t.Errorf("combine page: %q (%s)", got, errorNow(t, r))
		}
		// A part pasted twice is refused without asking the server.
		n := len(fetches(t, r))
		eval[bool](t, r, `(function(){ document.getElementById("parts").hidden = false; return true; })()`)
		setField(t, r, "part-link", links[0])
		click(t, r, "part-open")
		until(t, r, visible("error")+` || window.__otsliteProblems.length > 0`)
		noProblems(t, r)
		if msg := errorNow(t, r); msg != "That part was already opened here." || len(fetches(t, r)) != n {
			t.Errorf("a part twice: %q, %q", msg, fetches(t, r)[n:])
		}
		noProblems(t, r)
	})

	t.Run("CommandLineBothWays", func(t *testing.T) {
		links, _ := b.createShaped(t, sender, b.srv.base, "for get to combine", "", "split", 3, 2)
		code, out, errs := MustCLI(t, cliOpts{}, "get", links[2], links[0])
		mustCode(t, "get of two parts", code, exitOK, errs)
		if out != "for get to combine" {
			t.Errorf("get combined %q", out)
		}
		lines := mustShareLines(t, cliOpts{input: "split by the command line"}, b.srv.base, "--split", "2/3")
		var parts []string
		for _, l := range lines {
			if strings.Contains(l, "/secret/") {
				parts = append(parts, l)
			}
		}
		if len(parts) != 3 {
			t.Fatalf("share --split printed %q", lines)
		}
		r := b.tab(t)
		b.openLink(t, r, parts[1])
		revealFull(t, r)
		setField(t, r, "part-link", parts[2])
		click(t, r, "part-open")
		until(t, r, visible("revealed")+" || "+visible("error"))
		if got := eval[string](t, r, `document.getElementById("value").value`); got != "split by the command line" {
			t.Errorf("the command line's parts rebuild %q (%s)", got, errorNow(t, r))
		}
	})
}

// browserRequest: a request made on the ask page is answered with text and
// a file from a fresh browser, once; the requester's link, opened in a
// browser of its own, reads it once; the command line's request is
// answered from the browser.
func (b *browserEnv) browserRequest(t *testing.T) {
	requester, answerer := b.tab(t), b.tab(t)
	b.navigate(t, requester, b.srv.base+"/ask")
	until(t, requester, `!document.getElementById("ask").disabled`)
	click(t, requester, "ask")
	until(t, requester, visible("result")+" || "+visible("error"))
	request := eval[string](t, requester, `document.getElementById("request-link").value`)
	inbox := eval[string](t, requester, `document.getElementById("inbox-link").value`)
	if !requestLinkRE.MatchString(request) || !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/inbox/[0-9a-z]{32}#[A-Za-z0-9_-]{130}$`).MatchString(inbox) {
		t.Fatalf("request link %q, private link %q", request, inbox)
	}
	for _, f := range fetches(t, requester) {
		if strings.Contains(f, request[strings.Index(request, "#")+1:]) || strings.Contains(f, inbox[strings.Index(inbox, "#")+1:]) {
			t.Errorf("a key reached the server: %.120s", f)
		}
	}
	noProblems(t, requester)

	// The requester's own page, in a browser of its own: waiting.
	own := b.tab(t)
	b.navigate(t, own, inbox)
	until(t, own, visible("inbox"))
	if got := eval[string](t, own, `document.getElementById("inbox-state").textContent`); got != "Waiting for an answer." {
		t.Errorf("before the answer: %q", got)
	}

	// The answer: text and a file.
	data := randomData(t, 100_000)
	b.navigate(t, answerer, request)
	until(t, answerer, visible("answer-form")+" || "+visible("error")+" || "+visible("closed"))
	setField(t, answerer, "secret", "the password you asked for")
	until(t, answerer, `!document.getElementById("add-files").hidden`)
	setFiles(t, answerer, writeTemp(t, "id_ed25519", data))
	until(t, answerer, `document.querySelectorAll("#file-list li").length === 1`)
	click(t, answerer, "send")
	until(t, answerer, visible("sent")+" || "+visible("error"))
	if !eval[bool](t, answerer, visible("sent")) {
		t.Fatalf("answer: %s", errorNow(t, answerer))
	}
	for _, f := range fetches(t, answerer) {
		if strings.Contains(f, "the password you asked for") {
			t.Errorf("plaintext reached the server: %.120s", f)
		}
	}
	noProblems(t, answerer)
	// A second answer is refused.
	blank(t, answerer)
	b.navigate(t, answerer, request)
	until(t, answerer, visible("closed")+" || "+visible("answer-form"))
	if !eval[bool](t, answerer, visible("closed")) {
		t.Errorf("the request link after its answer: %s", pageState(answerer))
	}

	// The requester reads it, once (the page notices the answer by itself).
	dir := allowDownloads(t, own)
	until(t, own, visible("read-area"))
	click(t, own, "read")
	until(t, own, visible("revealed")+" || "+visible("error"))
	if got := eval[string](t, own, `document.getElementById("value").value`); got != "the password you asked for" {
		t.Fatalf("the answer reads %q (%s)", got, errorNow(t, own))
	}
	downloadFile(t, own, "id_ed25519")
	if got := waitDownload(t, dir, "id_ed25519", len(data)); !bytes.Equal(got, data) {
		t.Error("the answer's file arrived changed")
	}
	noProblems(t, own)
	blank(t, own)
	b.navigate(t, own, inbox)
	until(t, own, visible("inbox"))
	if got := eval[string](t, own, `document.getElementById("inbox-state").textContent`); !strings.HasPrefix(got, "The answer was read at ") || eval[bool](t, own, visible("read-area")) {
		t.Errorf("after reading: %q", got)
	}

	t.Run("DamagedLinks", func(t *testing.T) {
		ctx := b.tab(t)
		b.navigate(t, ctx, request[:len(request)-3])
		until(t, ctx, visible("incomplete"))
		blank(t, ctx)
		b.navigate(t, ctx, inbox[:strings.Index(inbox, "#")])
		until(t, ctx, visible("incomplete"))
	})

	t.Run("CommandLineRequest", func(t *testing.T) {
		out := t.TempDir()
		r := startCLI(t, cliOpts{}, "request", "--server", b.srv.base, "--out", out, "--qr=false")
		link := r.waitLine(t)
		ctx := b.tab(t)
		b.navigate(t, ctx, link)
		until(t, ctx, visible("answer-form")+" || "+visible("error"))
		setField(t, ctx, "secret", "answered in the browser")
		until(t, ctx, `!document.getElementById("add-files").hidden`)
		setFiles(t, ctx, writeTemp(t, "token.txt", []byte("a token")))
		until(t, ctx, `document.querySelectorAll("#file-list li").length === 1`)
		click(t, ctx, "send")
		until(t, ctx, visible("sent")+" || "+visible("error"))
		mustCode(t, "request", r.wait(t), exitOK, r.errs(t))
		if r.out(t) != link+"\nanswered in the browser" || mustReadDir(t, out)["token.txt"] != "a token" {
			t.Errorf("request printed %q, wrote %v", r.out(t), mustReadDir(t, out))
		}
	})
}

// browserLateAttempts: reopening a link that was read shows on the
// sender's receipt (time, coarse address), the gone page says the sender
// will see it, and a group's receipt says which link.
func (b *browserEnv) browserLateAttempts(t *testing.T) {
	sender, recipient, stranger := b.tab(t), b.tab(t), b.tab(t)
	c := b.create(t, sender, "read once, then tried again", "")
	b.openLink(t, recipient, c.link)
	if r := pressReveal(t, recipient, ""); r.value == "" {
		t.Fatalf("%+v", r)
	}
	b.navigate(t, sender, c.receipt)
	until(t, sender, visible("receipt"))
	if eval[bool](t, sender, visible("late")) {
		t.Error("an alert before any late attempt")
	}
	before := time.Now()
	b.openLink(t, stranger, c.link)
	gone := eval[string](t, stranger, `document.getElementById("gone").innerText`)
	if !strings.Contains(gone, "its sender's receipt now shows this attempt to open it again") {
		t.Errorf("the gone page says %q", gone)
	}
	// The receipt shows it: at once on a reload, and by itself within
	// its minute of watching.
	if got := eval[string](t, sender, `document.getElementById("receipt").getAttribute("data-poll")`); got != "60000" {
		t.Errorf("a final receipt polls every %q ms, want 60000", got)
	}
	blank(t, sender)
	b.navigate(t, sender, c.receipt)
	until(t, sender, visible("late"))
	late := eval[string](t, sender, `document.getElementById("late").innerText`)
	if !strings.Contains(late, "Someone tried to open this link after it was read.") || !strings.Contains(late, ", from 127.0.0.0/24") {
		t.Errorf("the receipt's alert: %q", late)
	}
	_ = before
	shot := b.artifacts != ""
	if shot {
		b.shot(t, sender, "en-receipt-late")
	}

	t.Run("GroupSaysWhichLink", func(t *testing.T) {
		ctx := b.tab(t)
		links, receipt := b.createShaped(t, ctx, b.srv.base, "which one leaked", "", "many", 3, 0)
		r := b.tab(t)
		b.openLink(t, r, links[1])
		pressReveal(t, r, "")
		b.openLink(t, b.tab(t), links[1])
		b.openGroup(t, ctx, receipt)
		v := groupLinks(t, ctx)
		if v[0].Late != "" || v[2].Late != "" || !strings.Contains(v[1].Late, "after it was read") || !strings.Contains(v[1].Late, "127.0.0.0/24") {
			t.Errorf("group receipt: %+v", v)
		}
	})

	t.Run("AfterBurn", func(t *testing.T) {
		ctx := b.tab(t)
		c := b.create(t, ctx, "burned, then tried", "")
		b.navigate(t, ctx, c.receipt)
		until(t, ctx, visible("receipt"))
		click(t, ctx, "burn-start")
		until(t, ctx, visible("burn-form"))
		click(t, ctx, "burn-confirm")
		until(t, ctx, visible("burned-note"))
		r := b.tab(t)
		b.openLink(t, r, c.link)
		blank(t, ctx)
		b.navigate(t, ctx, c.receipt)
		until(t, ctx, visible("late"))
		if late := eval[string](t, ctx, `document.getElementById("late").innerText`); !strings.Contains(late, "after it was burned") {
			t.Errorf("after a burn: %q", late)
		}
	})
}

// browserBeyondLook walks every state of the new pages (create with files
// and each shape, the results, the group receipt with a late attempt,
// files revealed, a part waiting for more, the combine page, the ask,
// request and inbox pages, a receipt's alert and the gone page) in English
// and, right to left, Arabic and Hebrew: each is audited with axe (0
// serious or critical) and photographed on a phone and a desktop, light and
// dark.
func (b *browserEnv) browserBeyondLook(t *testing.T) {
	type look struct {
		name          string
		width, height int64
		mobile        bool
		scheme        string
	}
	looks := []look{
		{"phone-light", 390, 844, true, "light"},
		{"phone-dark", 390, 844, true, "dark"},
		{"desktop-light", 1280, 900, false, "light"},
		{"desktop-dark", 1280, 900, false, "dark"},
	}
	filePath := writeTemp(t, "quarterly report – final.pdf", randomData(t, 300_000))
	keyPath := writeTemp(t, "id_ed25519", []byte("-----BEGIN OPENSSH PRIVATE KEY-----\n"))
	shots := 0
	for _, loc := range []string{"en", "ar", "he"} {
		t.Run(loc, func(t *testing.T) {
			looks := looks
			if loc == "he" {
				looks = []look{looks[1], looks[2]}
			}
			q := "?locale=" + loc
			withLocale := func(u string) string {
				if i := strings.Index(u, "#"); i >= 0 {
					return u[:i] + q + u[i:]
				}
				return u + q
			}
			capture := func(ctx context.Context, state string) {
				t.Helper()
				noProblems(t, ctx)
				for _, l := range looks {
					setViewport(t, ctx, l.width, l.height, l.mobile)
					setColorScheme(t, ctx, l.scheme)
					if l.name == "desktop-light" || l.name == "phone-dark" {
						b.audit(t, ctx, loc+" "+state+" "+l.name)
					}
					if l.mobile {
						fits(t, ctx, loc+" "+state+" "+l.name)
					}
					b.shot(t, ctx, fmt.Sprintf("%s-%s-%s", loc, state, l.name))
					shots++
				}
				setViewport(t, ctx, 1280, 900, false)
				setColorScheme(t, ctx, "")
			}
			sender, recipient := b.tab(t), b.tab(t)

			// The create page with files, and each shape open.
			b.navigate(t, sender, b.srv.base+"/"+q)
			until(t, sender, `!document.getElementById("create").disabled && !document.getElementById("add-files").hidden`)
			setField(t, sender, "secret", "db password: hunter2")
			setFiles(t, sender, filePath, keyPath)
			until(t, sender, `document.querySelectorAll("#file-list li").length === 2`)
			eval[bool](t, sender, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
			click(t, sender, "shape-many")
			capture(sender, "create-files-many")
			click(t, sender, "shape-split")
			capture(sender, "create-split")
			click(t, sender, "create")
			until(t, sender, visible("result")+" || "+visible("error"))
			capture(sender, "result-split")
			parts := eval[[]string](t, sender, `Array.from(document.querySelectorAll("#link-list textarea")).map(function (e) { return e.value; })`)
			splitReceipt := eval[string](t, sender, `document.getElementById("receipt-link").value`)

			// A part opened, waiting for the others; then the secret.
			b.openLink(t, recipient, withLocale(parts[0]))
			revealFull(t, recipient)
			capture(recipient, "secret-part")
			setField(t, recipient, "part-link", parts[2])
			click(t, recipient, "part-open")
			until(t, recipient, visible("revealed")+" || "+visible("error"))
			capture(recipient, "secret-files")

			// The several links' result, and their receipt with one link
			// read, one tried after it was read, one burned.
			links, receipt := b.createShaped(t, sender, b.srv.base+"/"+q[:0], "for three people", "", "many", 3, 0)
			b.navigate(t, sender, b.srv.base+"/"+q)
			until(t, sender, `!document.getElementById("create").disabled`)
			_ = links
			setField(t, sender, "secret", "for three people")
			eval[bool](t, sender, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
			click(t, sender, "shape-many")
			click(t, sender, "create")
			until(t, sender, visible("result"))
			capture(sender, "result-many")
			links = eval[[]string](t, sender, `Array.from(document.querySelectorAll("#link-list textarea")).map(function (e) { return e.value; })`)
			receipt = eval[string](t, sender, `document.getElementById("receipt-link").value`)
			b.openLink(t, recipient, withLocale(links[1]))
			pressReveal(t, recipient, "")
			b.openLink(t, recipient, withLocale(links[1]))
			capture(recipient, "secret-gone")
			b.openGroup(t, sender, withLocale(receipt))
			eval[bool](t, sender, `(document.querySelector("#link-3 button.danger").click(), true)`)
			until(t, sender, visible("burn-form"))
			capture(sender, "group-confirm")
			click(t, sender, "burn-confirm")
			until(t, sender, visible("burned-note"))
			capture(sender, "group")
			b.openGroup(t, sender, withLocale(splitReceipt))
			capture(sender, "group-split")

			// A receipt's alert.
			c := b.create(t, sender, "read, then tried", "")
			b.openLink(t, recipient, c.link)
			pressReveal(t, recipient, "")
			b.openLink(t, recipient, c.link)
			blank(t, sender)
			b.navigate(t, sender, withLocale(c.receipt))
			until(t, sender, visible("late"))
			capture(sender, "receipt-late")

			// The combine page, empty.
			b.navigate(t, recipient, b.srv.base+"/combine"+q)
			until(t, recipient, visible("parts"))
			capture(recipient, "combine")

			// Asking: the ask page, its result, the request page, sent,
			// closed, and the requester's page waiting, answered, read.
			requester := b.tab(t)
			b.navigate(t, requester, b.srv.base+"/ask"+q)
			until(t, requester, `!document.getElementById("ask").disabled`)
			capture(requester, "ask")
			click(t, requester, "ask")
			until(t, requester, visible("result"))
			capture(requester, "ask-result")
			request := eval[string](t, requester, `document.getElementById("request-link").value`)
			inbox := eval[string](t, requester, `document.getElementById("inbox-link").value`)
			b.navigate(t, requester, withLocale(inbox))
			until(t, requester, visible("inbox"))
			capture(requester, "inbox-waiting")
			b.navigate(t, recipient, withLocale(request))
			until(t, recipient, visible("answer-form"))
			setField(t, recipient, "secret", "the answer")
			until(t, recipient, `!document.getElementById("add-files").hidden`)
			setFiles(t, recipient, keyPath)
			until(t, recipient, `document.querySelectorAll("#file-list li").length === 1`)
			capture(recipient, "request")
			click(t, recipient, "send")
			until(t, recipient, visible("sent"))
			capture(recipient, "request-sent")
			blank(t, recipient)
			b.navigate(t, recipient, withLocale(request))
			until(t, recipient, visible("closed"))
			capture(recipient, "request-closed")
			until(t, requester, visible("read-area"))
			capture(requester, "inbox-answered")
			click(t, requester, "read")
			until(t, requester, visible("revealed"))
			capture(requester, "inbox-read")
		})
	}
	t.Logf("%d screenshots of the new pages in %s", shots, b.artifacts)
}

// browserEveryLanguageBeyond walks the new pages' states in every language
// on a phone (390×844): nothing overflows its control or the screen, the
// header keeps one row, no script error, and the counted texts read in the
// language's plural form (checked against the catalog). Each state is
// photographed.
func (b *browserEnv) browserEveryLanguageBeyond(t *testing.T) {
	keyPath := writeTemp(t, "a-file-with-a-long-name-in-every-language.txt", []byte("file"))
	for _, loc := range assets.Locales {
		t.Run(loc, func(t *testing.T) {
			t.Parallel()
			sender, recipient, requester := b.tab(t), b.tab(t), b.tab(t)
			for _, ctx := range []context.Context{sender, recipient, requester} {
				phoneViewport(t, ctx)
			}
			q := "?locale=" + loc
			withLocale := func(u string) string {
				if i := strings.Index(u, "#"); i >= 0 {
					return u[:i] + q + u[i:]
				}
				return u + q
			}
			texts := catalogTexts(t, loc)
			state := func(ctx context.Context, name string) {
				t.Helper()
				for _, p := range eval[[]string](t, ctx, `(window.__otsliteProblems || []).concat(`+overflowCheck+`)`) {
					t.Errorf("%s %s: %s", loc, name, p)
				}
				b.shot(t, ctx, fmt.Sprintf("lang-%s-%s", loc, name))
			}
			// A text the page shows for a count of n is the catalog's
			// form of it for n's plural category in this language (as
			// Chromium's CLDR data picks it), with the values filled in.
			counted := func(ctx context.Context, id, name string, n int) {
				t.Helper()
				got := eval[string](t, ctx, `document.getElementById(`+jsString(id)+`).textContent`)
				cat := eval[string](t, ctx, fmt.Sprintf(`new Intl.PluralRules(%s).select(%d)`, jsString(loc), n))
				form, ok := texts[name+"|"+cat]
				if !ok {
					form = texts[name+"|other"]
				}
				if !countedForm(form).MatchString(got) {
					t.Errorf("%s: #%s says %q; for %d (%s) the catalog has %q", loc, id, got, n, cat, form)
				}
			}

			b.navigate(t, sender, b.srv.base+"/"+q)
			waitFor(t, sender, `!document.getElementById("create").disabled && !document.getElementById("add-files").hidden`)
			setField(t, sender, "secret", "db password: hunter2")
			setFiles(t, sender, keyPath)
			waitFor(t, sender, `document.querySelectorAll("#file-list li").length === 1`)
			counted(sender, "file-total", "filesChosen", 1)
			eval[bool](t, sender, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
			click(t, sender, "shape-many")
			counted(sender, "shape-now", "shapeMany", 3)
			state(sender, "create-many")
			click(t, sender, "shape-split")
			counted(sender, "shape-now", "shapeSplit", 3)
			state(sender, "create-split")
			click(t, sender, "create")
			waitFor(t, sender, visible("result"))
			counted(sender, "result-title", "resultParts", 3)
			state(sender, "result-split")
			parts := eval[[]string](t, sender, `Array.from(document.querySelectorAll("#link-list textarea")).map(function (e) { return e.value; })`)
			split := eval[string](t, sender, `document.getElementById("receipt-link").value`)

			b.openLink(t, recipient, withLocale(parts[0]))
			revealFull(t, recipient)
			counted(recipient, "parts-text", "partsMissing", 1)
			state(recipient, "secret-part")
			setField(t, recipient, "part-link", parts[1])
			click(t, recipient, "part-open")
			waitFor(t, recipient, visible("revealed")+" || "+visible("error"))
			state(recipient, "secret-files")
			b.openGroup(t, sender, withLocale(split))
			counted(sender, "group-state", "groupParts", 3)
			state(sender, "group-split")

			b.navigate(t, sender, b.srv.base+"/"+q)
			waitFor(t, sender, `!document.getElementById("create").disabled`)
			setField(t, sender, "secret", "for three")
			eval[bool](t, sender, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
			click(t, sender, "shape-many")
			click(t, sender, "create")
			waitFor(t, sender, visible("result"))
			counted(sender, "result-title", "resultLinks", 3)
			state(sender, "result-many")
			links := eval[[]string](t, sender, `Array.from(document.querySelectorAll("#link-list textarea")).map(function (e) { return e.value; })`)
			group := eval[string](t, sender, `document.getElementById("receipt-link").value`)
			b.openLink(t, recipient, withLocale(links[0]))
			pressReveal(t, recipient, "")
			b.openLink(t, recipient, withLocale(links[0]))
			state(recipient, "secret-gone")
			b.openGroup(t, sender, withLocale(group))
			waitFor(t, sender, `!document.querySelector("#link-1 .notice.alert").hidden`)
			eval[bool](t, sender, `(document.querySelector("#link-2 button.danger").click(), true)`)
			waitFor(t, sender, visible("burn-form"))
			state(sender, "group-confirm")
			click(t, sender, "burn-confirm")
			waitFor(t, sender, visible("burned-note"))
			counted(sender, "burned-note", "burnedLinks", 1)
			counted(sender, "group-state", "groupLinks", 3)
			state(sender, "group")

			b.navigate(t, recipient, b.srv.base+"/combine"+q)
			waitFor(t, recipient, visible("parts"))
			state(recipient, "combine")

			b.navigate(t, requester, b.srv.base+"/ask"+q)
			waitFor(t, requester, `!document.getElementById("ask").disabled`)
			state(requester, "ask")
			click(t, requester, "ask")
			waitFor(t, requester, visible("result"))
			state(requester, "ask-result")
			request := eval[string](t, requester, `document.getElementById("request-link").value`)
			inbox := eval[string](t, requester, `document.getElementById("inbox-link").value`)
			b.navigate(t, requester, withLocale(inbox))
			waitFor(t, requester, visible("inbox"))
			state(requester, "inbox-waiting")
			b.navigate(t, recipient, withLocale(request))
			waitFor(t, recipient, visible("answer-form"))
			setField(t, recipient, "secret", "the answer")
			waitFor(t, recipient, `!document.getElementById("add-files").hidden`)
			setFiles(t, recipient, keyPath)
			waitFor(t, recipient, `document.querySelectorAll("#file-list li").length === 1`)
			state(recipient, "request")
			click(t, recipient, "send")
			waitFor(t, recipient, visible("sent"))
			state(recipient, "request-sent")
			blank(t, recipient)
			b.navigate(t, recipient, withLocale(request))
			waitFor(t, recipient, visible("closed"))
			state(recipient, "request-closed")
			waitFor(t, requester, visible("read-area"))
			state(requester, "inbox-answered")
			click(t, requester, "read")
			waitFor(t, requester, visible("revealed"))
			state(requester, "inbox-read")
		})
	}
}

// countedForm matches a plural text with its placeholders filled in.
func countedForm(text string) *regexp.Regexp {
	parts := regexp.MustCompile(`\{[a-zA-Z]+\}`).Split(text, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".+?") + "$")
}

// browserBeyondToken: where creating needs a token, the group of several
// links and a request are made with the one the sender typed (kept for
// the tab), and a tab without one is told where to give it.
func (b *browserEnv) browserBeyondToken(t *testing.T) {
	token := "tok-" + strings.Repeat("g", 20)
	srv := startScanServer(t, "--create-token", "alice:"+token)
	ctx := b.tab(t)
	b.navigate(t, ctx, srv.base+"/")
	until(t, ctx, visible("token-form"))
	setField(t, ctx, "token-user", "alice")
	setField(t, ctx, "token-secret", token)
	click(t, ctx, "token-submit")
	until(t, ctx, visible("create-form"))
	setField(t, ctx, "secret", "with a token, twice")
	eval[bool](t, ctx, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
	click(t, ctx, "shape-many")
	setField(t, ctx, "links-n", "2")
	click(t, ctx, "create")
	until(t, ctx, visible("result")+" || "+visible("error"))
	if got := eval[int](t, ctx, `document.querySelectorAll("#link-list textarea").length`); got != 2 {
		t.Fatalf("two links with a token: %d (%s)", got, errorNow(t, ctx))
	}
	var group string
	for _, f := range fetches(t, ctx) {
		if strings.HasPrefix(f, "POST /api/otslite/group ") {
			group = f
		}
	}
	if !strings.Contains(group, "[auth]") {
		t.Errorf("the group was made without the token: %q", group)
	}
	// The request, in the same tab: the token kept for it goes along.
	b.navigate(t, ctx, srv.base+"/ask")
	until(t, ctx, `!document.getElementById("ask").disabled`)
	click(t, ctx, "ask")
	until(t, ctx, visible("result")+" || "+visible("error"))
	if !eval[bool](t, ctx, visible("result")) {
		t.Errorf("a request with the tab's token: %s", errorNow(t, ctx))
	}
	// Another tab has none.
	other := b.tab(t)
	b.navigate(t, other, srv.base+"/ask")
	until(t, other, `!document.getElementById("ask").disabled`)
	click(t, other, "ask")
	until(t, other, visible("error"))
	if msg := errorNow(t, other); !strings.Contains(msg, "Enter it on the start page first") {
		t.Errorf("a request without a token: %q", msg)
	}
	noProblems(t, ctx)
}

// browserGroupRefused: when the server refuses the group after its links
// were stored (here its rate limit, which counts the group once more),
// the page burns every link it stored, so none waits for anyone, and says
// why.
func (b *browserEnv) browserGroupRefused(t *testing.T) {
	srv := startScanServer(t, "--rate-limit", "3", "--rate-window", "20m")
	ctx := b.tab(t)
	var mu sync.Mutex
	var keys []string
	intercept(t, ctx, rule{re: regexp.MustCompile(`/api/v1/share$`), edit: func(m map[string]any) {
		if k, ok := m["secret_key"].(string); ok {
			mu.Lock()
			keys = append(keys, k)
			mu.Unlock()
		}
	}})
	b.navigate(t, ctx, srv.base+"/")
	until(t, ctx, `!document.getElementById("create").disabled`)
	setField(t, ctx, "secret", "never grouped")
	eval[bool](t, ctx, `(function(){ document.getElementById("shape-box").open = true; return true; })()`)
	click(t, ctx, "shape-many")
	setField(t, ctx, "links-n", "3")
	click(t, ctx, "create")
	until(t, ctx, visible("error")+` && document.getElementById("create-form").getAttribute("aria-busy") !== "true"`)
	if msg := errorNow(t, ctx); !strings.HasPrefix(msg, "Too many requests from your address.") {
		t.Errorf("a refused group: %q", msg)
	}
	var shares, burns int
	for _, f := range fetches(t, ctx) {
		switch {
		case strings.HasPrefix(f, "POST /api/v1/share "):
			shares++
		case strings.HasPrefix(f, "POST /api/v1/receipt/") && strings.Contains(f, "/burn"):
			burns++
		}
	}
	if shares != 3 || burns != 3 || eval[bool](t, ctx, visible("result")) {
		t.Errorf("%d links stored, %d burned, result shown %v", shares, burns, eval[bool](t, ctx, visible("result")))
	}
	// None of them waits on the server.
	mu.Lock()
	defer mu.Unlock()
	if len(keys) != 3 {
		t.Fatalf("%d secret keys seen", len(keys))
	}
	for _, k := range keys {
		resp, err := http.Get(srv.base + "/api/otslite/secret/" + k)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("a link of the refused group still waits: %s", k)
		}
	}
	noProblems(t, ctx)
}

// browserBadBundlesOnPage: a secret whose bundle no reader takes (another
// version, a file name with a path, sizes that do not add up), sealed and
// stored as a browser would, is refused on the secret page in words that
// say why, and nothing of it is offered for download.
func (b *browserEnv) browserBadBundlesOnPage(t *testing.T) {
	v, _ := loadBeyondVectors(t)
	sender, recipient := b.tab(t), b.tab(t)
	b.navigate(t, sender, b.srv.base+"/combine")
	for _, tc := range []struct{ name, plain, want string }{
		{"version", "0002" + v.Bundle.Plain[4:], "made by a newer version of otslite"},
		{"name", hex.EncodeToString(mustBundleJSON(`{"text":0,"files":[{"name":"../etc/passwd","type":"","size":1}]}`, "x")), "a file whose name is not allowed"},
		{"sizes", v.Bundle.Plain + "00", "its contents are damaged"},
	} {
		link := eval[string](t, sender, `(function () {
			var H = `+hexJS+`;
			return otsliteZK.sealBytes(H(`+jsString(tc.plain)+`), "").then(function (s) {
				return fetch("/api/v1/share", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ secret: s.envelope, passphrase: s.proof }) })
					.then(function (r) { return r.json(); }).then(function (d) { return location.origin + "/secret/" + d.secret_key + "#" + s.fragment; });
			});
		})()`)
		b.openLink(t, recipient, link)
		revealFull(t, recipient)
		if msg := errorNow(t, recipient); !strings.Contains(msg, tc.want) || eval[bool](t, recipient, visible("revealed")) || eval[bool](t, recipient, visible("files-out")) {
			t.Errorf("%s: the page says %q (revealed shown: %v)", tc.name, msg, eval[bool](t, recipient, visible("revealed")))
		}
	}
}
