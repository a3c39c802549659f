package main

import (
	"bytes"
	"io"
	"net"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestServerNames(t *testing.T) {
	lan := []net.IP{net.ParseIP("192.168.1.5"), net.ParseIP("fd00::5")}
	for _, c := range []struct {
		name, public, listen string
		want                 []string
	}{
		{"Loopback", "http://127.0.0.1:7143", "127.0.0.1:7143",
			[]string{"127.0.0.1:7143", "localhost:7143", "[::1]:7143"}},
		{"Localhost", "http://localhost:7143", "localhost:7143",
			[]string{"localhost:7143", "127.0.0.1:7143", "[::1]:7143"}},
		{"EveryInterface", "http://192.168.1.5:7143", "0.0.0.0:7143",
			[]string{"192.168.1.5:7143", "localhost:7143", "127.0.0.1:7143", "[::1]:7143", "[fd00::5]:7143", "laptop:7143"}},
		{"EveryInterfaceIPv6", "https://secrets.example", "[::]:443",
			[]string{"secrets.example", "localhost:443", "127.0.0.1:443", "[::1]:443", "192.168.1.5:443", "[fd00::5]:443", "laptop:443"}},
		{"OneAddressBehindProxy", "https://secrets.example", "10.0.0.7:7143",
			[]string{"secrets.example", "10.0.0.7:7143"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := serverNames(c.public, c.listen, lan, "laptop"); !slices.Equal(got, c.want) {
				t.Errorf("serverNames(%q, %q) = %q; want %q", c.public, c.listen, got, c.want)
			}
		})
	}
}

// TestVersion: --version prints one line on stdout and exits 0, before
// anything starts; OTSLITE_VERSION is no such switch.
func TestVersion(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(scanBinary(t), "--version")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("--version: %v: %s", err, stderr.String())
	}
	line := stdout.String()
	if !regexp.MustCompile(`^otslite \S+ \((commit [0-9a-f]{12}[^;]*; )?go1\.\d+\S* linux/(amd64|arm64)\)\n$`).MatchString(line) || stderr.Len() != 0 {
		t.Errorf("--version printed %q on stdout and %q on stderr", line, stderr.String())
	}
	c, err := ParseConfig(nil, func(k string) string { return map[string]string{"OTSLITE_VERSION": "1"}[k] }, io.Discard)
	if err != nil || c.Version {
		t.Errorf("OTSLITE_VERSION=1: %+v, %v; want it ignored", c.Version, err)
	}
	// The release binary's -h groups the flags under headings.
	cmd = exec.Command(scanBinary(t), "-h")
	help, _ := cmd.CombinedOutput()
	for _, h := range []string{"\nServing:\n", "\nSecrets:\n", "\nSession (", "\nAccess and audit:\n", "\nOther:\n", "--version"} {
		if !strings.Contains(string(help), h) {
			t.Errorf("-h lacks %q:\n%s", h, help)
		}
	}
}
