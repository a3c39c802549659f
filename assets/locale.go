package assets

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
		item := h
		h = nil
		for i, b := range item {
			if b == ',' {
				item, h = item[:i], item[i+1:]
				break
			}
		}
		tag, params := item, []byte(nil)
		for i, b := range item {
			if b == ';' {
				tag, params = item[:i], item[i+1:]
				break
			}
		}
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
	for i, b := range tag {
		if b == '-' || b == '_' {
			primary = tag[:i]
			break
		}
	}
	for _, loc := range Locales {
		p := loc
		for i := 0; i < len(loc); i++ {
			if loc[i] == '-' {
				p = loc[:i]
				break
			}
		}
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

// weight reads the q parameter of an Accept-Language item as thousandths:
// 1000 without one, 0 for q=0 and for anything that is not a valid qvalue.
func weight(params []byte) int {
	for len(params) > 0 {
		p := params
		params = nil
		for i, b := range p {
			if b == ';' {
				p, params = p[:i], p[i+1:]
				break
			}
		}
		p = trimOWS(p)
		if len(p) < 2 || (p[0] != 'q' && p[0] != 'Q') || p[1] != '=' {
			continue
		}
		return qThousandths(p[2:])
	}
	return 1000
}

// qThousandths parses an RFC 9110 qvalue into 0..1000; invalid gives 0.
func qThousandths(v []byte) int {
	if len(v) == 0 || (v[0] != '0' && v[0] != '1') {
		return 0
	}
	whole := int(v[0] - '0')
	v = v[1:]
	if len(v) == 0 {
		return whole * 1000
	}
	if v[0] != '.' || len(v) > 4 {
		return 0
	}
	frac, scale := 0, 100
	for _, d := range v[1:] {
		if d < '0' || d > '9' {
			return 0
		}
		frac += int(d-'0') * scale
		scale /= 10
	}
	if whole == 1 && frac != 0 {
		return 0
	}
	return whole*1000 + frac
}
