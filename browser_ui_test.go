package main

// The browser tests of what the pages tell people: the server's reasons in
// their words, the create token, plain HTTP, cut links, lockouts, the
// result page, the receipt updating itself, error pages, every language
// fitting a phone, right to left, and plural rules. TestBrowser runs them.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"otslite/assets"
)

// serverKnowsProofs reports whether the server tells browser-made secrets
// apart (its peek answers "proof"), as a server with the proof of
// otsz1 version 2 does.
func (b *browserEnv) serverKnowsProofs(t *testing.T, key string) bool {
	t.Helper()
	resp, err := http.Get(b.srv.base + "/api/otslite/secret/" + key)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return m["proof"] == true
}

// rule changes what a tab gets for the requests whose URL matches re:
// edit rewrites the server's JSON answer (the fields other parts of the
// server may add, or have not added yet), or, with no edit, the request is
// answered with status, header and body without reaching the server.
type rule struct {
	re     *regexp.Regexp
	edit   func(m map[string]any)
	status int
	header map[string]string
	body   []byte
}

// intercept applies rules to every request the tab makes from now on. Call
// it once per tab, with every rule the tab needs.
func intercept(t *testing.T, ctx context.Context, rules ...rule) {
	t.Helper()
	var patterns []*fetch.RequestPattern
	stages := map[fetch.RequestStage]bool{}
	for _, r := range rules {
		if r.edit != nil {
			stages[fetch.RequestStageResponse] = true
		} else {
			stages[fetch.RequestStageRequest] = true
		}
	}
	for stage := range stages {
		patterns = append(patterns, &fetch.RequestPattern{URLPattern: "*", RequestStage: stage})
	}
	events := chromedp.Events(ctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: patterns}); err != nil {
		t.Fatalf("intercepting: %v", err)
	}
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			go answerPaused(ctx, ev, rules)
		}
	}()
}

// addScript runs src in the tab's pages before their own scripts.
func addScript(t *testing.T, ctx context.Context, src string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src}); err != nil {
		t.Fatal(err)
	}
}

func answerPaused(ctx context.Context, ev fetch.EventRequestPaused, rules []rule) {
	response := ev.ResponseStatusCode != 0 || ev.ResponseErrorReason != ""
	for _, r := range rules {
		if !r.re.MatchString(ev.Request.URL) {
			continue
		}
		switch {
		case r.edit == nil && !response:
			var hs []*fetch.HeaderEntry
			for k, v := range r.header {
				hs = append(hs, &fetch.HeaderEntry{Name: k, Value: v})
			}
			chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: int64(r.status), ResponseHeaders: hs, Body: r.body})
			return
		case r.edit != nil && response:
			body, err := chromedp.Call(ctx, fetch.GetResponseBody, fetch.GetResponseBodyParams{RequestID: ev.RequestID})
			var m map[string]any
			if err != nil || json.Unmarshal(body.Body, &m) != nil || m == nil {
				break
			}
			r.edit(m)
			raw, _ := json.Marshal(m)
			var hs []*fetch.HeaderEntry
			for _, h := range ev.ResponseHeaders {
				if !strings.EqualFold(h.Name, "Content-Length") {
					hs = append(hs, h)
				}
			}
			chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: ev.ResponseStatusCode, ResponseHeaders: hs, Body: raw})
			return
		}
	}
	chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
}

// fetches lists the requests the page made with fetch (see watchScript).
func fetches(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `window.__otsliteFetches || []`)
}

// errorShown waits for the page's error notice and returns its text.
func errorShown(t *testing.T, ctx context.Context) string {
	t.Helper()
	until(t, ctx, visible("error"))
	return eval[string](t, ctx, `document.getElementById("error").textContent`)
}

// fillCreate fills the create page and presses Create.
func fillCreate(t *testing.T, ctx context.Context, text, pass string) {
	t.Helper()
	until(t, ctx, `!document.getElementById("create").disabled && !document.getElementById("create-form").hidden`)
	setField(t, ctx, "secret", text)
	setField(t, ctx, "passphrase", pass)
	click(t, ctx, "create")
}

