package parquet

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestDictCodec: the address columns' dictionary pages are the ones the
// writer compressed ahead, in every row group, and the file reads back.
func TestDictCodec(t *testing.T) {
	recs := day(t)
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{RowGroupRows: 20_000})
	for b := range slices.Chunk(recs, 1000) {
		if err := w.WriteBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	groups := (len(recs) + 19_999) / 20_000
	for _, id := range []colID{colSrcAddr, colDstAddr, colNextHop} {
		if got := w.cols[id].dict.hits; got != groups {
			t.Errorf("%s: %d dictionary pages compressed ahead, want %d (one per row group)", colNames[id], got, groups)
		}
	}
	t.Logf("data pages in raw zstd blocks: src_addr %d, dst_addr %d", w.cols[colSrcAddr].dict.raws, w.cols[colDstAddr].dict.raws)
	if got := readAll(t, buf.Bytes()); len(got) != len(recs) || got[len(got)-1] != recs[len(recs)-1] {
		t.Errorf("read back %d records, want %d, or the last differs", len(got), len(recs))
	}
}

// TestZstdRaw: the raw-block zstd frames decode, with zstd, to what went
// in, for sizes around the 128 KiB block size.
func TestZstdRaw(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 1000, 128<<10 - 1, 128 << 10, 128<<10 + 1, 300_000, 1 << 20} {
		src := make([]byte, n)
		for i := range src {
			src[i] = byte(rng.Uint32())
		}
		frame := appendZstdRaw([]byte("junk"), src)[4:]
		got, err := zstdCodec.Decode(nil, frame)
		if err != nil || !bytes.Equal(got, src) {
			t.Errorf("%d bytes: decoded %d bytes, %v", n, len(got), err)
		}
	}
}

// TestDictTooLarge: a row group whose address texts pass the dictionary
// bound is an error, not a file parquet-go would turn half to PLAIN.
func TestDictTooLarge(t *testing.T) {
	defer func(n int64) { maxTextDict = n }(maxTextDict)
	maxTextDict = 10_000
	w := NewWriter(io.Discard, Options{})
	recs := day(t)
	err := w.WriteBatch(recs)
	if !errors.Is(err, ErrDictTooLarge) {
		t.Fatalf("WriteBatch: %v, want ErrDictTooLarge", err)
	}
	// The writer stops at the error: later calls return it too.
	if err := w.WriteBatch(recs[:1]); !errors.Is(err, ErrDictTooLarge) {
		t.Fatalf("WriteBatch after the error: %v, want ErrDictTooLarge", err)
	}
	if err := w.Close(); !errors.Is(err, ErrDictTooLarge) {
		t.Fatalf("Close: %v, want ErrDictTooLarge", err)
	}
}
