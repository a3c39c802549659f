package main

// otslite get: open a secret link once. A link with a zero-knowledge
// fragment is revealed with its proof and decrypted here; a plain link
// (upstream Onetime Secret, or otslite's v1 API) is revealed as v1 does.
// The secret goes from vault memory straight to stdout.

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"otslite/store/envelope"
)

const getUsage = `otslite get: open secret links once; text to stdout, files into a directory.
Usage: otslite get [flags] [LINK...]
Without LINK, one link is read from the terminal (not shown) or stdin: other
users of this machine can see command lines (otslite blanks its own copies as
soon as it starts, but they may have looked by then). Given the links of a
split (K of them, any K), it rebuilds the secret from their shares; give them
all at once: each opens once.
  --out            directory the files go into (default: the current one);
                   no file there is ever replaced
  --show           print text to a terminal (refused without it: it would stay
                   on the screen and in its scrollback)
  --passphrase     ask for a passphrase; otslite's links say when one is
                   needed, other servers' do not
  --json           send JSON request bodies instead of forms
  --fingerprint    SHA-256 of a self-signed certificate (AB:CD:...), as the
                   server printed it; trusted instead of the system's roots
Opening uses a link up: a second get of it says it is gone.
Exit codes: 0 written, 1 failure, 2 bad command line, 5 gone (read, burned,
expired or never there), 6 wrong passphrase, 7 refused (rate limit,
lockout, access policy).
`

// errGone is the answer about a link that is used up.
var errGone = errors.New("this secret is gone: it was read, burned or expired, or never existed")

// getOptions are get's flags.
type getOptions struct {
	show, passphrase, json bool
	pin, out               string
}

