package store

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

func TestUintsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	cases := map[string][]uint64{
		"empty":   {},
		"const":   {7, 7, 7},
		"small":   {0, 1, 2, 3, 1, 0},
		"gcd":     {1e6, 3e6, 5e6, 1e6},
		"wide":    {0, 1<<64 - 1, 5},
		"width57": {1<<57 - 1, 3, 1 << 56},
	}
	skew := make([]uint64, 10000)
	for i := range skew {
		skew[i] = uint64(rng.ExpFloat64() * 50)
		if i%97 == 0 {
			skew[i] = rng.Uint64()
		}
	}
	cases["skew"] = skew
	var bw bitWriter
	for name, vals := range cases {
		enc := appendUints([]byte{9}, vals, &bw)
		got := make([]uint64, len(vals))
		rest, err := readUints(enc[1:], got)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%s: err %v rest %d", name, err, len(rest))
		}
		if !slices.Equal(got, vals) {
			t.Fatalf("%s: got %v want %v", name, got[:min(10, len(got))], vals[:min(10, len(vals))])
		}
	}
}

func TestAddr4(t *testing.T) {
	for _, v := range []uint32{0, 1, 0x0a000507, 0xffffffff} {
		if addr4(v) != flow.AddrFromUint32(v) {
			t.Fatalf("%x", v)
		}
	}
}
