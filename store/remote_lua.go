package store

import "otslite/store/resp"

// The Lua scripts of the Redis backend (remote.go). Each runs atomically in
// Redis, so what one replica does to a secret no other replica sees half
// done: a reveal or a burn claims and deletes in one step, and of any
// number of claims exactly one finds the secret.
//
// What Redis holds, under a prefix P ("otslite:" by default), every name
// a keyed hash (hex) and every value sealed or public:
//
//	P s:<secret id>   hash: e  the sealed secret (ciphertext and tag)
//	                        k  the sealed secret key (for the receipt)
//	                        r  the receipt id, d its due time, z its size
//	                        v  the verifier ("" for none), pf "1" for a proof
//	                        m  its member in P due
//	                        fl, lk  recent failures and lockouts (JSON)
//	                        c, cu, g  as on the receipt, for the page's look
//	P r:<receipt id>  hash: s (secret id), st (state 0-3), c, u, sd, rd (ms),
//	                        sz, ref (audit name), cu (custid), p, pf,
//	                        f (failed attempts), lf (last failed, ms),
//	                        g "1" for a generated password, sh "1" once
//	                        it was shown (ShowGenerated), lt, ln the late
//	                        attempts (JSON: the last few) and their count
//	P t:<secret id>   string: the turn of the passphrase check under way
//	P x:<secret id>   string: the tombstone of a secret that is gone (its
//	                        receipt id), for as long as its receipt lives
//	P due             sorted set: "<secret id>:<receipt id>:<size>" by due
//	P count           hash: n secrets waiting, b their bytes
//	P key             a keyed hash of the process key (replicas must agree)
//
// and, for groups and requests (remote_beyond.go):
//
//	P g:<group id>    hash: m (the receipt ids of its links, in order,
//	                        comma-separated), c, f (forgotten at), ref
//	P groups          sorted set: group ids by the time they are forgotten
//	P q:<request id>  hash: c, dl (deadline), f (forgotten at), ttl, cu,
//	                        ref, st ("0" waiting, "2" answered), i (inbox
//	                        id), ka, ki (the answer's secret key, each
//	                        XORed with a pad derived from one of the
//	                        request's keys), and once answered an (at),
//	                        pub (the answerer's public key), ar (the
//	                        answer's receipt id), aref (its audit name)
//	P i:<inbox id>    string: the request id
//	P requests        sorted set: request ids by the time they are forgotten
//	P asking          sorted set: ids of requests waiting for an answer, by
//	                        deadline
//
// Times are unix milliseconds (exact in Lua's doubles). Expiry is logical:
// a secret past its due time is answered as gone by every script, and the
// sweeper retires it (counts, receipt state, the audit event); Redis's own
// TTLs, a little longer, remove whatever no replica was left to sweep.
//
// Scripts reply with an array whose first element says what happened.
const (
	rNotFound = 0 // nothing waits there
	rOK       = 1
	rPass     = 2 // a verifier must be checked first; or: locked
	rTooBig   = 3 // the caller's slot is too small
	rFull     = 4
	rClash    = 5
	rTurn     = 6 // another check runs on the secret now
	rLate     = 7 // gone, and the attempt is kept on its receipt
	rGroup    = 8 // a human passphrase cannot be grouped
	rAnswered = 9 // the request has its answer already
)

// retireLua takes a secret out: the secret hash goes, leaving a
// tombstone for as long as its receipt lives (late.go), the receipt moves
// to state `to` at time `at`, the counts drop. It assumes the secret
// exists.
const retireLua = `
local function tomb(prefix, sid, rid)
  local ttl = redis.call('PTTL', prefix .. 'r:' .. rid)
  if ttl > 0 then redis.call('SET', prefix .. 'x:' .. sid, rid, 'PX', ttl) end
end
local function retire(prefix, sk, counts, due, to, at)
  local h = redis.call('HMGET', sk, 'r', 'z', 'm')
  local sid = string.sub(sk, #prefix + 3)
  redis.call('DEL', sk, prefix .. 't:' .. sid)
  redis.call('ZREM', due, h[3])
  redis.call('HINCRBY', counts, 'n', -1)
  redis.call('HINCRBY', counts, 'b', -tonumber(h[2]))
  local rk = prefix .. 'r:' .. h[1]
  if redis.call('EXISTS', rk) == 1 then
    redis.call('HSET', rk, 'st', to, 'u', at)
    tomb(prefix, sid, h[1])
  end
end
`

