package store

// What goes beyond one secret for one person, on Redis: generated
// passwords shown once (ShowGenerated), groups of links (group.go) and
// requests (request.go), with the same rules as in memory and the same
// atomicity across replicas. A group is its links' receipt ids; a request
// keeps the answer's secret key only XORed with pads derived from its two
// keys, as a receipt keeps its secret's; an answer is stored, and its
// request answered, in one script, so of any number of answers on any
// number of replicas exactly one is taken. remote_lua.go lays out the
// keys.

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"otslite/store/resp"
)

// linkLua reads link rid of a group: its receipt's fields (rfields), then
// the lockouts of its secret while it waits ("{}" otherwise).
const linkLua = `
local function link(prefix, rid)
  local f = redis.call('HMGET', prefix .. 'r:' .. rid, unpack(rfields))
  local lk = '{}'
  if f[1] == '0' then
    local l = redis.call('HGET', prefix .. 's:' .. f[13], 'lk')
    if l then lk = l end
  end
  table.insert(f, lk)
  return f
end
`

// linkFields is how many values linkLua gives for one link.
const linkFields = remoteFields + 1

// requestLua reads request qk: {0}, or {1, c, dl, f, ttl, cu, ref, st,
// an, pub, ar, aref, ka, ki, i, then the answer's receipt's st, sd, u,
// rd (nil until answered)}.
const requestLua = `
local function request(prefix, qk)
  local q = redis.call('HMGET', qk, 'c', 'dl', 'f', 'ttl', 'cu', 'ref', 'st', 'an', 'pub', 'ar', 'aref', 'ka', 'ki', 'i')
  if not q[1] then return {0} end
  local out = {1}
  for _, v in ipairs(q) do table.insert(out, v) end
  local a = {false, false, false, false}
  if q[7] == '2' then a = redis.call('HMGET', prefix .. 'r:' .. q[10], 'st', 'sd', 'u', 'rd') end
  for _, v in ipairs(a) do table.insert(out, v) end
  return out
end
`

