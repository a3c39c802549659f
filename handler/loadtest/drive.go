package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The load generator. Each client holds one keep-alive connection and runs
// create+reveal pairs back to back: share a secret, read its secret_key
// from the answer, reveal it, check the value came back. Requests are
// written and answers parsed by hand, so the generator costs less per
// request than the server it drives.

// driveConfig says what load to generate.
type driveConfig struct {
	Addr         string        // host:port
	Clients      int           // plain create+reveal clients
	PassClients  int           // clients doing the same with a passphrase
	ProofClients int           // clients doing the same as the web UI does: a zero-knowledge envelope and its proof
	Flood        int           // clients doing the same with a passphrase, each from its own address
	FloodPause   time.Duration // how long a flood client waits after a refusal
	Duration     time.Duration // measured time, after Warmup
	Warmup       time.Duration
	SecretSize   int
	Creates      int // create only, this many in all, then stop (no reveals)
	Timeout      time.Duration
	ServerPID    int   // when set, the server's CPU use is measured too
	MorePIDs     []int // more server processes (replicas, Redis) whose CPU counts with it
	latencyLimit int   // samples kept per client (0: a default)
}

// driveResult is what a drive measured. Latencies are of plain reveals.
type driveResult struct {
	Pairs       int64   `json:"pairs"`
	Seconds     float64 `json:"seconds"`
	PairsPerSec float64 `json:"pairs_per_s"`
	RevealP50us float64 `json:"reveal_p50_us"`
	RevealP99us float64 `json:"reveal_p99_us"`
	PassPairs   int64   `json:"pass_pairs"`
	PassPerSec  float64 `json:"pass_pairs_per_s"`
	PassReqs    int64   `json:"pass_requests"` // passphrase creates and reveals answered
	PassReqsSec float64 `json:"pass_requests_per_s"`
	ProofPairs  int64   `json:"proof_pairs"` // pairs of the proof clients
	ProofPerSec float64 `json:"proof_pairs_per_s"`
	PassBusy    int64   `json:"pass_busy"`
	FloodReqs   int64   `json:"flood_requests"` // flood creates and reveals answered 200
	FloodReqSec float64 `json:"flood_requests_per_s"`
	FloodBusy   int64   `json:"flood_busy"` // flood requests refused as busy
	FloodBusyPS float64 `json:"flood_busy_per_s"`
	Creates     int64   `json:"creates"`
	Errors      int64   `json:"errors"`
	FirstError  string  `json:"first_error,omitempty"`
	CPUSeconds  float64 `json:"cpu_s"`        // the generator's user+system time
	ServerCPU   float64 `json:"server_cpu_s"` // the server's, when its pid was given
}

const passphrase = "correct horse battery"

// secretValue is size bytes that form and JSON encoding leave as they are.
func secretValue(size int) []byte {
	const chars = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"
	b := make([]byte, size)
	for i := range b {
		b[i] = chars[i%len(chars)]
	}
	return b
}

// The content types of request bodies.
const (
	ctForm = "application/x-www-form-urlencoded"
	ctJSON = "application/json"
)

