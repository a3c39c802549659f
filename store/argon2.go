package store

// argon2id, as RFC 9106 specifies it (version 0x13, no secret, no
// associated data), written out here for three reasons:
//
//   - It pauses every few blocks while other work is about (see pacer). A
//     hash takes tens of milliseconds of CPU; computed in one go it holds a
//     processor that long, and on a server with one (GOMAXPROCS=1, a small
//     container) every other request waits behind it. Yielding alone does
//     not help there: a goroutine that is always runnable keeps the
//     scheduler from polling the network, which then happens only every
//     10 ms. Pausing lets plain requests through, so passphrase traffic at
//     its limit costs them little.
//   - Its memory (MemoryKiB per worker) is reused and wiped after each hash.
//     A fresh 19 MiB per hash made the garbage collector run after nearly
//     every one, and the garbage it left holds the first blocks, from which
//     a guess can be checked at the cost of a BLAKE2b call instead of a
//     full argon2id.
//   - Its BLAKE2b states are scrubbed after use (reset, then their buffer
//     overwritten with zeros), for the same reason: H0 in a stale buffer
//     would let guesses skip the memory-hard part.
//
// Its compression function runs in AVX2 assembly where the processor has
// it (blamka_amd64.s), more than twice as fast as in Go: a hash takes that
// much less of a processor, so more passphrases are checked in the same
// share of it (see pacer).
//
// Test vectors and golang.org/x/crypto/argon2 check it (argon2_test.go).

import (
	"encoding/binary"
	"hash"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/blake2b"
)

const (
	argonWords      = 128 // 64-bit words per 1 KiB block
	argonSyncPoints = 4   // slices per pass
	argonVersion    = 0x13
	argonID         = 2
	argonYieldEvery = 32 // blocks computed between yields
)

// The pacer's policy: while other work has been seen within busyWindow,
// and hashes are running on every processor the scheduler has (one is
// enough on a server pinned to one CPU), a hash pauses between its runs of
// blocks; otherwise it only yields, as a processor is left to serve the
// rest.
//
// Its pauses keep it on a schedule: a hash should span hashSpan of wall
// time (hashRate a second per worker), so after a share of its blocks it
// should be that share of hashSpan in. It pauses for the difference, not
// more than maxPause at once. The schedule counts the time a hash actually
// spent away, so a pause that lasts longer than asked (a timer's latency,
// the wait for the processor behind the requests that came meanwhile) is
// made up by shorter ones later, and a flood of passphrase requests on a
// server with one processor still sees about ten answered a second,
// whatever the load beside it. A fast processor gives the hashes less of
// itself for the same ten. Two bounds hold over each hash: it is away at
// least minFactor times as long as it has worked, so the hashes never take
// more than a quarter of a processor however slow it is, and at most
// maxFactor times, so they never get less than a twelfth.
//
// A run lasts at least minRun: going to sleep and waking costs a few
// microseconds of its own, so runs much shorter than that (32 blocks take
// about 10 µs with AVX2) would spend the hashes' share on waking up.
const (
	busyWindow = 20 * time.Millisecond
	hashRate   = 11 // hashes a second per worker while plain work shares the processor
	hashSpan   = time.Second / hashRate
	minFactor  = 3  // at most a quarter of a processor
	maxFactor  = 11 // at least a twelfth
	maxPause   = 2 * time.Millisecond
	minRun     = 50 * time.Microsecond
)

// pacer decides how a hash yields. busy counts the other work done (the
// store's requests without a passphrase); nil means none is ever waited
// for. crowded reports whether hashes hold every processor.
type pacer struct {
	busy     *atomic.Uint64
	crowded  func() bool
	seen     uint64
	lastBusy time.Time
	runStart time.Time
	started  time.Time     // when this hash began
	worked   time.Duration // how long it has computed: its time less pauses and yields
	blocks   int           // blocks it has computed
	total    int           // blocks it computes
	now      func() time.Time
	sleep    func(time.Duration)
	gosched  func()
}

func newPacer(busy *atomic.Uint64, crowded func() bool) pacer {
	return pacer{busy: busy, crowded: crowded, now: time.Now, sleep: time.Sleep, gosched: runtime.Gosched}
}

// start marks the beginning of a hash of total blocks.
func (p *pacer) start(total int) {
	p.runStart = p.now()
	p.started, p.worked, p.blocks, p.total = p.runStart, 0, 0, max(total, 1)
}

