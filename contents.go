package main

// What a secret carries on the command line, and its shapes. The
// contents are text, files, or both (a bundle, store/envelope's format,
// as the web UI writes it). They are sealed in one envelope for one link,
// sealed again under a key of its own for each of several links
// (--links), or split into shares (--split, store/shamir) that are sealed
// one per link. Several links are gathered on the server as a group, with
// one receipt. The way back: envelopes opened, shares combined, the text
// written to stdout and the files into a directory (never anything else
// to disk).
//
// Memory rules: files, text, bundles and shares are read into and built
// in vault memory, and freed as soon as each is sealed; envelopes (which
// are ciphertext) may be on the heap. A file's name becomes a Go string
// only to open the file it is written to.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"otslite/store/envelope"
	"otslite/store/shamir"
)

// Limits of the shapes.
const (
	maxLinks  = 20 // the server's largest group
	maxFiles  = envelope.MaxFiles
	bundleCap = maxFileSizeCap // the most a bundle may hold, whatever the server says
)

// filesFlag is --file, which may be given more than once.
type filesFlag []string

func (f *filesFlag) String() string     { return strings.Join(*f, ",") }
func (f *filesFlag) Set(s string) error { *f = append(*f, s); return nil }

// splitFlag is --split K/N.
type splitFlag struct{ k, n int }

func (f *splitFlag) String() string {
	if f.k == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", f.k, f.n)
}

func (f *splitFlag) Set(s string) error {
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(ks)
	n, nerr := strconv.Atoi(ns)
	if !ok || kerr != nil || nerr != nil || k < 2 || n < k || n > maxLinks {
		return fmt.Errorf("want K/N: any K of N links rebuild it, 2 <= K <= N <= %d (e.g. 2/3)", maxLinks)
	}
	f.k, f.n = k, n
	return nil
}

// linksFlag is --links N.
type linksFlag struct{ n *int }

func (f linksFlag) String() string {
	if f.n == nil || *f.n <= 1 {
		return ""
	}
	return strconv.Itoa(*f.n)
}

func (f linksFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 2 || n > maxLinks {
		return fmt.Errorf("want 2 to %d links", maxLinks)
	}
	*f.n = n
	return nil
}

// shape says how a secret is handed over: in links links (one envelope
// each), or split into n shares of which k rebuild it.
type shape struct {
	links int
	split splitFlag
}

// count is how many links the shape makes.
func (s shape) count() int {
	if s.split.k > 0 {
		return s.split.n
	}
	return max(s.links, 1)
}

// check refuses --links with --split.
func (s shape) check() error {
	if s.links > 1 && s.split.k > 0 {
		return usageError("--links and --split do not go together: a split's links are already one per share")
	}
	return nil
}

// readContents reads what is to be shared into vault memory: the text
// (from the file args names, or stdin) and the files. Without files the
// text is required and kept as it is (a one-line text loses its final
// newline); with files it is optional. Files, or a text that begins with
// NUL, make a bundle. limit is the most the contents may hold.
func (c *cli) readContents(args, files []string, limit int) ([]byte, error) {
	name := ""
	if len(args) == 1 {
		name = args[0]
	}
	if len(files) == 0 {
		text, err := c.readSecret(name, limit)
		if err != nil {
			return nil, err
		}
		if !envelope.IsBundle(text) {
			return text, nil
		}
		defer c.vault.free(text)
		return c.bundle(text, nil)
	}
	if len(files) > maxFiles {
		return nil, usageError(fmt.Sprintf("at most %d files in one secret", maxFiles))
	}
	var text []byte
	var err error
	switch {
	case name != "":
		text, err = c.readText(name, limit)
	case !isTerminal(c.stdin):
		text, err = c.readText("", limit)
	}
	if err != nil {
		return nil, err
	}
	defer c.vault.free(text)
	parts := make([]envelope.File, 0, len(files))
	defer func() {
		for _, f := range parts {
			c.vault.free(f.Data)
		}
	}()
	total := len(text)
	for _, path := range files {
		base := filepath.Base(path)
		if !envelope.ValidName([]byte(base)) {
			return nil, fmt.Errorf("--file %q: its name cannot be sent (empty, too long, or with a control character)", path)
		}
		data, err := readFile(c.vault, path, limit-total)
		if errors.Is(err, errTooLarge) {
			err = fmt.Errorf("the files come to more than %s, the most the server takes", formatSize(int64(limit)))
		}
		if err != nil {
			return nil, fmt.Errorf("--file %q: %w", path, err)
		}
		total += len(data)
		parts = append(parts, envelope.File{Name: []byte(base), Type: []byte(mime.TypeByExtension(filepath.Ext(base))), Data: data})
	}
	return c.bundle(text, parts)
}

