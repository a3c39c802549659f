package handler

// The HTML pages, their static assets, and the UI's own JSON endpoints.

import (
	"bytes"
	"compress/gzip"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fasthttp"

	"otslite/assets"
)

// checkPage checks a 200 HTML page answer.
func checkPage(tb testing.TB, r *response) {
	tb.Helper()
	if r.status != 200 {
		tb.Fatalf("want 200, got %v", r)
	}
	if got := r.get("Content-Type"); got != "text/html; charset=utf-8" {
		tb.Errorf("Content-Type = %q", got)
	}
	if got := r.get("Cache-Control"); got != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", got)
	}
	checkSecurityHeaders(tb, r)
	csp := r.get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") {
		tb.Errorf("Content-Security-Policy = %q, want script-src 'self'", csp)
	}
}

func TestPages(t *testing.T) {
	s := MustOpenServer(t)
	ref := s.MustShare(t, "PAGE-SECRET", "passphrase", "open sesame")
	for _, path := range []string{
		"/",
		"/security",
		"/secret/" + ref.secretKey,
		"/secret/anything",
		"/receipt/" + ref.receiptKey,
		"/private/" + ref.receiptKey,
		"/group/" + ref.receiptKey,
		"/combine",
		"/ask",
		"/request/" + ref.secretKey,
		"/inbox/" + ref.receiptKey,
	} {
		t.Run("OK"+path, func(t *testing.T) {
			r := s.do(t, "GET", path, "", "", "Accept-Encoding", "gzip, br, zstd")
			checkPage(t, r)
			var body []byte
			switch ce := r.get("Content-Encoding"); ce {
			case "":
				body = r.body
			case "gzip":
				body = gunzip(t, r.body)
			case "zstd":
				body = unzstd(t, r.body)
			default:
				t.Fatalf("Content-Encoding %q was not asked for", ce)
			}
			if !bytes.Contains(bytes.ToLower(body), []byte("<html")) {
				t.Errorf("not an HTML page: %.200q", body)
			}
			for _, leak := range []string{"PAGE-SECRET", ref.secretKey, ref.receiptKey} {
				if bytes.Contains(body, []byte(leak)) {
					t.Errorf("page carries %q", leak)
				}
			}
			h := s.do(t, "HEAD", path, "", "")
			checkPage(t, h)
			if len(h.body) != 0 {
				t.Errorf("HEAD answered a body")
			}
		})
	}
	for _, path := range []string{"/nope", "/secret/", "/secret/a/b", "/receipt/", "/receipt/a/burn", "/index.html", "/api", "/api/v3/status",
		"/group/", "/combine/x", "/ask/x", "/request/", "/request/a/answer", "/inbox/", "/inbox/a/reveal"} {
		t.Run("ErrNotFound"+path, func(t *testing.T) {
			r := s.do(t, "GET", path, "", "", "Accept-Language", "fr")
			if r.status != 404 {
				t.Fatalf("want 404, got %v", r)
			}
			checkSecurityHeaders(t, r)
			// A styled page, in the visitor's language.
			if r.get("Content-Type") != "text/html; charset=utf-8" || r.get("Content-Language") != "fr" ||
				!bytes.Contains(r.body, []byte(`<html lang="fr"`)) || !strings.Contains(r.get("Content-Security-Policy"), "style-src 'self'") {
				t.Errorf("404 page: Content-Type %q, Content-Language %q, CSP %q, body %.200q",
					r.get("Content-Type"), r.get("Content-Language"), r.get("Content-Security-Policy"), r.body)
			}
		})
	}
	t.Run("ErrMethod", func(t *testing.T) {
		r := s.do(t, "POST", "/secret/"+ref.secretKey, ctForm, "passphrase=open+sesame")
		if r.status != 405 || r.get("Allow") != "GET, HEAD" {
			t.Fatalf("want 405 with Allow: GET, HEAD, got %v (Allow %q)", r, r.get("Allow"))
		}
		checkSecurityHeaders(t, r)
	})
	s.MustBeWaiting(t, ref)
}

