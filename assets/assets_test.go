package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var pageNames = []string{"create", "secret", "receipt", "security", "group", "combine", "ask", "request", "inbox", "error-404", "error-421", "error-429", "error-503"}

// loadOnce shares one Load among the tests; a Set is read-only.
var loadOnce = sync.OnceValues(Load)

// MustLoad loads the embedded UI or stops the test.
func MustLoad(tb testing.TB) *Set {
	tb.Helper()
	s, err := loadOnce()
	if err != nil {
		tb.Fatalf("Load: %v", err)
	}
	return s
}

// staticRefs finds every "/static/..." reference in a page.
var staticRefs = regexp.MustCompile(`/static/[^"'\s<>)]*`)

// allFiles returns the pages and every static file they refer to.
func allFiles(tb testing.TB, s *Set) []*File {
	tb.Helper()
	var files []*File
	seen := map[string]bool{}
	for _, p := range allPages(tb, s) {
		files = append(files, p)
		for _, ref := range staticRefs.FindAll(p.Raw(), -1) {
			f, ok := s.Static(ref)
			if !ok {
				tb.Fatalf("page %s (%s): %s does not resolve", p.Name, p.Language, ref)
			}
			if !seen[f.Name] {
				seen[f.Name] = true
				files = append(files, f)
			}
		}
	}
	return files
}

// allPages returns every page in every locale.
func allPages(tb testing.TB, s *Set) []*File {
	tb.Helper()
	var out []*File
	for _, loc := range Locales {
		for _, name := range pageNames {
			p := s.Page(name, loc)
			if p == nil {
				tb.Fatalf("Page(%q, %q) = nil", name, loc)
			}
			out = append(out, p)
		}
	}
	return out
}

func TestLoad(t *testing.T) {
	s := MustLoad(t)
	routes := map[string]string{"create": "/", "secret": "/secret/:key", "receipt": "/receipt/:key", "security": "/security",
		"group": "/group/:key", "combine": "/combine", "ask": "/ask", "request": "/request/:key", "inbox": "/inbox/:key",
		"error-404": "error-404", "error-421": "error-421", "error-429": "error-429", "error-503": "error-503"}
	for _, loc := range Locales {
		for _, name := range pageNames {
			p := s.Page(name, loc)
			if p == nil {
				t.Fatalf("Page(%q, %q) = nil", name, loc)
			}
			if p.Name != routes[name] || p.Immutable || p.ContentType != "text/html; charset=utf-8" || p.Language != loc {
				t.Errorf("Page(%q, %q) = {Name %q, Immutable %v, ContentType %q, Language %q}", name, loc, p.Name, p.Immutable, p.ContentType, p.Language)
			}
		}
	}
	for _, bad := range [][2]string{{"nope", "en"}, {"", "en"}, {"create", ""}, {"create", "xx"}, {"create", "EN"}} {
		if s.Page(bad[0], bad[1]) != nil {
			t.Errorf("Page(%q, %q) gave a page", bad[0], bad[1])
		}
	}
	if len(s.static) == 0 {
		t.Fatal("no static files")
	}
	hashed := regexp.MustCompile(`^/static/[A-Za-z0-9_-]+\.[0-9a-f]{8}\.[a-z0-9]+$`)
	for name, f := range s.static {
		if name != f.Name || !hashed.MatchString(name) || !f.Immutable || f.ContentType == "" {
			t.Errorf("static %q = {Name %q, Immutable %v, ContentType %q}", name, f.Name, f.Immutable, f.ContentType)
		}
	}
}

func TestPagesReferToStaticFiles(t *testing.T) {
	s := MustLoad(t)
	used := map[string]bool{}
	for _, p := range allPages(t, s) {
		refs := staticRefs.FindAll(p.Raw(), -1)
		if len(refs) == 0 {
			t.Errorf("page %s (%s) refers to no static file", p.Name, p.Language)
		}
		for _, ref := range refs {
			if _, ok := s.Static(ref); !ok {
				t.Errorf("page %s (%s): %s does not resolve", p.Name, p.Language, ref)
			}
			used[string(ref)] = true
		}
	}
	// Every static file is used by some page.
	for name := range s.static {
		if !used[name] {
			t.Errorf("%s is used by no page", name)
		}
	}
}