// browserServerMessages: each refusal the server can give reads, on the
// page, as what it means, with the values it carries.
func (b *browserEnv) browserServerMessages(t *testing.T) {
	hour := time.Now().UTC().Add(2 * time.Hour).Hour()
	window := fmt.Sprintf("%02d:00-%02d:30", hour, hour)
	for _, tc := range []struct {
		name string
		args []string
		// act drives the page to the refusal and returns the text shown.
		act  func(t *testing.T, srv *scanServer, ctx context.Context) string
		want *regexp.Regexp
	}{
		{"CreateDenied", []string{"--create-allow", "10.0.0.0/8"}, func(t *testing.T, srv *scanServer, ctx context.Context) string {
			b.navigate(t, ctx, srv.base+"/")
			fillCreate(t, ctx, "not from here", "")
			return errorShown(t, ctx)
		}, regexp.MustCompile(`^Creating secrets is not allowed from your address\.$`)},
		{"RevealDenied", []string{"--reveal-allow", "10.0.0.0/8"}, func(t *testing.T, srv *scanServer, ctx context.Context) string {
			r := srv.call(t, http.DefaultClient, "/api/v1/share", "", "secret=elsewhere")
			b.navigate(t, ctx, srv.base+"/secret/"+r["secret_key"].(string))
			return errorShown(t, ctx)
		}, regexp.MustCompile(`^Opening secrets is not allowed from your address\.$`)},
		{"OutsideHours", []string{"--reveal-hours", window + " UTC"}, func(t *testing.T, srv *scanServer, ctx context.Context) string {
			r := srv.call(t, http.DefaultClient, "/api/v1/share", "", "secret=later")
			b.navigate(t, ctx, srv.base+"/secret/"+r["secret_key"].(string))
			return errorShown(t, ctx)
		}, regexp.MustCompile(`^Secrets can be opened only at set hours: .*` + window + `.*\. Next: .+ \(in (1 hour|2 hours)( \d+ minutes?)?\)\.$`)},
		{"TooLarge", []string{"--max-secret-size", "1KiB", "--max-file-size", "0"}, func(t *testing.T, srv *scanServer, ctx context.Context) string {
			// The page checks the size it was told; a server that takes
			// less than it said (settings changed since) is still heard.
			// Files off: with them, the server takes envelopes up to a
			// file's size, and cannot tell a text's from a file's.
			intercept(t, ctx, rule{re: regexp.MustCompile(`/api/otslite/config$`), edit: func(m map[string]any) { m["max_secret_size"] = 65536 }})
			b.navigate(t, ctx, srv.base+"/")
			fillCreate(t, ctx, strings.Repeat("x", 2000), "")
			return errorShown(t, ctx)
		}, regexp.MustCompile(`^The secret is too large for this server \(at most 1,024 bytes\)\.$`)},
		{"RateLimited", []string{"--rate-limit", "1", "--rate-window", "20m"}, func(t *testing.T, srv *scanServer, ctx context.Context) string {
			srv.call(t, http.DefaultClient, "/api/v1/share", "", "secret=first")
			b.navigate(t, ctx, srv.base+"/")
			fillCreate(t, ctx, "second", "")
			return errorShown(t, ctx)
		}, regexp.MustCompile(`^Too many requests from your address\. Try again in \d+ (minutes?|seconds?)\.$`)},
		{"Full", []string{"--max-secrets", "1"}, func(t *testing.T, srv *scanServer, ctx context.Context) string {
			srv.call(t, http.DefaultClient, "/api/v1/share", "", "secret=first")
			b.navigate(t, ctx, srv.base+"/")
			fillCreate(t, ctx, "no room", "")
			return errorShown(t, ctx)
		}, regexp.MustCompile(`^The server is full\. Please try again later\.$`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startScanServer(t, tc.args...)
			ctx := b.tab(t)
			got := tc.act(t, srv, ctx)
			if !tc.want.MatchString(got) {
				t.Errorf("the page says %q, want %s", got, tc.want)
			}
			noProblems(t, ctx)
			b.shot(t, ctx, "en-refused-"+strings.ToLower(tc.name))
		})
	}
	t.Run("Mapping", func(t *testing.T) {
		// The messages of errors.go and policy.go that the runs above do
		// not reach, as the page words them.
		ctx := b.tab(t)
		b.navigate(t, ctx, b.srv.base+"/security")
		for in, want := range map[string]string{
			`{status: 503, message: "Server busy, try again shortly"}`:                                "The server is busy. Please try again shortly.",
			`{status: 503, message: "Server is shutting down"}`:                                       "The server is shutting down.",
			`{status: 401, message: "Not authorized"}`:                                                "This user name and token are not accepted.",
			`{status: 429, message: "Too many failed credentials; try again later", retryAfter: 600}`: "Too many wrong tokens from your address. Try again in 10 minutes.",
			`{status: 429, message: "Apologies dear citizen! You have been rate limited."}`:           "Too many requests from your address. Try again later.",
			`{status: 403, message: "Secrets can be opened Mon-Fri 08:00-18:00 Europe/Paris"}`:        "Secrets can be opened only at set hours: Mon-Fri 08:00-18:00 Europe/Paris.",
			`{status: 400, message: "A passphrase may not begin with zk1."}`:                          "The server refused: A passphrase may not begin with zk1.",
			`{status: 421, message: ""}`:                                                              "This server does not answer at this address. Use the link exactly as you received it.",
			`{status: 0}`:                                                                             "Could not reach the server. Check your connection and try again.",
		} {
			if got := eval[string](t, ctx, `otslite.errorText(`+in+`)`); got != want {
				t.Errorf("errorText(%s) = %q, want %q", in, got, want)
			}
		}
	})
}

