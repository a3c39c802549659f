// Package assets holds otslite's web UI and serves it ready to send.
//
// The UI is embedded into the binary: static files in ui/, page templates in
// pages/, and one text catalog per language in locales/. Load runs once at
// startup: it gives every static file a content-hashed name, renders every
// page in every language with its references rewritten to those names, and
// compresses everything with gzip and zstd so that no request ever
// compresses anything.
//
// Rules this package keeps:
//   - Nothing here is secret. Only these fixed, secret-free files are ever
//     compressed; API responses must never be (BREACH).
//   - A static file is found only by an exact match on a name Load generated.
//     No path is ever cleaned, joined or opened at request time, so a request
//     path cannot reach anything else.
//   - Static files do not refer to each other; only HTML pages refer to static
//     files, which keeps every hash a function of the file's own bytes.
//   - Every visible string comes from a catalog; a catalog missing a key, or
//     a page asking for one that does not exist, fails Load.
package assets

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

//go:embed ui pages locales
var embedded embed.FS

// staticPrefix is the URL prefix of static files, and the prefix by which
// HTML pages refer to them.
const staticPrefix = "/static/"

// pages maps each page's name to its template in pages/ and the route it is
// served at. Every page must exist; pages/ may also hold layout.html, the
// parts the pages share, and nothing else. The error pages have no route
// (their name stands in its place): the handler answers with them (see
// ErrorPages).
var pages = map[string]struct{ file, route string }{
	"create":    {"create.html", "/"},
	"secret":    {"secret.html", "/secret/:key"},
	"receipt":   {"receipt.html", "/receipt/:key"},
	"security":  {"security.html", "/security"},
	"group":     {"group.html", "/group/:key"},
	"combine":   {"combine.html", "/combine"},
	"ask":       {"ask.html", "/ask"},
	"request":   {"request.html", "/request/:key"},
	"inbox":     {"inbox.html", "/inbox/:key"},
	"error-404": {"error.html", "error-404"},
	"error-421": {"error.html", "error-421"},
	"error-429": {"error.html", "error-429"},
	"error-503": {"error.html", "error-503"},
}

// ErrorPages are the HTTP statuses that have a page of their own, named
// "error-<status>": unknown paths, a Host the server does not answer to,
// and refusals for load.
var ErrorPages = []int{404, 421, 429, 503}

const layoutFile = "layout.html"

// contentTypes is the fixed table of file extensions the UI may use. A file
// with any other extension fails Load, so nothing is ever served with a
// guessed type.
var contentTypes = map[string]string{
	".html":  "text/html; charset=utf-8",
	".css":   "text/css; charset=utf-8",
	".js":    "text/javascript; charset=utf-8",
	".json":  "application/json; charset=utf-8",
	".svg":   "image/svg+xml",
	".png":   "image/png",
	".ico":   "image/x-icon",
	".woff2": "font/woff2",
	".txt":   "text/plain; charset=utf-8",
}

// File is one servable asset, ready in every encoding.
//
// A File is shared by all requests; treat it as read-only.
type File struct {
	// Name is the URL path the file is served at: a hashed static path such
	// as "/static/app.3f9a1c2b.js", or a page's route ("/", "/secret/:key",
	// "/receipt/:key", "/security"), or an error page's name ("error-404").
	Name string
	// ContentType is the value for the Content-Type header.
	ContentType string
	// Language is a page's locale ("" for static files), for the
	// Content-Language header.
	Language string
	// ETag is a strong, quoted entity tag: the hex of the first 16 bytes of
	// the SHA-256 of Raw.
	ETag string
	// Immutable is true for content-hashed static files, which may be cached
	// forever, and false for HTML pages, which must be served with no-store.
	Immutable bool
	// Raw is the uncompressed body.
	Raw []byte
	// Gzip is Raw compressed with gzip, or nil when that is not smaller.
	Gzip []byte
	// Zstd is Raw compressed with zstd, or nil when that is not smaller.
	Zstd []byte
}

// Set is the loaded UI: its static files by hashed path and its pages by
// name and locale. It is read-only after Load and safe for concurrent use.
type Set struct {
	static map[string]*File
	pages  map[pageKey]*File
	names  map[string]string // ui/ file name -> its hashed path
}

