package build

import (
	"bytes"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"otslite/assets"
)

// sources are the UI's sources, beside this package.
func sources() (static, templates, locales fs.FS) {
	return os.DirFS("../ui"), os.DirFS("../pages"), os.DirFS("../locales")
}

// The generated files are what the sources build to today: a change to
// ui/, pages/ or locales/ without go generate ./assets fails here (and in
// CI, which also regenerates and compares).
func TestGeneratedUpToDate(t *testing.T) {
	out, err := Build(sources())
	if err != nil {
		t.Fatal(err)
	}
	src, blob, err := out.Generate()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		want []byte
	}{{GoFile, src}, {BlobFile, blob}} {
		have, err := os.ReadFile("../" + f.name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(have, f.want) {
			t.Errorf("assets/%s is not what the sources build to: run go generate ./assets", f.name)
		}
	}
	// And package assets serves exactly the build.
	set, err := assets.Load()
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b *assets.File) bool {
		return a != nil && b != nil && a.Name == b.Name && a.ContentType == b.ContentType && a.Language == b.Language &&
			a.ETag == b.ETag && a.Immutable == b.Immutable && bytes.Equal(a.Raw, b.Raw) && bytes.Equal(a.Gzip, b.Gzip) && bytes.Equal(a.Zstd, b.Zstd)
	}
	for _, f := range out.Static {
		if g, _ := set.Static([]byte(f.Name)); !same(f, g) {
			t.Errorf("static %s: served %+v", f.Name, g)
		}
	}
	for page, files := range out.Pages {
		for _, f := range files {
			if g := set.Page(page, f.Language); !same(f, g) {
				t.Errorf("page %s (%s) served differs", page, f.Language)
			}
		}
	}
}

// The same sources build to the same bytes.
func TestBuildDeterministic(t *testing.T) {
	var prev [2][]byte
	for i := range 2 {
		out, err := Build(sources())
		if err != nil {
			t.Fatal(err)
		}
		src, blob, err := out.Generate()
		if err != nil {
			t.Fatal(err)
		}
		if i > 0 && (!bytes.Equal(src, prev[0]) || !bytes.Equal(blob, prev[1])) {
			t.Fatal("two builds of the same sources differ")
		}
		prev = [2][]byte{src, blob}
	}
}

func TestETags(t *testing.T) {
	c, err := newCompressor()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	a, _ := c.file("/a", "text/plain", true, []byte("one"))
	b, _ := c.file("/b", "text/plain", true, []byte("two"))
	a2, _ := c.file("/a2", "text/plain", true, []byte("one"))
	if a.ETag == b.ETag || a.ETag != a2.ETag {
		t.Errorf("ETags: one %s, two %s, one again %s", a.ETag, b.ETag, a2.ETag)
	}
}

