package store

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEndRemaindersMatchLoop: the vector end-column routine (where the
// machine has it) gives the rows it does exactly what the row-at-a-time
// loop gives, reaches the same bit, and stops before a row whose
// remainder is wider than 56 bits or whose load would pass the body.
func TestEndRemaindersMatchLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	did := 0
	for iter := 0; iter < 200; iter++ {
		n := rng.IntN(300)
		pk := make([]uint64, n)
		start, q := make([]int64, n), make([]int64, n)
		for i := range pk {
			switch rng.IntN(10) {
			case 0:
				pk[i] = 0
			case 1:
				pk[i] = rng.Uint64N(1 << 40)
			default:
				pk[i] = 1 + rng.Uint64N(20)
			}
			if iter%10 == 9 && rng.IntN(100) == 0 {
				pk[i] = 1<<57 + rng.Uint64N(1<<60) // too wide for one load
			}
			start[i] = rng.Int64N(1 << 50)
			q[i] = rng.Int64N(1 << 20)
		}
		body := make([]byte, rng.IntN(n*7+64))
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		g := []uint64{1, 1e6, 7}[iter%3]
		pos0 := uint(rng.IntN(16))
		end := slices.Clone(q)
		k, pos := endRemainders(body, pos0, pk, start, end, g)
		if k%8 != 0 || k > n {
			t.Fatalf("iteration %d: %d rows done of %d", iter, k, n)
		}
		did += k
		// the loop, from the start, over the rows the routine did
		want := slices.Clone(q)
		p := pos0
		for i := 0; i < k; i++ {
			pp := max(pk[i], 1)
			w := uint(bits.Len64(pp - 1))
			if int(p>>3)+8 > len(body) || w > 56 {
				t.Fatalf("iteration %d: row %d done past the body or too wide (w %d)", iter, i, w)
			}
			rem := binary.LittleEndian.Uint64(body[p>>3:]) >> (p & 7) & (1<<w - 1)
			p += w
			want[i] = start[i] + int64((uint64(q[i])*pp+rem)*g)
		}
		if p != pos || !slices.Equal(end[:k], want[:k]) || !slices.Equal(end[k:], q[k:]) {
			t.Fatalf("iteration %d: %d rows to bit %d, the loop reaches bit %d; rows equal %v",
				iter, k, pos, p, slices.Equal(end[:k], want[:k]))
		}
	}
	if canEndVec && did == 0 {
		t.Fatal("the vector routine did no row")
	}
	t.Logf("vector rows: %d", did)
}
