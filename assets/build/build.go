// Package build turns the web UI's sources into the files otslite serves:
// it gives every static file a content-hashed name, renders every page in
// every language with its references rewritten to those names, and
// compresses everything with gzip and zstd. It runs when the UI changes
// (go generate ./assets), never in the server: the result is written as
// assets/generated.go and assets/ui.bin, which the server loads as they
// are (assets.Load).
//
// Rules it keeps (see package assets for those the server keeps):
//   - Static files do not refer to each other; only HTML pages refer to
//     static files, which keeps every hash a function of the file's own
//     bytes.
//   - Every visible string comes from a catalog; a catalog missing a key,
//     or a page asking for one that does not exist, fails the build.
//   - The output depends on the sources alone: the same sources give the
//     same bytes, so a check can tell when the generated files are stale.
package build

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"otslite/assets"
)

// staticPrefix is the URL prefix of static files, and the prefix by which
// HTML pages refer to them.
const staticPrefix = "/static/"

// pages maps each page's name to its template in pages/ and the route it is
// served at. Every page must exist; pages/ may also hold layout.html, the
// parts the pages share, and nothing else. The error pages have no route
// (their name stands in its place): the handler answers with them (see
// assets.ErrorPages).
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

const layoutFile = "layout.html"

// contentTypes is the fixed table of file extensions the UI may use. A file
// with any other extension fails the build, so nothing is ever served with
// a guessed type.
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

// Output is the built UI: its static files by hashed path, and its pages by
// name and locale. Page files carry their locale in Language.
type Output struct {
	Static []*assets.File            // sorted by Name
	Pages  map[string][]*assets.File // page name -> one per locale, in assets.Locales order
}

// Build builds the UI from its static files, page templates and catalogs.
// An error means the sources are broken.
func Build(static, templates, locales fs.FS) (*Output, error) {
	c, err := newCompressor()
	if err != nil {
		return nil, err
	}
	defer c.close()

	out := &Output{Pages: make(map[string][]*assets.File)}
	renames, err := out.buildStatic(c, static)
	if err != nil {
		return nil, err
	}
	cats, err := loadCatalogs(locales)
	if err != nil {
		return nil, err
	}
	tmpls, err := parsePages(templates, renames)
	if err != nil {
		return nil, err
	}
	for _, loc := range assets.Locales {
		text, err := textScript(cats[loc])
		if err != nil {
			return nil, fmt.Errorf("locales/%s.json: %w", loc, err)
		}
		textName := staticPrefix + "text-" + loc + "." + shortHash(text) + ".js"
		f, err := c.file(textName, contentTypes[".js"], true, text)
		if err != nil {
			return nil, err
		}
		out.Static = append(out.Static, f)
		for _, page := range sortedPages() {
			raw, err := render(tmpls[page], page, loc, cats, textName)
			if err != nil {
				return nil, fmt.Errorf("pages/%s in %s: %w", pages[page].file, loc, err)
			}
			f, err := c.file(pages[page].route, contentTypes[".html"], false, raw)
			if err != nil {
				return nil, err
			}
			f.Language = loc
			out.Pages[page] = append(out.Pages[page], f)
		}
	}
	slices.SortFunc(out.Static, func(a, b *assets.File) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// sortedPages are the page names in a fixed order.
func sortedPages() []string {
	names := make([]string, 0, len(pages))
	for name := range pages {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// buildStatic hashes and compresses the static files and returns their new
// names by old ("app.css" -> "/static/app.3f9a1c2b.css").
func (o *Output) buildStatic(c *compressor, fsys fs.FS) (map[string]string, error) {
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
		o.Static = append(o.Static, f)
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
// broken link fails the build instead of in a browser.
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

// compressor holds the encoders the build reuses for every file. Both run
// at their best levels: the build runs once, the bodies are sent often.
type compressor struct {
	zw *zstd.Encoder
	gw *gzip.Writer
}

func newCompressor() (*compressor, error) {
	zw, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedBestCompression),
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
func (c *compressor) file(name, contentType string, immutable bool, raw []byte) (*assets.File, error) {
	var buf bytes.Buffer
	c.gw.Reset(&buf)
	if _, err := c.gw.Write(raw); err != nil {
		return nil, fmt.Errorf("failed to gzip %s: %w", name, err)
	}
	if err := c.gw.Close(); err != nil {
		return nil, fmt.Errorf("failed to gzip %s: %w", name, err)
	}
	var gz, zst []byte
	if buf.Len() < len(raw) {
		gz = bytes.Clone(buf.Bytes())
	}
	if z := c.zw.EncodeAll(raw, nil); len(z) < len(raw) {
		zst = z
	}
	return assets.NewFile(name, contentType, immutable, raw, gz, zst), nil
}
