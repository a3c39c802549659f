package main

// The browser tests: the release binary (built as the Dockerfile builds it),
// driven through its web UI in a real headless Chromium over the DevTools
// protocol. They need Debian's chromium; zbarimg (zbar-tools) to decode QR
// codes; and npm, to fetch axe-core for the accessibility audits (or
// OTSLITE_AXE naming an axe.min.js). Outside CI a missing tool skips what
// needs it, saying why; under CI (CI=true) it fails.
//
// Screenshots of every page and state, at phone and desktop sizes, light
// and dark, in English, French, Korean, Arabic and Hebrew, and at phone size
// in every language, go to $OTSLITE_ARTIFACTS (default: a new temporary
// directory, logged).

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeVersion is the axe-core release the audits run.
const axeVersion = "4.14.1"

// inCI reports whether the tests run under CI, where nothing may be skipped.
func inCI() bool { return os.Getenv("CI") != "" }

// need skips (outside CI) or fails (in CI) when a tool is missing.
func need(tb testing.TB, err error, what string) {
	tb.Helper()
	if err == nil {
		return
	}
	if inCI() {
		tb.Fatalf("%s is required under CI: %v", what, err)
	}
	skip(tb, fmt.Sprintf("%s is not available (%v); .ci/run installs it", what, err))
}

type browserEnv struct {
	root      context.Context // the browser; each tab is a child
	pid       int             // the browser's process, which this test started
	srv       *scanServer
	artifacts string
	axeOnce   sync.Once
	axe       string
	axeErr    error
}

// MustOpenBrowser starts the release binary and a headless Chromium.
func MustOpenBrowser(t *testing.T) *browserEnv {
	t.Helper()
	var exe string
	var err error
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if exe, err = exec.LookPath(name); err == nil {
			break
		}
	}
	need(t, err, "Chromium")
	artifacts := os.Getenv("OTSLITE_ARTIFACTS")
	if artifacts == "" {
		if artifacts, err = os.MkdirTemp("", "otslite-browser-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots and other artifacts: %s", artifacts)

	srv := startScanServer(t, "--max-ttl", "7d")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		// insecureHost names the test server over plain HTTP the way a
		// LAN address would (not a secure context); the browser must not
		// try HTTPS first.
		chromedp.Flag("host-resolver-rules", "MAP "+insecureHost+" 127.0.0.1, MAP "+foreignHost+" 127.0.0.1"),
		chromedp.Flag("disable-features", "Translate,BlinkGenPropertyTrees,HttpsUpgrades,HttpsFirstBalancedModeAutoEnable"),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	if err := chromedp.Do(root, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	proc := chromedp.FromContext(root).Browser.Process()
	if proc == nil {
		t.Fatal("Chromium started without a process of its own")
	}
	return &browserEnv{root: root, pid: proc.Pid, srv: srv, artifacts: artifacts}
}

// insecureHost is a name the browser resolves to 127.0.0.1 (see
// MustOpenBrowser): pages served under it are not a secure context, as over
// plain HTTP to another machine.
const insecureHost = "otslite.test"

// foreignHost is another name for 127.0.0.1 that no test server is
// configured to answer to (it gets 421).
const foreignHost = "elsewhere.test"

// watchScript records, from before any page script runs, uncaught errors
// and CSP violations, so every step can check there were none, and every
// request the page makes with fetch ("METHOD path [auth] body").
const watchScript = `window.__otsliteProblems = [];
window.addEventListener("error", function (e) { window.__otsliteProblems.push("error: " + e.message); });
window.addEventListener("unhandledrejection", function (e) { window.__otsliteProblems.push("rejection: " + e.reason); });
document.addEventListener("securitypolicyviolation", function (e) { window.__otsliteProblems.push("CSP: " + e.violatedDirective + " " + e.blockedURI); });
window.__otsliteFetches = [];
(function () {
	var f = window.fetch;
	window.fetch = function (u, init) {
		init = init || {};
		window.__otsliteFetches.push((init.method || "GET") + " " + u + (init.headers && init.headers.Authorization ? " [auth]" : "") + (init.body ? " " + String(init.body) : ""));
		return f.apply(this, arguments);
	};
})();`

// tab opens a tab in a fresh browser context: no storage shared with any
// other tab, as a recipient on another machine would be.
func (b *browserEnv) tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchScript})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatalf("new tab: %v", err)
	}
	return ctx
}

// eval runs JavaScript in the page (awaiting a promise) and decodes the
// result.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.100q: %v", expr, err)
	}
	return v
}

// until waits for a JavaScript condition, at most a minute. It keeps
// asking across navigations (a page being replaced cannot answer).
func until(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waiting for %q: timed out (last error %v; page: %s)", cond, err, pageState(ctx))
}

