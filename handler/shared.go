package handler

// With a shared store (Config.Shared, Redis), the handler's own state that
// must hold across replicas lives there too: the rate limits and the
// failed-credential limits (fixed windows, one counter per address, kind
// and window), and the recent lists (each credential's receipt keys,
// masked as in memory, see recent.go). Nothing secret goes: addresses,
// counts, keyed hashes of credentials and masked keys. When Redis cannot
// be reached, limited requests get 503: a limit that cannot be counted is
// not waived.

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"strconv"
	"time"

	"otslite/handler/access"
	"otslite/store"
	"otslite/store/resp"
)

var errUnavailable = &Error{Status: 503, Message: "The secret store is unavailable, try again shortly", RetryAfter: 5 * time.Second}

// sharedTimeout bounds one exchange with the shared store.
const sharedTimeout = 5 * time.Second

var kindNames = [kinds]string{"create", "reveal", "receipt", "burn", "auth"}

// sharedCounts is a limiter's count in Redis.
type sharedCounts struct {
	c      *resp.Client
	prefix string
}

// KEYS: the counter. ARGV: "1" to count, the limit, ms to live. Replies
// {ok, first refusal}.
var scriptLimit = resp.NewScript(`
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
local limit = tonumber(ARGV[2])
if n >= limit then
  if n == limit then
    redis.call('INCR', KEYS[1])
    return {0, 1}
  end
  return {0, 0}
end
if ARGV[1] == '1' then
  redis.call('INCR', KEYS[1])
  if n == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
return {1, 0}
`)

// take is limiter.take in Redis; wait < 0 means Redis could not be asked.
func (s *sharedCounts) take(l *limiter, addr netip.Addr, k kind, now time.Time, count bool) (ok bool, wait time.Duration, first bool) {
	epoch := now.UnixNano() / int64(l.window)
	key := make([]byte, 0, 80)
	key = append(key, s.prefix...)
	key = append(key, "rl:"...)
	key = append(key, kindNames[k]...)
	key = append(key, ':')
	key = strconv.AppendInt(key, epoch, 10)
	key = append(key, ':')
	key = bucket(addr).AppendTo(key)
	c := []byte{'0'}
	if count {
		c[0] = '1'
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	v, err := s.c.Eval(ctx, scriptLimit, [][]byte{key}, c, strconv.AppendUint(nil, uint64(l.limit), 10),
		strconv.AppendInt(nil, (2*l.window).Milliseconds(), 10))
	if err != nil || v.Kind != resp.Array || len(v.Array) != 2 {
		return false, -1, false
	}
	if v.Array[0].Int == 1 {
		return true, 0, false
	}
	return false, time.Duration((epoch+1)*int64(l.window) - now.UnixNano()), v.Array[1].Int == 1
}

// sharedRecents keeps the recent lists in Redis: one list per credential
// (named by its keyed hash), each item a masked receipt key and its nonce.
type sharedRecents struct {
	c      *resp.Client
	prefix string
	ttl    time.Duration // receipts live at most this long
}

const recentItemSize = store.KeyLen + 8

func (s *sharedRecents) name(id [32]byte) []byte {
	return hex.AppendEncode(append([]byte(s.prefix), "recent:"...), id[:])
}

// KEYS: the list. ARGV: the item, how many to keep, ms to live.
var scriptRecentAdd = resp.NewScript(`
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1}
`)

func (s *sharedRecents) add(c *access.Credential, key *store.Key) error {
	var item [recentItemSize]byte
	copy(item[:], key[:])
	if _, err := rand.Read(item[store.KeyLen:]); err != nil {
		return err
	}
	nonce := binary.LittleEndian.Uint64(item[store.KeyLen:])
	c.Mask(item[:store.KeyLen], nonce)
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	_, err := s.c.Eval(ctx, scriptRecentAdd, [][]byte{s.name(c.ID)}, item[:],
		strconv.AppendInt(nil, recentKeep, 10), strconv.AppendInt(nil, s.ttl.Milliseconds(), 10))
	return err
}

// unmasked returns c's receipt keys in clear, newest first; the caller
// wipes them.
func (s *sharedRecents) unmasked(c *access.Credential) ([]recentItem, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	v, err := s.c.Do(ctx, []byte("LRANGE"), s.name(c.ID), []byte("0"), []byte("-1"))
	if err != nil {
		return nil, err
	}
	out := make([]recentItem, 0, len(v.Array))
	for i := len(v.Array) - 1; i >= 0; i-- {
		b := v.Array[i].Bytes
		if len(b) != recentItemSize {
			continue
		}
		var it recentItem
		copy(it.key[:], b)
		it.nonce = binary.LittleEndian.Uint64(b[store.KeyLen:])
		c.Mask(it.key[:], it.nonce)
		out = append(out, it)
	}
	return out, nil
}

// drop forgets the items of credential id whose receipts are gone.
func (s *sharedRecents) drop(id [32]byte, gone map[uint64]bool) {
	if len(gone) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	name := s.name(id)
	v, err := s.c.Do(ctx, []byte("LRANGE"), name, []byte("0"), []byte("-1"))
	if err != nil {
		return
	}
	for _, e := range v.Array {
		if len(e.Bytes) == recentItemSize && gone[binary.LittleEndian.Uint64(e.Bytes[store.KeyLen:])] {
			s.c.Do(ctx, []byte("LREM"), name, []byte("1"), e.Bytes) //nolint:errcheck // dropped next time
		}
	}
}

// useShared puts the handler's shared state in Redis.
func (h *Handler) useShared(c *resp.Client, prefix string) {
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	counts := &sharedCounts{c: c, prefix: prefix}
	if h.limits != nil {
		h.limits.shared = counts
	}
	if h.authFails != nil {
		h.authFails.shared = counts
	}
	h.recents.shared = &sharedRecents{c: c, prefix: prefix, ttl: 2*h.cfg.MaxTTL + time.Minute}
}

// unavailable reports whether err means the shared store is away.
func unavailable(err error) bool { return errors.Is(err, store.ErrUnavailable) }

// lists calls fn with the credential id of every recent list in Redis.
func (s *sharedRecents) lists(fn func(name []byte, id [32]byte)) error {
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	prefix := s.prefix + "recent:"
	cursor := []byte("0")
	for {
		v, err := s.c.Do(ctx, []byte("SCAN"), cursor, []byte("MATCH"), []byte(prefix+"*"), []byte("COUNT"), []byte("1000"))
		if err != nil {
			return err
		}
		if v.Kind != resp.Array || len(v.Array) != 2 {
			return errors.New("unexpected SCAN reply")
		}
		for _, k := range v.Array[1].Array {
			var id [32]byte
			if n, err := hex.Decode(id[:], k.Bytes[len(prefix):]); err == nil && n == len(id) {
				fn(k.Bytes, id)
			}
		}
		if cursor = v.Array[0].Bytes; string(cursor) == "0" {
			return nil
		}
	}
}

// prune forgets the lists of credentials no longer in force.
func (s *sharedRecents) prune(holds func([32]byte) bool) {
	var gone [][]byte
	s.lists(func(name []byte, id [32]byte) { //nolint:errcheck // they expire anyway
		if !holds(id) {
			gone = append(gone, name)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), sharedTimeout)
	defer cancel()
	for _, name := range gone {
		s.c.Do(ctx, []byte("DEL"), name) //nolint:errcheck // they expire anyway
	}
}
