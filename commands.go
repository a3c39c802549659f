package main

// The client commands: the table main dispatches on, what they share (the
// terminal, locked memory, signals, flags) and their exit codes.
//
// Rules for the commands:
//   - A secret, a passphrase or a link key never comes from argv (a link
//     may, for convenience; it is blanked there at once), never becomes a
//     Go string, and lives in the vault, wiped on every way out.
//   - stdout gets what a script wants: links, the secret, a receipt's
//     state; every message goes to stderr, one line each, "otslite: ...".
//   - A refusal is the server's own message. Errors say what to do next.
//   - Each command's -h fits one 80x24 screen.

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"otslite/store"
)

// Exit codes of the client commands, beside exitOK, exitFail and
// exitConfig (bad flags or arguments) in main.go.
const (
	exitBurned      = 3 // the secret was burned (or wiped) before anyone read it
	exitExpired     = 4 // the secret expired unread
	exitGone        = 5 // the link is used up: read, burned, expired or never there
	exitPassphrase  = 6 // the passphrase is wrong
	exitRefused     = 7 // the server refused: credentials, policy, rate limit, lockout
	exitInterrupted = 130
)

// command is one subcommand.
type command struct {
	name, summary, usage string
	run                  func(ctx context.Context, c *cli, args []string) int
	flags                func() *flag.FlagSet // its flags, for completion and tests
}

// commands lists the subcommands in the order help shows them.
func commands() []command {
	return []command{
		{"send", "hand over one secret now: serve it once from here, then end", sendUsage, cmdSend, flagsOf(sendFlags)},
		{"share", "store a secret on a running otslite or Onetime Secret server", shareUsage, cmdShare, flagsOf(shareFlags)},
		{"get", "open secret links once: text to stdout, files into a directory", getUsage, cmdGet, flagsOf(getFlags)},
		{"request", "ask someone for a secret: print a link, wait, write the answer", requestUsage, cmdRequest, flagsOf(requestFlags)},
		{"burn", "destroy a secret before it is read, from its receipt link", burnUsage, cmdBurn, flagsOf(burnFlags)},
		{"receipt", "show a secret's state from its receipt link, or wait for it", receiptUsage, cmdReceipt, flagsOf(receiptFlags)},
		{"completion", "print shell completion for bash, zsh or fish", completionUsage, cmdCompletion, completionFlags},
	}
}

// flagsOf drops the options from a command's flags function.
func flagsOf[T any](f func() (*flag.FlagSet, T)) func() *flag.FlagSet {
	return func() *flag.FlagSet { s, _ := f(); return s }
}

// cli is what a command works with. Tests make their own.
type cli struct {
	stdin, stdout, stderr *os.File
	getenv                func(string) string
	rand                  io.Reader
	vault                 *vault
	tty                   func() (*os.File, error) // the terminal when stdin is not one
	poll                  time.Duration            // how often receipt --wait asks

	mu   sync.Mutex
	term *terminal // opened on first prompt
}

func newCLI(stdin, stdout, stderr *os.File, getenv func(string) string) *cli {
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, rand: rand.Reader, vault: newVault(), tty: controllingTTY, poll: receiptPoll}
}

// terminal opens the terminal prompts go to.
func (c *cli) terminal() (*terminal, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.term == nil {
		t, err := openTerminal(c.stdin, c.stderr, c.tty)
		if err != nil {
			return nil, err
		}
		c.term = t
	}
	return c.term, nil
}

// restoreTerminal puts back echo, should a signal come during a prompt.
func (c *cli) restoreTerminal() {
	c.mu.Lock()
	t := c.term
	c.mu.Unlock()
	t.restore()
}

// logf writes one message line to stderr.
func (c *cli) logf(format string, a ...any) {
	fmt.Fprintf(c.stderr, "otslite: "+format+"\n", a...)
}

// usageError is a mistake in the command line.
type usageError string

func (e usageError) Error() string { return string(e) }

// fail reports err and returns its exit code.
func (c *cli) fail(err error) int {
	var ue usageError
	switch {
	case errors.As(err, &ue):
		c.logf("%v (see -h)", err)
		return exitConfig
	case errors.Is(err, context.Canceled):
		c.logf("interrupted")
		return exitInterrupted
	case refused(err):
		c.logf("%v", err)
		return exitRefused
	}
	c.logf("%v", err)
	return exitFail
}

// clientMain runs a client command as the process: it hardens the process,
// catches signals, and wipes the vault on the way out. The first SIGINT,
// SIGTERM or SIGHUP cancels the command's context (send burns its secret);
// one arriving while a prompt has echo off, or a second one, ends the
// process at once, terminal restored and vault wiped.
func clientMain(cmd command, args []string) int {
	c := newCLI(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	defer c.vault.wipe()
	if err := harden(false); err != nil {
		c.logf("%v", err)
		return exitFail
	}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(signals)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-signals
		c.mu.Lock()
		t := c.term
		c.mu.Unlock()
		if !t.prompting() {
			cancel()
			<-signals
		}
		c.restoreTerminal()
		c.vault.wipe()
		store.Purge() // send's server
		os.Exit(exitInterrupted)
	}()
	code := cmd.run(ctx, c, args)
	store.Purge() // send's server keeps its keys there
	return code
}

// parseFlags parses a command's flags, which may come before, after or
// between its arguments. For -h it writes the usage to stderr and returns
// flag.ErrHelp.
func (c *cli) parseFlags(fs *flag.FlagSet, usage string, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				io.WriteString(c.stderr, usage)
				return nil, err
			}
			return nil, usageError(err.Error())
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// helpMain is "otslite help [COMMAND]".
func helpMain(stdout io.Writer, args []string) int {
	if len(args) > 0 {
		for _, cmd := range commands() {
			if cmd.name == args[0] {
				io.WriteString(stdout, cmd.usage)
				return exitOK
			}
		}
		fmt.Fprintf(stdout, "otslite: no command %q\n", args[0])
		return exitConfig
	}
	var b strings.Builder
	b.WriteString("otslite: share a secret once; kept only in protected memory, gone after reading.\n")
	b.WriteString("Usage: otslite [flags]            run the server (otslite -h for its flags)\n")
	b.WriteString("       otslite COMMAND [flags]    (otslite COMMAND -h for its flags)\n")
	b.WriteString("Commands:\n")
	for _, cmd := range commands() {
		fmt.Fprintf(&b, "  %-10s  %s\n", cmd.name, cmd.summary)
	}
	b.WriteString(exitCodesHelp)
	io.WriteString(stdout, b.String())
	return exitOK
}

const exitCodesHelp = `Exit codes: 0 done (send: the secret was read), 1 failure, 2 bad command line,
3 burned, 4 expired, 5 gone (read, burned, expired or never there),
6 wrong passphrase, 7 refused (credentials, policy, rate limit, lockout),
130 interrupted.
`

// durationFlag is a --ttl: a duration as the server reads them (90s, 1h,
// 7d), between lo and hi.
type durationFlag struct {
	d      *time.Duration
	lo, hi time.Duration
}

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return formatDuration(*f.d)
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	if d < f.lo || d > f.hi {
		return fmt.Errorf("must be between %s and %s", formatDuration(f.lo), formatDuration(f.hi))
	}
	*f.d = d
	return nil
}