// yield is called every argonYieldEvery blocks. Once a run has lasted
// minRun, it pauses while plain work is about, unless the hash is behind
// its schedule and was away long enough: then it goes on computing to
// catch up (yielding there would only queue it behind the plain requests
// again, and the time spent waiting would push it further behind).
// Without plain work about, it only yields.
func (p *pacer) yield() {
	p.blocks += argonYieldEvery
	now := p.now()
	run := now.Sub(p.runStart)
	if run < minRun {
		return
	}
	p.worked += run
	p.runStart = now
	if p.busy != nil {
		if n := p.busy.Load(); n != p.seen {
			p.seen, p.lastBusy = n, now
		}
		if now.Sub(p.lastBusy) < busyWindow && p.crowded() {
			if d := p.pause(now); d > 0 {
				p.sleep(d)
				p.runStart = p.now()
				scrubVectors()
			}
			return
		}
	}
	p.gosched()
	p.runStart = p.now()
	scrubVectors()
}

// pause is how long the hash should pause at now: what keeps it on its
// schedule, within the bounds on its share of the processor.
func (p *pacer) pause(now time.Time) time.Duration {
	elapsed := now.Sub(p.started)
	away := elapsed - p.worked
	due := time.Duration(float64(hashSpan) * float64(p.blocks) / float64(p.total))
	least := minFactor*p.worked - away
	most := maxFactor*p.worked - away
	return min(maxPause, max(least, min(most, due-elapsed)))
}

type argonBlock [argonWords]uint64

// argonState is one worker's state: its memory, scratch blocks and BLAKE2b
// digest, all wiped after each hash. (Scratch blocks live here rather than
// on the stack, where they could not be wiped for sure.)
type argonState struct {
	mem               []argonBlock
	mapped            hugeMem // where mem lies (Linux), asked for huge pages
	r, q, final       argonBlock
	addr, zero, input argonBlock
	b512              hash.Hash
	scratch           [blake2b.Size]byte
	pace              pacer
}

var zeroBlock [blake2b.BlockSize]byte

// scrub resets d and overwrites its buffer with zeros.
func scrub(d hash.Hash) {
	d.Reset()
	d.Write(zeroBlock[:])
	d.Reset()
}

// idKey writes argon2id(pass, salt) with p's cost into out and wipes its
// memory. It computes in general registers for tens of milliseconds, and
// may be preempted (by a signal) meanwhile: the vector registers are
// scrubbed first and after every pause, so what other code left in them
// is not saved on a signal stack.
func (a *argonState) idKey(out, pass, salt []byte, p HashParams) {
	scrubVectors()
	lanes := uint32(max(p.Threads, 1))
	memory := max(p.MemoryKiB, 2*argonSyncPoints*lanes)
	memory = memory / (argonSyncPoints * lanes) * (argonSyncPoints * lanes)
	if uint32(len(a.mem)) != memory {
		a.release()
		a.mapped, a.mem = mapArgon(int(memory))
	}
	if a.b512 == nil {
		a.b512, _ = blake2b.New512(nil)
	}
	var h0 [blake2b.Size + 8]byte
	a.initHash(h0[:blake2b.Size], pass, salt, p.MemoryKiB, max(p.Time, 1), lanes, uint32(len(out)))
	columns := memory / lanes
	var blockBytes [1024]byte
	for lane := range lanes {
		for j := range uint32(2) {
			binary.LittleEndian.PutUint32(h0[blake2b.Size:], j)
			binary.LittleEndian.PutUint32(h0[blake2b.Size+4:], lane)
			a.hPrime(blockBytes[:], h0[:])
			b := &a.mem[lane*columns+j]
			for i := range b {
				b[i] = binary.LittleEndian.Uint64(blockBytes[8*i:])
			}
		}
	}
	clear(h0[:])
	clear(blockBytes[:])
	a.pace.start(int(memory) * int(max(p.Time, 1)))
	a.fill(memory, max(p.Time, 1), lanes)

	final := &a.final
	for lane := range lanes {
		last := &a.mem[lane*columns+columns-1]
		for i := range final {
			final[i] ^= last[i]
		}
	}
	for i, w := range final {
		binary.LittleEndian.PutUint64(blockBytes[8*i:], w)
	}
	a.hPrime(out, blockBytes[:])
	clear(blockBytes[:])
	clear(a.mem)
	a.r, a.q, a.final, a.addr, a.input = argonBlock{}, argonBlock{}, argonBlock{}, argonBlock{}, argonBlock{}
	burnStack()
}