// TestErrorPages: the styled pages for 404, 421, 429 and 503 are served in
// the visitor's language (right to left where it writes so), with the
// security headers and no-store, and name their status.
func TestErrorPages(t *testing.T) {
	h, _, _ := MustOpenHandler(t)
	titles := map[int]string{404: "Page not found", 421: "Wrong address for this server", 429: "Too many requests", 503: "Server busy"}
	for _, status := range assets.ErrorPages {
		for _, lang := range []string{"", "ar", "he", "ko"} {
			var ctx fasthttp.RequestCtx
			ctx.Request.Header.SetMethod("GET")
			ctx.Request.SetRequestURI("/x")
			ctx.Request.Header.Set("Accept-Language", lang)
			ctx.Response.Header.Set("X-Leftover", "from before") // reset by the page
			h.ErrorPage(&ctx, status)
			r := &response{status: ctx.Response.StatusCode(), body: ctx.Response.Body()}
			ctx.Response.Header.CopyTo(&r.header)
			if r.status != status || r.get("Content-Type") != "text/html; charset=utf-8" || r.get("Cache-Control") != "no-store" || r.get("X-Leftover") != "" {
				t.Errorf("%d %q: status %d, Content-Type %q, Cache-Control %q, X-Leftover %q", status, lang, r.status, r.get("Content-Type"), r.get("Cache-Control"), r.get("X-Leftover"))
			}
			checkSecurityHeaders(t, r)
			want := lang
			if want == "" {
				want = "en"
			}
			dir := "ltr"
			if lang == "ar" || lang == "he" {
				dir = "rtl"
			}
			if r.get("Content-Language") != want || !bytes.Contains(r.body, []byte(`<html lang="`+want+`" dir="`+dir+`">`)) {
				t.Errorf("%d %q: Content-Language %q, body %.120q", status, lang, r.get("Content-Language"), r.body)
			}
			if lang == "" && !bytes.Contains(r.body, []byte("<h1>"+titles[status]+"</h1>")) {
				t.Errorf("%d: page lacks <h1>%s</h1>", status, titles[status])
			}
		}
	}
	// A status without a page of its own gets plain text, with the headers.
	var ctx fasthttp.RequestCtx
	h.ErrorPage(&ctx, 418)
	r := &response{status: ctx.Response.StatusCode(), body: ctx.Response.Body()}
	ctx.Response.Header.CopyTo(&r.header)
	if r.status != 418 || bytes.Contains(r.body, []byte("<html")) {
		t.Errorf("418: %v", r)
	}
	checkSecurityHeaders(t, r)
}

func TestPagesDoNotConsume(t *testing.T) {
	// Link previews, mail scanners and prefetchers fetch links: nothing
	// but the explicit reveal POST consumes a secret.
	s := MustOpenServer(t)
	ref := s.MustShare(t, "still here")
	for range 3 {
		for _, method := range []string{"GET", "HEAD"} {
			for _, path := range []string{"/secret/" + ref.secretKey, "/receipt/" + ref.receiptKey, "/private/" + ref.receiptKey, "/api/otslite/secret/" + ref.secretKey, "/api/v1/receipt/" + ref.receiptKey} {
				if r := s.do(t, method, path, "", ""); r.status != 200 {
					t.Fatalf("%s %s: %v", method, path, r)
				}
			}
		}
	}
	if got := s.MustReveal(t, ref.secretKey); got != "still here" {
		t.Errorf("revealed %q", got)
	}
}

func gunzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatalf("gzip: %v", err)
	}
	return out
}

func unzstd(tb testing.TB, b []byte) []byte {
	tb.Helper()
	zr, err := zstd.NewReader(nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	out, err := zr.DecodeAll(b, nil)
	if err != nil {
		tb.Fatalf("zstd: %v", err)
	}
	return out
}

var staticRef = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)