// browserCreateToken: with create tokens, the create page asks for one
// before anything else, keeps it for the tab only, and sends it as Basic.
func (b *browserEnv) browserCreateToken(t *testing.T) {
	token := "tok-" + strings.Repeat("k", 20)
	srv := startScanServer(t, "--create-token", "alice:"+token)
	ctx := b.tab(t)
	b.navigate(t, ctx, srv.base+"/")
	until(t, ctx, visible("token-form"))
	if eval[bool](t, ctx, visible("create-form")) || !eval[bool](t, ctx, `document.activeElement.id === "token-user"`) {
		t.Fatalf("the token form is not first: %s", pageState(ctx))
	}
	b.audit(t, ctx, "token form")
	b.shot(t, ctx, "en-create-token")
	setField(t, ctx, "token-user", "alice")
	setField(t, ctx, "token-secret", "wrong-"+strings.Repeat("x", 20))
	click(t, ctx, "token-submit")
	if msg := errorShown(t, ctx); msg != "This user name and token are not accepted." {
		t.Errorf("a wrong token: %q", msg)
	}
	if eval[bool](t, ctx, visible("create-form")) {
		t.Fatal("a wrong token opened the create form")
	}
	setField(t, ctx, "token-secret", token)
	click(t, ctx, "token-submit")
	until(t, ctx, visible("create-form"))
	if got := eval[string](t, ctx, `document.getElementById("token-as-text").textContent`); got != "Creating as alice." {
		t.Errorf("signed-in line: %q", got)
	}
	kept := eval[map[string]string](t, ctx, `Object.fromEntries(Object.keys(sessionStorage).map(function (k) { return [k, sessionStorage.getItem(k)]; }))`)
	if len(kept) != 1 || kept["otslite.token"] != "alice:"+token {
		t.Errorf("sessionStorage holds %v, want only the token", kept)
	}
	if n := eval[int](t, ctx, `localStorage.length + document.cookie.length`); n != 0 {
		t.Errorf("the token reached localStorage or a cookie")
	}
	fillCreate(t, ctx, "made with a token", "")
	until(t, ctx, visible("result"))
	var share string
	for _, f := range fetches(t, ctx) {
		if strings.HasPrefix(f, "POST /api/v1/share") {
			share = f
		}
	}
	if !strings.Contains(share, "[auth]") {
		t.Errorf("the share request carried no credential: %q", share)
	}
	receipt := eval[string](t, ctx, `document.getElementById("receipt-link").value`)
	rkey := regexp.MustCompile(`/receipt/([0-9a-z]+)`).FindStringSubmatch(receipt)[1]
	if r := srv.call(t, http.DefaultClient, "/api/v1/receipt/"+rkey, "", ""); r["custid"] != "alice" {
		t.Errorf("receipt custid %v, want alice", r["custid"])
	}
	// The tab keeps it: a reload goes straight to the form.
	b.navigate(t, ctx, srv.base+"/")
	until(t, ctx, visible("create-form")+` && !document.getElementById("create").disabled`)
	// Forgetting it asks again, and leaves nothing behind.
	click(t, ctx, "token-forget")
	until(t, ctx, visible("token-form"))
	if n := eval[int](t, ctx, `sessionStorage.length`); n != 0 {
		t.Errorf("after forgetting, sessionStorage holds %d items", n)
	}
	// Another tab (another browser context) knows nothing of it.
	other := b.tab(t)
	b.navigate(t, other, srv.base+"/")
	until(t, other, visible("token-form"))
	noProblems(t, ctx)
}

// browserPlainHTTP: over plain HTTP to a name that is not localhost, the
// create page claims no encryption, names the risk, and sends nothing until
// the sender ticks the box.
func (b *browserEnv) browserPlainHTTP(t *testing.T, srv *plainServer) {
	base := srv.public
	ctx := b.tab(t)
	b.navigate(t, ctx, base+"/")
	until(t, ctx, `!document.getElementById("create").disabled`)
	if eval[bool](t, ctx, `window.isSecureContext`) {
		t.Fatalf("%s is a secure context; the test needs one that is not", base)
	}
	text := eval[string](t, ctx, `document.body.innerText`)
	for _, claim := range []string{"Encrypted in this browser", "encrypted in your browser", "never sees your text"} {
		if strings.Contains(text, claim) {
			t.Errorf("over plain HTTP the page claims %q", claim)
		}
	}
	if !eval[bool](t, ctx, visible("insecure")) || !strings.Contains(text, "anyone on the way could read it") {
		t.Errorf("no warning naming the risk: %s", pageState(ctx))
	}
	b.audit(t, ctx, "create over plain HTTP")
	b.shot(t, ctx, "en-create-plain-http")
	fillCreate(t, ctx, "sent in the clear", "")
	if msg := errorShown(t, ctx); !strings.Contains(msg, "Tick the box") {
		t.Errorf("unconfirmed send: %q", msg)
	}
	for _, f := range fetches(t, ctx) {
		if strings.Contains(f, "/api/v1/share") {
			t.Fatalf("sent before the box was ticked: %q", f)
		}
	}
	click(t, ctx, "plain-ok")
	click(t, ctx, "create")
	until(t, ctx, visible("result"))
	link := eval[string](t, ctx, `document.getElementById("share-link").value`)
	if strings.Contains(link, "#") || !strings.HasPrefix(link, base+"/secret/") {
		t.Errorf("plain link %q", link)
	}
	b.openLink(t, ctx, link)
	if r := pressReveal(t, ctx, ""); r.value != "sent in the clear" {
		t.Errorf("plain secret: %+v", r)
	}
}

// plainServer is a server whose public URL is insecureHost: the browser
// reaches it over plain HTTP under a name that is not localhost.
type plainServer struct {
	*scanServer
	public string // http://otslite.test:<port>
}

func startPlainServer(t *testing.T) *plainServer {
	t.Helper()
	addr := freePort(t)
	_, port, _ := strings.Cut(addr, ":")
	public := "http://" + insecureHost + ":" + port
	return &plainServer{startScanServerOn(t, addr, "--public-url", public), public}
}

