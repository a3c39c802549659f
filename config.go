// Configuration: the flags otslite takes, their OTSLITE_* environment
// equivalents, and the checks that run before anything starts.
//
// Rules for this file:
//   - A flag on the command line wins over its OTSLITE_* variable, which wins
//     over the default. An empty variable counts as unset.
//   - Every error is one line naming where the value came from (--flag or
//     OTSLITE_VAR) and quoting it as given, then what is wrong:
//     --max-ttl: "7x": not a duration (examples: 90s, 1h, 7d)
//     The admin token is the exception: it is quoted as "<hidden>".
//   - Errors are returned, never printed; only -h writes (the usage text).
//   - The usage text is written by hand and must fit one 80x24 screen. Tests
//     keep it in step with the flags and their defaults.
//   - No globals: ParseConfig builds a fresh flag set on every call.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"otslite/handler/access"
	"otslite/store/resp"
)

// Config is everything otslite is told at startup.
type Config struct {
	Listen         string         // host:port to serve on
	PublicURL      string         // base of secret links, no trailing '/'
	DefaultTTL     time.Duration  // lifetime of a secret that asks for none
	MaxTTL         time.Duration  // longest lifetime a secret may ask for
	MaxSecretSize  int            // largest secret, bytes
	MaxFileSize    int            // files (and text) one zero-knowledge secret carries; 0 = none
	MaxSecrets     int            // most secrets held at once
	MaxBytes       int64          // most secret bytes held at once
	RateLimit      int            // requests per client IP per window, per endpoint; 0 = off
	RateWindow     time.Duration  // window of the rate limit
	PassphraseMin  int            // shortest passphrase, characters
	PassphraseMax  int            // longest passphrase, characters
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For is believed

	// The session.
	Idle            time.Duration // end after this long idle (see session.go); 0 = never
	Lifetime        time.Duration // end this long after start; 0 = never
	ExitWhenDrained bool          // end once no secret is left to read
	Grace           time.Duration // time in-flight requests get at the end

	// AdminToken authorizes the operator's requests; "" asks main to make
	// one. It is a Go string, unlike user secrets: it guards the session,
	// not a secret's content. It never appears in errors or Summary.
	AdminToken string

	// Access policy and audit. Create tokens given as flags or in the
	// environment are Go strings (so is all of os.Args); main hashes them
	// and reads --token-file without ever making one. They never appear in
	// errors or Summary.
	CreateTokens []string       // "user:token" entries that may create
	TokenFile    string         // more entries, one a line; re-read on SIGHUP
	CreateAllow  []netip.Prefix // who may create; empty: any address
	RevealAllow  []netip.Prefix // who may open secrets; empty: any address
	RevealHours  string         // when secrets may be opened, canonical; "": always
	QuietAudit   bool           // no audit lines on stderr (the admin view keeps them)

	// TLS: files (both or neither), or a certificate made in memory.
	TLSCert       string // PEM certificate chain, leaf first
	TLSKey        string // PEM private key
	TLSSelfSigned bool
	HTTPRedirect  string // host:port of a plain-HTTP listener redirecting to PublicURL

	// The shared store (see redis.go): a Redis URL, whose password may
	// come from OTSLITE_REDIS or a file but never the command line; the
	// process key every replica shares; whether a Redis that saves to
	// disk is accepted.
	Redis                 string
	KeyFile               string
	RedisPasswordFile     string
	RedisAllowPersistence bool

	Debuggable  bool // development only: leave the process dumpable
	Healthcheck bool // probe a running server and exit
	Version     bool // print the version and exit
}

// Limits that no flag can move.
const (
	day              = 24 * time.Hour
	minTTL           = time.Minute
	maxSecretSizeCap = 16 << 20
	maxFileSizeCap   = 64 << 20
	passphraseCap    = 1024
	minLifetime      = time.Minute
	maxGrace         = time.Minute
	minAdminToken    = 16 // characters
)