func TestStatic(t *testing.T) {
	s := MustOpenServer(t)
	var paths []string
	for _, page := range []string{"/", "/security", "/secret/x", "/receipt/x"} {
		r := s.do(t, "GET", page, "", "")
		for _, m := range staticRef.FindAllSubmatch(r.body, -1) {
			paths = append(paths, string(m[1]))
		}
	}
	if len(paths) == 0 {
		t.Fatal("the pages refer to no static file")
	}
	var gzipped, zstded int
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			f, ok := s.h.assets.Static([]byte(path))
			if !ok {
				t.Fatalf("page refers to %s, which is not served", path)
			}
			raw := s.do(t, "GET", path, "", "")
			if raw.status != 200 {
				t.Fatalf("want 200, got %v", raw)
			}
			checkSecurityHeaders(t, raw)
			for k, v := range map[string]string{
				"Cache-Control": "public, max-age=31536000, immutable",
				"Vary":          "Accept-Encoding",
				"Content-Type":  f.ContentType,
			} {
				if got := raw.get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			etag := raw.get("ETag")
			if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
				t.Errorf("ETag = %q, want a strong quoted tag", etag)
			}
			if raw.get("Content-Encoding") != "" || !bytes.Equal(raw.body, f.Raw()) {
				t.Errorf("uncompressed answer differs from the file (Content-Encoding %q)", raw.get("Content-Encoding"))
			}

			gz := s.do(t, "GET", path, "", "", "Accept-Encoding", "gzip")
			if f.Gzip != nil {
				gzipped++
				if gz.get("Content-Encoding") != "gzip" {
					t.Errorf("Content-Encoding = %q, want gzip", gz.get("Content-Encoding"))
				} else if !bytes.Equal(gunzip(t, gz.body), raw.body) {
					t.Errorf("gzip body does not gunzip to the file")
				}
			} else if !bytes.Equal(gz.body, raw.body) {
				t.Errorf("file without a gzip form answered %q differently", gz.get("Content-Encoding"))
			}
			if gz.get("ETag") != etag || gz.get("Vary") != "Accept-Encoding" {
				t.Errorf("gzip answer: ETag %q, Vary %q", gz.get("ETag"), gz.get("Vary"))
			}

			zs := s.do(t, "GET", path, "", "", "Accept-Encoding", "zstd")
			if f.Zstd != nil {
				zstded++
				if zs.get("Content-Encoding") != "zstd" {
					t.Errorf("Content-Encoding = %q, want zstd", zs.get("Content-Encoding"))
				} else if !bytes.Equal(unzstd(t, zs.body), raw.body) {
					t.Errorf("zstd body does not decode to the file")
				}
			}

			nm := s.do(t, "GET", path, "", "", "If-None-Match", etag, "Accept-Encoding", "gzip")
			if nm.status != 304 || len(nm.body) != 0 {
				t.Errorf("If-None-Match: want 304 without a body, got %v", nm)
			}
			checkSecurityHeaders(t, nm)

			if h := s.do(t, "HEAD", path, "", ""); h.status != 200 || len(h.body) != 0 {
				t.Errorf("HEAD: %v", h)
			}
		})
	}
	if gzipped == 0 || zstded == 0 {
		t.Errorf("%d files served gzipped and %d zstd, want some of each", gzipped, zstded)
	}
}

func TestStaticNotFound(t *testing.T) {
	s := MustOpenServer(t)
	// Sent as raw request lines: a client would clean these paths.
	for _, target := range []string{
		"/static/x",
		"/static/",
		"/static/app.css",
		"/static/../main.go",
		"/static/%2e%2e/x",
		"/static/%2e%2e/%2e%2e/main.go",
		"/static/..%2fmain.go",
		"/static/%2e%2e%2fhandler%2fhandler.go",
		"/static/..\\main.go",
		"/static//etc/passwd",
		"/static/../../../../etc/passwd",
	} {
		t.Run(target, func(t *testing.T) {
			r := s.raw(t, []byte("GET "+target+" HTTP/1.1\r\nHost: ots.internal\r\nConnection: close\r\n\r\n"))
			if r.status != 404 {
				t.Fatalf("want 404, got %v", r)
			}
			checkSecurityHeaders(t, r)
			for _, leak := range []string{"package ", "root:"} {
				if bytes.Contains(r.body, []byte(leak)) {
					t.Errorf("answer quotes %q", leak)
				}
			}
		})
	}
}

