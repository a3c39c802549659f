package store

// Requests: asking someone for a secret. A request has two keys: the
// request key, in the link the requester sends out (with their public
// key in its fragment), and the inbox key, in the requester's own link
// (with their private key in its fragment). The answerer stores one
// answer (an envelope under a key only the requester can derive, with its
// proof) through the request key; the requester sees the request's state
// and reveals the answer through the inbox key.
//
// The answer is an ordinary secret whose secret key is drawn when the
// request is made. The request keeps that key twice, each XORed with a
// pad derived from one of its two keys (as a receipt keeps its secret's
// key, seal.go): the answer can be stored only by a holder of the request
// link, and found only by a holder of the inbox link. A request takes one
// answer: a second is refused, and so is one after its time ran out.

import (
	"errors"
	"net/netip"
	"time"
)

// requestPublicLen is the length of the answerer's public key a request
// keeps: a P-256 point, uncompressed.
const requestPublicLen = 65

// Errors of requests.
var (
	ErrAnswered = errors.New("this request has been answered already")
	ErrAnswer   = errors.New("an answer is an envelope with its proof (no passphrase) and a public key")
)

type reqState uint8

const (
	reqWaiting   reqState = iota // for an answer
	reqAnswering                 // an answer is being stored
	reqAnswered
	reqExpired // no answer came in time
)

type request struct {
	askID, inboxID id
	ref            Ref
	created        int64
	deadline       int64 // the answer must come before
	forget         int64 // the request is forgotten at
	ttl            time.Duration
	cust           string
	state          reqState
	answered       int64
	public         [requestPublicLen]byte
	answerRID      id  // the answer's receipt index
	answerRef      Ref // the answer's audit name
	keyForAsk      Key // the answer's secret key XOR the request key's pad
	keyForInbox    Key // the same XOR the inbox key's pad
}

func (r *request) wipe() {
	r.keyForAsk.Wipe()
	r.keyForInbox.Wipe()
}

// RequestState is where a request is, as its requester sees it.
type RequestState uint8

// Request states.
const (
	RequestWaiting  RequestState = iota // for an answer
	RequestAnswered                     // answered; the answer waits to be read
	RequestRead                         // the answer was read
	RequestExpired                      // no answer in time, or the answer expired unread
)

func (s RequestState) String() string {
	switch s {
	case RequestWaiting:
		return "waiting"
	case RequestAnswered:
		return "answered"
	case RequestRead:
		return "read"
	case RequestExpired:
		return "expired"
	}
	return "unknown"
}

// RequestReceipt is a snapshot of a request. Callers Wipe it: when just
// created it carries both keys.
type RequestReceipt struct {
	AskKey, InboxKey Key
	Ref              Ref // names the request in audit records
	State            RequestState
	Created          time.Time
	Deadline         time.Time // the answer must come before
	Expires          time.Time // when the request is forgotten
	Answered         time.Time // zero unless answered
	AnswerExpires    time.Time // the answer's expiry, once answered
	Read             time.Time // zero unless read
	Public           [requestPublicLen]byte
	AnswerRef        Ref
	PassphraseNeeded bool // the answer needs a proof (always, once answered)
}

// Wipe zeroes the keys r carries.
func (r *RequestReceipt) Wipe() {
	r.AskKey.Wipe()
	r.InboxKey.Wipe()
}