// usage is the -h text, its flags grouped under headings. A line may pair
// related flags (--a, --b, or --name-x, -y for --name-y) and then shows
// their defaults in that order; true/false flags show none. It must fit 34
// lines of 80 columns.
const usage = `otslite: share a secret once, gone after reading. Commands: otslite help.
Usage: otslite [flags]; OTSLITE_MAX_TTL sets --max-ttl, and so on (see README).
Serving:
  --listen                  host:port to serve on (default 127.0.0.1:7143)
  --public-url              base URL of links (default http[s]://<listen>)
  --tls-cert, -key          PEM files to serve HTTPS with (default none, none)
  --tls-self-signed         serve HTTPS with a 30-day in-memory certificate
  --http-redirect           host:port redirecting HTTP to HTTPS (default none)
  --trusted-proxy           IP/CIDRs that may set X-Forwarded-For (default none)
Secrets:
  --default-ttl, --max-ttl  secret lifetime: usual, longest (default 1h, 7d)
  --max-secret-size, --max-file-size  a secret; its files (default 64KiB, 10MiB)
  --max-secrets, -bytes     most secrets, bytes held (default 100000, 256MiB)
  --passphrase-min, -max    passphrase length, max 1024 (default 4, 128)
  --rate-limit, -window     per-IP cap per endpoint, 0=off (default 1000, 20m)
Session (a waiting secret keeps it open; see README):
  --idle, --lifetime        end after idle, total time; 0=off (default 30m, 0)
  --exit-when-drained       end once a secret was made and none is left
  --grace                   shutdown grace for requests, max 1m (default 5s)
  --admin-token             operator token, 16+ characters (default random)
Access and audit:
  --create-token, --token-file  user:token; file of them (default none, none)
  --create-allow, --reveal-allow  CIDRs that may create, open (default any, any)
  --reveal-hours            Mon-Fri 08:00-18:00 Europe/Paris (default always)
  --quiet-audit             no audit lines on stderr (admin view keeps them)
Shared store, for replicas (see README):
  --redis, --key-file       shared store URL, 64-hex key (default none, none)
  --redis-password-file     the Redis password, read from a file (default none)
  --redis-allow-persistence  use a Redis that saves to disk (see README)
Other:
  --debuggable              development only: leave the process dumpable
  --healthcheck, --version  probe the server, print the version; then exit
Durations: 90s, 1h30m, 7d. Sizes: 65536, 64KiB, 1M (K = KB = KiB = 1024).
`

func defaultConfig() Config {
	return Config{
		Listen:        "127.0.0.1:7143",
		DefaultTTL:    time.Hour,
		MaxTTL:        7 * day,
		MaxSecretSize: 64 << 10,
		MaxFileSize:   10 << 20,
		MaxSecrets:    100000,
		MaxBytes:      256 << 20,
		RateLimit:     1000,
		RateWindow:    20 * time.Minute,
		PassphraseMin: 4,
		PassphraseMax: 128,
		Idle:          30 * time.Minute,
		Grace:         5 * time.Second,
	}
}

// ParseConfig reads flags from args (without the program name) and the
// environment through getenv (nil means an empty environment).
// A flag given on the command line wins over its OTSLITE_* variable, which
// wins over the default. --trusted-proxy may be repeated, and it and its
// variable take comma-separated lists; bare IPs become /32 or /128 prefixes.
// For -h or --help it writes the usage text to out and returns flag.ErrHelp.
// Other errors are one line each and are not written anywhere.
func ParseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	c := defaultConfig()
	opts := c.options()

	fs := flag.NewFlagSet("otslite", flag.ContinueOnError)
	// The flag package would print its own wording of every error, followed
	// by usage; we return ours instead and print usage only on request.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	for _, o := range opts {
		fs.Var(o, o.name, "")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if _, werr := io.WriteString(out, usage); werr != nil {
				return Config{}, fmt.Errorf("failed to write usage: %w", werr)
			}
			return Config{}, flag.ErrHelp
		}
		for _, o := range opts {
			if o.err != nil {
				return Config{}, o.err
			}
		}
		return Config{}, flagError(err)
	}
	if fs.NArg() > 0 {
		return Config{}, unexpected(args[:len(args)-fs.NArg()], fs.Arg(0), opts)
	}

	if getenv != nil {
		for _, o := range opts {
			if o.from != "" || o.env == noEnv {
				continue // the command line wins
			}
			if v := getenv(o.envName()); v != "" {
				if err := o.set(o.envName(), v); err != nil {
					return Config{}, err
				}
			}
		}
	}

	if err := c.check(opts); err != nil {
		return Config{}, err
	}
	return c, nil
}

// flagError rewords the flag package's own errors and points at -h.
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return fmt.Errorf("unknown flag %s (otslite -h lists the flags)", "-"+name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return fmt.Errorf("%s needs a value (otslite -h lists the flags)", "-"+name)
	}
	return fmt.Errorf("%s (otslite -h lists the flags)", msg)
}

