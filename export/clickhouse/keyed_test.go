package clickhouse

import (
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// TestWriteKeyed writes keyed flows (messages m1..m3, each spread over
// three days, one in chunks) mixed with unkeyed ones, then writes them
// again from a second sink as redelivered, with one new message and one
// message stored for one day only: every flow is stored exactly once, and
// only the missing ones are sent again.
func TestWriteKeyed(t *testing.T) {
	srv := startServers(t, 1)[0]
	ctx := testCtx(t)
	if err := CreateTable(ctx, srv.conn(), "flows"); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Addr: []string{srv.addr()}, BatchSize: 1000, MinBackoff: time.Millisecond}
	m1, m2, m3, m4 := randomRecords(21, 700), randomRecords(22, 2500), randomRecords(23, 300), randomRecords(24, 600)
	plain := randomRecords(25, 1500)

	a, err := NewSink(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []func() error{
		func() error { return a.WriteKeyed("m1", false, m1) },
		func() error { return a.WriteBatch(plain) },
		func() error { return a.WriteKeyed("m2", false, m2) }, // 3 chunks
		a.Flush,
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	// m4's first day alone is stored, as by an INSERT cut short between
	// two partitions' parts.
	var m4day1 []flow.Record
	for i := range m4 {
		if dayOf(startSecond(m4[i].Start)) == dayOf(startSecond(m4[0].Start)) {
			m4day1 = append(m4day1, m4[i])
		}
	}
	if _, err := a.insertOnce(m4day1, keyID("m4", 0), 0, &columnBuf{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	want := append(append(append(append(append([]flow.Record{}, m1...), plain...), m2...), m3...), m4...)

	// A second collector gets m1, m2 and m4 again and m3 for the first time.
	b, err := NewSink(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []func() error{
		func() error { return b.WriteKeyed("m1", true, m1) },
		func() error { return b.WriteKeyed("m3", true, m3) },
		func() error { return b.WriteKeyed("m2", true, m2) },
		func() error { return b.WriteKeyed("m4", true, m4) },
		b.Close,
	} {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	st := b.Stats()
	t.Logf("second sink: %+v", st)
	if wantSkip := uint64(len(m1) + len(m2) + len(m4day1)); st.Skipped != wantSkip || st.Rechecked == 0 || st.Verified != 0 {
		t.Errorf("second sink skipped %d flows (rechecked %d, verified %d), want %d skipped by rechecks", st.Skipped, st.Rechecked, st.Verified, wantSkip)
	}
	if len(m4day1) == 0 || len(m4day1) == len(m4) {
		t.Fatalf("m4 has %d of %d flows on its first day, want some but not all", len(m4day1), len(m4))
	}
	if got := tableSums(t, srv, "flows"); got != sumOf(want) {
		t.Errorf("table totals %+v, want %+v (each flow once)", got, sumOf(want))
	}
	// Keyed rows carry their key's ids; a chunk never straddles INSERTs.
	var n uint64
	if err := srv.conn().QueryRow(ctx, "SELECT count() FROM flows WHERE insert_id IN (?, ?, ?)",
		keyID("m2", 0), keyID("m2", 1), keyID("m2", 2)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != uint64(len(m2)) {
		t.Errorf("%d rows with m2's ids, want %d", n, len(m2))
	}
}

// TestShardedWriteKeyed: a redelivered message written through a second
// ShardedSink is stored once over the shards.
func TestShardedWriteKeyed(t *testing.T) {
	srvs := startServers(t, 2)
	ctx := testCtx(t)
	var cfgs []Config
	for _, s := range srvs {
		if err := CreateTable(ctx, s.conn(), "flows"); err != nil {
			t.Fatal(err)
		}
		cfgs = append(cfgs, Config{Addr: []string{s.addr()}, MinBackoff: time.Millisecond})
	}
	m1, m2 := randomRecords(31, 900), randomRecords(32, 400)
	for round, msgs := range [][]string{{"m1"}, {"m1", "m2"}} {
		s, err := NewShardedSink(ctx, cfgs)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range msgs {
			recs := map[string][]flow.Record{"m1": m1, "m2": m2}[key]
			if err := s.WriteKeyed(key, round > 0, recs); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	var got sums
	for _, s := range srvs {
		st := tableSums(t, s, "flows")
		if st.Flows == 0 {
			t.Errorf("shard %s holds no flows", s.addr())
		}
		got.Flows += st.Flows
		got.Packets += st.Packets
		got.Bytes += st.Bytes
		got.RevPackets += st.RevPackets
		got.RevBytes += st.RevBytes
	}
	if want := sumOf(append(append([]flow.Record{}, m1...), m2...)); got != want {
		t.Errorf("shards' totals %+v, want %+v (each flow once)", got, want)
	}
}

func TestKeyID(t *testing.T) {
	if keyID("3-abc-1", 0) != keyID("3-abc-1", 0) || keyID("3-abc-1", 0) == keyID("3-abc-2", 0) || keyID("3-abc-1", 0) == keyID("3-abc-1", 1) {
		t.Error("keyID is not deterministic or not distinct")
	}
}
