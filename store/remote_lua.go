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
//	P r:<receipt id>  hash: s (secret id), st (state 0-3), c, u, sd, rd (ms),
//	                        sz, ref (audit name), cu (custid), p, pf,
//	                        f (failed attempts), lf (last failed, ms)
//	P t:<secret id>   string: the turn of the passphrase check under way
//	P due             sorted set: "<secret id>:<receipt id>:<size>" by due
//	P count           hash: n secrets waiting, b their bytes
//	P key             a keyed hash of the process key (replicas must agree)
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
)

// retireLua takes a secret out: the secret hash goes, the receipt moves to
// state `to` at time `at`, the counts drop. It assumes the secret exists.
const retireLua = `
local function retire(prefix, sk, counts, due, to, at)
  local h = redis.call('HMGET', sk, 'r', 'z', 'm')
  redis.call('DEL', sk, prefix .. 't:' .. string.sub(h[3], 1, 32))
  redis.call('ZREM', due, h[3])
  redis.call('HINCRBY', counts, 'n', -1)
  redis.call('HINCRBY', counts, 'b', -tonumber(h[2]))
  local rk = prefix .. 'r:' .. h[1]
  if redis.call('EXISTS', rk) == 1 then
    redis.call('HSET', rk, 'st', to, 'u', at)
  end
end
`

// receiptFields are the fields a receipt is read with, in this order.
const receiptFieldsLua = `local rfields = {'st', 'c', 'u', 'sd', 'rd', 'sz', 'ref', 'cu', 'p', 'pf', 'f', 'lf', 's'}
`

var (
	// KEYS: secret, receipt, count, due. ARGV: prefix, e, k, receipt id,
	// v, secret id, now, sd, rd, size, ref, custid, p, pf, secret px,
	// receipt px, max secrets, max bytes, due member.
	scriptCreate = resp.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return {5} end
local c = redis.call('HMGET', KEYS[3], 'n', 'b')
local n, b = tonumber(c[1] or '0'), tonumber(c[2] or '0')
if n >= tonumber(ARGV[17]) or b + tonumber(ARGV[10]) > tonumber(ARGV[18]) then return {4} end
redis.call('HSET', KEYS[1], 'e', ARGV[2], 'k', ARGV[3], 'r', ARGV[4], 'v', ARGV[5], 'd', ARGV[8],
  'z', ARGV[10], 'pf', ARGV[14], 'm', ARGV[19], 'fl', '[]', 'lk', '{}')
redis.call('PEXPIRE', KEYS[1], ARGV[15])
redis.call('HSET', KEYS[2], 's', ARGV[6], 'st', '0', 'c', ARGV[7], 'u', ARGV[7], 'sd', ARGV[8], 'rd', ARGV[9],
  'sz', ARGV[10], 'ref', ARGV[11], 'cu', ARGV[12], 'p', ARGV[13], 'pf', ARGV[14], 'f', '0', 'lf', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[16])
redis.call('HINCRBY', KEYS[3], 'n', 1)
redis.call('HINCRBY', KEYS[3], 'b', ARGV[10])
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[19])
return {1}
`)

	// Claims a waiting secret (reveal). KEYS: secret, count, due. ARGV:
	// prefix, now, state to move to, the caller's slot size, "1" when the
	// caller has checked the verifier. Replies {1, sealed, verifier}, {0}, {2,
	// size, verifier, proof} (check first), {3, size} (a bigger slot).
	scriptClaim = resp.NewScript(retireLua + `
local h = redis.call('HMGET', KEYS[1], 'e', 'd', 'v', 'z', 'pf')
if not h[1] or tonumber(ARGV[2]) >= tonumber(h[2]) then return {0} end
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

	// Looks at a waiting secret without changing it. KEYS: secret. ARGV:
	// now. Replies {0} or {1, due, verifier, proof, failures, lockouts}.
	scriptPeek = resp.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'd', 'v', 'pf', 'fl', 'lk')
if not h[1] or tonumber(ARGV[1]) >= tonumber(h[1]) then return {0} end
return {1, h[1], h[2], h[3], h[4], h[5]}
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
	scriptSweep = resp.NewScript(`
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
