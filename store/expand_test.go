package store

import (
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// TestPlaceWordsMatchesLoop: placing exceptions with placeWords (AVX-512
// where the machine has it) gives the rows what the one-row-at-a-time
// loop gives and leaves every other row as it was, for each element size,
// densities from no free row to all, and both readings of the words
// (covered rows, flip all ones; exception rows, flip 0).
func TestPlaceWordsMatchesLoop(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	t.Logf("AVX-512 expand: %v", canExpand)
	for _, nw := range []int{1, 2, 7, 1024} {
		for _, density := range []float64{0, 0.05, 0.5, 0.95, 1} {
			for _, flip := range []uint64{0, ^uint64(0)} {
				words := make([]uint64, nw)
				for w := range words {
					for b := 0; b < 64; b++ {
						if rng.Float64() < density {
							words[w] |= 1 << b
						}
					}
				}
				checkPlace[uint8](t, rng, words, flip)
				checkPlace[uint16](t, rng, words, flip)
				checkPlace[uint32](t, rng, words, flip)
				checkPlace[flow.TCPFlags](t, rng, words, flip)
			}
		}
	}
}

func checkPlace[T uint8 | uint16 | uint32 | flow.TCPFlags](t *testing.T, rng *rand.Rand, words []uint64, flip uint64) {
	t.Helper()
	n := 0
	for _, x := range words {
		n += bits.OnesCount64(x ^ flip)
	}
	exc := make([]T, n)
	for i := range exc {
		exc[i] = T(rng.Uint32())
	}
	got := make([]T, 64*len(words))
	for i := range got {
		got[i] = T(rng.Uint32())
	}
	want := slices.Clone(got)
	e := 0
	for w, x := range words {
		for f := x ^ flip; f != 0; f &= f - 1 {
			want[w*64+bits.TrailingZeros64(f)] = exc[e]
			e++
		}
	}
	if !placeWords(got, words, flip, exc) {
		if canExpand {
			t.Fatalf("%T: placeWords did not place with AVX-512 there", exc)
		}
		return
	}
	if !slices.Equal(got, want) {
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%T, %d words, flip %x: row %d is %v, want %v", exc, len(words), flip, i, got[i], want[i])
			}
		}
	}
}

// TestWidenAddrs4: the vector widening gives every address what
// flow.AddrFromUint32 gives, for lengths around its groups of 16, and
// leaves the rows past its return value alone.
func TestWidenAddrs4(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 15, 16, 17, 33, 1000, 65536} {
		src := make([]uint32, n)
		for i := range src {
			src[i] = rng.Uint32()
		}
		if n >= 2 {
			src[0], src[1] = 0, 0xffffffff
		}
		dst := make([]flow.Addr, n)
		for i := range dst {
			dst[i][0] = 0xAA
		}
		k := widenAddrs4(dst, src)
		if want := n &^ 15; canWiden && k != want {
			t.Fatalf("n %d: widened %d, want %d", n, k, want)
		}
		for i := range dst {
			want := flow.AddrFromUint32(src[i])
			if i >= k {
				want = flow.Addr{0: 0xAA}
			}
			if dst[i] != want {
				t.Fatalf("n %d: row %d is %x, want %x", n, i, dst[i], want)
			}
		}
	}
}

// TestNarrow: narrow (vector groups of 8 where there are, then one at a
// time) copies every value and returns the OR of all of them, so a value
// too wide for the element is seen wherever it lies.
func TestNarrow(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{0, 1, 7, 8, 9, 120, 240} {
		src := make([]uint64, n)
		for i := range src {
			src[i] = rng.Uint64N(200)
		}
		checkNarrow[uint8](t, src)
		checkNarrow[uint16](t, src)
		checkNarrow[uint32](t, src)
		for i := range src { // one wide value at each place
			s := slices.Clone(src)
			s[i] = 1 << 40
			checkNarrow[uint16](t, s)
		}
	}
}

func checkNarrow[T uint8 | uint16 | uint32](t *testing.T, src []uint64) {
	t.Helper()
	dst := make([]T, len(src))
	all := narrow(dst, src)
	var want uint64
	for i, v := range src {
		want |= v
		if dst[i] != T(v) {
			t.Fatalf("%T, %d values: value %d is %d, want %d", dst, len(src), i, dst[i], T(v))
		}
	}
	if all != want {
		t.Fatalf("%T, %d values: OR %x, want %x", dst, len(src), all, want)
	}
}