// lateLua keeps an attempt on a gone secret on its receipt rid, while the
// receipt lives: the last `keep` of them, oldest first, and a count. Each
// is [at (ms), coarse address, kind], all strings.
const lateLua = `
local function late(prefix, rid, now, net, kind, keep)
  local rk = prefix .. 'r:' .. rid
  local r = redis.call('HMGET', rk, 'rd', 'lt', 'ln')
  if not r[1] or now >= tonumber(r[1]) then return false end
  local lt = {}
  if r[2] then lt = cjson.decode(r[2]) end
  table.insert(lt, {string.format('%d', now), net, kind})
  while #lt > keep do table.remove(lt, 1) end
  redis.call('HSET', rk, 'lt', cjson.encode(lt), 'ln', tonumber(r[3] or '0') + 1)
  return true
end
`

// receiptFields are the fields a receipt is read with, in this order.
const receiptFieldsLua = `local rfields = {'st', 'c', 'u', 'sd', 'rd', 'sz', 'ref', 'cu', 'p', 'pf', 'f', 'lf', 's', 'g', 'lt', 'ln'}
`

// createLua stores a secret and its receipt, unless there is no room (or
// a key is taken already): it returns nil, or the reply that says why
// not. K: secret, receipt, count, due. A: prefix, e, k, receipt id, v,
// secret id, now, sd, rd, size, ref, custid, p, pf, secret px, receipt
// px, max secrets, max bytes, due member, g.
const createLua = `
local function create(K, A)
  if redis.call('EXISTS', K[1]) == 1 or redis.call('EXISTS', K[2]) == 1 then return {5} end
  local c = redis.call('HMGET', K[3], 'n', 'b')
  local n, b = tonumber(c[1] or '0'), tonumber(c[2] or '0')
  if n >= tonumber(A[17]) or b + tonumber(A[10]) > tonumber(A[18]) then return {4} end
  redis.call('HSET', K[1], 'e', A[2], 'k', A[3], 'r', A[4], 'v', A[5], 'd', A[8],
    'z', A[10], 'pf', A[14], 'm', A[19], 'fl', '[]', 'lk', '{}', 'c', A[7], 'cu', A[12], 'g', A[20])
  redis.call('PEXPIRE', K[1], A[15])
  redis.call('HSET', K[2], 's', A[6], 'st', '0', 'c', A[7], 'u', A[7], 'sd', A[8], 'rd', A[9],
    'sz', A[10], 'ref', A[11], 'cu', A[12], 'p', A[13], 'pf', A[14], 'f', '0', 'lf', '0', 'g', A[20])
  redis.call('PEXPIRE', K[2], A[16])
  redis.call('HINCRBY', K[3], 'n', 1)
  redis.call('HINCRBY', K[3], 'b', A[10])
  redis.call('ZADD', K[4], A[8], A[19])
  return nil
end
`

