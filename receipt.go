package main

// otslite burn and otslite receipt: what the sender does with a receipt
// link. Reading a receipt never changes it; burning destroys the secret
// before it is read.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"otslite/store/envelope"
)

const burnUsage = `otslite burn: destroy a secret before it is read, from its receipt link.
Usage: otslite burn [flags] [RECEIPT_LINK]
Without RECEIPT_LINK, it is read from the terminal (not shown) or stdin. The
receipt of several links (.../group/...) burns every one that still waits.
  --passphrase     ask for the secret's passphrase first; without it, you are
                   asked when the server wants one (servers that know otslite's
                   proofs burn on the receipt link alone)
  --json           send JSON request bodies instead of forms
  --fingerprint    SHA-256 of a self-signed certificate (AB:CD:...), as the
                   server printed it; trusted instead of the system's roots
Exit codes: 0 burned, 1 failure, 2 bad command line, 5 gone (already read,
burned or expired), 6 wrong passphrase, 7 refused by the server.
`

const receiptUsage = `otslite receipt: show a secret's state from its receipt link.
Usage: otslite receipt [flags] [RECEIPT_LINK]
Without RECEIPT_LINK, it is read from the terminal (not shown) or stdin.
Prints the state (waiting, read, burned, expired) and when, one per line, and
any attempt to open the link after it was gone; for the receipt of several
links (.../group/...), each link's.
  --wait           block until the secret is read (exit 0), burned (3) or
                   expired (4), asking the server every few seconds
  --fingerprint    SHA-256 of a self-signed certificate (AB:CD:...), as the
                   server printed it; trusted instead of the system's roots
Exit codes: 0 shown (with --wait: read), 1 failure, 2 bad command line,
3 burned, 4 expired (with --wait), 5 no such receipt (or it has expired),
7 refused by the server.
`

// burnOptions are burn's flags.
type burnOptions struct {
	passphrase, json bool
	pin              string
}

func burnFlags() (*flag.FlagSet, *burnOptions) {
	o := &burnOptions{}
	fs := flag.NewFlagSet("burn", flag.ContinueOnError)
	fs.BoolVar(&o.passphrase, "passphrase", false, "")
	fs.BoolVar(&o.json, "json", false, "")
	fs.StringVar(&o.pin, "fingerprint", "", "")
	return fs, o
}