// pageState describes what a page shows, for failure messages.
func pageState(ctx context.Context) string {
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + " | " + Array.from(document.querySelectorAll("main > :not([hidden])")).map(e => e.id || e.tagName).join(",") + " | error: " + (document.getElementById("error") || {}).textContent`))
	return s
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func (b *browserEnv) navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	until(t, ctx, `document.readyState === "complete" && !!window.otslite`)
}

// noProblems fails on any uncaught error or CSP violation seen so far.
func noProblems(t *testing.T, ctx context.Context) {
	t.Helper()
	if p := eval[[]string](t, ctx, `window.__otsliteProblems || []`); len(p) > 0 {
		t.Errorf("page %s reported: %q", pageState(ctx), p)
	}
}

func click(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID(id))); err != nil {
		t.Fatalf("click #%s: %v (page: %s)", id, err, pageState(ctx))
	}
}

// setField fills a field the fast way (a 50 KB secret typed key by key
// takes minutes) and tells the page, as typing would.
func setField(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	eval[bool](t, ctx, `(function(){ var f = document.getElementById(`+jsString(id)+`); f.value = `+jsString(value)+`; f.dispatchEvent(new Event("input", {bubbles: true})); return true; })()`)
}

func visible(id string) string {
	return `(function(){ var e = document.getElementById(` + jsString(id) + `); return !!e && !e.hidden && e.getClientRects().length > 0; })()`
}

// created is what the result page shows.
type created struct{ link, receipt string }

// create shares text (with a passphrase unless pass is "") through the
// create page and returns the links it shows.
func (b *browserEnv) create(t *testing.T, ctx context.Context, text, pass string) created {
	t.Helper()
	b.navigate(t, ctx, b.srv.base+"/")
	until(t, ctx, `!document.getElementById("create").disabled`)
	setField(t, ctx, "secret", text)
	if pass != "" {
		setField(t, ctx, "passphrase", pass)
	}
	click(t, ctx, "create")
	until(t, ctx, visible("result")+` || `+visible("error"))
	if msg := eval[string](t, ctx, `document.getElementById("result").hidden ? document.getElementById("error").textContent : ""`); msg != "" {
		t.Fatalf("create failed: %s", msg)
	}
	noProblems(t, ctx)
	return created{
		link:    eval[string](t, ctx, `document.getElementById("share-link").value`),
		receipt: eval[string](t, ctx, `document.getElementById("receipt-link").value`),
	}
}

// revealResult is how a reveal attempt ended.
type revealResult struct {
	value, error string
	gone         bool
}

// openLink opens a secret link and waits until the page knows what it is.
// It leaves the current page first: a link that differs from the current
// address only after "#" would not load a new page.
func (b *browserEnv) openLink(t *testing.T, ctx context.Context, link string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	b.navigate(t, ctx, link)
	until(t, ctx, visible("waiting")+` || `+visible("gone")+` || `+visible("error")+` || `+visible("incomplete"))
}

// pressReveal types pass (if any) and presses Reveal on an open secret page.
func pressReveal(t *testing.T, ctx context.Context, pass string) revealResult {
	t.Helper()
	eval[bool](t, ctx, `(function(){ var e = document.getElementById("error"); e.textContent = ""; e.hidden = true; return true; })()`)
	if pass != "" {
		setField(t, ctx, "passphrase", pass)
	}
	click(t, ctx, "reveal")
	until(t, ctx, `(`+visible("revealed")+` || `+visible("gone")+` || `+visible("error")+`) && document.getElementById("reveal-form").getAttribute("aria-busy") !== "true"`)
	noProblems(t, ctx)
	return revealResult{
		value: eval[string](t, ctx, `document.getElementById("revealed").hidden ? "" : document.getElementById("value").value`),
		error: eval[string](t, ctx, `document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`),
		gone:  eval[bool](t, ctx, visible("gone")),
	}
}

// secretKeyOf returns the secret key in a link.
func secretKeyOf(t *testing.T, link string) string {
	t.Helper()
	m := regexp.MustCompile(`/secret/([0-9a-z]+)(#.*)?$`).FindStringSubmatch(link)
	if m == nil {
		t.Fatalf("not a secret link: %q", link)
	}
	return m[1]
}

// peek asks the server, without consuming, whether a secret waits.
func (b *browserEnv) peek(t *testing.T, key string) int {
	t.Helper()
	resp, err := http.Get(b.srv.base + "/api/otslite/secret/" + key)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 404 {
		if s := resp.Header.Get("X-OTS-Intended-Status"); s != "" {
			n, _ := strconv.Atoi(s)
			return n
		}
	}
	return resp.StatusCode
}

// bigUnicodeText is about n bytes of multi-line text in several scripts,
// with the characters JSON and forms escape.
func bigUnicodeText(n int) string {
	lines := []string{
		`Line "one" \ with <tags> & ampersands	and a tab`,
		"Français : déjà vu, œuvre, naïve — «guillemets»",
		"한국어: 비밀은 한 번만 열립니다 🔐",
		"日本語：秘密は一度だけ開けます。中文：秘密只能打开一次。",
		"Emoji 😀👍🏽 and math ∑∫√ and a zero-width joiner 👩‍💻",
		"",
	}
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%05d %s\n", i, lines[i%len(lines)])
	}
	return b.String()
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		skip(t, "browser tests are not short (-short)")
	}
	// Mostly waiting on Chromium and the server: it overlaps well with the
	// package's other long tests.
	t.Parallel()
	b := MustOpenBrowser(t)

	t.Run("ShareOpenRevealGone", func(t *testing.T) {
		sender, recipient := b.tab(t), b.tab(t)
		text := bigUnicodeText(50_000)
		c := b.create(t, sender, text, "")
		if !regexp.MustCompile(`^http://127\.0\.0\.1:\d+/secret/[0-9a-z]{20,}#1n[A-Za-z0-9_-]{43}$`).MatchString(c.link) {
			t.Errorf("share link %q is not a zero-knowledge link", c.link)
		}
		if !strings.Contains(c.receipt, "/receipt/") || strings.Contains(c.receipt, secretKeyOf(t, c.link)) {
			t.Errorf("receipt link %q", c.receipt)
		}
		b.openLink(t, recipient, c.link)
		if !eval[bool](t, recipient, visible("waiting")) || eval[bool](t, recipient, visible("passphrase-field")) {
			t.Fatalf("secret page shows %s, want a waiting secret without passphrase", pageState(recipient))
		}
		r := pressReveal(t, recipient, "")
		if r.value != text {
			t.Fatalf("revealed %d bytes (error %q), want the %d bytes sent", len(r.value), r.error, len(text))
		}
		if !eval[bool](t, recipient, `document.activeElement.id === "value"`) {
			t.Error("focus did not move to the revealed secret")
		}
		if n := eval[int](t, recipient, `document.querySelectorAll("#revealed h2, #revealed h3").length`); n != 0 {
			t.Errorf("the revealed secret has %d headings; its label names it", n)
		}
		b.openLink(t, recipient, c.link)
		if !eval[bool](t, recipient, visible("gone")) {
			t.Errorf("second visit shows %s, want gone", pageState(recipient))
		}
		// One text for every way a secret is gone: opened, burned,
		// expired, never made; it says someone else may have opened it,
		// and that the sender can see when.
		gone := eval[string](t, recipient, `document.getElementById("gone").innerText`)
		for _, want := range []string{"already opened, burned, expired, or never existed", "someone else may have", "receipt shows when it was opened"} {
			if !strings.Contains(gone, want) {
				t.Errorf("the gone page says %q, lacking %q", gone, want)
			}
		}
		// Nothing is kept in either browser but the tab's own choices (a
		// create token too, where the server asks for one: not here).
		for _, ctx := range []context.Context{sender, recipient} {
			kept := eval[[]string](t, ctx, `[document.cookie, String(localStorage.length), Object.keys(sessionStorage).filter(function (k) { return k !== "otslite.theme" && k !== "otslite.locale"; }).join(",")]`)
			if kept[0] != "" || kept[1] != "0" || kept[2] != "" {
				t.Errorf("browser keeps cookies %q, %s localStorage items, sessionStorage %q", kept[0], kept[1], kept[2])
			}
		}
	})

	t.Run("ExpiryChoices", func(t *testing.T) {
		// One hour unless the server allows less; never more than it
		// allows, whether by --max-ttl or by the end of its session.
		for _, tc := range []struct {
			args     []string
			want     []string
			selected string
		}{
			{nil, []string{"300", "3600", "14400", "86400", "259200", "604800"}, "3600"},
			{[]string{"--max-ttl", "90m"}, []string{"300", "3600", "5400"}, "3600"},
			{[]string{"--max-ttl", "30m", "--default-ttl", "5m"}, []string{"300", "1800"}, "1800"},
			{[]string{"--lifetime", "10m", "--default-ttl", "5m"}, []string{"300", "599"}, "599"},
		} {
			srv := b.srv
			if tc.args != nil {
				srv = startScanServer(t, tc.args...)
			}
			ctx := b.tab(t)
			b.navigate(t, ctx, srv.base+"/")
			until(t, ctx, `!document.getElementById("create").disabled`)
			got := eval[[]string](t, ctx, `Array.from(document.getElementById("ttl").options).map(function (o) { return o.value; })`)
			sel := eval[string](t, ctx, `document.getElementById("ttl").value`)
			// A session's end moves while the test runs (from the server's
			// start to the page's request for its settings): allow up to
			// 20 seconds on a loaded machine.
			if n, err := strconv.Atoi(got[len(got)-1]); err == nil && len(got) == len(tc.want) && tc.args != nil && tc.args[0] == "--lifetime" && n >= 580 && n < 599 && sel == got[len(got)-1] {
				got[1], sel = "599", "599"
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") || sel != tc.selected {
				t.Errorf("%v: choices %v (selected %s), want %v (selected %s)", tc.args, got, sel, tc.want, tc.selected)
			}
		}
	})

	t.Run("Passphrase", func(t *testing.T) {
		sender, recipient := b.tab(t), b.tab(t)
		c := b.create(t, sender, "behind a passphrase", "correct horse")
		if !strings.Contains(c.link, "#1p") || !eval[bool](t, sender, visible("share-passphrase")) {
			t.Errorf("link %q, passphrase note shown %v", c.link, eval[bool](t, sender, visible("share-passphrase")))
		}
		b.openLink(t, recipient, c.link)
		if !eval[bool](t, recipient, visible("passphrase-field")) {
			t.Fatal("no passphrase field")
		}
		r := pressReveal(t, recipient, "wrong horse")
		if r.value != "" || r.gone || !strings.Contains(r.error, "passphrase did not work") {
			t.Fatalf("wrong passphrase gave %+v", r)
		}
		r = pressReveal(t, recipient, "correct horse")
		if r.value != "behind a passphrase" {
			t.Fatalf("right passphrase gave %+v", r)
		}
	})

	t.Run("Lockout", func(t *testing.T) {
		sender, recipient := b.tab(t), b.tab(t)
		c := b.create(t, sender, "locked away", "the real one")
		b.openLink(t, recipient, c.link)
		for i := range 5 {
			if r := pressReveal(t, recipient, fmt.Sprintf("guess %d", i)); !strings.Contains(r.error, "passphrase did not work") {
				t.Fatalf("guess %d: %+v", i, r)
			}
		}
		// The next try is refused: the page says until when, and Reveal
		// stays off until then.
		setField(t, recipient, "passphrase", "the real one")
		click(t, recipient, "reveal")
		until(t, recipient, visible("locked"))
		locked := eval[string](t, recipient, `document.getElementById("locked").textContent`)
		if !regexp.MustCompile(`locked until .+ \(in (29|30) minutes\)\. It is still there\.`).MatchString(locked) ||
			!eval[bool](t, recipient, `document.getElementById("reveal").disabled`) || eval[bool](t, recipient, visible("revealed")) {
			t.Fatalf("after 5 wrong guesses the page shows %q (Reveal disabled: %v)", locked, eval[bool](t, recipient, `document.getElementById("reveal").disabled`))
		}
		b.shot(t, recipient, "en-secret-locked")
		if got := b.peek(t, secretKeyOf(t, c.link)); got != 200 {
			t.Errorf("locked secret: peek says %d, want it still waiting", got)
		}
	})

	t.Run("BurnFromReceipt", func(t *testing.T) {
		sender, recipient := b.tab(t), b.tab(t)
		c := b.create(t, sender, "to be burned", "")
		b.navigate(t, sender, c.receipt)
		until(t, sender, visible("receipt"))
		if got := eval[string](t, sender, `document.getElementById("share-link").value`); got != c.link {
			t.Errorf("receipt page rebuilds the link as %q, want %q", got, c.link)
		}
		click(t, sender, "burn-start")
		until(t, sender, visible("burn-form"))
		if eval[bool](t, sender, visible("burn-passphrase-field")) {
			t.Error("burn asks for a passphrase the secret does not have")
		}
		click(t, sender, "burn-confirm")
		until(t, sender, visible("burned-note"))
		if s := eval[string](t, sender, `document.getElementById("state-text").textContent`); !strings.HasPrefix(s, "Burned") {
			t.Errorf("state after burn: %q", s)
		}
		noProblems(t, sender)
		b.openLink(t, recipient, c.link)
		if !eval[bool](t, recipient, visible("gone")) {
			t.Errorf("burned link shows %s", pageState(recipient))
		}
	})

	t.Run("BurnWithPassphrase", func(t *testing.T) {
		// A browser-made secret with a passphrase. A server that knows
		// proofs burns it on the receipt key alone, and the page asks for
		// nothing; one that does not needs the proof, so the page asks for
		// the passphrase and refuses a wrong one.
		sender := b.tab(t)
		c := b.create(t, sender, "burn me with a passphrase", "burn phrase")
		proofs := b.serverKnowsProofs(t, secretKeyOf(t, c.link))
		b.navigate(t, sender, c.receipt)
		until(t, sender, visible("receipt"))
		click(t, sender, "burn-start")
		until(t, sender, visible("burn-form"))
		if asks := eval[bool](t, sender, visible("burn-passphrase-field")); asks == proofs {
			t.Fatalf("server knows proofs: %v; burn asks for the passphrase: %v", proofs, asks)
		}
		if !proofs {
			setField(t, sender, "burn-passphrase", "not it")
			click(t, sender, "burn-confirm")
			until(t, sender, visible("error")+` && document.getElementById("burn-form").getAttribute("aria-busy") !== "true"`)
			setField(t, sender, "burn-passphrase", "burn phrase")
		}
		click(t, sender, "burn-confirm")
		until(t, sender, visible("burned-note"))
		if got := b.peek(t, secretKeyOf(t, c.link)); got != 404 {
			t.Errorf("burned secret: peek says %d", got)
		}
	})

	t.Run("LinkPreviewDoesNotConsume", func(t *testing.T) {
		sender, recipient := b.tab(t), b.tab(t)
		c := b.create(t, sender, "previewed but not burned", "")
		// What a chat app's link preview or a mail scanner does: GET and
		// HEAD on the link (without the fragment, which never leaves a
		// browser), following redirects, reading the whole body.
		for _, method := range []string{"GET", "HEAD", "GET"} {
			req, _ := http.NewRequest(method, strings.SplitN(c.link, "#", 2)[0], nil)
			req.Header.Set("User-Agent", "Mozilla/5.0 (compatible; LinkPreview/1.0)")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || bytes.Contains(body, []byte("previewed but not burned")) {
				t.Fatalf("%s: %d, body holds the secret: %v", method, resp.StatusCode, bytes.Contains(body, []byte("previewed")))
			}
		}
		// A page load without the fragment does not consume it either.
		b.openLink(t, recipient, strings.SplitN(c.link, "#", 2)[0])
		if eval[bool](t, recipient, visible("waiting")) {
			if r := pressReveal(t, recipient, "anything"); r.value != "" || r.gone {
				t.Fatalf("link without its key revealed %+v", r)
			}
		}
		b.openLink(t, recipient, c.link)
		if r := pressReveal(t, recipient, ""); r.value != "previewed but not burned" {
			t.Fatalf("after previews: %+v", r)
		}
	})

	t.Run("DamagedLink", func(t *testing.T) {
		sender, recipient := b.tab(t), b.tab(t)
		c := b.create(t, sender, "kept safe from a bad link", "")
		b.openLink(t, recipient, c.link[:len(c.link)-5])
		if msg := eval[string](t, recipient, `document.getElementById("incomplete").innerText`); !strings.Contains(msg, "This link is incomplete.") || eval[bool](t, recipient, visible("waiting")) {
			t.Errorf("damaged link: %s", pageState(recipient))
		}
		// A key of the right shape that is not this secret's: the server
		// refuses the proof, and the page says the link is damaged.
		other := c.link[:len(c.link)-43] + "A" + c.link[len(c.link)-42:]
		if other == c.link {
			other = c.link[:len(c.link)-43] + "B" + c.link[len(c.link)-42:]
		}
		b.openLink(t, recipient, other)
		if eval[bool](t, recipient, visible("waiting")) {
			click(t, recipient, "reveal")
			until(t, recipient, visible("incomplete")+" || "+visible("revealed")+" || "+visible("gone"))
		}
		if !eval[bool](t, recipient, visible("incomplete")) {
			t.Errorf("a wrong key: %s", pageState(recipient))
		}
		if got := b.peek(t, secretKeyOf(t, c.link)); got != 200 {
			t.Errorf("after a damaged link the secret is %d, want still waiting", got)
		}
	})

	t.Run("APISecretOpensInPage", func(t *testing.T) {
		recipient := b.tab(t)
		r := b.srv.call(t, http.DefaultClient, "/api/v1/share", "application/x-www-form-urlencoded", "secret=from+the+API%0Atwo+lines&passphrase=api+phrase")
		b.openLink(t, recipient, b.srv.base+"/secret/"+r["secret_key"].(string))
		if got := pressReveal(t, recipient, "api phrase"); got.value != "from the API\ntwo lines" {
			t.Fatalf("v1 secret in the page: %+v", got)
		}
	})

	t.Run("Keyboard", func(t *testing.T) {
		ctx := b.tab(t)
		b.navigate(t, ctx, b.srv.base+"/")
		until(t, ctx, `!document.getElementById("create").disabled`)
		// The first Tab reaches the skip link; the form is filled and sent
		// with the keyboard alone.
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, ctx, `document.activeElement.className`); got != "skip" {
			t.Errorf("first Tab focuses %q, want the skip link", got)
		}
		if err := chromedp.Do(ctx,
			chromedp.Focus(chromedp.ID("secret")),
			chromedp.SendKeys(chromedp.ID("secret"), "typed by keyboard"),
			chromedp.KeyEvent("\t"), // to the password generator
			chromedp.KeyEvent("\t"), // to the passphrase
		); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, ctx, `document.activeElement.id`); got != "passphrase" {
			t.Fatalf("Tab order reached %q, want passphrase", got)
		}
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\r")); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, visible("result"))
		if !eval[bool](t, ctx, `document.activeElement.id === "result-title"`) {
			t.Error("focus did not move to the result")
		}
		outline := eval[string](t, ctx, `(function(){ var b = document.querySelector("[data-copy=share-link]"); b.focus(); return getComputedStyle(b).outlineStyle; })()`)
		if outline == "none" {
			t.Error("a focused button shows no outline")
		}
	})

	t.Run("Languages", func(t *testing.T) {
		ctx := b.tab(t)
		setAcceptLanguage(t, ctx, "pt-PT,pt;q=0.9")
		b.navigate(t, ctx, b.srv.base+"/")
		if got := eval[string](t, ctx, `document.documentElement.lang + " " + document.querySelector("h1").textContent`); got != "pt-BR Compartilhar um segredo" {
			t.Errorf("Accept-Language pt-PT gave %q", got)
		}
		for loc, h1 := range map[string]string{"fr": "Partager un secret", "ko": "비밀 공유하기"} {
			b.navigate(t, ctx, b.srv.base+"/?locale="+loc)
			until(t, ctx, `document.getElementById("secret-count").textContent !== ""`)
			got := eval[[]string](t, ctx, `[document.documentElement.lang, document.documentElement.dir, document.querySelector("h1").textContent, document.getElementById("create").textContent, document.getElementById("ttl").selectedOptions[0].textContent]`)
			if got[0] != loc || got[1] != "ltr" || got[2] != h1 || got[3] == "Create a secret link" || got[4] == "1 hour" {
				t.Errorf("%s page: lang, dir, h1, button, expiry = %q", loc, got)
			}
		}
		// The menu's choice outlives the page, in this tab only.
		b.navigate(t, ctx, b.srv.base+"/security")
		eval[bool](t, ctx, `(function(){ document.querySelector("details.lang").open = true; return true; })()`)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`a[data-locale="ko"]`))); err != nil {
			t.Fatal(err)
		}
		until(t, ctx, `document.documentElement.lang === "ko"`)
		b.navigate(t, ctx, b.srv.base+"/")
		until(t, ctx, `document.documentElement.lang === "ko"`)
		if h := eval[string](t, ctx, `document.querySelector("h1").textContent`); h != "비밀 공유하기" {
			t.Errorf("after choosing Korean, the create page says %q", h)
		}
		other := b.tab(t)
		setAcceptLanguage(t, other, "fr")
		b.navigate(t, other, b.srv.base+"/")
		if lang := eval[string](t, other, `document.documentElement.lang`); lang != "fr" {
			t.Errorf("another tab got %q; the choice must stay in its tab", lang)
		}
		// A choice made on a secret link keeps the link's key.
		sender := b.tab(t)
		c := b.create(t, sender, "chosen language", "")
		b.openLink(t, other, c.link)
		href := eval[string](t, other, `document.querySelector('a[data-locale="ja"]').getAttribute("href")`)
		if want := "?locale=ja#" + strings.SplitN(c.link, "#", 2)[1]; href != want {
			t.Errorf("language link on a secret page: %q, want %q", href, want)
		}
	})

	t.Run("DarkMode", func(t *testing.T) {
		ctx := b.tab(t)
		bg := `getComputedStyle(document.body).backgroundColor`
		b.navigate(t, ctx, b.srv.base+"/")
		light := eval[string](t, ctx, bg)
		setColorScheme(t, ctx, "dark")
		dark := eval[string](t, ctx, bg)
		if luminance(t, light) < 0.8 || luminance(t, dark) > 0.1 {
			t.Errorf("backgrounds: light %s, dark %s", light, dark)
		}
		// The toggle follows the system's change (an event, so not at
		// once), and its label says what it does.
		label := `document.querySelector("#theme-toggle .theme-label").textContent`
		until(t, ctx, label+` === "Light theme"`)
		click(t, ctx, "theme-toggle")
		if got := eval[string](t, ctx, bg); got != light {
			t.Errorf("toggle to light: background %s, want %s", got, light)
		}
		if got := eval[string](t, ctx, label); got != "Dark theme" {
			t.Errorf("in the light theme the toggle says %q", got)
		}
		b.navigate(t, ctx, b.srv.base+"/security")
		if got := eval[string](t, ctx, bg); got != light {
			t.Errorf("the toggle's choice did not carry to the next page: %s", got)
		}
		setColorScheme(t, ctx, "")
	})

	t.Run("QRCode", func(t *testing.T) {
		zbar, err := exec.LookPath("zbarimg")
		need(t, err, "zbarimg (zbar-tools)")
		ctx := b.tab(t)
		c := b.create(t, ctx, "scan me", "")
		png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("qr")))
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeQR(t, zbar, png); got != c.link {
			t.Errorf("QR code decodes to %q, want the link %q", got, c.link)
		}
		// Every version the encoder makes (1 to 10), up to its limit.
		for _, n := range []int{1, 14, 26, 42, 62, 84, 106, 122, 152, 180, 213} {
			text := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz#-_/:.", 6)[:n]
			eval[bool](t, ctx, `(function(){ var el = document.getElementById("qr"); return otsliteQR.draw(el, `+jsString(text)+`); })()`)
			png, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.ID("qr")))
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeQR(t, zbar, png); got != text {
				t.Errorf("%d bytes: QR decodes to %q", n, got)
			}
		}
		if eval[bool](t, ctx, `otsliteQR.encode("x".repeat(214)) !== null`) {
			t.Error("214 bytes encoded; the encoder stops at version 10-M (213)")
		}
	})

	t.Run("ScriptUnits", func(t *testing.T) {
		ctx := b.tab(t)
		b.navigate(t, ctx, b.srv.base+"/")
		// Z85's own test vector, then round trips of every short length.
		if got := eval[string](t, ctx, `otsliteZK.base85Encode(new Uint8Array([0x86,0x4F,0xD2,0x6F,0xB5,0x59,0xF7,0x5B]))`); got != "HelloWorld" {
			t.Errorf("base85 of the Z85 vector = %q, want HelloWorld", got)
		}
		bad := eval[[]int](t, ctx, `(function(){
			var bad = [];
			for (var n = 0; n < 64; n++) {
				var b = new Uint8Array(n); crypto.getRandomValues(b);
				if (n % 7 === 0) b.fill(255);
				var s = otsliteZK.base85Encode(b), d = otsliteZK.base85Decode(s);
				var u = otsliteZK.b64urlEncode(b), e = otsliteZK.b64urlDecode(u);
				var ok = d && d.length === n && d.every(function (x, i) { return x === b[i]; }) &&
					e && e.length === n && e.every(function (x, i) { return x === b[i]; }) &&
					/^[0-9a-zA-Z.\-:+=^!\/*?&<>()\[\]{}@%$#]*$/.test(s);
				if (!ok) bad.push(n);
			}
			return bad; })()`)
		if len(bad) > 0 {
			t.Errorf("base85/base64url round trips fail for lengths %v", bad)
		}
		for expr, want := range map[string]bool{
			`otsliteZK.base85Decode("Hello\"orld") === null`:                        true,
			`otsliteZK.base85Decode("HelloW") === null`:                             true,
			`otsliteZK.base85Decode("@(=") === null`:                                true, // not canonical: "@(+" is 0xfecc
			`Array.from(otsliteZK.base85Decode("@(+")).join() === "254,204"`:        true,
			`otsliteZK.parseFragment("#1n" + "A".repeat(43)) !== false`:             true,
			`otsliteZK.parseFragment("#1n" + "A".repeat(42) + "B") === false`:       true, // not canonical
			`otsliteZK.parseFragment("#1x" + "A".repeat(43)) === false`:             true,
			`otsliteZK.parseFragment("#1p" + "A".repeat(42)) === false`:             true,
			`otsliteZK.parseFragment("") === null`:                                  true,
			`otsliteZK.envelopeLength(otsliteZK.maxPlain(65536)) <= 65536`:          true,
			`otsliteZK.envelopeLength(otsliteZK.maxPlain(65536) + 1) > 65536`:       true,
			`otsliteZK.maxPlain(65536) >= 51200`:                                    true,
			`otsliteZK.looksLikeProof("zk1.x") && !otsliteZK.looksLikeProof("zk1")`: true,
			`otsliteZK.unlock(otsliteZK.parseFragment("#1n" + "A".repeat(43)), "").then(function (u) { return /^zk1\.[A-Za-z0-9_-]{43}$/.test(u.proof); })`:                      true,
			`otsliteZK.unlock(otsliteZK.parseFragment("#1p" + "A".repeat(43)), "pw").then(function (u) { return /^zk1\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/.test(u.proof); })`: true,
		} {
			if got := eval[bool](t, ctx, expr); got != want {
				t.Errorf("%s = %v", expr, got)
			}
		}
	})

	t.Run("EnvelopeFormat", func(t *testing.T) {
		// The format the README documents, checked from outside: Go
		// derives the proof and the key from the link and the passphrase,
		// fetches the envelope through the v1 API, and decrypts it.
		ctx := b.tab(t)
		for _, pass := range []string{"", "Ünïcödé pässphrase"} {
			text := "documented format\n" + pass
			c := b.create(t, ctx, text, pass)
			got := openEnvelope(t, b.srv, c.link, pass)
			if got != text {
				t.Errorf("passphrase %q: Go decrypts %q, want %q", pass, got, text)
			}
		}
		// The browser and Go derive the same proof from the same key and
		// passphrase.
		key := make([]byte, 32)
		for i := range key {
			key[i] = byte(7 * i)
		}
		k := base64.RawURLEncoding.EncodeToString(key)
		for _, tc := range []struct{ kind, pass string }{{"n", ""}, {"p", "Ünïcödé pässphrase"}} {
			want, _ := zkProof(t, key, tc.pass)
			got := eval[string](t, ctx, `otsliteZK.unlock(otsliteZK.parseFragment("#1`+tc.kind+k+`"), `+jsString(tc.pass)+`).then(function (u) { return u.proof; })`)
			if got != want {
				t.Errorf("link %s: the browser's proof %q, Go's %q", tc.kind, got, want)
			}
		}
	})

	t.Run("AuditCatchesViolations", func(t *testing.T) {
		// The audit can fail: a nameless button and grey-on-grey text in
		// an otherwise clean page are found.
		ctx := b.tab(t)
		b.navigate(t, ctx, b.srv.base+"/security")
		if found := b.axeFindings(t, ctx); len(found) != 0 {
			t.Fatalf("clean page: %+v", found)
		}
		eval[bool](t, ctx, `(function(){
			document.querySelector("main").appendChild(document.createElement("button"));
			var p = document.createElement("p"); p.textContent = "faint"; p.className = "faint-test";
			p.setAttribute("data-x", ""); document.querySelector("main").appendChild(p);
			p.style.color = "#bbb"; p.style.background = "#ccc";
			return true; })()`)
		ids := map[string]bool{}
		for _, v := range b.axeFindings(t, ctx) {
			ids[v.ID] = true
		}
		if !ids["button-name"] || !ids["color-contrast"] {
			t.Errorf("axe found %v; want button-name and color-contrast", ids)
		}
	})

	t.Run("PagesLookAndAudit", func(t *testing.T) {
		b.pagesLookAndAudit(t)
	})

	t.Run("ServerMessages", b.browserServerMessages)
	t.Run("CreateToken", b.browserCreateToken)
	plain := startPlainServer(t)
	t.Run("PlainHTTP", func(t *testing.T) { b.browserPlainHTTP(t, plain) })
	t.Run("IncompleteLinks", b.browserIncompleteLinks)
	t.Run("LockoutVisible", b.browserLockoutVisible)
	t.Run("ResultPage", b.browserResultPage)
	t.Run("ReceiptUpdates", b.browserReceiptUpdates)
	t.Run("ErrorPages", func(t *testing.T) { b.browserErrorPages(t, plain) })
	t.Run("SmallThings", b.browserSmallThings)
	t.Run("SessionEnd", b.browserSessionEnd)
	t.Run("PluralRules", b.browserPluralRules)
	t.Run("OverflowCheckCatches", b.browserOverflowCheckCatches)
	t.Run("EveryLanguage", b.browserEveryLanguage)
	t.Run("RenderersAreOurs", b.browserRenderersAreOurs)
	t.Run("Formats", b.browserFormats)
	t.Run("Files", b.browserFiles)
	t.Run("SeveralLinks", b.browserSeveralLinks)
	t.Run("Split", b.browserSplit)
	t.Run("Request", b.browserRequest)
	t.Run("LateAttempts", b.browserLateAttempts)
	t.Run("BeyondToken", b.browserBeyondToken)
	t.Run("GroupRefused", b.browserGroupRefused)
	t.Run("BadBundlesOnPage", b.browserBadBundlesOnPage)
	t.Run("BeyondLook", b.browserBeyondLook)
	t.Run("EveryLanguageBeyond", b.browserEveryLanguageBeyond)

	t.Run("ServerNeverSeesPlaintext", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			skip(t, "reads /proc/PID/mem: Linux only")
		}
		if os.Geteuid() != 0 {
			need(t, errors.New("not root"), "root (to read another process's memory)")
		}
		sender, recipient := b.tab(t), b.tab(t)
		var markers []string
		for i, pass := range []string{"", "marker passphrase"} {
			m := marker(t, fmt.Sprintf("zk%d", i))
			markers = append(markers, m)
			c := b.create(t, sender, m+"\n"+m, pass)
			b.openLink(t, recipient, c.link)
			if r := pressReveal(t, recipient, pass); r.value != m+"\n"+m {
				t.Fatalf("revealed %+v", r)
			}
		}
		waiting := marker(t, "zkwaiting")
		markers = append(markers, waiting)
		b.create(t, sender, waiting, "")
		time.Sleep(2 * time.Second) // let idle connections close
		needles := map[string][]byte{}
		for _, m := range markers {
			for form, bytes := range forms(m) {
				needles[m+"/"+form] = bytes
			}
		}
		for name, n := range scanMemory(t, b.srv.cmd.Process.Pid, needles) {
			if n > 0 {
				t.Errorf("server memory holds %s %d times", name, n)
			}
		}
		// The scan finds what is there: the revealed marker is in the
		// recipient's browser.
		found := 0
		for _, pid := range b.renderers(t) {
			counts, err := scanMemoryOf(pid, map[string][]byte{"raw": []byte(markers[1])})
			if errors.Is(err, os.ErrNotExist) {
				continue // a renderer of a tab that has closed since
			}
			if err != nil {
				t.Fatal(err)
			}
			found += counts["raw"]
		}
		if found == 0 {
			t.Error("the revealed marker was not found in the browser either: the scan proves nothing")
		}
		t.Logf("%d markers scanned in the server: none found; %d copies in the browser's renderers", len(markers), found)
	})
}

