package handler

// Request bodies are read by otslite, not by fasthttp. The server streams
// request bodies (Server.StreamRequestBody), so fasthttp stops after the
// header block, and Serve reads the body into a buffer of its own before
// anything else runs: sized to Content-Length when there is one, grown for
// chunked bodies (the old buffer wiped each time it grows), and wiped when
// the request ends, whatever happened: a client gone mid-body, a body that
// stalls until the read timeout, a broken chunk, a body over the limit.
//
// fasthttp still reads the first byte of a body into its own pooled buffer
// before the handler runs (the server's body limit is set to one byte so
// that it reads no more); scrubRequest wipes that one too.
//
// Bodies longer than the plain API needs (those that carry an envelope of
// files) are read into locked memory instead: a file slot of the store's
// arena (store.Plain), never the heap. A chunked body that outgrows the
// heap's limit moves there, its heap buffer wiped.

import (
	"errors"
	"io"
	"net"
	"sync"
	"unsafe"

	"github.com/valyala/fasthttp"

	"otslite/store"
)

// bodyLimits say where bodies go: up to heap bytes in a pooled buffer,
// up to locked bytes (when more than heap) in a locked slot from slot.
type bodyLimits struct {
	heap, locked int
	slot         func(n int) (*store.Plain, error)
}

// most is the longest body taken.
func (l bodyLimits) most() int { return max(l.heap, l.locked) }

