// Command otslite shares a secret once. Secrets are kept only in protected
// memory, answered through the Onetime Secret API and a small web UI, and
// wiped when read, burned, expired, or when the session ends.
//
// With no subcommand otslite runs the server (server.go). Subcommands are
// listed in usage below; each has its own -h.
//
// What goes to stderr: startup facts for the operator (once, the admin
// token), the audit trail (one JSON line per event, unless --quiet-audit),
// one summary line at the end with counts only, and failures. Never a
// secret, a passphrase, a create token or a link key.
//
// Exit codes: 0 normal end (idle, lifetime, drained, operator, signal),
// 1 failure, 2 bad configuration.
package main

import (
	"os"
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

// dispatch runs the subcommand args name, or the server when they name
// none.
func dispatch(args []string) int {
	return serverMain(args)
}
