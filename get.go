package main

// otslite get: open a secret link once. A link with a zero-knowledge
// fragment is revealed with its proof and decrypted here; a plain link
// (upstream Onetime Secret, or otslite's v1 API) is revealed as v1 does.
// The secret goes from vault memory straight to stdout.

import (
	"context"
	"errors"
	"flag"

	"otslite/store/envelope"
)

const getUsage = `otslite get: open a secret link once; the secret goes to stdout.
Usage: otslite get [flags] [LINK]
Without LINK, the link is read from the terminal (not shown) or stdin: other
users of this machine can see command lines (otslite blanks its own copy as
soon as it starts, but they may have looked by then).
  --show           print to a terminal (refused without it: it would stay on
                   the screen and in its scrollback)
  --passphrase     ask for a passphrase; otslite's links say when one is
                   needed, other servers' do not
  --json           send JSON request bodies instead of forms
  --fingerprint    SHA-256 of a self-signed certificate (AB:CD:...), as the
                   server printed it; trusted instead of the system's roots
Opening uses the secret up: a second get of the same link says it is gone.
Exit codes: 0 written, 1 failure, 2 bad command line, 5 gone (read, burned,
expired or never there), 6 wrong passphrase, 7 refused (rate limit,
lockout, access policy).
`

// errGone is the answer about a link that is used up.
var errGone = errors.New("this secret is gone: it was read, burned or expired, or never existed")

// getOptions are get's flags.
type getOptions struct {
	show, passphrase, json bool
	pin                    string
}

func getFlags() (*flag.FlagSet, *getOptions) {
	o := &getOptions{}
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
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
	toTerminal := isTerminal(c.stdout)
	if toTerminal && !o.show {
		return c.fail(usageError("the secret would stay on this screen: send stdout to a file or a program (otslite get LINK > file), or add --show"))
	}
	raw, err := c.readLink(rest, "Secret")
	if err != nil {
		return c.fail(err)
	}
	l, err := parseLink(raw, secretPaths, "a secret")
	if err != nil {
		c.vault.free(raw)
		return c.fail(usageError(err.Error()))
	}
	defer l.free(c.vault)
	cl, err := c.newClient(l.base, o.pin, o.json)
	if err != nil {
		return c.fail(err)
	}
	key, err := l.zeroKnowledge(c.vault)
	if err != nil {
		return c.fail(usageError(err.Error()))
	}
	code, err := c.get(ctx, cl, l, key, o.passphrase, toTerminal)
	if err != nil {
		return c.fail(err)
	}
	return code
}

// get reveals the secret behind l and writes it to stdout.
func (c *cli) get(ctx context.Context, cl *client, l *link, key *envelope.Key, askPass, toTerminal bool) (int, error) {
	// otslite can say, without using it up, whether a secret waits and
	// needs a passphrase; upstream cannot.
	cfg, err := cl.otsliteConfig(ctx)
	if key != nil && sessionOver(err) {
		c.logf(msgSessionOver+": the secret is gone", cl.ep.base.Host)
		return exitGone, nil
	}
	if err != nil {
		return 0, err
	}
	isOtslite := cfg != nil
	cfg.free(c.vault)
	if isOtslite {
		waiting, needsPass, err := cl.peek(ctx, l.key)
		if err != nil {
			return 0, err
		}
		if !waiting {
			c.logf("%v", errGone)
			return exitGone, nil
		}
		askPass = askPass || needsPass && key == nil
	}

	// What reveal sends as the v1 passphrase: the proof, or the passphrase.
	var secret []byte
	if key != nil {
		var pass []byte
		if key.NeedsPassphrase() {
			if pass, err = c.passphrase("Passphrase (not shown): ", false); err != nil {
				return 0, err
			}
			defer c.vault.free(pass)
		}
		if err := key.Unlock(pass); err != nil {
			return 0, err
		}
		if secret, err = c.vault.alloc(key.ProofLen()); err != nil {
			return 0, err
		}
		secret = key.PutProof(secret)
	} else if askPass {
		if secret, err = c.passphrase("Passphrase (not shown): ", false); err != nil {
			return 0, err
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
				return exitPassphrase, nil
			}
			c.logf("%v", errGone)
			return exitGone, nil
		}
		c.logf("%v; or it needs a passphrase (--passphrase), or another one", errGone)
		return exitGone, nil
	}
	if err != nil {
		return 0, err
	}
	defer r.free(c.vault)

	value := r.value
	if key != nil {
		out, err := c.vault.alloc(max(envelope.OpenedLen(len(r.value)), 1))
		if err != nil {
			return 0, err
		}
		defer c.vault.free(out)
		n, err := key.Open(out, r.value)
		if err != nil {
			// The server released it for our proof, so it is gone now.
			return 0, errors.New("the secret was released but cannot be opened: the link's key does not fit it (" + err.Error() + ")")
		}
		value = out[:n]
	}
	if toTerminal {
		// A terminal obeys control characters: the sender's text must not
		// drive it (move the cursor, retitle the window, hide lines).
		shown, err := c.vault.alloc(2*len(value) + 1)
		if err != nil {
			return 0, err
		}
		defer c.vault.free(shown)
		value = appendVisible(shown[:0], value)
	}
	if _, err := c.stdout.Write(value); err != nil {
		return 0, err
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
