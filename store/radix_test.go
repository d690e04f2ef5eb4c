package store

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRadixSort checks radixSort's order against a stable sort for
// ns times, times of coarser clocks (a gcd above 1), negative and extreme
// values and many ties.
func TestRadixSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gens := []func() int64{
		func() int64 { return 1767250186e9 + rng.Int64N(36e12) },                      // ns
		func() int64 { return 1767250186e9 + 1e6*rng.Int64N(36e6) },                   // ms
		func() int64 { return 7 + 3000*rng.Int64N(50) },                               // odd gcd, ties
		func() int64 { return rng.Int64N(1<<20) - 1<<19 },                             // negative
		func() int64 { return []int64{math.MinInt64, math.MaxInt64, 0}[rng.IntN(3)] }, // extremes
		func() int64 { return int64(rng.Uint64()) },
	}
	for iter := 0; iter < 60; iter++ {
		n := 2 + rng.IntN(5000)
		gen := gens[iter%len(gens)]
		keys := make([]sortKey, n)
		for i := range keys {
			keys[i] = sortKey{gen(), int32(i)}
		}
		want := slices.Clone(keys)
		slices.SortStableFunc(want, func(a, b sortKey) int { return cmp.Compare(a.start, b.start) })
		radixSort(keys, make([]sortKey, n))
		for i := range keys {
			if keys[i].idx != want[i].idx {
				t.Fatalf("generator %d, %d keys: position %d holds row %d, want %d", iter%len(gens), n, i, keys[i].idx, want[i].idx)
			}
		}
	}
}