var (
	// Gathers waiting secrets under a new group. KEYS: group, groups.
	// ARGV: prefix, now, group id, ref, most groups, ms Redis keeps a
	// key past its time, then the links' receipt ids. Replies {5}, {4},
	// {0} (a link does not wait), {8} (a link has a human passphrase),
	// or {1, forgotten at, links...}.
	scriptGroupCreate = resp.NewScript(receiptFieldsLua + linkLua + `
if redis.call('EXISTS', KEYS[1]) == 1 then return {5} end
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {4} end
local forget, members = 0, {}
for i = 7, #ARGV do
  local r = redis.call('HMGET', ARGV[1] .. 'r:' .. ARGV[i], 'st', 'sd', 'rd', 'p', 'pf')
  if not r[1] or r[1] ~= '0' or now >= tonumber(r[2]) or now >= tonumber(r[3]) then return {0} end
  if r[4] == '1' and r[5] ~= '1' then return {8} end
  if tonumber(r[3]) > forget then forget = tonumber(r[3]) end
  table.insert(members, ARGV[i])
end
local f = string.format('%d', forget)
redis.call('HSET', KEYS[1], 'm', table.concat(members, ','), 'c', ARGV[2], 'f', f, 'ref', ARGV[4])
redis.call('PEXPIRE', KEYS[1], string.format('%d', forget - now + tonumber(ARGV[6])))
redis.call('ZADD', KEYS[2], f, ARGV[3])
local out = {1, f}
for _, rid in ipairs(members) do
  for _, v in ipairs(link(ARGV[1], rid)) do table.insert(out, v) end
end
return out
`)

	// Reads a group. KEYS: group. ARGV: prefix, now. Replies {0} or {1,
	// created, forgotten at, ref, links...}.
	scriptGroupRead = resp.NewScript(receiptFieldsLua + linkLua + `
local g = redis.call('HMGET', KEYS[1], 'm', 'c', 'f', 'ref')
if not g[1] or tonumber(ARGV[2]) >= tonumber(g[3]) then return {0} end
local out = {1, g[2], g[3], g[4]}
for rid in string.gmatch(g[1], '[^,]+') do
  for _, v in ipairs(link(ARGV[1], rid)) do table.insert(out, v) end
end
return out
`)

	// Burns link n (from 1) of a group. KEYS: group, count, due. ARGV:
	// prefix, now, n. Replies {0} or {1, receipt fields...}.
	scriptGroupBurn = resp.NewScript(retireLua + receiptFieldsLua + `
local g = redis.call('HMGET', KEYS[1], 'm', 'f')
local now = tonumber(ARGV[2])
if not g[1] or now >= tonumber(g[2]) then return {0} end
local rid, i = nil, 0
for m in string.gmatch(g[1], '[^,]+') do
  i = i + 1
  if i == tonumber(ARGV[3]) then rid = m end
end
if not rid then return {0} end
local rk = ARGV[1] .. 'r:' .. rid
local r = redis.call('HMGET', rk, 'st', 'sd', 'rd', 's')
if not r[1] or r[1] ~= '0' or now >= tonumber(r[2]) or now >= tonumber(r[3]) then return {0} end
local sk = ARGV[1] .. 's:' .. r[4]
local h = redis.call('HMGET', sk, 'v', 'pf')
if not h[1] or (h[1] ~= '' and h[2] ~= '1') then return {0} end
retire(ARGV[1], sk, KEYS[2], KEYS[3], '2', ARGV[2])
local out = {1}
for _, v in ipairs(redis.call('HMGET', rk, unpack(rfields))) do table.insert(out, v) end
return out
`)

	// Makes a request. KEYS: request, inbox, requests, asking. ARGV: now,
	// deadline, forgotten at, ttl (ms), custid, ref, ka, ki, request id,
	// inbox id, most requests, ms to live. Replies {1}, {4} or {5}.
	scriptRequestCreate = resp.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {5} end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[11]) then return {4} end
redis.call('HSET', KEYS[1], 'c', ARGV[1], 'dl', ARGV[2], 'f', ARGV[3], 'ttl', ARGV[4], 'cu', ARGV[5],
  'ref', ARGV[6], 'ka', ARGV[7], 'ki', ARGV[8], 'i', ARGV[10], 'st', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[12])
redis.call('SET', KEYS[2], ARGV[9], 'PX', ARGV[12])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[9])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[9])
return {1}
`)

	// Reads a request by its id. KEYS: request. ARGV: prefix.
	scriptAsked = resp.NewScript(requestLua + `
return request(ARGV[1], KEYS[1])
`)

	// Reads a request by its inbox. KEYS: inbox. ARGV: prefix.
	scriptInbox = resp.NewScript(requestLua + `
local ask = redis.call('GET', KEYS[1])
if not ask then return {0} end
return request(ARGV[1], ARGV[1] .. 'q:' .. ask)
`)

	// Stores the answer to a request, provided it still waits for one,
	// and answers the request with it. KEYS: those of createLua, then the
	// request, asking, requests. ARGV: those of createLua, then the
	// answerer's public key and the request id. Replies {1}, {0} (no
	// request waits), {9} (answered already), {4} or {5}.
	scriptAnswer = resp.NewScript(createLua + `
local q = redis.call('HMGET', KEYS[5], 'st', 'dl', 'f', 'i')
local now = tonumber(ARGV[7])
if not q[1] or now >= tonumber(q[3]) then return {0} end
if q[1] ~= '0' then return {9} end
if now >= tonumber(q[2]) then return {0} end
local e = create(KEYS, ARGV)
if e then return e end
local f = tonumber(q[3])
redis.call('HSET', KEYS[5], 'st', '2', 'an', ARGV[7], 'pub', ARGV[21], 'ar', ARGV[4], 'aref', ARGV[11])
if tonumber(ARGV[9]) > f then
  f = tonumber(ARGV[9])
  redis.call('HSET', KEYS[5], 'f', ARGV[9])
  redis.call('PEXPIRE', KEYS[5], ARGV[16])
  redis.call('PEXPIRE', ARGV[1] .. 'i:' .. q[4], ARGV[16])