func TestStaticRejects(t *testing.T) {
	s := MustLoad(t)
	var css string
	for name := range s.static {
		if strings.HasPrefix(name, "/static/app.") {
			css = name
		}
	}
	if css == "" {
		t.Fatal("no hashed app.css")
	}
	if _, ok := s.Static([]byte(css)); !ok {
		t.Fatalf("Static(%q) not found", css)
	}
	for _, p := range []string{
		"",
		"/",
		"/static/",
		"/static/app.css",
		"static/app.css",
		css[1:],
		css + "/",
		"/static/../static/" + css[len("/static/"):],
		"/static/" + strings.Replace(css[len("/static/"):], ".", "/../", 1),
		"/static/%2e%2e/" + css[len("/static/"):],
		strings.Replace(css, ".", "%2e", 1),
		"/static//" + css[len("/static/"):],
		"/" + css,
		"/static\\" + css[len("/static/"):],
		strings.Replace(css, "/static/", "/static\\", 1),
		css + "\x00",
		"/static/\x00" + css[len("/static/"):],
		strings.ToUpper(css),
		"/static/create.html",
		"/static/unknown.12345678.js",
		"/create.html",
		"/ui/app.css",
	} {
		if f, ok := s.Static([]byte(p)); ok || f != nil {
			t.Errorf("Static(%q) = %v, %v; want nil, false", p, f, ok)
		}
	}
}

func TestETags(t *testing.T) {
	s := MustLoad(t)
	etag := regexp.MustCompile(`^"[0-9a-f]{32}"$`)
	byTag := map[string]*File{}
	for _, f := range allFiles(t, s) {
		if !etag.MatchString(f.ETag) {
			t.Errorf("%s: ETag %q is not a quoted strong ETag", f.Name, f.ETag)
		}
		// The binary holds most bodies compressed only: Raw is
		// decompressed on demand, and must be the body the build hashed.
		if sum := sha256.Sum256(f.Raw()); f.ETag != `"`+hex.EncodeToString(sum[:16])+`"` {
			t.Errorf("%s: ETag %s is not the hash of Raw", f.Name, f.ETag)
		}
		if g, dup := byTag[f.ETag]; dup && !bytes.Equal(g.Raw(), f.Raw()) {
			t.Errorf("%s and %s differ but share ETag %s", f.Name, g.Name, f.ETag)
		}
		byTag[f.ETag] = f
	}
}

func TestCompressedBodiesDecompress(t *testing.T) {
	s := MustLoad(t)
	zr, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range allFiles(t, s) {
		if f.Gzip == nil || f.Zstd == nil {
			t.Errorf("%s: not compressed (gzip %d, zstd %d bytes)", f.Name, len(f.Gzip), len(f.Zstd))
			continue
		}
		if len(f.Gzip) >= len(f.Raw()) || len(f.Zstd) >= len(f.Raw()) {
			t.Errorf("%s: compressed is not smaller", f.Name)
		}
		gr, err := gzip.NewReader(bytes.NewReader(f.Gzip))
		if err != nil {
			t.Fatalf("%s: gzip: %v", f.Name, err)
		}
		got, err := io.ReadAll(gr)
		if err != nil || !bytes.Equal(got, f.Raw()) {
			t.Errorf("%s: gzip body does not decompress to Raw (err %v)", f.Name, err)
		}
		got, err = zr.DecodeAll(f.Zstd, nil)
		if err != nil || !bytes.Equal(got, f.Raw()) {
			t.Errorf("%s: zstd body does not decompress to Raw (err %v)", f.Name, err)
		}
	}
}

func TestEncode(t *testing.T) {
	f := &File{raw: []byte("raw"), Gzip: []byte("gz"), Zstd: []byte("zs")}
	onlyGzip := &File{raw: []byte("raw"), Gzip: []byte("gz")}
	for _, tt := range []struct {
		header string
		file   *File
		want   string
	}{
		{"", f, ""},
		{"zstd", f, "zstd"},
		{"gzip", f, "gzip"},
		{"gzip, deflate, br, zstd", f, "zstd"},
		{"gzip;q=1.0, zstd;q=0.1", f, "zstd"},
		{"zstd;q=0, gzip", f, "gzip"},
		{"zstd;q=0.000, gzip", f, "gzip"},
		{"zstd;q=0.001", f, "zstd"},
		{"gzip;q=0", f, ""},
		{"gzip; q=0", f, ""},
		{"gzip;Q=0", f, ""},
		{"deflate, br", f, ""},
		{"identity", f, ""},
		{"*", f, "zstd"},
		{"*;q=0", f, ""},
		{"*, zstd;q=0", f, "gzip"},
		{"*, zstd;q=0, gzip;q=0", f, ""},
		{"br, *;q=0.5", f, "zstd"},
		{"zstd", onlyGzip, ""},
		{"zstd, gzip", onlyGzip, "gzip"},
		{"*", onlyGzip, "gzip"},
		{"  ZSTD  ,GZip", f, "zstd"},
		{"\tgzip\t;\tq=0.5", f, "gzip"},
		{"GZIP", f, "gzip"},
		{"x-gzip", f, "gzip"},
		{"gzip;foo=bar;q=0", f, ""},
		{"gzip;foo=bar", f, "gzip"},
		{"gzip;q=bogus", f, ""},
		{"gzip;q=2", f, ""},
		{"gzip;q=1.5", f, ""},
		{"gzip;q=0.5000", f, ""},
		{"gzip;q=", f, ""},
		{"gzip;q=0, gzip", f, "gzip"},
		{"gzipx, zstdy", f, ""},
		{",,, ,", f, ""},
		{"zst", f, ""},
		{"zstd;", f, "zstd"},
	} {
		body, enc := tt.file.Encode([]byte(tt.header))
		want := map[string][]byte{"": tt.file.Raw(), "gzip": tt.file.Gzip, "zstd": tt.file.Zstd}[tt.want]
		if enc != tt.want || !bytes.Equal(body, want) {
			t.Errorf("Encode(%q) = %q, %q; want %q, %q", tt.header, body, enc, want, tt.want)
		}
	}
}