func TestOwnAPI(t *testing.T) {
	t.Run("Config", func(t *testing.T) {
		s := MustOpenServer(t)
		m := MustOK(t, s.do(t, "GET", "/api/otslite/config", "", ""))
		want := map[string]int64{"default_ttl": 3600, "max_ttl": 604800, "max_secret_size": 1024, "passphrase_min": 4, "passphrase_max": 128, "session_end": 0,
			"max_file_size": 0, "max_envelope_size": 1024, "max_links": 20}
		if len(m) != len(want)+1 {
			t.Errorf("config = %v, want exactly %v and tokens_required", m, want)
		}
		for k, v := range want {
			if got := num(t, m, k); got != v {
				t.Errorf("%s = %d, want %d", k, got, v)
			}
		}
		if m["tokens_required"] != false {
			t.Errorf("tokens_required = %v without tokens", m["tokens_required"])
		}
		MustFail(t, s.do(t, "POST", "/api/otslite/config", ctForm, ""), 405, "")
	})

	t.Run("ConfigTokensAndSession", func(t *testing.T) {
		// Creating needs a token, and the session ends in 30 minutes:
		// the UI asks for a token first, and says when the session ends.
		end := time.Unix(1_700_000_000, 0).Add(30 * time.Minute)
		s := MustOpenServer(t, withTokens(t, []string{"alice:" + strings.Repeat("t", 20)}, ""),
			func(c *testConfig) { c.handler.Deadline = end })
		m := MustOK(t, s.do(t, "GET", "/api/otslite/config", "", ""))
		if m["tokens_required"] != true || num(t, m, "session_end") != end.Unix() || num(t, m, "max_ttl") != 1800 {
			t.Errorf("config = %v, want tokens_required, session_end %d and max_ttl 1800", m, end.Unix())
		}
	})

	t.Run("Peek", func(t *testing.T) {
		s := MustOpenServer(t)
		plain := s.MustShare(t, "x", "ttl", "600")
		guarded := s.MustShare(t, "y", "passphrase", "open sesame")
		s.clock.Add(100 * time.Second)
		for _, tc := range []struct {
			name string
			ref  secretRef
			pass bool
			ttl  int64
		}{{"Plain", plain, false, 500}, {"Passphrase", guarded, true, 3500}} {
			t.Run(tc.name, func(t *testing.T) {
				for range 2 {
					m := MustOK(t, s.do(t, "GET", "/api/otslite/secret/"+tc.ref.secretKey, "", ""))
					fields := 4
					if tc.pass {
						// A human passphrase: five tries before a lock.
						fields++
						if got := num(t, m, "tries_left"); got != 5 {
							t.Errorf("tries_left = %d, want 5", got)
						}
					}
					if len(m) != fields || m["passphrase_required"] != tc.pass || m["proof"] != false {
						t.Errorf("peek = %v, want passphrase_required %v, proof false, secret_ttl, locked_until", m, tc.pass)
					}
					if got := num(t, m, "locked_until"); got != 0 {
						t.Errorf("locked_until = %d, want 0", got)
					}
					near(t, "secret_ttl", num(t, m, "secret_ttl"), tc.ttl)
				}
			})
		}
		if got := s.MustReveal(t, plain.secretKey); got != "x" {
			t.Errorf("revealed %q after peeks", got)
		}
		for _, key := range []string{plain.secretKey, guarded.receiptKey, strings.Repeat("d", 32), "short"} {
			MustFail(t, s.do(t, "GET", "/api/otslite/secret/"+key, "", ""), 404, msgUnknownSecret)
		}
		MustFail(t, s.do(t, "POST", "/api/otslite/secret/"+guarded.secretKey, ctForm, ""), 405, "")
		s.MustBeWaiting(t, guarded)
	})
}

func TestPagesLanguage(t *testing.T) {
	s := MustOpenServer(t)
	for _, tc := range []struct{ target, acceptLanguage, want, h1 string }{
		{"/", "", "en", "Share a secret"},
		{"/", "fr-CH, fr;q=0.9, en;q=0.8", "fr", "Partager un secret"},
		{"/", "ko-KR", "ko", "비밀 공유하기"},
		{"/", "pt-PT", "pt-BR", "Compartilhar um segredo"},
		{"/?locale=ko", "fr", "ko", "비밀 공유하기"},
		{"/?locale=xx", "de", "de", "Ein Geheimnis teilen"},
		{"/secret/abc?locale=ja", "", "ja", "あなたへの秘密"},
		{"/private/abc", "zh-TW", "zh-TW", "你的收據"},
		{"/private/abc", "zh-Hans", "zh-CN", "你的回执"},
		{"/?locale=ar", "", "ar", "شارك سرًا"},
		{"/security?locale=it", "", "it", "Consigli di sicurezza"},
	} {
		t.Run(tc.target+"/"+tc.acceptLanguage, func(t *testing.T) {
			r := s.do(t, "GET", tc.target, "", "", "Accept-Language", tc.acceptLanguage)
			checkPage(t, r)
			if got := r.get("Content-Language"); got != tc.want {
				t.Errorf("Content-Language = %q, want %q", got, tc.want)
			}
			if got := r.get("Vary"); got != "Accept-Encoding, Accept-Language" {
				t.Errorf("Vary = %q", got)
			}
			body := string(r.body)
			dir := "ltr"
			if tc.want == "ar" {
				dir = "rtl"
			}
			if !strings.Contains(body, `<html lang="`+tc.want+`" dir="`+dir+`">`) || !strings.Contains(body, "<h1>"+tc.h1+"</h1>") {
				t.Errorf("page is not in %s: %.300s", tc.want, body)
			}
		})
	}
	// Static files do not vary by language.
	r := s.do(t, "GET", "/", "", "")
	m := staticRef.FindSubmatch(r.body)
	if m == nil {
		t.Fatal("no static reference")
	}
	if st := s.do(t, "GET", string(m[1]), "", "", "Accept-Language", "fr"); st.get("Vary") != "Accept-Encoding" || st.get("Content-Language") != "" {
		t.Errorf("static file: Vary %q, Content-Language %q", st.get("Vary"), st.get("Content-Language"))
	}
}
