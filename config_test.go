package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// parse runs ParseConfig with env as the whole environment and checks that
// nothing is written unless help was asked for.
func parse(tb testing.TB, args []string, env map[string]string) (Config, error) {
	tb.Helper()
	var out bytes.Buffer
	c, err := ParseConfig(args, func(k string) string { return env[k] }, &out)
	if !errors.Is(err, flag.ErrHelp) && out.Len() > 0 {
		tb.Errorf("ParseConfig(%q) wrote %q; want nothing", args, out.String())
	}
	return c, err
}

// MustParse is parse for arguments that must be accepted.
func MustParse(tb testing.TB, args []string, env map[string]string) Config {
	tb.Helper()
	c, err := parse(tb, args, env)
	if err != nil {
		tb.Fatalf("ParseConfig(%q, %v): %v", args, env, err)
	}
	return c
}

// want is the default configuration changed by edit.
func want(edit func(*Config)) Config {
	c := defaultConfig()
	c.PublicURL = "http://127.0.0.1:7143"
	if edit != nil {
		edit(&c)
	}
	return c
}

func prefixes(s ...string) []netip.Prefix {
	var ps []netip.Prefix
	for _, p := range s {
		ps = append(ps, netip.MustParsePrefix(p))
	}
	return ps
}

func TestParseConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{"OK", nil, nil, want(nil)},

		// Each flag.
		{"OKListen", []string{"--listen", "10.1.2.3:8080"}, nil, want(func(c *Config) {
			c.Listen, c.PublicURL = "10.1.2.3:8080", "http://10.1.2.3:8080"
		})},
		{"OKListenUnspecified", []string{"--listen", "0.0.0.0:7143"}, nil, want(func(c *Config) {
			c.Listen = "0.0.0.0:7143"
		})},
		{"OKListenEmptyHost", []string{"--listen", ":7143"}, nil, want(func(c *Config) {
			c.Listen = ":7143"
		})},
		{"OKListenIPv6Unspecified", []string{"--listen", "[::]:80"}, nil, want(func(c *Config) {
			c.Listen, c.PublicURL = "[::]:80", "http://127.0.0.1:80"
		})},
		{"OKListenIPv6", []string{"--listen", "[::1]:7143"}, nil, want(func(c *Config) {
			c.Listen, c.PublicURL = "[::1]:7143", "http://[::1]:7143"
		})},
		{"OKListenHostname", []string{"--listen", "localhost:7143"}, nil, want(func(c *Config) {
			c.Listen, c.PublicURL = "localhost:7143", "http://localhost:7143"
		})},
		{"OKPublicURLTrailingSlash", []string{"--public-url", "https://ots.example.com/"}, nil, want(func(c *Config) {
			c.PublicURL = "https://ots.example.com"
		})},
		{"OKPublicURLPath", []string{"--public-url", "https://example.com/ots//"}, nil, want(func(c *Config) {
			c.PublicURL = "https://example.com/ots"
		})},
		{"OKPublicURLSchemeCase", []string{"--public-url", "HTTP://example.com:8080"}, nil, want(func(c *Config) {
			c.PublicURL = "http://example.com:8080"
		})},
		{"OKPublicURLNotDerived", []string{"--listen", "0.0.0.0:80", "--public-url", "https://x.example"}, nil, want(func(c *Config) {
			c.Listen, c.PublicURL = "0.0.0.0:80", "https://x.example"
		})},
		{"OKDefaultTTL", []string{"--default-ttl", "90s"}, nil, want(func(c *Config) { c.DefaultTTL = 90 * time.Second })},
		{"OKDefaultTTLEqualsMax", []string{"--default-ttl", "1m", "--max-ttl", "1m"}, nil, want(func(c *Config) {
			c.DefaultTTL, c.MaxTTL = time.Minute, time.Minute
		})},
		{"OKMaxTTLDays", []string{"--max-ttl", "30d"}, nil, want(func(c *Config) { c.MaxTTL = 720 * time.Hour })},
		{"OKMaxTTLDaysAndHours", []string{"--max-ttl", "1d12h"}, nil, want(func(c *Config) { c.MaxTTL = 36 * time.Hour })},
		{"OKMaxSecretSize", []string{"--max-secret-size", "1MiB"}, nil, want(func(c *Config) { c.MaxSecretSize = 1 << 20 })},
		{"OKMaxSecretSizeLimits", []string{"--max-secret-size", "16M", "--max-bytes", "16m"}, nil, want(func(c *Config) {
			c.MaxSecretSize, c.MaxBytes = 16<<20, 16<<20
		})},
		{"OKMaxSecretSizeOneByte", []string{"--max-secret-size", "1"}, nil, want(func(c *Config) { c.MaxSecretSize = 1 })},
		{"OKMaxSecrets", []string{"--max-secrets", "10"}, nil, want(func(c *Config) { c.MaxSecrets = 10 })},
		{"OKMaxBytes", []string{"--max-bytes", "2GiB"}, nil, want(func(c *Config) { c.MaxBytes = 2 << 30 })},
		{"OKRateLimit", []string{"--rate-limit", "5"}, nil, want(func(c *Config) { c.RateLimit = 5 })},
		{"OKRateLimitOff", []string{"--rate-limit", "0"}, nil, want(func(c *Config) { c.RateLimit = 0 })},
		{"OKRateWindow", []string{"--rate-window", "1s"}, nil, want(func(c *Config) { c.RateWindow = time.Second })},
		{"OKPassphraseMinZero", []string{"--passphrase-min", "0"}, nil, want(func(c *Config) { c.PassphraseMin = 0 })},
		{"OKPassphraseMax", []string{"--passphrase-max", "1024"}, nil, want(func(c *Config) { c.PassphraseMax = 1024 })},
		{"OKPassphraseMinEqualsMax", []string{"--passphrase-min", "8", "--passphrase-max", "8"}, nil, want(func(c *Config) {
			c.PassphraseMin, c.PassphraseMax = 8, 8
		})},
		{"OKSingleDash", []string{"-max-ttl", "2h"}, nil, want(func(c *Config) { c.MaxTTL = 2 * time.Hour })},
		{"OKEquals", []string{"--max-ttl=2h"}, nil, want(func(c *Config) { c.MaxTTL = 2 * time.Hour })},
		{"OKLastFlagWins", []string{"--max-ttl=2h", "--max-ttl=3h"}, nil, want(func(c *Config) { c.MaxTTL = 3 * time.Hour })},

		// Trusted proxies.
		{"OKTrustedProxyIP", []string{"--trusted-proxy", "10.0.0.1"}, nil, want(func(c *Config) {
			c.TrustedProxies = prefixes("10.0.0.1/32")
		})},
		{"OKTrustedProxyCIDR", []string{"--trusted-proxy", "10.1.2.3/8"}, nil, want(func(c *Config) {
			c.TrustedProxies = prefixes("10.0.0.0/8")
		})},
		{"OKTrustedProxyIPv6", []string{"--trusted-proxy", "::1"}, nil, want(func(c *Config) {
			c.TrustedProxies = prefixes("::1/128")
		})},
		{"OKTrustedProxyIPv6CIDR", []string{"--trusted-proxy", "fd00::/8"}, nil, want(func(c *Config) {
			c.TrustedProxies = prefixes("fd00::/8")
		})},
		{"OKTrustedProxyMappedIPv4", []string{"--trusted-proxy", "::ffff:10.0.0.1"}, nil, want(func(c *Config) {
			c.TrustedProxies = prefixes("10.0.0.1/32")
		})},
		{"OKTrustedProxyCommaList", []string{"--trusted-proxy", "10.0.0.1, 192.168.0.0/16,"}, nil, want(func(c *Config) {
			c.TrustedProxies = prefixes("10.0.0.1/32", "192.168.0.0/16")
		})},
		{"OKTrustedProxyRepeated", []string{"--trusted-proxy", "10.0.0.1", "--trusted-proxy", "fd00::/8,::1"}, nil, want(func(c *Config) {
			c.TrustedProxies = prefixes("10.0.0.1/32", "fd00::/8", "::1/128")
		})},

		// Environment.
		{"OKEnv", nil, map[string]string{
			"OTSLITE_LISTEN":          "0.0.0.0:9000",
			"OTSLITE_PUBLIC_URL":      "https://ots.example.com/",
			"OTSLITE_DEFAULT_TTL":     "2h",
			"OTSLITE_MAX_TTL":         "14d",
			"OTSLITE_MAX_SECRET_SIZE": "1MiB",
			"OTSLITE_MAX_SECRETS":     "50",
			"OTSLITE_MAX_BYTES":       "1GB",
			"OTSLITE_RATE_LIMIT":      "0",
			"OTSLITE_RATE_WINDOW":     "1h",
			"OTSLITE_PASSPHRASE_MIN":  "8",
			"OTSLITE_PASSPHRASE_MAX":  "64",
			"OTSLITE_TRUSTED_PROXY":   "10.0.0.0/8,::1",
		}, Config{
			Listen:         "0.0.0.0:9000",
			PublicURL:      "https://ots.example.com",
			DefaultTTL:     2 * time.Hour,
			MaxTTL:         14 * day,
			MaxSecretSize:  1 << 20,
			MaxSecrets:     50,
			MaxBytes:       1 << 30,
			RateLimit:      0,
			RateWindow:     time.Hour,
			PassphraseMin:  8,
			PassphraseMax:  64,
			TrustedProxies: prefixes("10.0.0.0/8", "::1/128"),
		}},
		{"OKEnvEmptyIsUnset", nil, map[string]string{"OTSLITE_MAX_TTL": ""}, want(nil)},
		{"OKFlagBeatsEnv", []string{"--max-ttl", "3d"}, map[string]string{"OTSLITE_MAX_TTL": "2d"}, want(func(c *Config) {
			c.MaxTTL = 3 * day
		})},
		{"OKFlagBeatsBadEnv", []string{"--max-ttl", "3d"}, map[string]string{"OTSLITE_MAX_TTL": "junk"}, want(func(c *Config) {
			c.MaxTTL = 3 * day
		})},
		{"OKTrustedProxyFlagBeatsEnv", []string{"--trusted-proxy", "10.0.0.1"}, map[string]string{"OTSLITE_TRUSTED_PROXY": "10.0.0.2,10.0.0.3"}, want(func(c *Config) {
			c.TrustedProxies = prefixes("10.0.0.1/32")
		})},
		{"OKEnvListenDerivesPublicURL", nil, map[string]string{"OTSLITE_LISTEN": "[::]:7143"}, want(func(c *Config) {
			c.Listen = "[::]:7143"
		})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := MustParse(t, tt.args, tt.env)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseConfig(%q, %v)\n got %+v\nwant %+v", tt.args, tt.env, got, tt.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"ErrPositional", []string{"extra"}, nil, `unexpected argument "extra": otslite takes only flags`},
		{"ErrPositionalAfterFlags", []string{"--max-ttl", "2h", "extra"}, nil, `unexpected argument "extra": otslite takes only flags`},
		{"ErrUnknownFlag", []string{"--nope"}, nil, `flag provided but not defined: -nope`},
		{"ErrMissingValue", []string{"--max-ttl"}, nil, `flag needs an argument: -max-ttl`},

		{"ErrListenNoPort", []string{"--listen", "127.0.0.1"}, nil, `--listen: "127.0.0.1": want host:port, e.g. 127.0.0.1:7143`},
		{"ErrListenNamedPort", []string{"--listen", "127.0.0.1:http"}, nil, `--listen: "127.0.0.1:http": want host:port, e.g. 127.0.0.1:7143`},
		{"ErrListenPortRange", []string{"--listen", "127.0.0.1:65536"}, nil, `--listen: "127.0.0.1:65536": want host:port, e.g. 127.0.0.1:7143`},
		{"ErrListenUnderivable", []string{"--listen", "bad host:80"}, nil, `--listen: "bad host:80": cannot derive a public URL from it; set --public-url`},

		{"ErrPublicURLScheme", []string{"--public-url", "ftp://example.com"}, nil, `--public-url: "ftp://example.com": must start with http:// or https://`},
		{"ErrPublicURLRelative", []string{"--public-url", "/ots"}, nil, `--public-url: "/ots": must start with http:// or https://`},
		{"ErrPublicURLNoHost", []string{"--public-url", "https:///ots"}, nil, `--public-url: "https:///ots": has no host`},
		{"ErrPublicURLQuery", []string{"--public-url", "https://example.com/?a=1"}, nil, `--public-url: "https://example.com/?a=1": must not have a query or fragment`},
		{"ErrPublicURLEmptyQuery", []string{"--public-url", "https://example.com?"}, nil, `--public-url: "https://example.com?": must not have a query or fragment`},
		{"ErrPublicURLFragment", []string{"--public-url", "https://example.com/#x"}, nil, `--public-url: "https://example.com/#x": must not have a query or fragment`},
		{"ErrPublicURLPasswordHidden", []string{"--public-url", "https://u:hunter2@example.com"}, nil, `--public-url: "https://u:xxxxx@example.com": must not contain a user name or password`},
		{"ErrPublicURLBadPort", []string{"--public-url", "https://example.com:x"}, nil, `--public-url: "https://example.com:x": not a URL: invalid port ":x" after host`},

		{"ErrMaxTTLNotDuration", []string{"--max-ttl", "7x"}, nil, `--max-ttl: "7x": not a duration (examples: 90s, 1h, 7d)`},
		{"ErrMaxTTLFractionalDays", []string{"--max-ttl", "1.5d"}, nil, `--max-ttl: "1.5d": not a duration (examples: 90s, 1h, 7d)`},
		{"ErrDefaultTTLNegative", []string{"--default-ttl", "-1s"}, nil, `--default-ttl: "-1s": must not be negative`},
		{"ErrDefaultTTLZero", []string{"--default-ttl", "0s"}, nil, `--default-ttl: "0s": must be at least 1m`},
		{"ErrMaxTTLTooShort", []string{"--max-ttl", "59s"}, nil, `--max-ttl: "59s": must be at least 1m`},
		{"ErrTTLAboveMax", []string{"--default-ttl", "8d"}, nil, `--default-ttl: "8d": must not exceed --max-ttl (7d)`},
		{"ErrTTLAboveMaxBothSet", []string{"--default-ttl", "2h", "--max-ttl", "1h"}, nil, `--default-ttl: "2h": must not exceed --max-ttl (1h)`},
		{"ErrMaxTTLBelowDefault", []string{"--max-ttl", "30m"}, nil, `--max-ttl: "30m": must not be below --default-ttl (1h)`},

		{"ErrMaxSecretSizeZero", []string{"--max-secret-size", "0"}, nil, `--max-secret-size: "0": must be between 1 B and 16 MiB`},
		{"ErrMaxSecretSizeTooLarge", []string{"--max-secret-size", "17MiB"}, nil, `--max-secret-size: "17MiB": must be between 1 B and 16 MiB`},
		{"ErrMaxSecretSizeNegative", []string{"--max-secret-size", "-1"}, nil, `--max-secret-size: "-1": must not be negative`},
		{"ErrMaxSecretSizeFraction", []string{"--max-secret-size", "1.5K"}, nil, `--max-secret-size: "1.5K": must be a whole number (examples: 1536, 1536B)`},
		{"ErrMaxSecretSizeNotSize", []string{"--max-secret-size", "abc"}, nil, `--max-secret-size: "abc": not a size (examples: 65536, 64KiB, 1MiB)`},
		{"ErrMaxSecretsZero", []string{"--max-secrets", "0"}, nil, `--max-secrets: "0": must be at least 1`},
		{"ErrMaxSecretsNotNumber", []string{"--max-secrets", "1e5"}, nil, `--max-secrets: "1e5": not a whole number`},
		{"ErrMaxBytesBelowSecretSize", []string{"--max-bytes", "1KiB"}, nil, `--max-bytes: "1KiB": must not be below --max-secret-size (64 KiB)`},
		{"ErrSecretSizeAboveMaxBytes", []string{"--max-secret-size", "2MiB", "--max-bytes", "1MiB"}, nil, `--max-secret-size: "2MiB": must not exceed --max-bytes (1MiB)`},
		{"ErrMaxBytesTooLarge", []string{"--max-bytes", "9999999999G"}, nil, `--max-bytes: "9999999999G": too large`},

		{"ErrRateLimitNegative", []string{"--rate-limit", "-1"}, nil, `--rate-limit: "-1": must not be negative (0 turns it off)`},
		{"ErrRateWindowZero", []string{"--rate-window", "0s"}, nil, `--rate-window: "0s": must be longer than 0s`},

		{"ErrPassphraseMinNegative", []string{"--passphrase-min", "-1"}, nil, `--passphrase-min: "-1": must not be negative`},
		{"ErrPassphraseMaxZero", []string{"--passphrase-max", "0", "--passphrase-min", "0"}, nil, `--passphrase-max: "0": must be between 1 and 1024`},
		{"ErrPassphraseMaxTooLarge", []string{"--passphrase-max", "1025"}, nil, `--passphrase-max: "1025": must be between 1 and 1024`},
		{"ErrPassphraseMinAboveMax", []string{"--passphrase-min", "200"}, nil, `--passphrase-min: "200": must not exceed --passphrase-max (128)`},
		{"ErrPassphraseMaxBelowMin", []string{"--passphrase-max", "2"}, nil, `--passphrase-max: "2": must not be below --passphrase-min (4)`},

		{"ErrTrustedProxyBad", []string{"--trusted-proxy", "10.0.0.300"}, nil, `--trusted-proxy: "10.0.0.300": "10.0.0.300" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrTrustedProxyBadInList", []string{"--trusted-proxy", "10.0.0.1,proxy.local"}, nil, `--trusted-proxy: "10.0.0.1,proxy.local": "proxy.local" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrTrustedProxyBadBits", []string{"--trusted-proxy", "10.0.0.0/33"}, nil, `--trusted-proxy: "10.0.0.0/33": "10.0.0.0/33" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrTrustedProxyZone", []string{"--trusted-proxy", "fe80::1%eth0"}, nil, `--trusted-proxy: "fe80::1%eth0": "fe80::1%eth0" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},

		// The environment: errors name the variable.
		{"ErrEnvNotDuration", nil, map[string]string{"OTSLITE_MAX_TTL": "7x"}, `OTSLITE_MAX_TTL: "7x": not a duration (examples: 90s, 1h, 7d)`},
		{"ErrEnvNotSize", nil, map[string]string{"OTSLITE_MAX_BYTES": "lots"}, `OTSLITE_MAX_BYTES: "lots": not a size (examples: 65536, 64KiB, 1MiB)`},
		{"ErrEnvNotNumber", nil, map[string]string{"OTSLITE_RATE_LIMIT": "many"}, `OTSLITE_RATE_LIMIT: "many": not a whole number`},
		{"ErrEnvTrustedProxy", nil, map[string]string{"OTSLITE_TRUSTED_PROXY": "10.0.0.1;10.0.0.2"}, `OTSLITE_TRUSTED_PROXY: "10.0.0.1;10.0.0.2": "10.0.0.1;10.0.0.2" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrEnvPublicURL", nil, map[string]string{"OTSLITE_PUBLIC_URL": "example.com"}, `OTSLITE_PUBLIC_URL: "example.com": must start with http:// or https://`},
		{"ErrEnvTTLAboveMax", nil, map[string]string{"OTSLITE_DEFAULT_TTL": "2d", "OTSLITE_MAX_TTL": "1d"}, `OTSLITE_DEFAULT_TTL: "2d": must not exceed OTSLITE_MAX_TTL (1d)`},
		{"ErrEnvMaxTTLBelowFlag", []string{"--default-ttl", "2d"}, map[string]string{"OTSLITE_MAX_TTL": "1d"}, `--default-ttl: "2d": must not exceed OTSLITE_MAX_TTL (1d)`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parse(t, tt.args, tt.env)
			if err == nil {
				t.Fatalf("ParseConfig(%q, %v) = %+v; want error %q", tt.args, tt.env, c, tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("ParseConfig(%q, %v) error\n got %s\nwant %s", tt.args, tt.env, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("ParseConfig returned %+v with its error; want the zero Config", c)
			}
		})
	}
}

func TestParseConfigHelp(t *testing.T) {
	for _, arg := range []string{"-h", "--h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			var out bytes.Buffer
			_, err := ParseConfig([]string{"--max-ttl", "2h", arg, "--listen", "bad"}, nil, &out)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("ParseConfig(%s) error = %v; want flag.ErrHelp", arg, err)
			}
			if out.String() != usage {
				t.Errorf("ParseConfig(%s) wrote %q; want the usage text", arg, out.String())
			}
		})
	}
}

