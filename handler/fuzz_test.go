package handler

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// FuzzServe drives the whole handler with arbitrary methods, paths,
// content types, bodies and forwarding headers. Whatever comes in: no
// panic reaches the recovery (intended 500), every API answer is the v1 or
// v2 JSON shape with its headers, nothing is compressed, and the request
// body is wiped when Serve returns.
func FuzzServe(f *testing.F) {
	for _, seed := range []struct{ method, path, ct, body, xff string }{
		{"POST", "/api/v1/share", "", "secret=hello&ttl=60", ""},
		{"POST", "/api/v1/share", "application/json", `{"secret":"h\u00e9","passphrase":"abcd"}`, ""},
		{"POST", "/api/v1/generate", "", "length=20", "10.0.0.1"},
		{"POST", "/api/v1/secret/0123456789abcdefghjkmnpqrstvwxyz", "", "passphrase=x", ""},
		{"GET", "/api/v1/receipt/recent", "", "", ""},
		{"POST", "/api/v1/receipt/0123456789abcdefghjkmnpqrstvwxyz/burn", "application/json", `{}`, "::1, 10.0.0.2"},
		{"GET", "/api/otslite/secret/abc", "", "", ""},
		{"GET", "/secret/abc", "", "", ""},
		{"GET", "/static/../../etc/passwd", "", "", ""},
		{"POST", "/api/v1/share", "application/json", `{"secret":{"a":1}}`, ""},
		{"POST", "/api/v1/share", "application/x-www-form-urlencoded; charset=utf-8", "secret=%ZZ", "garbage"},
		{"POST", "/api/v1/share?secret=q&ttl=abc&passphrase=abcd", "application/json; charset=utf-8", "", ""},
		{"POST", "/api/v1/share/", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"secret\"\r\n\r\nx\r\n--B--\r\n", ""},
		{"POST", "/api/v1/generate?length=3", "multipart/form-data; boundary=B", "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\nx\r\n--B--\r\n", ""},
		{"POST", "/api/v1/receipt/recent", "", "", ""},
		{"POST", "/api/v2/secret/conceal", "application/json", `{"secret":{"secret":"x","ttl":"60","passphrase":"abcd"}}`, ""},
		{"POST", "/api/v2/secret/generate", "", "secret[length]=8", ""},
		{"POST", "/api/v2/secret/status", "application/json", `{"identifiers":["0123456789abcdefghjkmnpqrstvwxyz",1,{}]}`, ""},
		{"POST", "/api/v2/guest/secret/0123456789abcdefghjkmnpqrstvwxyz/reveal", "", "continue=true", ""},
		{"GET", "/api/v2/receipt/0123456789abcdefghjkmnpqrstvwxyz", "", "", ""},
		{"POST", "/api/otslite/group", "application/json", `{"receipts":["0123456789abcdefghjkmnpqrstvwxyz","zyxwvtsrqpnmkjhgfedcba9876543210"]}`, ""},
		{"POST", "/api/otslite/group", "", "receipts=0123456789abcdefghjkmnpqrstvwxyz&receipts[]=x", ""},
		{"GET", "/api/otslite/group/0123456789abcdefghjkmnpqrstvwxyz", "", "", ""},
		{"POST", "/api/otslite/group/0123456789abcdefghjkmnpqrstvwxyz/burn/2", "", "", ""},
		{"POST", "/api/otslite/request", "", "ttl=60", ""},
		{"GET", "/api/otslite/request/0123456789abcdefghjkmnpqrstvwxyz", "", "", ""},
		{"POST", "/api/otslite/request/0123456789abcdefghjkmnpqrstvwxyz/answer", "application/json", `{"secret":"otsz1:abc","passphrase":"zk1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","public":"BA"}`, ""},
		{"GET", "/api/otslite/inbox/0123456789abcdefghjkmnpqrstvwxyz", "", "", ""},
		{"POST", "/api/otslite/inbox/0123456789abcdefghjkmnpqrstvwxyz/reveal", "", "passphrase=zk1.x", ""},
	} {
		f.Add(seed.method, seed.path, seed.ct, []byte(seed.body), seed.xff)
	}
	h, _, _ := MustOpenHandler(f, withTrustedProxies("192.0.2.0/24"))
	f.Fuzz(func(t *testing.T, method, path, ct string, body []byte, xff string) {
		var req fasthttp.Request
		req.Header.SetMethod(method)
		req.SetRequestURI(path)
		req.Header.SetHost("ots.example")
		if ct != "" {
			req.Header.SetContentType(ct)
		}
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		req.Header.Set("Accept-Encoding", "gzip, br, zstd")
		req.SetBody(body)
		var ctx fasthttp.RequestCtx
		ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 1234}, nil)
		h.Serve(&ctx)

		if b := ctx.Request.Body(); len(bytes.Trim(b, "\x00")) != 0 {
			t.Errorf("request body not wiped: %q", b)
		}
		resp := &ctx.Response
		intended := string(resp.Header.Peek("X-OTS-Intended-Status"))
		if intended == "500" {
			t.Fatalf("%s %q: internal error", method, path)
		}
		if len(resp.Header.Peek(fasthttp.HeaderContentEncoding)) != 0 && bytes.HasPrefix(ctx.Path(), []byte("/api/")) {
			t.Errorf("%s %q: API response compressed", method, path)
		}
		if !bytes.HasPrefix(ctx.Path(), []byte("/api/")) || resp.StatusCode() == fasthttp.StatusMisdirectedRequest {
			return
		}
		if got := string(resp.Header.ContentType()); got != "application/json; charset=utf-8" {
			t.Errorf("%s %q: Content-Type %q", method, path, got)
		}
		if got := string(resp.Header.Peek("Cache-Control")); got != "no-store" {
			t.Errorf("%s %q: Cache-Control %q", method, path, got)
		}
		v2 := bytes.HasPrefix(ctx.Path(), []byte("/api/v2/"))
		switch status := resp.StatusCode(); {
		case status == 200:
		case v2 && status >= 400 && status <= 599:
			// v2 answers with real statuses, and says them again.
			if intended != strconv.Itoa(status) {
				t.Errorf("%s %q: v2 %d with intended status %q", method, path, status, intended)
			}
		case status == 404:
			if n, err := strconv.Atoi(intended); err != nil || n < 400 || n > 599 {
				t.Errorf("%s %q: 404 with intended status %q", method, path, intended)
			}
		default:
			t.Errorf("%s %q: HTTP %d; the v1 API answers 200 or 404", method, path, status)
		}
		out := resp.Body()
		if method == "HEAD" {
			return
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s %q: response is not JSON: %v: %q", method, path, err, out)
		}
		if m, ok := v.(map[string]any); ok && resp.StatusCode() != 200 {
			// v1: {"message"}, or the router's {"error"}; v2: ADR-013's
			// {"error","error_type"}.
			msg, _ := m["message"].(string)
			e, _ := m["error"].(string)
			typ, _ := m["error_type"].(string)
			if v2 && (e == "" || typ == "") || !v2 && msg == "" && e == "" {
				t.Errorf("%s %q: error without a message: %s", method, path, out)
			}
		}
	})
}

