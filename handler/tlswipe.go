package handler

// crypto/tls decrypts each record in place, inside the connection's own
// input buffer (tls.Conn's rawInput), and hands out the plaintext from
// there. That buffer outlives the request (it is reused for the next
// record, and dropped unwiped when the connection ends), so a request's
// link keys, passphrases, credentials and secrets would stay in it.
//
// crypto/tls has no way to reach it, so its place is found once, by
// reflection over tls.Conn's layout, and checked when the package loads
// (as scrub.go does for fasthttp). Once the connection's decrypted data
// has all been read (nothing is waiting in tls.Conn's input), every byte
// of the buffer that is not a record still to be decrypted is zeroed:
// what was read, and the spare capacity beyond. When the connection
// closes, the whole buffer is.
//
// What stays out of reach: the record keys (inside crypto/tls's AEAD
// state), which with a capture of the traffic would decrypt it, and the
// handshake's own buffers (which hold no request data). SECURITY.md says
// so.

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"reflect"
	"unsafe"
)

type tlsLayout struct {
	rawInput, input uintptr // offsets in tls.Conn
	bufBuf, bufOff  uintptr // offsets in bytes.Buffer
	readerS         uintptr // offsets in bytes.Reader
	readerI         uintptr
}

var tlsPlan = mustPlanTLS()

func mustPlanTLS() tlsLayout {
	field := func(t reflect.Type, name string, want reflect.Type) uintptr {
		f, ok := t.FieldByName(name)
		if !ok || f.Type != want {
			panic(fmt.Sprintf("handler: %v has no field %s of type %v any more; tlswipe.go must be brought up to date", t, name, want))
		}
		return f.Offset
	}
	conn, buf, rd := reflect.TypeFor[tls.Conn](), reflect.TypeFor[bytes.Buffer](), reflect.TypeFor[bytes.Reader]()
	return tlsLayout{
		rawInput: field(conn, "rawInput", buf),
		input:    field(conn, "input", rd),
		bufBuf:   field(buf, "buf", byteSliceType),
		bufOff:   field(buf, "off", reflect.TypeFor[int]()),
		readerS:  field(rd, "s", byteSliceType),
		readerI:  field(rd, "i", reflect.TypeFor[int64]()),
	}
}

// wipeTLSRead zeroes what c's input buffer holds of records already read,
// when all of their plaintext has been handed out. It must be called on
// the goroutine that reads c, between reads.
func wipeTLSRead(c *tls.Conn) {
	base := unsafe.Pointer(c)
	in := unsafe.Add(base, tlsPlan.input)
	pending := *(*[]byte)(unsafe.Add(in, tlsPlan.readerS))
	if int64(len(pending)) > *(*int64)(unsafe.Add(in, tlsPlan.readerI)) {
		return // decrypted data still waits to be read, in the buffer
	}
	raw := unsafe.Add(base, tlsPlan.rawInput)
	buf := *(*[]byte)(unsafe.Add(raw, tlsPlan.bufBuf))
	off := *(*int)(unsafe.Add(raw, tlsPlan.bufOff))
	clear(buf[:off])
	clear(buf[len(buf):cap(buf)])
}

// wipeTLSAll zeroes c's whole input buffer. c must not be read again.
func wipeTLSAll(c *tls.Conn) {
	raw := unsafe.Add(unsafe.Pointer(c), tlsPlan.rawInput)
	clearCap(*(*[]byte)(unsafe.Add(raw, tlsPlan.bufBuf)))
}