var (
	// KEYS: secret, receipt, count, due. ARGV: those of createLua.
	scriptCreate = resp.NewScript(createLua + `
local e = create(KEYS, ARGV)
if e then return e end
return {1}
`)

	// Claims a waiting secret (reveal). KEYS: secret, count, due,
	// tombstone. ARGV: prefix, now, state to move to, the caller's slot
	// size, "1" when the caller has checked the verifier, the caller's
	// coarse address, the kind of a late attempt ("0": not one to keep),
	// how many late attempts a receipt keeps. Replies {1, sealed,
	// verifier}, {0}, {7} (gone, the attempt kept), {2, size, verifier,
	// proof} (check first), {3, size} (a bigger slot).
	scriptClaim = resp.NewScript(retireLua + lateLua + `
local h = redis.call('HMGET', KEYS[1], 'e', 'd', 'v', 'z', 'pf', 'r')
local now = tonumber(ARGV[2])
if not h[1] or now >= tonumber(h[2]) then
  if ARGV[7] ~= '0' then
    local rid = h[6]
    if not h[1] then rid = redis.call('GET', KEYS[4]) end
    if rid and late(ARGV[1], rid, now, ARGV[6], ARGV[7], tonumber(ARGV[8])) then return {7} end
  end
  return {0}
end
if h[3] ~= '' and ARGV[5] ~= '1' then return {2, h[4], h[3], h[5]} end
if tonumber(h[4]) > tonumber(ARGV[4]) then return {3, h[4]} end
retire(ARGV[1], KEYS[1], KEYS[2], KEYS[3], ARGV[3], ARGV[2])
return {1, h[1], h[3]}
`)

	// Burns through a receipt. KEYS: receipt, count, due. ARGV: prefix,
	// now, "1" when the caller has checked the verifier. Replies {1,
	// sealed key, receipt fields...}, {0}, {2, size, verifier, proof,
	// secret id} (check first).
	scriptBurn = resp.NewScript(retireLua + receiptFieldsLua + `
local r = redis.call('HMGET', KEYS[1], 'st', 'sd', 'rd', 's', 'p', 'pf')
local now = tonumber(ARGV[2])
if not r[1] or r[1] ~= '0' or now >= tonumber(r[3]) or now >= tonumber(r[2]) then return {0} end
local sk = ARGV[1] .. 's:' .. r[4]
local h = redis.call('HMGET', sk, 'k', 'v', 'z', 'pf')
if not h[1] then return {0} end
if h[2] ~= '' and h[4] ~= '1' and ARGV[3] ~= '1' then return {2, h[3], h[2], h[4], r[4]} end
retire(ARGV[1], sk, KEYS[2], KEYS[3], '2', ARGV[2])
local out = {1, h[1]}
for _, v in ipairs(redis.call('HMGET', KEYS[1], unpack(rfields))) do table.insert(out, v) end
return out
`)

	// Reads a receipt. KEYS: receipt. ARGV: prefix, now. Replies {0} or
	// {1, sealed key or "", lockouts or "{}", receipt fields...}; the
	// sealed key only while the secret waits.
	scriptReceipt = resp.NewScript(receiptFieldsLua + `
local f = redis.call('HMGET', KEYS[1], unpack(rfields))
local now = tonumber(ARGV[2])
if not f[1] or now >= tonumber(f[5]) then return {0} end
local k, lk = '', '{}'
if f[1] == '0' and now < tonumber(f[4]) then
  local h = redis.call('HMGET', ARGV[1] .. 's:' .. f[13], 'k', 'lk')
  if h[1] then k, lk = h[1], h[2] end
end
local out = {1, k, lk}
for _, v in ipairs(f) do table.insert(out, v) end
return out
`)

	// Looks at a waiting secret without changing it; a look at one that
	// is gone is kept on its receipt. KEYS: secret, tombstone. ARGV:
	// prefix, now, the caller's coarse address, the kind of late attempt,
	// how many a receipt keeps. Replies {0}, {7} (gone, the attempt kept)
	// or {1, due, verifier, proof, failures, lockouts, created, custid,
	// generated}.
	scriptPeek = resp.NewScript(lateLua + `
local h = redis.call('HMGET', KEYS[1], 'd', 'v', 'pf', 'fl', 'lk', 'c', 'cu', 'g', 'r')
local now = tonumber(ARGV[2])
if not h[1] or now >= tonumber(h[1]) then
  local rid = h[9]
  if not h[1] then rid = redis.call('GET', KEYS[2]) end
  if rid and late(ARGV[1], rid, now, ARGV[3], ARGV[4], tonumber(ARGV[5])) then return {7} end
  return {0}
end
return {1, h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]}
`)

	// Shows a generated password once, within a window of its making, to
	// the holder of its receipt key, without consuming it. KEYS: receipt.
	// ARGV: prefix, now, window (ms), the caller's slot size. Replies {0}
	// (nothing to show), {3, size} (a bigger slot), or {1, sealed, sealed
	// key, verifier}, marking it shown.
	scriptShow = resp.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'st', 'g', 'sh', 'c', 's', 'sd', 'rd')
local now = tonumber(ARGV[2])
if not r[1] or r[1] ~= '0' or r[2] ~= '1' or r[3] == '1' or now - tonumber(r[4]) >= tonumber(ARGV[3])
  or now >= tonumber(r[6]) or now >= tonumber(r[7]) then return {0} end
