package shamir

import (
	"bytes"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"testing"

	vault "github.com/hashicorp/vault/shamir"
)

// mulSlow is GF(2^8) multiplication as the textbook writes it: carry-less
// product, then reduction by 0x11B.
func mulSlow(a, b byte) byte {
	var p uint16
	for i := range 8 {
		if b>>i&1 == 1 {
			p ^= uint16(a) << i
		}
	}
	for i := 15; i >= 8; i-- {
		if p>>i&1 == 1 {
			p ^= 0x11b << (i - 8)
		}
	}
	return byte(p)
}

func TestField(t *testing.T) {
	// FIPS-197, section 4.2: {57} • {83} = {c1}, {57} • {13} = {fe}.
	if got := mul(0x57, 0x83); got != 0xc1 {
		t.Errorf("57·83 = %02x, want c1", got)
	}
	if got := mul(0x57, 0x13); got != 0xfe {
		t.Errorf("57·13 = %02x, want fe", got)
	}
	for a := range 256 {
		for b := range 256 {
			if got, want := mul(byte(a), byte(b)), mulSlow(byte(a), byte(b)); got != want {
				t.Fatalf("mul(%02x, %02x) = %02x, want %02x", a, b, got, want)
			}
		}
		if a > 0 && mul(byte(a), inv(byte(a))) != 1 {
			t.Fatalf("inv(%02x) = %02x is no inverse", a, inv(byte(a)))
		}
		c := powers(byte(a))
		for b := range 256 {
			w := uint64(b) * ones // the same byte eight times
			if got := c.mul8(w); got != uint64(mulSlow(byte(a), byte(b)))*ones {
				t.Fatalf("mul8 by %02x of %02x = %016x", a, b, got)
			}
		}
	}
}

// split makes n shares of secret.
func split(tb testing.TB, secret []byte, k, n int) [][]byte {
	tb.Helper()
	shares := make([][]byte, n)
	for i := range shares {
		shares[i] = make([]byte, len(secret))
	}
	if err := Split(shares, secret, k, rand.Reader, make([]byte, ScratchSize(k, 64))); err != nil {
		tb.Fatal(err)
	}
	return shares
}

// combinations calls fn with every subset of {0..n-1} of size k.
func combinations(n, k int, fn func([]int)) {
	idx := make([]int, k)
	var rec func(start, depth int)
	rec = func(start, depth int) {
		if depth == k {
			fn(idx)
			return
		}
		for i := start; i < n; i++ {
			idx[depth] = i
			rec(i+1, depth+1)
		}
	}
	rec(0, 0)
}

func TestAnyKShares(t *testing.T) {
	for _, c := range []struct{ k, n, size int }{{2, 2, 1}, {2, 3, 7}, {3, 5, 64}, {5, 5, 100}, {4, 6, 1000}, {2, 20, 33}} {
		t.Run(fmt.Sprintf("%dof%d/%dB", c.k, c.n, c.size), func(t *testing.T) {
			secret := make([]byte, c.size)
			rand.Read(secret)
			shares := split(t, secret, c.k, c.n)
			// Every subset of k to k+2 shares (all of them up to 9 shares).
			for m := c.k; m <= min(c.n, c.k+2); m++ {
				combinations(c.n, m, func(idx []int) {
					xs, ys := make([]byte, len(idx)), make([][]byte, len(idx))
					for i, j := range idx {
						xs[i], ys[i] = byte(j+1), shares[j]
					}
					got := make([]byte, c.size)
					if err := Combine(got, xs, ys); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, secret) {
						t.Fatalf("shares %v do not rebuild the secret", idx)
					}
				})
			}
			if c.k > 2 {
				// k-1 shares rebuild something else (with overwhelming
				// probability for 64 bytes and more).
				got := make([]byte, c.size)
				xs := make([]byte, c.k-1)
				for i := range xs {
					xs[i] = byte(i + 1)
				}
				Combine(got, xs, shares[:c.k-1])
				if c.size >= 64 && bytes.Equal(got, secret) {
					t.Error("k-1 shares rebuilt the secret")
				}
			}
		})
	}
}

// enumerator is a random source that yields a counter's bytes: driven
// through every value, it shows what each choice of coefficients gives.
type enumerator struct{ v []byte }

func (e *enumerator) Read(p []byte) (int, error) { return copy(p, e.v), nil }

// TestFewerSharesRevealNothing shows, exhaustively, that k-1 shares are
// independent of the secret: for every secret byte, as the coefficients
// run through all their values, the k-1 shares' values take each
// possible combination exactly once. So each byte value of the secret is
// exactly as likely, whatever the shares say.
func TestFewerSharesRevealNothing(t *testing.T) {
	t.Run("2of3", func(t *testing.T) {
		for _, s := range []byte{0x00, 0x01, 0x80, 0xff, 0x5a} {
			for x := range 3 { // any one share
				var seen [256]int
				for a := range 256 {
					shares := [][]byte{{0}, {0}, {0}}
					if err := Split(shares, []byte{s}, 2, &enumerator{[]byte{byte(a)}}, make([]byte, 1)); err != nil {
						t.Fatal(err)
					}
					seen[shares[x][0]]++
				}
				for y, n := range seen {
					if n != 1 {
						t.Fatalf("secret %02x, share %d: value %02x seen %d times", s, x+1, y, n)
					}
				}
			}
		}
	})
	t.Run("3of4", func(t *testing.T) {
		for _, s := range []byte{0x00, 0xc3} {
			var pairs [][]int
			combinations(4, 2, func(idx []int) { pairs = append(pairs, []int{idx[0], idx[1]}) })
			seen := make([][]uint8, len(pairs))
			for i := range seen {
				seen[i] = make([]uint8, 1<<16)
			}
			shares := [][]byte{{0}, {0}, {0}, {0}}
			scratch := make([]byte, 2)
			e := &enumerator{make([]byte, 2)}
			for a := range 1 << 16 {
				e.v[0], e.v[1] = byte(a), byte(a>>8)
				if err := Split(shares, []byte{s}, 3, e, scratch); err != nil {
					t.Fatal(err)
				}
				for i, p := range pairs {
					seen[i][int(shares[p[0]][0])<<8|int(shares[p[1]][0])]++
				}
			}
			for i, p := range pairs {
				for v, n := range seen[i] {
					if n != 1 {
						t.Fatalf("secret %02x, shares %v: values %04x seen %d times", s, p, v, n)
					}
				}
			}
		}
	})
}

