package parquet

import (
	"bytes"
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
	if got := readAll(t, buf.Bytes()); len(got) != len(recs) || got[len(got)-1] != recs[len(recs)-1] {
		t.Errorf("read back %d records, want %d, or the last differs", len(got), len(recs))
	}
}