// readBody reads the request's body into a buffer of otslite's, which
// requestBody then returns. A body longer than lim.most() fails with
// errBodyTooLarge, and the connection must close (its body was not read
// to its end); one for which no locked slot is free, with store.ErrBusy.
func readBody(ctx *fasthttp.RequestCtx, lim bodyLimits) error {
	limit := lim.most()
	n := ctx.Request.Header.ContentLength()
	if n == 0 || n == -2 {
		return nil
	}
	if n > limit {
		return errBodyTooLarge
	}
	stream := ctx.RequestBodyStream()
	if stream == nil {
		return nil
	}
	var b *bodyBuf
	if n > lim.heap {
		p, err := lim.slot(n + 1)
		if err != nil {
			return err
		}
		b = &bodyBuf{b: p.Buf()[:0], plain: p}
	} else {
		b = getBodyBuf(max(n, 0), lim.heap)
	}
	ctx.SetUserValue(bodyKey{}, b)
	for {
		if len(b.b) == cap(b.b) {
			switch {
			case cap(b.b) > limit, b.plain != nil:
				return errBodyTooLarge
			case cap(b.b) > lim.heap:
				if lim.locked <= lim.heap {
					return errBodyTooLarge
				}
				if err := b.lock(lim); err != nil {
					return err
				}
			default:
				b.grow(lim.heap)
			}
		}
		k, err := stream.Read(b.b[len(b.b):cap(b.b)])
		b.b = b.b[:len(b.b)+k]
		if len(b.b) > limit {
			return errBodyTooLarge
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// requestBody returns the body readBody read (see Body).
func (h *Handler) requestBody(ctx *fasthttp.RequestCtx) []byte { return Body(ctx) }

// Body returns the body Guard read (nil when there was none). It is valid
// until the request ends, and wiped then. (A request handed to Serve with
// its body already in place, as tests do, has it returned as it is.)
func Body(ctx *fasthttp.RequestCtx) []byte {
	if b, ok := ctx.UserValue(bodyKey{}).(*bodyBuf); ok {
		return b.b
	}
	if ctx.RequestBodyStream() == nil {
		return ctx.Request.Body()
	}
	return nil
}

// errBodyTooLarge: the body is over the limit.
var errBodyTooLarge = errors.New("request body too large")

// bodyKey names the body among the request's user values.
type bodyKey struct{}

// bodyBuf is a request body. fasthttp closes it when the request is reset,
// which wipes it: the request ends, however it ends. A body in locked
// memory has its slot in plain.
type bodyBuf struct {
	b     []byte
	plain *store.Plain
}

// lock moves a chunked body that outgrew the heap's limit into a locked
// slot as large as a body may be, wiping its heap buffer.
func (b *bodyBuf) lock(lim bodyLimits) error {
	p, err := lim.slot(lim.locked + 1)
	if err != nil {
		return err
	}
	old := b.b
	b.b = append(p.Buf()[:0], old...)
	b.plain = p
	clear(old[:cap(old)])
	putBodyBuf(&bodyBuf{b: old[:0]})
	return nil
}

// plainWindow returns raw, a slice of a body in locked memory, as a Plain
// of its own (see store.Plain.Window); nil when the body is not locked or
// raw is not in it.
func (b *bodyBuf) plainWindow(raw []byte) *store.Plain {
	if b == nil || b.plain == nil || len(raw) == 0 || len(b.b) == 0 {
		return nil
	}
	off := int(uintptr(unsafe.Pointer(&raw[0])) - uintptr(unsafe.Pointer(&b.b[0])))
	if off < 0 || off > len(b.b)-len(raw) {
		return nil
	}
	return b.plain.Window(off, off+len(raw))
}

// Body buffers are pooled by size: powers of two from bodyMin up.
const bodyMin = 4 << 10

var bodyPools [16]sync.Pool

func poolIndex(size int) int {
	i := 0
	for s := bodyMin; s < size && i < len(bodyPools)-1; s <<= 1 {
		i++
	}
	return i
}

// getBodyBuf returns an empty buffer with room for n bytes (at least
// bodyMin) and one more, so reading to its end finds the end of the body
// without growing.
func getBodyBuf(n, limit int) *bodyBuf {
	want := min(n+1, limit+1)
	i := poolIndex(want)
	if v := bodyPools[i].Get(); v != nil {
		b := v.(*bodyBuf)
		if cap(b.b) >= want {
			return b
		}
		bodyPools[i].Put(v)
	}
	return &bodyBuf{b: make([]byte, 0, max(want, bodyMin<<i))}
}

// grow doubles the buffer (to at most limit+1 bytes), wiping the old one.
func (b *bodyBuf) grow(limit int) {
	bigger := getBodyBuf(min(2*cap(b.b), limit), limit)
	bigger.b = append(bigger.b, b.b...)
	old := b.b
	clear(old[:cap(old)])
	b.b = bigger.b
	bigger.b = old[:0]
	putBodyBuf(bigger)
}

// wipe zeroes the body when the request is done. A locked slot goes back
// to the store now: the connection may wait long for its next request.
func (b *bodyBuf) wipe() {
	clear(b.b[:cap(b.b)])
	if b.plain != nil {
		b.plain.Release()
		b.plain, b.b = nil, nil
	}
}

// Close wipes the buffer and gives it back.
func (b *bodyBuf) Close() error {
	clear(b.b[:cap(b.b)])
	b.b = b.b[:0]
	if b.plain != nil {
		b.plain.Release()
		b.plain, b.b = nil, nil
		return nil
	}
	putBodyBuf(b)
	return nil
}

func putBodyBuf(b *bodyBuf) {
	i := poolIndex(cap(b.b))
	if bodyMin<<i == cap(b.b) {
		bodyPools[i].Put(b)
	}
}

// bodyFailure is what a failed body read answers: nothing when the client
// is gone, 408 when it stalled, the framing's status when it broke the
// rules, 413 when too large, else 400. Unless the client is gone or
// stalled, it may still be sending the body: the connection drains it
// when it closes (see conn.drain).
func (h *Handler) bodyFailure(ctx *fasthttp.RequestCtx, err error) {
	ctx.SetConnectionClose()
	c, _ := ctx.Conn().(*conn)
	var fe *framingError
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		writeProtocolError(ctx, fasthttp.StatusRequestTimeout, "Request timeout")
		return
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		// The client is gone; there is no one to answer.
		if c != nil {
			c.Close()
		}
		return
	}
	if c != nil {
		c.lingerOnClose()
	}
	switch {
	case errors.Is(err, errBodyTooLarge):
		h.writeError(ctx, h.errTooLarge, nil)
	case errors.Is(err, store.ErrBusy), errors.Is(err, store.ErrClosed), errors.Is(err, store.ErrTooLarge):
		h.writeError(ctx, h.errorFor(opCreate, err), nil)
	case errors.As(err, &fe):
		writeProtocolError(ctx, fe.status, fe.msg)
	default:
		writeProtocolError(ctx, fasthttp.StatusBadRequest, "Bad request")
	}
}