// release gives the memory back; the next hash maps it again.
func (a *argonState) release() {
	a.mapped.free() //nolint:errcheck // fails only for a mapping mapHuge did not make (TestMapHuge)
	a.mapped, a.mem = nil, nil
}

// initHash computes H0 (RFC 9106, section 3.2). The parameters go in as
// one 28-byte write, then the password; see hasher for why that order
// matters.
func (a *argonState) initHash(h0, pass, salt []byte, memory, time, lanes, tagLen uint32) {
	var params [28]byte
	binary.LittleEndian.PutUint32(params[0:], lanes)
	binary.LittleEndian.PutUint32(params[4:], tagLen)
	binary.LittleEndian.PutUint32(params[8:], memory)
	binary.LittleEndian.PutUint32(params[12:], time)
	binary.LittleEndian.PutUint32(params[16:], argonVersion)
	binary.LittleEndian.PutUint32(params[20:], argonID)
	binary.LittleEndian.PutUint32(params[24:], uint32(len(pass)))
	d := a.b512
	d.Reset()
	d.Write(params[:])
	d.Write(pass)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(salt)))
	d.Write(n[:])
	d.Write(salt)
	binary.LittleEndian.PutUint32(n[:], 0) // no secret, no associated data
	d.Write(n[:])
	d.Write(n[:])
	d.Sum(h0[:0])
	scrub(d)
}