type pageKey struct{ name, locale string }

// Load reads the embedded UI, gives each static file a content-hashed name,
// renders every page in every locale with references rewritten to those
// names, and pre-compresses everything once (gzip at best compression, zstd
// at its better level). It is meant to be called once at startup; an error
// means the embedded UI is broken.
func Load() (*Set, error) {
	sub := func(dir string) fs.FS {
		f, err := fs.Sub(embedded, dir)
		if err != nil {
			panic(err) // dir is one of the embedded directories
		}
		return f
	}
	return load(sub("ui"), sub("pages"), sub("locales"))
}

// load does Load's work on any file systems, so tests can feed it broken UIs.
func load(static, templates, locales fs.FS) (*Set, error) {
	c, err := newCompressor()
	if err != nil {
		return nil, err
	}
	defer c.close()

	s := &Set{static: make(map[string]*File), pages: make(map[pageKey]*File)}
	renames, err := s.loadStatic(c, static)
	if err != nil {
		return nil, err
	}
	s.names = renames
	cats, err := loadCatalogs(locales)
	if err != nil {
		return nil, err
	}
	tmpls, err := parsePages(templates, renames)
	if err != nil {
		return nil, err
	}
	for _, loc := range Locales {
		text, err := textScript(cats[loc])
		if err != nil {
			return nil, fmt.Errorf("locales/%s.json: %w", loc, err)
		}
		textName := staticPrefix + "text-" + loc + "." + shortHash(text) + ".js"
		f, err := c.file(textName, contentTypes[".js"], true, text)
		if err != nil {
			return nil, err
		}
		s.static[textName] = f
		for page, p := range pages {
			raw, err := render(tmpls[page], page, loc, cats, textName)
			if err != nil {
				return nil, fmt.Errorf("pages/%s in %s: %w", p.file, loc, err)
			}
			f, err := c.file(p.route, contentTypes[".html"], false, raw)
			if err != nil {
				return nil, err
			}
			f.Language = loc
			s.pages[pageKey{page, loc}] = f
		}
	}
	return s, nil
}

// loadStatic hashes and compresses the static files and returns their new
// names by old ("app.css" -> "/static/app.3f9a1c2b.css").
func (s *Set) loadStatic(c *compressor, fsys fs.FS) (map[string]string, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("failed to list ui: %w", err)
	}
	renames := make(map[string]string)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			return nil, fmt.Errorf("ui/%s: subdirectories are not supported", name)
		}
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("failed to read ui/%s: %w", name, err)
		}
		base, ext, err := splitName(name)
		if err != nil {
			return nil, err
		}
		if ext == ".html" {
			return nil, fmt.Errorf("ui/%s: pages belong in pages/", name)
		}
		if strings.HasPrefix(base, "text-") {
			return nil, fmt.Errorf("ui/%s: text-* names are made from the catalogs", name)
		}
		if bytes.Contains(raw, []byte(staticPrefix)) {
			return nil, fmt.Errorf("ui/%s: static files must not refer to other static files", name)
		}
		hashed := staticPrefix + base + "." + shortHash(raw) + ext
		f, err := c.file(hashed, contentTypes[ext], true, raw)
		if err != nil {
			return nil, err
		}
		renames[name] = hashed
		s.static[hashed] = f
	}
	return renames, nil
}

// shortHash is the content hash in a static file's name.
func shortHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:4])
}

// splitName splits a ui file name into base and extension, and refuses names
// that could make a generated URL path ambiguous: only ASCII letters, digits,
// '-' and '_' before a single known extension.
func splitName(name string) (base, ext string, err error) {
	ext = path.Ext(name)
	base = strings.TrimSuffix(name, ext)
	if _, ok := contentTypes[ext]; !ok {
		return "", "", fmt.Errorf("ui/%s: unknown file extension %q", name, ext)
	}
	if base == "" {
		return "", "", fmt.Errorf("ui/%s: empty base name", name)
	}
	for i := 0; i < len(base); i++ {
		if !isNameByte(base[i]) {
			return "", "", fmt.Errorf("ui/%s: base name may hold only letters, digits, '-' and '_'", name)
		}
	}
	return base, ext, nil
}

func isNameByte(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-' || b == '_'
}

