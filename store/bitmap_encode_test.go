package store

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/flowkit/flowkit/flow"
)

// TestRoaringWriter checks that appendBitmap writes exactly the bytes of
// roaring's AddMany, RunOptimize and WriteTo, for every container kind
// (arrays, bitmaps, runs, both sides of each size threshold) and header
// form (with and without runs, fewer and more than four containers).
func TestRoaringWriter(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := []func() []uint32{
		func() []uint32 { return nil },
		func() []uint32 { return []uint32{uint32(rng.IntN(65536))} },
		func() []uint32 { return sparse(rng, 1+rng.IntN(4200), 65536) }, // arrays and bitmaps near 4096
		func() []uint32 { return sparse(rng, 4000+rng.IntN(200), 65536) },
		func() []uint32 { return sparse(rng, 60000+rng.IntN(5536), 65536) }, // dense: bitmaps or runs
		func() []uint32 { return runsOf(rng, 1+rng.IntN(3000)) },
		func() []uint32 { return runsOf(rng, 2040+rng.IntN(20)) }, // runs against bitmap size
		func() []uint32 { // consecutive rows
			s := rng.IntN(65536)
			n := 1 + rng.IntN(65536-s)
			return runsFrom(s, n)
		},
	}
	var w roaringWriter
	for iter := 0; iter < 400; iter++ {
		keys := []int{1, 2, 3, 4, 5, 9}[rng.IntN(6)]
		keyRows := make([][]uint32, keys)
		for k := range keyRows {
			keyRows[k] = shapes[rng.IntN(len(shapes))]()
		}
		bm := roaring.New()
		for k, rows := range keyRows {
			for _, r := range rows {
				bm.Add(uint32(k)<<16 | r)
			}
		}
		bm.RunOptimize()
		want, err := bm.ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		got, n := w.appendBitmap([]byte{0xee}, keyRows)
		if n != len(want) || !bytes.Equal(got[len(got)-n:], want) {
			t.Fatalf("iteration %d: %d bytes differ from roaring's %d (cards %v)", iter, n, len(want), cards(keyRows))
		}
		if l := uvarintLen(uint64(n)); 1+l+n != len(got) {
			t.Fatalf("iteration %d: length prefix: %d bytes for a %d-byte bitmap", iter, len(got), n)
		}
	}
}

func cards(keyRows [][]uint32) []int {
	var c []int
	for _, r := range keyRows {
		c = append(c, len(r))
	}
	return c
}

// sparse returns about n distinct sorted rows below max.
func sparse(rng *rand.Rand, n, max int) []uint32 {
	seen := make([]bool, max)
	for i := 0; i < n; i++ {
		seen[rng.IntN(max)] = true
	}
	var rows []uint32
	for r, ok := range seen {
		if ok {
			rows = append(rows, uint32(r))
		}
	}
	return rows
}

// runsOf returns rows forming about n runs.
func runsOf(rng *rand.Rand, n int) []uint32 {
	var rows []uint32
	r := rng.IntN(10)
	for i := 0; i < n && r < 65536; i++ {
		l := 1 + rng.IntN(30)
		for j := 0; j < l && r < 65536; j++ {
			rows = append(rows, uint32(r))
			r++
		}
		r += 1 + rng.IntN(3)
	}
	return rows
}

func runsFrom(s, n int) []uint32 {
	rows := make([]uint32, n)
	for i := range rows {
		rows[i] = uint32(s + i)
	}
	return rows
}

// BenchmarkBitmapEncode compares roaringWriter with building and
// serializing a roaring.Bitmap (the writer's former path) on the key rows
// of one corpus block's dport and dst indexes.
func BenchmarkBitmapEncode(b *testing.B) {
	recs := corpus(b, "1000000")[:MaxBlockRows]
	var keyRows [][][]uint32
	var pe postingEncoder
	u := make([]uint64, len(recs))
	for i := range recs {
		u[i] = uint64(recs[i].DstPort)
	}
	pe.appendUintPostings(nil, u)
	keyRows = append(keyRows, cloneRows(pe.keyRows))
	addrs := make([]flow.Addr, len(recs))
	for i := range recs {
		addrs[i] = recs[i].Dst
	}
	pe.appendAddrPostings(nil, addrs)
	keyRows = append(keyRows, cloneRows(pe.keyRows))
	b.Run("roaring", func(b *testing.B) {
		bm := roaring.New()
		var all []uint32
		var dst []byte
		for b.Loop() {
			for _, kr := range keyRows {
				bm.Clear()
				all = all[:0]
				for k, rows := range kr {
					for _, r := range rows {
						all = append(all, uint32(k)<<16|r)
					}
				}
				bm.AddMany(all)
				bm.RunOptimize()
				dst = binary.AppendUvarint(dst[:0], bm.GetSerializedSizeInBytes())
				w := appendWriter{&dst}
				if _, err := bm.WriteTo(w); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("writer", func(b *testing.B) {
		var w roaringWriter
		var dst []byte
		for b.Loop() {
			for _, kr := range keyRows {
				dst, _ = w.appendBitmap(dst[:0], kr)
			}
		}
	})
}

type appendWriter struct{ b *[]byte }

func (w appendWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}

func cloneRows(kr [][]uint32) [][]uint32 {
	out := make([][]uint32, len(kr))
	for i, r := range kr {
		out[i] = append([]uint32(nil), r...)
	}
	return out
}