func TestUsageFitsOneScreen(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(usage, "\n"), "\n")
	if len(lines) > 24 {
		t.Errorf("usage has %d lines; want at most 24", len(lines))
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("usage line %d has %d columns; want at most 80: %q", i+1, n, l)
		}
		if strings.ContainsAny(l, "\t\r") || l != strings.TrimRight(l, " ") {
			t.Errorf("usage line %d has tabs or trailing space: %q", i+1, l)
		}
	}
	if !strings.HasPrefix(usage, "otslite: ") || !strings.HasSuffix(usage, "\n") {
		t.Errorf("usage must start with what otslite is and end in a newline")
	}
}

// TestUsageMatchesFlags keeps the hand-written usage in step with the flags:
// every flag has exactly one line, and the default it shows is the default.
func TestUsageMatchesFlags(t *testing.T) {
	var c Config
	var names []string
	for _, o := range c.options() {
		names = append(names, o.name)
	}
	var listed []string
	for _, l := range strings.Split(usage, "\n") {
		if !strings.HasPrefix(l, "  --") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(l, "  --"), " ")
		listed = append(listed, name)
		_, def, ok := strings.Cut(l, "(default ")
		if !ok || !strings.HasSuffix(def, ")") {
			t.Errorf("usage line for --%s shows no default: %q", name, l)
			continue
		}
		def = strings.TrimSuffix(def, ")")
		switch name {
		case "public-url":
			continue // derived; covered by TestParseConfig
		case "trusted-proxy":
			if def != "none" {
				t.Errorf("usage shows --trusted-proxy default %q; want none", def)
			}
			continue
		}
		if got := MustParse(t, []string{"--" + name, def}, nil); !reflect.DeepEqual(got, want(nil)) {
			t.Errorf("usage shows --%s default %q, but it is not the default", name, def)
		}
	}
	if !slices.Equal(listed, names) {
		t.Errorf("usage lists flags %q; want %q in that order", listed, names)
	}
}

