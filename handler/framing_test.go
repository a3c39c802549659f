package handler

import (
	"errors"
	"strings"
	"testing"
)

// scanAll feeds in to a framer as a connection would, in pieces of size
// step (0: all at once), holding back what it does not let through, and
// returns how many bytes it let through and its error.
func scanAll(in string, step int) (int, error) {
	f := framer{maxHead: readBufferSize}
	var held []byte
	through := 0
	for len(in) > 0 || len(held) > 0 {
		n := len(in)
		if step > 0 {
			n = min(step, n)
		}
		held = append(held, in[:n]...)
		in = in[n:]
		k, err := f.scan(held)
		through += k
		held = held[k:]
		if err != nil {
			return through, err
		}
		if n == 0 {
			break
		}
	}
	return through, nil
}

func TestFramer(t *testing.T) {
	get := "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	post := "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nsecret=x"
	chunked := "POST /api/v1/share HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nsec\r\n5;name=value\r\nret=x\r\n0\r\nX-Trailer: y\r\n\r\n"
	for _, tc := range []struct {
		name    string
		in      string
		through int   // bytes let through; -1: all; -2: those before the fault in the body
		err     error // nil: none
	}{
		{"OK/Get", get, -1, nil},
		{"OK/Post", post, -1, nil},
		{"OK/Chunked", chunked, -1, nil},
		{"OK/ChunkExtensionAfterWhitespace", strings.Replace(chunked, "5;name", "5 ;name", 1), -1, nil},
		{"OK/EmptyLinesBetween", get + "\r\n\r\n" + post, -1, nil},
		{"OK/Pipelined", get + post + chunked + get, -1, nil},
		{"OK/UpperCaseHex", strings.Replace(chunked, "3\r\nsec", "A\r\nsecret=xyz", 1), -1, nil},
		{"OK/ContentLengthTwiceSame", strings.Replace(post, "Content-Length: 8\r\n", "Content-Length: 8\r\nContent-Length: 8\r\n", 1), -1, nil},
		{"Held/PartialHead", get[:20], 0, nil},
		{"Held/SecondHeadPartial", get + post[:30], len(get), nil},
		{"Held/BodyPartial", post[:len(post)-3], len(post) - 3, nil},
		{"ErrBareLF/RequestLine", "GET / HTTP/1.1\nHost: x\r\n\r\n", 0, errBareLF},
		{"ErrBareLF/Field", "GET / HTTP/1.1\r\nHost: x\n\r\n", 0, errBareLF},
		{"ErrBareLF/End", "GET / HTTP/1.1\r\nHost: x\r\n\n", 0, errBareLF},
		{"ErrBareCR", "GET / HTTP/1.1\r\nHost: x\ry: z\r\n\r\n", 0, errBareCR},
		{"ErrObsFold", "GET / HTTP/1.1\r\nHost: x\r\n y\r\n\r\n", 0, errObsFold},
		{"ErrObsFoldTab", "GET / HTTP/1.1\r\nX-A: x\r\n\ty\r\n\r\n", 0, errObsFold},
		{"ErrSpaceBeforeColon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 0, errFieldName},
		{"ErrNoColon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 0, errFieldName},
		{"ErrControlInValue", "GET / HTTP/1.1\r\nX-A: a\x01b\r\n\r\n", 0, errFieldValue},
		{"ErrRequestLine", "GET  / HTTP/1.1\r\n\r\n", 0, errRequestLine},
		{"ErrContentLengthTwiceDiffer", strings.Replace(post, "Content-Length: 8\r\n", "Content-Length: 8\r\nContent-Length: 9\r\n", 1), 0, errContentLength},
		{"ErrContentLengthList", strings.Replace(post, "Content-Length: 8", "Content-Length: 8, 8", 1), 0, errContentLength},
		{"ErrContentLengthSign", strings.Replace(post, "Content-Length: 8", "Content-Length: +8", 1), 0, errContentLength},
		{"ErrContentLengthHuge", strings.Replace(post, "Content-Length: 8", "Content-Length: 1234567890123456789", 1), 0, errContentLength},
		{"ErrCodingGzip", strings.Replace(chunked, "chunked", "gzip, chunked", 1), 0, errCoding},
		{"ErrCodingTwice", strings.Replace(chunked, "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 1), 0, errCoding},
		{"ErrCodingHTTP10", strings.Replace(chunked, "HTTP/1.1", "HTTP/1.0", 1), 0, errTE10},
		{"ErrChunkSizeSpace", strings.Replace(chunked, "3\r\nsec", "3 \r\nsec", 1), -2, errChunkSize},
		{"ErrChunkSizeNotHex", strings.Replace(chunked, "3\r\nsec", "3g\r\nsec", 1), -2, errChunkSize},
		{"ErrChunkSizeEmpty", strings.Replace(chunked, "3\r\nsec", "\r\nsec", 1), -2, errChunkSize},
		{"ErrChunkSizeBareLF", strings.Replace(chunked, "3\r\nsec", "3\nsec", 1), -2, errChunkSize},
		{"ErrChunkSizeTooLong", strings.Replace(chunked, "3\r\nsec", "0000000000000003\r\nsec", 1), -2, errChunkSize},
		{"ErrChunkEnd", strings.Replace(chunked, "sec\r\n", "secX\r\n", 1), -2, errChunkEnd},
		{"ErrTrailerObsFold", strings.Replace(chunked, "X-Trailer: y\r\n", "X-Trailer: y\r\n z\r\n", 1), -2, errObsFold},
		{"ErrHeadTooLarge", "GET / HTTP/1.1\r\nX-A: " + strings.Repeat("a", readBufferSize), 0, errHeadTooLarge},
		{"ErrAfterGood", get + "GET / HTTP/1.1\nHost: x\r\n\r\n", len(get), errBareLF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.through
			if want == -1 {
				want = len(tc.in)
			}
			for _, step := range []int{0, 1, 7} {
				through, err := scanAll(tc.in, step)
				if want == -2 {
					want = through // the same, however the bytes arrive
					if through < strings.Index(tc.in, "\r\n\r\n")+4 {
						t.Errorf("the header block was not let through before the body's fault")
					}
				}
				if through != want || !errors.Is(err, tc.err) {
					t.Errorf("in pieces of %d: through %d, err %v; want %d, %v", step, through, err, want, tc.err)
				}
			}
		})
	}
}

func TestFramerCloseAfter(t *testing.T) {
	f := framer{maxHead: readBufferSize}
	in := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
	if n, err := f.scan([]byte(in)); n != len(in) || err != nil {
		t.Fatalf("scan: %d, %v", n, err)
	}
	if !f.closeAfter {
		t.Error("Content-Length with Transfer-Encoding: the connection is not marked to close")
	}
	f = framer{maxHead: readBufferSize}
	if f.scan([]byte("GET / HTTP/1.1\r\n\r\n")); f.closeAfter {
		t.Error("a plain request marks the connection to close")
	}
}

// FuzzFramer checks that how the bytes arrive never changes what the
// framer lets through, and that it never lets more through than it got.
func FuzzFramer(f *testing.F) {
	f.Add("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 3)
	f.Add("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n", 5)
	f.Add("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nA: b\r\n\r\n", 1)
	f.Add("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 2)
	f.Fuzz(func(t *testing.T, in string, step int) {
		step = 1 + (step&0xff)%64
		whole, errWhole := scanAll(in, 0)
		pieces, errPieces := scanAll(in, step)
		if whole != pieces || (errWhole == nil) != (errPieces == nil) {
			t.Fatalf("whole: %d, %v; in pieces of %d: %d, %v", whole, errWhole, step, pieces, errPieces)
		}
		if whole > len(in) {
			t.Fatalf("let %d bytes through of %d", whole, len(in))
		}
	})
}
