package build

// The UI's languages. Each catalog in locales/ is one flat JSON object of
// key -> text, with the same keys as English:
//
//   - "meta.name" is the language's own name (for the language menu),
//     "meta.dir" its writing direction ("ltr" or "rtl");
//   - "js.<name>" texts go to the pages' scripts as T("<name>"), through a
//     generated static file /static/text-<locale>.<hash>.js;
//   - every other key is used by the page templates as {{.T "<key>"}};
//   - "js.<name>|<category>" is one form of a text that counts something:
//     the scripts' P("<name>", n) picks the form by the language's CLDR
//     plural rule (Intl.PluralRules). English has "one" and "other"; every
//     language has exactly the categories pluralCategories lists for it.
//
// Texts are plain text (templates escape them). "{name}" marks a value the
// script fills in; a translation must use exactly the placeholders English
// does, except that a plural form standing for one number alone ("zero",
// "two", and "one" where it means 1 only: see mayOmitCount) may leave out
// the count {n}.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"regexp"
	"slices"
	"strings"

	"otslite/assets"
)

// catalog is one language's texts.
type catalog map[string]string

const jsPrefix = "js."

var placeholderRE = regexp.MustCompile(`\{[a-zA-Z]+\}`)

// pluralSep separates a plural text's name from its category.
const pluralSep = "|"

// countPlaceholder is the number a plural text counts.
const countPlaceholder = "{n}"

// pluralCategories are the CLDR cardinal plural categories of each locale
// (CLDR 46, as ICU reports them: Intl.PluralRules(locale).resolvedOptions().
// pluralCategories, which the browser tests compare with this table).
var pluralCategories = map[string][]string{
	"en": {"one", "other"}, "ar": {"zero", "one", "two", "few", "many", "other"},
	"bn": {"one", "other"}, "cs": {"one", "few", "many", "other"},
	"da": {"one", "other"}, "de": {"one", "other"},
	"el": {"one", "other"}, "es": {"one", "many", "other"},
	"fa": {"one", "other"}, "fi": {"one", "other"},
	"fr": {"one", "many", "other"}, "he": {"one", "two", "other"},
	"hi": {"one", "other"}, "hu": {"one", "other"},
	"id": {"other"}, "it": {"one", "many", "other"},
	"ja": {"other"}, "ko": {"other"},
	"nb": {"one", "other"}, "nl": {"one", "other"},
	"pl": {"one", "few", "many", "other"}, "pt-BR": {"one", "many", "other"},
	"ro": {"one", "few", "other"}, "ru": {"one", "few", "many", "other"},
	"sv": {"one", "other"}, "sw": {"one", "other"},
	"th": {"other"}, "tr": {"one", "other"},
	"uk": {"one", "few", "many", "other"}, "vi": {"other"},
	"zh-CN": {"other"}, "zh-TW": {"other"},
}

// oneIsNotSingle lists the locales whose "one" covers more whole numbers
// than 1 (French and Portuguese 0 and 1, Russian 1, 21, 31, ...): there a
// "one" text must show the count. "zero" and "two" always stand for one
// number, and so does "one" elsewhere.
var oneIsNotSingle = map[string]bool{"fr": true, "pt-BR": true, "hi": true, "bn": true, "fa": true, "ru": true, "uk": true}

// mayOmitCount reports whether a plural form of loc may leave out {n}.
func mayOmitCount(loc, category string) bool {
	switch category {
	case "zero", "two":
		return true
	case "one":
		return !oneIsNotSingle[loc]
	}
	return false
}

// loadCatalogs reads locales/<tag>.json for every locale, and checks each
// against English: same keys, same placeholders, nothing empty.
func loadCatalogs(fsys fs.FS) (map[string]catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("failed to list locales: %w", err)
	}
	cats := make(map[string]catalog, len(assets.Locales))
	for _, e := range entries {
		loc, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !slices.Contains(assets.Locales, loc) {
			return nil, fmt.Errorf("locales/%s: not the catalog of a known locale", e.Name())
		}
		raw, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("failed to read locales/%s: %w", e.Name(), err)
		}
		var c catalog
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("locales/%s: %w", e.Name(), err)
		}
		cats[loc] = c
	}
	en, ok := cats[assets.DefaultLocale]
	if !ok {
		return nil, errors.New("locales/en.json is missing")
	}
	for _, loc := range assets.Locales {
		c, ok := cats[loc]
		if !ok {
			return nil, fmt.Errorf("locales/%s.json is missing", loc)
		}
		if err := c.check(en, loc); err != nil {
			return nil, fmt.Errorf("locales/%s.json: %w", loc, err)
		}
	}
	return cats, nil
}

