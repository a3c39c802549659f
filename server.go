package main

// The server: otslite with no subcommand. It serves until its session ends
// (see session.go), then wipes everything and returns the exit code.

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"otslite/assets"
	"otslite/handler"
	"otslite/handler/audit"
	"otslite/store"
	"otslite/store/resp"
	"otslite/store/secretmode"
)

// serverMain runs the server from the command line: the first signal that
// ends a process (see signals.go) ends the session gracefully; a second one
// wipes and exits at once.
func serverMain(args []string) int {
	if cfg, err := ParseConfig(args, os.Getenv, io.Discard); err == nil && cfg.Version {
		fmt.Println(versionLine())
		return exitOK
	}
	if err := ignoreUndeliverable(); err != nil {
		fmt.Fprintf(os.Stderr, "otslite: cannot set up signals: %v\n", err)
		return exitFail
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, endSignals()...)
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		cancel(caughtSignal{<-signals})
		sig := <-signals
		fmt.Fprintf(os.Stderr, "otslite: second signal (%s): wiping and exiting now\n", signalName(sig))
		store.Purge()
		os.Exit(exitFail)
	}()
	code := run(ctx, args, os.Getenv, os.Stderr, nil)
	store.Purge()
	return code
}

// run is the whole program. It serves until the session ends, then wipes
// and returns the exit code. ready, when not nil, receives the address
// served on once requests are accepted (tests start the program in-process
// on port 0).
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready chan<- string) int {
	return runServer(ctx, args, getenv, stderr, serverHooks{ready: ready})
}

// serverHooks let a caller that runs the server in-process follow it
// (tests, and otslite send). Each is optional.
type serverHooks struct {
	ready   chan<- string       // receives the address served on, once requests are accepted
	serving func(serving)       // told the same, with the public URL and certificate
	ended   func(s store.Stats) // told what the store did, once the session is over
}

// serving describes a server that accepts requests.
type serving struct {
	Addr        string // the listener's address
	PublicURL   string // the base of links
	Fingerprint string // of the TLS certificate, "" without TLS
}

