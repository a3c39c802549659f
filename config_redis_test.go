package main

import (
	"strings"
	"testing"
)

func TestConfigRedis(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	t.Run("OK", func(t *testing.T) {
		c, err := ParseConfig([]string{"--redis", "redis://10.0.0.5:6379/2", "--key-file", "/run/key", "--redis-password-file", "/run/pw", "--redis-allow-persistence"}, nil, nil)
		if err != nil || c.Redis != "redis://10.0.0.5:6379/2" || c.KeyFile != "/run/key" || c.RedisPasswordFile != "/run/pw" || !c.RedisAllowPersistence {
			t.Fatalf("%+v, %v", c, err)
		}
		c, err = ParseConfig(nil, env(map[string]string{"OTSLITE_REDIS": "rediss://:s3cret@cache:6380/0", "OTSLITE_KEY_FILE": "/k"}), nil)
		if err != nil || c.Redis != "rediss://:s3cret@cache:6380/0" || c.KeyFile != "/k" {
			t.Fatalf("from the environment: %+v, %v", c, err)
		}
		for _, line := range c.Summary() {
			if strings.Contains(line, "s3cret") {
				t.Errorf("the summary shows the password: %q", line)
			}
		}
	})
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"ErrPasswordOnCommandLine", []string{"--redis", "redis://:s3cret@cache:6379"}, nil, `--redis: "redis://:xxxxx@cache:6379": a password must not be on the command line`},
		{"ErrUserPasswordOnCommandLine", []string{"--redis", "redis://otslite:s3cret@cache:6379"}, nil, `--redis: "redis://otslite:xxxxx@cache:6379": a password must not be on the command line`},
		{"ErrScheme", []string{"--redis", "http://cache:6379"}, nil, `--redis: "http://cache:6379": must start with redis:// or rediss://`},
		{"ErrDB", []string{"--redis", "redis://cache/x"}, nil, `--redis: "redis://cache/x": the path must be a database number`},
		{"ErrTwoPasswords", []string{"--redis-password-file", "/pw"}, map[string]string{"OTSLITE_REDIS": "redis://:s3cret@cache"}, `--redis-password-file: the URL in OTSLITE_REDIS has a password already`},
		{"ErrKeyFileAlone", []string{"--key-file", "/k"}, nil, `--key-file: needs --redis`},
		{"ErrPasswordFileAlone", []string{"--redis-password-file", "/k"}, nil, `--redis-password-file: needs --redis`},
		{"ErrAllowAlone", []string{"--redis-allow-persistence"}, nil, `--redis-allow-persistence: needs --redis`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.args, env(tc.env), nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v; want it to start with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}