// unexpected reports arg, left over after the flags in before. A true/false
// word after a true/false flag gets a hint: the flag package reads
// "--debuggable false" as --debuggable and a stray "false".
func unexpected(before []string, arg string, opts []*option) error {
	err := fmt.Errorf("unexpected argument %q: otslite takes only flags", arg)
	if len(before) == 0 {
		return err
	}
	prev := before[len(before)-1]
	name := strings.TrimPrefix(strings.TrimPrefix(prev, "-"), "-")
	if _, berr := parseBool(arg); berr != nil || prev == name {
		return err
	}
	for _, o := range opts {
		if o.name == name && o.IsBoolFlag() {
			return fmt.Errorf("%w (write %s=%s)", err, prev, arg)
		}
	}
	return err
}

// option is one flag bound to a Config field, remembering how it was set so
// that errors can point at the right flag or variable.
type option struct {
	name  string     // flag name without dashes
	value flag.Value // writes through to the Config
	from  string     // "--name" or "OTSLITE_NAME" once set; "" for the default
	raw   string     // the text it was last set from
	err   error      // our error for a failed Set; the flag package rewords it

	hidden bool   // never quote the value in messages
	env    string // its variable, when not the usual OTSLITE_NAME; noEnv: none
}

// noEnv marks a flag that has no environment variable: --version, which
// would make every start print the version and exit.
const noEnv = "-"

// options binds every flag to its field in c, in usage order.
func (c *Config) options() []*option {
	return []*option{
		{name: "listen", value: stringValue{&c.Listen}},
		{name: "public-url", value: stringValue{&c.PublicURL}},
		{name: "tls-cert", value: stringValue{&c.TLSCert}},
		{name: "tls-key", value: stringValue{&c.TLSKey}},
		{name: "tls-self-signed", value: boolValue{&c.TLSSelfSigned}},
		{name: "http-redirect", value: stringValue{&c.HTTPRedirect}},
		{name: "trusted-proxy", value: prefixesValue{&c.TrustedProxies}},
		{name: "default-ttl", value: durationValue{&c.DefaultTTL}},
		{name: "max-ttl", value: durationValue{&c.MaxTTL}},
		{name: "max-secret-size", value: sizeValue[int]{&c.MaxSecretSize}},
		{name: "max-file-size", value: sizeValue[int]{&c.MaxFileSize}},
		{name: "max-secrets", value: intValue{&c.MaxSecrets}},
		{name: "max-bytes", value: sizeValue[int64]{&c.MaxBytes}},
		{name: "passphrase-min", value: intValue{&c.PassphraseMin}},
		{name: "passphrase-max", value: intValue{&c.PassphraseMax}},
		{name: "rate-limit", value: intValue{&c.RateLimit}},
		{name: "rate-window", value: durationValue{&c.RateWindow}},
		{name: "idle", value: durationValue{&c.Idle}},
		{name: "lifetime", value: durationValue{&c.Lifetime}},
		{name: "exit-when-drained", value: boolValue{&c.ExitWhenDrained}},
		{name: "grace", value: durationValue{&c.Grace}},
		{name: "admin-token", value: stringValue{&c.AdminToken}, hidden: true},
		{name: "create-token", env: "OTSLITE_CREATE_TOKENS", value: tokensValue{&c.CreateTokens}, hidden: true},
		{name: "token-file", value: stringValue{&c.TokenFile}},
		{name: "create-allow", value: prefixesValue{&c.CreateAllow}},
		{name: "reveal-allow", value: prefixesValue{&c.RevealAllow}},
		{name: "reveal-hours", value: hoursValue{&c.RevealHours}},
		{name: "quiet-audit", value: boolValue{&c.QuietAudit}},
		{name: "redis", value: redisValue{&c.Redis}, hidden: true},
		{name: "key-file", value: stringValue{&c.KeyFile}},
		{name: "redis-password-file", value: stringValue{&c.RedisPasswordFile}},
		{name: "redis-allow-persistence", value: boolValue{&c.RedisAllowPersistence}},
		{name: "debuggable", value: boolValue{&c.Debuggable}},
		{name: "healthcheck", value: boolValue{&c.Healthcheck}},
		{name: "version", value: boolValue{&c.Version}, env: noEnv},
	}
}

func (o *option) String() string {
	if o == nil || o.value == nil {
		return ""
	}
	return o.value.String()
}