// runServer is run with hooks.
func runServer(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, hooks serverHooks) int {
	logger := log.New(stderr, "otslite: ", 0)
	cfg, err := ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		logger.Print(err)
		return exitConfig
	}
	if cfg.Version {
		// serverMain prints it on stdout; run has only stderr.
		fmt.Fprintln(stderr, versionLine())
		return exitOK
	}
	if cfg.Healthcheck {
		return healthcheck(cfg, logger)
	}
	start := time.Now()
	if err := harden(cfg.Debuggable); err != nil {
		logger.Print(err)
		return exitFail
	}
	// Before anything locks memory: memguard panics when it cannot.
	files := planFiles(cfg.MaxFileSize, cfg.MaxSecretSize)
	budget := store.LockedBudget(store.DefaultLockedBytes + files.lockedWant())
	if err := lockedEnough(budget, cfg.MaxSecretSize); err != nil {
		logger.Print(err)
		return exitConfig
	}

	tlsSetup, err := newTLS(cfg, lanAddrs(), start)
	if err != nil {
		logger.Print(err)
		return exitConfig
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		logger.Printf("--listen: %q: %v", cfg.Listen, err)
		return exitConfig
	}
	explicitURL := getenv("OTSLITE_PUBLIC_URL") != "" || hasFlag(args, "public-url")
	if host, port, _ := net.SplitHostPort(cfg.Listen); port == "0" {
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		cfg.Listen = net.JoinHostPort(host, port)
		if !explicitURL {
			cfg.PublicURL = cfg.publicURLAt(host, port)
		}
	}

	// Replicas of a shared store share the process key, and key their
	// create tokens with it too, so that they name credentials alike.
	key, err := readKey(cfg)
	if err != nil {
		ln.Close()
		logger.Print(err)
		return exitConfig
	}
	var tokenKey []byte
	if key != nil {
		tokenKey = make([]byte, 32)
		store.DeriveKey(key, "otslite create tokens", tokenKey)
	}
	acc, err := newAccess(cfg, tokenKey)
	clear(tokenKey)
	if err != nil {
		destroyKey(key)
		ln.Close()
		logger.Print(err)
		return exitConfig
	}
	defer acc.close()
	trail := acc.trail(stderr)
	defer trail.Close()
	var shared *resp.Client
	if cfg.Redis != "" {
		if shared, err = openRedis(cfg, logger, trail); err != nil {
			destroyKey(key)
			ln.Close()
			logger.Print(err)
			return exitConfig
		}
		trail.Share(shared, store.DefaultPrefix+"audit")
		// The trail's last events go to Redis before the client closes.
		defer func() { trail.Close(); shared.Close() }()
	}

	var deadline time.Time
	if cfg.Lifetime > 0 {
		deadline = start.Add(cfg.Lifetime)
	}
	base := min(budget.Bytes, store.DefaultLockedBytes)
	files.fit(budget.Bytes-base, cfg.MaxSecretSize)
	st, err := store.New(store.Config{
		MaxSecretSize:   cfg.MaxSecretSize,
		MaxSecrets:      cfg.MaxSecrets,
		MaxBytes:        cfg.MaxBytes,
		LockedBytes:     base,
		MaxEnvelopeSize: files.Envelope,
		FileSlots:       files.Slots,
		FileSlotSize:    files.SlotSize,
		Deadline:        deadline,
		Expired:         handler.AuditExpiry(trail),
		Key:             key,
		Remote:          shared,
	})
	if err != nil {
		destroyKey(key)
		ln.Close()
		logger.Printf("cannot start: %v; %s", err, lockedMemoryFix)
		return exitFail
	}
	defer st.Close(cfg.Grace)
	if err := st.CheckKey(); err != nil {
		ln.Close()
		logger.Printf("--key-file: %v", err)
		return exitConfig
	}

	ui, err := assets.Load()
	if err != nil {
		ln.Close()
		logger.Printf("cannot load the web UI: %v", err)
		return exitFail
	}

	adminToken := cfg.AdminToken
	if adminToken == "" {
		adminToken = newToken()
	}
	sess := newSession(sessionConfig{
		Idle:            cfg.Idle,
		End:             deadline,
		ExitWhenDrained: cfg.ExitWhenDrained,
		Drained: func() bool {
			s := st.Stats()
			return s.Created > 0 && s.Secrets == 0 && s.Requests == 0
		},
		Waiting: func() bool { return st.Stats().Secrets > 0 },
	})
	hcfg := handler.Config{
		PublicURL:      cfg.PublicURL,
		DefaultTTL:     cfg.DefaultTTL,
		MaxTTL:         cfg.MaxTTL,
		PassphraseMin:  cfg.PassphraseMin,
		PassphraseMax:  cfg.PassphraseMax,
		MaxFileSize:    files.MaxFile,
		RateLimit:      cfg.RateLimit,
		RateWindow:     cfg.RateWindow,
		TrustedProxies: cfg.TrustedProxies,
		Log:            logger,
		Activity:       sess.Touch,
		EndSession:     sess.End,
		AdminToken:     adminToken,
		Deadline:       deadline,
		HSTS:           tlsSetup != nil,
		Tokens:         acc.tokens,
		CreateAllow:    cfg.CreateAllow,
		RevealAllow:    cfg.RevealAllow,
		RevealHours:    acc.hours,
		Audit:          trail,
		Shared:         shared,
	}
	hostname, _ := os.Hostname()
	hcfg.PinHosts = serverNames(cfg.PublicURL, cfg.Listen, lanAddrs(), hostname)
	h := handler.New(st, ui, hcfg)
	srv := h.NewServer()
	// SIGHUP is caught before anything is served (its default would kill
	// the process without the wipe).
	ctx, hangUp := context.WithCancel(ctx)
	defer hangUp()
	stopReload := reloadOnHangup(h, acc.tokens, logger, hangUp)
	defer stopReload()

	logger.Printf("open %s/ to share a secret", cfg.PublicURL)
	for _, line := range cfg.Summary() {
		logger.Print(line)
	}
	logger.Print(budgetLine(budget, st.Layout()))
	logger.Print(files.line())
	if tlsSetup != nil {
		logger.Printf("TLS certificate SHA-256 fingerprint: %s", tlsSetup.Fingerprint)
		if !secretmode.Erases {
			logger.Print("warning: built without GOEXPERIMENT=runtimesecret, so write buffers crypto/tls drops may keep responses (revealed secrets) in freed memory until it is reused; the release build has it (see SECURITY.md)")
		}
	}
	if acc.tokens != nil {
		logger.Printf("create tokens in force: %d (users %s)", acc.tokens.Len(), strings.Join(acc.tokens.Users(), ", "))
	}
	if cfg.AdminToken == "" {
		logger.Printf("admin token (shown once; POST %s/api/otslite/end with \"Authorization: Bearer <token>\" ends the session, %s/api/otslite/audit.html shows the audit trail): %s", cfg.PublicURL, cfg.PublicURL, adminToken)
	}

	served := make(chan error, 2)
	var tlsConfig *tls.Config
	if tlsSetup != nil {
		tlsConfig = tlsSetup.Config
	}
	go func() { served <- srv.Serve(h.Listener(ln, tlsConfig)) }()
	var redirect *fasthttp.Server
	if cfg.HTTPRedirect != "" {
		rln, err := net.Listen("tcp", cfg.HTTPRedirect)
		if err != nil {
			ln.Close()
			logger.Printf("--http-redirect: %q: %v", cfg.HTTPRedirect, err)
			return exitConfig
		}
		redirect = h.NewRedirectServer()
		go func() { served <- redirect.Serve(rln) }()
	}
	trail.Record(audit.Event{Event: audit.SessionStart, Outcome: audit.OK})
	if hooks.ready != nil {
		hooks.ready <- ln.Addr().String()
	}
	if hooks.serving != nil {
		info := serving{Addr: ln.Addr().String(), PublicURL: cfg.PublicURL}
		if tlsSetup != nil {
			info.Fingerprint = tlsSetup.Fingerprint
		}
		hooks.serving(info)
	}
	// Collect what starting left behind and give the freed memory back to
	// the system now: an idle server should be small. (It also matters to
	// what a memory image shows later: without it TestMemoryResidue/TLS
	// now and then finds a revealed secret in a record buffer crypto/tls
	// dropped unwiped; see SECURITY.md, "TLS internals".)
	debug.FreeOSMemory()

	code := exitOK
	why := make(chan string, 1)
	go func() { why <- sess.Run(ctx) }()
	var reason string
	select {
	case reason = <-why:
	case err := <-served:
		logger.Printf("server failed: %v", err)
		reason, code = "failure", exitFail
		sess.End()
		<-why
	}
	var sig caughtSignal
	if reason == endSignal && errors.As(context.Cause(ctx), &sig) {
		logger.Printf("%s received", signalName(sig.sig))
		if cfg.Debuggable && sig.sig == syscall.SIGQUIT {
			// What Go prints on SIGQUIT, for development; the wipe follows.
			stderr.Write(goroutines()) //nolint:errcheck // best effort
		}
	}
	logger.Printf("ending the session (%s)", reason)
	h.Stopping()
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.Grace)
	defer cancel()
	if redirect != nil {
		redirect.ShutdownWithContext(shutdown) //nolint:errcheck // it holds no secret
	}
	if err := srv.ShutdownWithContext(shutdown); err != nil {
		logger.Printf("requests still in flight after %s were cut off", cfg.Grace)
	}
	s := st.Stats()
	if st.Shared() {
		// Ending a replica ends this process, never the shared data.
		logger.Printf("session over (%s): %d created, %d revealed, %d burned, %d expired here; %s",
			reason, s.Created, s.Revealed, s.Burned, s.Expired, sharedLeft(s.Secrets))
	} else {
		logger.Printf("session over (%s): %d created, %d revealed, %d burned, %d expired, %d wiped unread",
			reason, s.Created, s.Revealed, s.Burned, s.Expired, s.Secrets)
	}
	if hooks.ended != nil {
		hooks.ended(s)
	}
	trail.Record(audit.Event{Event: audit.SessionEnd, Outcome: reason})
	return code
}