func getFlags() (*flag.FlagSet, *getOptions) {
	o := &getOptions{}
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	fs.StringVar(&o.out, "out", "", "")
	fs.BoolVar(&o.show, "show", false, "")
	fs.BoolVar(&o.passphrase, "passphrase", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.StringVar(&o.pin, "fingerprint", "", "")
	return fs, o
}

func cmdGet(ctx context.Context, c *cli, args []string) int {
	fs, o := getFlags()
	rest, err := c.parseFlags(fs, getUsage, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	// Before anything is used up: where would the secret go?
	out := outOptions{dir: o.out, show: o.show, toTerminal: isTerminal(c.stdout)}
	if out.dir == "" {
		out.dir = "."
	}
	if err := c.checkOut(&out, o.out != ""); err != nil {
		return c.fail(err)
	}
	var raws [][]byte
	if len(rest) <= 1 {
		raw, err := c.readLink(rest, "Secret")
		if err != nil {
			return c.fail(err)
		}
		raws = append(raws, raw)
	} else {
		if len(rest) > maxLinks {
			return c.fail(usageError(fmt.Sprintf("at most %d links", maxLinks)))
		}
		for _, a := range rest {
			raw, err := takeArg(c.vault, a)
			if err != nil {
				return c.fail(err)
			}
			raws = append(raws, raw)
		}
	}
	var links []*link
	defer func() {
		for _, l := range links {
			l.free(c.vault)
		}
	}()
	for i, raw := range raws {
		l, err := parseLink(raw, secretPaths, "a secret")
		if err != nil {
			for _, r := range raws[i:] {
				c.vault.free(r)
			}
			return c.fail(usageError(err.Error()))
		}
		links = append(links, l)
	}
	keys := make([]*envelope.Key, len(links))
	for i, l := range links {
		if keys[i], err = l.zeroKnowledge(c.vault); err != nil {
			return c.fail(usageError(err.Error()))
		}
		if keys[i] == nil && len(links) > 1 {
			return c.fail(usageError("several links are opened together only when otslite made them (their links end in #...)"))
		}
	}
	if len(links) == 1 {
		cl, err := c.newClient(links[0].base, o.pin, o.json)
		if err != nil {
			return c.fail(err)
		}
		code, err := c.get(ctx, cl, links[0], keys[0], o.passphrase, out)
		if err != nil {
			return c.fail(err)
		}
		return code
	}
	code, err := c.getMany(ctx, links, keys, o, out)
	if err != nil {
		return c.fail(err)
	}
	return code
}

// get reveals the secret behind l and writes it out.
func (c *cli) get(ctx context.Context, cl *client, l *link, key *envelope.Key, askPass bool, out outOptions) (int, error) {
	plain, code, err := c.open(ctx, cl, l, key, askPass)
	if plain == nil || err != nil {
		return code, err
	}
	defer c.vault.free(plain)
	if key == nil {
		// Plain v1 text, from a server that holds the text itself.
		return exitOK, c.writeText(plain, out)
	}
	return exitOK, c.writeContents(plain, out)
}

// open reveals the secret behind l and returns what it holds, in vault
// memory: the text, or with a key the envelope's plaintext. When the link
// is used up, it says so and returns nil with the exit code.
func (c *cli) open(ctx context.Context, cl *client, l *link, key *envelope.Key, askPass bool) ([]byte, int, error) {
	// otslite can say, without using it up, whether a secret waits and
	// needs a passphrase; upstream cannot.
	cfg, err := cl.otsliteConfig(ctx)
	if key != nil && sessionOver(err) {
		c.logf(msgSessionOver+": the secret is gone", cl.ep.base.Host)
		return nil, exitGone, nil
	}
	if err != nil {
		return nil, 0, err
	}
	isOtslite := cfg != nil
	cfg.free(c.vault)
	if isOtslite {
		waiting, needsPass, err := cl.peek(ctx, l.key)
		if err != nil {
			return nil, 0, err
		}
		if !waiting {
			c.logf("%v", errGone)
			return nil, exitGone, nil
		}
		askPass = askPass || needsPass && key == nil
	}

	// What reveal sends as the v1 passphrase: the proof, or the passphrase.
	var secret []byte
	if key != nil {
		var pass []byte
		if key.NeedsPassphrase() {
			if pass, err = c.passphrase("Passphrase (not shown): ", false); err != nil {
				return nil, 0, err
			}
			defer c.vault.free(pass)
		}
		if err := key.Unlock(pass); err != nil {
			return nil, 0, err
		}
		if secret, err = c.vault.alloc(key.ProofLen()); err != nil {
			return nil, 0, err
		}
		secret = key.PutProof(secret)
	} else if askPass {
		if secret, err = c.passphrase("Passphrase (not shown): ", false); err != nil {
			return nil, 0, err
		}
	}
	r, err := cl.reveal(ctx, l.key, secret)
	c.vault.free(secret)
	if unknown(err) {
		if isOtslite {
			// Gone, or still there and the passphrase was wrong: v1 says
			// the same of both; asking again tells them apart.
			if waiting, _, perr := cl.peek(ctx, l.key); perr == nil && waiting {
				c.logf("the passphrase is wrong; the secret is still there (the server locks it after a few wrong tries)")
				return nil, exitPassphrase, nil
			}
			c.logf("%v", errGone)
			return nil, exitGone, nil
		}
		c.logf("%v; or it needs a passphrase (--passphrase), or another one", errGone)
		return nil, exitGone, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer r.free(c.vault)
	if key == nil {
		value, err := keep(c.vault, r.value)
		return value, 0, err
	}
	return c.openEnvelope(key, r.value)
}

// openEnvelope decrypts an envelope the server released into vault memory.
func (c *cli) openEnvelope(key *envelope.Key, env []byte) ([]byte, int, error) {
	out, err := c.vault.alloc(max(envelope.OpenedLen(len(env)), 1))
	if err != nil {
		return nil, 0, err
	}
	n, err := key.Open(out, env)
	if err != nil {
		c.vault.free(out)
		// The server released it for our proof, so it is gone now.
		return nil, 0, errors.New("the secret was released but cannot be opened: the link's key does not fit it (" + err.Error() + ")")
	}
	return out[:n], 0, nil
}

// getMany opens several links made together: the shares of a split,
// combined, or several secrets, written out one after another. Every link
// is asked about first, so that none is used up when one is gone.
func (c *cli) getMany(ctx context.Context, links []*link, keys []*envelope.Key, o *getOptions, out outOptions) (int, error) {
	clients := make([]*client, len(links))
	for i, l := range links {
		for j := range i {
			if string(links[j].key) == string(l.key) {
				return 0, usageError(fmt.Sprintf("link %d is link %d again", i+1, j+1))
			}
		}
		var err error
		if clients[i], err = c.newClient(l.base, o.pin, o.json); err != nil {
			return 0, err
		}
		cfg, err := clients[i].otsliteConfig(ctx)
		if sessionOver(err) {
			c.logf(msgSessionOver+": link %d is gone", clients[i].ep.base.Host, i+1)
			return exitGone, nil
		}
		if err != nil {
			return 0, err
		}
		if cfg == nil {
			return 0, fmt.Errorf("%s is not an otslite server", clients[i].ep.base.Host)
		}
		cfg.free(c.vault)
		if waiting, _, err := clients[i].peek(ctx, l.key); err != nil {
			return 0, err
		} else if !waiting {
			c.logf("link %d: %v; none was opened", i+1, errGone)
			return exitGone, nil
		}
	}
	var opened [][]byte
	defer func() {
		for _, p := range opened {
			c.vault.free(p)
		}
	}()
	var shares []openedShare
	for i, l := range links {
		plain, code, err := c.open(ctx, clients[i], l, keys[i], false)
		if err != nil {
			return 0, fmt.Errorf("link %d: %w", i+1, err)
		}
		if plain == nil {
			return code, nil
		}
		opened = append(opened, plain)
		if envelope.IsBundle(plain) {
			if b, err := envelope.ParseBundle(plain, nil); err == nil && b.IsShare() {
				shares = append(shares, openedShare{plain: plain, b: b})
			}
		}
	}
	switch {
	case len(shares) == len(opened):
		whole, err := c.combine(shares)
		if err != nil {
			return 0, err
		}
		defer c.vault.free(whole)
		return exitOK, c.writeContents(whole, out)
	case len(shares) > 0:
		return 0, errors.New("some of these links are shares of a split and some are not")
	}
	for _, p := range opened {
		if err := c.writeContents(p, out); err != nil {
			return 0, err
		}
	}
	return exitOK, nil
}

// appendVisible appends text for a terminal: control characters other
// than tab and newline in caret notation (ESC as ^[), and a final
// newline if there is none. dst must hold 2*len(text)+1 bytes.
func appendVisible(dst, text []byte) []byte {
	for _, b := range text {
		switch {
		case b == '\t' || b == '\n':
			dst = append(dst, b)
		case b < 0x20:
			dst = append(dst, '^', b+'@')
		case b == 0x7f:
			dst = append(dst, '^', '?')
		default:
			dst = append(dst, b)
		}
	}
	if len(text) == 0 || text[len(text)-1] != '\n' {
		dst = append(dst, '\n')
	}
	return dst
}
