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
	"strconv"
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
		{"OKMaxFileSize", []string{"--max-file-size", "64MiB"}, nil, want(func(c *Config) { c.MaxFileSize = 64 << 20 })},
		{"OKMaxFileSizeOff", []string{"--max-file-size", "0"}, nil, want(func(c *Config) { c.MaxFileSize = 0 })},
		{"OKMaxFileSizeFollowsMaxBytes", []string{"--max-bytes", "2MiB"}, nil, want(func(c *Config) { c.MaxBytes, c.MaxFileSize = 2<<20, 2<<20 })},
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

		// The session.
		{"OKIdle", []string{"--idle", "2h"}, nil, want(func(c *Config) { c.Idle = 2 * time.Hour })},
		{"OKIdleOff", []string{"--idle", "0"}, nil, want(func(c *Config) { c.Idle = 0 })},
		{"OKIdleShort", []string{"--idle", "1s"}, nil, want(func(c *Config) { c.Idle = time.Second })},
		{"OKLifetime", []string{"--lifetime", "8h"}, nil, want(func(c *Config) { c.Lifetime = 8 * time.Hour })},
		{"OKLifetimeEqualsDefaultTTL", []string{"--lifetime", "1h"}, nil, want(func(c *Config) { c.Lifetime = time.Hour })},
		{"OKLifetimeShortest", []string{"--lifetime", "1m", "--default-ttl", "1m"}, nil, want(func(c *Config) {
			c.Lifetime, c.DefaultTTL = time.Minute, time.Minute
		})},
		{"OKLifetimeBelowMaxTTL", []string{"--lifetime", "2h", "--max-ttl", "30d"}, nil, want(func(c *Config) {
			c.Lifetime, c.MaxTTL = 2*time.Hour, 30*day
		})},
		{"OKLifetimeOff", []string{"--lifetime", "0s"}, nil, want(nil)},
		{"OKExitWhenDrained", []string{"--exit-when-drained", "--create-allow", "127.0.0.1"}, nil, want(func(c *Config) {
			c.ExitWhenDrained, c.CreateAllow = true, prefixes("127.0.0.1/32")
		})},
		{"OKExitWhenDrainedTokens", []string{"--exit-when-drained", "--token-file", "/run/tokens"}, nil, want(func(c *Config) {
			c.ExitWhenDrained, c.TokenFile = true, "/run/tokens"
		})},
		{"OKGrace", []string{"--grace", "1m"}, nil, want(func(c *Config) { c.Grace = time.Minute })},
		{"OKGraceZero", []string{"--grace", "0s"}, nil, want(func(c *Config) { c.Grace = 0 })},
		{"OKAdminToken", []string{"--admin-token", "0123456789abcdef"}, nil, want(func(c *Config) { c.AdminToken = "0123456789abcdef" })},
		{"OKAdminTokenPunctuation", []string{"--admin-token=a!b#c$d%e&f~g^h*i"}, nil, want(func(c *Config) { c.AdminToken = "a!b#c$d%e&f~g^h*i" })},
		{"OKDebuggable", []string{"--debuggable"}, nil, want(func(c *Config) { c.Debuggable = true })},
		{"OKHealthcheck", []string{"--healthcheck"}, nil, want(func(c *Config) { c.Healthcheck = true })},

		// TLS.
		{"OKTLSCertKey", []string{"--tls-cert", "/etc/ots/cert.pem", "--tls-key", "/etc/ots/key.pem"}, nil, want(func(c *Config) {
			c.TLSCert, c.TLSKey, c.PublicURL = "/etc/ots/cert.pem", "/etc/ots/key.pem", "https://127.0.0.1:7143"
		})},
		{"OKTLSSelfSigned", []string{"--tls-self-signed"}, nil, want(func(c *Config) {
			c.TLSSelfSigned, c.PublicURL = true, "https://127.0.0.1:7143"
		})},
		{"OKTLSSelfSignedUnspecified", []string{"--tls-self-signed", "--listen", "[::]:443"}, nil, want(func(c *Config) {
			c.TLSSelfSigned, c.Listen, c.PublicURL = true, "[::]:443", "https://127.0.0.1:443"
		})},
		{"OKTLSPublicURLGiven", []string{"--tls-self-signed", "--public-url", "https://ots.lan:7143/"}, nil, want(func(c *Config) {
			c.TLSSelfSigned, c.PublicURL = true, "https://ots.lan:7143"
		})},
		{"OKTLSSelfSignedOffWithCert", []string{"--tls-self-signed=false", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil, want(func(c *Config) {
			c.TLSCert, c.TLSKey, c.PublicURL = "c.pem", "k.pem", "https://127.0.0.1:7143"
		})},
		{"OKHTTPRedirect", []string{"--tls-self-signed", "--listen", "0.0.0.0:443", "--http-redirect", "0.0.0.0:80"}, nil, want(func(c *Config) {
			c.TLSSelfSigned, c.Listen, c.HTTPRedirect, c.PublicURL = true, "0.0.0.0:443", "0.0.0.0:80", "https://127.0.0.1:443"
		})},
		{"OKHTTPRedirectSamePortOtherHost", []string{"--tls-self-signed", "--listen", "10.0.0.1:443", "--http-redirect", "10.0.0.2:443"}, nil, want(func(c *Config) {
			c.TLSSelfSigned, c.Listen, c.HTTPRedirect, c.PublicURL = true, "10.0.0.1:443", "10.0.0.2:443", "https://10.0.0.1:443"
		})},
		{"OKHTTPRedirectBothPortsZero", []string{"--tls-self-signed", "--listen", "127.0.0.1:0", "--http-redirect", "127.0.0.1:0"}, nil, want(func(c *Config) {
			c.TLSSelfSigned, c.Listen, c.HTTPRedirect, c.PublicURL = true, "127.0.0.1:0", "127.0.0.1:0", "https://127.0.0.1:0"
		})},

		// True/false flags.
		{"OKBoolEqualsTrue", []string{"--debuggable=true"}, nil, want(func(c *Config) { c.Debuggable = true })},
		{"OKBoolEqualsFalse", []string{"--debuggable=false"}, nil, want(nil)},
		{"OKBoolEqualsYes", []string{"--quiet-audit=YES"}, nil, want(func(c *Config) { c.QuietAudit = true })},
		{"OKBoolSingleDash", []string{"-healthcheck"}, nil, want(func(c *Config) { c.Healthcheck = true })},
		{"OKBoolLastWins", []string{"--debuggable", "--debuggable=0"}, nil, want(nil)},
		{"OKBoolThenFlag", []string{"--quiet-audit", "--idle", "1h"}, nil, want(func(c *Config) {
			c.QuietAudit, c.Idle = true, time.Hour
		})},

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
		{"OKCreateAllowMappedPrefix", []string{"--create-allow", "::ffff:10.0.0.0/104"}, nil, want(func(c *Config) {
			c.CreateAllow = prefixes("10.0.0.0/8")
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
			"OTSLITE_LISTEN":            "0.0.0.0:9000",
			"OTSLITE_PUBLIC_URL":        "https://ots.example.com/",
			"OTSLITE_DEFAULT_TTL":       "2h",
			"OTSLITE_MAX_TTL":           "14d",
			"OTSLITE_MAX_SECRET_SIZE":   "1MiB",
			"OTSLITE_MAX_FILE_SIZE":     "20MiB",
			"OTSLITE_MAX_SECRETS":       "50",
			"OTSLITE_MAX_BYTES":         "1GB",
			"OTSLITE_RATE_LIMIT":        "0",
			"OTSLITE_RATE_WINDOW":       "1h",
			"OTSLITE_PASSPHRASE_MIN":    "8",
			"OTSLITE_PASSPHRASE_MAX":    "64",
			"OTSLITE_TRUSTED_PROXY":     "10.0.0.0/8,::1",
			"OTSLITE_IDLE":              "0",
			"OTSLITE_LIFETIME":          "1d",
			"OTSLITE_EXIT_WHEN_DRAINED": "yes",
			"OTSLITE_CREATE_ALLOW":      "10.0.0.0/8",
			"OTSLITE_GRACE":             "10s",
			"OTSLITE_ADMIN_TOKEN":       "0123456789abcdef",
			"OTSLITE_TLS_SELF_SIGNED":   "on",
			"OTSLITE_HTTP_REDIRECT":     "0.0.0.0:80",
			"OTSLITE_DEBUGGABLE":        "1",
			"OTSLITE_HEALTHCHECK":       "TRUE",
		}, Config{
			Listen:          "0.0.0.0:9000",
			PublicURL:       "https://ots.example.com",
			Idle:            0,
			Lifetime:        day,
			ExitWhenDrained: true,
			CreateAllow:     prefixes("10.0.0.0/8"),
			Grace:           10 * time.Second,
			AdminToken:      "0123456789abcdef",
			TLSSelfSigned:   true,
			HTTPRedirect:    "0.0.0.0:80",
			Debuggable:      true,
			Healthcheck:     true,
			DefaultTTL:      2 * time.Hour,
			MaxTTL:          14 * day,
			MaxSecretSize:   1 << 20,
			MaxFileSize:     20 << 20,
			MaxSecrets:      50,
			MaxBytes:        1 << 30,
			RateLimit:       0,
			RateWindow:      time.Hour,
			PassphraseMin:   8,
			PassphraseMax:   64,
			TrustedProxies:  prefixes("10.0.0.0/8", "::1/128"),
		}},
		{"OKEnvEmptyIsUnset", nil, map[string]string{"OTSLITE_MAX_TTL": ""}, want(nil)},
		{"OKFlagBeatsEnv", []string{"--max-ttl", "3d"}, map[string]string{"OTSLITE_MAX_TTL": "2d"}, want(func(c *Config) {
			c.MaxTTL = 3 * day
		})},
		{"OKFlagBeatsBadEnv", []string{"--max-ttl", "3d"}, map[string]string{"OTSLITE_MAX_TTL": "junk"}, want(func(c *Config) {
			c.MaxTTL = 3 * day
		})},
		{"OKCreateTokens", []string{"--create-token", "alice:alice-first-token-0001", "--create-token", "bob:bob-only-token-000003, carol:carol-token-00000004"}, nil, want(func(c *Config) {
			c.CreateTokens = []string{"alice:alice-first-token-0001", "bob:bob-only-token-000003", "carol:carol-token-00000004"}
		})},
		{"OKCreateTokensEnv", nil, map[string]string{"OTSLITE_CREATE_TOKENS": "alice:alice-first-token-0001,bob:bob-only-token-000003", "OTSLITE_TOKEN_FILE": "/run/tokens"}, want(func(c *Config) {
			c.CreateTokens = []string{"alice:alice-first-token-0001", "bob:bob-only-token-000003"}
			c.TokenFile = "/run/tokens"
		})},
		{"OKCreateTokenFlagBeatsEnv", []string{"--create-token", "bob:bob-only-token-000003"}, map[string]string{"OTSLITE_CREATE_TOKENS": "alice:alice-first-token-0001"}, want(func(c *Config) {
			c.CreateTokens = []string{"bob:bob-only-token-000003"}
		})},
		{"OKAllowLists", []string{"--create-allow", "10.0.0.0/8,fd00::/8", "--reveal-allow", "127.0.0.1", "--reveal-allow", "::1"}, nil, want(func(c *Config) {
			c.CreateAllow = prefixes("10.0.0.0/8", "fd00::/8")
			c.RevealAllow = prefixes("127.0.0.1/32", "::1/128")
		})},
		{"OKRevealHours", []string{"--reveal-hours", "mon-fri 8:00-18:00  Europe/Paris"}, nil, want(func(c *Config) {
			c.RevealHours = "Mon-Fri 08:00-18:00 Europe/Paris"
		})},
		{"OKRevealHoursAlways", nil, map[string]string{"OTSLITE_REVEAL_HOURS": "always"}, want(nil)},
		{"OKQuietAudit", nil, map[string]string{"OTSLITE_QUIET_AUDIT": "yes"}, want(func(c *Config) { c.QuietAudit = true })},
		{"OKTrustedProxyFlagBeatsEnv", []string{"--trusted-proxy", "10.0.0.1"}, map[string]string{"OTSLITE_TRUSTED_PROXY": "10.0.0.2,10.0.0.3"}, want(func(c *Config) {
			c.TrustedProxies = prefixes("10.0.0.1/32")
		})},
		{"OKEnvListenDerivesPublicURL", nil, map[string]string{"OTSLITE_LISTEN": "[::]:7143"}, want(func(c *Config) {
			c.Listen = "[::]:7143"
		})},
		{"OKEnvTLSFiles", nil, map[string]string{"OTSLITE_TLS_CERT": "/c.pem", "OTSLITE_TLS_KEY": "/k.pem"}, want(func(c *Config) {
			c.TLSCert, c.TLSKey, c.PublicURL = "/c.pem", "/k.pem", "https://127.0.0.1:7143"
		})},
		{"OKEnvBoolFalse", nil, map[string]string{"OTSLITE_DEBUGGABLE": "Off", "OTSLITE_HEALTHCHECK": "no", "OTSLITE_EXIT_WHEN_DRAINED": "0", "OTSLITE_TLS_SELF_SIGNED": "FALSE"}, want(nil)},
		{"OKEnvBoolSpaces", nil, map[string]string{"OTSLITE_DEBUGGABLE": " on "}, want(func(c *Config) { c.Debuggable = true })},
		{"OKBoolFlagBeatsEnv", []string{"--debuggable=false"}, map[string]string{"OTSLITE_DEBUGGABLE": "1"}, want(nil)},
		{"OKBoolFlagBeatsBadEnv", []string{"--healthcheck"}, map[string]string{"OTSLITE_HEALTHCHECK": "maybe"}, want(func(c *Config) { c.Healthcheck = true })},
		{"OKEnvLifetimeFlagTTL", []string{"--default-ttl", "10m"}, map[string]string{"OTSLITE_LIFETIME": "10m"}, want(func(c *Config) {
			c.DefaultTTL, c.Lifetime = 10*time.Minute, 10*time.Minute
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
		{"ErrUnknownFlag", []string{"--nope"}, nil, `unknown flag --nope (otslite -h lists the flags)`},
		{"ErrUnknownFlagSingleDash", []string{"-public_url", "x"}, nil, `unknown flag --public_url (otslite -h lists the flags)`},
		{"ErrMissingValue", []string{"--max-ttl"}, nil, `--max-ttl needs a value (otslite -h lists the flags)`},

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
		{"ErrMaxFileSizeTooLarge", []string{"--max-file-size", "65MiB"}, nil, `--max-file-size: "65MiB": must be between 0 B (no files) and 64 MiB`},
		{"ErrMaxFileSizeAboveMaxBytes", []string{"--max-file-size", "8MiB", "--max-bytes", "4MiB"}, nil, `--max-file-size: "8MiB": must not exceed --max-bytes (4MiB)`},
		{"ErrMaxBytesTooLarge", []string{"--max-bytes", "9999999999G"}, nil, `--max-bytes: "9999999999G": too large`},

		{"ErrRateLimitNegative", []string{"--rate-limit", "-1"}, nil, `--rate-limit: "-1": must not be negative (0 turns it off)`},
		{"ErrRateWindowZero", []string{"--rate-window", "0s"}, nil, `--rate-window: "0s": must be longer than 0s`},

		{"ErrPassphraseMinNegative", []string{"--passphrase-min", "-1"}, nil, `--passphrase-min: "-1": must not be negative`},
		{"ErrPassphraseMaxZero", []string{"--passphrase-max", "0", "--passphrase-min", "0"}, nil, `--passphrase-max: "0": must be between 1 and 1024`},
		{"ErrPassphraseMaxTooLarge", []string{"--passphrase-max", "1025"}, nil, `--passphrase-max: "1025": must be between 1 and 1024`},
		{"ErrPassphraseMinAboveMax", []string{"--passphrase-min", "200"}, nil, `--passphrase-min: "200": must not exceed --passphrase-max (128)`},
		{"ErrPassphraseMaxBelowMin", []string{"--passphrase-max", "2"}, nil, `--passphrase-max: "2": must not be below --passphrase-min (4)`},

		{"ErrCreateTokenNoColon", []string{"--create-token", "alice-first-token-0001"}, nil, `--create-token: "<hidden>": want user:token`},
		{"ErrCreateTokenShort", []string{"--create-token", "alice:s3cr3t"}, nil, `--create-token: "<hidden>": the token of user "alice" must be 16 to 256 printable characters without spaces or ','`},
		{"ErrCreateTokensEnv", nil, map[string]string{"OTSLITE_CREATE_TOKENS": "alice:alice-first-token-0001,bob:s3cr3t"}, `OTSLITE_CREATE_TOKENS: "<hidden>": the token of user "bob" must be 16 to 256 printable characters without spaces or ','`},
		{"ErrCreateAllow", []string{"--create-allow", "10.0.0.0/33"}, nil, `--create-allow: "10.0.0.0/33": "10.0.0.0/33" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrRevealAllow", nil, map[string]string{"OTSLITE_REVEAL_ALLOW": "lan"}, `OTSLITE_REVEAL_ALLOW: "lan": "lan" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrRevealHoursZone", []string{"--reveal-hours", "Mon-Fri 08:00-18:00 Europe/Pariss"}, nil, `--reveal-hours: "Mon-Fri 08:00-18:00 Europe/Pariss": "Europe/Pariss" is not a known time zone (example: Mon-Fri 08:00-18:00 Europe/Paris)`},
		{"ErrRevealHoursRange", []string{"--reveal-hours", "Mon-Fri 8-18"}, nil, `--reveal-hours: "Mon-Fri 8-18": "8-18": "8" is not a time of day (HH:MM, 00:00 to 24:00) (example: Mon-Fri 08:00-18:00 Europe/Paris)`},
		{"ErrTrustedProxyBad", []string{"--trusted-proxy", "10.0.0.300"}, nil, `--trusted-proxy: "10.0.0.300": "10.0.0.300" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrTrustedProxyBadInList", []string{"--trusted-proxy", "10.0.0.1,proxy.local"}, nil, `--trusted-proxy: "10.0.0.1,proxy.local": "proxy.local" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrTrustedProxyBadBits", []string{"--trusted-proxy", "10.0.0.0/33"}, nil, `--trusted-proxy: "10.0.0.0/33": "10.0.0.0/33" is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)`},
		{"ErrIdleNegative", []string{"--idle", "-1m"}, nil, `--idle: "-1m": must not be negative`},
		{"ErrExitWhenDrainedOpen", []string{"--exit-when-drained"}, nil, `--exit-when-drained: "true": needs creating limited, by --create-allow (e.g. 127.0.0.1) or create tokens; otherwise anyone who can reach otslite can end the session by creating and reading a secret of their own`},
		{"ErrExitWhenDrainedOpenEnv", nil, map[string]string{"OTSLITE_EXIT_WHEN_DRAINED": "on"}, `OTSLITE_EXIT_WHEN_DRAINED: "on": needs creating limited, by --create-allow (e.g. 127.0.0.1) or create tokens; otherwise anyone who can reach otslite can end the session by creating and reading a secret of their own`},
		{"ErrIdleNotDuration", []string{"--idle", "soon"}, nil, `--idle: "soon": not a duration (examples: 90s, 1h, 7d)`},
		{"ErrLifetimeTooShort", []string{"--lifetime", "59s", "--default-ttl", "1m"}, nil, `--lifetime: "59s": must be at least 1m (0 turns it off)`},
		{"ErrLifetimeNegative", []string{"--lifetime", "-1h"}, nil, `--lifetime: "-1h": must not be negative`},
		{"ErrLifetimeBelowDefaultTTL", []string{"--lifetime", "30m"}, nil, `--lifetime: "30m": must not be below --default-ttl (1h)`},
		{"ErrDefaultTTLAboveLifetime", []string{"--default-ttl", "1h", "--lifetime", "30m"}, nil, `--default-ttl: "1h": must not exceed --lifetime (30m)`},
		{"ErrDefaultTTLAboveEnvLifetime", []string{"--default-ttl", "2h"}, map[string]string{"OTSLITE_LIFETIME": "1h"}, `--default-ttl: "2h": must not exceed OTSLITE_LIFETIME (1h)`},
		{"ErrGraceTooLong", []string{"--grace", "61s"}, nil, `--grace: "61s": must be between 0s and 1m`},
		{"ErrGraceNegative", []string{"--grace", "-1s"}, nil, `--grace: "-1s": must not be negative`},

		{"ErrAdminTokenShort", []string{"--admin-token", "hunter2hunter2"}, nil, `--admin-token: "<hidden>": must be at least 16 characters`},
		{"ErrAdminTokenSpace", []string{"--admin-token", "correct horse battery staple"}, nil, `--admin-token: "<hidden>": must be printable ASCII without spaces`},
		{"ErrAdminTokenNonASCII", []string{"--admin-token", "pässwörtpässwörtpässwört"}, nil, `--admin-token: "<hidden>": must be printable ASCII without spaces`},
		{"ErrAdminTokenControl", []string{"--admin-token", "0123456789abcdef\x00"}, nil, `--admin-token: "<hidden>": must be printable ASCII without spaces`},
		{"ErrEnvAdminTokenShort", nil, map[string]string{"OTSLITE_ADMIN_TOKEN": "hunter2"}, `OTSLITE_ADMIN_TOKEN: "<hidden>": must be at least 16 characters`},

		{"ErrTLSCertWithoutKey", []string{"--tls-cert", "c.pem"}, nil, `--tls-cert: "c.pem": needs --tls-key too`},
		{"ErrTLSKeyWithoutCert", []string{"--tls-key", "k.pem"}, nil, `--tls-key: "k.pem": needs --tls-cert too`},
		{"ErrEnvTLSKeyWithoutCert", nil, map[string]string{"OTSLITE_TLS_KEY": "k.pem"}, `OTSLITE_TLS_KEY: "k.pem": needs --tls-cert too`},
		{"ErrTLSSelfSignedWithFiles", []string{"--tls-self-signed", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, nil, `--tls-self-signed: "true": cannot be used with --tls-cert and --tls-key`},
		{"ErrEnvTLSSelfSignedWithFiles", []string{"--tls-cert", "c.pem", "--tls-key", "k.pem"}, map[string]string{"OTSLITE_TLS_SELF_SIGNED": "yes"}, `OTSLITE_TLS_SELF_SIGNED: "yes": cannot be used with --tls-cert and --tls-key`},

		{"ErrHTTPRedirectNoTLS", []string{"--http-redirect", "0.0.0.0:80"}, nil, `--http-redirect: "0.0.0.0:80": needs TLS: set --tls-cert and --tls-key, or --tls-self-signed`},
		{"ErrHTTPRedirectNoPort", []string{"--tls-self-signed", "--http-redirect", "0.0.0.0"}, nil, `--http-redirect: "0.0.0.0": want host:port, e.g. 0.0.0.0:80`},
		{"ErrHTTPRedirectNamedPort", []string{"--tls-self-signed", "--http-redirect", ":http"}, nil, `--http-redirect: ":http": want host:port, e.g. 0.0.0.0:80`},
		{"ErrHTTPRedirectPortRange", []string{"--tls-self-signed", "--http-redirect", ":99999"}, nil, `--http-redirect: ":99999": want host:port, e.g. 0.0.0.0:80`},
		{"ErrHTTPRedirectHTTPPublicURL", []string{"--tls-self-signed", "--public-url", "http://ots.lan", "--http-redirect", ":80"}, nil, `--http-redirect: ":80": redirects to --public-url, which must start with https://`},
		{"ErrHTTPRedirectSamePort", []string{"--tls-self-signed", "--http-redirect", ":7143"}, nil, `--http-redirect: ":7143": must not use the port of --listen (127.0.0.1:7143)`},
		{"ErrHTTPRedirectSameAddr", []string{"--tls-self-signed", "--listen", "10.0.0.1:443", "--http-redirect", "10.0.0.1:443"}, nil, `--http-redirect: "10.0.0.1:443": must not use the port of --listen (10.0.0.1:443)`},

		{"ErrBoolValue", []string{"--debuggable=maybe"}, nil, `--debuggable: "maybe": not true or false (use 1, true, yes, on or 0, false, no, off)`},
		{"ErrBoolEmptyValue", []string{"--healthcheck="}, nil, `--healthcheck: "": not true or false (use 1, true, yes, on or 0, false, no, off)`},
		{"ErrBoolSeparateValue", []string{"--debuggable", "false"}, nil, `unexpected argument "false": otslite takes only flags (write --debuggable=false)`},
		{"ErrBoolSeparateValueSingleDash", []string{"-healthcheck", "yes"}, nil, `unexpected argument "yes": otslite takes only flags (write -healthcheck=yes)`},
		{"ErrNotBoolSeparateValue", []string{"--debuggable", "junk"}, nil, `unexpected argument "junk": otslite takes only flags`},
		{"ErrBoolAfterTerminator", []string{"--", "true"}, nil, `unexpected argument "true": otslite takes only flags`},
		{"ErrEnvBool", nil, map[string]string{"OTSLITE_EXIT_WHEN_DRAINED": "2"}, `OTSLITE_EXIT_WHEN_DRAINED: "2": not true or false (use 1, true, yes, on or 0, false, no, off)`},
		{"ErrEnvBoolWord", nil, map[string]string{"OTSLITE_TLS_SELF_SIGNED": "enabled"}, `OTSLITE_TLS_SELF_SIGNED: "enabled": not true or false (use 1, true, yes, on or 0, false, no, off)`},

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
	// Grouped under headings, the flags of the server, its sessions, access
	// and shared store take one screen of a 34-line terminal.
	if len(lines) > 34 {
		t.Errorf("usage has %d lines; want at most 34", len(lines))
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

// usageFlags reads the flag names at the start of a usage line:
// "--a, --b" or "--name-x, -y" (for --name-y).
func usageFlags(col string) []string {
	var names []string
	for _, f := range strings.Split(col, ", ") {
		switch {
		case strings.HasPrefix(f, "--"):
			names = append(names, strings.TrimPrefix(f, "--"))
		case strings.HasPrefix(f, "-") && len(names) > 0:
			prev := names[len(names)-1]
			names = append(names, prev[:strings.LastIndex(prev, "-")]+f)
		default:
			names = append(names, "?"+f)
		}
	}
	return names
}

// TestUsageMatchesFlags keeps the hand-written usage in step with the flags:
// every flag is listed once, in order, and the defaults a line shows are the
// defaults. True/false flags show none and default to false.
func TestUsageMatchesFlags(t *testing.T) {
	var c Config
	opts := c.options()
	var names []string
	byName := map[string]*option{}
	for _, o := range opts {
		names = append(names, o.name)
		byName[o.name] = o
	}
	d := defaultConfig()
	defaults := d.options()
	var listed []string
	for _, l := range strings.Split(usage, "\n") {
		if !strings.HasPrefix(l, "  -") {
			continue
		}
		col, desc, ok := strings.Cut(strings.TrimPrefix(l, "  "), "  ")
		if !ok {
			t.Errorf("usage line has no description: %q", l)
			continue
		}
		flags := usageFlags(col)
		listed = append(listed, flags...)
		_, def, hasDef := strings.Cut(desc, "(default ")
		var defs []string
		if hasDef {
			if !strings.HasSuffix(def, ")") {
				t.Errorf("usage line %q: default does not end the line", l)
				continue
			}
			defs = strings.Split(strings.TrimSuffix(def, ")"), ", ")
		}
		for i, name := range flags {
			o := byName[name]
			if o == nil {
				t.Errorf("usage lists --%s, which is not a flag", name)
				continue
			}
			if o.IsBoolFlag() {
				if hasDef {
					t.Errorf("usage shows a default for true/false flag --%s: %q", name, l)
				}
				if d := defaults[slices.Index(names, name)].String(); d != "false" {
					t.Errorf("true/false flag --%s defaults to %s; want false", name, d)
				}
				continue
			}
			if len(defs) != len(flags) {
				t.Errorf("usage line for %q shows %d defaults; want %d: %q", flags, len(defs), len(flags), l)
				break
			}
			switch d := defs[i]; {
			case name == "public-url":
				// Derived; covered by TestParseConfig.
			case d == "none" || name == "admin-token" && d == "random" || strings.HasSuffix(name, "-allow") && d == "any":
				if got := defaults[slices.Index(names, name)].String(); got != "" {
					t.Errorf("usage shows --%s default %q, but it is %q", name, d, got)
				}
			default:
				if got := MustParse(t, []string{"--" + name + "=" + d}, nil); !reflect.DeepEqual(got, want(nil)) {
					t.Errorf("usage shows --%s default %q, but it is not the default", name, d)
				}
			}
		}
	}
	if !slices.Equal(listed, names) {
		t.Errorf("usage lists flags %q; want %q in that order", listed, names)
	}
}

func TestUsageFlags(t *testing.T) {
	for col, want := range map[string][]string{
		"--listen":               {"listen"},
		"--tls-cert, --tls-key":  {"tls-cert", "tls-key"},
		"--passphrase-min, -max": {"passphrase-min", "passphrase-max"},
		"--max-secrets, -bytes":  {"max-secrets", "max-bytes"},
	} {
		if got := usageFlags(col); !slices.Equal(got, want) {
			t.Errorf("usageFlags(%q) = %q; want %q", col, got, want)
		}
	}
}

func TestEnvNames(t *testing.T) {
	var asked []string
	_, err := ParseConfig(nil, func(k string) string { asked = append(asked, k); return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"OTSLITE_LISTEN", "OTSLITE_PUBLIC_URL", "OTSLITE_TLS_CERT", "OTSLITE_TLS_KEY", "OTSLITE_TLS_SELF_SIGNED",
		"OTSLITE_HTTP_REDIRECT", "OTSLITE_TRUSTED_PROXY", "OTSLITE_DEFAULT_TTL", "OTSLITE_MAX_TTL",
		"OTSLITE_MAX_SECRET_SIZE", "OTSLITE_MAX_FILE_SIZE", "OTSLITE_MAX_SECRETS", "OTSLITE_MAX_BYTES", "OTSLITE_PASSPHRASE_MIN",
		"OTSLITE_PASSPHRASE_MAX", "OTSLITE_RATE_LIMIT", "OTSLITE_RATE_WINDOW",
		"OTSLITE_IDLE", "OTSLITE_LIFETIME", "OTSLITE_EXIT_WHEN_DRAINED", "OTSLITE_GRACE",
		"OTSLITE_ADMIN_TOKEN", "OTSLITE_CREATE_TOKENS", "OTSLITE_TOKEN_FILE", "OTSLITE_CREATE_ALLOW",
		"OTSLITE_REVEAL_ALLOW", "OTSLITE_REVEAL_HOURS", "OTSLITE_QUIET_AUDIT", "OTSLITE_REDIS", "OTSLITE_KEY_FILE",
		"OTSLITE_REDIS_PASSWORD_FILE", "OTSLITE_REDIS_ALLOW_PERSISTENCE", "OTSLITE_DEBUGGABLE", "OTSLITE_HEALTHCHECK",
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
		"ends after 30m idle (no secret waiting, none created or opened); no fixed lifetime; keeps running when drained",
		"in-flight requests get 5s to finish at the end",
		"TLS: off",
		"creating needs no token",
		"secrets may be created from any address, opened from any address, at any time",
		"audit: JSON lines on stderr",
	}
	if !slices.Equal(got, wantLines) {
		t.Errorf("Summary() =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantLines, "\n"))
	}

	for _, args := range [][]string{{"--listen", "0.0.0.0:7143", "--public-url", "http://192.168.1.20:7143"}, {"--listen", "127.0.0.1:7143"}, {"--listen", "192.168.1.20:7143"}} {
		if s := strings.Join(MustParse(t, args, nil).Summary(), "\n"); strings.Contains(s, "WARNING") {
			t.Errorf("%q: a warning where links work:\n%s", args, s)
		}
	}

	c := MustParse(t, []string{"--rate-limit", "0", "--trusted-proxy", "10.0.0.0/8,::1"}, nil)
	s := strings.Join(c.Summary(), "\n")
	for _, w := range []string{"rate limit: off", "trusted proxies: 10.0.0.0/8,::1/128"} {
		if !strings.Contains(s, w) {
			t.Errorf("Summary() lacks %q:\n%s", w, s)
		}
	}

	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"Session", []string{"--idle", "0", "--lifetime", "2h", "--exit-when-drained", "--create-allow", "::1", "--grace", "0s"}, []string{
			"never ends for being idle; ends 2h after start; ends when drained (a secret was made and none is left to read)",
			"in-flight requests are cut off at the end",
		}},
		{"TLSFiles", []string{"--tls-cert", "/etc/ots/cert.pem", "--tls-key", "/etc/ots/key.pem"}, []string{
			"TLS: certificate from /etc/ots/cert.pem",
		}},
		{"TLSSelfSignedRedirect", []string{"--tls-self-signed", "--public-url", "https://ots.lan", "--http-redirect", ":80"}, []string{
			"TLS: self-signed; plain HTTP on :80 redirects to https://ots.lan",
		}},
		{"Access", []string{"--create-token", "alice:alice-first-token-0001,bob:bob-only-token-000003,alice:alice-second-token-002",
			"--token-file", "/run/tokens", "--create-allow", "10.0.0.0/8", "--reveal-allow", "127.0.0.1,::1",
			"--reveal-hours", "Mon-Fri 08:00-18:00 Europe/Paris", "--quiet-audit"}, []string{
			"creating needs a token: 3 given (users alice, bob), more in /run/tokens",
			"secrets may be created from 10.0.0.0/8, opened from 127.0.0.1/32,::1/128, Mon-Fri 08:00-18:00 Europe/Paris",
			"audit: quiet on stderr",
		}},
		{"TokenFile", []string{"--token-file", "/run/tokens"}, []string{"creating needs a token from /run/tokens"}},
		{"Debuggable", []string{"--debuggable"}, []string{
			"WARNING: --debuggable: the process can be dumped or traced; for development only",
		}},
		{"LoopbackLinksIPv6", []string{"--listen", "[::]:7143"}, []string{
			"WARNING: listening on every interface, but links start with http://127.0.0.1:7143, which opens only on this machine: set --public-url to an address recipients can reach (e.g. http://<this machine's LAN address>:7143)",
		}},
		{"LoopbackLinksLocalhostTLS", []string{"--listen", "0.0.0.0:8443", "--public-url", "https://localhost:8443", "--tls-self-signed"}, []string{
			"WARNING: listening on every interface, but links start with https://localhost:8443, which opens only on this machine: set --public-url to an address recipients can reach (e.g. https://<this machine's LAN address>:8443)",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := MustParse(t, tt.args, nil).Summary()
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("Summary() lacks %q:\n%s", w, strings.Join(got, "\n"))
				}
			}
		})
	}
}

// TestAdminTokenHidden checks that the token reaches no error and no
// summary line, however the configuration fails.
func TestConfigAdminTokenHidden(t *testing.T) {
	const token = "Sup3rSecretT0ken-XYZ"
	for _, args := range [][]string{
		{"--admin-token", token},
		{"--admin-token", token, "--max-ttl", "7x"},
		{"--admin-token", token, "--tls-cert", "c.pem"},
		{"--admin-token", token + " "},
		{"--admin-token", token[:10]},
		{"--admin-token=" + token[:10], "--admin-token", token[:15]},
	} {
		c, err := parse(t, args, nil)
		var text string
		if err != nil {
			text = err.Error()
		} else {
			text = strings.Join(c.Summary(), "\n")
		}
		for _, part := range []string{token, token[:10], token[:15]} {
			if strings.Contains(text, part) {
				t.Errorf("ParseConfig(%q) shows the admin token: %s", args, text)
			}
		}
	}
	env := map[string]string{"OTSLITE_ADMIN_TOKEN": token[:12]}
	if _, err := parse(t, nil, env); err == nil || strings.Contains(err.Error(), token[:12]) {
		t.Errorf("ParseConfig with a short OTSLITE_ADMIN_TOKEN: %v; want an error without the token", err)
	}
}

// TestConfigCreateTokensHidden checks that create tokens reach no error
// and no summary line, however the configuration fails.
func TestConfigCreateTokensHidden(t *testing.T) {
	const token = "Cr3ateT0ken-ABCDEFGH"
	for _, args := range [][]string{
		{"--create-token", "alice:" + token},
		{"--create-token", "alice:" + token, "--max-ttl", "7x"},
		{"--create-token", "alice:" + token + ",bob:" + token[:10]},
		{"--create-token", "alice:" + token + " x"},
		{"--create-token", token},
		{"--create-token", "al ice:" + token},
		{"--create-token", "alice:" + token, "--create-token", "alice:" + token[:15]},
	} {
		c, err := parse(t, args, nil)
		var text string
		if err != nil {
			text = err.Error()
		} else {
			text = strings.Join(c.Summary(), "\n") + tokensValue{&c.CreateTokens}.String()
		}
		for _, part := range []string{token, token[:10], token[:15]} {
			if strings.Contains(text, part) {
				t.Errorf("ParseConfig(%q) shows a create token: %s", args, text)
			}
		}
	}
	env := map[string]string{"OTSLITE_CREATE_TOKENS": "alice:" + token[:12]}
	if _, err := parse(t, nil, env); err == nil || strings.Contains(err.Error(), token[:12]) {
		t.Errorf("ParseConfig with a short OTSLITE_CREATE_TOKENS: %v; want an error without the token", err)
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string]bool{
		"1": true, "true": true, "TRUE": true, "True": true, "yes": true, "Yes": true, "on": true, "ON": true,
		"0": false, "false": false, "FALSE": false, "no": false, "NO": false, "off": false, "Off": false, " yes ": true,
	} {
		if got, err := parseBool(in); err != nil || got != want {
			t.Errorf("parseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "2", "-1", "y", "n", "t", "f", "enabled", "truefalse", "o"} {
		if got, err := parseBool(in); err == nil {
			t.Errorf("parseBool(%q) = %v; want an error", in, got)
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
	// ends after 30m idle (no secret waiting, none created or opened); no fixed lifetime; keeps running when drained
	// in-flight requests get 5s to finish at the end
	// TLS: off
	// creating needs no token
	// secrets may be created from any address, opened from any address, at any time
	// audit: JSON lines on stderr
	// WARNING: listening on every interface, but links start with http://127.0.0.1:8080, which opens only on this machine: set --public-url to an address recipients can reach (e.g. http://<this machine's LAN address>:8080)
}

func ExampleConfig_Summary_tls() {
	c, err := ParseConfig([]string{"--tls-self-signed", "--listen", "0.0.0.0:443", "--http-redirect", "0.0.0.0:80",
		"--lifetime", "8h", "--idle", "0", "--exit-when-drained", "--create-allow", "192.168.1.0/24"}, nil, io.Discard)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range c.Summary()[6:9] {
		fmt.Println(l)
	}
	// Output:
	// never ends for being idle; ends 8h after start; ends when drained (a secret was made and none is left to read)
	// in-flight requests get 5s to finish at the end
	// TLS: self-signed; plain HTTP on 0.0.0.0:80 redirects to https://127.0.0.1:443
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

// FuzzPrefixes: any --trusted-proxy, --create-allow or --reveal-allow
// value is read without panicking; what it yields is masked, IPv4 as IPv4,
// without zones, and reads back the same from its String form.
func FuzzPrefixes(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.1.2.3/8, fd00::/8,", "::ffff:10.0.0.1", "::ffff:10.0.0.0/104", "::1/128",
		"fe80::1%eth0", "10.0.0.0/33", "1.2.3.4/0", ",,", "0.0.0.0/0,::/0", "2001:db8::/129", " 192.168.0.0/16 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var ps []netip.Prefix
		if err := (prefixesValue{&ps}).Set(s); err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
			return
		}
		for _, p := range ps {
			if !p.IsValid() || p != p.Masked() || p.Addr().Zone() != "" || p.Addr().Is4In6() {
				t.Fatalf("Set(%q) gave %v", s, p)
			}
		}
		var again []netip.Prefix
		if err := (prefixesValue{&again}).Set(prefixesValue{&ps}.String()); err != nil || !slices.Equal(again, ps) {
			t.Fatalf("Set(%q) = %v; its String %q reads back as %v, %v", s, ps, prefixesValue{&ps}.String(), again, err)
		}
	})
}

func FuzzParseBool(f *testing.F) {
	for _, s := range []string{"1", "0", "true", "FALSE", "yes", "No", "on", "OFF", "", "2", " on ", "tru\u0130"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBool(s)
		if err != nil {
			return
		}
		w := strings.ToLower(strings.TrimSpace(s))
		if !slices.Contains([]string{"1", "true", "yes", "on", "0", "false", "no", "off"}, w) {
			t.Fatalf("parseBool(%q) = %v; want an error", s, b)
		}
		if c, err := parseBool(strconv.FormatBool(b)); err != nil || c != b {
			t.Fatalf("parseBool(FormatBool(%v)) = %v, %v", b, c, err)
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
