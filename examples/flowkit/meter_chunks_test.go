package main

import (
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// TestChunkSinkKeepsOrder: records written in batches of any size across
// chunk boundaries come back once each, in the order written.
func TestChunkSinkKeepsOrder(t *testing.T) {
	var s chunkSink
	n := 0
	for _, size := range []int{1, chunkRecords - 1, 2, 3 * chunkRecords, 0, 777} {
		batch := make([]flow.Record, size)
		for i := range batch {
			batch[i].Packets = uint64(n)
			n++
		}
		if err := s.WriteBatch(batch); err != nil {
			t.Fatal(err)
		}
	}
	recs := s.records()
	if len(recs) != n {
		t.Fatalf("%d records, wrote %d", len(recs), n)
	}
	for i := range recs {
		if recs[i].Packets != uint64(i) {
			t.Fatalf("record %d is record %d", i, recs[i].Packets)
		}
	}
}