func TestIncompressibleKeepsRawOnly(t *testing.T) {
	c, err := newCompressor()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	f, err := c.file("/x", "text/plain", true, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Gzip != nil || f.Zstd != nil {
		t.Errorf("1-byte file kept compressed forms: gzip %d, zstd %d bytes", len(f.Gzip), len(f.Zstd))
	}
	if body, enc := f.Encode([]byte("zstd, gzip")); enc != "" || !bytes.Equal(body, f.Raw) {
		t.Errorf("Encode = %q, %q; want raw", body, enc)
	}
}

func TestBuildErrors(t *testing.T) {
	type uiFS struct{ static, pages, locales fstest.MapFS }
	good := func() uiFS {
		u := uiFS{
			static:  fstest.MapFS{"app.css": {Data: []byte("body{}")}},
			pages:   fstest.MapFS{layoutFile: {Data: []byte(`{{define "page"}}<link href="/static/app.css">{{.T "k"}}{{template "main" .}}{{end}}`)}},
			locales: fstest.MapFS{},
		}
		for _, p := range pages {
			u.pages[p.file] = &fstest.MapFile{Data: []byte(`{{define "main"}}{{.T "k"}} {{.Lang}}{{end}}`)}
		}
		for _, loc := range assets.Locales {
			u.locales[loc+".json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"text {n}","js.x":"y"}`)}
		}
		return u
	}
	if _, err := Build(good().static, good().pages, good().locales); err != nil {
		t.Fatalf("good ui: %v", err)
	}
	for name, breakIt := range map[string]func(uiFS){
		"ErrMissingStatic": func(u uiFS) {
			u.pages["create.html"] = &fstest.MapFile{Data: []byte(`{{define "main"}}<script src="/static/nope.js"></script>{{end}}`)}
		},
		"ErrMissingPage":  func(u uiFS) { delete(u.pages, "secret.html") },
		"ErrUnknownPage":  func(u uiFS) { u.pages["extra.html"] = &fstest.MapFile{Data: []byte("x")} },
		"ErrPageInStatic": func(u uiFS) { u.static["extra.html"] = &fstest.MapFile{Data: []byte("x")} },
		"ErrUnknownExt":   func(u uiFS) { u.static["a.exe"] = &fstest.MapFile{Data: []byte("x")} },
		"ErrBadName":      func(u uiFS) { u.static["a.b.css"] = &fstest.MapFile{Data: []byte("x")} },
		"ErrTextName":     func(u uiFS) { u.static["text-en.js"] = &fstest.MapFile{Data: []byte("x")} },
		"ErrSubdirectory": func(u uiFS) { u.static["sub/a.css"] = &fstest.MapFile{Data: []byte("x")} },
		"ErrBadTemplate":  func(u uiFS) { u.pages["create.html"] = &fstest.MapFile{Data: []byte(`{{define "main"}}{{.T}`)} },
		"ErrUnknownTextKey": func(u uiFS) {
			u.pages["create.html"] = &fstest.MapFile{Data: []byte(`{{define "main"}}{{.T "nope"}}{{end}}`)}
		},
		"ErrScriptTextInPage": func(u uiFS) {
			u.pages["create.html"] = &fstest.MapFile{Data: []byte(`{{define "main"}}{{.T "js.x"}}{{end}}`)}
		},
		"ErrMissingCatalog": func(u uiFS) { delete(u.locales, "ko.json") },
		"ErrUnknownCatalog": func(u uiFS) { u.locales["xx.json"] = u.locales["en.json"] },
		"ErrBadCatalog":     func(u uiFS) { u.locales["fr.json"] = &fstest.MapFile{Data: []byte(`{"k":`)} },
		"ErrMissingKey": func(u uiFS) {
			u.locales["de.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","js.x":"y"}`)}
		},
		"ErrExtraKey": func(u uiFS) {
			u.locales["ja.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"text {n}","js.x":"y","more":"z"}`)}
		},
		"ErrEmptyText": func(u uiFS) {
			u.locales["es.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"  ","js.x":"y"}`)}
		},
		"ErrPlaceholder": func(u uiFS) {
			u.locales["it.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"text {m}","js.x":"y"}`)}
		},
		"ErrDirection": func(u uiFS) {
			u.locales["pt-BR.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"up","k":"text {n}","js.x":"y"}`)}
		},
		"ErrStaticRefersToStatic": func(u uiFS) {
			u.static["app.css"] = &fstest.MapFile{Data: []byte("body{background:url(/static/x.svg)}")}
		},
	} {
		t.Run(name, func(t *testing.T) {
			u := good()
			breakIt(u)
			if _, err := Build(u.static, u.pages, u.locales); err == nil {
				t.Error("Build succeeded")
			}
		})
	}
}

func TestRewriteRefs(t *testing.T) {
	out, err := rewriteRefs([]byte(`<a href="/static/a.css">/static/b.js</a>`),
		map[string]string{"a.css": "/static/a.11111111.css", "b.js": "/static/b.22222222.js"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `<a href="/static/a.11111111.css">/static/b.22222222.js</a>`; string(out) != want {
		t.Errorf("got %s, want %s", out, want)
	}
}

var (
	templateKeyRE = regexp.MustCompile(`\.T "([^"]+)"`)
	scriptKeyRE   = regexp.MustCompile(`\bT\("([A-Za-z]+)"\)`)
	scriptCallRE  = regexp.MustCompile(`\bT\(`)
)

// usedKeys returns every catalog key the templates and scripts ask for.
func usedKeys(tb testing.TB) map[string]bool {
	tb.Helper()
	used := map[string]bool{"meta.name": true, "meta.dir": true} // read by render
	walk := func(dir string, re *regexp.Regexp, prefix string) {
		entries, err := fs.ReadDir(os.DirFS(".."), dir)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range entries {
			raw, err := fs.ReadFile(os.DirFS(".."), dir+"/"+e.Name())
			if err != nil {
				tb.Fatal(err)
			}
			if dir == "ui" && strings.HasSuffix(e.Name(), ".js") {
				// Every T( call names its text literally, so this scan
				// sees them all (the definition itself aside).
				calls := len(scriptCallRE.FindAll(raw, -1)) - bytes.Count(raw, []byte("function T("))
				if lit := len(re.FindAll(raw, -1)); calls != lit {
					tb.Errorf("ui/%s: %d T( calls, %d with a literal text name", e.Name(), calls, lit)
				}
			}
			for _, m := range re.FindAllSubmatch(raw, -1) {
				used[prefix+string(m[1])] = true
			}
		}
	}
	walk("pages", templateKeyRE, "")
	walk("ui", scriptKeyRE, jsPrefix)
	return used
}

// TestCatalogKeys fails when any catalog misses a key that a page or script
// uses, or holds one that nothing uses.
func TestCatalogKeys(t *testing.T) {
	_, _, locales := sources()
	cats, err := loadCatalogs(locales)
	if err != nil {
		t.Fatal(err)
	}
	used := usedKeys(t)
	for _, loc := range assets.Locales {
		c := cats[loc]
		for k := range used {
			if _, ok := c[k]; !ok {
				t.Errorf("%s: missing key %q", loc, k)
			}
		}
		for k := range c {
			if !used[k] {
				t.Errorf("%s: unused key %q", loc, k)
			}
		}
	}
}

// TestCatalogsAreTranslated catches a catalog copied from English and left
// so: apart from a few words that are the same in both languages, its texts
// must differ from English.
func TestCatalogsAreTranslated(t *testing.T) {
	_, _, locales := sources()
	cats, err := loadCatalogs(locales)
	if err != nil {
		t.Fatal(err)
	}
	en := cats[assets.DefaultLocale]
	for _, loc := range assets.Locales[1:] {
		var same []string
		for k, v := range cats[loc] {
			if k != "meta.dir" && v == en[k] {
				same = append(same, k)
			}
		}
		slices.Sort(same)
		if len(same) > len(en)/20 {
			t.Errorf("%s: %d of %d texts are the English ones: %v", loc, len(same), len(en), same)
		}
	}
}
