package main

// Secret and receipt links: read from the command line or a prompt into
// vault memory, taken apart there, and built again for printing. A link
// carries its secret key and, for the zero-knowledge envelope, the key
// that opens it (the fragment): neither becomes a Go string.

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"unsafe"

	"otslite/store/envelope"
)

// link is a parsed link. key and fragment are slices of vault memory.
type link struct {
	raw      []byte // the whole link, as read (vault memory)
	keyMem   []byte // the envelope key's memory, once zeroKnowledge made it
	base     string // scheme://host[:port][/path], where the API lives
	key      []byte // the secret or receipt key
	fragment []byte // after '#', without it; nil when there is none
	path     string // the path that named its kind ("/receipt/", "/group/", ...)
}

// Link kinds and the paths that name them, as otslite and upstream
// Onetime Secret write them.
var (
	secretPaths  = []string{"/secret/"}
	receiptPaths = []string{"/receipt/", "/private/", "/metadata/", "/group/"}
)

// parseLink takes apart raw (vault memory, kept by the link) as a link of
// the kind paths name.
func parseLink(raw []byte, paths []string, what string) (*link, error) {
	bad := fmt.Errorf("not %s link (want https://host%s<key>)", what, paths[0])
	body, frag, hasFrag := bytes.Cut(bytes.TrimSpace(raw), []byte("#"))
	if bytes.ContainsAny(body, "?") {
		return nil, bad
	}
	at := -1
	var p string
	for _, cand := range paths {
		if i := bytes.LastIndex(body, []byte(cand)); i > at {
			at, p = i, cand
		}
	}
	if at < 0 {
		return nil, bad
	}
	key := body[at+len(p):]
	if !validLinkKey(key) {
		return nil, bad
	}
	base := string(body[:at]) // no key in it
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil, bad
	}
	l := &link{raw: raw, base: base, key: key, path: p}
	if hasFrag && len(frag) > 0 {
		l.fragment = frag
	}
	return l, nil
}

// validLinkKey accepts what v1 servers issue: at least 20 characters of
// [0-9a-z] (otslite's are 32), and not absurdly long.
func validLinkKey(k []byte) bool {
	if len(k) < 20 || len(k) > 128 {
		return false
	}
	for _, c := range k {
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// zeroKnowledge reads the link's fragment as an envelope key, in vault
// memory. It returns nil (and no error) for a link without a fragment.
func (l *link) zeroKnowledge(v *vault) (*envelope.Key, error) {
	if l.fragment == nil {
		return nil, nil
	}
	mem, err := v.alloc(envelope.MemorySize)
	if err != nil {
		return nil, err
	}
	k, err := envelope.ParseFragment(mem, l.fragment)
	if err != nil {
		v.free(mem)
		return nil, errors.New("the part of the link after # is damaged: copy the whole link again")
	}
	l.keyMem = mem
	return k, nil
}

// free wipes the link and its key.
func (l *link) free(v *vault) {
	v.free(l.keyMem)
	v.free(l.raw)
}

// buildLink writes base + path + key [+ "#" + fragment] into vault memory.
func buildLink(v *vault, base, path string, key, fragment []byte) ([]byte, error) {
	n := len(base) + len(path) + len(key)
	if fragment != nil {
		n += 1 + len(fragment)
	}
	out, err := v.alloc(n)
	if err != nil {
		return nil, err
	}
	i := copy(out, base)
	i += copy(out[i:], path)
	i += copy(out[i:], key)
	if fragment != nil {
		out[i] = '#'
		copy(out[i+1:], fragment)
	}
	return out, nil
}

// takeArg copies a command-line argument into vault memory and blanks the
// original: Go's os.Args point into the process's initial stack, where the
// kernel shows them to every local user (/proc/PID/cmdline, ps). Strings
// that are not os.Args entries (tests pass their own) are left alone.
func takeArg(v *vault, arg string) ([]byte, error) {
	b, err := v.alloc(max(len(arg), 1))
	if err != nil {
		return nil, err
	}
	copy(b, arg)
	b = b[:len(arg)]
	if len(arg) > 0 {
		for _, a := range os.Args[1:] {
			if len(a) > 0 && unsafe.StringData(a) == unsafe.StringData(arg) {
				clear(unsafe.Slice(unsafe.StringData(arg), len(arg)))
				break
			}
		}
	}
	return b, nil
}

// readLink returns the link given as an argument, or reads it from the
// terminal (not shown) or from stdin when none is given.
func (c *cli) readLink(args []string, what string) ([]byte, error) {
	if len(args) > 1 {
		return nil, usageError("give one link")
	}
	if len(args) == 1 {
		return takeArg(c.vault, args[0])
	}
	buf, err := c.vault.alloc(4096)
	if err != nil {
		return nil, err
	}
	var l []byte
	if isTerminal(c.stdin) {
		t, terr := c.terminal()
		if terr != nil {
			return nil, terr
		}
		l, err = t.ask(fmt.Sprintf("%s link (not shown): ", what), buf)
	} else {
		var n int
		n, err = readLine(c.stdin, buf)
		l = buf[:n]
	}
	if errors.Is(err, errTooLong) {
		err = errors.New("the link is too long")
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(l)) == 0 {
		return nil, usageError("no link given")
	}
	return l, nil
}
