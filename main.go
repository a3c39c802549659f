// Command otslite shares a secret once. Secrets are kept only in protected
// memory, answered through the Onetime Secret v1 API and a small web UI, and
// wiped when read, burned, expired, or when the server ends.
//
// What goes to stderr: startup facts for the operator, one summary line at
// the end, and failures. Never a secret, a passphrase, or a full key.
//
// Exit codes: 0 normal end, 1 failure, 2 bad configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/awnumar/memguard"

	"otslite/assets"
	"otslite/handler"
	"otslite/store"
)

const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2

	shutdownGrace = 5 * time.Second
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	stop()
	memguard.Purge()
	os.Exit(code)
}

// run is the whole program. It serves until ctx ends, then wipes and
// returns the exit code. ready, when not nil, receives the address served
// on once requests are accepted (tests start the program in-process on :0).
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, ready chan<- string) int {
	logger := log.New(stderr, "otslite: ", 0)
	cfg, err := ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		logger.Print(err)
		return exitConfig
	}

	budget := store.LockedBudget(store.DefaultLockedBytes)
	st, err := store.New(store.Config{
		MaxSecretSize: cfg.MaxSecretSize,
		MaxSecrets:    cfg.MaxSecrets,
		MaxBytes:      cfg.MaxBytes,
		LockedBytes:   budget.Bytes,
	})
	if err != nil {
		logger.Printf("cannot start: %v; %s", err, lockedMemoryFix)
		return exitFail
	}
	defer st.Close(shutdownGrace)

	ui, err := assets.Load()
	if err != nil {
		logger.Printf("cannot load the web UI: %v", err)
		return exitFail
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		logger.Printf("cannot listen: %v", err)
		return exitConfig
	}
	if host, port, _ := net.SplitHostPort(cfg.Listen); port == "0" && getenv("OTSLITE_PUBLIC_URL") == "" && !hasFlag(args, "public-url") {
		_, port, _ = net.SplitHostPort(ln.Addr().String())
		cfg.PublicURL = publicURLFor(host, port)
		cfg.Listen = net.JoinHostPort(host, port)
	}

	h := handler.New(st, ui, handler.Config{
		PublicURL:      cfg.PublicURL,
		DefaultTTL:     cfg.DefaultTTL,
		MaxTTL:         cfg.MaxTTL,
		PassphraseMin:  cfg.PassphraseMin,
		PassphraseMax:  cfg.PassphraseMax,
		RateLimit:      cfg.RateLimit,
		RateWindow:     cfg.RateWindow,
		TrustedProxies: cfg.TrustedProxies,
		Log:            logger,
	})
	srv := h.NewServer()

	logger.Printf("open %s/ to share a secret", cfg.PublicURL)
	for _, line := range cfg.Summary() {
		logger.Print(line)
	}
	logger.Print(budgetLine(budget, st.Layout()))

	served := make(chan error, 1)
	go func() { served <- srv.Serve(h.Listener(ln)) }()
	if ready != nil {
		ready <- ln.Addr().String()
	}

	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		logger.Printf("server failed: %v", err)
		code = exitFail
	}
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.ShutdownWithContext(shutdown); err != nil {
		logger.Printf("in-flight requests cut off after %s", shutdownGrace)
	}
	s := st.Stats()
	logger.Printf("session over: %d created, %d revealed, %d burned, %d expired, %d wiped unread",
		s.Created, s.Revealed, s.Burned, s.Expired, s.Secrets)
	return code
}

const lockedMemoryFix = "raise the locked-memory limit (ulimit -l, or docker run --cap-add IPC_LOCK --ulimit memlock=-1)"

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
