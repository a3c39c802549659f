package main

// otslite request: ask someone for a secret. It makes a P-256 key pair
// here, makes a request on a server (a running one, --server, or one it
// runs itself as send does), and prints the request link: the public key
// rides in its fragment. It waits for the answer, which the answerer's
// browser seals to that key; then it derives the key (store/envelope,
// request.go), reveals the answer once and writes it out as get does.
// The private key never leaves this process: the server sees neither
// key nor plaintext.

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"net/url"
	"time"

	"otslite/store/envelope"
)

const requestUsage = `otslite request: ask someone for a secret, and wait for it here.
Usage: otslite request [flags]
Prints a link for the person who has the secret: their browser seals it to a
key made here, so only this command can open it. Waits for the answer, then
writes its text to stdout and its files into --out. Without --server it serves
the link itself (as otslite send does); the other flags are then send's.
  --server         ask through this otslite server (default: serve it here)
  --ttl            how long the link waits for an answer (default 1h, or the
                   server's)
  --out            directory the files go into (default: the current one)
  --show           print the text to a terminal (refused without it)
  --token-file     file holding user:token, for servers that ask for one
  --fingerprint    SHA-256 of the server's self-signed certificate
  --listen         host:port to serve on (default 127.0.0.1:0, a free port)
  --public-url     base of the link (default http[s]://<listen>)
  --tls-self-signed  serve HTTPS with a certificate made now
  --tls-cert, -key  PEM files to serve HTTPS with
  --qr             draw the QR code (default: when stderr is a terminal)
The link goes to stdout; messages to stderr. Ctrl-C gives up: the request
then opens nothing anyone can read. Exit codes: 0 answered and written,
1 failure, 2 bad command line, 4 no answer in time, 7 refused, 130 Ctrl-C.
`

// requestOptions are request's flags.
type requestOptions struct {
	local
	server, tokenFile, pin, out string
	show                        bool
	qr                          qrFlag
}

func requestFlags() (*flag.FlagSet, *requestOptions) {
	o := &requestOptions{}
	fs := flag.NewFlagSet("request", flag.ContinueOnError)
	fs.StringVar(&o.server, "server", "", "")
	o.local.flags(fs)
	fs.StringVar(&o.out, "out", "", "")
	fs.BoolVar(&o.show, "show", false, "")
	fs.StringVar(&o.tokenFile, "token-file", "", "")
	fs.StringVar(&o.pin, "fingerprint", "", "")
	fs.Var(&o.qr, "qr", "")
	return fs, o
}

func cmdRequest(ctx context.Context, c *cli, args []string) int {
	fs, o := requestFlags()
	rest, err := c.parseFlags(fs, requestUsage, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && len(rest) > 0 {
		err = usageError("request takes no arguments")
	}
	if err != nil {
		return c.fail(err)
	}
	out := outOptions{dir: o.out, show: o.show, toTerminal: isTerminal(c.stdout)}
	if out.dir == "" {
		out.dir = "."
	}
	if err := c.checkOut(&out, o.out != ""); err != nil {
		return c.fail(err)
	}

	var cl *client
	var base string
	if o.server != "" {
		if cl, err = c.newClient(o.server, o.pin, false); err != nil {
			return c.fail(err)
		}
		if cl.auth, err = c.credential(o.tokenFile); err != nil {
			return c.fail(err)
		}
		defer c.vault.free(cl.auth)
		base = cl.ep.base.String()
	} else {
		// Answers may carry files: the server takes them as large as
		// its locked memory holds.
		if o.ttl == 0 {
			o.ttl = time.Hour
		}
		srv, code, err := c.startLocal(o.local, nil)
		if srv == nil {
			if err != nil {
				return c.fail(err)
			}
			return code
		}
		defer srv.stopNow()
		auth, err := c.localAuth(srv)
		if err != nil {
			return c.fail(err)
		}
		defer c.vault.free(auth)
		cl, base = c.localClient(srv.srv, auth), srv.srv.PublicURL
		if srv.srv.Fingerprint != "" {
			c.logf("the certificate is self-signed: the answerer's browser will warn. Its SHA-256 fingerprint, to compare before going on:")
			c.logf("  %s", srv.srv.Fingerprint)
		}
	}
	code, err := c.request(ctx, cl, base, o, out)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			c.logf("interrupted: the request was given up; no one can read an answer to it")
			return exitInterrupted
		}
		return c.fail(err)
	}
	return code
}

