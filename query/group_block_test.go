package query

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// TestAddMatchEqualsAddBatch: counting a store block column by column
// gives the groups that counting its rows as records gives, for the specs
// with a column path and for those that fall back to records.
func TestAddMatchEqualsAddBatch(t *testing.T) {
	recs := storeRecords(41, 30000)
	repo := testRepo(t, recs)
	specs := []GroupSpec{
		{Keys: []Field{DstPort}}, {Keys: []Field{SrcPort}}, {Keys: []Field{Protocol}},
		{Keys: []Field{SrcAddr}}, {Keys: []Field{DstAddr}},
		{Keys: []Field{SrcAddr, DstPort}},                    // no column path: records
		{Keys: []Field{DstPort}, Distinct: []Field{SrcAddr}}, // distinct: records
	}
	for _, expr := range []string{"", "proto tcp", "dst port 443 or src net 10.0.0.0/8"} {
		var p Pred
		if expr != "" {
			p = MustParse(expr)
		}
		for _, spec := range specs {
			byMatch, _ := NewGrouper(spec)
			byBatch, _ := NewGrouper(spec)
			need := ColumnsOf(append(append(spec.Keys, spec.Distinct...), Start, End, Bytes, Packets)...)
			scanBothWays(t, repo, p, need, byMatch, byBatch)
			got, want := byMatch.Groups(), byBatch.Groups()
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%q %v: %d groups by match, %d by batch", expr, spec.Keys, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%q %v: group %d: %+v, want %+v", expr, spec.Keys, i, got[i], want[i])
				}
			}
		}
	}
}

// TestCounterAddMatchEqualsAddBatch: per-bin counts from store blocks read
// column by column equal those from the same rows as records, for every
// load scheme, and LoadStart needs no End column.
func TestCounterAddMatchEqualsAddBatch(t *testing.T) {
	recs := storeRecords(42, 20000)
	repo := testRepo(t, recs)
	for _, scheme := range []LoadScheme{LoadStart, LoadEnd, LoadMiddle, LoadSpread, LoadProportional} {
		need := ColumnsOf(Start, End, Bytes, Packets)
		if scheme == LoadStart {
			need = ColumnsOf(Start, Bytes, Packets)
		}
		byMatch, byBatch := NewCounter(5*time.Minute, scheme), NewCounter(5*time.Minute, scheme)
		scanBothWays(t, repo, MustParse("proto tcp or proto udp"), need, byMatch, byBatch)
		got, want := byMatch.Bins(), byBatch.Bins()
		if len(got) != len(want) || len(want) < 10 {
			t.Fatalf("scheme %d: %d bins by match, %d by batch", scheme, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("scheme %d: bin %d: %+v, want %+v", scheme, i, got[i], want[i])
			}
		}
	}
}

// TestAddMatchOnlyShownValues: a block read with the key and Bytes alone
// (what flowkit stats -values bytes reads) gives the same flows and bytes
// per group as one read with every value column.
func TestAddMatchOnlyShownValues(t *testing.T) {
	repo := testRepo(t, storeRecords(43, 20000))
	for _, key := range []Field{DstPort, SrcAddr, Protocol} {
		spec := GroupSpec{Keys: []Field{key}}
		lean, full := mustGrouper(t, spec), mustGrouper(t, spec)
		for _, c := range []struct {
			g    *Grouper
			need store.ColumnMask
		}{
			{lean, ColumnsOf(key, Bytes)},
			{full, ColumnsOf(key, Bytes, Packets, Start, End)},
		} {
			_, err := ScanStore(context.Background(), repo, store.Selection{}, nil, c.need, 1, func(_ int, m *BlockMatch) error {
				c.g.AddMatch(m)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		got, want := lean.Groups(), full.Groups()
		if len(got) != len(want) {
			t.Fatalf("%v: %d groups, want %d", key, len(got), len(want))
		}
		for i := range want {
			if got[i].Key != want[i].Key || got[i].Flows != want[i].Flows || got[i].Bytes != want[i].Bytes {
				t.Fatalf("%v: group %d: %+v, want flows and bytes of %+v", key, i, got[i].Aggregate, want[i].Aggregate)
			}
		}
	}
}

func mustGrouper(t *testing.T, spec GroupSpec) *Grouper {
	t.Helper()
	g, err := NewGrouper(spec)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// blockAdder is what Grouper and Counter share: a store block column by
// column, or its rows as records.
type blockAdder interface {
	AddMatch(*BlockMatch)
	AddBatch([]flow.Record)
}

// scanBothWays scans repo with p and adds every matching block to byMatch
// column by column and to byBatch as records, one block at a time.
func scanBothWays(t *testing.T, repo *store.Repo, p Pred, need store.ColumnMask, byMatch, byBatch blockAdder) {
	t.Helper()
	var mu sync.Mutex
	buf := make([]flow.Record, 100)
	_, err := ScanStore(context.Background(), repo, store.Selection{}, p, need, 2, func(_ int, m *BlockMatch) error {
		mu.Lock()
		defer mu.Unlock()
		byMatch.AddMatch(m)
		for b := range m.Batches(buf) {
			byBatch.AddBatch(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