local h = redis.call('HMGET', ARGV[1] .. 's:' .. r[5], 'e', 'k', 'v', 'z')
if not h[1] then return {0} end
if tonumber(h[4]) > tonumber(ARGV[4]) then return {3, h[4]} end
redis.call('HSET', KEYS[1], 'sh', '1')
return {1, h[1], h[2], h[3]}
`)

	// Starts a passphrase check: refuses it while a lock applies to the
	// caller's unit, and otherwise (when it is a guess to count) takes the
	// secret's turn, so that one check at a time runs on it across every
	// replica and the failure counts stay exact (as the in-memory store's
	// turn does). The turn ends with scriptFail, a claim, scriptReset, or
	// after its time to live should its replica die. KEYS: secret, turn.
	// ARGV: now, unit, "1" to take the turn, token, turn ms. Replies {0},
	// {1}, {2, lock end}, or {6} (the turn is taken: try again shortly).
	scriptAttempt = resp.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'd', 'lk')
local now = tonumber(ARGV[1])
if not h[1] or now >= tonumber(h[1]) then return {0} end
local untl = 0
for u, e in pairs(cjson.decode(h[2])) do
  if e > now and (u == ARGV[2] or u == '*') and e > untl then untl = e end
end
if untl > 0 then return {2, string.format('%d', untl)} end
if ARGV[3] ~= '1' then return {1} end
if not redis.call('SET', KEYS[2], ARGV[4], 'NX', 'PX', ARGV[5]) then return {6} end
return {1}
`)

	// Counts a wrong passphrase: in the secret's recent failures, starting
	// the locks they call for, and in the receipt's tally; then ends the
	// turn. KEYS: secret, turn. ARGV: prefix, now, window start, unit,
	// lock end, per-unit limit, total limit, token.
	scriptFail = resp.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'fl', 'lk', 'r')
if redis.call('GET', KEYS[2]) == ARGV[8] then redis.call('DEL', KEYS[2]) end
if not h[1] then return {0} end
local now = tonumber(ARGV[2])
local locks = {}
for u, e in pairs(cjson.decode(h[2])) do
  if e > now then locks[u] = e end
end
local kept, from = {}, 0
for _, f in ipairs(cjson.decode(h[1])) do
  if f[2] > tonumber(ARGV[3]) then
    table.insert(kept, f)
    if f[1] == ARGV[4] then from = from + 1 end
  end
end
table.insert(kept, {ARGV[4], now})
from = from + 1
local lockUntil = tonumber(ARGV[5])
if from >= tonumber(ARGV[6]) then locks[ARGV[4]] = lockUntil end
if #kept >= tonumber(ARGV[7]) then
  locks['*'] = lockUntil
  kept = {}
end
local fl, lk = '[]', '{}'
if #kept > 0 then fl = cjson.encode(kept) end
if next(locks) ~= nil then lk = cjson.encode(locks) end
redis.call('HSET', KEYS[1], 'fl', fl, 'lk', lk)
local rk = ARGV[1] .. 'r:' .. h[3]
if redis.call('EXISTS', rk) == 1 then
  redis.call('HINCRBY', rk, 'f', 1)
  redis.call('HSET', rk, 'lf', ARGV[2])
end
return {1}
`)

	// Forgets the failures and locks of a secret after a correct
	// passphrase, and ends the turn. KEYS: secret, turn.
	scriptReset = resp.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'fl', '[]', 'lk', '{}') end
redis.call('DEL', KEYS[2])
return {1}
`)

	// Ends a turn that is still ours. KEYS: turn. ARGV: token.
	scriptRelease = resp.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return {1}
`)

	// Retires what is due. KEYS: count, due. ARGV: prefix, now, most to
	// retire. Replies with ref, custid pairs of the secrets that expired
	// unread.
	scriptSweep = resp.NewScript(retireLua + `
local out = {}
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))) do
  local sid, rid, sz = string.match(m, '^(%x+):(%x+):(%d+)$')
  redis.call('ZREM', KEYS[2], m)
  if sid then
    redis.call('DEL', ARGV[1] .. 's:' .. sid)
    redis.call('HINCRBY', KEYS[1], 'n', -1)
    redis.call('HINCRBY', KEYS[1], 'b', -tonumber(sz))
    local rk = ARGV[1] .. 'r:' .. rid
    local r = redis.call('HMGET', rk, 'st', 'sd', 'ref', 'cu')
    if r[1] == '0' then
      redis.call('HSET', rk, 'st', '3', 'u', r[2])
      tomb(ARGV[1], sid, rid)
      table.insert(out, r[3])
      table.insert(out, r[4])
    end
  end
end
return out
`)

	// Claims the prefix for a process key, or checks that the claim is
	// its own, and keeps the claim alive. KEYS: key. ARGV: keyed hash of
	// the process key, ms to live. Replies 1 when the key agrees.
	scriptKeyCheck = resp.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)
)
