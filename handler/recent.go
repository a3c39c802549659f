package handler

// GET /api/v1/receipt/recent lists the receipts made with the caller's
// credential, oldest first, as upstream does: receipt objects without
// "secret_key" (nor its newer name "secret_identifier", which upstream
// leaves in: a leaked token must not open the secrets it made). To list them the server must keep their receipt keys,
// which lead to the secrets. It keeps each one masked with a key stream
// that only the credential's token produces (access.Credential.Mask), so
// a memory image without the token reveals none; a listing unmasks them
// for as long as it takes to read the receipts.

import (
	"errors"
	"sync"

	"github.com/valyala/fasthttp"

	"otslite/handler/access"
	"otslite/handler/audit"
	"otslite/store"
)

// recentKeep is how many receipts one credential can list; older ones
// drop out of the list (not out of the store).
const recentKeep = 1000

type recentIndex struct {
	shared *sharedRecents // the lists live in Redis (shared.go); nil: here

	mu    sync.Mutex
	nonce uint64                    // the last one used; never reused
	lists map[[32]byte][]recentItem // by credential ID, oldest first
}

type recentItem struct {
	key   store.Key // masked
	nonce uint64
}

// add remembers a receipt key made with credential c.
func (r *recentIndex) add(c *access.Credential, key *store.Key) {
	if r.shared != nil {
		r.shared.add(c, key) //nolint:errcheck // the secret is made; only its listing is lost
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lists == nil {
		r.lists = make(map[[32]byte][]recentItem)
	}
	r.nonce++
	it := recentItem{key: *key, nonce: r.nonce}
	c.Mask(it.key[:], it.nonce)
	list := append(r.lists[c.ID], it)
	if len(list) > recentKeep {
		list = append(list[:0:0], list[len(list)-recentKeep:]...)
	}
	r.lists[c.ID] = list
}

// unmasked returns c's receipt keys in clear, newest first, from wherever
// the lists live. The caller wipes them.
func (r *recentIndex) unmasked(c *access.Credential) ([]recentItem, error) {
	if r.shared != nil {
		return r.shared.unmasked(c)
	}
	return r.local(c), nil
}

// local is unmasked for lists kept here.
func (r *recentIndex) local(c *access.Credential) []recentItem {
	r.mu.Lock()
	list := r.lists[c.ID]
	out := make([]recentItem, len(list))
	for i, it := range list {
		out[len(list)-1-i] = it
	}
	r.mu.Unlock()
	for i := range out {
		c.Mask(out[i].key[:], out[i].nonce)
	}
	return out
}

// drop forgets the listed items of credential id whose receipts are gone.
func (r *recentIndex) drop(id [32]byte, gone map[uint64]bool) {
	if len(gone) == 0 {
		return
	}
	if r.shared != nil {
		r.shared.drop(id, gone)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := r.lists[id][:0]
	for _, it := range r.lists[id] {
		if !gone[it.nonce] {
			kept = append(kept, it)
		}
	}
	clear(r.lists[id][len(kept):])
	if len(kept) == 0 {
		delete(r.lists, id)
		return
	}
	r.lists[id] = kept
}

// prune forgets the lists of credentials no longer in force.
func (r *recentIndex) prune(holds func([32]byte) bool) {
	if r.shared != nil {
		r.shared.prune(holds)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, list := range r.lists {
		if !holds(id) {
			clear(list)
			delete(r.lists, id)
		}
	}
}

func (h *Handler) recent(ctx *fasthttp.RequestCtx) {
	c := h.door(ctx, audit.Recent)
	defer c.done()
	if e := h.credential(&c, audit.Recent, true); e != nil {
		h.writeError(ctx, e, nil)
		return
	}
	items, err := h.recents.unmasked(&c.cred)
	if err != nil {
		h.writeError(ctx, errUnavailable, nil)
		return
	}
	gone := make(map[uint64]bool)
	b := newBody()
	w := jw{b: append(b.head, '[')}
	// Oldest first, as upstream lists them (by creation).
	for i := len(items) - 1; i >= 0; i-- {
		r, err := h.store.Receipt(items[i].key[:])
		items[i].key.Wipe()
		if unavailable(err) {
			for j := range items[i:] {
				items[i+j].key.Wipe()
			}
			b.Close()
			h.writeError(ctx, errUnavailable, nil)
			return
		}
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				gone[items[i].nonce] = true
			}
			continue
		}
		h.v1Receipt(&w, &r, v1Listed)
		r.Wipe()
	}
	b.head = w.with(']')
	h.recents.drop(c.cred.ID, gone)
	h.writeBody(ctx, b)
}
