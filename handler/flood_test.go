package handler

import (
	"encoding/json"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// A flood of passphrase requests from many addresses, each needing
// argon2id, while one worker hashes at a time: plain creates and reveals
// beside it all succeed, and every passphrase request is answered, with
// its secret or with a 503 that says when to retry.
func TestPassphraseFlood(t *testing.T) {
	const flooders, plainClients, plainPairs = 300, 4, 25
	s := MustOpenServer(t, func(c *testConfig) {
		c.store.HashWorkers = 1
		c.store.HashWait = 2 * time.Second
		c.store.Hash.MemoryKiB = 8 << 10
		c.store.Hash.Time = 2
	})
	// Every connection comes from its own address in 10.0.0.0/8, so
	// neither the per-address connection cap nor a rate limit queues them.
	var next atomic.Uint32
	many := s.track(&fasthttp.Client{
		Dial: func(string) (net.Conn, error) {
			i := next.Add(1)
			return s.ln.DialWithLocalAddr(&net.TCPAddr{IP: net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)), Port: 40000})
		},
		MaxConnsPerHost:    2 * flooders,
		MaxConnWaitTimeout: 30 * time.Second,
		ReadTimeout:        30 * time.Second,
		WriteTimeout:       30 * time.Second,
	})

	var (
		stop                  atomic.Bool
		answered, busy, fails atomic.Int32
		mu                    sync.Mutex
		odd                   []string
		wg                    sync.WaitGroup
	)
	note := func(what string) {
		fails.Add(1)
		mu.Lock()
		if len(odd) < 5 {
			odd = append(odd, what)
		}
		mu.Unlock()
	}
	// check sorts a passphrase request's answer and reports whether it
	// was a 200.
	check := func(r *response, err error) bool {
		switch {
		case err != nil:
			note(err.Error())
		case r.status == 200:
			answered.Add(1)
			return true
		case r.intended() == 503 && r.get("Retry-After") != "":
			busy.Add(1)
		default:
			note(r.String())
		}
		return false
	}
	for range flooders {
		wg.Go(func() {
			for !stop.Load() {
				r, err := s.try(many, "POST", "/api/v1/share", ctForm, form("secret", "flood", "passphrase", "open sesame"))
				if !check(r, err) {
					continue
				}
				key := secretKeyIn(r.body)
				check(s.try(many, "POST", "/api/v1/secret/"+key, ctForm, form("passphrase", "open sesame")))
			}
		})
	}

	var plain sync.WaitGroup
	for i := range plainClients {
		c := s.clientFrom(net.IPv4(192, 0, 2, byte(100+i)))
		plain.Go(func() {
			for j := range plainPairs {
				r, err := s.try(c, "POST", "/api/v1/share", ctForm, form("secret", "plain"))
				if err != nil || r.status != 200 {
					t.Errorf("plain create %d beside the flood: %v %v", j, r, err)
					return
				}
				key := secretKeyIn(r.body)
				r, err = s.try(c, "POST", "/api/v1/secret/"+key, ctForm, "")
				if err != nil || r.status != 200 || !strings.Contains(string(r.body), `"value":"plain"`) {
					t.Errorf("plain reveal %d beside the flood: %v %v", j, r, err)
					return
				}
			}
		})
	}
	plain.Wait()
	stop.Store(true)
	wg.Wait()
	t.Logf("passphrase requests: %d answered, %d busy, %d other", answered.Load(), busy.Load(), fails.Load())
	if fails.Load() > 0 {
		t.Errorf("passphrase requests neither answered nor refused as busy with Retry-After: %q", odd)
	}
	if answered.Load() == 0 {
		t.Error("no passphrase request was answered during the flood")
	}
}

// secretKeyIn returns the secret_key of a JSON answer, "" without one.
// (Unlike str, it can be called from any goroutine.)
func secretKeyIn(body []byte) string {
	var m struct {
		Key string `json:"secret_key"`
	}
	_ = json.Unmarshal(body, &m)
	return m.Key
}

// TestBusyRefusalIsHeld: a passphrase request refused at once because the
// queue for argon2id is full is answered no sooner than BusyHold after it
// came, so a flooder that waits for its answers sends fewer of them.
func TestBusyRefusalIsHeld(t *testing.T) {
	s := MustOpenServer(t, func(c *testConfig) {
		c.store.HashWorkers = 1
		c.store.HashQueue = 1
		c.store.Hash.MemoryKiB = 128 << 10 // a hash takes a good half second
		c.store.Hash.Time = 4
	})
	body := form("secret", "s", "passphrase", "open sesame")
	var wg sync.WaitGroup
	for i := range 2 { // one hashes, one waits
		c := s.clientFrom(net.IPv4(192, 0, 2, byte(10+i)))
		wg.Go(func() {
			if r, err := s.try(c, "POST", "/api/v1/share", ctForm, body); err != nil || r.status != 200 {
				t.Errorf("a passphrase request the queue took: %v %v", r, err)
			}
		})
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	r, err := s.try(s.clientFrom(net.IPv4(192, 0, 2, 20)), "POST", "/api/v1/share", ctForm, body)
	took := time.Since(start)
	if err != nil || r.intended() != 503 || r.get("Retry-After") == "" {
		t.Fatalf("a third passphrase request: %v %v; want a 503 with Retry-After", r, err)
	}
	if took < time.Second {
		t.Errorf("the refusal came %v after the request, want no sooner than %v", took, time.Second)
	}
	wg.Wait()
}