// IsBoolFlag tells the flag package that --name alone means --name=true.
func (o *option) IsBoolFlag() bool {
	b, ok := o.value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Set is called by the flag package for each command-line occurrence.
func (o *option) Set(s string) error { return o.set("--"+o.name, s) }

func (o *option) set(from, s string) error {
	if err := o.value.Set(s); err != nil {
		o.err = fmt.Errorf("%s: %q: %w", from, o.quoted(s), err)
		return o.err
	}
	o.from, o.raw = from, s
	return nil
}

// envName is the flag's environment variable: --max-ttl -> OTSLITE_MAX_TTL
// (--create-token, which takes a list, reads OTSLITE_CREATE_TOKENS).
func (o *option) envName() string {
	if o.env != "" {
		return o.env
	}
	return "OTSLITE_" + strings.ToUpper(strings.ReplaceAll(o.name, "-", "_"))
}

// label names the option in messages: the way the user set it, or as a flag.
func (o *option) label() string {
	if o.from != "" {
		return o.from
	}
	return "--" + o.name
}

// given is the value as the user wrote it, or the default.
func (o *option) given() string {
	if o.from != "" {
		return o.quoted(o.raw)
	}
	return o.quoted(o.value.String())
}

// quoted is s as messages may show it.
func (o *option) quoted(s string) string {
	if o.hidden {
		return "<hidden>"
	}
	return s
}

// check validates c after parsing and fills in what derives from other
// settings (the public URL). It returns the first problem found.
func (c *Config) check(opts []*option) error {
	byName := make(map[string]*option, len(opts))
	for _, o := range opts {
		byName[o.name] = o
	}
	bad := func(name, format string, a ...any) error {
		o := byName[name]
		return fmt.Errorf("%s: %q: %s", o.label(), o.given(), fmt.Sprintf(format, a...))
	}
	// outOfOrder reports that lo exceeds hi, blaming the one the user set
	// (lo if both or neither were set).
	outOfOrder := func(lo, hi string) error {
		l, h := byName[lo], byName[hi]
		if l.from == "" && h.from != "" {
			return bad(hi, "must not be below %s (%s)", l.label(), l.given())
		}
		return bad(lo, "must not exceed %s (%s)", h.label(), h.given())
	}

	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil || !validPort(port) {
		return bad("listen", "want host:port, e.g. 127.0.0.1:7143")
	}
	if c.PublicURL == "" {
		u, err := normalPublicURL(c.publicURLAt(host, port))
		if err != nil {
			return bad("listen", "cannot derive a public URL from it; set --public-url")
		}
		c.PublicURL = u
	} else {
		u, err := normalPublicURL(c.PublicURL)
		if err != nil {
			if pu, perr := url.Parse(c.PublicURL); perr == nil && pu.User != nil {
				// Quote it without the password.
				return fmt.Errorf("%s: %q: %v", byName["public-url"].label(), pu.Redacted(), err)
			}
			return bad("public-url", "%v", err)
		}
		c.PublicURL = u
	}

	switch {
	case c.DefaultTTL < minTTL:
		return bad("default-ttl", "must be at least %s", formatDuration(minTTL))
	case c.MaxTTL < minTTL:
		return bad("max-ttl", "must be at least %s", formatDuration(minTTL))
	case c.DefaultTTL > c.MaxTTL:
		return outOfOrder("default-ttl", "max-ttl")
	case c.MaxSecretSize < 1 || c.MaxSecretSize > maxSecretSizeCap:
		return bad("max-secret-size", "must be between 1 B and %s", formatSize(maxSecretSizeCap))
	case c.MaxSecrets < 1:
		return bad("max-secrets", "must be at least 1")
	case c.MaxBytes < int64(c.MaxSecretSize):
		return outOfOrder("max-secret-size", "max-bytes")
	case c.MaxFileSize < 0 || c.MaxFileSize > maxFileSizeCap:
		return bad("max-file-size", "must be between 0 B (no files) and %s", formatSize(maxFileSizeCap))
	case c.MaxBytes < int64(c.MaxFileSize) && byName["max-file-size"].from != "":
		return outOfOrder("max-file-size", "max-bytes")
	case c.MaxBytes < int64(c.MaxFileSize):
		// Not given: the default follows --max-bytes down.
		c.MaxFileSize = int(c.MaxBytes)
	case c.RateLimit < 0:
		return bad("rate-limit", "must not be negative (0 turns it off)")
	case c.RateWindow <= 0:
		return bad("rate-window", "must be longer than 0s")
	case c.PassphraseMin < 0:
		return bad("passphrase-min", "must not be negative")
	case c.PassphraseMax < 1 || c.PassphraseMax > passphraseCap:
		return bad("passphrase-max", "must be between 1 and %d", passphraseCap)
	case c.PassphraseMin > c.PassphraseMax:
		return outOfOrder("passphrase-min", "passphrase-max")
	case c.Idle < 0:
		return bad("idle", "must not be negative (0 turns it off)")
	case c.Lifetime < 0 || c.Lifetime > 0 && c.Lifetime < minLifetime:
		return bad("lifetime", "must be at least %s (0 turns it off)", formatDuration(minLifetime))
	case c.Lifetime > 0 && c.DefaultTTL > c.Lifetime:
		// A longer max-ttl is fine: ttls are cut to the lifetime left.
		return outOfOrder("default-ttl", "lifetime")
	case c.Grace < 0 || c.Grace > maxGrace:
		return bad("grace", "must be between 0s and %s", formatDuration(maxGrace))
	case c.ExitWhenDrained && len(c.CreateTokens) == 0 && c.TokenFile == "" && len(c.CreateAllow) == 0:
		// Drained means a secret was made and none is left: if anyone
		// may create, anyone can make and read one of their own.
		return bad("exit-when-drained", "needs creating limited, by %s (e.g. 127.0.0.1) or create tokens; "+
			"otherwise anyone who can reach otslite can end the session by creating and reading a secret of their own",
			byName["create-allow"].label())
	}

	if c.AdminToken != "" {
		for i := 0; i < len(c.AdminToken); i++ {
			if b := c.AdminToken[i]; b <= ' ' || b >= 0x7f {
				return bad("admin-token", "must be printable ASCII without spaces")
			}
		}
		if utf8.RuneCountInString(c.AdminToken) < minAdminToken {
			return bad("admin-token", "must be at least %d characters", minAdminToken)
		}
	}

	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		return bad("tls-cert", "needs %s too", byName["tls-key"].label())
	case c.TLSKey != "" && c.TLSCert == "":
		return bad("tls-key", "needs %s too", byName["tls-cert"].label())
	case c.TLSSelfSigned && c.TLSCert != "":
		return bad("tls-self-signed", "cannot be used with %s and %s",
			byName["tls-cert"].label(), byName["tls-key"].label())
	}

	if err := c.checkRedis(byName); err != nil {
		return err
	}

	if c.HTTPRedirect != "" {
		rhost, rport, err := net.SplitHostPort(c.HTTPRedirect)
		switch {
		case err != nil || !validPort(rport):
			return bad("http-redirect", "want host:port, e.g. 0.0.0.0:80")
		case !c.ServesTLS():
			return bad("http-redirect", "needs TLS: set --tls-cert and --tls-key, or --tls-self-signed")
		case !strings.HasPrefix(c.PublicURL, "https://"):
			return bad("http-redirect", "redirects to %s, which must start with https://", byName["public-url"].label())
		case rport == port && port != "0" && (rhost == host || unspecified(rhost) || unspecified(host)):
			return bad("http-redirect", "must not use the port of %s (%s)", byName["listen"].label(), byName["listen"].given())
		}
	}
	return nil
}

