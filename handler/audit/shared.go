package audit

// With a shared store, the operator's view is the trail of every replica:
// each replica pushes its events, as the JSON lines it writes, to one
// Redis list that keeps the last Keep, and the view reads that list. Lines
// are pushed in batches by one goroutine, never on the request path; while
// Redis is away they wait (at most Queue of them, then the oldest go) and
// are pushed when it is back, so the events that say it was away reach the
// view too. Should the list be unreadable, the view falls back to this
// replica's own events. Each replica still writes its own lines on its
// own stderr.

import (
	"context"
	"encoding/json"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"otslite/store/resp"
)

type mirror struct {
	c    *resp.Client
	key  []byte
	keep int

	mu      sync.Mutex
	pending []Event
	max     int
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// KEYS: the list. ARGV: how many to keep, then the lines.
var scriptPush = resp.NewScript(`
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[1]), -1)
return {1}
`)

// Share makes the operator's view the shared list key in Redis (see
// above). Call it once, before events are recorded.
func (t *Trail) Share(c *resp.Client, key string) {
	m := &mirror{c: c, key: []byte(key), keep: t.cfg.Keep, max: t.cfg.Queue,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	t.mirror = m
	go m.run(t.cfg.Delay)
}

func (m *mirror) push(e Event) {
	m.mu.Lock()
	if len(m.pending) >= m.max {
		m.pending = m.pending[1:]
	}
	m.pending = append(m.pending, e)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *mirror) run(delay time.Duration) {
	defer close(m.done)
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	for {
		stopping := false
		select {
		case <-m.wake:
			time.Sleep(delay)
		case <-retry.C:
		case <-m.stop:
			stopping = true
		}
		m.flush()
		if stopping {
			return
		}
	}
}

// flush pushes what waits; on failure it stays for the next try.
func (m *mirror) flush() {
	m.mu.Lock()
	batch := m.pending
	m.pending = nil
	m.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	args := make([][]byte, 0, len(batch)+1)
	args = append(args, strconv.AppendInt(nil, int64(m.keep), 10))
	var s stamper
	for i := range batch {
		args = append(args, batch[i].appendJSON(nil, &s))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := m.c.Eval(ctx, scriptPush, [][]byte{m.key}, args...); err != nil {
		m.mu.Lock()
		m.pending = append(batch, m.pending...)
		if over := len(m.pending) - m.max; over > 0 {
			m.pending = m.pending[over:]
		}
		m.mu.Unlock()
	}
}

// events reads the shared list, oldest first.
func (m *mirror) events() ([]Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := m.c.Do(ctx, []byte("LRANGE"), m.key, []byte("0"), []byte("-1"))
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(v.Array))
	for _, line := range v.Array {
		var j struct {
			Time, Event, Ref, IP, User, Outcome string
		}
		if json.Unmarshal(line.Bytes, &j) != nil {
			continue
		}
		e := Event{Event: j.Event, Ref: j.Ref, User: j.User, Outcome: j.Outcome}
		e.Time, _ = time.Parse(time.RFC3339Nano, j.Time)
		e.IP, _ = netip.ParseAddr(j.IP)
		out = append(out, e)
	}
	return out, nil
}

// close pushes what is left (while Redis answers) and stops.
func (m *mirror) close() {
	m.once.Do(func() { close(m.stop) })
	<-m.done
}
