package main

// otslite send: the one-shot session. It reads a secret, seals it here in
// the zero-knowledge envelope, starts a server in this process that holds
// only that envelope, prints the link, and ends when the secret is read,
// burned or expired. Nothing is left: the server wipes its store, and the
// command its vault.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"otslite/store"
	"otslite/store/envelope"
)

const sendUsage = `otslite send: hand over one secret now; it is served once from here, then gone.
Usage: otslite send [flags] [FILE]
Reads the secret from FILE or stdin (asking, not shown, on a terminal), seals
it here (the server in this process holds only ciphertext), prints its link
and a QR code, and waits. A one-line secret loses its final newline.
  --ttl              how long the link works, 1m to 7d (default 1h)
  --passphrase       the recipient needs a passphrase too (asked, not shown)
  --listen           host:port to serve on (default 127.0.0.1:0, a free port)
  --public-url       base of the link (default http[s]://<listen>)
  --tls-self-signed  serve HTTPS with a certificate made now; its fingerprint
                     is printed for the recipient to compare
  --tls-cert, -key   PEM files to serve HTTPS with
  --qr               draw the QR code (default: when stderr is a terminal)
The link goes to stdout; everything else to stderr. OTSLITE_LISTEN,
OTSLITE_PUBLIC_URL and OTSLITE_TLS_* are read as the server reads them.
Ends when the secret is read (exit 0), burned by Ctrl-C (3), or expired (4);
1 failure, 2 bad command line.
`

// sendEnv lists the server settings send takes from the environment; the
// others would change what send is (its session, its limits).
var sendEnv = []string{"OTSLITE_LISTEN", "OTSLITE_PUBLIC_URL", "OTSLITE_TLS_CERT", "OTSLITE_TLS_KEY", "OTSLITE_TLS_SELF_SIGNED", "OTSLITE_TRUSTED_PROXY"}

// sendOptions are send's flags.
type sendOptions struct {
	ttl                          time.Duration
	passphrase, selfSigned       bool
	listen, publicURL, cert, key string
	qr                           qrFlag
}

func sendFlags() (*flag.FlagSet, *sendOptions) {
	o := &sendOptions{ttl: time.Hour}
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.Var(durationFlag{&o.ttl, minTTL, 7 * day}, "ttl", "")
	fs.BoolVar(&o.passphrase, "passphrase", false, "")
	fs.StringVar(&o.listen, "listen", "", "")
	fs.StringVar(&o.publicURL, "public-url", "", "")
	fs.BoolVar(&o.selfSigned, "tls-self-signed", false, "")
	fs.StringVar(&o.cert, "tls-cert", "", "")
	fs.StringVar(&o.key, "tls-key", "", "")
	fs.Var(&o.qr, "qr", "")
	return fs, o
}