// rewriteRefs replaces every "/static/<name>" in page with the hashed path of
// ui/<name>. A reference to a file that does not exist is an error, so a
// broken link fails at startup instead of in a browser.
func rewriteRefs(page []byte, renames map[string]string) ([]byte, error) {
	prefix := []byte(staticPrefix)
	var out []byte
	for {
		i := bytes.Index(page, prefix)
		if i < 0 {
			return append(out, page...), nil
		}
		out = append(out, page[:i]...)
		page = page[i+len(prefix):]
		n := 0
		for n < len(page) && (isNameByte(page[n]) || page[n] == '.') {
			n++
		}
		ref := string(page[:n])
		hashed, ok := renames[ref]
		if !ok {
			return nil, fmt.Errorf("reference to missing static file %q", staticPrefix+ref)
		}
		out = append(out, hashed...)
		page = page[n:]
	}
}

// compressor holds the encoders Load reuses for every file.
type compressor struct {
	zw *zstd.Encoder
	gw *gzip.Writer
}

func newCompressor() (*compressor, error) {
	// SpeedBestCompression allocates some 50 MB of match tables and adds
	// about 40 ms to Load (every page in every locale): most of the
	// server's start and, until the garbage is returned, of its memory.
	// The level below, with a small window and lean tables, makes the zstd
	// bodies about 3% larger.
	zw, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedBetterCompression),
		zstd.WithWindowSize(128<<10),
		zstd.WithLowerEncoderMem(true),
		zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("failed to create zstd encoder: %w", err)
	}
	gw, err := gzip.NewWriterLevel(nil, gzip.BestCompression)
	if err != nil {
		zw.Close()
		return nil, fmt.Errorf("failed to create gzip encoder: %w", err)
	}
	return &compressor{zw: zw, gw: gw}, nil
}

func (c *compressor) close() { c.zw.Close() }

// file builds a File for raw, keeping each compressed form only if it is
// smaller than raw.
func (c *compressor) file(name, contentType string, immutable bool, raw []byte) (*File, error) {
	sum := sha256.Sum256(raw)
	f := &File{
		Name:        name,
		ContentType: contentType,
		ETag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		Immutable:   immutable,
		Raw:         raw,
	}

	var buf bytes.Buffer
	c.gw.Reset(&buf)
	if _, err := c.gw.Write(raw); err != nil {
		return nil, fmt.Errorf("failed to gzip %s: %w", name, err)
	}
	if err := c.gw.Close(); err != nil {
		return nil, fmt.Errorf("failed to gzip %s: %w", name, err)
	}
	if buf.Len() < len(raw) {
		f.Gzip = bytes.Clone(buf.Bytes())
	}
	if z := c.zw.EncodeAll(raw, nil); len(z) < len(raw) {
		f.Zstd = z
	}
	return f, nil
}

// Static returns the static file served at path, a hashed name such as
// "/static/app.3f9a1c2b.js". Anything else, including unhashed names and any
// path holding "..", "//", a backslash, NUL or a percent sign, gives nil,
// false: the lookup is an exact match against the names Load generated, and
// those hold none of these.
func (s *Set) Static(path []byte) (*File, bool) {
	f, ok := s.static[string(path)] // no allocation: the compiler special-cases map[string(b)]
	return f, ok
}

// StaticPath returns the hashed path a file of ui/ is served at ("app.css"
// -> "/static/app.3f9a1c2b.css"), or "" when there is none. Pages made
// outside this package (the operator's) link the UI's files with it.
func (s *Set) StaticPath(name string) string { return s.names[name] }

// Page returns an HTML page by name and locale (one of Locales): "create"
// (served at /), "secret" (/secret/:key), "receipt" (/receipt/:key and
// /private/:key), "security" (/security), "group" (/group/:key, the
// receipt of several links or a split's parts), "combine" (/combine),
// "ask" (/ask, making a request for a secret), "request" (/request/:key,
// answering one), "inbox" (/inbox/:key, the requester's), or one of the
// error pages
// "error-404", "error-421", "error-429" and "error-503". An unknown name or
// locale gives nil.
func (s *Set) Page(name, locale string) *File {
	return s.pages[pageKey{name, locale}]
}
