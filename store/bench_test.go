package store

// Benchmarks of the store's parts and of its memory per secret.
//
//	go test -run '^$' -bench . -benchmem ./store

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// roomy opens a store that takes as many secrets as a benchmark makes.
func roomy(c *Config) {
	c.MaxSecrets = 1 << 30
	c.MaxBytes = 1 << 40
	c.MaxSecretSize = 64 << 10
	c.LockedBytes = 8 << 20
}

func BenchmarkSeal(b *testing.B) {
	var key [derivedSize]byte
	msg := make([]byte, 1024)
	dst := make([]byte, len(msg)+tagSize)
	b.Run("Overlay", func(b *testing.B) {
		if aeadType == nil {
			b.Skip("the overlay is not used on this platform")
		}
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			seal(dst, &key, msg)
		}
	})
	b.Run("Generic", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		b.ReportAllocs()
		for b.Loop() {
			sealGeneric(dst, key[:], msg)
		}
	})
}

func BenchmarkOpen(b *testing.B) {
	var key [derivedSize]byte
	msg := make([]byte, 1024)
	sealed := make([]byte, len(msg)+tagSize)
	seal(sealed, &key, msg)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := open(msg, &key, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDerive(b *testing.B) {
	var d derived
	var work [deriveInput]byte
	proc := make([]byte, procKeySize)
	link := bytes.Repeat([]byte("k"), KeyLen)
	b.ReportAllocs()
	for b.Loop() {
		derive(&d, work[:], labelSecret, proc, link)
	}
}

// BenchmarkReveal claims and opens stored secrets; they are stored off the
// clock.
func BenchmarkReveal(b *testing.B) {
	s, _ := MustOpenStore(b, roomy)
	value := bytes.Repeat([]byte("s"), 1024)
	keys := make([]Key, 0, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	for i := 0; i < b.N; {
		b.StopTimer()
		keys = keys[:0]
		for range min(cap(keys), b.N-i) {
			keys = append(keys, MustCreate(b, s, string(value), CreateOptions{}).SecretKey)
		}
		b.StartTimer()
		for _, k := range keys {
			out, _, err := s.Reveal(k[:], nil, alice)
			if err != nil {
				b.Fatal(err)
			}
			out.Release()
			i++
		}
	}
}

// BenchmarkSweep expires a batch of secrets among many that are not due:
// its cost per expired secret stays the same however many are stored.
func BenchmarkSweep(b *testing.B) {
	for _, stored := range []int{1000, 100_000} {
		b.Run("stored="+strconv.Itoa(stored), func(b *testing.B) {
			s, clock := MustOpenStore(b, roomy)
			for range stored {
				MustCreate(b, s, "long-lived", CreateOptions{TTL: 24 * time.Hour})
			}
			const batch = 1000
			swept := 0
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				for range batch {
					MustCreate(b, s, "short-lived", CreateOptions{TTL: time.Minute})
				}
				clock.Add(time.Minute)
				b.StartTimer()
				swept += s.Sweep()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(swept), "ns/swept")
		})
	}
}

// BenchmarkStoredBytes reports the live heap each stored 1 KiB secret
// takes: record, cell, index entries and queue slot. (The load command
// measures the process's RSS per secret.)
func BenchmarkStoredBytes(b *testing.B) {
	s, _ := MustOpenStore(b, roomy)
	value := string(bytes.Repeat([]byte("s"), 1024))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		r := MustCreate(b, s, value, CreateOptions{})
		r.Wipe()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "heap-B/secret")
	runtime.KeepAlive(s)
}

// BenchmarkAEADChoice measures what sealing and opening one secret cost
// with the AEAD the store uses (ChaCha20-Poly1305, laid over the locked
// key, aead.go) against AES-256-GCM as the standard library makes it (a
// fresh key schedule and GHASH table per secret, as each secret has its
// own key). AES-GCM is faster per byte here (AES-NI and PCLMULQDQ), but
// crypto/aes and crypto/cipher build their key schedule and table only in
// heap objects of their own, which nothing can lay over locked memory or
// wipe: the store does not use it.
func BenchmarkAEADChoice(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		var key [derivedSize]byte
		msg := make([]byte, size)
		sealed := make([]byte, size+tagSize)
		name := strconv.Itoa(size>>10) + "KiB"
		b.Run("ChaCha20Poly1305/"+name, func(b *testing.B) {
			if aeadType == nil {
				b.Skip("the overlay is not used on this platform")
			}
			b.SetBytes(int64(size))
			for b.Loop() {
				seal(sealed, &key, msg)
				if err := open(msg, &key, sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("AES256GCM/"+name, func(b *testing.B) {
			var nonce [12]byte
			b.SetBytes(int64(size))
			for b.Loop() {
				c, _ := aes.NewCipher(key[:])
				g, _ := cipher.NewGCM(c)
				g.Seal(sealed[:0], nonce[:], msg, nil)
				if _, err := g.Open(msg[:0], nonce[:], sealed, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
