// Command otslite shares a secret once. Secrets are kept only in protected
// memory, answered through the Onetime Secret API and a small web UI, and
// wiped when read, burned, expired, or when the session ends.
//
// With no command otslite runs the server (server.go). A first argument
// that is not a flag names a command (commands.go): send (send.go), share
// (share.go), get (get.go), burn and receipt (receipt.go), completion
// (completion.go), help. Each has its own -h.
//
// What the server writes to stderr: startup facts for the operator (once,
// the admin token), the audit trail (one JSON line per event, unless
// --quiet-audit), one summary line at the end with counts only, and
// failures. Never a secret, a passphrase, a create token or a link key.
// The commands write links and secrets to stdout, messages to stderr.
//
// Exit codes: 0 normal end (idle, lifetime, drained, operator, signal),
// 1 failure, 2 bad configuration; the commands add theirs (commands.go).
package main

import (
	"fmt"
	"os"
	"strings"
)

const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

func main() {
	reexecWithoutAsyncPreemption() // see preempt.go
	os.Exit(dispatch(os.Args[1:]))
}

// dispatch runs the command args name, or the server when they name
// none.
func dispatch(args []string) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return serverMain(args)
	}
	if args[0] == "help" {
		return helpMain(os.Stdout, args[1:])
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return clientMain(cmd, args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "otslite: no command %q (otslite help lists them; the server takes only flags)\n", args[0])
	return exitConfig
}