func setAcceptLanguage(t *testing.T, ctx context.Context, lang string) {
	t.Helper()
	ua := eval[string](t, ctx, `navigator.userAgent`)
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: lang})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setColorScheme emulates the system's prefers-color-scheme ("" resets).
func setColorScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// setViewport sets the page's size, as a phone or a desktop.
func setViewport(t *testing.T, ctx context.Context, width, height int64, mobile bool) {
	t.Helper()
	scale := 1.0
	if mobile {
		scale = 2
	}
	err := chromedp.Do(ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: width, Height: height, DeviceScaleFactor: scale, Mobile: mobile})
		return chromedp.Void{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

var rgbRE = regexp.MustCompile(`rgba?\((\d+), (\d+), (\d+)`)

// luminance is the WCAG relative luminance of a CSS rgb() colour.
func luminance(t *testing.T, css string) float64 {
	t.Helper()
	m := rgbRE.FindStringSubmatch(css)
	if m == nil {
		t.Fatalf("not an rgb colour: %q", css)
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, _ := strconv.Atoi(m[i+1])
		c := float64(v) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l
}

func decodeQR(t *testing.T, zbar string, png []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(f, png, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbar, "--quiet", "--raw", "-Sbinary", f).Output()
	if err != nil {
		t.Fatalf("zbarimg could not decode the QR code: %v", err)
	}
	return strings.TrimSuffix(string(out), "\n")
}

// renderers lists the pids of the renderer processes of the Chromium this
// test started: the processes below it whose command line says
// --type=renderer. Another browser on the machine, and its renderers
// coming and going, are none of its business.
func (b *browserEnv) renderers(t *testing.T) []int {
	t.Helper()
	parents := map[int]int{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		raw, err := os.ReadFile(d)
		if err != nil {
			continue // gone since the listing
		}
		// pid (comm) state ppid ...: comm may hold spaces and ")".
		i := bytes.LastIndexByte(raw, ')')
		f := strings.Fields(string(raw[i+1:]))
		pid, err1 := strconv.Atoi(strings.Split(d, "/")[2])
		ppid, err2 := strconv.Atoi(f[1])
		if i >= 0 && len(f) > 1 && err1 == nil && err2 == nil {
			parents[pid] = ppid
		}
	}
	descends := func(pid int) bool {
		for n := 0; pid > 1 && n < 64; n++ {
			if pid = parents[pid]; pid == b.pid {
				return true
			}
		}
		return false
	}
	var pids []int
	for pid := range parents {
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err == nil && bytes.Contains(cmd, []byte("--type=renderer")) && descends(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// axeSource returns axe-core's browser script: $OTSLITE_AXE, or fetched
// from npm (npm pack, not installed anywhere in the repository).
func (b *browserEnv) axeSource(t *testing.T) string {
	t.Helper()
	b.axeOnce.Do(func() {
		path := os.Getenv("OTSLITE_AXE")
		if path != "" {
			raw, err := os.ReadFile(path)
			b.axe, b.axeErr = string(raw), err
			return
		}
		dir, err := os.MkdirTemp("", "otslite-axe-")
		if err != nil {
			b.axeErr = err
			return
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("npm", "pack", "--silent", "axe-core@"+axeVersion, "--pack-destination", dir)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			b.axeErr = fmt.Errorf("npm pack axe-core@%s: %v: %s", axeVersion, err, out)
			return
		}
		b.axe, b.axeErr = untarFile(filepath.Join(dir, "axe-core-"+axeVersion+".tgz"), "package/axe.min.js")
	})
	need(t, b.axeErr, "axe-core from npm")
	return b.axe
}

func untarFile(tgz, name string) (string, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			return "", fmt.Errorf("%s not in %s: %v", name, tgz, err)
		}
		if h.Name == name {
			raw, err := io.ReadAll(tr)
			return string(raw), err
		}
	}
}

// axeViolation is one serious or critical finding.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// audit runs axe-core in the page (WCAG 2.x A and AA rules, best
// practices) and fails on any serious or critical violation.
func (b *browserEnv) audit(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	for _, v := range b.axeFindings(t, ctx) {
		t.Errorf("%s: axe %s (%s): %s %q", what, v.ID, v.Impact, v.Help, v.Nodes)
	}
}

// axeFindings returns the serious and critical violations axe finds.
func (b *browserEnv) axeFindings(t *testing.T, ctx context.Context) []axeViolation {
	t.Helper()
	if !eval[bool](t, ctx, `typeof axe !== "undefined"`) {
		// Injected through DevTools, so the page's CSP does not apply.
		eval[chromedp.Void](t, ctx, b.axeSource(t)+"\n;0")
	}
	raw := eval[[]byte](t, ctx, `axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}, resultTypes: ["violations"]}).then(function (r) {
		return JSON.stringify(r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; }).map(function (v) {
			return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(function (n) { return n.target.join(" ") + ": " + n.failureSummary; })};
		}));
	})`)
	var s string
	var found []axeViolation
	if err := json.Unmarshal(raw, &s); err != nil || json.Unmarshal([]byte(s), &found) != nil {
		t.Fatalf("axe result: %s", raw)
	}
	return found
}

// shot saves a full-page screenshot as an artifact.
func (b *browserEnv) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.artifacts, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pagesLookAndAudit walks every page and state (create, result, secret
// waiting, revealed, gone and incomplete, receipt waiting and burned,
// security) in English, French, Korean, and right to left in Arabic and
// Hebrew: each state is audited with axe and photographed, in English and
// Arabic at phone and desktop size in light and dark, in the others on a
// dark phone and a light desktop.
func (b *browserEnv) pagesLookAndAudit(t *testing.T) {
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
	shots := 0
	for _, loc := range []string{"en", "fr", "ko", "ar", "he"} {
		looks := looks
		if loc != "en" && loc != "ar" {
			looks = []look{looks[1], looks[2]} // phone dark, desktop light
		}
		sender, recipient := b.tab(t), b.tab(t)
		var current context.Context
		capture := func(state string) {
			t.Helper()
			noProblems(t, current)
			for _, l := range looks {
				setViewport(t, current, l.width, l.height, l.mobile)
				setColorScheme(t, current, l.scheme)
				// Every state is audited in both themes' worst case for
				// contrast in English and, right to left, Arabic; the other
				// languages once.
				if (l.name == "desktop-light" || l.name == "phone-dark") && (loc == "en" || loc == "ar") ||
					l.name == "phone-dark" && loc != "en" && loc != "ar" {
					b.audit(t, current, loc+" "+state+" "+l.name)
				}
				b.shot(t, current, fmt.Sprintf("%s-%s-%s", loc, state, l.name))
				shots++
			}
		}
		q := "?locale=" + loc
		current = sender
		b.navigate(t, sender, b.srv.base+"/"+q)
		until(t, sender, `!document.getElementById("create").disabled`)
		setField(t, sender, "secret", "db password: hunter2\nhost: db.internal")
		setField(t, sender, "passphrase", "a phrase")
		capture("create")
		click(t, sender, "create")
		until(t, sender, visible("result"))
		capture("result")
		link := eval[string](t, sender, `document.getElementById("share-link").value`)
		receipt := eval[string](t, sender, `document.getElementById("receipt-link").value`)
		withLocale := func(u string) string {
			i := strings.Index(u, "#")
			return u[:i] + q + u[i:]
		}

		current = recipient
		b.openLink(t, recipient, withLocale(link))
		capture("secret-waiting")
		setField(t, recipient, "passphrase", "a phrase")
		click(t, recipient, "reveal")
		until(t, recipient, visible("revealed"))
		capture("secret-revealed")
		b.openLink(t, recipient, withLocale(link))
		capture("secret-gone")
		b.openLink(t, recipient, withLocale(link[:len(link)-2]))
		capture("secret-incomplete")

		current = sender
		b.navigate(t, sender, withLocale(receipt))
		until(t, sender, visible("receipt"))
		capture("receipt-opened")
		c := b.create(t, sender, "burn this one", "")
		b.navigate(t, sender, withLocale(c.receipt))
		until(t, sender, visible("receipt"))
		capture("receipt-waiting")
		click(t, sender, "burn-start")
		until(t, sender, visible("burn-form"))
		capture("receipt-confirm")
		click(t, sender, "burn-confirm")
		until(t, sender, visible("burned-note"))
		capture("receipt-burned")

		b.navigate(t, sender, b.srv.base+"/security"+q)
		capture("security")
	}
	t.Logf("%d screenshots in %s", shots, b.artifacts)
}
