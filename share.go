package main

// otslite share: a secret stored on a running server. Against otslite it
// is sealed here in the zero-knowledge envelope; against an upstream
// Onetime Secret server (or with --plain) it is sent as plain v1, which
// the server can read, and the command says so first.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"otslite/store/envelope"
)

const shareUsage = `otslite share: store a secret on a running otslite or Onetime Secret server.
Usage: otslite share --server URL [flags] [FILE]
Reads the text from FILE or stdin (asking, not shown, on a terminal). Against
otslite it is sealed here: the server holds only ciphertext. Prints the links
to send, then your receipt link (for otslite receipt and otslite burn).
  --server         the server's URL (default: OTSLITE_SERVER)
  --file           a file to send (repeat for more); the text is then optional
  --links          N links of the same secret, one for each of N people
  --split          K/N: N links, any K of which rebuild it (otslite get L1 L2)
  --ttl            how long the links work (default: the server's)
  --passphrase     the recipient needs a passphrase too (asked, not shown)
  --plain          send the text itself, as Onetime Secret's v1 API does: the
                   server can read it (asked for when it is not otslite)
  --json           send JSON request bodies instead of forms
  --token-file     file holding user:token, for servers that ask for one
                   (else OTSLITE_TOKEN_FILE, else user:token in OTSLITE_TOKEN)
  --fingerprint    SHA-256 of a self-signed certificate (AB:CD:...), as the
                   server printed it; trusted instead of the system's roots
  --qr             draw QR codes (default: one link, when stderr is a terminal)
Files, --links and --split need otslite. Exit codes: 0 stored, 1 failure,
2 bad command line, 7 refused by the server.
`

// shareOptions are share's flags.
type shareOptions struct {
	server, tokenFile, pin  string
	ttl                     time.Duration
	passphrase, plain, json bool
	files                   filesFlag
	shape                   shape
	qr                      qrFlag
}

