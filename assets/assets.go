// Package assets serves otslite's web UI, ready to send.
//
// The UI's sources are static files in ui/, page templates in pages/, and
// one text catalog per language in locales/. They are built when they
// change, not when the server starts: go generate ./assets runs package
// build, which gives every static file a content-hashed name, renders every
// page in every language with its references rewritten to those names,
// and compresses everything with gzip and zstd, and writes the result as
// generated.go (a table of files) and ui.bin (their bodies), both checked
// in. Load only indexes that table: starting the server renders and
// compresses nothing, and no request ever compresses anything.
//
// Rules this package keeps:
//   - Nothing here is secret. Only these fixed, secret-free files are ever
//     compressed; API responses must never be (BREACH).
//   - A static file is found only by an exact match on a name the build
//     generated. No path is ever cleaned, joined or opened at request time,
//     so a request path cannot reach anything else.
//   - The bodies are the embedded ones themselves, never copied: read-only.
package assets

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/gzip"
)

//go:generate go run ./build/gen

// staticPrefix is the URL prefix of static files.
const staticPrefix = "/static/"

// ErrorPages are the HTTP statuses that have a page of their own, named
// "error-<status>": unknown paths, a Host the server does not answer to,
// and refusals for load.
var ErrorPages = []int{404, 421, 429, 503}

// File is one servable asset, ready in every encoding.
//
// A File is shared by all requests; treat it as read-only (its bodies are
// the binary's own read-only data: writing to them crashes).
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
	// Gzip is Raw compressed with gzip, or nil when that is not smaller.
	Gzip []byte
	// Zstd is Raw compressed with zstd, or nil when that is not smaller.
	Zstd []byte

	raw     []byte // the uncompressed body; nil until Raw when Gzip has it
	rawOnce sync.Once
}

// NewFile returns a File with the uncompressed body raw and its compressed
// forms (nil: none). The build makes its files so.
func NewFile(name, contentType string, immutable bool, raw, gzip, zstd []byte) *File {
	sum := sha256.Sum256(raw)
	return &File{Name: name, ContentType: contentType, ETag: `"` + hex.EncodeToString(sum[:16]) + `"`,
		Immutable: immutable, raw: raw, Gzip: gzip, Zstd: zstd}
}

// Raw returns the uncompressed body. The binary holds it only for a file
// with no gzip body: the others' are decompressed from their gzip bodies
// the first time a client that takes neither zstd nor gzip asks, and kept.
// (Browsers take both; the uncompressed pages in every language would add
// 4 MB to the binary.)
func (f *File) Raw() []byte {
	f.rawOnce.Do(func() {
		if f.raw != nil || f.Gzip == nil {
			return
		}
		r, err := gzip.NewReader(bytes.NewReader(f.Gzip))
		if err == nil {
			f.raw, err = io.ReadAll(r)
		}
		if err != nil {
			panic(fmt.Sprintf("assets: the gzip body of %s does not decompress: %v", f.Name, err))
		}
	})
	return f.raw
}

// Set is the loaded UI: its static files by hashed path and its pages by
// name and locale. It is read-only after Load and safe for concurrent use.
type Set struct {
	static map[string]*File
	pages  map[pageKey]*File
	names  map[string]string // ui/ file name -> its hashed path
}

type pageKey struct{ name, locale string }

// generatedFile is one row of the generated table: a file and where its
// bodies lie in ui.bin.
type generatedFile struct {
	name, page, locale, contentType, etag string
	immutable                             bool
	raw, gzip, zstd                       span
}

// span is a body's place in ui.bin; a zero length means none.
type span struct{ at, n uint32 }

//go:embed ui.bin
var uiBlob string

// Load returns the UI as the build made it (see the package comment). An
// error means the generated files do not fit together, which their test
// catches first.
func Load() (*Set, error) { return newSet(generatedFiles, uiBlob) }

func newSet(files []generatedFile, blob string) (*Set, error) {
	s := &Set{static: make(map[string]*File), pages: make(map[pageKey]*File), names: make(map[string]string)}
	body := func(sp span) ([]byte, error) {
		if sp.n == 0 {
			return nil, nil
		}
		if uint64(sp.at)+uint64(sp.n) > uint64(len(blob)) {
			return nil, fmt.Errorf("assets: a body lies outside ui.bin (run go generate ./assets)")
		}
		return unsafe.Slice(unsafe.StringData(blob[sp.at:]), sp.n), nil
	}
	for i := range files {
		g := &files[i]
		f := &File{Name: g.name, ContentType: g.contentType, Language: g.locale, ETag: g.etag, Immutable: g.immutable}
		var err error
		if f.raw, err = body(g.raw); err != nil {
			return nil, err
		}
		if f.Gzip, err = body(g.gzip); err != nil {
			return nil, err
		}
		if f.Zstd, err = body(g.zstd); err != nil {
			return nil, err
		}
		if g.page == "" {
			s.static[g.name] = f
			s.names[sourceName(g.name)] = g.name
		} else {
			s.pages[pageKey{g.page, g.locale}] = f
		}
	}
	return s, nil
}

// Static returns the static file served at path, a hashed name such as
// "/static/app.3f9a1c2b.js". Anything else, including unhashed names and any
// path holding "..", "//", a backslash, NUL or a percent sign, gives nil,
// false: the lookup is an exact match against the names the build
// generated, and those hold none of these.
func (s *Set) Static(path []byte) (*File, bool) {
	f, ok := s.static[string(path)] // no allocation: the compiler special-cases map[string(b)]
	return f, ok
}

// sourceName is the ui/ file a hashed static path was built from
// ("/static/app.3f9a1c2b.css" -> "app.css").
func sourceName(hashed string) string {
	name := strings.TrimPrefix(hashed, staticPrefix)
	dot := strings.IndexByte(name, '.')
	if dot < 0 {
		return name
	}
	rest := name[dot+1:]
	if ext := strings.IndexByte(rest, '.'); ext >= 0 {
		return name[:dot] + rest[ext:]
	}
	return name
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