// TestAgainstVault checks this package against HashiCorp Vault's Shamir
// (the same field, written independently): shares made here combine
// there, and shares made there combine here. Vault's share is its y
// bytes followed by its x, which it draws at random.
func TestAgainstVault(t *testing.T) {
	for _, c := range []struct{ k, n, size int }{{2, 3, 1}, {3, 5, 31}, {5, 8, 1 << 12}} {
		secret := make([]byte, c.size)
		rand.Read(secret)

		ours := split(t, secret, c.k, c.n)
		var theirs [][]byte
		for i, y := range ours[:c.k] {
			theirs = append(theirs, append(bytes.Clone(y), byte(i+1)))
		}
		got, err := vault.Combine(theirs)
		if err != nil || !bytes.Equal(got, secret) {
			t.Errorf("%d of %d: Vault does not rebuild our shares: %v", c.k, c.n, err)
		}

		made, err := vault.Split(secret, c.n, c.k)
		if err != nil {
			t.Fatal(err)
		}
		pick := mrand.Perm(c.n)[:c.k]
		xs, ys := make([]byte, c.k), make([][]byte, c.k)
		for i, j := range pick {
			share := made[j]
			xs[i], ys[i] = share[len(share)-1], share[:len(share)-1]
		}
		mine := make([]byte, c.size)
		if err := Combine(mine, xs, ys); err != nil || !bytes.Equal(mine, secret) {
			t.Errorf("%d of %d: Vault's shares %v do not rebuild here: %v", c.k, c.n, pick, err)
		}
	}
}

func TestRefuses(t *testing.T) {
	s := []byte("secret")
	mk := func(n, size int) [][]byte {
		out := make([][]byte, n)
		for i := range out {
			out[i] = make([]byte, size)
		}
		return out
	}
	for name, err := range map[string]error{
		"k=1":            Split(mk(3, 6), s, 1, rand.Reader, make([]byte, 64)),
		"k>n":            Split(mk(2, 6), s, 3, rand.Reader, make([]byte, 64)),
		"n=256":          Split(mk(256, 6), s, 2, rand.Reader, make([]byte, 64)),
		"short share":    Split(mk(3, 5), s, 2, rand.Reader, make([]byte, 64)),
		"empty":          Split(mk(3, 0), nil, 2, rand.Reader, make([]byte, 64)),
		"no scratch":     Split(mk(3, 6), s, 3, rand.Reader, make([]byte, 1)),
		"x=0":            Combine(make([]byte, 1), []byte{0, 1}, mk(2, 1)),
		"same x":         Combine(make([]byte, 1), []byte{2, 2}, mk(2, 1)),
		"lengths differ": Combine(make([]byte, 2), []byte{1, 2}, [][]byte{{1, 2}, {1}}),
		"none":           Combine(make([]byte, 1), nil, nil),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestScratchWiped: the coefficients do not outlive Split.
func TestScratchWiped(t *testing.T) {
	scratch := make([]byte, ScratchSize(3, 5))
	shares := [][]byte{make([]byte, 12), make([]byte, 12), make([]byte, 12)}
	if err := Split(shares, []byte("twelve bytes"), 3, rand.Reader, scratch); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(scratch, make([]byte, len(scratch))) {
		t.Error("scratch still holds coefficients")
	}
}

func FuzzSplitCombine(f *testing.F) {
	f.Add([]byte("seed"), uint8(2), uint8(3), uint64(1))
	f.Add([]byte{0}, uint8(20), uint8(20), uint64(7))
	f.Fuzz(func(t *testing.T, secret []byte, k, n uint8, seed uint64) {
		if len(secret) == 0 || len(secret) > 4096 || k < 2 || n < k || n > 24 {
			return
		}
		shares := make([][]byte, n)
		for i := range shares {
			shares[i] = make([]byte, len(secret))
		}
		src := mrand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
		if err := Split(shares, secret, int(k), src, make([]byte, ScratchSize(int(k), 17))); err != nil {
			t.Fatal(err)
		}
		r := mrand.New(mrand.NewPCG(seed, 1))
		pick := r.Perm(int(n))[:k]
		xs, ys := make([]byte, k), make([][]byte, k)
		for i, j := range pick {
			xs[i], ys[i] = byte(j+1), shares[j]
		}
		got := make([]byte, len(secret))
		if err := Combine(got, xs, ys); err != nil || !bytes.Equal(got, secret) {
			t.Fatalf("shares %v of %d-of-%d do not rebuild: %v", pick, k, n, err)
		}
	})
}

func BenchmarkSplit10MiB(b *testing.B) {
	secret := make([]byte, 10<<20)
	shares := [][]byte{make([]byte, len(secret)), make([]byte, len(secret)), make([]byte, len(secret))}
	scratch := make([]byte, ScratchSize(2, 64<<10))
	b.SetBytes(int64(len(secret)))
	for b.Loop() {
		if err := Split(shares, secret, 2, rand.Reader, scratch); err != nil {
			b.Fatal(err)
		}
	}
}