// readText reads an optional text (from the file named, or stdin), as it
// is: it may be empty.
func (c *cli) readText(name string, limit int) ([]byte, error) {
	var r io.Reader = c.stdin
	var hint int64
	if name != "" && name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			hint = st.Size()
		}
		r = f
	}
	text, err := readAll(c.vault, r, hint, limit)
	if errors.Is(err, errTooLarge) {
		err = fmt.Errorf("the text is larger than %s, the most the server takes", formatSize(int64(limit)))
	}
	if err == nil && !utf8.Valid(text) {
		c.vault.free(text)
		return nil, errors.New("the text is not UTF-8; send it as a file (--file)")
	}
	return text, err
}

// readFile reads a whole file into vault memory, at most limit bytes.
func readFile(v *vault, path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	if st.Mode().IsRegular() && st.Size() > int64(limit) {
		return nil, errTooLarge
	}
	return readAll(v, f, st.Size(), max(limit, 0))
}

// bundle writes text and files as a bundle in vault memory.
func (c *cli) bundle(text []byte, files []envelope.File) ([]byte, error) {
	b := envelope.Bundle{Text: text, Files: files}
	out, err := c.vault.alloc(envelope.BundleLen(&b))
	if err != nil {
		return nil, err
	}
	if out, err = envelope.PutBundle(out, &b); err != nil {
		c.vault.free(out)
		return nil, err
	}
	return out, nil
}

// sealedLink is one link's envelope (ciphertext, on the heap) and the key
// it was sealed with (vault memory): the link's fragment and proof.
type sealedLink struct {
	env    []byte
	key    *envelope.Key
	keyMem []byte
}

// wipe zeroes the key; it may be called more than once.
func (s *sealedLink) wipe(v *vault) {
	if s.key != nil {
		s.key.Wipe()
		v.free(s.keyMem)
		s.key = nil
	}
}

func wipeLinks(v *vault, links []sealedLink) {
	for i := range links {
		links[i].wipe(v)
	}
}

// seal seals plain (text or a bundle) under a new key.
func (c *cli) seal(plain, pass []byte) (sealedLink, error) {
	keyMem, err := c.vault.alloc(envelope.MemorySize)
	if err != nil {
		return sealedLink{}, err
	}
	k, err := envelope.NewKey(keyMem, c.rand, len(pass) > 0)
	if err == nil {
		err = k.Unlock(pass)
	}
	var env []byte
	if err == nil {
		if envelope.IsBundle(plain) {
			env, err = k.SealBundle(nil, plain, c.rand)
		} else {
			env, err = k.Seal(nil, plain, c.rand)
		}
	}
	if err != nil {
		c.vault.free(keyMem)
		if errors.Is(err, envelope.ErrNotText) {
			err = errors.New("the secret is not UTF-8 text; the web page could not show it (send it as a file: --file)")
		}
		return sealedLink{}, err
	}
	return sealedLink{env: env, key: k, keyMem: keyMem}, nil
}

// sealShape seals plain for each link of sh: the same contents under a
// key per link, or one share per link. pass (the passphrase, NFC, or
// nil) is needed to open each.
func (c *cli) sealShape(plain []byte, sh shape, pass []byte) ([]sealedLink, error) {
	var links []sealedLink
	fail := func(err error) ([]sealedLink, error) {
		wipeLinks(c.vault, links)
		return nil, err
	}
	if sh.split.k == 0 {
		for range sh.count() {
			l, err := c.seal(plain, pass)
			if err != nil {
				return fail(err)
			}
			links = append(links, l)
		}
		return links, nil
	}
	k, n := sh.split.k, sh.split.n
	ys := make([][]byte, n)
	defer func() {
		for _, y := range ys {
			c.vault.free(y)
		}
	}()
	for i := range ys {
		var err error
		if ys[i], err = c.vault.alloc(len(plain)); err != nil {
			return fail(err)
		}
	}
	scratch, err := c.vault.alloc(shamir.ScratchSize(k, 64<<10))
	if err != nil {
		return fail(err)
	}
	err = shamir.Split(ys, plain, k, c.rand, scratch)
	c.vault.free(scratch)
	if err != nil {
		return fail(err)
	}
	var id [envelope.ShareIDLen]byte
	if _, err := io.ReadFull(c.rand, id[:]); err != nil {
		return fail(err)
	}
	for i := range ys {
		b := envelope.Bundle{Share: envelope.Share{K: k, N: n, X: i + 1, ID: id}, Payload: ys[i]}
		buf, err := c.vault.alloc(envelope.BundleLen(&b))
		if err != nil {
			return fail(err)
		}
		share, err := envelope.PutBundle(buf, &b)
		var l sealedLink
		if err == nil {
			l, err = c.seal(share, pass)
		}
		c.vault.free(buf)
		if err != nil {
			return fail(err)
		}
		c.vault.free(ys[i])
		ys[i] = nil
		links = append(links, l)
	}
	return links, nil
}

