package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The completion scripts offer what the commands take: bash is run for
// real.
func TestCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	need(t, err, "bash")
	code, script, errs := MustCLI(t, cliOpts{}, "completion", "bash")
	mustCode(t, "completion bash", code, exitOK, errs)
	complete := func(words ...string) []string {
		t.Helper()
		cmd := exec.Command(bash, "--norc", "-c", script+`
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _otslite; printf '%s\n' "${COMPREPLY[@]}"`, "bash")
		cmd.Args = append(cmd.Args, words...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v: %s", err, out)
		}
		return strings.Fields(string(out))
	}
	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"otslite", "se"}, []string{"send"}},
		{[]string{"otslite", "--max-t"}, []string{"--max-ttl"}},
		{[]string{"otslite", "send", "--tls"}, []string{"--tls-cert", "--tls-key", "--tls-self-signed"}},
		{[]string{"otslite", "get", "--"}, []string{"--fingerprint", "--json", "--out", "--passphrase", "--show"}},
		{[]string{"otslite", "send", "--s"}, []string{"--split"}},
		{[]string{"otslite", "req"}, []string{"request"}},
		{[]string{"otslite", "receipt", "--w"}, []string{"--wait"}},
		{[]string{"otslite", "completion", ""}, []string{"bash", "zsh", "fish"}},
		{[]string{"otslite", "help", "bu"}, []string{"burn"}},
	} {
		got := complete(tc.words...)
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: %q, want %q", tc.words, got, tc.want)
		}
	}
	for _, shell := range []string{"zsh", "fish"} {
		code, out, errs := MustCLI(t, cliOpts{}, "completion", shell)
		mustCode(t, "completion "+shell, code, exitOK, errs)
		for _, cmd := range commands() {
			if !strings.Contains(out, cmd.name) {
				t.Errorf("%s completion lacks %s", shell, cmd.name)
			}
		}
	}
	if _, out, _ := MustCLI(t, cliOpts{}, "completion", "fish"); !strings.Contains(out, `__fish_seen_subcommand_from share" -l token-file`) {
		t.Errorf("fish completion lacks share's --token-file:\n%s", out)
	}
}
