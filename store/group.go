package store

// Groups: one secret for several recipients. The sender's client seals
// the same contents under N independent keys and stores each as a secret
// of its own; a group then gathers them under one receipt key, so the
// sender sees each link's state (which one was opened, when, and any
// attempt after it was gone) and can burn each alone. A group holds only
// the receipt indexes of its secrets, in link order; it is forgotten when
// its last secret's receipt is. Secrets with a human passphrase cannot be
// grouped: burning them needs the passphrase, which a group does not have.

import (
	"errors"
	"time"
)

// Sizes of a group.
const (
	MinGroup = 2
	MaxGroup = 20
)

// ErrGroup means the receipts given cannot make a group.
var ErrGroup = errors.New("a group gathers 2 to 20 different secrets that wait, none with a human passphrase")

type group struct {
	members []id // receipt indexes, in link order
	created int64
	forget  int64
	ref     Ref
}

// GroupReceipt is a snapshot of a group. Links carry no keys; a link
// whose receipt is forgotten reads as expired.
type GroupReceipt struct {
	Key     Key // the group's receipt key, when just created; else zero
	Ref     Ref // names the group in audit records
	Created time.Time
	Expires time.Time // when the group is forgotten
	Links   []Receipt
}

// CreateGroup gathers the secrets behind receiptKeys, in that order, under
// a new group receipt key. Each must wait, and have no human passphrase.
func (s *Store) CreateGroup(receiptKeys [][]byte) (GroupReceipt, error) {
	var g GroupReceipt
	if len(receiptKeys) < MinGroup || len(receiptKeys) > MaxGroup {
		return g, ErrGroup
	}
	members := make([]id, len(receiptKeys))
	for i, k := range receiptKeys {
		scr, err := s.derive(labelReceipt, k)
		if err != nil {
			return g, err
		}
		members[i] = derivedIn(scr).id()
		scr.Release()
		for _, m := range members[:i] {
			if m == members[i] {
				return g, ErrGroup
			}
		}
	}
	scr, err := s.arena.scratchSlot()
	if err != nil {
		return g, err
	}
	d, work := derivedIn(scr), scr.buf[deriveSize:]
	if err := newKeys(s.cfg.Rand, work, &g.Key); err != nil {
		scr.Release()
		return g, err
	}
	derive(d, work, labelGroup, s.procKey(), g.Key[:])
	gid, gref := d.id(), d.ref()
	scr.Release()
	burnStack()
	if s.remote != nil {
		return g, s.createGroupRemote(&g, gid, gref, members)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now().UnixNano()
	switch {
	case s.closed:
		g.Key.Wipe()
		return g, ErrClosed
	case len(s.extra.groups) >= s.cfg.MaxSecrets:
		g.Key.Wipe()
		return g, ErrFull
	case s.extra.groups[gid] != nil:
		g.Key.Wipe()
		return g, errors.New("store: key collision; random source is broken")
	}
	var forget int64
	for _, rid := range members {
		rec := s.receiptLocked(rid, now)
		if rec == nil || rec.state != StateNew {
			g.Key.Wipe()
			return g, ErrNotFound
		}
		if pass := s.passes[s.receipts.get(&rid)]; pass != nil && !pass.proof {
			g.Key.Wipe()
			return g, ErrGroup
		}
		forget = max(forget, rec.receiptDue)
	}
	s.extra.groups[gid] = &group{members: members, created: now, forget: forget, ref: gref}
	s.extra.schedule(forget, dueGroup, gid)
	g.Ref, g.Created, g.Expires = gref, time.Unix(0, now), time.Unix(0, forget)
	g.Links = s.linksLocked(members, now)
	return g, nil
}

// groupLocked returns the group behind index gid, unless it is due.
func (s *Store) groupLocked(gid id, now int64) *group {
	g := s.extra.groups[gid]
	if g == nil || now >= g.forget {
		return nil
	}
	return g
}

// linksLocked snapshots each member's receipt.
func (s *Store) linksLocked(members []id, now int64) []Receipt {
	links := make([]Receipt, len(members))
	for i, rid := range members {
		if rec := s.receiptLocked(rid, now); rec != nil {
			s.fill(&links[i], rec)
		} else {
			links[i].State = StateExpired
		}
	}
	return links
}

// Group returns the group behind a group receipt key.
func (s *Store) Group(key []byte) (GroupReceipt, error) {
	var g GroupReceipt
	s.plain.Add(1)
	scr, err := s.derive(labelGroup, key)
	if err != nil {
		return g, err
	}
	gid := derivedIn(scr).id()
	scr.Release()
	if s.remote != nil {
		return s.groupRemote(gid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now().UnixNano()
	gr := s.groupLocked(gid, now)
	if gr == nil {
		return g, ErrNotFound
	}
	g.Ref, g.Created, g.Expires = gr.ref, time.Unix(0, gr.created), time.Unix(0, gr.forget)
	g.Links = s.linksLocked(gr.members, now)
	return g, nil
}

// BurnGroupLink destroys link i (from 0) of the group behind key before it
// is read. Anything not waiting is ErrNotFound.
func (s *Store) BurnGroupLink(key []byte, i int) (Receipt, error) {
	var r Receipt
	scr, err := s.derive(labelGroup, key)
	if err != nil {
		return r, err
	}
	gid := derivedIn(scr).id()
	scr.Release()
	s.plain.Add(1)
	if s.remote != nil {
		return s.burnGroupLinkRemote(gid, i)
	}
	s.mu.Lock()
	now := s.cfg.Now().UnixNano()
	g := s.groupLocked(gid, now)
	if g == nil || i < 0 || i >= len(g.members) {
		s.mu.Unlock()
		return r, ErrNotFound
	}
	rid := g.members[i]
	rec := s.receiptLocked(rid, now)
	if rec == nil || rec.state != StateNew {
		s.mu.Unlock()
		return r, ErrNotFound
	}
	sid, pass := rec.secretID, s.passes[s.receipts.get(&rid)]
	s.mu.Unlock()
	c, err := s.take(sid, pass, StateBurned)
	if err != nil {
		return r, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.sealed.free(c)
	}
	if rec := s.receiptLocked(rid, s.cfg.Now().UnixNano()); rec != nil {
		s.fill(&r, rec)
	}
	return r, nil
}
