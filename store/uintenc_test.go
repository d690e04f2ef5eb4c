package store

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// TestUintsEncoding checks appendUints against the reference encoder on
// skewed, gcd-scaled, wide and constant vectors, and that the plan's size
// is the stream's length.
func TestUintsEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	gen := []func(n int) []uint64{
		func(n int) []uint64 { // skewed small values, rare large ones
			v := make([]uint64, n)
			for i := range v {
				v[i] = uint64(rng.ExpFloat64() * 40)
				if rng.IntN(100) == 0 {
					v[i] = rng.Uint64() >> rng.IntN(64)
				}
			}
			return v
		},
		func(n int) []uint64 { // multiples of an odd or even gcd above a base
			g := []uint64{3, 1000, 1e6, 1 << 20, 7 << 9}[rng.IntN(5)]
			base := rng.Uint64N(1 << 40)
			v := make([]uint64, n)
			for i := range v {
				v[i] = base + g*rng.Uint64N(1<<rng.IntN(30))
			}
			return v
		},
		func(n int) []uint64 { // full 64-bit values: selector and code over a word
			v := make([]uint64, n)
			for i := range v {
				v[i] = rng.Uint64()
				if rng.IntN(2) == 0 {
					v[i] >>= 60
				}
			}
			return v
		},
		func(n int) []uint64 { // constant
			v := make([]uint64, n)
			c := rng.Uint64()
			for i := range v {
				v[i] = c
			}
			return v
		},
		func(n int) []uint64 { // start deltas: sorted times in ms, as ns
			v := make([]uint64, n)
			for i := range v {
				v[i] = 1e6 * uint64(rng.IntN(3)*rng.IntN(50))
			}
			return v
		},
	}
	var bw bitWriter
	for iter := 0; iter < 500; iter++ {
		n := 1 + rng.IntN(3000)
		vals := gen[rng.IntN(len(gen))](n)
		want := appendUintsRef([]byte{1}, vals, &bw)
		got := appendUints([]byte{1}, vals)
		if !bytes.Equal(got, want) {
			t.Fatalf("iteration %d: stream of %d values differs from the reference (%d vs %d bytes)", iter, n, len(got), len(want))
		}
		p := planUints(vals)
		if p.size() != len(want)-1 {
			t.Fatalf("iteration %d: planned %d bytes, wrote %d", iter, p.size(), len(want)-1)
		}
	}
}

func TestGcdDeltas(t *testing.T) {
	for _, c := range []struct {
		vals []uint64
		mn   uint64
		want uint64
	}{
		{[]uint64{5, 5}, 5, 0},
		{[]uint64{5, 11, 17}, 5, 6},
		{[]uint64{0, 1e6, 3e6, 2e6 + 5e5}, 0, 5e5},
		{[]uint64{0, 1 << 40, 3 << 40, 1<<40 + 1<<39}, 0, 1 << 39},
		{[]uint64{0, 9, 6}, 0, 3},
	} {
		if g := gcdDeltas(c.vals, c.mn); g != c.want {
			t.Errorf("gcdDeltas(%v) = %d, want %d", c.vals, g, c.want)
		}
	}
}

