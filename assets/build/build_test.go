package build

import (
	"bytes"
	"encoding/json"
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
			a.ETag == b.ETag && a.Immutable == b.Immutable && bytes.Equal(a.Raw(), b.Raw()) && bytes.Equal(a.Gzip, b.Gzip) && bytes.Equal(a.Zstd, b.Zstd)
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
	if body, enc := f.Encode([]byte("zstd, gzip")); enc != "" || !bytes.Equal(body, f.Raw()) {
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
			u.locales[loc+".json"] = &fstest.MapFile{Data: catalogWithPlurals(loc, `"meta.name":"N","meta.dir":"ltr","k":"text {n}","js.x":"y"`)}
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
			u.locales["pt-BR.json"] = &fstest.MapFile{Data: catalogWithPlurals("pt-BR", `"meta.name":"N","meta.dir":"up","k":"text {n}","js.x":"y"`)}
		},
		"ErrMissingPluralForm": func(u uiFS) {
			// Russian needs one, few, many and other; "few" is left out.
			u.locales["ru.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"text {n}","js.x":"y","js.p|one":"{n} a","js.p|many":"{n} c","js.p|other":"{n} d"}`)}
		},
		"ErrExtraPluralForm": func(u uiFS) {
			// Japanese has only "other".
			u.locales["ja.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"text {n}","js.x":"y","js.p|one":"{n} a","js.p|other":"{n} d"}`)}
		},
		"ErrPluralPlaceholder": func(u uiFS) {
			// French "one" stands for 0 and 1: it must show the count.
			u.locales["fr.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"text {n}","js.x":"y","js.p|one":"un","js.p|many":"{n} b","js.p|other":"{n} d"}`)}
		},
		"ErrPluralBrokenPlaceholder": func(u uiFS) {
			u.locales["de.json"] = &fstest.MapFile{Data: []byte(`{"meta.name":"N","meta.dir":"ltr","k":"text {n}","js.x":"y","js.p|one":"{n} a","js.p|other":"{m} d"}`)}
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

// catalogWithPlurals is a test catalog for loc: the given fields and the
// plural text "js.p" in every form loc has.
func catalogWithPlurals(loc, fields string) []byte {
	var b strings.Builder
	b.WriteString("{" + fields)
	for _, cat := range pluralCategories[loc] {
		b.WriteString(`,"js.p` + pluralSep + cat + `":"{n} ` + cat + `"`)
	}
	b.WriteString("}")
	return []byte(b.String())
}

// TestBuildAcceptsOmittedCount: a form that stands for one number alone may
// leave the count out (Arabic "two", English "one"); the same catalogs with
// every form counting load too.
func TestBuildAcceptsOmittedCount(t *testing.T) {
	for loc, c := range map[string]string{
		"ar": `"js.p|zero":"none","js.p|one":"one","js.p|two":"two","js.p|few":"{n} few","js.p|many":"{n} many","js.p|other":"{n} other"`,
		"en": `"js.p|one":"one","js.p|other":"{n} other"`,
	} {
		cats := map[string]catalog{}
		for _, l := range []string{assets.DefaultLocale, loc} {
			var v catalog
			raw := catalogWithPlurals(l, `"meta.name":"N","meta.dir":"ltr"`)
			if l == loc {
				raw = []byte(`{"meta.name":"N","meta.dir":"ltr",` + c + `}`)
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			cats[l] = v
		}
		if err := cats[loc].check(cats[assets.DefaultLocale], loc); err != nil {
			t.Errorf("%s: %v", loc, err)
		}
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
	pluralKeyRE   = regexp.MustCompile(`\bP\("([A-Za-z]+)", `)
	pluralCallRE  = regexp.MustCompile(`\bP\(`)
)

// usedKeys returns every catalog key the templates and scripts ask for. A
// plural text counts as used under its name: "js.chars|" stands for every
// "js.chars|<category>".
func usedKeys(tb testing.TB) map[string]bool {
	tb.Helper()
	used := map[string]bool{"meta.name": true, "meta.dir": true} // read by render
	walk := func(dir string, re *regexp.Regexp, prefix, suffix string) {
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
				// Every T( and P( call names its text literally, so this
				// scan sees them all (the definitions themselves aside).
				for _, c := range []struct {
					call, lit *regexp.Regexp
					def       string
				}{{scriptCallRE, scriptKeyRE, "function T("}, {pluralCallRE, pluralKeyRE, "function P("}} {
					calls := len(c.call.FindAll(raw, -1)) - bytes.Count(raw, []byte(c.def))
					if lit := len(c.lit.FindAll(raw, -1)); calls != lit {
						tb.Errorf("ui/%s: %d %s calls, %d with a literal text name", e.Name(), calls, c.def[9:], lit)
					}
				}
			}
			for _, m := range re.FindAllSubmatch(raw, -1) {
				used[prefix+string(m[1])+suffix] = true
			}
		}
	}
	walk("pages", templateKeyRE, "", "")
	walk("ui", scriptKeyRE, jsPrefix, "")
	walk("ui", pluralKeyRE, jsPrefix, pluralSep)
	return used
}

// TestCatalogKeys fails when any catalog misses a key that a page or script
// uses, or holds one that nothing uses.
func TestCatalogKeys(t *testing.T) {
	_, _, sub := sources()
	cats, err := loadCatalogs(sub)
	if err != nil {
		t.Fatal(err)
	}
	used := usedKeys(t)
	for _, loc := range assets.Locales {
		c := cats[loc]
		for k := range used {
			if base, plural := strings.CutSuffix(k, pluralSep); plural {
				if _, ok := c[base+pluralSep+"other"]; !ok && len(pluralCategories[loc]) > 0 {
					t.Errorf("%s: missing plural text %q", loc, base)
				}
			} else if _, ok := c[k]; !ok {
				t.Errorf("%s: missing key %q", loc, k)
			}
		}
		for k := range c {
			name := k
			if base, _, plural := strings.Cut(k, pluralSep); plural {
				name = base + pluralSep
			}
			if !used[name] {
				t.Errorf("%s: unused key %q", loc, k)
			}
		}
	}
}

// TestPluralForms checks every plural text has exactly the CLDR forms of
// its language (loadCatalogs refuses anything else; this says which).
func TestPluralForms(t *testing.T) {
	_, _, sub := sources()
	cats, err := loadCatalogs(sub)
	if err != nil {
		t.Fatal(err)
	}
	if len(pluralCategories) != len(assets.Locales) {
		t.Errorf("plural rules for %d locales, %d locales", len(pluralCategories), len(assets.Locales))
	}
	var names []string
	for k := range cats[assets.DefaultLocale] {
		if base, ok := strings.CutSuffix(k, pluralSep+"other"); ok {
			names = append(names, base)
		}
	}
	if len(names) == 0 {
		t.Fatal("no plural texts")
	}
	for _, loc := range assets.Locales {
		for _, name := range names {
			var got []string
			for k := range cats[loc] {
				if cat, ok := strings.CutPrefix(k, name+pluralSep); ok {
					got = append(got, cat)
				}
			}
			want := slices.Clone(pluralCategories[loc])
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s has forms %v, want %v", loc, name, got, want)
			}
		}
	}
}

// TestCatalogsAreTranslated catches a catalog copied from English and left
// so: apart from a few words that are the same in both languages, its texts
// must differ from English.
func TestCatalogsAreTranslated(t *testing.T) {
	_, _, sub := sources()
	cats, err := loadCatalogs(sub)
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

// TestRevealIsNotShow: the button that consumes a secret never reads like
// the one that shows a typed passphrase (Korean once used one word for
// both), and Korean calls the sender's page something better than a shop's
// receipt (영수증).
func TestRevealIsNotShow(t *testing.T) {
	_, _, sub := sources()
	cats, err := loadCatalogs(sub)
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range assets.Locales {
		c := cats[loc]
		show := strings.ToLower(c["form.show"])
		for _, k := range []string{"secret.reveal", "js.decrypting"} {
			if strings.Contains(strings.ToLower(c[k]), show) {
				t.Errorf("%s: %s %q contains the word for Show, %q", loc, k, c[k], c["form.show"])
			}
		}
	}
	for k, v := range cats["ko"] {
		if strings.Contains(v, "영수증") {
			t.Errorf("ko: %s still says 영수증: %q", k, v)
		}
	}
}