func TestEncodeDoesNotAllocate(t *testing.T) {
	s := MustLoad(t)
	f := s.Page("create", "en")
	h := []byte("gzip, deflate, br;q=0.9, zstd;q=0.8, *;q=0.1")
	if n := testing.AllocsPerRun(100, func() { f.Encode(h) }); n != 0 {
		t.Errorf("Encode allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { s.Static(h) }); n != 0 {
		t.Errorf("Static allocates %v times", n)
	}
}

func FuzzEncode(f *testing.F) {
	for _, seed := range []string{"", "gzip", "zstd;q=0.5, gzip;q=0", "*;q=0", " , ;;q=,", "x-gzip;Q=1.000"} {
		f.Add([]byte(seed))
	}
	file := &File{raw: []byte("raw"), Gzip: []byte("gz"), Zstd: []byte("zs")}
	f.Fuzz(func(t *testing.T, header []byte) {
		body, enc := file.Encode(header)
		want := map[string][]byte{"": file.Raw(), "gzip": file.Gzip, "zstd": file.Zstd}
		w, ok := want[enc]
		if !ok || !bytes.Equal(body, w) {
			t.Fatalf("Encode(%q) = %q, %q", header, body, enc)
		}
		if enc != "" && !bytes.Contains(bytes.ToLower(header), []byte(enc[:2])) && !bytes.Contains(header, []byte("*")) {
			t.Fatalf("Encode(%q) chose %q, which the header does not mention", header, enc)
		}
	})
}

var (
	tagRE     = regexp.MustCompile(`(?s)<[a-zA-Z][^>]*>`)
	handlerRE = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleRE   = regexp.MustCompile(`(?i)\sstyle\s*=`)
	scriptRE  = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script\s*>`)
	srcRE     = regexp.MustCompile(`\ssrc="(/static/[^"]+)"`)
)

// TestPagesObeyCSP checks what the Content-Security-Policy would otherwise
// break at run time: no inline script, style or event handler anywhere.
func TestPagesObeyCSP(t *testing.T) {
	s := MustLoad(t)
	for _, p := range allPages(t, s) {
		name, page := p.Name+" ("+p.Language+")", p.Raw()
		for _, tag := range tagRE.FindAll(page, -1) {
			if handlerRE.Match(tag) {
				t.Errorf("%s: event-handler attribute in %s", name, tag)
			}
			if styleRE.Match(tag) {
				t.Errorf("%s: style attribute in %s", name, tag)
			}
			if bytes.Contains(bytes.ToLower(tag), []byte("javascript:")) {
				t.Errorf("%s: javascript: URL in %s", name, tag)
			}
		}
		if bytes.Contains(bytes.ToLower(page), []byte("<style")) {
			t.Errorf("%s: has a <style> element", name)
		}
		scripts := scriptRE.FindAllSubmatch(page, -1)
		if n := bytes.Count(bytes.ToLower(page), []byte("<script")); n != len(scripts) {
			t.Errorf("%s: %d <script> tags but %d well-formed script elements", name, n, len(scripts))
		}
		for _, m := range scripts {
			if len(bytes.TrimSpace(m[2])) != 0 {
				t.Errorf("%s: inline script content %q", name, m[2])
			}
			src := srcRE.FindSubmatch(m[1])
			if src == nil {
				t.Errorf("%s: <script%s> has no src under /static/", name, m[1])
				continue
			}
			if _, ok := s.Static(src[1]); !ok {
				t.Errorf("%s: script %s does not resolve", name, src[1])
			}
		}
	}
}