// createdLinks is what the server gave for a shape's links: each link's
// secret key and receipt key, and the group's receipt key when there is
// more than one link (vault memory, freed with free).
type createdLinks struct {
	secretKeys, receiptKeys [][]byte
	groupKey                []byte
	base                    string // the server's links start with it
}

func (cr *createdLinks) free(v *vault) {
	for _, k := range cr.secretKeys {
		v.free(k)
	}
	for _, k := range cr.receiptKeys {
		v.free(k)
	}
	v.free(cr.groupKey)
}

// keep copies b into vault memory.
func keep(v *vault, b []byte) ([]byte, error) {
	out, err := v.alloc(len(b))
	if err == nil {
		copy(out, b)
	}
	return out, err
}

// create stores each link's envelope with its proof, and groups them when
// there are several. A failure burns what was stored.
func (c *cli) create(ctx context.Context, cl *client, links []sealedLink, ttl time.Duration, asJSON bool) (*createdLinks, error) {
	cr := &createdLinks{}
	undo := func(err error) (*createdLinks, error) {
		for i, rk := range cr.receiptKeys {
			proof, perr := c.vault.alloc(envelope.ProofLen)
			if perr != nil {
				break
			}
			r, _ := cl.burn(context.Background(), rk, links[i].key.PutLinkProof(proof))
			r.free(c.vault)
			c.vault.free(proof)
		}
		cr.free(c.vault)
		return nil, err
	}
	for _, l := range links {
		proof, err := c.vault.alloc(envelope.ProofLenPassphrase)
		if err != nil {
			return undo(err)
		}
		saved := cl.json
		cl.json = cl.json || asJSON
		r, err := cl.share(ctx, l.env, false, l.key.PutProof(proof), ttl)
		cl.json = saved
		c.vault.free(proof)
		if err != nil {
			return undo(err)
		}
		sk, err := keep(c.vault, r.secretKey)
		var rk []byte
		if err == nil {
			rk, err = keep(c.vault, r.receiptKey)
		}
		if cr.base == "" {
			cr.base = linkBase(r.receiptURL, r.receiptKey)
		}
		r.free(c.vault)
		if err != nil {
			c.vault.free(sk)
			return undo(err)
		}
		cr.secretKeys, cr.receiptKeys = append(cr.secretKeys, sk), append(cr.receiptKeys, rk)
	}
	if cr.base == "" {
		cr.base = cl.ep.base.String()
	}
	if len(links) > 1 {
		g, err := cl.group(ctx, cr.receiptKeys)
		if err != nil {
			return undo(fmt.Errorf("gathering the links: %w", err))
		}
		cr.groupKey, err = keep(c.vault, g.receiptKey)
		g.free(c.vault)
		if err != nil {
			return undo(err)
		}
	}
	return cr, nil
}

// printLinks writes each link, one a line, to stdout; with drawQR, each
// one's QR code to stderr before it.
func (c *cli) printLinks(cr *createdLinks, links []sealedLink, drawQR bool) error {
	for i := range links {
		if err := c.printLink(cr.base, cr.secretKeys[i], links[i].key, drawQR); err != nil {
			return err
		}
	}
	return nil
}

// ---- the way back ----

// outOptions say where opened contents go.
type outOptions struct {
	dir        string // files go here
	show       bool   // text may go to a terminal
	toTerminal bool   // stdout is one
}