func cmdSend(ctx context.Context, c *cli, args []string) int {
	fs, o := sendFlags()
	rest, err := c.parseFlags(fs, sendUsage, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && len(rest) > 1 {
		err = usageError("give at most one FILE")
	}
	if err != nil {
		return c.fail(err)
	}

	env, err := c.sealed(rest, o.passphrase, envelope.MaxPlain(maxSecretSizeCap))
	if err != nil {
		return c.fail(err)
	}
	defer env.wipe(c.vault)

	// The server: only this command may create (a create token nobody
	// else knows), the session ends when nothing waits, and audit lines
	// stay off the terminal.
	token := newToken()
	srvArgs := []string{
		"--idle", "0", "--exit-when-drained", "--quiet-audit", "--grace", "2s",
		"--default-ttl", formatDuration(o.ttl), "--max-ttl", formatDuration(o.ttl),
		"--max-secret-size", fmt.Sprint(max(64<<10, len(env.sealed))),
		"--create-token", "send:" + token,
	}
	for name, v := range map[string]string{"listen": o.listen, "public-url": o.publicURL, "tls-cert": o.cert, "tls-key": o.key} {
		if v != "" {
			srvArgs = append(srvArgs, "--"+name, v)
		}
	}
	if o.selfSigned {
		srvArgs = append(srvArgs, "--tls-self-signed")
	}
	getenv := func(name string) string {
		for _, allowed := range sendEnv {
			if name == allowed {
				return c.getenv(name)
			}
		}
		return ""
	}
	if o.listen == "" && getenv("OTSLITE_LISTEN") == "" {
		srvArgs = append(srvArgs, "--listen", "127.0.0.1:0")
	}

	log := &serverLog{}
	up := make(chan serving, 1)
	var stats store.Stats
	hooks := serverHooks{
		serving: func(s serving) { up <- s },
		ended:   func(s store.Stats) { stats = s },
	}
	srvCtx, stopServer := context.WithCancel(context.Background())
	defer stopServer()
	done := make(chan int, 1)
	go func() { done <- runServer(srvCtx, srvArgs, getenv, log, hooks) }()
	var srv serving
	select {
	case srv = <-up:
	case code := <-done:
		log.replay(c.stderr)
		return code
	}

	receipt, proof, err := c.sendCreate(ctx, srv, token, env, o.ttl, o.qr.draw(c.stderr))
	if err != nil {
		stopServer()
		<-done
		if errors.Is(err, context.Canceled) {
			c.logf("interrupted; nothing was shared")
			return exitInterrupted
		}
		return c.fail(err)
	}
	defer c.vault.free(receipt)
	defer c.vault.free(proof)

	var code int
	select {
	case code = <-done:
	case <-ctx.Done():
		// Ctrl-C: burn, then end. The drained session would end by
		// itself; ending it now saves the wait. (A hang-up may have ended
		// the session already: then it wiped everything itself.)
		burnCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		r, err := c.localClient(srv, nil).burn(burnCtx, receipt, proof)
		r.free(c.vault)
		cancel()
		if err != nil && !unknown(err) && !sessionOver(err) {
			c.logf("burning: %v; wiping it with everything else", err)
		}
		stopServer()
		code = <-done
	}
	switch {
	case stats.Revealed > 0:
		c.logf("the secret was read; nothing is left of it here")
		return exitOK
	case stats.Expired > 0:
		c.logf("the secret expired unread; nothing is left of it")
		return exitExpired
	case stats.Burned > 0:
		c.logf("the secret was burned before anyone read it; nothing is left of it")
		return exitBurned
	case code != exitOK:
		log.replay(c.stderr)
		c.logf("the server failed; the secret was wiped unread")
		return exitFail
	}
	c.logf("the session ended before the secret was read; it was wiped")
	return exitBurned
}

// sealedSecret is a secret sealed for sharing: its envelope (ciphertext,
// on the heap) and the key it was sealed with (vault memory), which gives
// the link's fragment and the proof.
type sealedSecret struct {
	sealed []byte
	key    *envelope.Key
	keyMem []byte
}

// wipe zeroes the key; it may be called more than once.
func (s *sealedSecret) wipe(v *vault) {
	if s.key != nil {
		s.key.Wipe()
		v.free(s.keyMem)
		s.key = nil
	}
}

// sealed reads the secret (from the file in args, or stdin; at most limit
// bytes) and, when asked, a passphrase, and seals them. Both are wiped
// before it returns.
func (c *cli) sealed(args []string, askPass bool, limit int) (*sealedSecret, error) {
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
	keyMem, err := c.vault.alloc(envelope.MemorySize)
	if err != nil {
		return nil, err
	}
	k, err := envelope.NewKey(keyMem, c.rand, askPass)
	if err == nil {
		err = k.Unlock(pass)
	}
	var sealed []byte
	if err == nil {
		sealed, err = k.Seal(nil, secret, c.rand)
	}
	if err != nil {
		c.vault.free(keyMem)
		if errors.Is(err, envelope.ErrNotText) {
			err = errors.New("the secret is not UTF-8 text; the web page could not show it")
		}
		return nil, err
	}
	return &sealedSecret{sealed: sealed, key: k, keyMem: keyMem}, nil
}

// readSecret reads the secret from the file named, or stdin.
func (c *cli) readSecret(name string, limit int) ([]byte, error) {
	var t *terminal
	if name == "" && isTerminal(c.stdin) {
		var err error
		if t, err = c.terminal(); err != nil {
			return nil, err
		}
	}
	s, err := readSecret(c.vault, name, c.stdin, t, limit)
	if errors.Is(err, errTooLarge) {
		err = fmt.Errorf("the secret is larger than %d bytes, the most the server takes once it is sealed", limit)
	}
	return s, err
}

// passphrase asks for a passphrase on the terminal and normalizes it as
// the envelope wants it (NFC), in vault memory.
func (c *cli) passphrase(prompt string, confirm bool) ([]byte, error) {
	t, err := c.terminal()
	if err != nil {
		return nil, fmt.Errorf("a passphrase is asked for on a terminal: %w", err)
	}
	raw, err := t.readPassphrase(c.vault, prompt, confirm)
	if err != nil {
		return nil, err
	}
	defer c.vault.free(raw)
	out, err := c.vault.alloc(envelope.MaxNormalized(len(raw)))
	if err != nil {
		return nil, err
	}
	norm, err := envelope.Normalize(out, raw)
	if err != nil {
		c.vault.free(out)
		return nil, err
	}
	return norm, nil
}

// localClient reaches the server this process runs: at its listener
// (127.0.0.1 when it listens on every address), under its public URL's
// name, trusting exactly its certificate.
func (c *cli) localClient(srv serving, auth []byte) *client {
	ep, _ := newEndpoint(srv.PublicURL, srv.Fingerprint)
	host, port, _ := net.SplitHostPort(srv.Addr)
	if unspecified(host) {
		host = "127.0.0.1"
	}
	ep.dial = net.JoinHostPort(host, port)
	return &client{ep: ep, v: c.vault, auth: auth}
}

// sendCreate stores the envelope on the server this process runs, prints
// the link (stdout), the QR code and the certificate fingerprint (stderr),
// and returns what burning needs: the receipt key and the proof.
func (c *cli) sendCreate(ctx context.Context, srv serving, token string, env *sealedSecret, ttl time.Duration, drawQR bool) (receipt, proof []byte, err error) {
	cred, err := c.vault.alloc(len("send:") + len(token))
	if err != nil {
		return nil, nil, err
	}
	copy(cred, "send:")
	copy(cred[len("send:"):], token)
	auth, err := basicAuth(c.vault, cred)
	c.vault.free(cred)
	if err != nil {
		return nil, nil, err
	}
	defer c.vault.free(auth)
	if proof, err = c.vault.alloc(envelope.ProofLenPassphrase); err != nil {
		return nil, nil, err
	}
	proof = env.key.PutProof(proof)
	r, err := c.localClient(srv, auth).share(ctx, env.sealed, false, proof, ttl)
	if err != nil {
		c.vault.free(proof)
		return nil, nil, err
	}
	defer r.free(c.vault)
	if receipt, err = c.vault.alloc(len(r.receiptKey)); err != nil {
		c.vault.free(proof)
		return nil, nil, err
	}
	copy(receipt, r.receiptKey)
	if err := c.printLink(srv.PublicURL, r.secretKey, env.key, drawQR); err != nil {
		c.vault.free(receipt)
		c.vault.free(proof)
		return nil, nil, err
	}
	env.wipe(c.vault) // the link is out; nothing here needs the key again
	if srv.Fingerprint != "" {
		c.logf("the certificate is self-signed: the recipient's browser will warn. Its SHA-256 fingerprint, to compare before going on:")
		c.logf("  %s", srv.Fingerprint)
	}
	if u := srv.PublicURL; strings.Contains(u, "://127.0.0.1") || strings.Contains(u, "://[::1]") || strings.Contains(u, "://localhost") {
		c.logf("the link works on this machine only; for others, set --public-url (and --listen)")
	}
	c.logf("waiting until the link is opened (it works once, for %s); Ctrl-C burns it", formatDuration(ttl))
	return receipt, proof, nil
}

// printLink writes the secret link (with k's fragment, when k is given)
// to stdout, and, with drawQR, its QR code to stderr.
func (c *cli) printLink(base string, secretKey []byte, k *envelope.Key, drawQR bool) error {
	var frag []byte
	if k != nil {
		fbuf, err := c.vault.alloc(envelope.FragmentLen)
		if err != nil {
			return err
		}
		defer c.vault.free(fbuf)
		frag = k.PutFragment(fbuf)
	}
	l, err := buildLink(c.vault, base, "/secret/", secretKey, frag)
	if err != nil {
		return err
	}
	defer c.vault.free(l)
	if drawQR {
		if q := encodeQR(l); q != nil {
			q.writeTerminal(c.stderr, isTerminal(c.stderr)) //nolint:errcheck // the link follows on stdout
			q.wipe()
		}
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

// qrFlag is --qr: on or off, or unset (then: when stderr is a terminal).
type qrFlag struct{ set, on bool }

// draw says whether to draw on stderr.
func (f *qrFlag) draw(stderr *os.File) bool {
	if f.set {
		return f.on
	}
	return isTerminal(stderr)
}

func (f *qrFlag) String() string   { return fmt.Sprint(f.on) }
func (f *qrFlag) IsBoolFlag() bool { return true }
func (f *qrFlag) Set(s string) error {
	b, err := parseBool(s)
	f.set, f.on = true, b
	return err
}

// serverLog keeps what the in-process server logs, so a server that
// cannot start (or fails) is explained, and an answering one stays quiet.
type serverLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		// The admin token, which no one needs here, is not kept.
		if strings.Contains(line, "admin token") {
			continue
		}
		l.lines = append(l.lines, line)
		if len(l.lines) > 40 {
			l.lines = l.lines[1:]
		}
	}
	return len(p), nil
}

// replay writes what the server said, for a failure.
func (l *serverLog) replay(w *os.File) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		fmt.Fprintln(w, line)
	}
}
