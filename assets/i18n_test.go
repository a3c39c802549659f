package assets

import (
	"bytes"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"
)

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
		entries, err := fs.ReadDir(embedded, dir)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range entries {
			raw, err := fs.ReadFile(embedded, dir+"/"+e.Name())
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
	sub, _ := fs.Sub(embedded, "locales")
	cats, err := loadCatalogs(sub)
	if err != nil {
		t.Fatal(err)
	}
	used := usedKeys(t)
	for _, loc := range Locales {
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
	sub, _ := fs.Sub(embedded, "locales")
	cats, err := loadCatalogs(sub)
	if err != nil {
		t.Fatal(err)
	}
	if len(pluralCategories) != len(Locales) {
		t.Errorf("plural rules for %d locales, %d locales", len(pluralCategories), len(Locales))
	}
	var names []string
	for k := range cats[DefaultLocale] {
		if base, ok := strings.CutSuffix(k, pluralSep+"other"); ok {
			names = append(names, base)
		}
	}
	if len(names) == 0 {
		t.Fatal("no plural texts")
	}
	for _, loc := range Locales {
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
	sub, _ := fs.Sub(embedded, "locales")
	cats, err := loadCatalogs(sub)
	if err != nil {
		t.Fatal(err)
	}
	en := cats[DefaultLocale]
	for _, loc := range Locales[1:] {
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

func TestTextScripts(t *testing.T) {
	s := MustLoad(t)
	for _, loc := range Locales {
		page := s.Page("create", loc)
		m := regexp.MustCompile(`src="(/static/text-` + regexp.QuoteMeta(loc) + `\.[0-9a-f]{8}\.js)"`).FindSubmatch(page.Raw)
		if m == nil {
			t.Fatalf("%s: create page loads no text-%s script", loc, loc)
		}
		f, ok := s.Static(m[1])
		if !ok || !f.Immutable || f.ContentType != contentTypes[".js"] {
			t.Fatalf("%s: %s is not served as an immutable script", loc, m[1])
		}
		if !bytes.HasPrefix(f.Raw, []byte("// otslite UI texts")) || !bytes.Contains(f.Raw, []byte(`window.otsliteText = Object.freeze({"`)) {
			t.Errorf("%s: text script is %.120q", loc, f.Raw)
		}
		if bytes.Contains(f.Raw, []byte("</")) || bytes.Contains(f.Raw, []byte(`"js.`)) {
			t.Errorf("%s: text script holds </ or unstripped js. names", loc)
		}
	}
}

func TestPagesAreTranslated(t *testing.T) {
	s := MustLoad(t)
	for loc, want := range map[string]string{
		"en":    "Share a secret",
		"fr":    "Partager un secret",
		"ko":    "비밀 공유하기",
		"de":    "Ein Geheimnis teilen",
		"ja":    "秘密を共有する",
		"zh-CN": "分享秘密",
		"pt-BR": "Compartilhar um segredo",
		"es":    "Compartir un secreto",
		"it":    "Condividi un segreto",
		"ar":    "شارك سرًا",
		"he":    "שיתוף סוד",
		"ru":    "Поделиться секретом",
		"zh-TW": "分享秘密",
		"hi":    "राज़ साझा करें",
		"sw":    "Shiriki siri",
	} {
		page := s.Page("create", loc).Raw
		if !bytes.Contains(page, []byte("<h1>"+want+"</h1>")) {
			t.Errorf("%s: create page lacks <h1>%s</h1>", loc, want)
		}
		// The menu names every language in its own words, and marks this one.
		for _, other := range Locales {
			if !bytes.Contains(page, []byte(`hreflang="`+other+`" lang="`+other+`"`)) {
				t.Errorf("%s: language menu lacks %s", loc, other)
			}
		}
		if !bytes.Contains(page, []byte(`data-locale="`+loc+`" aria-current="true"`)) {
			t.Errorf("%s: language menu does not mark %s as current", loc, loc)
		}
	}
}

// TestRevealIsNotShow: the button that consumes a secret never reads like
// the one that shows a typed passphrase (Korean once used one word for
// both), and Korean calls the sender's page something better than a shop's
// receipt (영수증).
func TestRevealIsNotShow(t *testing.T) {
	sub, _ := fs.Sub(embedded, "locales")
	cats, err := loadCatalogs(sub)
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range Locales {
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

func TestNegotiate(t *testing.T) {
	for _, tt := range []struct{ query, header, want string }{
		{"", "", "en"},
		{"fr", "", "fr"},
		{"FR", "", "fr"},
		{"ko", "fr", "ko"},
		{"pt_br", "", "pt-BR"},
		{"pt", "", "pt-BR"},
		{"zh", "", "zh-CN"},
		{"zh-Hans-CN", "", "zh-CN"},
		{"xx", "de", "de"}, // an unknown ?locale= falls through to the header
		{"", "xx", "en"},   // and an unknown header to English
		{"en-US", "fr", "en"},
		{"", "fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"},
		{"", "pt-PT", "pt-BR"},
		{"", "pt", "pt-BR"},
		{"", "pt-br", "pt-BR"},
		{"", "zh-TW", "zh-TW"},
		{"", "zh-Hant-HK,zh;q=0.9", "zh-TW"},
		{"", "zh-HK", "zh-TW"},
		{"", "zh_hant", "zh-TW"},
		{"", "zh-Hans-HK", "zh-CN"},
		{"", "zh-SG", "zh-CN"},
		{"", "zh", "zh-CN"},
		{"", "ar-EG", "ar"},
		{"", "he-IL", "he"},
		{"", "iw", "he"},
		{"", "in-ID", "id"},
		{"", "no", "nb"},
		{"", "nn-NO", "nb"},
		{"", "nb-NO", "nb"},
		{"", "fa-IR", "fa"},
		{"", "sw-KE", "sw"},
		{"", "ja-JP", "ja"},
		{"", "ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"},
		{"", "de;q=0.5, es;q=0.8", "es"},
		{"", "de;q=0.8, es;q=0.8", "de"}, // ties go to the first
		{"", "it;q=0, fr;q=0.1", "fr"},
		{"", "it;q=0", "en"},
		{"", "xx, it;q=0.2", "it"},
		{"", "it;q=bogus, es;q=0.1", "es"},
		{"", "it;q=1.5, es;q=0.1", "es"},
		{"", "  ES  ; Q=0.9 ", "es"},
		{"", "*", "en"},
		{"", "en;q=0.1, fr", "fr"},
		{"", "nl-BE, nl;q=0.9", "nl"},
		{"", "xh-ZA, zu;q=0.9", "en"},
		{"", ",,;;,", "en"},
		{"", strings.Repeat("xx,", 40) + "fr", "en"}, // past the item bound
		{"", strings.Repeat("a", 64), "en"},
	} {
		if got := Negotiate([]byte(tt.query), []byte(tt.header)); got != tt.want {
			t.Errorf("Negotiate(%q, %q) = %q, want %q", tt.query, tt.header, got, tt.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, seed := range [][2]string{{"", ""}, {"pt", ""}, {"", "fr-CH, fr;q=0.9, *;q=0.5"}, {"zh_hans", "ko;q=0.001"}, {"", "de;q=1.000, it;Q=0.5"}} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, query, header []byte) {
		got := Negotiate(query, header)
		if !slices.Contains(Locales, got) {
			t.Fatalf("Negotiate(%q, %q) = %q, not a locale", query, header, got)
		}
		// A ?locale= naming a locale always wins.
		if q := Negotiate(nil, nil); q != DefaultLocale {
			t.Fatalf("no input gave %q", q)
		}
		if loc, ok := match(query); ok && got != loc {
			t.Fatalf("Negotiate(%q, %q) = %q, but the query names %q", query, header, got, loc)
		}
		// The header alone gives the same answer twice (no state).
		if Negotiate(nil, header) != Negotiate(nil, header) {
			t.Fatal("Negotiate is not deterministic")
		}
	})
}
