package main

import (
	"strings"
	"testing"
)

func TestParseLink(t *testing.T) {
	key := "0123456789abcdefghjkmnpqrstvwxyz"
	frag := "1n" + strings.Repeat("A", 43)
	for _, tc := range []struct {
		link, base, key, fragment string
		paths                     []string
	}{
		{link: "http://127.0.0.1:7143/secret/" + key, base: "http://127.0.0.1:7143", key: key},
		{link: "https://s.example.org/secret/" + key + "#" + frag, base: "https://s.example.org", key: key, fragment: frag},
		{link: "  https://s.example.org/a/b/secret/" + key + "#" + frag + "\n", base: "https://s.example.org/a/b", key: key, fragment: frag},
		{link: "https://[::1]:7143/secret/" + key + "#", base: "https://[::1]:7143", key: key},
		{link: "https://onetimesecret.com/secret/abcdefghij0123456789", base: "https://onetimesecret.com", key: "abcdefghij0123456789"},
		{link: "https://x.org/receipt/" + key + "#" + frag, base: "https://x.org", key: key, fragment: frag, paths: receiptPaths},
		{link: "https://x.org/private/" + key, base: "https://x.org", key: key, paths: receiptPaths},
		{link: "https://x.org/metadata/" + key, base: "https://x.org", key: key, paths: receiptPaths},
		// A path that names another kind first: the last one counts.
		{link: "https://x.org/receipt/secret/" + key, base: "https://x.org/receipt", key: key},
	} {
		paths := tc.paths
		if paths == nil {
			paths = secretPaths
		}
		l, err := parseLink([]byte(tc.link), paths, "a")
		if err != nil {
			t.Errorf("%q: %v", tc.link, err)
			continue
		}
		if l.base != tc.base || string(l.key) != tc.key || string(l.fragment) != tc.fragment {
			t.Errorf("%q: base %q key %q fragment %q", tc.link, l.base, l.key, l.fragment)
		}
	}
	for _, bad := range []string{
		"", "secret/" + key, "/secret/" + key, "ftp://x.org/secret/" + key,
		"https://x.org/secret/" + key + "?a=b", "https://x.org/secret/" + key + "/",
		"https://x.org/secret/" + strings.ToUpper(key), "https://x.org/secret/short",
		"https://user:pw@x.org/secret/" + key, "https://x.org/receipt/" + key,
		"https:///secret/" + key, "https://x.org/secret/" + strings.Repeat("a", 129),
	} {
		if _, err := parseLink([]byte(bad), secretPaths, "a secret"); err == nil {
			t.Errorf("parsed %q", bad)
		}
	}
}

func FuzzParseLink(f *testing.F) {
	f.Add("https://s.example.org/secret/0123456789abcdefghjkmnpqrstvwxyz#1nAAAA")
	f.Add("http://[::1]:1/receipt/0123456789abcdefghij#")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseLink([]byte(s), append(secretPaths, receiptPaths...), "a")
		if err != nil {
			return
		}
		// What it found is what the link says, in order.
		rebuilt := l.base
		if !strings.HasPrefix(strings.TrimSpace(s), rebuilt) || !strings.Contains(s, string(l.key)) || !validLinkKey(l.key) {
			t.Errorf("%q: base %q key %q", s, l.base, l.key)
		}
		if l.fragment != nil && !strings.HasSuffix(strings.TrimSpace(s), "#"+string(l.fragment)) {
			t.Errorf("%q: fragment %q", s, l.fragment)
		}
	})
}
