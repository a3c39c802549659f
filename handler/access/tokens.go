// Package access decides who may do what: the create tokens that clients
// present as HTTP Basic credentials, and the hours during which secrets may
// be opened.
//
// Rules for this package:
//   - A token read here (from a request or the token file) never becomes a
//     Go string, and every buffer that held one is wiped. Tokens given as
//     flags or environment variables arrive as strings; those are the
//     caller's.
//   - Tokens are kept only as hashes keyed with a process key that lives in
//     locked memory. A presented token is compared against every entry of
//     the table, in constant time.
//   - No error message quotes a token: errors name a line or an entry, and
//     the user.
package access

import (
	"bytes"
	"crypto/sha3"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
)

// MaxTokenFile is the largest token file read.
const MaxTokenFile = 1 << 20

const (
	labelSize = 8
	keySize   = 32
	hashInput = labelSize + keySize + MaxCredential
)

// Hash labels; each names one use of the process key.
var (
	labelVerify = [labelSize]byte{'t', 'o', 'k', 'e', 'n', 'v', 'f', 'y'}
	labelOwn    = [labelSize]byte{'t', 'o', 'k', 'e', 'n', 'o', 'w', 'n'}
	labelMask   = [labelSize]byte{'o', 'w', 'n', 'm', 'a', 's', 'k', 0}
)

type entry struct {
	user string
	hash [32]byte
}

// Tokens is the table of create tokens in force: those given as flags or
// in the environment (fixed for the process's life) and those read from
// the token file (read again by Reload). Safe for concurrent use.
type Tokens struct {
	work  *scratch // the process key and room to work on credentials
	fixed []entry
	path  string

	mu    sync.Mutex // serializes Reload
	table atomic.Pointer[[]entry]
}

// NewTokens hashes the fixed "user:token" entries and reads the token file
// at path ("" for none).
func NewTokens(fixed []string, path string) (*Tokens, error) {
	return NewTokensKeyed(fixed, path, nil)
}

// NewTokensKeyed is NewTokens with the hashes keyed by key (32 bytes)
// rather than a key of this process's own, so that replicas that share it
// name a credential alike (its recent list lives in the shared store). A
// nil key draws one.
func NewTokensKeyed(fixed []string, path string, key []byte) (*Tokens, error) {
	work, err := newScratch(key)
	if err != nil {
		return nil, fmt.Errorf("failed to draw the token key: %w", err)
	}
	t := &Tokens{work: work, path: path}
	for i, s := range fixed {
		line := []byte(s)
		user, token, err := ParseToken(line)
		if err == nil {
			e := entry{user: string(user)}
			t.sum(&e.hash, labelVerify, user, token)
			t.fixed = append(t.fixed, e)
		}
		clear(line)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
	}
	if _, err := t.Reload(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Close wipes the process key and the scratch memory. Nothing checks
// afterwards.
func (t *Tokens) Close() { t.work.destroy() }

// Required reports whether creating needs a token: whenever tokens were
// configured, even if the token file now lists none (an emptied file
// locks everyone out rather than letting everyone in).
func (t *Tokens) Required() bool { return t != nil && (len(t.fixed) > 0 || t.path != "") }

// Len is the number of tokens in force.
func (t *Tokens) Len() int { return len(*t.table.Load()) }

// Users lists the users that have a token now, sorted, each once.
func (t *Tokens) Users() []string {
	var users []string
	for _, e := range *t.table.Load() {
		users = append(users, e.user)
	}
	slices.Sort(users)
	return slices.Compact(users)
}

// Path is the token file, "" for none.
func (t *Tokens) Path() string { return t.path }

// Reload reads the token file again and puts its tokens, with the fixed
// ones, in force at once. Requests under way finish with the table they
// started with. On any error the tokens in force stay as they were. It
// returns the number of tokens read from the file.
func (t *Tokens) Reload() (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	entries := slices.Clone(t.fixed)
	n := 0
	if t.path != "" {
		data, err := readFile(t.path)
		if err != nil {
			return 0, err
		}
		fromFile, err := t.parseFile(data)
		clear(data)
		if err != nil {
			return 0, err
		}
		n = len(fromFile)
		entries = append(entries, fromFile...)
	}
	slices.SortFunc(entries, func(a, b entry) int { return bytes.Compare(a.hash[:], b.hash[:]) })
	entries = slices.CompactFunc(entries, func(a, b entry) bool { return a.hash == b.hash })
	t.table.Store(&entries)
	return n, nil
}

// readFile reads at most MaxTokenFile bytes of path.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			bigger := make([]byte, len(buf), 2*cap(buf))
			copy(bigger, buf)
			clear(buf) // never leave a token behind in a dropped buffer
			buf = bigger
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case len(buf) > MaxTokenFile:
			clear(buf)
			return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxTokenFile)
		case errors.Is(err, io.EOF):
			return buf, nil
		case err != nil:
			clear(buf)
			return nil, fmt.Errorf("failed to read %s: %w", path, err)
		}
	}
}