// browserIncompleteLinks: a browser-made secret's link cut at "#" reads as
// incomplete, on the recipient's page and on the receipt, and the receipt
// burns it without asking for a passphrase. The peek's "proof" comes from a
// server with proof version 2; where the server in use has none yet, the
// test adds it to the peek's answer.
func (b *browserEnv) browserIncompleteLinks(t *testing.T) {
	sender, recipient := b.tab(t), b.tab(t)
	c := b.create(t, sender, "cut at the hash", "a passphrase")
	key := secretKeyOf(t, c.link)
	proofs := b.serverKnowsProofs(t, key)
	addProof := rule{re: regexp.MustCompile(`/api/otslite/secret/`), edit: func(m map[string]any) {
		if _, ok := m["proof"]; !ok {
			m["proof"] = true
		}
	}}
	intercept(t, recipient, addProof)
	intercept(t, sender, addProof)
	b.openLink(t, recipient, strings.SplitN(c.link, "#", 2)[0])
	if !eval[bool](t, recipient, visible("incomplete")) || eval[bool](t, recipient, visible("passphrase-field")) || eval[bool](t, recipient, visible("waiting")) {
		t.Fatalf("cut link: %s", pageState(recipient))
	}
	b.audit(t, recipient, "incomplete link")
	b.shot(t, recipient, "en-secret-incomplete")
	for _, f := range fetches(t, recipient) {
		if strings.HasPrefix(f, "POST") {
			t.Errorf("the cut link sent %q", f)
		}
	}
	b.navigate(t, sender, strings.SplitN(c.receipt, "#", 2)[0])
	until(t, sender, visible("receipt"))
	if !eval[bool](t, sender, visible("share-note")) || eval[bool](t, sender, visible("share")) ||
		!strings.Contains(eval[string](t, sender, `document.getElementById("share-note").innerText`), "This receipt link is incomplete.") {
		t.Errorf("cut receipt: %s", pageState(sender))
	}
	b.shot(t, sender, "en-receipt-incomplete")
	click(t, sender, "burn-start")
	until(t, sender, visible("burn-form"))
	if eval[bool](t, sender, visible("burn-passphrase-field")) {
		t.Error("the cut receipt asks for a passphrase")
	}
	click(t, sender, "burn-confirm")
	until(t, sender, `(`+visible("burned-note")+` || `+visible("error")+`) && document.getElementById("burn-form").getAttribute("aria-busy") !== "true"`)
	var burn string
	for _, f := range fetches(t, sender) {
		if strings.Contains(f, "/burn") {
			burn = f
		}
	}
	if strings.Contains(burn, "passphrase") {
		t.Errorf("burn sent a passphrase: %q", burn)
	}
	if proofs && !eval[bool](t, sender, visible("burned-note")) {
		t.Errorf("the server needs only the receipt key, yet: %s", pageState(sender))
	}
	if !proofs {
		t.Logf("this server has no proof version 2: it refused the burn (%s); the page then asks for the passphrase: %v",
			eval[string](t, sender, `document.getElementById("error").textContent`), eval[bool](t, sender, visible("burn-passphrase-field")))
	}
}

// browserLockoutVisible: the tries left and a lock, from the peek
// ("tries_left", "locked_until") and the receipt's own endpoint
// ("failed_attempts", "last_failed", "locked_until"). Where the server in
// use does not answer them yet, the test adds them to its answers.
func (b *browserEnv) browserLockoutVisible(t *testing.T) {
	sender, recipient := b.tab(t), b.tab(t)
	c := b.create(t, sender, "guarded", "right one")
	lockEnd := time.Now().Add(25 * time.Minute).Unix()
	tries := 3.0
	var mu sync.Mutex
	intercept(t, recipient, rule{re: regexp.MustCompile(`/api/otslite/secret/`), edit: func(m map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		m["proof"] = true
		m["tries_left"] = tries
		if tries == 0 {
			m["locked_until"] = lockEnd
		} else {
			m["locked_until"] = 0
		}
	}})
	b.openLink(t, recipient, c.link)
	waitFor(t, recipient, `document.getElementById("tries").textContent === "3 tries left before the secret locks."`)
	b.shot(t, recipient, "en-secret-tries-left")
	mu.Lock()
	tries = 1
	mu.Unlock()
	if r := pressReveal(t, recipient, "wrong"); !strings.Contains(r.error, "did not work") {
		t.Fatalf("wrong passphrase: %+v", r)
	}
	waitFor(t, recipient, `document.getElementById("tries").textContent === "1 try left before the secret locks."`)
	mu.Lock()
	tries = 0
	mu.Unlock()
	b.openLink(t, recipient, c.link)
	waitFor(t, recipient, visible("locked"))
	if !eval[bool](t, recipient, `document.getElementById("reveal").disabled`) ||
		!regexp.MustCompile(`locked until .+ \(in 2[45] minutes\)`).MatchString(eval[string](t, recipient, `document.getElementById("locked").textContent`)) {
		t.Errorf("locked: %s, %q", pageState(recipient), eval[string](t, recipient, `document.getElementById("locked").textContent`))
	}
	b.audit(t, recipient, "locked secret")
	b.shot(t, recipient, "en-secret-locked-until")

	last := time.Now().Add(-3 * time.Minute).Unix()
	state, _ := json.Marshal(map[string]any{"state": "new", "failed_attempts": 7, "last_failed": last, "locked_until": lockEnd})
	intercept(t, sender, rule{re: regexp.MustCompile(`/api/otslite/receipt/`), status: 200, header: map[string]string{"Content-Type": "application/json"}, body: state})
	b.navigate(t, sender, c.receipt)
	waitFor(t, sender, visible("lock-note"))
	got := eval[string](t, sender, `document.getElementById("attempts").textContent + " | " + document.getElementById("lock-note").textContent`)
	if !regexp.MustCompile(`^7, the last at .+ \| Someone is guessing the passphrase: the secret is locked until .+\. If it is not the recipient, burn the secret\.$`).MatchString(got) {
		t.Errorf("receipt shows %q", got)
	}
	b.audit(t, sender, "receipt with a lock")
	b.shot(t, sender, "en-receipt-locked")
}

// waitFor is until under a name that does not clash with a local variable.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	until(t, ctx, cond)
}

