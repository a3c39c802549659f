package store

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestIndexAsMap runs random puts, deletes and look-ups on an index and a
// map side by side, from a table of 16 slots, with few tags (so runs
// collide, wrap around the end and share tags) and, in the second pass,
// uniform ids.
func TestIndexAsMap(t *testing.T) {
	for _, tags := range []uint32{24, 0} {
		rng := rand.New(rand.NewPCG(1, uint64(tags)))
		ids := make([]id, 1) // by ref; ref 0 is none
		x := &index{key: func(r ref) *id { return &ids[r] }}
		x.mem, x.slots = mapIndex(16)
		want := map[id]ref{}
		newID := func() id {
			var k id
			for i := range k {
				k[i] = byte(rng.Uint32())
			}
			if tags > 0 {
				binary.LittleEndian.PutUint32(k[:4], rng.Uint32N(tags))
			}
			return k
		}
		live := []ref{}
		for step := range 20000 {
			switch op := rng.IntN(10); {
			case op < 5 || len(live) == 0:
				k := newID()
				r := ref(len(ids))
				ids = append(ids, k)
				x.put(&k, r)
				want[k] = r
				live = append(live, r)
			case op < 8:
				i := rng.IntN(len(live))
				r := live[i]
				live[i] = live[len(live)-1]
				live = live[:len(live)-1]
				x.del(&ids[r], r)
				delete(want, ids[r])
				x.del(&ids[r], r) // a second time: nothing
			default:
				k := newID() // most likely unknown
				if got := x.get(&k); got != want[k] {
					t.Fatalf("step %d: get(unknown) = %d, want %d", step, got, want[k])
				}
			}
			if step%97 == 0 || len(live) < 40 {
				if x.len() != len(want) {
					t.Fatalf("step %d: len %d, want %d", step, x.len(), len(want))
				}
				for k, r := range want {
					if got := x.get(&k); got != r {
						t.Fatalf("step %d: get = %d, want %d (%d stored, %d slots)", step, got, r, len(want), len(x.slots))
					}
				}
				n := 0
				x.each(func(r ref) {
					if want[ids[r]] != r {
						t.Fatalf("step %d: each gave %d, not stored", step, r)
					}
					n++
				})
				if n != len(want) {
					t.Fatalf("step %d: each gave %d, want %d", step, n, len(want))
				}
			}
		}
		x.reset()
		if x.len() != 0 || x.get(&ids[live[0]]) != 0 {
			t.Error("reset left records indexed")
		}
		x.mem.free()
	}
}

// BenchmarkIndexGet: look-ups of stored ids in an index and a map of
// 1,000,000 (the store's capacity test), in random order.
func BenchmarkIndexGet(b *testing.B) {
	const n = 1_000_000
	ids := make([]id, n+1)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range ids {
		for j := range ids[i] {
			ids[i][j] = byte(rng.Uint32())
		}
	}
	order := rng.Perm(n)
	b.Run("Index", func(b *testing.B) {
		x := newIndex(func(r ref) *id { return &ids[r] })
		for r := 1; r <= n; r++ {
			x.put(&ids[r], ref(r))
		}
		i := 0
		for b.Loop() {
			r := ref(order[i%n] + 1)
			if x.get(&ids[r]) != r {
				b.Fatal("not found")
			}
			i++
		}
	})
	b.Run("Map", func(b *testing.B) {
		m := make(map[id]ref)
		for r := 1; r <= n; r++ {
			m[ids[r]] = ref(r)
		}
		i := 0
		for b.Loop() {
			r := ref(order[i%n] + 1)
			if m[ids[r]] != r {
				b.Fatal("not found")
			}
			i++
		}
	})
}
