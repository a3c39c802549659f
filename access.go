package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"otslite/handler"
	"otslite/handler/access"
	"otslite/handler/audit"
)

// accessSetup is what the access flags become: the create tokens (nil when
// none are configured) and the reveal hours (nil: always).
type accessSetup struct {
	cfg    Config
	tokens *access.Tokens
	hours  *access.Hours
}

// newAccess hashes the create tokens, reads the token file and parses the
// hours. Errors are one line, naming the flag, never quoting a token.
func newAccess(cfg Config, tokenKey []byte) (*accessSetup, error) {
	a := &accessSetup{cfg: cfg}
	if len(cfg.CreateTokens) > 0 || cfg.TokenFile != "" {
		// ParseConfig checked the tokens given as flags: only the file
		// can be wrong here.
		t, err := access.NewTokensKeyed(cfg.CreateTokens, cfg.TokenFile, tokenKey)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %v", err)
		}
		a.tokens = t
	}
	if cfg.RevealHours != "" {
		h, err := access.ParseHours(cfg.RevealHours)
		if err != nil {
			a.close()
			return nil, fmt.Errorf("--reveal-hours: %q: %v", cfg.RevealHours, err)
		}
		a.hours = h
	}
	return a, nil
}

func (a *accessSetup) close() {
	if a.tokens != nil {
		a.tokens.Close()
	}
}

// trail starts the audit trail, writing to stderr unless told to be quiet.
func (a *accessSetup) trail(stderr io.Writer) *audit.Trail {
	var out io.Writer
	if !a.cfg.QuietAudit {
		out = stderr
	}
	return audit.New(audit.Config{Out: out})
}

// reloadOnHangup re-reads the token file on every SIGHUP until stopped.
// Secrets, connections and requests under way are not touched; if the
// file cannot be read, the tokens in force stay. Without a token file,
// SIGHUP keeps its usual meaning, a hang-up, and calls end: the session
// ends as on SIGTERM, with the wipe.
func reloadOnHangup(h *handler.Handler, tokens *access.Tokens, logger *log.Logger, end func()) (stop func()) {
	reload := tokens != nil && tokens.Path() != ""
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			if !reload {
				logger.Print("SIGHUP: no --token-file to re-read; ending the session")
				end()
				continue
			}
			if n, err := h.ReloadTokens(); err != nil {
				logger.Printf("SIGHUP: --token-file: %v; the tokens in force stay", err)
			} else {
				logger.Printf("SIGHUP: re-read %s (%d tokens); create tokens in force: %d (users %s)",
					tokens.Path(), n, tokens.Len(), strings.Join(tokens.Users(), ", "))
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		cancel()
		<-done
	}
}