// browserResultPage: the whole link shows, the two links look different,
// Share where the browser has it, the passphrase note, and "Copied." moves
// nothing.
func (b *browserEnv) browserResultPage(t *testing.T) {
	ctx := b.tab(t)
	setViewport(t, ctx, 390, 844, true)
	// This Chromium has no Web Share on Linux: give it one that records.
	addScript(t, ctx, `navigator.share = function (d) { window.__shared = JSON.stringify(d); return Promise.resolve(); };`)
	c := b.create(t, ctx, "a result page", "a phrase")
	wrap := eval[[]int](t, ctx, `(function(){ var e = document.getElementById("share-link"); return [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight, e.value.length]; })()`)
	if wrap[0] > wrap[1] || wrap[2] > wrap[3]+1 || wrap[4] != len(c.link) {
		t.Errorf("the link does not show whole (scroll %dx%d in %dx%d, %d of %d characters)", wrap[0], wrap[2], wrap[1], wrap[3], wrap[4], len(c.link))
	}
	look := eval[[]string](t, ctx, `(function(){
		var a = document.querySelector(".for-recipient"), b = document.querySelector(".private-box");
		return [getComputedStyle(a).backgroundColor, getComputedStyle(b).backgroundColor, getComputedStyle(a).borderInlineStartColor, getComputedStyle(b).borderInlineStartColor, a.querySelector(".tag").textContent, b.querySelector(".tag").textContent];
	})()`)
	if look[0] == look[1] || look[2] == look[3] || look[4] == look[5] {
		t.Errorf("the secret link and the receipt look alike: %q", look)
	}
	if !eval[bool](t, ctx, visible("share-passphrase")) {
		t.Error("no note to send the passphrase another way")
	}
	if !eval[bool](t, ctx, visible("share-button")) {
		t.Fatal("no Share button where the browser can share")
	}
	click(t, ctx, "share-button")
	waitFor(t, ctx, `!!window.__shared`)
	var shared map[string]string
	json.Unmarshal([]byte(eval[string](t, ctx, `window.__shared`)), &shared)
	if shared["url"] != c.link || strings.Contains(eval[string](t, ctx, `window.__shared`), "a phrase") {
		t.Errorf("shared %v, want the link alone", shared)
	}
	below := `JSON.stringify(["share-expiry", "qr", "receipt-link", "again"].map(function (id) { return Math.round(document.getElementById(id).getBoundingClientRect().top); }))`
	before := eval[string](t, ctx, below)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`[data-copy="share-link"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelector('[data-note-for="share-link"]').textContent !== ""`)
	if after := eval[string](t, ctx, below); after != before {
		t.Errorf("the copy note moved the page: %s, then %s", before, after)
	}
	b.shot(t, ctx, "en-result-phone-copied")
	// Without Web Share, no button.
	plain := b.tab(t)
	b.create(t, plain, "no share", "")
	if has := eval[bool](t, plain, `typeof navigator.share === "function"`); eval[bool](t, plain, visible("share-button")) != has {
		t.Errorf("Share button shown %v where the browser has Web Share %v", !has, has)
	}
}

// browserReceiptUpdates: the receipt follows the secret by itself (polling
// with backoff, and at once when the tab is shown again) and stops once the
// state is final.
func (b *browserEnv) browserReceiptUpdates(t *testing.T) {
	sender, recipient := b.tab(t), b.tab(t)
	c := b.create(t, sender, "watched", "")
	b.navigate(t, sender, c.receipt)
	waitFor(t, sender, visible("receipt"))
	if got := eval[string](t, sender, `document.getElementById("receipt").getAttribute("data-poll")`); got != "2000" {
		t.Errorf("first poll in %q ms, want 2000", got)
	}
	// A tab shown again asks at once.
	n := len(fetches(t, sender))
	eval[bool](t, sender, `document.dispatchEvent(new Event("visibilitychange")), true`)
	if got := fetches(t, sender)[n:]; len(got) == 0 || !strings.Contains(got[0], "/api/v1/receipt/") {
		t.Errorf("visibility change asked %q, want the receipt at once", got)
	}
	// Polling backs off while nothing changes.
	waitFor(t, sender, `document.getElementById("receipt").getAttribute("data-poll") === "4000"`)
	b.openLink(t, recipient, c.link)
	if r := pressReveal(t, recipient, ""); r.value != "watched" {
		t.Fatalf("reveal: %+v", r)
	}
	waitFor(t, sender, `document.getElementById("state-text").textContent.indexOf("Opened at") === 0`)
	// Once read, the receipt keeps watching, once a minute, for attempts
	// on the link that is gone.
	if got := eval[string](t, sender, `document.getElementById("receipt").getAttribute("data-poll")`); got != "60000" {
		t.Errorf("after the final state polling is %q, want 60000", got)
	}
	// A hidden tab asks nothing.
	eval[bool](t, sender, `(Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true}), document.dispatchEvent(new Event("visibilitychange")), true)`)
	if got := eval[string](t, sender, `document.getElementById("receipt").getAttribute("data-poll")`); got != "off" {
		t.Errorf("a hidden tab's receipt polls every %q ms, want off", got)
	}
	polls := len(fetches(t, sender))
	eval[bool](t, sender, `(delete document.visibilityState, document.dispatchEvent(new Event("visibilitychange")), true)`)
	waitFor(t, sender, `document.getElementById("receipt").getAttribute("data-poll") === "60000"`)
	if got := fetches(t, sender)[polls:]; len(got) == 0 || !strings.Contains(got[0], "/api/v1/receipt/") {
		t.Errorf("shown again, a final receipt asked %q, want the receipt at once", got)
	}
}