// checkOut refuses, before anything is opened, what could not be written:
// a directory that is not one, or text to a terminal without --show or
// --out (with --out, text that must not go to the terminal goes there).
func (c *cli) checkOut(o *outOptions, dirGiven bool) error {
	if o.toTerminal && !o.show && !dirGiven {
		return usageError("the secret would stay on this screen: send stdout to a file or a program (otslite get LINK > file), or add --show (files go to --out DIR)")
	}
	st, err := os.Stat(o.dir)
	if err != nil || !st.IsDir() {
		return usageError(fmt.Sprintf("--out %q: not a directory", o.dir))
	}
	return nil
}

// writeContents writes opened contents: text to stdout, files into the
// directory. A share is refused here (see combine).
func (c *cli) writeContents(plain []byte, o outOptions) error {
	if !envelope.IsBundle(plain) {
		return c.writeText(plain, o)
	}
	b, err := envelope.ParseBundle(plain, make([]envelope.File, 0, maxFiles))
	if err != nil {
		return fmt.Errorf("the secret opened, but %w", err)
	}
	if b.IsShare() {
		return fmt.Errorf("this link held share %d of a %d-of-%d split, now used up: give %d share links to one otslite get", b.Share.X, b.Share.K, b.Share.N, b.Share.K)
	}
	if len(b.Text) > 0 {
		if err := c.writeText(b.Text, o); err != nil {
			return err
		}
	}
	for _, f := range b.Files {
		if err := c.writeFile(o.dir, f); err != nil {
			return err
		}
	}
	return nil
}

// writeText writes text to stdout: shown safely on a terminal (--show),
// or, when the terminal may not have it, as a file in the directory.
func (c *cli) writeText(text []byte, o outOptions) error {
	switch {
	case !o.toTerminal:
		_, err := c.stdout.Write(text)
		return err
	case !o.show:
		c.logf("the secret's text is not shown here (no --show): it goes into %s", o.dir)
		return c.writeFile(o.dir, envelope.File{Name: []byte("text.txt"), Data: text})
	}
	// A terminal obeys control characters: the sender's text must not
	// drive it (move the cursor, retitle the window, hide lines).
	shown, err := c.vault.alloc(2*len(text) + 1)
	if err != nil {
		return err
	}
	defer c.vault.free(shown)
	_, err = c.stdout.Write(appendVisible(shown[:0], text))
	return err
}

// writeFile writes a file into dir under its name, never over another
// file: a name taken gets " (2)", " (3)", ... before its extension.
func (c *cli) writeFile(dir string, f envelope.File) error {
	name := string(f.Name)
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 1; i < 1000; i++ {
		n := name
		if i > 1 {
			n = fmt.Sprintf("%s (%d)%s", stem, i, ext)
		}
		path := filepath.Join(dir, n)
		out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return err
		}
		_, err = out.Write(f.Data)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path)
			return fmt.Errorf("writing %s: %w", path, err)
		}
		c.logf("wrote %s (%s)", path, formatSize(int64(len(f.Data))))
		return nil
	}
	return fmt.Errorf("no free name for %q in %s", name, dir)
}

// share is one opened share of a split.
type openedShare struct {
	plain []byte // the opened bundle (vault memory)
	b     envelope.Bundle
}

// combine rebuilds a split secret from opened shares, into vault memory.
func (c *cli) combine(shares []openedShare) ([]byte, error) {
	first := shares[0].b.Share
	xs := make([]byte, 0, len(shares))
	ys := make([][]byte, 0, len(shares))
	for _, s := range shares {
		sh := s.b.Share
		switch {
		case sh.ID != first.ID || sh.K != first.K || sh.N != first.N || len(s.b.Payload) != len(shares[0].b.Payload):
			return nil, errors.New("these links are shares of different splits")
		case bytes.IndexByte(xs, byte(sh.X)) >= 0:
			return nil, fmt.Errorf("share %d was given twice", sh.X)
		}
		xs, ys = append(xs, byte(sh.X)), append(ys, s.b.Payload)
	}
	if len(xs) < first.K {
		return nil, fmt.Errorf("%d of the %d shares needed were given (a %d-of-%d split); the links given are used up, %d others remain", len(xs), first.K, first.K, first.N, first.N-len(xs))
	}
	out, err := c.vault.alloc(len(ys[0]))
	if err != nil {
		return nil, err
	}
	if err := shamir.Combine(out, xs[:first.K], ys[:first.K]); err != nil {
		c.vault.free(out)
		return nil, err
	}
	return out, nil
}
