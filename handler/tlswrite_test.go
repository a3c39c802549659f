package handler

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"math/big"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp/fasthttputil"
	"golang.org/x/sys/unix"

	"otslite/store/secretmode"
)

// TestCryptoTLSDropsWriteBuffers shows what crypto/tls does on its own:
// with its pool of write buffers empty (as after two garbage
// collections), a small TLS 1.3 write is copied into a buffer with no
// room for the tag; crypto/tls seals it into a new buffer and drops the
// old one, plaintext and all. The copy is found in this process's memory,
// laid out as inDroppedTLSWrite says; the marker's own copies are not
// taken for one. If this fails, crypto/tls has changed, and so may what
// TestTLSWriteBuffersErased proves.
func TestCryptoTLSDropsWriteBuffers(t *testing.T) {
	dropped, others := writeAfterGC(t, func(ln net.Listener) net.Listener { return ln }, false)
	if dropped == 0 {
		t.Errorf("no dropped crypto/tls write buffer holds the plaintext (%d other copies)", others)
	}
	if others == 0 {
		t.Error("the marker's own copies were taken for a dropped write buffer: inDroppedTLSWrite accepts too much")
	}
}

// TestTLSWriteBuffersErased writes the same way through the handler's
// connections, which call crypto/tls in secretmode.Do: the buffer it
// drops is erased when the garbage collector frees it.
func TestTLSWriteBuffersErased(t *testing.T) {
	if !secretmode.Erases {
		const why = "built without GOEXPERIMENT=runtimesecret: crypto/tls's dropped write buffers are not erased"
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	h, _, _ := MustOpenHandler(t)
	dropped, others := writeAfterGC(t, func(ln net.Listener) net.Listener { return h.Listener(ln, nil) }, true)
	if dropped != 0 {
		t.Errorf("%d copies of a TLS write in dropped crypto/tls buffers", dropped)
	}
	if others == 0 {
		t.Error("the scan found not even the marker's own copies: it does not work")
	}
}

// writeAfterGC serves TLS 1.3 on wrap's listener, writes one small record
// carrying a marker on the accepted connection once crypto/tls's pool of
// write buffers is empty, and counts the marker's copies in this
// process's memory: in dropped write buffers, and elsewhere. With collect,
// two more collections come first, which free what was dropped (erasing
// it, if it was allocated in secretmode.Do); without, no collection runs
// until the scan is done, so nothing freed can be reused either. The
// client reads the records raw, never decrypting them.
func writeAfterGC(t *testing.T, wrap func(net.Listener) net.Listener, collect bool) (dropped, others int) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS13}
	mem := fasthttputil.NewInmemoryListener()
	defer mem.Close()
	ln := wrap(tls.NewListener(mem, cfg))

	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	raw, err := mem.Dial() // it waits for Accept
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	c := <-accepted
	if c == nil {
		t.Fatal("no connection accepted")
	}
	defer c.Close()
	shaken := make(chan error, 1)
	go func() {
		shaken <- tls.Client(raw, &tls.Config{InsecureSkipVerify: true}).Handshake() //nolint:gosec // a test of the server's buffers
	}()
	// The first write makes the handshake; its records are read raw.
	wrote := make(chan error, 1)
	go func() { _, err := c.Write([]byte("-")); wrote <- err }()
	if err := <-shaken; err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, raw) //nolint:errcheck // until the connection closes
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}

	var b [12]byte
	rand.Read(b[:])
	marker := []byte("MRKtlswrite" + hex.EncodeToString(b[:]))
	// 1010 bytes: 1015 with the record header, a 1024-byte buffer, which
	// sealed would need 1032. (Objects of that size are rarer than small
	// ones, so the freed buffer is less likely to be reused before the
	// scan.)
	payload := bytes.Repeat([]byte{'x'}, 1010)
	copy(payload[10:], marker)
	scan := scanOwnMemory(t) // before the write: the scan allocates nothing after it
	runtime.GC()
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if _, err := c.Write(payload); err != nil {
		t.Fatal(err)
	}
	clear(payload)
	if collect {
		runtime.GC()
		runtime.GC()
	}
	return scan(marker)
}

// scanOwnMemory returns a scan that counts a needle's copies in this
// process's readable mappings of up to 1 GiB (the heap, not the race
// detector's shadow): those inDroppedTLSWrite places in a dropped write
// buffer, and others. The mappings are listed now, and the scan reads
// each one with pread into memory mapped for it, outside the heap: it
// neither grows the heap nor allocates where a freed object lies.
func scanOwnMemory(t *testing.T) func(needle []byte) (dropped, others int) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open("/proc/self/mem", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	type span struct{ start, end uint64 }
	var spans []span
	for line := range strings.Lines(string(maps)) {
		f := strings.Fields(line)
		lo, hi, _ := strings.Cut(f[0], "-")
		start, _ := strconv.ParseUint(lo, 16, 64)
		end, _ := strconv.ParseUint(hi, 16, 64)
		if f[1][0] != 'r' || end-start > 1<<30 || len(f) >= 6 && strings.HasPrefix(f[5], "[v") {
			continue
		}
		spans = append(spans, span{start, end})
	}
	return func(needle []byte) (dropped, others int) {
		for _, s := range spans {
			dropped, others = scanSpan(t, fd, s.start, s.end, needle, dropped, others)
		}
		return dropped, others
	}
}

// scanSpan adds to dropped and others the needle's copies in one mapping.
func scanSpan(t *testing.T, fd int, start, end uint64, needle []byte, dropped, others int) (int, int) {
	buf, err := unix.Mmap(-1, 0, int(end-start), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for n < len(buf) {
		m, err := unix.Pread(fd, buf[n:], int64(start)+int64(n))
		if err != nil || m <= 0 {
			break
		}
		n += m
	}
	region := buf[:n]
	for at := 0; ; {
		i := bytes.Index(region[at:], needle)
		if i < 0 {
			break
		}
		if inDroppedTLSWrite(region, at+i, len(needle)) {
			dropped++
		} else {
			others++
		}
		at += i + 1
	}
	if err := unix.Munmap(buf); err != nil {
		t.Fatal(err)
	}
	return dropped, others
}

// inDroppedTLSWrite reports whether region[at:at+n] lies in the payload
// of a TLS 1.3 record as crypto/tls lays it out to seal it: a header
// (application data, 0x0303, length), then the plaintext. The length is
// the sealed one (plaintext, content type and tag: 17 more, with the
// content type right after the plaintext) or, when crypto/tls had to move
// the record before that, the plaintext's own.
func inDroppedTLSWrite(region []byte, at, n int) bool {
	const header, maxPlaintext = 5, 1 << 14
	for h := at - header; h >= 0 && h >= at-header-maxPlaintext; h-- {
		if region[h] != 0x17 || region[h+1] != 0x03 || region[h+2] != 0x03 {
			continue
		}
		l := int(region[h+3])<<8 | int(region[h+4])
		plain := h + header
		if m := l - 17; m > 0 && plain+m < len(region) && region[plain+m] == 0x17 && at+n <= plain+m {
			return true
		}
		if l <= maxPlaintext && at+n <= plain+l {
			return true
		}
	}
	return false
}