// request appends a POST of body (of type ct) to path+key, for host (the
// server's host:port: otslite answers only requests that name it).
func request(dst []byte, host, path string, key []byte, ct, body string) []byte {
	dst = append(dst, "POST "...)
	dst = append(dst, path...)
	dst = append(dst, key...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\nContent-Type: "...)
	dst = append(dst, ct...)
	dst = append(dst, "\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// drive runs the load and returns what it measured.
func drive(cfg driveConfig) (driveResult, error) {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.latencyLimit <= 0 {
		cfg.latencyLimit = 1 << 20
	}
	secret := secretValue(cfg.SecretSize)
	var (
		res       driveResult
		measuring atomic.Bool
		stop      atomic.Bool
		creates   atomic.Int64
		errs      atomic.Int64
		errOnce   sync.Once
		wg        sync.WaitGroup
	)
	fail := func(err error) {
		errs.Add(1)
		errOnce.Do(func() { res.FirstError = err.Error() })
	}
	plain := make([]*client, cfg.Clients)
	pass := make([]*client, cfg.PassClients)
	// Several addresses (replicas of one store): client i creates on one
	// and reveals on the next.
	addrs := strings.Split(cfg.Addr, ",")
	cfg.Addr = addrs[0]
	for i := range plain {
		plain[i] = &client{addr: addrs[i%len(addrs)], timeout: cfg.Timeout}
		if len(addrs) > 1 {
			plain[i].rev = &client{addr: addrs[(i+1)%len(addrs)], timeout: cfg.Timeout}
		}
	}
	// A passphrase request may wait for argon2id as long as the server
	// lets it (10 s by default), and then be hashed, before it is answered.
	for i := range pass {
		pass[i] = &client{addr: cfg.Addr, timeout: 3 * cfg.Timeout, pass: true, window: &measuring}
	}
	flood := make([]*client, cfg.Flood)
	for i := range flood {
		flood[i] = &client{addr: cfg.Addr, timeout: 3 * cfg.Timeout, pass: true, from: floodAddr(i), pause: cfg.FloodPause, window: &measuring}
	}
	proof := make([]*client, cfg.ProofClients)
	for i := range proof {
		proof[i] = &client{addr: cfg.Addr, timeout: cfg.Timeout, zk: newZK(cfg.SecretSize)}
	}
	for _, c := range slices.Concat(plain, pass, flood, proof) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			c.lat = make([]time.Duration, 0, 4096)
			for !stop.Load() {
				if cfg.Creates > 0 {
					if creates.Add(1) > int64(cfg.Creates) {
						return
					}
					if _, err := c.create(secret); err != nil {
						fail(err)
						c.close()
					}
					continue
				}
				on := measuring.Load()
				err := c.pair(secret, on && len(c.lat) < cfg.latencyLimit)
				switch {
				case errors.Is(err, errBusy):
					// Counted when it comes, as answers are (see window).
					if measuring.Load() {
						c.busy++
					}
					time.Sleep(c.pause)
				case err != nil:
					fail(err)
					c.close()
				case on:
					c.pairs++
				}
			}
		}()
	}
	serverCPU := func() time.Duration {
		t := processCPU(cfg.ServerPID)
		for _, pid := range cfg.MorePIDs {
			t += processCPU(pid)
		}
		return t
	}
	cpu0, server0 := cpuTime(), serverCPU()
	start := time.Now()
	if cfg.Creates > 0 {
		wg.Wait()
	} else {
		time.Sleep(cfg.Warmup)
		cpu0, server0 = cpuTime(), serverCPU()
		start = time.Now()
		measuring.Store(true)
		time.Sleep(cfg.Duration)
		measuring.Store(false)
	}
	elapsed := time.Since(start)
	res.CPUSeconds = (cpuTime() - cpu0).Seconds()
	res.ServerCPU = (serverCPU() - server0).Seconds()
	stop.Store(true)
	wg.Wait()
	res.Seconds = elapsed.Seconds()
	res.Errors = errs.Load()
	res.Creates = min(creates.Load(), int64(cfg.Creates))
	var lat []time.Duration
	for _, c := range plain {
		res.Pairs += c.pairs
		lat = append(lat, c.lat...)
	}
	for _, c := range pass {
		res.PassPairs += c.pairs
		res.PassBusy += c.busy
		res.PassReqs += c.answered
	}
	for _, c := range flood {
		res.FloodReqs += c.answered
		res.FloodBusy += c.busy
	}
	for _, c := range proof {
		res.ProofPairs += c.pairs
	}
	res.ProofPerSec = float64(res.ProofPairs) / res.Seconds
	res.FloodReqSec = float64(res.FloodReqs) / res.Seconds
	res.FloodBusyPS = float64(res.FloodBusy) / res.Seconds
	res.PairsPerSec = float64(res.Pairs) / res.Seconds
	res.PassPerSec = float64(res.PassPairs) / res.Seconds
	res.PassReqsSec = float64(res.PassReqs) / res.Seconds
	slices.Sort(lat)
	res.RevealP50us = micros(percentile(lat, 50))
	res.RevealP99us = micros(percentile(lat, 99))
	if res.Pairs+res.PassPairs+res.ProofPairs+res.Creates == 0 && res.Errors > 0 {
		return res, fmt.Errorf("no request succeeded: %s", res.FirstError)
	}
	return res, nil
}

// percentile returns the p-th percentile of sorted (nearest rank).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p/100*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// cpuTime is the user plus system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var errBusy = errors.New("server busy")

// floodAddr is the source address of flood client i: one of 127.1.0.1 to
// 127.1.255.254, all of them local on Linux without setup.
func floodAddr(i int) net.IP {
	n := i%(1<<16-2) + 1
	return net.IPv4(127, 1, byte(n>>8), byte(n))
}

// client is one keep-alive connection and its buffers.
type client struct {
	addr     string
	timeout  time.Duration
	pass     bool
	zk       *zkSecret     // as the web UI: an envelope and its proof; nil: none
	from     net.IP        // source address; nil: any
	pause    time.Duration // after a refusal as busy
	conn     net.Conn
	r        *bufio.Reader
	req      []byte
	body     []byte
	share    []byte // the share request, built once
	lat      []time.Duration
	pairs    int64
	answered int64 // requests answered 200 within the window
	// window, when set, is whether the measured window is open: answers
	// are counted when they arrive, whenever their pair began, as a
	// passphrase request may wait seconds for argon2id. nil: not counted.
	window *atomic.Bool
	busy   int64
	rev    *client // reveals go there (another replica); nil: here
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
	if c.rev != nil {
		c.rev.close()
	}
}

var (
	keyField   = []byte(`"secret_key":"`)
	valueStart = []byte(`{"value":"`)
)

// create shares secret and returns its secret key (valid until the next
// request on c).
func (c *client) create(secret []byte) ([]byte, error) {
	if c.share == nil {
		body, ct := "secret="+string(secret)+"&ttl=3600", ctForm
		switch {
		case c.zk != nil:
			body, ct = c.zk.shareBody()
		case c.pass:
			body += "&passphrase=" + passphrase
		}
		c.share = request(nil, c.addr, "/api/v1/share", nil, ct, body)
	}
	status, body, err := c.do(c.share)
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, statusError("share", status, body)
	}
	i := bytes.Index(body, keyField)
	if i < 0 {
		return nil, fmt.Errorf("share: no secret_key in %.200q", body)
	}
	key := body[i+len(keyField):]
	if j := bytes.IndexByte(key, '"'); j >= 0 {
		return key[:j], nil
	}
	return nil, fmt.Errorf("share: bad secret_key in %.200q", body)
}