// hPrime is the variable-length hash H' (RFC 9106, section 3.3).
func (a *argonState) hPrime(out, in []byte) {
	var t [4]byte
	binary.LittleEndian.PutUint32(t[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		d, _ := blake2b.New(len(out), nil)
		d.Write(t[:])
		d.Write(in)
		d.Sum(out[:0])
		scrub(d)
		return
	}
	d := a.b512
	v := a.scratch[:]
	d.Reset()
	d.Write(t[:])
	d.Write(in)
	d.Sum(v[:0])
	n := copy(out, v[:32])
	for len(out)-n > blake2b.Size {
		d.Reset()
		d.Write(v)
		d.Sum(v[:0])
		n += copy(out[n:], v[:32])
	}
	if rest := len(out) - n; rest < blake2b.Size {
		last, _ := blake2b.New(rest, nil)
		last.Write(v)
		last.Sum(out[n:n])
		scrub(last)
	} else {
		d.Reset()
		d.Write(v)
		d.Sum(out[n:n])
	}
	scrub(d)
	clear(v)
}

// fill computes every block after the first two of each lane (RFC 9106,
// section 3.4), yielding every argonYieldEvery blocks.
func (a *argonState) fill(memory, time, lanes uint32) {
	columns := memory / lanes
	segment := columns / argonSyncPoints
	addr, input := &a.addr, &a.input
	done := 0
	for pass := range time {
		for slice := range uint32(argonSyncPoints) {
			for lane := range lanes {
				independent := pass == 0 && slice < argonSyncPoints/2
				if independent {
					*input = argonBlock{}
					input[0], input[1], input[2] = uint64(pass), uint64(lane), uint64(slice)
					input[3], input[4], input[5] = uint64(memory), uint64(time), argonID
				}
				first := uint32(0)
				if pass == 0 && slice == 0 {
					first = 2
					if independent {
						a.nextAddresses()
					}
				}
				for k := first; k < segment; k++ {
					col := slice*segment + k
					cur := lane*columns + col
					prev := cur - 1
					if col == 0 {
						prev = lane*columns + columns - 1
					}
					var rnd uint64
					if independent {
						if k%argonWords == 0 {
							a.nextAddresses()
						}
						rnd = addr[k%argonWords]
					} else {
						rnd = a.mem[prev][0]
					}
					ref := refIndex(rnd, pass, slice, lane, k, lanes, columns, segment)
					a.compress(&a.mem[cur], &a.mem[prev], &a.mem[ref], pass > 0)
					if done++; done%argonYieldEvery == 0 {
						a.pace.yield()
					}
				}
			}
		}
	}
}

// nextAddresses makes the next block of pseudo-random values for the
// data-independent part (RFC 9106, section 3.4.1.2).
func (a *argonState) nextAddresses() {
	a.input[6]++
	a.compress(&a.addr, &a.zero, &a.input, false)
	a.compress(&a.addr, &a.zero, &a.addr, false)
}

// refIndex maps a pseudo-random value to the block it references (RFC
// 9106, section 3.4.1.1 and 3.4.2), as an index into memory.
func refIndex(rnd uint64, pass, slice, lane, k, lanes, columns, segment uint32) uint32 {
	j1, j2 := uint32(rnd), uint32(rnd>>32)
	refLane := j2 % lanes
	if pass == 0 && slice == 0 {
		refLane = lane
	}
	var area uint32
	switch {
	case pass == 0 && refLane == lane:
		area = slice*segment + k - 1
	case pass == 0:
		area = slice * segment
		if k == 0 {
			area--
		}
	case refLane == lane:
		area = columns - segment + k - 1
	default:
		area = columns - segment
		if k == 0 {
			area--
		}
	}
	x := uint64(j1) * uint64(j1) >> 32
	y := uint64(area) * x >> 32
	rel := uint64(area) - 1 - y
	start := uint64(0)
	if pass > 0 && slice != argonSyncPoints-1 {
		start = uint64((slice + 1) * segment)
	}
	return refLane*columns + uint32((start+rel)%uint64(columns))
}

// compress sets dst to G(x, y), or XORs G(x, y) into it when xor (later
// passes, version 0x13). dst may be y. Where the processor has AVX2 it runs
// in assembly (blamka_amd64.s), about twice as fast.
func (a *argonState) compress(dst, x, y *argonBlock, xor bool) {
	if haveCompressAVX2 {
		compressAVX2(dst, x, y, &a.r, &a.q, xor)
		return
	}
	a.compressGo(dst, x, y, xor)
}

// compressGo is compress in Go.
func (a *argonState) compressGo(dst, x, y *argonBlock, xor bool) {
	r, q := &a.r, &a.q
	for i := range r {
		r[i] = x[i] ^ y[i]
	}
	*q = *r
	for i := 0; i < argonWords; i += 16 {
		blamkaRow((*[16]uint64)(q[i : i+16]))
	}
	for i := 0; i < 16; i += 2 {
		blamkaColumn((*[114]uint64)(q[i : i+114]))
	}
	if xor {
		for i := range dst {
			dst[i] ^= r[i] ^ q[i]
		}
	} else {
		for i := range dst {
			dst[i] = r[i] ^ q[i]
		}
	}
}

// blamkaRow and blamkaColumn apply P, the BLAKE2b round with BlaMka's
// multiplications, to a row of a block (sixteen words in a row) and to a
// column (two words every sixteen). Spelled out, so that everything is
// inlined and no index is checked at run time. The two bodies are the
// same rounds on different words; one shared function over a gathered
// [16]uint64 made BenchmarkArgon2Default 1.4x slower (25 to 35 ms).
func blamkaRow(w *[16]uint64) {
	v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]
	v0 += v4 + 2*uint64(uint32(v0))*uint64(uint32(v4))
	v12 = bits.RotateLeft64(v12^v0, -32)
	v8 += v12 + 2*uint64(uint32(v8))*uint64(uint32(v12))
	v4 = bits.RotateLeft64(v4^v8, -24)
	v0 += v4 + 2*uint64(uint32(v0))*uint64(uint32(v4))
	v12 = bits.RotateLeft64(v12^v0, -16)
	v8 += v12 + 2*uint64(uint32(v8))*uint64(uint32(v12))
	v4 = bits.RotateLeft64(v4^v8, -63)
	v1 += v5 + 2*uint64(uint32(v1))*uint64(uint32(v5))
	v13 = bits.RotateLeft64(v13^v1, -32)
	v9 += v13 + 2*uint64(uint32(v9))*uint64(uint32(v13))
	v5 = bits.RotateLeft64(v5^v9, -24)
	v1 += v5 + 2*uint64(uint32(v1))*uint64(uint32(v5))
	v13 = bits.RotateLeft64(v13^v1, -16)
	v9 += v13 + 2*uint64(uint32(v9))*uint64(uint32(v13))
	v5 = bits.RotateLeft64(v5^v9, -63)
	v2 += v6 + 2*uint64(uint32(v2))*uint64(uint32(v6))
	v14 = bits.RotateLeft64(v14^v2, -32)
	v10 += v14 + 2*uint64(uint32(v10))*uint64(uint32(v14))
	v6 = bits.RotateLeft64(v6^v10, -24)
	v2 += v6 + 2*uint64(uint32(v2))*uint64(uint32(v6))
	v14 = bits.RotateLeft64(v14^v2, -16)
	v10 += v14 + 2*uint64(uint32(v10))*uint64(uint32(v14))
	v6 = bits.RotateLeft64(v6^v10, -63)
	v3 += v7 + 2*uint64(uint32(v3))*uint64(uint32(v7))
	v15 = bits.RotateLeft64(v15^v3, -32)
	v11 += v15 + 2*uint64(uint32(v11))*uint64(uint32(v15))
	v7 = bits.RotateLeft64(v7^v11, -24)
	v3 += v7 + 2*uint64(uint32(v3))*uint64(uint32(v7))
	v15 = bits.RotateLeft64(v15^v3, -16)
	v11 += v15 + 2*uint64(uint32(v11))*uint64(uint32(v15))
	v7 = bits.RotateLeft64(v7^v11, -63)
	v0 += v5 + 2*uint64(uint32(v0))*uint64(uint32(v5))
	v15 = bits.RotateLeft64(v15^v0, -32)
	v10 += v15 + 2*uint64(uint32(v10))*uint64(uint32(v15))
	v5 = bits.RotateLeft64(v5^v10, -24)
	v0 += v5 + 2*uint64(uint32(v0))*uint64(uint32(v5))
	v15 = bits.RotateLeft64(v15^v0, -16)
	v10 += v15 + 2*uint64(uint32(v10))*uint64(uint32(v15))
	v5 = bits.RotateLeft64(v5^v10, -63)
	v1 += v6 + 2*uint64(uint32(v1))*uint64(uint32(v6))
	v12 = bits.RotateLeft64(v12^v1, -32)
	v11 += v12 + 2*uint64(uint32(v11))*uint64(uint32(v12))
	v6 = bits.RotateLeft64(v6^v11, -24)
	v1 += v6 + 2*uint64(uint32(v1))*uint64(uint32(v6))
	v12 = bits.RotateLeft64(v12^v1, -16)
	v11 += v12 + 2*uint64(uint32(v11))*uint64(uint32(v12))
	v6 = bits.RotateLeft64(v6^v11, -63)
	v2 += v7 + 2*uint64(uint32(v2))*uint64(uint32(v7))
	v13 = bits.RotateLeft64(v13^v2, -32)
	v8 += v13 + 2*uint64(uint32(v8))*uint64(uint32(v13))
	v7 = bits.RotateLeft64(v7^v8, -24)
	v2 += v7 + 2*uint64(uint32(v2))*uint64(uint32(v7))
	v13 = bits.RotateLeft64(v13^v2, -16)
	v8 += v13 + 2*uint64(uint32(v8))*uint64(uint32(v13))
	v7 = bits.RotateLeft64(v7^v8, -63)
	v3 += v4 + 2*uint64(uint32(v3))*uint64(uint32(v4))
	v14 = bits.RotateLeft64(v14^v3, -32)
	v9 += v14 + 2*uint64(uint32(v9))*uint64(uint32(v14))
	v4 = bits.RotateLeft64(v4^v9, -24)
	v3 += v4 + 2*uint64(uint32(v3))*uint64(uint32(v4))
	v14 = bits.RotateLeft64(v14^v3, -16)
	v9 += v14 + 2*uint64(uint32(v9))*uint64(uint32(v14))
	v4 = bits.RotateLeft64(v4^v9, -63)
	w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15] = v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15
}

