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

const sendUsage = `otslite send: hand over a secret now; it is served once from here, then gone.
Usage: otslite send [flags] [FILE]
Reads the text from FILE or stdin (asking, not shown, on a terminal), seals it
here (the server in this process holds only ciphertext), prints its link and a
QR code, and waits. A one-line text loses its final newline.
  --file           a file to send (repeat for more); the text is then optional
  --links          N links of the same secret, one for each of N people
  --split          K/N: N links, any K of which rebuild it (otslite get L1 L2)
  --ttl            how long the links work, 1m to 7d (default 1h)
  --passphrase     the recipient needs a passphrase too (asked, not shown)
  --listen         host:port to serve on (default 127.0.0.1:0, a free port)
  --public-url     base of the links (default http[s]://<listen>)
  --tls-self-signed  serve HTTPS with a certificate made now; its fingerprint
                   is printed for the recipient to compare
  --tls-cert, -key  PEM files to serve HTTPS with
  --qr             draw QR codes (default: one link, when stderr is a terminal)
The links go to stdout, one a line; everything else to stderr. OTSLITE_LISTEN,
OTSLITE_PUBLIC_URL and OTSLITE_TLS_* are read as the server reads them.
Ends when every link is read (exit 0), burned by Ctrl-C (3), or expired (4);
1 failure, 2 bad command line.
`

// sendEnv lists the server settings send takes from the environment; the
// others would change what send is (its session, its limits).
var sendEnv = []string{"OTSLITE_LISTEN", "OTSLITE_PUBLIC_URL", "OTSLITE_TLS_CERT", "OTSLITE_TLS_KEY", "OTSLITE_TLS_SELF_SIGNED", "OTSLITE_TRUSTED_PROXY"}

// sendOptions are send's flags.
type sendOptions struct {
	local
	passphrase bool
	files      filesFlag
	shape      shape
	qr         qrFlag
}

// local are the flags of a server this process runs for one exchange.
type local struct {
	ttl                          time.Duration
	selfSigned                   bool
	listen, publicURL, cert, key string
}

func (l *local) flags(fs *flag.FlagSet) {
	fs.Var(durationFlag{&l.ttl, minTTL, 7 * day}, "ttl", "")
	fs.StringVar(&l.listen, "listen", "", "")
	fs.StringVar(&l.publicURL, "public-url", "", "")
	fs.BoolVar(&l.selfSigned, "tls-self-signed", false, "")
	fs.StringVar(&l.cert, "tls-cert", "", "")
	fs.StringVar(&l.key, "tls-key", "", "")
}

func sendFlags() (*flag.FlagSet, *sendOptions) {
	o := &sendOptions{local: local{ttl: time.Hour}}
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	o.local.flags(fs)
	fs.BoolVar(&o.passphrase, "passphrase", false, "")
	fs.Var(&o.files, "file", "")
	fs.Var(linksFlag{&o.shape.links}, "links", "")
	fs.Var(&o.shape.split, "split", "")
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
		err = usageError("give at most one FILE (files to send go with --file)")
	}
	if err == nil {
		err = o.shape.check()
	}
	if err != nil {
		return c.fail(err)
	}

	limit := envelope.MaxPlain(maxSecretSizeCap)
	if len(o.files) > 0 {
		limit = bundleCap
	}
	links, plainLen, err := c.sealFrom(rest, o.files, limit, o.passphrase, o.shape)
	if err != nil {
		return c.fail(err)
	}
	defer wipeLinks(c.vault, links)
	longest := 0
	for _, l := range links {
		longest = max(longest, len(l.env))
	}

	// The server: only this command may create (a create token nobody
	// else knows), the session ends when nothing waits, and audit lines
	// stay off the terminal. Envelopes larger than a plain secret are
	// taken as files are.
	extra := []string{
		"--max-file-size", fmt.Sprint(min(maxFileSizeCap, max(plainLen, 64<<10))),
		"--max-bytes", fmt.Sprint(max(256<<20, len(links)*longest+1<<20)),
	}
	srv, code, err := c.startLocal(o.local, extra)
	if srv == nil {
		if err != nil {
			return c.fail(err)
		}
		return code
	}
	defer srv.stopNow()

	cr, err := c.sendCreate(ctx, srv, links, longest, o.ttl, o.qr.draw(c.stderr) && (len(links) == 1 || o.qr.set))
	if err != nil {
		srv.stopNow()
		if errors.Is(err, context.Canceled) {
			c.logf("interrupted; nothing was shared")
			return exitInterrupted
		}
		return c.fail(err)
	}
	defer cr.free(c.vault)
	proofs := make([][]byte, len(links))
	for i, l := range links {
		if proofs[i], err = c.vault.alloc(envelope.ProofLen); err != nil {
			return c.fail(err)
		}
		defer c.vault.free(proofs[i])
		l.key.PutLinkProof(proofs[i])
	}
	wipeLinks(c.vault, links) // the links are out; nothing here needs the keys again

	// A split is over once enough shares are read: the rest is burned.
	enough := 0
	if o.shape.split.k > 0 {
		enough = o.shape.split.k
	}
	watched := srv.watch(ctx, c, cr, enough, func() { c.burnAll(srv, cr, proofs) })
	select {
	case <-watched:
	case <-ctx.Done():
		// Ctrl-C: burn what waits, then end. The drained session would end
		// by itself; ending it now saves the wait. (A hang-up may have
		// ended the session already: then it wiped everything itself.)
		c.burnAll(srv, cr, proofs)
		srv.stopNow()
		<-watched
	}
	stats := srv.stats
	n := uint64(len(links))
	switch {
	case enough > 0 && stats.Revealed >= uint64(enough):
		c.logf("%d of the %d shares were read, enough to rebuild the secret; the other %d were burned", stats.Revealed, n, n-stats.Revealed)
		return exitOK
	case stats.Revealed == n && n == 1:
		c.logf("the secret was read; nothing is left of it here")
		return exitOK
	case stats.Revealed == n:
		c.logf("all %d links were read; nothing is left of them here", n)
		return exitOK
	case stats.Burned > 0 && n == 1:
		c.logf("the secret was burned before anyone read it; nothing is left of it")
		return exitBurned
	case stats.Burned > 0:
		c.logf("%d of %d links were burned before anyone read them; nothing is left of them", stats.Burned, n)
		return exitBurned
	case stats.Expired > 0 && n == 1:
		c.logf("the secret expired unread; nothing is left of it")
		return exitExpired
	case stats.Expired > 0:
		c.logf("%d of %d links expired unread; nothing is left of them", stats.Expired, n)
		return exitExpired
	case srv.code != exitOK:
		srv.log.replay(c.stderr)
		c.logf("the server failed; the secret was wiped unread")
		return exitFail
	}
	c.logf("the session ended before every link was read; the rest was wiped")
	return exitBurned
}