// checkRedis checks the shared store's flags. The URL is quoted without
// its password; a password on the command line is refused, since every
// user of the machine can read a process's arguments.
func (c *Config) checkRedis(byName map[string]*option) error {
	o := byName["redis"]
	if c.Redis == "" {
		for _, name := range []string{"key-file", "redis-password-file", "redis-allow-persistence"} {
			if f := byName[name]; f.from != "" {
				return fmt.Errorf("%s: needs --redis: only replicas sharing a Redis store use it", f.label())
			}
		}
		return nil
	}
	shown := redactURL(c.Redis)
	u, err := resp.ParseURL(c.Redis)
	if err != nil {
		return fmt.Errorf("%s: %q: %v (example: redis://127.0.0.1:6379/0, rediss:// for TLS)", o.label(), shown, err)
	}
	switch {
	case u.Password != "" && o.from == "--redis":
		return fmt.Errorf("%s: %q: a password must not be on the command line, where every user of the machine can read it; put the URL in OTSLITE_REDIS or the password in --redis-password-file", o.label(), shown)
	case u.Password != "" && c.RedisPasswordFile != "":
		return fmt.Errorf("%s: the URL in %s has a password already", byName["redis-password-file"].label(), o.label())
	}
	return nil
}

// redactURL is a Redis URL as messages may show it: without its password.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<not a URL>"
	}
	return u.Redacted()
}

// ServesTLS reports whether otslite serves HTTPS itself.
func (c Config) ServesTLS() bool { return c.TLSCert != "" || c.TLSSelfSigned }

// unspecified reports whether a listen host means every address.
func unspecified(host string) bool {
	a, err := netip.ParseAddr(host)
	return host == "" || err == nil && a.IsUnspecified()
}

func validPort(port string) bool {
	if port == "" || strings.Trim(port, "0123456789") != "" {
		return false // no service names: the port must be plain
	}
	_, err := strconv.ParseUint(port, 10, 16)
	return err == nil
}

