package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// --lifetime caps every lockout: a lock started on the release binary
// ends by the session's end, and the receipt page's view says when.
func TestLockoutEndsWithSession(t *testing.T) {
	t.Parallel()
	const lifetime = 180 // seconds; a lockout lasts 30 minutes otherwise
	p := MustStartBinary(t, nil, "--rate-limit", "0", "--default-ttl", "1m", "--lifetime", fmt.Sprint(lifetime, "s"))
	owner := clientFrom("127.0.0.1", false)
	sk, rk := shareFrom(t, owner, p.base, url.Values{"secret": {"guarded"}, "passphrase": {"correct horse"}})
	guesser := clientFrom("127.0.3.1", false)
	for i := range 20 {
		src := fmt.Sprintf("127.0.3.%d", 1+i/4)
		if _, intended, _, body := send(t, clientFrom(src, false), "POST", p.base+"/api/v1/secret/"+sk, url.Values{"passphrase": {fmt.Sprint("guess ", i)}}); intended != "404" {
			t.Fatalf("wrong passphrase %d: intended %s %s", i+1, intended, body)
		}
	}
	_, intended, header, _ := send(t, guesser, "POST", p.base+"/api/v1/secret/"+sk, url.Values{"passphrase": {"correct horse"}})
	retry, err := strconv.Atoi(header.Get("Retry-After"))
	if intended != "429" || err != nil || retry <= 0 || retry > lifetime {
		t.Fatalf("locked secret: intended %s, Retry-After %q; want 429 and at most the %d s left of the session", intended, header.Get("Retry-After"), lifetime)
	}
	_, _, _, body := send(t, owner, "GET", p.base+"/api/otslite/receipt/"+rk, nil)
	if !strings.Contains(body, `"failed_attempts":20`) || strings.Contains(body, `"locked_until":0`) {
		t.Errorf("receipt lockout view: %s", body)
	}
}
