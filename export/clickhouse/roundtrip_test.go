package clickhouse

import (
	"slices"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// TestRoundTrip stores flows with every field set (IPv4 and IPv6, biflow
// reverse counters and flags, three days) and reads back the same records.
func TestRoundTrip(t *testing.T) {
	srv := startServers(t, 1)[0]
	ctx := testCtx(t)
	conn := srv.conn()
	if err := CreateTable(ctx, conn, "flows"); err != nil {
		t.Fatal(err)
	}
	recs := randomRecords(1, 10000)
	sink, err := NewSink(ctx, Config{Addr: []string{srv.addr()}, BatchSize: 3000})
	if err != nil {
		t.Fatal(err)
	}
	// Batches of 700 so that the sink's 3000 straddle them.
	for i := 0; i < len(recs); i += 700 {
		if err := sink.WriteBatch(recs[i:min(i+700, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Inserts != 4 || st.Flows != uint64(len(recs)) {
		t.Errorf("stats %+v, want 4 inserts of %d flows", st, len(recs))
	}
	got, err := Select(ctx, conn, "flows", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(recs)
	flow.SortRecords(want)
	flow.SortRecords(got)
	if len(got) != len(want) {
		t.Fatalf("read %d flows, stored %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("flow %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	var parts uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(partition) FROM system.parts WHERE table = 'flows' AND active").Scan(&parts); err != nil {
		t.Fatal(err)
	}
	if parts != 4 {
		t.Errorf("%d partitions, want 4 (the flows span 4 days)", parts)
	}
	if err := sink.WriteBatch(recs[:1]); err == nil {
		t.Error("WriteBatch after Close did not fail")
	}
}