// publicURLAt is the public URL otslite assumes when serving c on
// host:port: https:// when it serves TLS, else http://, and an unspecified
// host becomes 127.0.0.1, since a link to 0.0.0.0 or [::] works nowhere.
// main may call it again with the real address when the port was 0.
func (c Config) publicURLAt(host, port string) string {
	scheme := "http"
	if c.ServesTLS() {
		scheme = "https"
	}
	if unspecified(host) {
		host = "127.0.0.1"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port)}
	return u.String()
}

// publicURLFor is publicURLAt without TLS: always http://.
// Prefer cfg.publicURLAt, which knows the scheme.
func publicURLFor(host, port string) string { return Config{}.publicURLAt(host, port) }

// normalPublicURL checks that s is an absolute http(s) URL with a host and
// no user info, query or fragment, and drops trailing slashes from its path
// so that links can be built as base + "/secret/...".
func normalPublicURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL
		}
		return "", fmt.Errorf("not a URL: %v", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("must start with http:// or https://")
	case u.Hostname() == "":
		return "", errors.New("has no host")
	case u.User != nil:
		return "", errors.New("must not contain a user name or password")
	case strings.ContainsAny(s, "?#"):
		return "", errors.New("must not have a query or fragment")
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u.String(), nil
}

// Summary describes the settings in effect, one line each, for the startup
// log. It holds nothing secret: never the admin token.
func (c Config) Summary() []string {
	rate := "rate limit: off"
	if c.RateLimit > 0 {
		rate = fmt.Sprintf("rate limit: %d requests per client IP per %s, for each of create, reveal, receipt, burn",
			c.RateLimit, formatDuration(c.RateWindow))
	}
	proxies := "none"
	if len(c.TrustedProxies) > 0 {
		proxies = prefixesValue{&c.TrustedProxies}.String()
	}
	lines := []string{
		fmt.Sprintf("listening on %s, links start with %s", c.Listen, c.PublicURL),
		fmt.Sprintf("secrets last %s unless asked otherwise, %s at most", formatDuration(c.DefaultTTL), formatDuration(c.MaxTTL)),
		fmt.Sprintf("secrets of up to %s each; room for %d secrets, %s in all",
			formatSize(int64(c.MaxSecretSize)), c.MaxSecrets, formatSize(c.MaxBytes)),
		rate,
		fmt.Sprintf("passphrases of %d to %d characters", c.PassphraseMin, c.PassphraseMax),
		"trusted proxies: " + proxies,
	}

	idle, lifetime, drained := "never ends for being idle", "no fixed lifetime", "keeps running when drained"
	if c.Idle > 0 {
		idle = "ends after " + formatDuration(c.Idle) + " idle (no secret waiting, none created or opened)"
	}
	if c.Lifetime > 0 {
		lifetime = "ends " + formatDuration(c.Lifetime) + " after start"
	}
	if c.ExitWhenDrained {
		drained = "ends when drained (a secret was made and none is left to read)"
	}
	grace := "in-flight requests are cut off at the end"
	if c.Grace > 0 {
		grace = "in-flight requests get " + formatDuration(c.Grace) + " to finish at the end"
	}
	tls := "TLS: off"
	switch {
	case c.TLSSelfSigned:
		tls = "TLS: self-signed"
	case c.TLSCert != "":
		tls = "TLS: certificate from " + c.TLSCert
	}
	if c.HTTPRedirect != "" {
		tls += "; plain HTTP on " + c.HTTPRedirect + " redirects to " + c.PublicURL
	}
	lines = append(lines, idle+"; "+lifetime+"; "+drained, grace, tls)
	lines = append(lines, c.accessSummary()...)
	if w := c.loopbackLinksWarning(); w != "" {
		lines = append(lines, w)
	}
	if c.Redis != "" {
		store := "shared store: Redis at " + redactURL(c.Redis)
		if c.KeyFile != "" {
			store += ", process key from " + c.KeyFile
		} else {
			store += ", a process key of its own (replicas need one --key-file)"
		}
		if c.RedisPasswordFile != "" {
			store += ", password from " + c.RedisPasswordFile
		}
		lines = append(lines, store)
	}
	if c.Debuggable {
		lines = append(lines, "WARNING: --debuggable: the process can be dumped or traced; for development only")
	}
	return lines
}

