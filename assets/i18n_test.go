package assets

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestTextScripts(t *testing.T) {
	s := MustLoad(t)
	for _, loc := range Locales {
		page := s.Page("create", loc)
		m := regexp.MustCompile(`src="(/static/text-` + regexp.QuoteMeta(loc) + `\.[0-9a-f]{8}\.js)"`).FindSubmatch(page.Raw())
		if m == nil {
			t.Fatalf("%s: create page loads no text-%s script", loc, loc)
		}
		f, ok := s.Static(m[1])
		if !ok || !f.Immutable || f.ContentType != "text/javascript; charset=utf-8" {
			t.Fatalf("%s: %s is not served as an immutable script", loc, m[1])
		}
		if !bytes.HasPrefix(f.Raw(), []byte("// otslite UI texts")) || !bytes.Contains(f.Raw(), []byte(`window.otsliteText = Object.freeze({"`)) {
			t.Errorf("%s: text script is %.120q", loc, f.Raw())
		}
		if bytes.Contains(f.Raw(), []byte("</")) || bytes.Contains(f.Raw(), []byte(`"js.`)) {
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
		page := s.Page("create", loc).Raw()
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