// sealFrom reads the contents (text from args or stdin, and files) and
// seals them for each link of the shape, asking for a passphrase when
// askPass. It returns the links and the length of what each seals.
func (c *cli) sealFrom(args, files []string, limit int, askPass bool, sh shape) ([]sealedLink, int, error) {
	plain, err := c.readContents(args, files, limit)
	if err != nil {
		return nil, 0, err
	}
	defer c.vault.free(plain)
	var pass []byte
	if askPass {
		what := "the recipient"
		if sh.count() > 1 {
			what = "every link"
		}
		if pass, err = c.passphrase("Passphrase for "+what+" (not shown): ", true); err != nil {
			return nil, 0, err
		}
		defer c.vault.free(pass)
	}
	links, err := c.sealShape(plain, sh, pass)
	return links, len(plain) + envelope.MaxHeader, err
}

// localServer is a server this process runs for one exchange. code and
// stats are set once done is closed.
type localServer struct {
	srv   serving
	token string
	log   *serverLog
	done  chan struct{}
	stop  context.CancelFunc
	code  int
	stats store.Stats // the store's counts at its end
}

// startLocal starts the server: only this command may create (a create
// token nobody else knows), the session ends when nothing waits, and
// audit lines stay off the terminal. extra are more server flags. When it
// cannot start, it returns nil and the exit code (its log replayed).
func (c *cli) startLocal(o local, extra []string) (*localServer, int, error) {
	ls := &localServer{token: newToken(), log: &serverLog{}, done: make(chan struct{})}
	srvArgs := append([]string{
		"--idle", "0", "--exit-when-drained", "--quiet-audit", "--grace", "2s",
		"--default-ttl", formatDuration(o.ttl), "--max-ttl", formatDuration(o.ttl),
		"--create-token", "send:" + ls.token,
	}, extra...)
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
	up := make(chan serving, 1)
	hooks := serverHooks{
		serving: func(s serving) { up <- s },
		ended:   func(s store.Stats) { ls.stats = s },
	}
	srvCtx, stop := context.WithCancel(context.Background())
	ls.stop = stop
	go func() {
		ls.code = runServer(srvCtx, srvArgs, getenv, ls.log, hooks)
		close(ls.done)
	}()
	select {
	case ls.srv = <-up:
		return ls, 0, nil
	case <-ls.done:
		stop()
		ls.log.replay(c.stderr)
		return nil, ls.code, nil
	}
}

// stopNow ends the server and waits for it; it may be called more than
// once.
func (ls *localServer) stopNow() {
	ls.stop()
	<-ls.done
}

// auth is the Authorization this command creates with.
func (c *cli) localAuth(ls *localServer) ([]byte, error) {
	cred, err := c.vault.alloc(len("send:") + len(ls.token))
	if err != nil {
		return nil, err
	}
	copy(cred, "send:")
	copy(cred[len("send:"):], ls.token)
	auth, err := basicAuth(c.vault, cred)
	c.vault.free(cred)
	return auth, err
}