// loopbackLinksWarning warns when otslite listens on every interface, so
// that others can reach it, while its links point at loopback, where they
// open only on this machine.
func (c Config) loopbackLinksWarning() string {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil || !unspecified(host) {
		return ""
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return ""
	}
	name := u.Hostname()
	if a, err := netip.ParseAddr(name); !(err == nil && a.IsLoopback()) && !strings.EqualFold(name, "localhost") {
		return ""
	}
	return "WARNING: listening on every interface, but links start with " + c.PublicURL +
		", which opens only on this machine: set --public-url to an address recipients can reach (e.g. " +
		strings.SplitN(c.PublicURL, "://", 2)[0] + "://<this machine's LAN address>:" + port + ")"
}

// accessSummary describes tokens, policy and audit; never a token.
func (c Config) accessSummary() []string {
	who := func(p []netip.Prefix) string {
		if len(p) == 0 {
			return "any address"
		}
		return prefixesValue{&p}.String()
	}
	tokens := "creating needs no token"
	switch {
	case len(c.CreateTokens) > 0 && c.TokenFile != "":
		tokens = fmt.Sprintf("creating needs a token: %d given (users %s), more in %s", len(c.CreateTokens), strings.Join(userNames(c.CreateTokens), ", "), c.TokenFile)
	case len(c.CreateTokens) > 0:
		tokens = fmt.Sprintf("creating needs a token: %d given (users %s)", len(c.CreateTokens), strings.Join(userNames(c.CreateTokens), ", "))
	case c.TokenFile != "":
		tokens = "creating needs a token from " + c.TokenFile
	}
	when := "at any time"
	if c.RevealHours != "" {
		when = c.RevealHours
	}
	trail := "audit: JSON lines on stderr"
	if c.QuietAudit {
		trail = "audit: quiet on stderr"
	}
	return []string{
		tokens,
		"secrets may be created from " + who(c.CreateAllow) + ", opened from " + who(c.RevealAllow) + ", " + when,
		trail,
	}
}

// userNames lists the distinct users of "user:token" entries, in order.
func userNames(entries []string) []string {
	var users []string
	for _, e := range entries {
		user, _, _ := strings.Cut(e, ":")
		if !slices.Contains(users, user) {
			users = append(users, user)
		}
	}
	return users
}

// Flag values. Their String methods must cope with a zero value, which the
// flag package may create.

type stringValue struct{ p *string }

func (v stringValue) Set(s string) error { *v.p = s; return nil }
func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// boolValue is a true/false flag: --name alone sets it, --name=false
// clears it, and its variable takes 1/true/yes/on or 0/false/no/off.
type boolValue struct{ p *bool }

func (v boolValue) IsBoolFlag() bool { return true }

func (v boolValue) Set(s string) error {
	b, err := parseBool(s)
	if err != nil {
		return err
	}
	*v.p = b
	return nil
}

func (v boolValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatBool(*v.p)
}

// parseBool reads 1/true/yes/on or 0/false/no/off, in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("not true or false (use 1, true, yes, on or 0, false, no, off)")
}

type intValue struct{ p *int }

func (v intValue) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("not a whole number")
	}
	*v.p = n
	return nil
}

func (v intValue) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.Itoa(*v.p)
}

type durationValue struct{ p *time.Duration }

func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.p = d
	return nil
}

func (v durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return formatDuration(*v.p)
}

type sizeValue[T int | int64] struct{ p *T }

func (v sizeValue[T]) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	if int64(T(n)) != n {
		return errors.New("too large")
	}
	*v.p = T(n)
	return nil
}

func (v sizeValue[T]) String() string {
	if v.p == nil {
		return ""
	}
	return formatSize(int64(*v.p))
}

// prefixesValue appends on every Set, so the flag can be repeated.
type prefixesValue struct{ p *[]netip.Prefix }

func (v prefixesValue) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := parsePrefix(f)
		if err != nil {
			return fmt.Errorf("%q is not an IP or CIDR prefix (examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)", f)
		}
		*v.p = append(*v.p, p)
	}
	return nil
}

func (v prefixesValue) String() string {
	if v.p == nil {
		return ""
	}
	s := make([]string, len(*v.p))
	for i, p := range *v.p {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// tokensValue appends "user:token" entries on every Set (a comma-separated
// list), checking each. Its String names the users only.
type tokensValue struct{ p *[]string }

func (v tokensValue) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		entry := []byte(f)
		_, _, err := access.ParseToken(entry)
		clear(entry)
		if err != nil {
			return err
		}
		*v.p = append(*v.p, f)
	}
	return nil
}

func (v tokensValue) String() string {
	if v.p == nil {
		return ""
	}
	return strings.Join(tokenUsers(*v.p), ",")
}

