package handler

// scrubRequest zeroes every byte fasthttp keeps of a request, to the full
// capacity of each buffer: the header block and its parsed values
// (credentials included), the request line and the parsed URI (link keys,
// a query string that may carry a secret), form arguments, and the body
// buffer. fasthttp resets a request without zeroing it (a reset only
// shortens each buffer to length 0 for reuse), and when reading a request
// fails it resets it before any code of ours runs, so wiping only what
// the accessors show would miss exactly those bytes.
//
// fasthttp offers no way to reach a buffer's capacity after a reset, so
// the buffers are found once, by reflection over fasthttp.Request's own
// layout: every []byte field, every slice of key/value pairs (header
// fields, cookies, query and form arguments) up to its capacity, and the
// pooled body buffer. The method alone is kept: fasthttp reads it again
// after the handler, and a method is a token, never a secret. Slices of
// slices are skipped: they alias the buffers above (or fasthttp's shared
// constants, which must never be written). The plan is checked when the package loads, so a fasthttp
// whose layout no longer fits fails every test at once rather than
// silently wiping less.

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// scrubPlan lists where the buffers sit inside a fasthttp.Request.
type scrubPlan struct {
	bytes []uintptr  // offsets of []byte fields
	pairs []pairPlan // slices of key/value pairs
	body  uintptr    // offset of the *bytebufferpool.ByteBuffer body
	names []string   // the fields found, for the check and the tests
}

// pairPlan is a slice of structs (fasthttp's argsKV) whose []byte fields
// are wiped in every element up to the slice's capacity.
type pairPlan struct {
	at     uintptr   // offset of the slice header
	size   uintptr   // element size
	fields []uintptr // offsets of []byte fields within an element
}

var requestScrub = mustPlanScrub()

// mustPlanScrub works the plan out and checks that it reaches what must
// be wiped.
func mustPlanScrub() scrubPlan {
	var p scrubPlan
	p.walk(reflect.TypeFor[fasthttp.Request](), 0, "Request")
	need := []string{
		"Request.Header.header.h", "Request.Header.header.cookies", "Request.Header.requestURI",
		"Request.Header.rawHeaders", "Request.Header.host", "Request.uri.pathOriginal",
		"Request.uri.path", "Request.uri.queryString", "Request.uri.queryArgs.args",
		"Request.postArgs.args", "Request.body",
	}
	for _, n := range need {
		found := false
		for _, have := range p.names {
			found = found || have == n
		}
		if !found {
			panic(fmt.Sprintf("handler: fasthttp.Request has no field %s any more; scrubRequest must be brought up to date", n))
		}
	}
	return p
}

var (
	byteSliceType = reflect.TypeFor[[]byte]()
	bodyBufType   = reflect.TypeFor[*bytebufferpool.ByteBuffer]()
)

func (p *scrubPlan) walk(t reflect.Type, base uintptr, path string) {
	for i := range t.NumField() {
		f := t.Field(i)
		name := path + "." + f.Name
		at := base + f.Offset
		switch {
		case f.Name == "bodyRaw":
			// Set only by SetBodyRaw, to memory that is not fasthttp's.
		case name == "Request.Header.method":
			// Read again after the handler (a HEAD answer has no body);
			// a method is a token, never a secret.
		case f.Type == byteSliceType:
			p.bytes = append(p.bytes, at)
			p.names = append(p.names, name)
		case f.Type == bodyBufType && f.Name == "body":
			p.body = at
			p.names = append(p.names, name)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			e := f.Type.Elem()
			pp := pairPlan{at: at, size: e.Size()}
			for j := range e.NumField() {
				if e.Field(j).Type == byteSliceType {
					pp.fields = append(pp.fields, e.Field(j).Offset)
				}
			}
			if len(pp.fields) > 0 {
				p.pairs = append(p.pairs, pp)
				p.names = append(p.names, name)
			}
		case f.Type.Kind() == reflect.Struct:
			p.walk(f.Type, at, name)
		}
	}
}

// scrubRequest zeroes what r holds (see above). It does not change any
// length, so it is safe at any point where r's contents are no longer
// needed.
func scrubRequest(r *fasthttp.Request) {
	base := unsafe.Pointer(r)
	for _, at := range requestScrub.bytes {
		clearCap(*(*[]byte)(unsafe.Add(base, at)))
	}
	for _, pp := range requestScrub.pairs {
		s := (*sliceHeader)(unsafe.Add(base, pp.at))
		for i := range uintptr(s.cap) {
			elem := unsafe.Add(s.data, i*pp.size)
			for _, f := range pp.fields {
				clearCap(*(*[]byte)(unsafe.Add(elem, f)))
			}
		}
	}
	if b := *(**bytebufferpool.ByteBuffer)(unsafe.Add(base, requestScrub.body)); b != nil {
		clearCap(b.B)
	}
}

// sliceHeader is how Go lays out a slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

// clearCap zeroes b up to its capacity.
func clearCap(b []byte) { clear(b[:cap(b)]) }