// TestPagesBasics checks what every page must carry.
func TestPagesBasics(t *testing.T) {
	s := MustLoad(t)
	rtl := map[string]bool{"ar": true, "fa": true, "he": true}
	for _, p := range allPages(t, s) {
		name, page := p.Name+" ("+p.Language+")", string(p.Raw())
		dir := "ltr"
		if rtl[p.Language] {
			dir = "rtl"
		}
		want := []string{
			`<html lang="` + p.Language + `" dir="` + dir + `">`,
			`<a class="skip" href="#main">`,
			`<main id="main"`,
			`<meta name="viewport" content="width=device-width, initial-scale=1">`,
			`<meta name="referrer" content="no-referrer">`,
			`<meta charset="utf-8">`,
			`href="/security"`,
			`rel="stylesheet"`,
		}
		if !strings.HasPrefix(p.Name, "error-") {
			want = append(want, `<noscript>`) // error pages need no script
		}
		for _, want := range want {
			if !strings.Contains(page, want) {
				t.Errorf("%s: missing %s", name, want)
			}
		}
		// Every control has a label.
		for _, id := range regexp.MustCompile(`<(?:input|textarea|select)[^>]*\sid="([^"]+)"`).FindAllStringSubmatch(page, -1) {
			if !strings.Contains(page, `for="`+id[1]+`"`) {
				t.Errorf("%s: control #%s has no <label for>", name, id[1])
			}
		}
	}
}

// TestScriptsKeepSecretsOut checks the scripts never reach for storage,
// cookies or the console, and never build HTML from strings. Only the two
// scripts that keep the tab's theme and language choice may touch
// sessionStorage, under those two names, and common.js also under the one
// that keeps a create token the sender typed.
func TestScriptsKeepSecretsOut(t *testing.T) {
	s := MustLoad(t)
	storageUse := regexp.MustCompile(`sessionStorage\.\w+\(([^,)]*)`)
	for name, f := range s.static {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		if strings.HasPrefix(name, "/static/prefs.") || strings.HasPrefix(name, "/static/common.") {
			for _, m := range storageUse.FindAllSubmatch(f.Raw(), -1) {
				switch string(m[1]) {
				case `"otslite.theme"`, `"otslite.locale"`, "STORE_THEME", "STORE_LOCALE", "name":
				case "STORE_TOKEN":
					if !strings.HasPrefix(name, "/static/common.") {
						t.Errorf("%s: sessionStorage used with %s", name, m[1])
					}
				default:
					t.Errorf("%s: sessionStorage used with %s", name, m[1])
				}
			}
		} else if bytes.Contains(f.Raw(), []byte("sessionStorage")) {
			t.Errorf("%s uses sessionStorage", name)
		}
		for _, banned := range []string{"localStorage", "indexedDB", "document.cookie", "console.", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "history.pushState", "history.replaceState"} {
			if bytes.Contains(f.Raw(), []byte(banned)) {
				t.Errorf("%s uses %s", name, banned)
			}
		}
		if !bytes.Contains(f.Raw(), []byte(`cache: "no-store"`)) && strings.Contains(name, "common") {
			t.Errorf("%s: fetch without cache: no-store", name)
		}
	}
}

// TestCreatePageIsSmall holds the first load of the create page (the page
// and everything it refers to, as a browser asking for gzip gets them) to
// 60 KB in every language.
func TestCreatePageIsSmall(t *testing.T) {
	s := MustLoad(t)
	for _, loc := range Locales {
		p := s.Page("create", loc)
		total := len(p.Gzip)
		for _, ref := range staticRefs.FindAll(p.Raw(), -1) {
			f, ok := s.Static(ref)
			if !ok {
				t.Fatalf("%s does not resolve", ref)
			}
			body, _ := f.Encode([]byte("gzip, deflate, br"))
			total += len(body)
		}
		if total > 60_000 {
			t.Errorf("create page (%s) first load is %d bytes compressed; want at most 60 KB", loc, total)
		}
		t.Logf("create page (%s): %d bytes compressed on first load", loc, total)
	}
}

func BenchmarkEncode(b *testing.B) {
	f := &File{raw: []byte("raw"), Gzip: []byte("gz"), Zstd: []byte("zs")}
	h := []byte("gzip, deflate, br, zstd")
	b.ReportAllocs()
	for b.Loop() {
		f.Encode(h)
	}
}

func BenchmarkStatic(b *testing.B) {
	s := MustLoad(b)
	var name []byte
	for n := range s.static {
		name = []byte(n)
		break
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Static(name)
	}
}
