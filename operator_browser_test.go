package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// mustChromium starts a headless Chromium (as MustOpenBrowser does) and
// returns a tab in a fresh browser context.
func mustChromium(t *testing.T) context.Context {
	t.Helper()
	var exe string
	var err error
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if exe, err = exec.LookPath(name); err == nil {
			break
		}
	}
	need(t, err, "Chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.Flag("headless", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	if err := chromedp.Do(root, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	b := &browserEnv{root: root}
	return b.tab(t)
}

// answerLogin makes the tab answer every HTTP authentication prompt with
// user and password, as an operator typing them into the browser's login
// dialog would; the browser then keeps that login and sends it again by
// itself.
func answerLogin(t *testing.T, ctx context.Context, user, password string) {
	t.Helper()
	// Listen's callback must not call the browser: it hands the events to
	// a goroutine that does.
	events := make(chan any, 256)
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev.(type) {
		case *fetch.EventAuthRequired, *fetch.EventRequestPaused:
			events <- ev
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			var ev any
			select {
			case ev = <-events:
			case <-ctx.Done():
				return
			}
			switch e := ev.(type) {
			case *fetch.EventAuthRequired:
				chromedp.Call(ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: e.RequestID, AuthChallengeResponse: &fetch.AuthChallengeResponse{
					Response: fetch.AuthChallengeResponseResponseProvideCredentials, Username: user, Password: password,
				}})
			case *fetch.EventRequestPaused:
				chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
			}
		}
	}()
	yes := true
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &yes}); err != nil {
		t.Fatal(err)
	}
}

// attackerPage serves, on another site (localhost, while otslite is
// 127.0.0.1), a page that posts to otslite's end endpoint as soon as it
// loads: a form, and a fetch that asks for the browser's credentials.
func attackerPage(t *testing.T, target string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	page := fmt.Sprintf(`<!doctype html><title>Cute cats</title>
<form id="f" method="post" action="%s"><input type="hidden" name="x" value="1"></form>
<script>
fetch(%q, {method: "POST", mode: "no-cors", credentials: "include"}).catch(function () {});
setTimeout(function () { document.getElementById("f").submit(); }, 300);
</script>`, target, target)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://localhost:" + port + "/"
}

// TestBrowserOperatorCSRF: the operator opens the audit page with the
// browser's login dialog, then visits another site whose page posts to
// /api/otslite/end (a form and a credentialed fetch). The browser attaches
// the saved login, and the session must survive it. Then the operator
// ends the session with the page's own control, typing the token.
func TestBrowserOperatorCSRF(t *testing.T) {
	if testing.Short() {
		skip(t, "browser tests are not short (-short)")
	}
	t.Parallel()
	const token = "operator-csrf-token-0123456789"
	p := MustStartBinary(t, nil, "--admin-token", token)
	p.mustShare(t, url.Values{"secret": {"must survive the visit"}})
	ctx := mustChromium(t)
	answerLogin(t, ctx, "operator", token)
	artifacts := os.Getenv("OTSLITE_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	b := &browserEnv{root: ctx, artifacts: artifacts}

	audit := p.base + "/api/otslite/audit.html"
	if err := chromedp.Do(ctx, chromedp.Navigate(audit)); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, `document.readyState === "complete" && !!document.querySelector("h1") && document.querySelector("h1").textContent === "Audit trail" && `+visible("end-form"))
	noProblems(t, ctx)
	// Styled by the UI's CSS (the body is a flex column there) and its own.
	if !eval[bool](t, ctx, `getComputedStyle(document.body).display === "flex" && getComputedStyle(document.querySelector(".card")).borderTopLeftRadius !== "0px" && getComputedStyle(document.querySelector("table.audit")).borderCollapse === "collapse"`) {
		t.Errorf("the audit page is not styled: %s", pageState(ctx))
	}
	b.audit(t, ctx, "audit page")
	setViewport(t, ctx, 1280, 900, false)
	b.shot(t, ctx, "operator-audit-desktop")
	setViewport(t, ctx, 390, 844, true)
	b.shot(t, ctx, "operator-audit-phone")

	// Another site, visited with the login saved.
	if err := chromedp.Do(ctx, chromedp.Navigate(attackerPage(t, p.base+"/api/otslite/end"))); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, `location.href.indexOf("/api/otslite/end") >= 0 && document.readyState === "complete"`)
	time.Sleep(time.Second)
	if !p.running() {
		t.Fatalf("a page of another site ended the session:\n%s", p.stderr)
	}
	var denied, sawLogin int
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		var e struct{ Event, Outcome string }
		if json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		switch {
		case e.Event == "end" && e.Outcome == "denied_origin":
			denied++
		case e.Event == "audit_view" && e.Outcome == "denied_token":
			sawLogin++ // the first request, before the login was given
		}
	}
	if denied < 1 {
		t.Errorf("no refused end in the audit trail:\n%s", p.stderr)
	}
	t.Logf("the other site's page tried %d times; refused", denied)

	// The operator's own control: a wrong token is refused, the right one
	// ends the session.
	if err := chromedp.Do(ctx, chromedp.Navigate(audit)); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, `document.readyState === "complete" && `+visible("end-form"))
	setField(t, ctx, "end-token", "not-the-admin-token-000000")
	click(t, ctx, "end-button")
	until(t, ctx, `document.getElementById("end-status").classList.contains("error")`)
	if msg := eval[string](t, ctx, `document.getElementById("end-status").textContent`); msg != "Not authorized" {
		t.Errorf("wrong token: the page says %q", msg)
	}
	if !p.running() {
		t.Fatal("a wrong token ended the session")
	}
	setField(t, ctx, "end-token", token)
	click(t, ctx, "end-button")
	until(t, ctx, `document.getElementById("end-status").classList.contains("ok")`)
	noProblems(t, ctx)
	b.shot(t, ctx, "operator-audit-ended")
	if code := p.MustExit(t, 15*time.Second); code != exitOK {
		t.Errorf("exit code %d, want 0", code)
	}
	mustSummary(t, p, "operator", "1 created, 0 revealed, 0 burned, 0 expired, 1 wiped unread")
}