func blamkaColumn(w *[114]uint64) {
	v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15 := w[0], w[1], w[16], w[17], w[32], w[33], w[48], w[49], w[64], w[65], w[80], w[81], w[96], w[97], w[112], w[113]
	v0 += v4 + 2*uint64(uint32(v0))*uint64(uint32(v4))
	v12 = bits.RotateLeft64(v12^v0, -32)
	v8 += v12 + 2*uint64(uint32(v8))*uint64(uint32(v12))
	v4 = bits.RotateLeft64(v4^v8, -24)
	v0 += v4 + 2*uint64(uint32(v0))*uint64(uint32(v4))
	v12 = bits.RotateLeft64(v12^v0, -16)
	v8 += v12 + 2*uint64(uint32(v8))*uint64(uint32(v12))
	v4 = bits.RotateLeft64(v4^v8, -63)
	v1 += v5 + 2*uint64(uint32(v1))*uint64(uint32(v5))
	v13 = bits.RotateLeft64(v13^v1, -32)
	v9 += v13 + 2*uint64(uint32(v9))*uint64(uint32(v13))
	v5 = bits.RotateLeft64(v5^v9, -24)
	v1 += v5 + 2*uint64(uint32(v1))*uint64(uint32(v5))
	v13 = bits.RotateLeft64(v13^v1, -16)
	v9 += v13 + 2*uint64(uint32(v9))*uint64(uint32(v13))
	v5 = bits.RotateLeft64(v5^v9, -63)
	v2 += v6 + 2*uint64(uint32(v2))*uint64(uint32(v6))
	v14 = bits.RotateLeft64(v14^v2, -32)
	v10 += v14 + 2*uint64(uint32(v10))*uint64(uint32(v14))
	v6 = bits.RotateLeft64(v6^v10, -24)
	v2 += v6 + 2*uint64(uint32(v2))*uint64(uint32(v6))
	v14 = bits.RotateLeft64(v14^v2, -16)
	v10 += v14 + 2*uint64(uint32(v10))*uint64(uint32(v14))
	v6 = bits.RotateLeft64(v6^v10, -63)
	v3 += v7 + 2*uint64(uint32(v3))*uint64(uint32(v7))
	v15 = bits.RotateLeft64(v15^v3, -32)
	v11 += v15 + 2*uint64(uint32(v11))*uint64(uint32(v15))
	v7 = bits.RotateLeft64(v7^v11, -24)
	v3 += v7 + 2*uint64(uint32(v3))*uint64(uint32(v7))
	v15 = bits.RotateLeft64(v15^v3, -16)
	v11 += v15 + 2*uint64(uint32(v11))*uint64(uint32(v15))
	v7 = bits.RotateLeft64(v7^v11, -63)
	v0 += v5 + 2*uint64(uint32(v0))*uint64(uint32(v5))
	v15 = bits.RotateLeft64(v15^v0, -32)
	v10 += v15 + 2*uint64(uint32(v10))*uint64(uint32(v15))
	v5 = bits.RotateLeft64(v5^v10, -24)
	v0 += v5 + 2*uint64(uint32(v0))*uint64(uint32(v5))
	v15 = bits.RotateLeft64(v15^v0, -16)
	v10 += v15 + 2*uint64(uint32(v10))*uint64(uint32(v15))
	v5 = bits.RotateLeft64(v5^v10, -63)
	v1 += v6 + 2*uint64(uint32(v1))*uint64(uint32(v6))
	v12 = bits.RotateLeft64(v12^v1, -32)
	v11 += v12 + 2*uint64(uint32(v11))*uint64(uint32(v12))
	v6 = bits.RotateLeft64(v6^v11, -24)
	v1 += v6 + 2*uint64(uint32(v1))*uint64(uint32(v6))
	v12 = bits.RotateLeft64(v12^v1, -16)
	v11 += v12 + 2*uint64(uint32(v11))*uint64(uint32(v12))
	v6 = bits.RotateLeft64(v6^v11, -63)
	v2 += v7 + 2*uint64(uint32(v2))*uint64(uint32(v7))
	v13 = bits.RotateLeft64(v13^v2, -32)
	v8 += v13 + 2*uint64(uint32(v8))*uint64(uint32(v13))
	v7 = bits.RotateLeft64(v7^v8, -24)
	v2 += v7 + 2*uint64(uint32(v2))*uint64(uint32(v7))
	v13 = bits.RotateLeft64(v13^v2, -16)
	v8 += v13 + 2*uint64(uint32(v8))*uint64(uint32(v13))
	v7 = bits.RotateLeft64(v7^v8, -63)
	v3 += v4 + 2*uint64(uint32(v3))*uint64(uint32(v4))
	v14 = bits.RotateLeft64(v14^v3, -32)
	v9 += v14 + 2*uint64(uint32(v9))*uint64(uint32(v14))
	v4 = bits.RotateLeft64(v4^v9, -24)
	v3 += v4 + 2*uint64(uint32(v3))*uint64(uint32(v4))
	v14 = bits.RotateLeft64(v14^v3, -16)
	v9 += v14 + 2*uint64(uint32(v9))*uint64(uint32(v14))
	v4 = bits.RotateLeft64(v4^v9, -63)
	w[0], w[1], w[16], w[17], w[32], w[33], w[48], w[49], w[64], w[65], w[80], w[81], w[96], w[97], w[112], w[113] = v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15
}
