package assets

import (
	"bytes"
	"strings"
)

// Locale negotiation. The page a visitor gets speaks, in this order:
//
//  1. the language named by ?locale= (a link, or the choice made in the
//     page's language menu, which the pages carry from link to link),
//  2. the best one Accept-Language asks for (RFC 9110, section 12.5.4),
//  3. English.
//
// A tag matches a locale exactly (ignoring case, and "_" read as "-"), or
// failing that by its primary language: "pt", "pt-PT" and "pt-AO" all get
// Brazilian Portuguese, "fr-CA" French, "no" and "nn" Norwegian Bokmål,
// and the old codes "iw" and "in" Hebrew and Indonesian. Chinese goes by
// script: "zh-Hant", "zh-TW", "zh-HK" and "zh-MO" get Traditional Chinese,
// every other "zh" Simplified. Both inputs come from the network; neither
// is ever echoed.

// Locales are the languages of the UI, English first (the fallback). Each
// has a catalog in locales/<tag>.json.
var Locales = []string{
	"en", "ar", "bn", "cs", "da", "de", "el", "es", "fa", "fi", "fr", "he",
	"hi", "hu", "id", "it", "ja", "ko", "nb", "nl", "pl", "pt-BR", "ro", "ru",
	"sv", "sw", "th", "tr", "uk", "vi", "zh-CN", "zh-TW",
}

// primaryAliases maps primary language subtags without a catalog of their
// own to the locale that serves them.
var primaryAliases = map[string]string{"no": "nb", "nn": "nb", "iw": "he", "in": "id"}

// DefaultLocale is the language of last resort.
const DefaultLocale = "en"

// maxLanguageItems bounds the work one Accept-Language header can cause.
const maxLanguageItems = 32

// Negotiate picks the locale for a request from its ?locale= value and its
// Accept-Language header; either may be empty. It always returns one of
// Locales.
func Negotiate(query, acceptLanguage []byte) string {
	if loc, ok := match(query); ok {
		return loc
	}
	best, bestQ := DefaultLocale, 0
	h := acceptLanguage
	for n := 0; len(h) > 0 && n < maxLanguageItems; n++ {
		var item []byte
		item, h = cutByte(h, ',')
		tag, params := cutByte(item, ';')
		q := weight(params)
		if q <= bestQ {
			continue // earlier items win ties
		}
		if loc, ok := match(trimOWS(tag)); ok {
			best, bestQ = loc, q
		}
	}
	return best
}

// match finds the locale for one language tag.
func match(tag []byte) (string, bool) {
	if len(tag) == 0 || len(tag) > 35 { // RFC 5646 tags that matter are short
		return "", false
	}
	for _, loc := range Locales {
		if equalTag(tag, loc) {
			return loc, true
		}
	}
	primary, rest := tag, []byte(nil)
	if i := bytes.IndexAny(tag, "-_"); i >= 0 {
		primary, rest = tag[:i], tag[i+1:]
	}
	if equalFoldASCII(primary, "zh") {
		return chinese(rest), true
	}
	for _, loc := range Locales {
		p, _, _ := strings.Cut(loc, "-")
		if equalFoldASCII(primary, p) { // primary subtags in Locales are lower case
			return loc, true
		}
	}
	for alias, loc := range primaryAliases {
		if equalFoldASCII(primary, alias) {
			return loc, true
		}
	}
	return "", false
}

// chinese picks the Chinese locale for the subtags after "zh": Traditional
// for the Hant script or the regions that write it, else Simplified.
func chinese(subtags []byte) string {
	for len(subtags) > 0 {
		var s []byte
		if i := bytes.IndexAny(subtags, "-_"); i >= 0 {
			s, subtags = subtags[:i], subtags[i+1:]
		} else {
			s, subtags = subtags, nil
		}
		for _, t := range []string{"hant", "tw", "hk", "mo"} {
			if equalFoldASCII(s, t) {
				return "zh-TW"
			}
		}
		if equalFoldASCII(s, "hans") {
			return "zh-CN"
		}
	}
	return "zh-CN"
}

// equalTag compares a tag with a locale name, ignoring ASCII case and
// reading "_" as "-".
func equalTag(tag []byte, loc string) bool {
	if len(tag) != len(loc) {
		return false
	}
	for i := 0; i < len(tag); i++ {
		a, b := lowerASCII(tag[i]), lowerASCII(loc[i])
		if a == '_' {
			a = '-'
		}
		if a != b {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