// parseFile reads a token file: one "user:token" a line; blank lines and
// lines starting with '#' are skipped; spaces around an entry are ignored.
func (t *Tokens) parseFile(data []byte) ([]entry, error) {
	var entries []entry
	// Lines are cut out of data in place: a scanner would copy them into
	// a buffer of its own that nothing wipes.
	for n, rest := 1, data; len(rest) > 0; n++ {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		user, token, err := ParseToken(line)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", t.path, n, err)
		}
		e := entry{user: string(user)}
		t.sum(&e.hash, labelVerify, user, token)
		entries = append(entries, e)
	}
	return entries, nil
}

// Anonymous is the custid of secrets made without a credential; no token
// may take the name.
const Anonymous = "anon"

// ParseToken splits a "user:token" entry and checks both halves. The
// error never quotes the token.
func ParseToken(b []byte) (user, token []byte, err error) {
	user, token, ok := bytes.Cut(b, []byte(":"))
	switch {
	case !ok:
		return nil, nil, errors.New("want user:token")
	case !validUser(user):
		return nil, nil, fmt.Errorf("the user must be 1 to %d printable characters without spaces, ':' or ','", MaxUser)
	case string(user) == Anonymous:
		return nil, nil, fmt.Errorf("the user %q means no user; choose another name", Anonymous)
	case !validToken(token):
		return nil, nil, fmt.Errorf("the token of user %q must be %d to %d printable characters without spaces or ','", user, MinToken, MaxToken)
	}
	return user, token, nil
}

// sum is SHAKE256(label || process key || user ":" token), 32 bytes,
// composed in scratch memory. (SHA-3 needs no HMAC construction to be
// keyed.)
func (t *Tokens) sum(out *[32]byte, label [labelSize]byte, user, token []byte) {
	sl := t.work.get()
	defer sl.put()
	t.sumIn(sl, out[:], label, user, token)
}

// sumIn is sum in a slot the caller holds: the hash input is composed in
// its upper half (the lower half may hold the credential).
func (t *Tokens) sumIn(sl slot, out []byte, label [labelSize]byte, user, token []byte) {
	in := sl.buf[slotSize/2:]
	n := copy(in, label[:])
	n += copy(in[n:], t.work.key())
	n += copy(in[n:], user)
	in[n] = ':'
	n++
	n += copy(in[n:], token)
	sl.hash(out, in[:n])
	clear(in[:n])
}

// Hash writes SHA3-256(in) into out, leaving no copy of in in the hash's
// state. (sha3.Sum256 leaves in, unpermuted, in the state it cloned.) For
// values that are not credentials: the state lives where Go puts it.
func Hash(out *[32]byte, in []byte) {
	h := sha3.New256()
	h.Write(in)
	h.Sum(out[:0])
	h.Reset()
}

// Credential is a create token that was accepted.
type Credential struct {
	User string   // as configured; it becomes the receipts' custid
	ID   [32]byte // names the credential (user and token) without revealing it
	own  [32]byte // known only while a request presents the token
	work *scratch
}

// Check reads an Authorization header value into c and looks the Basic
// credential up. Every entry of the table is compared, in constant time.
// When the credential is refused, c.User is the username presented if
// some token is configured for it (so logs can name whose old token was
// used), and "" otherwise.
func (t *Tokens) Check(header []byte, c *Credential) bool {
	*c = Credential{}
	if t == nil || len(header) > MaxBasic {
		return false
	}
	sl := t.work.get()
	defer sl.put()
	user, token, ok := ParseBasic(header, sl.buf[:MaxCredential])
	if !ok || !validUser(user) || !validToken(token) {
		c.User = t.known(user)
		return false
	}
	var sum [32]byte
	t.sumIn(sl, sum[:], labelVerify, user, token)
	table := *t.table.Load()
	match, at := 0, 0
	for i := range table {
		eq := subtle.ConstantTimeCompare(sum[:], table[i].hash[:])
		at = subtle.ConstantTimeSelect(eq, i, at)
		match |= eq
	}
	if match == 0 {
		c.User = t.known(user)
		return false
	}
	c.User, c.ID, c.work = table[at].user, sum, t.work
	t.sumIn(sl, c.own[:], labelOwn, user, token)
	return true
}

// Holds reports whether a credential with this ID is still in force.
func (t *Tokens) Holds(id [32]byte) bool {
	for _, e := range *t.table.Load() {
		if e.hash == id {
			return true
		}
	}
	return false
}

// known returns the configured username equal to user, or "".
func (t *Tokens) known(user []byte) string {
	if t == nil || len(user) == 0 {
		return ""
	}
	for _, e := range *t.table.Load() {
		if e.user == string(user) {
			return e.user
		}
	}
	return ""
}

// Mask XORs b (at most 32 bytes) with a key stream that only this
// credential's token and the process key produce, at position nonce. The
// same call undoes it. Each nonce must be used for one message only.
func (c *Credential) Mask(b []byte, nonce uint64) {
	sl := c.work.get()
	defer sl.put()
	in, pad := sl.buf[:labelSize+32+8], sl.buf[slotSize/2:slotSize/2+32]
	n := copy(in, labelMask[:])
	n += copy(in[n:], c.own[:])
	binary.LittleEndian.PutUint64(in[n:], nonce)
	sl.hash(pad, in)
	subtle.XORBytes(b, b, pad[:len(b)])
}

// Wipe forgets the credential's token-derived key.
func (c *Credential) Wipe() { clear(c.own[:]) }
