package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

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

// TestTierTabsOffsets: the assembly reads tierTabs at these offsets.
func TestTierTabsOffsets(t *testing.T) {
	var tt tierTabs
	got := []uintptr{unsafe.Offsetof(tt.shift), unsafe.Offsetof(tt.mask), unsafe.Offsetof(tt.usedTab),
		unsafe.Offsetof(tt.base), unsafe.Offsetof(tt.g), unsafe.Offsetof(tt.used0), unsafe.Offsetof(tt.used1),
		unsafe.Offsetof(tt.two)}
	if want := []uintptr{0, 64, 128, 136, 144, 152, 160, 168}; !slices.Equal(got, want) {
		t.Fatalf("tierTabs offsets %v, the assembly reads %v", got, want)
	}
}

// TestPairedStreams: streams of two tiers or more and enough values are
// paired, decode into 64-bit and narrow vectors alike (the two chains
// and each half's rest), and a split bit that is off by one, or a count
// other than the stream's, is an error, not wrong values.
func TestPairedStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{pairMinValues, 257, 1000, 3001} {
		for _, spread := range []float64{2, 40, 3000} {
			vals := make([]uint64, n)
			for i := range vals {
				vals[i] = min(uint64(rng.ExpFloat64()*spread), 65535)
			}
			enc := appendUints(nil, vals)
			h, _, err := readStreamHeader(enc)
			if err != nil || !h.paired {
				t.Fatalf("n %d spread %v: paired %v, err %v", n, spread, h.paired, err)
			}
			got64, got16 := make([]uint64, n), make([]uint16, n)
			if _, err := readUints(enc, got64); err != nil || !slices.Equal(got64, vals) {
				t.Fatalf("n %d spread %v: 64-bit decode wrong (err %v)", n, spread, err)
			}
			if _, err := readUints(enc, got16); err != nil {
				t.Fatalf("n %d spread %v: 16-bit decode: %v", n, spread, err)
			}
			for i := range vals {
				if uint64(got16[i]) != vals[i] {
					t.Fatalf("n %d spread %v: 16-bit value %d is %d, want %d", n, spread, i, got16[i], vals[i])
				}
			}
			if _, err := readUints(enc, make([]uint64, n+2)); err == nil {
				t.Fatalf("n %d spread %v: decoding %d values of a stream of %d succeeded", n, spread, n+2, n)
			}
			// the split is the last uvarint before the body
			sp := len(enc) - len(h.body) - uvarintLen(uint64(h.split))
			for _, d := range []int{-1, 1} {
				bad := slices.Clone(enc[:sp])
				bad = binary.AppendUvarint(bad, uint64(int(h.split)+d))
				bad = append(bad, h.body...)
				if _, err := readUints(bad, make([]uint64, n)); err == nil {
					t.Fatalf("n %d spread %v: a split bit off by %d decoded", n, spread, d)
				}
			}
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
		h, _, err := readStreamHeader(enc)
		if err != nil {
			t.Fatal(err)
		}
		tc, body := h.tc, h.body
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
				checkPair(t, body, pos, h.split+pos, n, k, &tt)
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
		if h, _, err := readStreamHeader(enc); err != nil || h.tc.n == 1 || !h.paired {
			f.Fatalf("shape %d: not a paired tiered stream (%v)", shape, err)
		} else if _, wide := h.tc.lookupTable(); wide {
			f.Fatalf("shape %d: a wide stream, which the tiered decoder does not take", shape)
		}
		f.Add(enc, uint8(shape), uint16(300))
	}
	f.Fuzz(func(t *testing.T, raw []byte, pos uint8, n uint16) {
		h, _, err := readStreamHeader(raw)
		if err != nil {
			return
		}
		base, g, tc, body := h.base, h.g, h.tc, h.body
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
		checkPair(t, body, uint(pos), h.split, len(a), k, &tt)
	})
}

// checkPair checks tieredPair (the assembly where there is one) against
// tieredPairGo and both against one chain at a time: chain A from posA
// and chain B from posB, n values each at most.
func checkPair(t *testing.T, body []byte, posA, posB uint, n, k int, tt *tierTabs) {
	t.Helper()
	a, b := make([]uint64, 2*n), make([]uint64, 2*n)
	na, pa, qa := tieredPair(body, posA, posB, a[:n], n, k, tt)
	nb, pb, qb := tieredPairGo(body, posA, posB, b[:n], n, k, tt)
	if na != nb || pa != pb || qa != qb || !slices.Equal(a, b) {
		t.Fatalf("k %d n %d from bits %d and %d: tieredPair %d values to bits %d and %d, tieredPairGo %d to %d and %d",
			k, n, posA, posB, na, pa, qa, nb, pb, qb)
	}
	for _, c := range []struct {
		pos, end uint
		got      []uint64
	}{{posA, pa, a[:na]}, {posB, qa, a[n : n+na]}} {
		one := make([]uint64, na)
		if m, end := tieredValuesGo(body, c.pos, one, k, tt); m != na || end != c.end || !slices.Equal(one, c.got) {
			t.Fatalf("k %d n %d: a chain from bit %d gives %d values to bit %d alone, %d to bit %d in a pair",
				k, n, c.pos, m, end, na, c.end)
		}
	}
}