const lockedMemoryFix = "raise the locked-memory limit (ulimit -l, or docker run --ulimit memlock=-1)"

// lockedEnough says, in one line, why otslite cannot start under the
// locked-memory limit b describes: the arena must hold at least a few
// slots of the largest secret. (LockedBudget already set aside what
// memguard's own keys and the process keys lock beside it.)
func lockedEnough(b store.Budget, maxSecret int) error {
	if _, err := store.PlanArena(b.Bytes, maxSecret); err == nil {
		return nil
	}
	need := sort.Search(math.MaxInt32, func(n int) bool {
		_, err := store.PlanArena(n, maxSecret)
		return err == nil
	})
	return fmt.Errorf("cannot start: the locked-memory limit (RLIMIT_MEMLOCK) of %s leaves %s for secrets; secrets of up to %s need %s; %s",
		formatSize(b.Limit), formatSize(int64(b.Bytes)), formatSize(int64(maxSecret)), formatSize(int64(need)), lockedMemoryFix)
}

// budgetLine tells the operator how much locked memory plaintext may use.
func budgetLine(b store.Budget, l store.ArenaLayout) string {
	limit := "unlimited"
	switch {
	case b.CapIPCLock:
		limit = "unlimited (CAP_IPC_LOCK)"
	case b.Limit >= 0:
		limit = formatSize(b.Limit)
	}
	line := fmt.Sprintf("locked memory: %s for plaintext (limit %s): %d secrets of up to %s or %d of up to %s in flight at once",
		formatSize(int64(l.Bytes)), limit, l.SmallSlots, formatSize(int64(l.SmallSize)), l.LargeSlots, formatSize(int64(l.LargeSize)))
	if !b.Enough(store.DefaultLockedBytes) {
		line += "; below the " + formatSize(store.DefaultLockedBytes) + " wanted: " + lockedMemoryFix
	}
	return line
}