// CreateRequest makes a request that waits ttl for its answer (the answer
// then waits ttl to be read), and returns its two keys.
func (s *Store) CreateRequest(ttl time.Duration, custID string) (RequestReceipt, error) {
	var r RequestReceipt
	if ttl < time.Second {
		return r, errors.New("store: ttl is too short")
	}
	scr, err := s.arena.scratchSlot()
	if err != nil {
		return r, err
	}
	defer scr.Release()
	d, work := derivedIn(scr), scr.buf[deriveSize:]
	var answerKey Key
	defer answerKey.Wipe()
	if err := newKeys(s.cfg.Rand, work, &r.AskKey, &r.InboxKey, &answerKey); err != nil {
		r.Wipe()
		return r, err
	}
	req := &request{ttl: ttl, cust: custID}
	derive(d, work, labelAsk, s.procKey(), r.AskKey[:])
	req.askID, req.ref = d.id(), d.ref()
	xorPad(req.keyForAsk[:], d.key(), &answerKey)
	derive(d, work, labelInbox, s.procKey(), r.InboxKey[:])
	req.inboxID = d.id()
	xorPad(req.keyForInbox[:], d.key(), &answerKey)
	clear(d[:])
	burnStack()
	if s.remote != nil {
		defer req.wipe()
		return r, s.createRequestRemote(&r, req)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	switch {
	case s.closed:
		r.Wipe()
		return r, ErrClosed
	case len(s.extra.asks) >= s.cfg.MaxSecrets:
		r.Wipe()
		return r, ErrFull
	case s.extra.asks[req.askID] != nil || s.extra.inboxes[req.inboxID] != nil:
		r.Wipe()
		return r, errors.New("store: key collision; random source is broken")
	}
	req.created = now.UnixNano()
	req.deadline = now.Add(ttl).UnixNano()
	req.forget = now.Add(2 * ttl).UnixNano()
	s.extra.asks[req.askID] = req
	s.extra.inboxes[req.inboxID] = req
	s.extra.waits++
	s.extra.schedule(req.deadline, dueAskDeadline, req.askID)
	s.extra.schedule(req.forget, dueRequest, req.askID)
	s.stateLocked(&r, req, now.UnixNano())
	return r, nil
}

// stateLocked fills r from req (keys aside).
func (s *Store) stateLocked(r *RequestReceipt, req *request, now int64) {
	r.Ref = req.ref
	r.Created = time.Unix(0, req.created)
	r.Deadline = time.Unix(0, req.deadline)
	r.Expires = time.Unix(0, req.forget)
	r.Answered, r.AnswerExpires, r.Read = time.Time{}, time.Time{}, time.Time{}
	switch req.state {
	case reqWaiting, reqAnswering:
		r.State = RequestWaiting
		if now >= req.deadline && req.state == reqWaiting {
			r.State = RequestExpired
		}
	case reqExpired:
		r.State = RequestExpired
	case reqAnswered:
		r.Answered, r.Public, r.AnswerRef, r.PassphraseNeeded = time.Unix(0, req.answered), req.public, req.answerRef, true
		r.State = RequestExpired
		if rec := s.receiptLocked(req.answerRID, now); rec != nil {
			r.AnswerExpires = time.Unix(0, rec.secretDue)
			switch rec.state {
			case StateNew:
				r.State = RequestAnswered
			case StateReceived:
				r.State, r.Read = RequestRead, time.Unix(0, rec.updated)
			}
		}
	}
}

// Asked returns the request behind a request key, as its answerer sees
// it: waiting, or answered. One whose time ran out is ErrNotFound.
func (s *Store) Asked(askKey []byte) (RequestReceipt, error) {
	var r RequestReceipt
	s.plain.Add(1)
	scr, err := s.derive(labelAsk, askKey)
	if err != nil {
		return r, err
	}
	aid := derivedIn(scr).id()
	scr.Release()
	if s.remote != nil {
		return s.askedRemote(aid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now().UnixNano()
	req := s.extra.asks[aid]
	if req == nil || now >= req.forget {
		return r, ErrNotFound
	}
	s.stateLocked(&r, req, now)
	if r.State == RequestExpired && req.state != reqAnswered {
		return RequestReceipt{}, ErrNotFound
	}
	r.Public = [requestPublicLen]byte{} // the answerer's own; no one else's business
	return r, nil
}

// AnswerRequest stores the answer to the request behind askKey: an
// envelope in secret (which the caller still owns and releases), its
// proof (no passphrase), and the answerer's public key. The answer waits
// the request's ttl, at most maxTTL (the session's end). Of concurrent
// answers exactly one is stored; the others get ErrAnswered.
func (s *Store) AnswerRequest(askKey []byte, secret *Plain, proof, public []byte, maxTTL time.Duration) (RequestReceipt, error) {
	var r RequestReceipt
	if len(proof) != ProofLen || !IsProof(proof) || len(public) != requestPublicLen {
		return r, ErrAnswer
	}
	scr, err := s.derive(labelAsk, askKey)
	if err != nil {
		return r, err
	}
	d := derivedIn(scr)
	aid := d.id()
	if s.remote != nil {
		return s.answerRemote(scr, aid, secret, proof, public, maxTTL)
	}
	s.mu.Lock()
	now := s.cfg.Now().UnixNano()
	req := s.extra.asks[aid]
	switch {
	case req == nil || now >= req.forget:
		err = ErrNotFound
	case req.state == reqAnswering || req.state == reqAnswered:
		err = ErrAnswered
	case req.state == reqExpired || now >= req.deadline:
		err = ErrNotFound
	}
	if err != nil {
		s.mu.Unlock()
		scr.Release()
		return r, err
	}
	req.state = reqAnswering
	var sk Key
	unxorPad(&sk, d.key(), req.keyForAsk[:])
	ttl, cust := min(req.ttl, maxTTL), req.cust
	s.mu.Unlock()
	scr.Release()

	rec, err := s.create(secret, CreateOptions{TTL: max(ttl, time.Second), Passphrase: proof, CustID: cust}, &sk)
	sk.Wipe()
	burnStack()
	var rid id
	if err == nil {
		var rs *Plain
		if rs, err = s.derive(labelReceipt, rec.ReceiptKey[:]); err == nil {
			rid = derivedIn(rs).id()
			rs.Release()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now = s.cfg.Now().UnixNano()
	if err != nil {
		rec.Wipe()
		if s.extra.asks[aid] == req {
			req.state = reqWaiting
			if now >= req.deadline {
				req.state = reqExpired
				s.extra.waits--
			}
		}
		return r, err
	}
	if s.extra.asks[aid] != req {
		// Forgotten meanwhile (the store is closing): so is the answer.
		rec.Wipe()
		return r, ErrNotFound
	}
	req.state = reqAnswered
	req.answered = now
	copy(req.public[:], public)
	req.answerRID, req.answerRef = rid, rec.Ref
	s.extra.waits--
	if due := rec.ReceiptExpires.UnixNano(); due > req.forget {
		req.forget = due
		s.extra.schedule(due, dueRequest, aid)
	}
	rec.Wipe()
	s.stateLocked(&r, req, now)
	r.Public = [requestPublicLen]byte{}
	return r, nil
}

// Inbox returns the request behind an inbox key, as its requester sees
// it.
func (s *Store) Inbox(inboxKey []byte) (RequestReceipt, error) {
	var r RequestReceipt
	s.plain.Add(1)
	scr, err := s.derive(labelInbox, inboxKey)
	if err != nil {
		return r, err
	}
	iid := derivedIn(scr).id()
	scr.Release()
	if s.remote != nil {
		return s.inboxRemote(iid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now().UnixNano()
	req := s.extra.inboxes[iid]
	if req == nil || now >= req.forget {
		return r, ErrNotFound
	}
	s.stateLocked(&r, req, now)
	return r, nil
}

// RevealAnswer reveals the answer to the request behind an inbox key, with
// its proof, as Reveal does (and with Reveal's answers: once only, and
// ErrNotFound for a wrong proof).
func (s *Store) RevealAnswer(inboxKey, proof []byte, client netip.Addr) (*Plain, Ref, error) {
	scr, err := s.derive(labelInbox, inboxKey)
	if err != nil {
		return nil, Ref{}, err
	}
	d := derivedIn(scr)
	iid := d.id()
	if s.remote != nil {
		return s.revealAnswerRemote(scr, iid, proof, client)
	}
	var sk Key
	s.mu.Lock()
	req := s.extra.inboxes[iid]
	if req == nil || req.state != reqAnswered || s.cfg.Now().UnixNano() >= req.forget {
		s.mu.Unlock()
		scr.Release()
		return nil, Ref{}, ErrNotFound
	}
	unxorPad(&sk, d.key(), req.keyForInbox[:])
	s.mu.Unlock()
	scr.Release()
	defer sk.Wipe()
	return s.Reveal(sk[:], proof, client)
}