// browserErrorPages: 404 and 421 as the server sends them, 429 and 503 as
// the handler would (the same pages from the same embedded files), styled,
// in the visitor's language, audited, in both directions.
func (b *browserEnv) browserErrorPages(t *testing.T, plain *plainServer) {
	set, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
	for _, loc := range []string{"en", "ar", "ko"} {
		ctx := b.tab(t)
		setAcceptLanguage(t, ctx, loc)
		handlerURL := func(status int) string { return b.srv.base + fmt.Sprintf("/as-the-handler-answers-%d", status) }
		var rules []rule
		for _, status := range []int{429, 503} {
			rules = append(rules, rule{re: regexp.MustCompile(regexp.QuoteMeta(handlerURL(status)) + "$"), status: status,
				header: map[string]string{"Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": csp},
				body:   set.Page(fmt.Sprintf("error-%d", status), loc).Raw()})
		}
		intercept(t, ctx, rules...)
		for _, status := range assets.ErrorPages {
			url := b.srv.base + "/no/such/page"
			switch status {
			case 421:
				url = strings.Replace(plain.public, insecureHost, foreignHost, 1) + "/" // a name the server does not answer to
			case 429, 503:
				url = handlerURL(status)
			}
			if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
				t.Fatalf("%d: %v", status, err)
			}
			waitFor(t, ctx, `document.readyState === "complete" && !!window.otslite`)
			got := eval[[]string](t, ctx, `[document.documentElement.lang, document.documentElement.dir, document.querySelector("h1").textContent, getComputedStyle(document.querySelector(".card")).borderRadius]`)
			dir := "ltr"
			if loc == "ar" {
				dir = "rtl"
			}
			if got[0] != loc || got[1] != dir || got[2] == "" || got[3] != "12px" {
				t.Errorf("%d in %s: lang, dir, h1, styled = %q", status, loc, got)
			}
			noProblems(t, ctx)
			for _, l := range []struct {
				name          string
				width, height int64
				mobile        bool
			}{{"desktop", 1280, 900, false}, {"phone", 390, 844, true}} {
				setViewport(t, ctx, l.width, l.height, l.mobile)
				if (loc == "ar") == l.mobile { // right to left audited on the phone
					b.audit(t, ctx, fmt.Sprintf("%d page in %s, %s", status, loc, l.name))
				}
				b.shot(t, ctx, fmt.Sprintf("%s-error-%d-%s", loc, status, l.name))
			}
		}
	}
}

// browserSmallThings: the counter, the download, the language icon.
func (b *browserEnv) browserSmallThings(t *testing.T) {
	ctx := b.tab(t)
	b.navigate(t, ctx, b.srv.base+"/")
	waitFor(t, ctx, `!document.getElementById("create").disabled`)
	counter := `document.getElementById("secret-count").textContent`
	for _, tc := range []struct {
		text, want string
		over       bool
	}{
		{"", "0 characters", false},
		{"a", "1 character", false},
		{"héllo", "5 characters", false},
		{"😀👍", "2 characters", false},
		{strings.Repeat("é", 20000), "20,000 characters", false},      // 40,000 bytes: not yet near
		{strings.Repeat("é", 21000), "42,000 of 52,396 bytes", false}, // past 80% of the limit
		{strings.Repeat("x", 52397), "52,397 of 52,396 bytes", true},
	} {
		setField(t, ctx, "secret", tc.text)
		got := eval[string](t, ctx, counter)
		over := eval[bool](t, ctx, `document.getElementById("secret-count").classList.contains("over")`)
		if got != tc.want || over != tc.over {
			t.Errorf("%d bytes: counter %q (over %v), want %q (over %v)", len(tc.text), got, over, tc.want, tc.over)
		}
	}
	// The language menu's icon is a drawing, not a glyph a font must have.
	icon := eval[[]string](t, ctx, `(function(){ var s = document.querySelector(".lang summary"); var g = s.querySelector("svg.globe"); return [g ? String(g.getBoundingClientRect().width) : "none", s.textContent]; })()`)
	if icon[0] == "none" || icon[0] == "0" || regexp.MustCompile(`\p{Han}|\p{Hangul}|\p{Hiragana}|\p{Katakana}`).MatchString(icon[1]) {
		t.Errorf("language icon: width %s, text %q", icon[0], icon[1])
	}
	// Download saves the revealed text as a file.
	sender, recipient := b.tab(t), b.tab(t)
	text := "download me\nline two: é 😀"
	c := b.create(t, sender, text, "")
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(recipient, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, BrowserContextID: chromedp.FromContext(recipient).BrowserContextID, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	b.openLink(t, recipient, c.link)
	pressReveal(t, recipient, "")
	click(t, recipient, "download")
	file := filepath.Join(dir, "secret.txt")
	var got []byte
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, _ = os.ReadFile(file); string(got) == text {
			break
		}
	}
	if string(got) != text {
		t.Errorf("downloaded %q, want %q", got, text)
	}
}

// browserSessionEnd: with a lifetime, the pages say when the session ends
// where a secret would still wait then.
func (b *browserEnv) browserSessionEnd(t *testing.T) {
	srv := startScanServer(t, "--lifetime", "10m", "--default-ttl", "5m")
	ctx := b.tab(t)
	b.navigate(t, ctx, srv.base+"/")
	waitFor(t, ctx, `!document.getElementById("create").disabled`)
	note := `document.getElementById("session-note")`
	choose := func(index string) {
		eval[bool](t, ctx, `(function(){ var s = document.getElementById("ttl"); s.selectedIndex = `+index+`; s.dispatchEvent(new Event("change")); return true; })()`)
	}
	choose("0")
	if eval[bool](t, ctx, visible("session-note")) {
		t.Errorf("with 5 minutes chosen of 10 left the page says %q", eval[string](t, ctx, note+`.textContent`))
	}
	choose("s.options.length - 1")
	re := regexp.MustCompile(`^This server's session ends at .+ \(in (9|10) minutes\)\. A secret still waiting then is wiped\.$`)
	if got := eval[string](t, ctx, note+`.textContent`); !eval[bool](t, ctx, visible("session-note")) || !re.MatchString(got) {
		t.Errorf("with the longest expiry: %q", got)
	}
	b.shot(t, ctx, "en-create-session-end")
	setField(t, ctx, "secret", "until the end")
	click(t, ctx, "create")
	waitFor(t, ctx, visible("result"))
	if got := eval[string](t, ctx, `document.getElementById("result-session").textContent`); !re.MatchString(got) {
		t.Errorf("result page: %q", got)
	}
	link := eval[string](t, ctx, `document.getElementById("share-link").value`)
	recipient := b.tab(t)
	b.openLink(t, recipient, link)
	if got := eval[string](t, recipient, `document.getElementById("waiting-session").textContent`); !re.MatchString(got) {
		t.Errorf("recipient page: %q", got)
	}
}

