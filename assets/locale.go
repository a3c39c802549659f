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
// Brazilian Portuguese, "zh-TW" gets Simplified Chinese, "fr-CA" French.
// Both inputs come from the network; neither is ever echoed.

// Locales are the languages of the UI, English first (the fallback). Each
// has a catalog in locales/<tag>.json.
var Locales = []string{"en", "fr", "ko", "de", "es", "ja", "zh-CN", "pt-BR", "it"}

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
	primary := tag
	if i := bytes.IndexAny(tag, "-_"); i >= 0 {
		primary = tag[:i]
	}
	for _, loc := range Locales {
		p, _, _ := strings.Cut(loc, "-")
		if equalFoldASCII(primary, p) { // primary subtags in Locales are lower case
			return loc, true
		}
	}
	return "", false
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