// request makes the request, prints its link, waits for the answer and
// writes it out.
func (c *cli) request(ctx context.Context, cl *client, base string, o *requestOptions, out outOptions) (int, error) {
	keys, err := c.vault.alloc(envelope.PrivateKeyLen + envelope.PublicKeyLen)
	if err != nil {
		return 0, err
	}
	defer c.vault.free(keys)
	priv, pub := keys[:envelope.PrivateKeyLen], keys[envelope.PrivateKeyLen:]
	if err := envelope.NewRequestKeys(priv, pub, c.rand); err != nil {
		return 0, err
	}
	r, err := cl.createRequest(ctx, o.ttl) // 0: the server's default
	if err != nil {
		return 0, err
	}
	defer r.free(c.vault)
	// The server's own idea of its address wins, as for share.
	if u := r.requestURL; len(r.requestKey) > 0 && bytes.HasSuffix(u, r.requestKey) {
		if u, ok := bytes.CutSuffix(u[:len(u)-len(r.requestKey)], []byte("/request/")); ok {
			if pu, err := url.Parse(string(u)); err == nil && (pu.Scheme == "http" || pu.Scheme == "https") && pu.Host != "" {
				base = pu.String()
			}
		}
	}
	frag := make([]byte, base64.RawURLEncoding.EncodedLen(len(pub)))
	base64.RawURLEncoding.Encode(frag, pub)
	l, err := buildLink(c.vault, base, "/request/", r.requestKey, frag)
	if err != nil {
		return 0, err
	}
	if o.qr.draw(c.stderr) {
		if q := encodeQR(l); q != nil {
			q.writeTerminal(c.stderr, isTerminal(c.stderr)) //nolint:errcheck // the link follows on stdout
			q.wipe()
		}
	}
	nl, err := c.vault.grow(l, len(l)+1)
	if err != nil {
		return 0, err
	}
	nl[len(nl)-1] = '\n'
	_, err = c.stdout.Write(nl)
	c.vault.free(nl)
	if err != nil {
		return 0, err
	}
	c.logf("send this link to the person who has the secret; waiting for the answer (Ctrl-C gives up)")

	// Wait for it.
	var iv *inboxView
	for {
		iv, err = cl.inbox(ctx, r.inboxKey)
		var e *apiError
		switch {
		case errors.As(err, &e) && e.status == 429 && e.retryAfter > 0:
			if !sleep(ctx, e.retryAfter) {
				return 0, ctx.Err()
			}
			continue
		case unknown(err) || err == nil && iv.State == "expired":
			c.logf("no answer came in time; the request is over")
			return exitExpired, nil
		case err != nil:
			return 0, err
		}
		if iv.State != "waiting" {
			break
		}
		if !sleep(ctx, c.poll) {
			return 0, ctx.Err()
		}
	}
	if iv.State != "answered" {
		c.logf("the answer was already read (state %s)", iv.State)
		return exitGone, nil
	}
	ePub, err := iv.publicKey()
	if err != nil {
		return 0, err
	}
	mem, err := c.vault.alloc(envelope.MemorySize)
	if err != nil {
		return 0, err
	}
	defer c.vault.free(mem)
	key, err := envelope.OpenAnswerKey(mem, priv, pub, ePub)
	if err != nil {
		return 0, err
	}
	defer key.Wipe()
	clear(priv)
	proof, err := c.vault.alloc(envelope.ProofLen)
	if err != nil {
		return 0, err
	}
	a, err := cl.revealAnswer(ctx, r.inboxKey, key.PutProof(proof))
	c.vault.free(proof)
	if unknown(err) {
		return 0, errors.New("the answer was sealed to another key, or was read already: it cannot be opened here")
	}
	if err != nil {
		return 0, err
	}
	defer a.free(c.vault)
	plain, _, err := c.openEnvelope(key, a.value)
	if err != nil {
		return 0, err
	}
	defer c.vault.free(plain)
	c.logf("the answer came at %s", time.Unix(iv.Answered, 0).Local().Format("15:04:05"))
	return exitOK, c.writeContents(plain, out)
}