// browserPluralRules: the plural table the catalogs are checked against is
// the browser's own CLDR data (ICU), language by language.
func (b *browserEnv) browserPluralRules(t *testing.T) {
	ctx := b.tab(t)
	b.navigate(t, ctx, b.srv.base+"/security")
	for _, loc := range assets.Locales {
		forms := catalogForms(t, loc, "chars")
		icu := eval[[]string](t, ctx, `new Intl.PluralRules(`+jsString(loc)+`).resolvedOptions().pluralCategories`)
		slices.Sort(icu)
		if !slices.Equal(forms, icu) {
			t.Errorf("%s: the catalog has plural forms %v, CLDR (ICU in Chromium) %v", loc, forms, icu)
		}
	}
}

// catalogForms returns the plural forms of a js text in loc's catalog, as
// the pages get it (the text script).
func catalogForms(t *testing.T, loc, name string) []string {
	t.Helper()
	var forms []string
	for k := range catalogTexts(t, loc) {
		if f, ok := strings.CutPrefix(k, name+"|"); ok {
			forms = append(forms, f)
		}
	}
	slices.Sort(forms)
	return forms
}

var textScriptRE = regexp.MustCompile(`src="(/static/text-[A-Za-z-]+\.[0-9a-f]{8}\.js)"`)

// loadAssets loads the embedded UI once for the tests that read it.
var loadAssets = sync.OnceValues(assets.Load)

// catalogTexts returns the js texts of loc, read from its text script.
func catalogTexts(t *testing.T, loc string) map[string]string {
	t.Helper()
	set, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	m := textScriptRE.FindSubmatch(set.Page("create", loc).Raw())
	f, _ := set.Static(m[1])
	_, obj, _ := strings.Cut(string(f.Raw()), "Object.freeze(")
	obj = strings.TrimSuffix(strings.TrimSpace(obj), ");")
	var texts map[string]string
	if err := json.Unmarshal([]byte(obj), &texts); err != nil {
		t.Fatalf("%s text script: %v", loc, err)
	}
	return texts
}

// overflowCheck finds, on the page as it is, every visible text that
// overflows its control or the screen: the page scrolling sideways, an
// element reaching past the viewport, a button, summary or field whose
// content is wider than its box, and a header on more than one row.
const overflowCheck = `(function () {
	var bad = [], vw = document.documentElement.clientWidth;
	if (document.documentElement.scrollWidth > vw + 1) bad.push("the page scrolls sideways (" + document.documentElement.scrollWidth + " > " + vw + ")");
	function name(e) { return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (e.className && typeof e.className === "string" ? "." + e.className.split(" ")[0] : "") + " \"" + (e.textContent || e.value || "").trim().slice(0, 40) + "\""; }
	document.querySelectorAll("body *").forEach(function (e) {
		if (!e.getClientRects().length || e.closest("[hidden], .visually-hidden, details:not([open]) > ul, svg, .theme-label")) return;
		var r = e.getBoundingClientRect();
		if (r.width <= 1 && r.height <= 1) return;
		if (r.right > vw + 1 || r.left < -1) bad.push(name(e) + " reaches past the screen (" + Math.round(r.left) + " to " + Math.round(r.right) + ")");
		if (/^(BUTTON|SUMMARY|LABEL|A|INPUT|SELECT|H1|H2|H3|P|DT|DD|LI)$/.test(e.tagName) && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0) bad.push(name(e) + " overflows its box (" + e.scrollWidth + " > " + e.clientWidth + ")");
	});
	var h = document.querySelector("header.site"), kids = Array.prototype.filter.call(h.children, function (k) { return k.getClientRects().length && !k.classList.contains("skip"); });
	var top = kids.map(function (k) { return Math.round(k.getBoundingClientRect().top + k.getBoundingClientRect().height / 2); });
	if (Math.max.apply(null, top) - Math.min.apply(null, top) > 8) bad.push("the header takes more than one row");
	return bad;
})()`

// fits reports what overflows on the page, at 390 px wide.
func fits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	for _, p := range eval[[]string](t, ctx, overflowCheck) {
		t.Errorf("%s: %s", what, p)
	}
}

