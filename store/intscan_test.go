package store

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestScanUintsMatchesDecode: the positions scanUints finds are those of
// the decoded values in the range, for one-tier, tiered, gcd, constant and
// 64-bit-wide streams and ranges that cut them anywhere.
func TestScanUintsMatchesDecode(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	skew := make([]uint64, 5000)
	for i := range skew {
		skew[i] = uint64(rng.ExpFloat64() * 50)
		if i%97 == 0 {
			skew[i] = rng.Uint64()
		}
	}
	addrs := make([]uint64, 5000)
	for i := range addrs {
		addrs[i] = 0x0a000000 + rng.Uint64N(5000)
		if i%3 == 0 {
			addrs[i] = rng.Uint64N(1 << 32)
		}
	}
	gcd := make([]uint64, 3000)
	for i := range gcd {
		gcd[i] = 7e6 + 1e6*rng.Uint64N(1000)
	}
	cases := map[string][]uint64{
		"const": {9, 9, 9, 9}, "small": {0, 1, 2, 3, 1, 0}, "wide": {0, 1<<64 - 1, 5, 1 << 63},
		"skew": skew, "addrs": addrs, "gcd": gcd,
	}
	for name, vals := range cases {
		enc := appendUints(nil, vals)
		for k := 0; k < 40; k++ {
			a, b := vals[rng.IntN(len(vals))], vals[rng.IntN(len(vals))]
			lo, hi := min(a, b), max(a, b)
			switch k % 4 {
			case 1:
				hi = lo
			case 2:
				lo, hi = lo+1, hi+1 // bounds that are no value (gcd)
			case 3:
				lo, hi = 0, lo
			}
			got, err := scanUints(enc, len(vals), lo, hi, nil)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var want []int32
			for i, v := range vals {
				if v >= lo && v <= hi {
					want = append(want, int32(i))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s [%d, %d]: got %d positions, want %d", name, lo, hi, len(got), len(want))
			}
		}
		if _, err := scanUints(enc[:len(enc)-1], len(vals), 0, 1<<64-1, nil); err == nil && len(vals) > 6 {
			t.Fatalf("%s: truncated stream not detected", name)
		}
	}
}