// FuzzClientAddr feeds arbitrary X-Forwarded-For values, one header line
// per line of input, from a trusted and an untrusted peer: an untrusted peer
// is always the client, and a trusted one yields either itself or an
// address that appears in one of the lines.
func FuzzClientAddr(f *testing.F) {
	for _, seed := range []string{"", "203.0.113.9", "203.0.113.9, 192.0.2.1", "::ffff:1.2.3.4", "bogus, 192.0.2.1", ",,,", "2001:db8::1,192.0.2.5 , 192.0.2.6",
		"10.9.9.9\n198.51.100.7", "10.9.9.9\n\n192.0.2.4", "198.51.100.7:4711, [2001:db8::7]:80", "unknown\n192.0.2.9"} {
		f.Add(seed)
	}
	h, _, _ := MustOpenHandler(f, withTrustedProxies("192.0.2.0/24"))
	f.Fuzz(func(t *testing.T, xff string) {
		for _, peer := range []string{"192.0.2.7", "198.51.100.1"} {
			var req fasthttp.Request
			for _, line := range strings.Split(xff, "\n") {
				req.Header.Add("X-Forwarded-For", line)
			}
			var ctx fasthttp.RequestCtx
			ctx.Init(&req, &net.TCPAddr{IP: net.ParseIP(peer), Port: 1}, nil)
			got := h.clientAddr(&ctx)
			want := netip.MustParseAddr(peer)
			if !h.trusted(want) {
				if got != want {
					t.Errorf("untrusted peer %s with X-Forwarded-For %q: client %s", peer, xff, got)
				}
				continue
			}
			if got == want {
				continue
			}
			// fasthttp may rewrite a value (a line break becomes a
			// space): compare with what the handler was given.
			found := false
			for _, line := range req.Header.PeekAll("X-Forwarded-For") {
				for _, hop := range strings.Split(string(line), ",") {
					if a, ok := parseHop([]byte(strings.TrimSpace(hop))); ok && a == got {
						found = true
					}
				}
			}
			if !found {
				t.Errorf("X-Forwarded-For %q: client %s appears nowhere in it", xff, got)
			}
		}
	})
}