// browserEveryLanguage walks every state of every page in every language
// on a phone (390×844): nothing may overflow, the header keeps one row,
// Create is above the fold, right-to-left languages are mirrored. Each
// state is photographed (at one device pixel per CSS pixel, to keep the
// walk quick). The passphrase states use a secret made through the API, so
// no browser-side key stretching slows the walk down.
func (b *browserEnv) browserEveryLanguage(t *testing.T) {
	rtl := map[string]bool{"ar": true, "he": true, "fa": true}
	for _, loc := range assets.Locales {
		t.Run(loc, func(t *testing.T) {
			t.Parallel() // each language in tabs of its own
			sender, recipient := b.tab(t), b.tab(t)
			for _, ctx := range []context.Context{sender, recipient} {
				phoneViewport(t, ctx)
			}
			q := "?locale=" + loc
			state := func(ctx context.Context, name string) {
				t.Helper()
				// One round trip: the page's own problems, then what overflows.
				for _, p := range eval[[]string](t, ctx, `(window.__otsliteProblems || []).concat(`+overflowCheck+`)`) {
					t.Errorf("%s %s: %s", loc, name, p)
				}
				b.shot(t, ctx, fmt.Sprintf("lang-%s-%s", loc, name))
			}
			b.navigate(t, sender, b.srv.base+"/"+q)
			waitFor(t, sender, `!document.getElementById("create").disabled`)
			bottom := eval[float64](t, sender, `document.getElementById("create").getBoundingClientRect().bottom`)
			if bottom > 844 {
				t.Errorf("%s: Create ends at %.0f px, below the fold (844)", loc, bottom)
			}
			t.Logf("%s: Create ends at %.0f px of 844", loc, bottom)
			if got := eval[string](t, sender, `document.documentElement.dir`); got != map[bool]string{true: "rtl", false: "ltr"}[rtl[loc]] {
				t.Errorf("%s: dir %q", loc, got)
			}
			if rtl[loc] {
				// Mirrored: the brand on the right, the tools on the left.
				m := eval[[]float64](t, sender, `[document.querySelector(".brand").getBoundingClientRect().left, document.querySelector(".tools").getBoundingClientRect().left]`)
				if m[0] <= m[1] {
					t.Errorf("%s: brand at %.0f, tools at %.0f: not mirrored", loc, m[0], m[1])
				}
			}
			eval[bool](t, sender, `(function(){ document.querySelector("details.lang").open = true; return true; })()`)
			state(sender, "menu")
			eval[bool](t, sender, `(function(){ document.querySelector("details.lang").open = false; return true; })()`)
			setField(t, sender, "secret", "db password: hunter2")
			setField(t, sender, "passphrase", "")
			state(sender, "create")
			click(t, sender, "create")
			waitFor(t, sender, visible("result"))
			state(sender, "result")
			if rtl[loc] {
				// The receipt box's bar is on the right edge.
				if w := eval[string](t, sender, `getComputedStyle(document.querySelector(".private-box")).borderRightWidth`); w != "6px" {
					t.Errorf("%s: the receipt box's bar is not on the right (%s)", loc, w)
				}
			}
			receipt := eval[string](t, sender, `document.getElementById("receipt-link").value`)
			i := strings.Index(receipt, "#")
			b.navigate(t, sender, receipt[:i]+q+receipt[i:])
			waitFor(t, sender, visible("receipt"))
			click(t, sender, "burn-start")
			waitFor(t, sender, visible("burn-form"))
			state(sender, "receipt-confirm")
			click(t, sender, "burn-confirm")
			waitFor(t, sender, visible("burned-note"))
			state(sender, "receipt-burned")
			b.navigate(t, sender, b.srv.base+"/security"+q)
			state(sender, "security")
			b.navigate(t, sender, b.srv.base+"/nothing-here"+q)
			state(sender, "error-404")

			r := b.srv.call(t, http.DefaultClient, "/api/v1/share", "", "secret=in+every+language&passphrase=a+phrase")
			link := b.srv.base + "/secret/" + r["secret_key"].(string) + q
			b.openLink(t, recipient, link)
			state(recipient, "secret-waiting")
			if r := pressReveal(t, recipient, "not it"); r.error == "" {
				t.Fatalf("%s: wrong passphrase: %+v", loc, r)
			}
			state(recipient, "secret-wrong")
			if r := pressReveal(t, recipient, "a phrase"); r.value != "in every language" {
				t.Fatalf("%s: reveal: %+v", loc, r)
			}
			state(recipient, "secret-revealed")
			b.openLink(t, recipient, link)
			state(recipient, "secret-gone")
			b.openLink(t, recipient, link+"#1nDAMAGED")
			state(recipient, "secret-incomplete")
		})
	}
}

// phoneViewport makes a tab a 390×844 phone at one device pixel per CSS
// pixel (the layout is the phone's; the screenshots are smaller).
func phoneViewport(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{Width: 390, Height: 844, DeviceScaleFactor: 1, Mobile: true}); err != nil {
		t.Fatal(err)
	}
}

// browserOverflowCheckCatches shows the overflow check can fail: a button
// with a long word, and a header forced onto two rows.
func (b *browserEnv) browserOverflowCheckCatches(t *testing.T) {
	ctx := b.tab(t)
	setViewport(t, ctx, 390, 844, true)
	b.navigate(t, ctx, b.srv.base+"/")
	if found := eval[[]string](t, ctx, overflowCheck); len(found) != 0 {
		t.Fatalf("clean page: %q", found)
	}
	eval[bool](t, ctx, `(function(){
		var b = document.createElement("button"); b.textContent = "Unbreakable" + "x".repeat(60); b.style.whiteSpace = "nowrap"; b.style.maxWidth = "100%"; b.style.overflow = "hidden";
		document.querySelector("#create-form .actions").appendChild(b);
		var s = document.createElement("span"); s.textContent = "a long brand name that cannot fit"; s.style.whiteSpace = "nowrap";
		document.querySelector(".brand").appendChild(s);
		document.querySelector("header.site").style.flexWrap = "wrap";
		return true; })()`)
	found := strings.Join(eval[[]string](t, ctx, overflowCheck), "\n")
	if !strings.Contains(found, "overflows its box") || !strings.Contains(found, "more than one row") {
		t.Errorf("the check found %q; want the button and the header", found)
	}
}

// browserRenderersAreOurs: the memory scan looks only at the Chromium this
// test started, not at another process that calls itself a renderer (which
// may come and go while the scan runs).
func (b *browserEnv) browserRenderersAreOurs(t *testing.T) {
	foreign := exec.Command("sh", "-c", "sleep 60", "--type=renderer")
	if err := foreign.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { foreign.Process.Kill(); foreign.Wait() })
	ctx := b.tab(t)
	b.navigate(t, ctx, b.srv.base+"/")
	pids := b.renderers(t)
	if len(pids) == 0 {
		t.Fatal("no renderer of this test's Chromium found")
	}
	if slices.Contains(pids, foreign.Process.Pid) {
		t.Errorf("the renderers include process %d, which this test's Chromium did not start", foreign.Process.Pid)
	}
}