// watch is closed when the server's session is over (and what follows
// it has stopped). With several links it reports each one's end as it
// comes, and any attempt on a link after it was gone; once enough links
// (when more than 0) have been read, it calls rest.
func (ls *localServer) watch(ctx context.Context, c *cli, cr *createdLinks, enough int, rest func()) <-chan struct{} {
	if cr.groupKey == nil {
		return ls.done
	}
	out := make(chan struct{})
	go func() {
		if c.followGroup(ctx, c.localClient(ls.srv, nil), cr.groupKey, ls.done, enough) {
			rest()
		}
		<-ls.done
		close(out)
	}()
	return out
}

// followGroup prints each link's end, and attempts after it, until stop
// is closed; or until enough links (when more than 0) have been read: it
// then reports true.
func (c *cli) followGroup(ctx context.Context, cl *client, key []byte, stop <-chan struct{}, enough int) bool {
	seen := map[int]string{}
	late := map[int]int{}
	t := time.NewTicker(c.poll / 3)
	defer t.Stop()
	for {
		if g, err := cl.groupReceipt(ctx, key); err == nil {
			read := 0
			for _, l := range g.Links {
				if l.State == "received" {
					read++
				}
				if l.State != "new" && seen[l.Link] != l.State {
					seen[l.Link] = l.State
					c.logf("link %d: %s", l.Link, describeEnd(l))
				}
				for _, a := range l.Late[max(0, len(l.Late)-(l.LateTotal-late[l.Link])):] {
					c.logf("link %d: %s", l.Link, describeLate(a))
				}
				late[l.Link] = l.LateTotal
			}
			if enough > 0 && read >= enough {
				return true
			}
		}
		select {
		case <-stop:
			return false
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// describeEnd says how a link ended.
func describeEnd(l linkState) string {
	at := func(unix int64) string { return time.Unix(unix, 0).Local().Format("15:04:05") }
	switch l.State {
	case "received":
		return "opened at " + at(l.Received)
	case "burned":
		return "burned at " + at(l.Updated)
	case "expired":
		return "expired unread"
	}
	return l.State
}

// describeLate says what an attempt on a gone link was.
func describeLate(a lateAttempt) string {
	what := "someone tried to open this link after it was gone"
	if a.Kind == "page" {
		what = "someone opened this link's page after it was gone"
	}
	return fmt.Sprintf("%s, at %s, from %s", what, time.Unix(a.At, 0).Local().Format("2006-01-02 15:04:05"), a.Net)
}

// burnAll burns every link that waits.
func (c *cli) burnAll(ls *localServer, cr *createdLinks, proofs [][]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cl := c.localClient(ls.srv, nil)
	for i, rk := range cr.receiptKeys {
		r, err := cl.burn(ctx, rk, proofs[i])
		r.free(c.vault)
		if err != nil && !unknown(err) && !sessionOver(err) {
			c.logf("burning: %v; wiping it with everything else", err)
		}
	}
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

// sendCreate stores the links' envelopes on the server this process
// runs, prints the links (stdout), their QR codes and the certificate
// fingerprint (stderr).
func (c *cli) sendCreate(ctx context.Context, ls *localServer, links []sealedLink, longest int, ttl time.Duration, drawQR bool) (*createdLinks, error) {
	auth, err := c.localAuth(ls)
	if err != nil {
		return nil, err
	}
	defer c.vault.free(auth)
	cl := c.localClient(ls.srv, auth)
	if cfg, err := cl.otsliteConfig(ctx); err == nil && cfg != nil {
		room := cfg.maxEnvelopeSize
		cfg.free(c.vault)
		if int(room) < longest {
			ls.log.replay(c.stderr)
			return nil, fmt.Errorf("this process cannot hold an envelope of %s in locked memory: %w", formatSize(int64(longest)), errLockedMemory)
		}
	}
	cr, err := c.create(ctx, cl, links, ttl, true)
	if err != nil {
		return nil, err
	}
	cr.base = ls.srv.PublicURL
	if err := c.printLinks(cr, links, drawQR); err != nil {
		cr.free(c.vault)
		return nil, err
	}
	if ls.srv.Fingerprint != "" {
		c.logf("the certificate is self-signed: the recipient's browser will warn. Its SHA-256 fingerprint, to compare before going on:")
		c.logf("  %s", ls.srv.Fingerprint)
	}
	if u := ls.srv.PublicURL; strings.Contains(u, "://127.0.0.1") || strings.Contains(u, "://[::1]") || strings.Contains(u, "://localhost") {
		c.logf("the link works on this machine only; for others, set --public-url (and --listen)")
	}
	switch {
	case len(links) == 1:
		c.logf("waiting until the link is opened (it works once, for %s); Ctrl-C burns it", formatDuration(ttl))
	case links[0].key != nil && cr.groupKey != nil:
		c.logf("waiting until every link is opened (each works once, for %s); Ctrl-C burns those that wait", formatDuration(ttl))
	}
	return cr, nil
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