// appendUintsRef is the integer stream encoder as first written, one
// bitWriter.write per value: the reference the faster encoder must match
// byte for byte.
func appendUintsRef(dst []byte, vals []uint64, scratch *bitWriter) []byte {
	if len(vals) == 0 {
		return append(dst, 0, 1, 1, 0, 0)
	}
	mn, mx := vals[0], vals[0]
	for _, v := range vals {
		mn = min(mn, v)
		mx = max(mx, v)
	}
	var g uint64
	if mx != mn {
		for _, v := range vals {
			if d := v - mn; d != 0 {
				g = gcd64(d, g)
				if g == 1 {
					break
				}
			}
		}
	}
	if g == 0 {
		g = 1
	}
	var hist [65]int
	shift := uint(bits.TrailingZeros64(g))
	pow2 := g == 1<<shift
	switch {
	case mx == mn:
		hist[0] = len(vals)
	case pow2:
		for _, v := range vals {
			hist[bits.Len64((v-mn)>>shift)]++
		}
	default:
		for _, v := range vals {
			hist[bits.Len64((v-mn)/g)]++
		}
	}
	tc, _ := chooseTiers(&hist)
	// a stream of two tiers or more and at least pairMinValues values
	// says where its value n/2 starts
	paired := tc.n >= 2 && len(vals) >= pairMinValues
	dst = binary.AppendUvarint(dst, mn)
	dst = binary.AppendUvarint(dst, g)
	if paired {
		dst = append(dst, byte(tc.n)|pairedTiers)
	} else {
		dst = append(dst, byte(tc.n))
	}
	for t := 0; t < tc.n; t++ {
		dst = append(dst, byte(tc.w[t]))
	}
	if tc.n == 1 && tc.w[0] == 0 {
		return binary.AppendUvarint(dst, 0)
	}
	bw := scratch
	bw.buf, bw.acc, bw.n = bw.buf[:0], 0, 0
	var sel [maxTiers]uint64
	for t := 0; t < tc.n; t++ {
		sel[t] = 1<<uint(t) - 1
	}
	split := 0
	for i, v := range vals {
		if i == len(vals)/2 {
			split = 8*len(bw.buf) + int(bw.n)
		}
		c := v - mn
		if pow2 {
			c >>= shift
		} else {
			c /= g
		}
		l := uint(bits.Len64(c))
		t := 0
		for l > tc.w[t] {
			t++
		}
		sb := tc.selBits(t)
		if sb+tc.w[t] <= 64 {
			bw.write(sel[t]|c<<sb, sb+tc.w[t])
		} else {
			bw.write(sel[t], sb)
			bw.write(c, tc.w[t])
		}
	}
	body := bw.finish()
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	if paired {
		dst = binary.AppendUvarint(dst, uint64(split))
	}
	return append(dst, body...)
}

// TestDurationModes checks the end column's choice of mode: the plain
// stream, planned from the durations without being written, must be
// exactly the reference stream of zigzag durations when it is chosen, and
// no smaller than the per-packet encoding when it is not.
func TestDurationModes(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var bw bitWriter
	modes := [2]int{}
	for iter := 0; iter < 300; iter++ {
		n := 1 + rng.IntN(3000)
		rs := make([]flow.Record, n)
		kind := iter % 4
		for i := range rs {
			r := &rs[i]
			r.Start = 1767250186e9 + rng.Int64N(1e12)
			r.Packets = 1 + rng.Uint64N(1<<uint(1+rng.IntN(20)))
			switch kind {
			case 0: // duration grows with packets: per packet
				r.End = r.Start + int64(r.Packets)*1e6*int64(1+rng.IntN(3))
			case 1: // unrelated: plain
				r.End = r.Start + 1000*rng.Int64N(300)
			case 2: // constant
				r.End = r.Start + 5000
			default: // some negative
				r.End = r.Start + rng.Int64N(1e6) - 1000
			}
		}
		e := &blockEncoder{u: make([]uint64, n), u2: make([]uint64, n)}
		got := e.appendDurations(nil, rs)
		z := make([]uint64, n)
		for i := range rs {
			z[i] = zigzag(rs[i].End - rs[i].Start)
		}
		plain := appendUintsRef([]byte{durPlain}, z, &bw)
		modes[got[0]]++
		switch got[0] {
		case durPlain:
			if !bytes.Equal(got, plain) {
				t.Fatalf("iteration %d: plain mode differs from the reference stream", iter)
			}
		case durPerPacket:
			if len(got) > len(plain) {
				t.Fatalf("iteration %d: per-packet mode (%d bytes) chosen over plain (%d)", iter, len(got), len(plain))
			}
		default:
			t.Fatalf("iteration %d: mode %d", iter, got[0])
		}
	}
	if modes[durPlain] == 0 || modes[durPerPacket] == 0 {
		t.Fatalf("modes chosen %v: both must be exercised", modes)
	}
}