// tokenUsers lists the users of "user:token" entries, as "user:<hidden>".
func tokenUsers(entries []string) []string {
	users := make([]string, len(entries))
	for i, e := range entries {
		user, _, _ := strings.Cut(e, ":")
		users[i] = user + ":<hidden>"
	}
	return users
}

// redisValue holds the Redis URL; its String hides the password.
type redisValue struct{ p *string }

func (v redisValue) Set(s string) error { *v.p = strings.TrimSpace(s); return nil }

func (v redisValue) String() string {
	if v.p == nil || *v.p == "" {
		return ""
	}
	return redactURL(*v.p)
}

// hoursValue holds a --reveal-hours schedule in its canonical form;
// "always" (or nothing) means no schedule.
type hoursValue struct{ p *string }

func (v hoursValue) Set(s string) error {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "always") {
		*v.p = ""
		return nil
	}
	h, err := access.ParseHours(s)
	if err != nil {
		return err
	}
	*v.p = h.String()
	return nil
}

func (v hoursValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// parsePrefix reads a CIDR prefix, masking off host bits, or a bare IP as a
// one-address prefix. IPv4-mapped IPv6 addresses and prefixes are unmapped,
// since IPv4 clients are matched as IPv4.
func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// ::ffff:10.0.0.0/104 is 10.0.0.0/8: clients are matched as IPv4.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("zones are not allowed")
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseDuration reads a Go duration (90s, 1h30m) that may start with a
// whole number of days: 7d, 1d12h. Negative durations are errors.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-") {
		return 0, errors.New("must not be negative")
	}
	notDuration := errors.New("not a duration (examples: 90s, 1h, 7d)")
	tooLong := errors.New("too long")
	days, rest, hasDays := strings.Cut(s, "d")
	if !hasDays {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, notDuration
		}
		return d, nil
	}
	if days == "" || strings.Trim(days, "0123456789") != "" {
		return 0, notDuration
	}
	n, err := strconv.ParseInt(days, 10, 64)
	if err != nil || n > int64(math.MaxInt64/day) {
		return 0, tooLong
	}
	d := time.Duration(n) * day
	if rest == "" {
		return d, nil
	}
	if rest[0] < '0' || rest[0] > '9' {
		return 0, notDuration // no sign or bare fraction after the days
	}
	r, err := time.ParseDuration(rest)
	if err != nil {
		return 0, notDuration
	}
	if r > math.MaxInt64-d {
		return 0, tooLong
	}
	return d + r, nil
}

// formatDuration writes d in the largest whole units parseDuration reads:
// 7d, 1d12h, 1h30m. It falls back to Go's form for fractions of a second.
func formatDuration(d time.Duration) string {
	if d <= 0 || d%time.Second != 0 {
		return d.String()
	}
	var b strings.Builder
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d >= u.unit {
			fmt.Fprintf(&b, "%d%s", d/u.unit, u.name)
			d %= u.unit
		}
	}
	return b.String()
}

// parseSize reads a whole number of bytes with an optional unit, in any
// case: B; K, KB, KiB; M, MB, MiB; G, GB, GiB. KB and KiB both mean 1024
// (and so on), since nobody sizes memory in powers of ten.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	num, unit := s[:i], strings.TrimSpace(s[i:])
	notSize := errors.New("not a size (examples: 65536, 64KiB, 1MiB)")
	switch {
	case num == "" && strings.HasPrefix(s, "-"):
		return 0, errors.New("must not be negative")
	case num == "":
		return 0, notSize
	case strings.HasPrefix(unit, ".") || strings.HasPrefix(unit, ","):
		return 0, errors.New("must be a whole number (examples: 1536, 1536B)")
	}
	mult, ok := sizeUnit(unit)
	if !ok {
		return 0, notSize
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errors.New("too large")
	}
	return n * mult, nil
}

func sizeUnit(u string) (int64, bool) {
	for i := 0; i < len(u); i++ {
		if u[i] >= 0x80 {
			return 0, false // strings.ToLower would fold the Kelvin sign to k
		}
	}
	switch strings.ToLower(u) {
	case "", "b":
		return 1, true
	case "k", "kb", "kib":
		return 1 << 10, true
	case "m", "mb", "mib":
		return 1 << 20, true
	case "g", "gb", "gib":
		return 1 << 30, true
	}
	return 0, false
}

// formatSize writes n in the largest binary unit that divides it exactly:
// 64 KiB, 256 MiB, 1500 B. parseSize reads it back.
func formatSize(n int64) string {
	for _, u := range []struct {
		shift uint
		name  string
	}{{30, "GiB"}, {20, "MiB"}, {10, "KiB"}} {
		if n != 0 && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d B", n)
}