func shareFlags() (*flag.FlagSet, *shareOptions) {
	o := &shareOptions{}
	fs := flag.NewFlagSet("share", flag.ContinueOnError)
	fs.StringVar(&o.server, "server", "", "")
	fs.Var(&o.files, "file", "")
	fs.Var(linksFlag{&o.shape.links}, "links", "")
	fs.Var(&o.shape.split, "split", "")
	fs.Var(durationFlag{&o.ttl, time.Second, 365 * day}, "ttl", "")
	fs.BoolVar(&o.passphrase, "passphrase", false, "")
	fs.BoolVar(&o.plain, "plain", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.StringVar(&o.tokenFile, "token-file", "", "")
	fs.StringVar(&o.pin, "fingerprint", "", "")
	fs.Var(&o.qr, "qr", "")
	return fs, o
}

func cmdShare(ctx context.Context, c *cli, args []string) int {
	fs, o := shareFlags()
	rest, err := c.parseFlags(fs, shareUsage, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if o.server == "" {
		o.server = c.getenv("OTSLITE_SERVER")
	}
	beyond := len(o.files) > 0 || o.shape.count() > 1
	switch {
	case err != nil:
	case len(rest) > 1:
		err = usageError("give at most one FILE (files to send go with --file)")
	case o.server == "":
		err = usageError("say which server: --server URL, or OTSLITE_SERVER")
	case beyond && o.plain:
		err = usageError("--plain sends text only, to one link: files, --links and --split are sealed here")
	default:
		err = o.shape.check()
	}
	if err != nil {
		return c.fail(err)
	}
	cl, err := c.newClient(o.server, o.pin, o.json)
	if err != nil {
		return c.fail(err)
	}
	if cl.auth, err = c.credential(o.tokenFile); err != nil {
		return c.fail(err)
	}
	defer c.vault.free(cl.auth)

	cfg, err := cl.otsliteConfig(ctx)
	if err != nil {
		return c.fail(err)
	}
	if cfg == nil && beyond {
		return c.fail(fmt.Errorf("%s is not an otslite server: files, --links and --split need one", cl.ep.base.Host))
	}
	// Sealed, a secret takes more room: say here what fits. Plain text is
	// the server's to judge.
	limit, plainMax := maxSecretSizeCap, maxSecretSizeCap
	if cfg != nil {
		plainMax = int(cfg.maxSecretSize)
		envelopes := int(max(cfg.maxSecretSize, cfg.maxEnvelopeSize))
		limit = envelope.MaxPlain(envelopes)
		if len(o.files) > 0 {
			if cfg.maxFileSize <= 0 {
				cfg.free(c.vault)
				return c.fail(fmt.Errorf("%s takes no files", cl.ep.base.Host))
			}
			limit = min(limit, int(cfg.maxFileSize)+envelope.MaxHeader)
		}
		if o.shape.split.k > 0 {
			limit -= shareSlack // a share's bundle wraps what is split
		}
		cfg.free(c.vault)
	}
	if cfg == nil && !o.plain {
		if err := c.confirmPlain(cl.ep); err != nil {
			return c.fail(err)
		}
		o.plain = true
	} else if o.plain {
		c.logf("notice: sending the text itself (--plain): %s can read it", cl.ep.base.Host)
	}

	if o.plain {
		r, err := c.sharePlain(ctx, cl, rest, o.passphrase, maxSecretSizeCap, o.ttl)
		if err != nil {
			return c.fail(err)
		}
		defer r.free(c.vault)
		base := linkBase(r.receiptURL, r.receiptKey)
		if base == "" {
			base = cl.ep.base.String()
		}
		if err := c.printLink(base, r.secretKey, nil, o.qr.draw(c.stderr)); err != nil {
			return c.fail(err)
		}
		if err := c.printReceiptLink(base, r.receiptURL, r.receiptKey, nil); err != nil {
			return c.fail(err)
		}
		c.logf("send the first link to the recipient; the second is your receipt (otslite receipt, otslite burn): keep it")
		return exitOK
	}

	links, _, err := c.sealFrom(rest, o.files, limit, o.passphrase, o.shape)
	if err != nil {
		return c.fail(err)
	}
	defer wipeLinks(c.vault, links)
	longest := 0
	for _, l := range links {
		longest = max(longest, len(l.env))
	}
	cr, err := c.create(ctx, cl, links, o.ttl, longest > plainMax)
	if err != nil {
		return c.fail(err)
	}
	defer cr.free(c.vault)
	if err := c.printLinks(cr, links, o.qr.draw(c.stderr) && (len(links) == 1 || o.qr.set)); err != nil {
		return c.fail(err)
	}
	if cr.groupKey == nil {
		if err := c.printReceiptLink(cr.base, nil, cr.receiptKeys[0], links[0].key); err != nil {
			return c.fail(err)
		}
		c.logf("send the first link to the recipient; the second is your receipt (otslite receipt, otslite burn): keep it")
		return exitOK
	}
	if err := c.printGroupLink(cr.base, cr.groupKey); err != nil {
		return c.fail(err)
	}
	what := "send each link to one person"
	if o.shape.split.k > 0 {
		what = fmt.Sprintf("send each link over a different channel (any %d of them rebuild the secret)", o.shape.split.k)
	}
	c.logf("%s; the last line is the receipt of them all (otslite receipt, otslite burn): keep it", what)
	return exitOK
}

// shareSlack is room for a share's bundle header around what is split.
const shareSlack = 1 << 10

// printGroupLink writes a group's receipt link to stdout.
func (c *cli) printGroupLink(base string, key []byte) error {
	l, err := buildLink(c.vault, base, "/group/", key, nil)
	if err != nil {
		return err
	}
	nl, err := c.vault.grow(l, len(l)+1)
	if err != nil {
		return err
	}
	nl[len(nl)-1] = '\n'
	_, err = c.stdout.Write(nl)
	c.vault.free(nl)
	return err
}

// sharePlain sends the secret as plain v1: the text itself.
func (c *cli) sharePlain(ctx context.Context, cl *client, args []string, askPass bool, limit int, ttl time.Duration) (*reply, error) {
	name := ""
	if len(args) == 1 {
		name = args[0]
	}
	secret, err := c.readSecret(name, limit)
	if err != nil {
		return nil, err
	}
	defer c.vault.free(secret)
	var pass []byte
	if askPass {
		if pass, err = c.passphrase("Passphrase for the recipient (not shown): ", true); err != nil {
			return nil, err
		}
		defer c.vault.free(pass)
	}
	return cl.share(ctx, secret, true, pass, ttl)
}

// confirmPlain asks, on the terminal, before sending a secret's text to a
// server that is not otslite. Without a terminal it refuses: --plain says
// it.
func (c *cli) confirmPlain(ep *endpoint) error {
	notice := fmt.Sprintf("%s is not an otslite server: it would receive the secret's text and could read it", ep.base.Host)
	t, err := c.terminal()
	if err != nil {
		return usageError(notice + "; to send it anyway, add --plain")
	}
	fmt.Fprintf(t.out, "otslite: %s.\nSend it as plain text anyway? [y/N] ", notice)
	var answer [8]byte
	n, err := readLine(t.in, answer[:])
	if err != nil || !strings.EqualFold(string(bytes.TrimSpace(answer[:n])), "y") && !strings.EqualFold(string(bytes.TrimSpace(answer[:n])), "yes") {
		return usageError("nothing was sent")
	}
	return nil
}

// printReceiptLink writes the receipt link to stdout: the server's own
// (metadata_url) when it gives one, with the fragment when there is a key
// (otslite's receipt page then shows the whole link again, and burns with
// the proof).
func (c *cli) printReceiptLink(base string, receiptURL, receiptKey []byte, k *envelope.Key) error {
	var frag []byte
	if k != nil {
		fbuf, err := c.vault.alloc(envelope.FragmentLen)
		if err != nil {
			return err
		}
		defer c.vault.free(fbuf)
		frag = k.PutFragment(fbuf)
	}
	path := "/receipt/"
	if b := linkBase(receiptURL, receiptKey); b != "" {
		base, path = b, string(receiptURL[len(b):len(receiptURL)-len(receiptKey)])
	}
	l, err := buildLink(c.vault, base, path, receiptKey, frag)
	if err != nil {
		return err
	}
	nl, err := c.vault.grow(l, len(l)+1)
	if err != nil {
		return err
	}
	nl[len(nl)-1] = '\n'
	_, err = c.stdout.Write(nl)
	c.vault.free(nl)
	return err
}

// newClient makes a client for the server at raw.
func (c *cli) newClient(raw, pin string, asJSON bool) (*client, error) {
	if pin == "" {
		pin = c.getenv("OTSLITE_FINGERPRINT")
	}
	ep, err := newEndpoint(raw, pin)
	if err != nil {
		return nil, usageError(err.Error())
	}
	return &client{ep: ep, v: c.vault, json: asJSON}, nil
}

// credential reads "user:token" from the file named (or in
// OTSLITE_TOKEN_FILE), else from OTSLITE_TOKEN, and returns the
// Authorization value for it in vault memory; nil when there is none.
func (c *cli) credential(file string) ([]byte, error) {
	if file == "" {
		file = c.getenv("OTSLITE_TOKEN_FILE")
	}
	var cred []byte
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		all, err := readAll(c.vault, f, 0, 64<<10)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("--token-file: %q: %w", file, err)
		}
		defer c.vault.free(all)
		// The first line that is neither empty nor a # comment.
		for line := range bytes.SplitSeq(all, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) > 0 && line[0] != '#' {
				cred = line
				break
			}
		}
		if cred == nil {
			return nil, fmt.Errorf("--token-file: %q holds no user:token line", file)
		}
	case c.getenv("OTSLITE_TOKEN") != "":
		// The environment is a Go string already; prefer a file.
		env := c.getenv("OTSLITE_TOKEN")
		b, err := c.vault.alloc(len(env))
		if err != nil {
			return nil, err
		}
		defer c.vault.free(b)
		copy(b, env)
		cred = bytes.TrimSpace(b)
	default:
		return nil, nil
	}
	user, token, ok := bytes.Cut(cred, []byte(":"))
	if !ok || len(user) == 0 || len(token) == 0 || bytes.ContainsAny(cred, " \t\r\n") {
		return nil, errors.New("a credential is user:token on one line (a token file, or OTSLITE_TOKEN)")
	}
	return basicAuth(c.vault, cred)
}