// check compares c, the catalog of loc, with the English catalog.
func (c catalog) check(en catalog, loc string) error {
	cats, ok := pluralCategories[loc]
	if !ok {
		return fmt.Errorf("no plural rule for %s", loc)
	}
	for _, k := range sortedKeys(en) {
		base, cat, plural := strings.Cut(k, pluralSep)
		if plural {
			if cat != "other" {
				continue // the language's own forms are checked against "other"
			}
			for _, form := range cats {
				if err := c.checkText(en, k, base+pluralSep+form, mayOmitCount(loc, form)); err != nil {
					return err
				}
			}
			continue
		}
		if err := c.checkText(en, k, k, false); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(c) {
		if base, cat, plural := strings.Cut(k, pluralSep); plural {
			if _, ok := en[base+pluralSep+"other"]; !ok {
				return fmt.Errorf("key %q is not in English", k)
			}
			if !slices.Contains(cats, cat) {
				return fmt.Errorf("key %q: %s has no plural category %q (it has %v)", k, loc, cat, cats)
			}
			continue
		}
		if _, ok := en[k]; !ok {
			return fmt.Errorf("key %q is not in English", k)
		}
	}
	if d := c["meta.dir"]; d != "ltr" && d != "rtl" {
		return fmt.Errorf(`meta.dir is %q, want "ltr" or "rtl"`, d)
	}
	return nil
}

// checkText checks c's text k against English's text enKey: present, not
// empty, and with the same placeholders ({n} may be missing when omitCount).
func (c catalog) checkText(en catalog, enKey, k string, omitCount bool) error {
	v, ok := c[k]
	switch {
	case !ok:
		return fmt.Errorf("missing key %q", k)
	case strings.TrimSpace(v) == "":
		return fmt.Errorf("empty text for %q", k)
	}
	want, got := placeholderRE.FindAllString(en[enKey], -1), placeholderRE.FindAllString(v, -1)
	if omitCount && !slices.Contains(got, countPlaceholder) {
		want = slices.DeleteFunc(want, func(p string) bool { return p == countPlaceholder })
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Errorf("%q has placeholders %v, English has %v", k, got, want)
	}
	return nil
}

func sortedKeys(c catalog) []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// textScript is the script that hands a catalog's js.* texts to the pages'
// scripts, as window.otsliteText.
func textScript(c catalog) ([]byte, error) {
	js := make(map[string]string)
	for k, v := range c {
		if name, ok := strings.CutPrefix(k, jsPrefix); ok {
			js[name] = v
		}
	}
	// encoding/json escapes <, >, &, U+2028 and U+2029: the result is a
	// valid script literal whatever the texts hold.
	obj, err := json.Marshal(js)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("// otslite UI texts; made from the catalog.\n")
	b.WriteString("window.otsliteText = Object.freeze(")
	b.Write(obj)
	b.WriteString(");\n")
	return b.Bytes(), nil
}

// parsePages parses every page template together with the layout, after
// rewriting their static references to hashed names.
func parsePages(fsys fs.FS, renames map[string]string) (map[string]*template.Template, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("failed to list pages: %w", err)
	}
	known := map[string]bool{layoutFile: true}
	for _, p := range pages {
		known[p.file] = true
	}
	for _, e := range entries {
		if !known[e.Name()] {
			return nil, fmt.Errorf("pages/%s: not a known page", e.Name())
		}
	}
	read := func(name string) (string, error) {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return "", fmt.Errorf("pages/%s: %w", name, err)
		}
		raw, err = rewriteRefs(raw, renames)
		if err != nil {
			return "", fmt.Errorf("pages/%s: %w", name, err)
		}
		return string(raw), nil
	}
	layout, err := read(layoutFile)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*template.Template, len(pages))
	for page, p := range pages {
		src, err := read(p.file)
		if err != nil {
			return nil, err
		}
		t, err := template.New(page).Option("missingkey=error").Parse(layout)
		if err == nil {
			_, err = t.Parse(src)
		}
		if err != nil {
			return nil, fmt.Errorf("pages/%s: %w", p.file, err)
		}
		out[page] = t
	}
	return out, nil
}

// pageData is what a page template sees.
type pageData struct {
	Page       string // "create", "secret", ...
	Lang       string // the locale, for <html lang>
	Dir        string // "ltr" or "rtl"
	TextScript string // hashed path of the locale's text script
	Locales    []localeLink
	cat        catalog
	missing    []string
}

// localeLink is one entry of the language menu.
type localeLink struct {
	Tag, Name, Dir string
	Current        bool
}

// T returns the text for key; an unknown key is remembered and fails the
// render.
func (d *pageData) T(key string) string {
	v, ok := d.cat[key]
	if !ok || strings.HasPrefix(key, jsPrefix) {
		d.missing = append(d.missing, key)
	}
	return v
}

// render executes a page template in one locale.
func render(t *template.Template, page, loc string, cats map[string]catalog, textScript string) ([]byte, error) {
	d := &pageData{Page: page, Lang: loc, Dir: cats[loc]["meta.dir"], TextScript: textScript, cat: cats[loc]}
	for _, l := range assets.Locales {
		d.Locales = append(d.Locales, localeLink{Tag: l, Name: cats[l]["meta.name"], Dir: cats[l]["meta.dir"], Current: l == loc})
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "page", d); err != nil {
		return nil, err
	}
	if len(d.missing) > 0 {
		return nil, fmt.Errorf("no page text for %q", d.missing)
	}
	return b.Bytes(), nil
}