// newToken returns 128 random bits as 26 characters of [a-z2-7].
func newToken() string {
	return strings.ToLower(strings.TrimRight(rand.Text(), "="))
}

// healthcheck probes the server the flags describe (as a container health
// check does) and returns 0 when it answers nominal. The probe goes to the
// listen address; a self-signed certificate cannot be verified there, and
// the probe sends nothing secret, so it does not try.
func healthcheck(cfg Config, logger *log.Logger) int {
	host, port, _ := net.SplitHostPort(cfg.Listen)
	scheme := "http"
	if cfg.ServesTLS() {
		scheme = "https"
	}
	if unspecified(host) {
		host = "127.0.0.1"
	}
	c := &fasthttp.Client{
		TLSConfig:    &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // local liveness probe, see above
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
	}
	status, body, err := c.GetTimeout(nil, scheme+"://"+net.JoinHostPort(host, port)+"/api/v1/status", 3*time.Second)
	if err != nil || status != fasthttp.StatusOK || !strings.Contains(string(body), `"nominal"`) {
		logger.Printf("healthcheck: not healthy (status %d, %v)", status, err)
		return exitFail
	}
	return exitOK
}

// hasFlag reports whether args set the flag name.
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		for _, p := range []string{"-" + name, "--" + name} {
			if a == p || strings.HasPrefix(a, p+"=") {
				return true
			}
		}
	}
	return false
}

// serverNames lists the Host names requests may use (see handler/host.go):
// the public URL's host and the listen address; for a loopback listen
// address also localhost; for every interface, the names this machine
// answers to: localhost, loopback, its LAN addresses and its host name.
func serverNames(publicURL, listen string, lan []net.IP, hostname string) []string {
	var names []string
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" {
		names = append(names, u.Host)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return names
	}
	local := []string{"localhost", "127.0.0.1", "::1"}
	switch ip, err := netip.ParseAddr(host); {
	case unspecified(host):
		for _, a := range lan {
			local = append(local, a.String())
		}
		if hostname != "" {
			local = append(local, hostname)
		}
	case err == nil && ip.IsLoopback(), strings.EqualFold(host, "localhost"):
		local = append(local, host)
	default:
		local = []string{host}
	}
	for _, h := range local {
		if n := net.JoinHostPort(h, port); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}
