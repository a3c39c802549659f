package access

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func basic(user, token string) []byte {
	return []byte("Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token)))
}

func TestParseBasic(t *testing.T) {
	longest := strings.Repeat("x", MaxCredential-len("a:"))
	for _, tt := range []struct {
		name, header, user, token string
		ok                        bool
	}{
		{"OK", string(basic("alice", "t0ken-of-alice-1234")), "alice", "t0ken-of-alice-1234", true},
		{"OKLowerScheme", "basic " + base64.StdEncoding.EncodeToString([]byte("a:b")), "a", "b", true},
		{"OKUnpadded", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("ab:c")), "ab", "c", true},
		{"OKColonInToken", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b:c")), "a", "b:c", true},
		{"OKEmptyUser", "Basic " + base64.StdEncoding.EncodeToString([]byte(":tok")), "", "tok", true},
		{"ErrNoColon", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice")), "", "", false},
		{"ErrBearer", "Bearer abc", "", "", false},
		{"ErrNoSpace", "Basic", "", "", false},
		{"ErrGarbage", "Basic !!!not-base64", "", "", false},
		{"ErrURLAlphabet", "Basic " + base64.URLEncoding.EncodeToString([]byte("a:\xff\xfe\xfd")), "", "", false},
		{"ErrTooLong", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:"+strings.Repeat("x", MaxCredential))), "", "", false},
		// The longest credential, and one byte more, padded and not.
		{"OKLongest", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:"+longest)), "a", longest, true},
		{"OKLongestUnpadded", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("a:"+longest)), "a", longest, true},
		{"OKLongestButOne", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:"+longest[1:])), "a", longest[1:], true},
		{"ErrLongestPlusOne", "Basic " + base64.StdEncoding.EncodeToString([]byte("a:x"+longest)), "", "", false},
		{"ErrLongestPlusOneUnpadded", "Basic " + base64.RawStdEncoding.EncodeToString([]byte("a:x"+longest)), "", "", false},
		{"ErrEmpty", "", "", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf [MaxCredential]byte
			user, token, ok := ParseBasic([]byte(tt.header), buf[:])
			if ok != tt.ok || string(user) != tt.user || string(token) != tt.token {
				t.Errorf("ParseBasic(%q) = %q, %q, %v; want %q, %q, %v", tt.header, user, token, ok, tt.user, tt.token, tt.ok)
			}
		})
	}
}

func TestParseToken(t *testing.T) {
	const secret = "s3cret-token-value"
	for _, tt := range []struct {
		name, in, err string
	}{
		{"OK", "alice:" + secret, ""},
		{"OKEmail", "alice@example.org:" + secret, ""},
		{"ErrNoColon", secret, "want user:token"},
		{"ErrEmptyUser", ":" + secret, "the user must be"},
		{"ErrAnon", "anon:" + secret, `the user "anon" means no user`},
		{"ErrSpaceInUser", "al ice:" + secret, "the user must be"},
		{"ErrShortToken", "alice:" + secret[:15], `the token of user "alice" must be 16 to 256`},
		{"ErrSpaceInToken", "alice:" + secret + " x", `the token of user "alice"`},
		{"ErrCommaInToken", "alice:" + secret + ",x", `the token of user "alice"`},
		{"ErrLongToken", "alice:" + strings.Repeat(secret, 20), `the token of user "alice"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseToken([]byte(tt.in))
			if tt.err == "" {
				if err != nil {
					t.Fatalf("ParseToken: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("ParseToken error = %v; want one containing %q", err, tt.err)
			}
			if strings.Contains(err.Error(), secret[:10]) {
				t.Errorf("error quotes the token: %v", err)
			}
		})
	}
}

// MustWriteFile writes a token file and returns its path.
func MustWriteFile(tb testing.TB, dir, text string) string {
	tb.Helper()
	path := filepath.Join(dir, "tokens")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// MustNewTokens makes a table and closes it when the test ends.
func MustNewTokens(tb testing.TB, fixed []string, path string) *Tokens {
	tb.Helper()
	tok, err := NewTokens(fixed, path)
	if err != nil {
		tb.Fatalf("NewTokens: %v", err)
	}
	tb.Cleanup(tok.Close)
	return tok
}

func checkUser(tb testing.TB, tok *Tokens, user, token, want string, ok bool) Credential {
	tb.Helper()
	var c Credential
	got := tok.Check(basic(user, token), &c)
	if got != ok || c.User != want {
		tb.Errorf("Check(%s:%s) = %q, %v; want %q, %v", user, token, c.User, got, want, ok)
	}
	return c
}

func TestTokens(t *testing.T) {
	const (
		alice1 = "alice-first-token-0001"
		alice2 = "alice-second-token-002"
		bob    = "bob-only-token-000003"
		carol  = "carol-from-the-flag-04"
	)
	t.Run("None", func(t *testing.T) {
		tok := MustNewTokens(t, nil, "")
		if tok.Required() || tok.Len() != 0 {
			t.Errorf("Required = %v, Len = %d with no tokens", tok.Required(), tok.Len())
		}
		checkUser(t, tok, "alice", alice1, "", false)
		var none *Tokens
		if none.Required() {
			t.Error("a nil table requires tokens")
		}
		if none.Check(basic("alice", alice1), new(Credential)) {
			t.Error("a nil table accepted a credential")
		}
	})

	t.Run("Valid", func(t *testing.T) {
		tok := MustNewTokens(t, []string{"alice:" + alice1, "bob:" + bob}, "")
		if !tok.Required() || tok.Len() != 2 || !slices.Equal(tok.Users(), []string{"alice", "bob"}) {
			t.Errorf("Required = %v, Len = %d, Users = %q", tok.Required(), tok.Len(), tok.Users())
		}
		a := checkUser(t, tok, "alice", alice1, "alice", true)
		b := checkUser(t, tok, "bob", bob, "bob", true)
		if a.ID == b.ID || !tok.Holds(a.ID) {
			t.Errorf("credential IDs: equal %v, held %v", a.ID == b.ID, tok.Holds(a.ID))
		}
		again := checkUser(t, tok, "alice", alice1, "alice", true)
		if again.ID != a.ID {
			t.Error("the same credential got another ID")
		}
	})

	t.Run("Longest", func(t *testing.T) {
		user, token := strings.Repeat("u", MaxUser), strings.Repeat("t", MaxToken)
		tok := MustNewTokens(t, []string{user + ":" + token}, "")
		checkUser(t, tok, user, token, user, true)
	})

	t.Run("Invalid", func(t *testing.T) {
		tok := MustNewTokens(t, []string{"alice:" + alice1, "bob:" + bob}, "")
		checkUser(t, tok, "alice", bob, "alice", false) // another user's token: the user is known
		checkUser(t, tok, "bob", alice1, "bob", false)  // and the other way round
		checkUser(t, tok, "mallory", bob, "", false)    // unknown users are not named
		checkUser(t, tok, "alice", alice1+"x", "alice", false)
		checkUser(t, tok, "alice", "short", "alice", false)
		checkUser(t, tok, "ALICE", alice1, "", false)
		if c := new(Credential); tok.Check([]byte("Bearer "+alice1), c) || c.User != "" {
			t.Errorf("a bearer token was accepted as %q", c.User)
		}
	})

	t.Run("RotatedAndReloaded", func(t *testing.T) {
		dir := t.TempDir()
		path := MustWriteFile(t, dir, "# operators\nalice:"+alice1+"\n\n  bob:"+bob+"  \r\n")
		tok := MustNewTokens(t, []string{"carol:" + carol}, path)
		checkUser(t, tok, "alice", alice1, "alice", true)
		checkUser(t, tok, "bob", bob, "bob", true)
		checkUser(t, tok, "carol", carol, "carol", true)
		old := checkUser(t, tok, "alice", alice1, "alice", true)

		// Add the new token first: both work.
		MustWriteFile(t, dir, "alice:"+alice1+"\nalice:"+alice2+"\nbob:"+bob+"\n")
		if n, err := tok.Reload(); err != nil || n != 3 {
			t.Fatalf("Reload = %d, %v; want 3, nil", n, err)
		}
		checkUser(t, tok, "alice", alice1, "alice", true)
		checkUser(t, tok, "alice", alice2, "alice", true)

		// Then remove the old one.
		MustWriteFile(t, dir, "alice:"+alice2+"\nbob:"+bob+"\n")
		if _, err := tok.Reload(); err != nil {
			t.Fatal(err)
		}
		checkUser(t, tok, "alice", alice1, "alice", false)
		checkUser(t, tok, "alice", alice2, "alice", true)
		checkUser(t, tok, "carol", carol, "carol", true) // flags stay
		if tok.Holds(old.ID) {
			t.Error("the removed credential is still held")
		}

		// A broken file changes nothing.
		MustWriteFile(t, dir, "alice:"+alice2+"\nbob "+bob+"\n")
		if _, err := tok.Reload(); err == nil || !strings.Contains(err.Error(), "line 2: want user:token") || strings.Contains(err.Error(), bob) {
			t.Errorf("Reload of a broken file: %v", err)
		}
		checkUser(t, tok, "bob", bob, "bob", true)
		os.Remove(path)
		if _, err := tok.Reload(); err == nil {
			t.Error("Reload of a missing file succeeded")
		}
		checkUser(t, tok, "alice", alice2, "alice", true)

		// An emptied file locks everyone out of it; tokens stay required.
		MustWriteFile(t, dir, "# nobody\n")
		if _, err := tok.Reload(); err != nil {
			t.Fatal(err)
		}
		checkUser(t, tok, "alice", alice2, "", false)
		if !tok.Required() || tok.Len() != 1 {
			t.Errorf("after emptying the file: Required = %v, Len = %d; want true, 1", tok.Required(), tok.Len())
		}
	})

	t.Run("ErrFile", func(t *testing.T) {
		dir := t.TempDir()
		for name, text := range map[string]string{
			"NoColon":   "alice " + alice1,
			"BadToken":  "alice:short",
			"BadUser":   "a b:" + alice1,
			"TooLarge":  strings.Repeat("#", MaxTokenFile+1),
			"SpaceMid":  "alice: " + alice1 + "x y",
			"CommaUser": "a,b:" + alice1,
		} {
			path := MustWriteFile(t, dir, text)
			if _, err := NewTokens(nil, path); err == nil || strings.Contains(err.Error(), alice1[:8]) {
				t.Errorf("%s: NewTokens = %v; want an error without the token", name, err)
			}
		}
		if _, err := NewTokens([]string{"alice"}, ""); err == nil || err.Error() != "entry 1: want user:token" {
			t.Errorf("a fixed entry without a token: %v", err)
		}
	})

	t.Run("Duplicates", func(t *testing.T) {
		path := MustWriteFile(t, t.TempDir(), "alice:"+alice1+"\nalice:"+alice1+"\n")
		tok := MustNewTokens(t, []string{"alice:" + alice1}, path)
		if tok.Len() != 1 {
			t.Errorf("Len = %d; want 1 for one credential given three times", tok.Len())
		}
	})
}

func TestCredentialMask(t *testing.T) {
	tok := MustNewTokens(t, []string{"alice:alice-first-token-0001", "bob:bob-only-token-000003"}, "")
	var a, a2, b Credential
	tok.Check(basic("alice", "alice-first-token-0001"), &a)
	tok.Check(basic("alice", "alice-first-token-0001"), &a2)
	tok.Check(basic("bob", "bob-only-token-000003"), &b)
	const plain = "0123456789abcdefghjkmnpqrstvwxyz"
	buf := []byte(plain)
	a.Mask(buf, 7)
	if string(buf) == plain {
		t.Fatal("Mask changed nothing")
	}
	masked := string(buf)
	b.Mask(buf, 7)
	b.Mask(buf, 7)
	if string(buf) != masked {
		t.Fatal("Mask twice is not the identity")
	}
	a2.Mask(buf, 7) // the same token presented again
	if string(buf) != plain {
		t.Errorf("the same credential did not unmask: %q", buf)
	}
	other := []byte(plain)
	b.Mask(other, 7)
	if string(other) == masked {
		t.Error("two credentials mask alike")
	}
	next := []byte(plain)
	a.Mask(next, 8)
	if string(next) == masked {
		t.Error("two nonces mask alike")
	}
	a.Wipe()
	again := []byte(plain)
	a.Mask(again, 7)
	if string(again) == masked {
		t.Error("a wiped credential still masks")
	}
}