func TestEnvNames(t *testing.T) {
	var asked []string
	_, err := ParseConfig(nil, func(k string) string { asked = append(asked, k); return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"OTSLITE_LISTEN", "OTSLITE_PUBLIC_URL", "OTSLITE_DEFAULT_TTL", "OTSLITE_MAX_TTL",
		"OTSLITE_MAX_SECRET_SIZE", "OTSLITE_MAX_SECRETS", "OTSLITE_MAX_BYTES", "OTSLITE_RATE_LIMIT",
		"OTSLITE_RATE_WINDOW", "OTSLITE_PASSPHRASE_MIN", "OTSLITE_PASSPHRASE_MAX", "OTSLITE_TRUSTED_PROXY",
	}
	if !slices.Equal(asked, want) {
		t.Errorf("ParseConfig read %q; want %q", asked, want)
	}
}

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want int64
		err  string
	}{
		{"OKBytes", "65536", 65536, ""},
		{"OKB", "1B", 1, ""},
		{"OKKiB", "64KiB", 64 << 10, ""},
		{"OKKB", "64KB", 64 << 10, ""},
		{"OKK", "64k", 64 << 10, ""},
		{"OKLowerCase", "64kib", 64 << 10, ""},
		{"OKUpperCase", "64KIB", 64 << 10, ""},
		{"OKSpace", " 64 KiB ", 64 << 10, ""},
		{"OKM", "1M", 1 << 20, ""},
		{"OKMiB", "256MiB", 256 << 20, ""},
		{"OKG", "2G", 2 << 30, ""},
		{"OKZero", "0", 0, ""},
		{"OKLargest", "9223372036854775807", 1<<63 - 1, ""},
		{"ErrNegative", "-1", 0, "must not be negative"},
		{"ErrFraction", "1.5K", 0, "must be a whole number (examples: 1536, 1536B)"},
		{"ErrWord", "abc", 0, "not a size (examples: 65536, 64KiB, 1MiB)"},
		{"ErrEmpty", "", 0, "not a size (examples: 65536, 64KiB, 1MiB)"},
		{"ErrUnitOnly", "KiB", 0, "not a size (examples: 65536, 64KiB, 1MiB)"},
		{"ErrTerabytes", "1T", 0, "not a size (examples: 65536, 64KiB, 1MiB)"},
		{"ErrKelvin", "1\u212a", 0, "not a size (examples: 65536, 64KiB, 1MiB)"},
		{"ErrPlus", "+1", 0, "not a size (examples: 65536, 64KiB, 1MiB)"},
		{"ErrOverflow", "9223372036854775808", 0, "too large"},
		{"ErrOverflowUnit", "8589934592G", 0, "too large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("parseSize(%q) = %d, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for in, want := range map[int64]string{
		0:         "0 B",
		1:         "1 B",
		1500:      "1500 B",
		1024:      "1 KiB",
		64 << 10:  "64 KiB",
		1536:      "1536 B",
		256 << 20: "256 MiB",
		1 << 30:   "1 GiB",
		3 << 29:   "1536 MiB",
	} {
		if got := formatSize(in); got != want {
			t.Errorf("formatSize(%d) = %q; want %q", in, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   string
		want time.Duration
		err  string
	}{
		{"OKSeconds", "90s", 90 * time.Second, ""},
		{"OKHour", "1h", time.Hour, ""},
		{"OKMixed", "1h30m", 90 * time.Minute, ""},
		{"OKDays", "7d", 168 * time.Hour, ""},
		{"OKDaysAndHours", "1d12h", 36 * time.Hour, ""},
		{"OKDaysAndFraction", "1d0.5h", 24*time.Hour + 30*time.Minute, ""},
		{"OKZero", "0s", 0, ""},
		{"OKBareZero", "0", 0, ""},
		{"OKZeroDays", "0d", 0, ""},
		{"ErrNegative", "-1s", 0, "must not be negative"},
		{"ErrNegativeDays", "-7d", 0, "must not be negative"},
		{"ErrNegativeAfterDays", "1d-1h", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrFractionalDays", "1.5d", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrDaysLast", "1h2d", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrDaysTwice", "1d2d", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrNoNumber", "d", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrNoUnit", "90", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrUnknownUnit", "7x", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrEmpty", "", 0, "not a duration (examples: 90s, 1h, 7d)"},
		{"ErrTooManyDays", "106752d", 0, "too long"},
		{"ErrDaysOverflow", "106751d24h", 0, "too long"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDuration(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Errorf("parseDuration(%q) = %v, %v; want error %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseDuration(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for in, want := range map[time.Duration]string{
		0:                       "0s",
		90 * time.Second:        "1m30s",
		time.Hour:               "1h",
		90 * time.Minute:        "1h30m",
		7 * day:                 "7d",
		36 * time.Hour:          "1d12h",
		day + time.Second:       "1d1s",
		1500 * time.Millisecond: "1.5s",
	} {
		if got := formatDuration(in); got != want {
			t.Errorf("formatDuration(%v) = %q; want %q", in, got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	got := MustParse(t, nil, nil).Summary()
	wantLines := []string{
		"listening on 127.0.0.1:7143, links start with http://127.0.0.1:7143",
		"secrets last 1h unless asked otherwise, 7d at most",
		"secrets of up to 64 KiB each; room for 100000 secrets, 256 MiB in all",
		"rate limit: 1000 requests per client IP per 20m, for each of create, reveal, receipt, burn",
		"passphrases of 4 to 128 characters",
		"trusted proxies: none",
	}
	if !slices.Equal(got, wantLines) {
		t.Errorf("Summary() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
	}

	c := MustParse(t, []string{"--rate-limit", "0", "--trusted-proxy", "10.0.0.0/8,::1"}, nil)
	s := strings.Join(c.Summary(), "\n")
	for _, w := range []string{"rate limit: off", "trusted proxies: 10.0.0.0/8,::1/128"} {
		if !strings.Contains(s, w) {
			t.Errorf("Summary() lacks %q:\n%s", w, s)
		}
	}
}

func ExampleConfig_Summary() {
	c, err := ParseConfig([]string{"--listen", "0.0.0.0:8080", "--max-ttl", "1d12h"}, nil, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range c.Summary() {
		fmt.Println(l)
	}
	// Output:
	// listening on 0.0.0.0:8080, links start with http://127.0.0.1:8080
	// secrets last 1h unless asked otherwise, 1d12h at most
	// secrets of up to 64 KiB each; room for 100000 secrets, 256 MiB in all
	// rate limit: 1000 requests per client IP per 20m, for each of create, reveal, receipt, burn
	// passphrases of 4 to 128 characters
	// trusted proxies: none
}

func ExampleParseConfig_error() {
	env := map[string]string{"OTSLITE_MAX_TTL": "7x"}
	_, err := ParseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	fmt.Println(err)
	// Output:
	// OTSLITE_MAX_TTL: "7x": not a duration (examples: 90s, 1h, 7d)
}

func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"65536", "64KiB", "64KB", "1M", "0", "-1", "1.5K", "abc", "64 KiB", "1 GiB", "9223372036854775807", "8589934591G"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("parseSize(%q) = %d; want non-negative", s, n)
		}
		f := formatSize(n)
		m, err := parseSize(f)
		if err != nil || m != n {
			t.Fatalf("parseSize(formatSize(%d)) = parseSize(%q) = %d, %v; want %d", n, f, m, err, n)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90s", "1h", "7d", "1d12h", "0s", "-1s", "1.5d", "1d-1h", "106751d23h47m16s", "2562047h47m16.854775807s", "1µs"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("parseDuration(%q) = %v; want non-negative", s, d)
		}
		f := formatDuration(d)
		e, err := parseDuration(f)
		if err != nil || e != d {
			t.Fatalf("parseDuration(formatDuration(%v)) = parseDuration(%q) = %v, %v; want %v", d, f, e, err, d)
		}
	})
}