end
redis.call('ZREM', KEYS[6], ARGV[22])
redis.call('ZADD', KEYS[7], string.format('%d', f), ARGV[22])
return {1}
`)

	// Counts what waits. KEYS: count, groups, asking. ARGV: now. Replies
	// {secrets, bytes, groups, requests waiting for an answer}.
	scriptStats = resp.NewScript(`
local c = redis.call('HMGET', KEYS[1], 'n', 'b')
local after = '(' .. ARGV[1]
return {tonumber(c[1] or '0'), tonumber(c[2] or '0'),
  redis.call('ZCOUNT', KEYS[2], after, '+inf'), redis.call('ZCOUNT', KEYS[3], after, '+inf')}
`)

	// Forgets the groups and requests that are due, and the requests
	// that no longer wait for an answer. KEYS: groups, requests, asking.
	// ARGV: now.
	scriptPrune = resp.NewScript(`
for _, k in ipairs(KEYS) do redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[1]) end
return {1}
`)
)

// showGeneratedRemote is ShowGenerated on Redis.
func (s *Store) showGeneratedRemote(receiptKey []byte, window time.Duration) (*Plain, error) {
	scr, err := s.derive(labelReceipt, receiptKey)
	if err != nil {
		return nil, err
	}
	defer scr.Release()
	d, work := derivedIn(scr), scr.buf[deriveSize:]
	rm := s.remote
	rk := rm.name('r', d.id())
	out, err := s.arena.plain(min(s.cfg.MaxSecretSize, smallSlot))
	if err != nil {
		return nil, err
	}
	for {
		reply, err := rm.eval(scriptShow, [][]byte{rk}, []byte(rm.prefix), ms(s.cfg.Now()),
			strconv.AppendInt(nil, window.Milliseconds(), 10), strconv.AppendInt(nil, int64(len(out.buf)), 10))
		if err != nil {
			out.Release()
			return nil, err
		}
		switch reply[0].Int {
		case rOK:
			if len(reply) < 4 || len(reply[2].Bytes) != sealedKeySize {
				out.Release()
				return nil, fmt.Errorf("%w: unexpected reply", ErrUnavailable)
			}
			sealed := reply[1].Bytes
			size := len(sealed) - sealOverhead
			if size < 0 || size > len(out.buf) {
				out.Release()
				return nil, errors.New("store: a sealed secret of the wrong size")
			}
			var sk Key
			unxorPad(&sk, d.key(), reply[2].Bytes)
			derive(d, work, labelSecret, s.procKey(), sk[:])
			sk.Wipe()
			err = openAD(out.buf[:size], d.key(), sealed, reply[3].Bytes)
			clear(d[:])
			burnStack()
			if err != nil {
				out.Release()
				return nil, fmt.Errorf("store: failed to open secret: %w", err)
			}
			out.SetLen(size)
			return out, nil
		case rTooBig:
			out.Release()
			if out, err = s.arena.plain(int(num(reply[1]))); err != nil {
				return nil, err
			}
		default:
			out.Release()
			return nil, nil
		}
	}
}

// graceArg is remoteGrace as the scripts take it.
var graceArg = strconv.AppendInt(nil, remoteGrace.Milliseconds(), 10)

// remoteLinks reads n links (linkLua) into receipts without keys; a link
// whose receipt is forgotten reads as expired.
func remoteLinks(f []resp.Value, n int, now time.Time) []Receipt {
	links := make([]Receipt, n)
	for i := range links {
		if len(f) < (i+1)*linkFields {
			links[i].State = StateExpired
			continue
		}
		l := f[i*linkFields : (i+1)*linkFields]
		if _, ok := fillRemote(&links[i], l, now); !ok {
			links[i] = Receipt{State: StateExpired}
			continue
		}
		if links[i].State == StateNew {
			links[i].LockedUntil = remoteLocks(nil, l[remoteFields].Bytes).lockedUntil(netip.Addr{}, now)
		}
	}
	return links
}

// createGroupRemote is CreateGroup on Redis, for the group gid (whose key
// g holds) of the receipts members.
func (s *Store) createGroupRemote(g *GroupReceipt, gid id, gref Ref, members []id) error {
	rm := s.remote
	now := s.cfg.Now()
	args := make([][]byte, 0, 6+len(members))
	args = append(args, []byte(rm.prefix), ms(now), hex.AppendEncode(nil, gid[:]), gref[:],
		strconv.AppendInt(nil, int64(s.cfg.MaxSecrets), 10), graceArg)
	for _, m := range members {
		args = append(args, hex.AppendEncode(nil, m[:]))
	}
	reply, err := rm.eval(scriptGroupCreate, [][]byte{rm.name('g', gid), rm.groups}, args...)
	if err == nil {
		switch reply[0].Int {
		case rOK:
		case rFull:
			err = ErrFull
		case rClash:
			err = errors.New("store: key collision; random source is broken")
		case rGroup:
			err = ErrGroup
		default:
			err = ErrNotFound
		}
	}
	if err == nil && len(reply) < 2 {
		err = fmt.Errorf("%w: unexpected reply", ErrUnavailable)
	}
	if err != nil {
		g.Key.Wipe()
		return err
	}
	g.Ref, g.Created, g.Expires = gref, time.UnixMilli(now.UnixMilli()), time.UnixMilli(num(reply[1]))
	g.Links = remoteLinks(reply[2:], len(members), now)
	return nil
}

// groupRemote is Group on Redis.
func (s *Store) groupRemote(gid id) (GroupReceipt, error) {
	var g GroupReceipt
	rm := s.remote
	now := s.cfg.Now()
	reply, err := rm.eval(scriptGroupRead, [][]byte{rm.name('g', gid)}, []byte(rm.prefix), ms(now))
	if err != nil {
		return g, err
	}
	if reply[0].Int != rOK || len(reply) < 4 {
		return g, ErrNotFound
	}
	g.Created, g.Expires = time.UnixMilli(num(reply[1])), time.UnixMilli(num(reply[2]))
	copy(g.Ref[:], reply[3].Bytes)
	g.Links = remoteLinks(reply[4:], (len(reply)-4)/linkFields, now)
	return g, nil
}

// burnGroupLinkRemote is BurnGroupLink on Redis.
func (s *Store) burnGroupLinkRemote(gid id, i int) (Receipt, error) {
	var r Receipt
	if i < 0 || i >= MaxGroup {
		return r, ErrNotFound
	}
	rm := s.remote
	now := s.cfg.Now()
	reply, err := rm.eval(scriptGroupBurn, [][]byte{rm.name('g', gid), rm.count, rm.due},
		[]byte(rm.prefix), ms(now), strconv.AppendInt(nil, int64(i+1), 10))
	if err != nil {
		return r, err
	}
	if reply[0].Int != rOK {
		return r, ErrNotFound
	}
	fillRemote(&r, reply[1:], now)
	rm.burned.Add(1)
	return r, nil
}

// createRequestRemote is CreateRequest on Redis: r holds the keys, req
// the rest.
func (s *Store) createRequestRemote(r *RequestReceipt, req *request) error {
	if s.closing.Load() {
		r.Wipe()
		return ErrClosed
	}
	rm := s.remote
	now := s.cfg.Now()
	deadline, forget := now.Add(req.ttl), now.Add(2*req.ttl)
	reply, err := rm.eval(scriptRequestCreate,
		[][]byte{rm.name('q', req.askID), rm.name('i', req.inboxID), rm.requests, rm.asking},
		ms(now), ms(deadline), ms(forget), strconv.AppendInt(nil, req.ttl.Milliseconds(), 10), []byte(req.cust),
		req.ref[:], req.keyForAsk[:], req.keyForInbox[:], hex.AppendEncode(nil, req.askID[:]), hex.AppendEncode(nil, req.inboxID[:]),
		strconv.AppendInt(nil, int64(s.cfg.MaxSecrets), 10), strconv.AppendInt(nil, (2*req.ttl+remoteGrace).Milliseconds(), 10))
	if err == nil {
		switch reply[0].Int {
		case rOK:
		case rFull:
			err = ErrFull
		default:
			err = errors.New("store: key collision; random source is broken")
		}
	}
	if err != nil {
		r.Wipe()
		return err
	}
	r.Ref, r.State = req.ref, RequestWaiting
	r.Created, r.Deadline, r.Expires = time.UnixMilli(now.UnixMilli()), time.UnixMilli(deadline.UnixMilli()), time.UnixMilli(forget.UnixMilli())
	return nil
}

// remoteRequest is a request as Redis holds it (requestLua).
type remoteRequest struct {
	created, deadline, forget int64 // ms
	ttl                       time.Duration
	cust                      string
	ref, answerRef            Ref
	answered                  bool
	answeredAt                int64
	public                    []byte
	keyForAsk, keyForInbox    []byte // sealed: XORed with pads
	// the answer's receipt, once answered (present: still kept)
	present         bool
	ast             State
	asd, au, arecRD int64
}

// readRequest runs scriptAsked or scriptInbox on key.
func (s *Store) readRequest(script *resp.Script, key []byte) (*remoteRequest, error) {
	rm := s.remote
	reply, err := rm.eval(script, [][]byte{key}, []byte(rm.prefix))
	if err != nil {
		return nil, err
	}
	if reply[0].Int != rOK || len(reply) < 19 || reply[1].Kind != resp.Bulk {
		return nil, ErrNotFound
	}
	f := reply[1:]
	q := &remoteRequest{
		created: num(f[0]), deadline: num(f[1]), forget: num(f[2]),
		ttl:         time.Duration(num(f[3])) * time.Millisecond,
		cust:        string(f[4].Bytes),
		answered:    string(f[6].Bytes) == "2",
		answeredAt:  num(f[7]),
		public:      f[8].Bytes,
		keyForAsk:   f[11].Bytes,
		keyForInbox: f[12].Bytes,
	}
	copy(q.ref[:], f[5].Bytes)
	copy(q.answerRef[:], f[10].Bytes)
	if a := f[14:18]; a[0].Kind == resp.Bulk {
		q.present = true
		q.ast, q.asd, q.au, q.arecRD = State(num(a[0])), num(a[1]), num(a[2]), num(a[3])
	}
	return q, nil
}

// fill is stateLocked for a request read from Redis.
func (q *remoteRequest) fill(r *RequestReceipt, now int64) {
	r.Ref = q.ref
	r.Created, r.Deadline, r.Expires = time.UnixMilli(q.created), time.UnixMilli(q.deadline), time.UnixMilli(q.forget)
	r.Answered, r.AnswerExpires, r.Read = time.Time{}, time.Time{}, time.Time{}
	if !q.answered {
		r.State = RequestWaiting
		if now >= q.deadline {
			r.State = RequestExpired
		}
		return
	}
	r.Answered, r.AnswerRef, r.PassphraseNeeded = time.UnixMilli(q.answeredAt), q.answerRef, true
	copy(r.Public[:], q.public)
	r.State = RequestExpired
	if q.present && now < q.arecRD {
		r.AnswerExpires = time.UnixMilli(q.asd)
		switch {
		case q.ast == StateNew && now < q.asd:
			r.State = RequestAnswered
		case q.ast == StateReceived:
			r.State, r.Read = RequestRead, time.UnixMilli(q.au)
		}
	}
}

// askedRemote is Asked on Redis.
func (s *Store) askedRemote(aid id) (RequestReceipt, error) {
	var r RequestReceipt
	q, err := s.readRequest(scriptAsked, s.remote.name('q', aid))
	if err != nil {
		return r, err
	}
	now := s.cfg.Now().UnixMilli()
	if now >= q.forget {
		return r, ErrNotFound
	}
	q.fill(&r, now)
	if r.State == RequestExpired && !q.answered {
		return RequestReceipt{}, ErrNotFound
	}
	r.Public = [requestPublicLen]byte{}
	return r, nil
}

// inboxRemote is Inbox on Redis.
func (s *Store) inboxRemote(iid id) (RequestReceipt, error) {
	var r RequestReceipt
	q, err := s.readRequest(scriptInbox, s.remote.name('i', iid))
	if err != nil {
		return r, err
	}
	now := s.cfg.Now().UnixMilli()
	if now >= q.forget {
		return r, ErrNotFound
	}
	q.fill(&r, now)
	return r, nil
}

// answerRemote is AnswerRequest on Redis; scr holds the derivation of the
// request key, and is released.
func (s *Store) answerRemote(scr *Plain, aid id, secret *Plain, proof, public []byte, maxTTL time.Duration) (RequestReceipt, error) {
	var r RequestReceipt
	q, err := s.readRequest(scriptAsked, s.remote.name('q', aid))
	now := s.cfg.Now().UnixMilli()
	switch {
	case err != nil:
	case now >= q.forget:
		err = ErrNotFound
	case q.answered:
		err = ErrAnswered
	case now >= q.deadline, len(q.keyForAsk) != KeyLen:
		err = ErrNotFound
	}
	if err != nil {
		scr.Release()
		return r, err
	}
	var sk Key
	unxorPad(&sk, derivedIn(scr).key(), q.keyForAsk)
	scr.Release()
	ttl := min(q.ttl, maxTTL)
	rec, err := s.createRemoteFor(secret, CreateOptions{TTL: max(ttl, time.Second), Passphrase: proof, CustID: q.cust}, &sk,
		&remoteAnswer{ask: aid, public: public})
	sk.Wipe()
	burnStack()
	if err != nil {
		return r, err
	}
	r.Ref, r.State = q.ref, RequestAnswered
	r.Created, r.Deadline = time.UnixMilli(q.created), time.UnixMilli(q.deadline)
	r.Expires = time.UnixMilli(max(q.forget, rec.ReceiptExpires.UnixMilli()))
	r.Answered, r.AnswerExpires, r.AnswerRef, r.PassphraseNeeded = rec.Created, rec.SecretExpires, rec.Ref, true
	rec.Wipe()
	return r, nil
}

// revealAnswerRemote is RevealAnswer on Redis; scr holds the derivation
// of the inbox key, and is released.
func (s *Store) revealAnswerRemote(scr *Plain, iid id, proof []byte, client netip.Addr) (*Plain, Ref, error) {
	q, err := s.readRequest(scriptInbox, s.remote.name('i', iid))
	if err == nil && (!q.answered || s.cfg.Now().UnixMilli() >= q.forget || len(q.keyForInbox) != KeyLen) {
		err = ErrNotFound
	}
	if err != nil {
		scr.Release()
		return nil, Ref{}, err
	}
	var sk Key
	unxorPad(&sk, derivedIn(scr).key(), q.keyForInbox)
	scr.Release()
	defer sk.Wipe()
	return s.Reveal(sk[:], proof, client)
}

// pruneRemote forgets what is due among groups and requests.
func (s *Store) pruneRemote() {
	rm := s.remote
	rm.eval(scriptPrune, [][]byte{rm.groups, rm.requests, rm.asking}, ms(s.cfg.Now())) //nolint:errcheck // pruned next time
}