// pair runs one create+reveal; timed says whether to record the reveal's
// latency.
func (c *client) pair(secret []byte, timed bool) error {
	key, err := c.create(secret)
	if err != nil {
		return err
	}
	body := ""
	switch {
	case c.zk != nil:
		body = "passphrase=" + string(c.zk.proof)
		secret = c.zk.envelope
	case c.pass:
		body = "passphrase=" + passphrase
	}
	rev := c
	if c.rev != nil {
		rev = c.rev
	}
	c.req = request(c.req[:0], rev.addr, "/api/v1/secret/", key, ctForm, body)
	t0 := time.Now()
	status, resp, err := rev.do(c.req)
	if err != nil {
		return err
	}
	if timed && !c.pass && c.zk == nil {
		c.lat = append(c.lat, time.Since(t0))
	}
	if status != 200 {
		return statusError("reveal", status, resp)
	}
	if !bytes.HasPrefix(resp, valueStart) || !bytes.HasPrefix(resp[len(valueStart):], secret) {
		return fmt.Errorf("reveal: wrong value in %.200q", resp)
	}
	return nil
}

func statusError(what string, status int, body []byte) error {
	if status == 503 || bytes.Contains(body, []byte("busy")) {
		return errBusy
	}
	return fmt.Errorf("%s: status %d: %.200q", what, status, body)
}

// do sends one request and reads the answer; the body is valid until the
// next call.
func (c *client) do(req []byte) (int, []byte, error) {
	if c.conn == nil {
		d := net.Dialer{Timeout: c.timeout}
		if c.from != nil {
			d.LocalAddr = &net.TCPAddr{IP: c.from}
		}
		conn, err := d.Dial("tcp", c.addr)
		if err != nil {
			return 0, nil, err
		}
		c.conn = conn
		if c.r == nil {
			c.r = bufio.NewReaderSize(conn, 16<<10)
		} else {
			c.r.Reset(conn)
		}
	}
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, err
	}
	status, body, err := c.readResponse()
	if err == nil && status == 200 && c.window != nil && c.window.Load() {
		c.answered++
	}
	return status, body, err
}

// readResponse parses a status line, headers and a Content-Length body.
func (c *client) readResponse() (int, []byte, error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, nil, fmt.Errorf("bad status line %.100q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, fmt.Errorf("bad status line %.100q", line)
	}
	length, closing := -1, false
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, nil, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")):
			closing = bytes.EqualFold(value, []byte("close"))
		case bytes.EqualFold(name, []byte("X-OTS-Intended-Status")):
			// The v1 API answers failures with 404 and says what it meant.
			if n, err := strconv.Atoi(string(value)); err == nil {
				status = n
			}
		}
	}
	if length < 0 {
		return 0, nil, errors.New("answer without Content-Length")
	}
	if cap(c.body) < length {
		c.body = make([]byte, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.r, c.body); err != nil {
		return 0, nil, err
	}
	if closing {
		c.close()
	}
	return status, c.body, nil
}
