package store

import (
	"fmt"
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
	// uniform 16- and 32-bit words: one tier of a whole-byte width
	for _, w := range []int{16, 32} {
		v := make([]uint64, 1001)
		for i := range v {
			v[i] = 7 + rng.Uint64N(1<<w-8)
		}
		v[0], v[1] = 7, 7+1<<w-1
		cases[fmt.Sprintf("word%d", w)] = v
		// one value more than the stream holds runs past its body
		if _, err := readUints(appendUints(nil, v), make([]uint16, len(v)+1)); err == nil && w == 16 {
			t.Fatalf("word%d: a value past the end decoded", w)
		}
		if _, err := readUints(appendUints(nil, v), make([]uint64, len(v)+1)); err == nil {
			t.Fatalf("word%d: a value past the end decoded", w)
		}
	}
	for name, vals := range cases {
		enc := appendUints([]byte{9}, vals)
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

// TestTieredValuesMatchesGo: the assembly decoders (where there are)
// write the same values and reaches the same bit position as the Go one,
// for tier shapes from one code per load to eight, from any start
// position and into destinations of any length.
func TestTieredValuesMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ks, twos := map[int]bool{}, map[bool]bool{}
	for shape := range 17 {
		vals := make([]uint64, 3000)
		for i := range vals {
			switch shape {
			case 15: // mostly zero (time per packet): two tiers
				vals[i] = rng.Uint64N(400) * rng.Uint64N(2) * rng.Uint64N(2)
			case 16: // mostly wide (ephemeral ports): two tiers
				vals[i] = 32768 + rng.Uint64N(28000)
				if i%10 == 0 {
					vals[i] = rng.Uint64N(64)
				}
			default:
				vals[i] = uint64(rng.ExpFloat64() * []float64{0.3, 3, 40, 900, 1e5}[shape%5])
				if i%50 == 0 {
					vals[i] = rng.Uint64N(1 << []int{5, 9, 20}[shape/5])
				}
			}
		}
		enc := appendUints(nil, vals)
		_, _, tc, body, _, err := readStreamHeader(enc)
		if err != nil {
			t.Fatal(err)
		}
		tab, wide := tc.lookupTable()
		if wide || tc.n == 1 {
			continue
		}
		tt, k := tiers(&tab, uint64(shape), uint64(shape%3+1))
		ks[k] = true
		twos[tt.two] = true
		for _, n := range []int{0, 1, k, 7, 240, 3000} {
			for _, pos := range []uint{0, 3, 77} {
				a, b := make([]uint64, n), make([]uint64, n)
				na, pa := tieredValues(body, pos, a, k, &tt)
				nb, pb := tieredValuesGo(body, pos, b, k, &tt)
				if na != nb || pa != pb || !slices.Equal(a, b) {
					t.Fatalf("shape %d tiers %v k %d n %d pos %d: asm %d values to bit %d, Go %d to bit %d",
						shape, tc.w[:tc.n], k, n, pos, na, pa, nb, pb)
				}
			}
		}
	}
	if len(ks) < 3 || len(twos) < 2 {
		t.Fatalf("the shapes gave only %v codes per load, two tiers %v", ks, twos)
	}
}

// FuzzTieredValues checks the tiered stream decoder on arbitrary bytes:
// the amd64 assembly and the Go loop must decode the same values to the
// same bit position, and neither may read outside the body (a fault in
// the assembly would crash the fuzzer).
func FuzzTieredValues(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 9))
	for shape := range 4 {
		vals := make([]uint64, 300)
		for i := range vals {
			vals[i] = uint64(rng.ExpFloat64() * []float64{3, 40, 900, 1e5}[shape])
			if i%40 == 0 {
				vals[i] = rng.Uint64N(1 << 20)
			}
		}
		enc := appendUints(nil, vals)
		if _, _, tc, _, _, err := readStreamHeader(enc); err != nil || tc.n == 1 {
			f.Fatalf("shape %d: not a tiered stream (%v)", shape, err)
		} else if _, wide := tc.lookupTable(); wide {
			f.Fatalf("shape %d: a wide stream, which the tiered decoder does not take", shape)
		}
		f.Add(enc, uint8(shape), uint16(300))
	}
	f.Fuzz(func(t *testing.T, raw []byte, pos uint8, n uint16) {
		base, g, tc, body, _, err := readStreamHeader(raw)
		if err != nil {
			return
		}
		tab, wide := tc.lookupTable()
		if wide || tc.n == 1 {
			return
		}
		tt, k := tiers(&tab, base, g)
		a, b := make([]uint64, n%4096), make([]uint64, n%4096)
		na, pa := tieredValues(body, uint(pos), a, k, &tt)
		nb, pb := tieredValuesGo(body, uint(pos), b, k, &tt)
		if na != nb || pa != pb || !slices.Equal(a, b) {
			t.Fatalf("k %d n %d pos %d: assembly %d values to bit %d, Go %d to bit %d", k, len(a), pos, na, pa, nb, pb)
		}
	})
}
