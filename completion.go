package main

// otslite completion: shell completion scripts, made from the commands'
// own flag sets so they cannot fall behind.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

const completionUsage = `otslite completion: print shell completion for bash, zsh or fish.
Usage: otslite completion bash|zsh|fish
  bash:  source <(otslite completion bash)     (or save it in
         /etc/bash_completion.d/otslite)
  zsh:   source <(otslite completion zsh)      (in ~/.zshrc)
  fish:  otslite completion fish > ~/.config/fish/completions/otslite.fish
Exit codes: 0 printed, 2 no such shell.
`

func completionFlags() *flag.FlagSet { return flag.NewFlagSet("completion", flag.ContinueOnError) }

func cmdCompletion(_ context.Context, c *cli, args []string) int {
	fs := completionFlags()
	rest, err := c.parseFlags(fs, completionUsage, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && len(rest) != 1 {
		err = usageError("name one shell: bash, zsh or fish")
	}
	if err != nil {
		return c.fail(err)
	}
	var script string
	switch rest[0] {
	case "bash":
		script = bashCompletion()
	case "zsh":
		script = "# otslite completion for zsh, through bash's: source <(otslite completion zsh)\n" +
			"autoload -U +X bashcompinit && bashcompinit\n" + bashCompletion()
	case "fish":
		script = fishCompletion()
	default:
		return c.fail(usageError(fmt.Sprintf("no completion for %q: bash, zsh or fish", rest[0])))
	}
	io.WriteString(c.stdout, script)
	return exitOK
}

// flagNames lists a flag set's flags as "--name", sorted.
func flagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
	sort.Strings(names)
	return names
}

// serverFlags lists the server's flags.
func serverFlags() []string {
	var c Config
	var names []string
	for _, o := range c.options() {
		names = append(names, "--"+o.name)
	}
	return append(names, "-h")
}

func bashCompletion() string {
	var b strings.Builder
	b.WriteString("# otslite completion for bash: source <(otslite completion bash)\n")
	b.WriteString("_otslite() {\n")
	b.WriteString("  local cur=${COMP_WORDS[COMP_CWORD]} opts\n")
	b.WriteString("  if [ \"$COMP_CWORD\" -eq 1 ]; then\n")
	var names []string
	for _, cmd := range commands() {
		names = append(names, cmd.name)
	}
	fmt.Fprintf(&b, "    COMPREPLY=($(compgen -W %q -- \"$cur\"))\n", strings.Join(append(append(names, "help"), serverFlags()...), " "))
	b.WriteString("    return\n  fi\n")
	b.WriteString("  case ${COMP_WORDS[1]} in\n")
	for _, cmd := range commands() {
		if cmd.name == "completion" {
			b.WriteString("  completion) COMPREPLY=($(compgen -W \"bash zsh fish\" -- \"$cur\")); return ;;\n")
			continue
		}
		fmt.Fprintf(&b, "  %s) opts=%q ;;\n", cmd.name, strings.Join(append(flagNames(cmd.flags()), "-h"), " "))
	}
	b.WriteString("  help) COMPREPLY=($(compgen -W " + fmt.Sprintf("%q", strings.Join(names, " ")) + " -- \"$cur\")); return ;;\n")
	fmt.Fprintf(&b, "  *) opts=%q ;;\n", strings.Join(serverFlags(), " "))
	b.WriteString("  esac\n")
	b.WriteString("  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n")
	b.WriteString("}\n")
	b.WriteString("complete -o default -F _otslite otslite\n")
	return b.String()
}

func fishCompletion() string {
	var b strings.Builder
	b.WriteString("# otslite completion for fish: otslite completion fish > ~/.config/fish/completions/otslite.fish\n")
	b.WriteString("complete -c otslite -f\n")
	for _, cmd := range commands() {
		fmt.Fprintf(&b, "complete -c otslite -n __fish_use_subcommand -a %s -d %q\n", cmd.name, cmd.summary)
	}
	b.WriteString("complete -c otslite -n __fish_use_subcommand -a help -d \"list the commands\"\n")
	for _, cmd := range commands() {
		if cmd.name == "completion" {
			b.WriteString("complete -c otslite -n \"__fish_seen_subcommand_from completion\" -a \"bash zsh fish\"\n")
			continue
		}
		for _, f := range flagNames(cmd.flags()) {
			fmt.Fprintf(&b, "complete -c otslite -n \"__fish_seen_subcommand_from %s\" -l %s\n", cmd.name, strings.TrimPrefix(f, "--"))
		}
		if cmd.name == "send" || cmd.name == "share" {
			fmt.Fprintf(&b, "complete -c otslite -n \"__fish_seen_subcommand_from %s\" -F\n", cmd.name)
		}
	}
	return b.String()
}