func cmdBurn(ctx context.Context, c *cli, args []string) int {
	fs, o := burnFlags()
	rest, err := c.parseFlags(fs, burnUsage, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	l, cl, key, err := c.receiptLink(rest, o.pin, o.json)
	if err != nil {
		return c.fail(err)
	}
	defer l.free(c.vault)
	if l.path == "/group/" {
		return c.burnGroup(ctx, cl, l)
	}
	pass, err := c.burnPassphrase(key, o.passphrase)
	if err != nil {
		return c.fail(err)
	}
	r, err := cl.burn(ctx, l.key, pass)
	r.free(c.vault)
	if key != nil && sessionOver(err) {
		c.vault.free(pass)
		c.logf(msgSessionOver+": nothing to burn", cl.ep.base.Host)
		return exitGone
	}
	if wrongPassphrase(err) && !o.passphrase {
		// The server wants the passphrase (or, for the envelope, the
		// whole proof): ask for it, once.
		c.vault.free(pass)
		if _, terr := c.terminal(); terr != nil {
			c.logf("the server wants the secret's passphrase to burn it; run this on a terminal")
			return exitPassphrase
		}
		if pass, err = c.burnPassphrase(key, true); err != nil {
			return c.fail(err)
		}
		r, err = cl.burn(ctx, l.key, pass)
		r.free(c.vault)
	}
	c.vault.free(pass)
	switch {
	case unknown(err):
		c.logf("nothing to burn: the secret was already read, burned or expired (or the receipt is unknown)")
		return exitGone
	case wrongPassphrase(err):
		c.logf("%v", err)
		return exitPassphrase
	case err != nil:
		return c.fail(err)
	}
	c.logf("burned: the secret is destroyed and its link opens nothing")
	return exitOK
}

// burnPassphrase is what burn sends as the v1 passphrase: for an envelope,
// its proof (the part a link proves, or with ask the whole proof); else
// the passphrase when asked for; else nothing.
func (c *cli) burnPassphrase(key *envelope.Key, ask bool) ([]byte, error) {
	switch {
	case key == nil && !ask:
		return nil, nil
	case key == nil:
		return c.passphrase("The secret's passphrase (not shown): ", false)
	case !ask || !key.NeedsPassphrase():
		out, err := c.vault.alloc(envelope.ProofLen)
		if err != nil {
			return nil, err
		}
		return key.PutLinkProof(out), nil
	}
	pass, err := c.passphrase("The secret's passphrase (not shown): ", false)
	if err != nil {
		return nil, err
	}
	err = key.Unlock(pass)
	c.vault.free(pass)
	if err != nil {
		return nil, err
	}
	out, err := c.vault.alloc(key.ProofLen())
	if err != nil {
		return nil, err
	}
	return key.PutProof(out), nil
}

// receiptOptions are receipt's flags.
type receiptOptions struct {
	wait bool
	pin  string
}

func receiptFlags() (*flag.FlagSet, *receiptOptions) {
	o := &receiptOptions{}
	fs := flag.NewFlagSet("receipt", flag.ContinueOnError)
	fs.BoolVar(&o.wait, "wait", false, "")
	fs.StringVar(&o.pin, "fingerprint", "", "")
	return fs, o
}

func cmdReceipt(ctx context.Context, c *cli, args []string) int {
	fs, o := receiptFlags()
	rest, err := c.parseFlags(fs, receiptUsage, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return c.fail(err)
	}
	l, cl, key, err := c.receiptLink(rest, o.pin, false)
	if err != nil {
		return c.fail(err)
	}
	defer l.free(c.vault)
	if l.path == "/group/" {
		return c.groupReceipt(ctx, cl, l, o.wait)
	}
	// The fragment says whether the recipient needs a passphrase (the
	// server sees the proof as one either way); reading needs no key.
	zk, needsPass := key != nil, key != nil && key.NeedsPassphrase()
	said := false
	for {
		r, err := cl.receipt(ctx, l.key)
		if zk && sessionOver(err) {
			c.logf(msgSessionOver+": so has its receipt", cl.ep.base.Host)
			return exitGone
		}
		if unknown(err) {
			c.logf("no such receipt: it is wrong, or it has expired (a receipt lives twice as long as its secret)")
			return exitGone
		}
		var e *apiError
		if o.wait && errors.As(err, &e) && e.status == 429 && e.retryAfter > 0 {
			if !sleep(ctx, e.retryAfter) {
				return c.fail(ctx.Err())
			}
			continue
		}
		if err != nil {
			return c.fail(err)
		}
		state := r.state
		if zk {
			r.passphraseRequired = needsPass
		}
		if !o.wait || state != "new" {
			c.printReceipt(r)
			if zk {
				// otslite keeps attempts on the link after it was gone.
				if late, err := cl.lateOf(ctx, l.key); err == nil {
					for _, a := range late.Late {
						fmt.Fprintf(c.stdout, "late:       %s\n", describeLate(a))
					}
				}
			}
		}
		r.free(c.vault)
		if !o.wait {
			return exitOK
		}
		switch state {
		case "received", "revealed":
			return exitOK
		case "burned":
			return exitBurned
		case "expired":
			return exitExpired
		}
		if !said {
			c.logf("waiting until the secret is read, burned or expires (Ctrl-C stops waiting; the secret stays)")
			said = true
		}
		if !sleep(ctx, c.poll) {
			return c.fail(ctx.Err())
		}
	}
}

// receiptPoll is how often --wait asks. The v1 rate limit allows 1000
// receipt reads per 20 minutes from one address; this takes a third.
const receiptPoll = 3 * time.Second

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// receiptLink reads and parses a receipt link, and makes a client for its
// server. The caller frees the link.
func (c *cli) receiptLink(args []string, pin string, asJSON bool) (*link, *client, *envelope.Key, error) {
	raw, err := c.readLink(args, "Receipt")
	if err != nil {
		return nil, nil, nil, err
	}
	l, err := parseLink(raw, receiptPaths, "a receipt")
	if err == nil {
		var cl *client
		if cl, err = c.newClient(l.base, pin, asJSON); err == nil {
			var key *envelope.Key
			if key, err = l.zeroKnowledge(c.vault); err == nil {
				return l, cl, key, nil
			}
			err = usageError(err.Error())
			c.vault.free(cl.auth)
		}
	} else {
		err = usageError(err.Error())
	}
	c.vault.free(raw)
	return nil, nil, nil, err
}

// printReceipt writes a receipt's state and times to stdout.
func (c *cli) printReceipt(r *reply) {
	at := func(unix int64) string {
		if unix <= 0 {
			return "-"
		}
		return time.Unix(unix, 0).Local().Format("2006-01-02 15:04:05 MST")
	}
	in := func(secs int64) string {
		return formatDuration(time.Duration(secs) * time.Second)
	}
	state := map[string]string{
		"new":      "waiting to be read",
		"received": "read",
		"burned":   "burned before it was read",
		"expired":  "expired unread",
	}[r.state]
	if state == "" {
		state = r.state
	}
	fmt.Fprintf(c.stdout, "state:      %s\n", state)
	fmt.Fprintf(c.stdout, "created:    %s\n", at(r.created))
	switch r.state {
	case "new":
		fmt.Fprintf(c.stdout, "expires:    %s (in %s)\n", at(time.Now().Unix()+r.secretTTL), in(r.secretTTL))
	case "received":
		fmt.Fprintf(c.stdout, "read:       %s\n", at(r.recvd))
	case "burned", "expired":
		fmt.Fprintf(c.stdout, "%-11s %s\n", r.state+":", at(r.updated))
	}
	pass := "no"
	if r.passphraseRequired {
		pass = "yes"
	}
	fmt.Fprintf(c.stdout, "passphrase: %s\n", pass)
	fmt.Fprintf(c.stdout, "receipt:    kept for %s more\n", in(r.metadataTTL))
}

// groupReceipt shows each link of a group; with wait, until none waits.
func (c *cli) groupReceipt(ctx context.Context, cl *client, l *link, wait bool) int {
	said := false
	for {
		g, err := cl.groupReceipt(ctx, l.key)
		if sessionOver(err) {
			c.logf(msgSessionOver+": so has its receipt", cl.ep.base.Host)
			return exitGone
		}
		if unknown(err) || err != nil && isUnknownGroup(err) {
			c.logf("no such receipt: it is wrong, or it has expired (a receipt lives twice as long as its links)")
			return exitGone
		}
		if err != nil {
			return c.fail(err)
		}
		waiting, burned, expired := 0, 0, 0
		for _, ln := range g.Links {
			switch ln.State {
			case "new":
				waiting++
			case "burned":
				burned++
			case "expired":
				expired++
			}
		}
		if !wait || waiting == 0 {
			c.printGroup(g)
		}
		switch {
		case !wait:
			return exitOK
		case waiting > 0:
		case burned > 0:
			return exitBurned
		case expired > 0:
			return exitExpired
		default:
			return exitOK
		}
		if !said {
			c.logf("waiting until every link is read, burned or expires (Ctrl-C stops waiting; the links stay)")
			said = true
		}
		if !sleep(ctx, c.poll) {
			return c.fail(ctx.Err())
		}
	}
}

// isUnknownGroup reports the server's "Unknown group".
func isUnknownGroup(err error) bool {
	var e *apiError
	return errors.As(err, &e) && e.message == "Unknown group"
}

// printGroup writes each link's state, and attempts after it was gone.
func (c *cli) printGroup(g *groupView) {
	at := func(unix int64) string { return time.Unix(unix, 0).Local().Format("2006-01-02 15:04:05 MST") }
	for _, ln := range g.Links {
		switch ln.State {
		case "new":
			fmt.Fprintf(c.stdout, "link %d: waiting to be read, until %s\n", ln.Link, at(ln.SecretExpires))
		case "received":
			fmt.Fprintf(c.stdout, "link %d: read at %s\n", ln.Link, at(ln.Received))
		case "burned":
			fmt.Fprintf(c.stdout, "link %d: burned at %s\n", ln.Link, at(ln.Updated))
		default:
			fmt.Fprintf(c.stdout, "link %d: expired unread\n", ln.Link)
		}
		for _, a := range ln.Late {
			fmt.Fprintf(c.stdout, "link %d: %s\n", ln.Link, describeLate(a))
		}
	}
}

// burnGroup burns every link of a group that still waits.
func (c *cli) burnGroup(ctx context.Context, cl *client, l *link) int {
	g, err := cl.groupReceipt(ctx, l.key)
	if sessionOver(err) {
		c.logf(msgSessionOver+": nothing to burn", cl.ep.base.Host)
		return exitGone
	}
	if unknown(err) || err != nil && isUnknownGroup(err) {
		c.logf("nothing to burn: the receipt is unknown, or has expired")
		return exitGone
	}
	if err != nil {
		return c.fail(err)
	}
	burned := 0
	for _, ln := range g.Links {
		if ln.State != "new" {
			continue
		}
		if err := cl.burnLink(ctx, l.key, ln.Link); err != nil && !unknown(err) {
			var e *apiError
			if !errors.As(err, &e) || e.status != 404 {
				return c.fail(err)
			}
			continue
		}
		burned++
		c.logf("link %d: burned", ln.Link)
	}
	if burned == 0 {
		c.logf("nothing to burn: every link was already read, burned or expired")
		return exitGone
	}
	c.logf("burned %d link(s): they open nothing now", burned)
	return exitOK
}
