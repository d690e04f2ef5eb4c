package clickhouse

import (
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// setupCluster starts two servers with a local table flows_local and a
// Distributed table flows over both on each.
func setupCluster(t *testing.T) []*server {
	t.Helper()
	servers := startServers(t, 2)
	ctx := testCtx(t)
	for _, s := range servers {
		conn := s.conn()
		if err := CreateTable(ctx, conn, "flows_local"); err != nil {
			t.Fatal(err)
		}
		if err := CreateDistributed(ctx, conn, "flows", clusterName, "default", "flows_local"); err != nil {
			t.Fatal(err)
		}
	}
	return servers
}

// waitSums waits until the Distributed table's totals are want (the
// Distributed table forwards rows in the background) and fails if they
// go past it or do not get there.
func waitSums(t *testing.T, s *server, table string, want sums) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := tableSums(t, s, table)
		if got == want {
			return
		}
		if got.Flows > want.Flows {
			t.Fatalf("%s holds %d flows, more than the %d inserted: %+v", table, got.Flows, want.Flows, got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: totals %+v, want %+v", table, got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDistributed inserts through the Distributed table of one server:
// count and sums through it equal the inserted flows, both shards hold
// rows, and top talkers through it agree with flowkit's.
func TestDistributed(t *testing.T) {
	servers := setupCluster(t)
	ctx := testCtx(t)
	recs := append(randomRecords(3, 30000), synthRecords(t)...)
	sink, err := NewSink(ctx, Config{Addr: []string{servers[0].addr()}, Table: "flows", BatchSize: 8192})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	want := sumOf(recs)
	waitSums(t, servers[0], "flows", want)
	waitSums(t, servers[1], "flows", want)
	var shardTotal uint64
	for i, s := range servers {
		n := tableSums(t, s, "flows_local").Flows
		if n == 0 || n == want.Flows {
			t.Errorf("shard %d holds %d of %d flows", i, n, want.Flows)
		}
		shardTotal += n
	}
	if shardTotal != want.Flows {
		t.Errorf("shards hold %d flows, want %d", shardTotal, want.Flows)
	}
	conn := servers[1].conn()
	agreeTop(t, conn, "flows", recs, "sip", "any", 2, false) // by bytes
	agreeTop(t, conn, "flows", recs, "dip,dport", "proto tcp", 0, false)
}

// TestShardedSinkFault writes two shards' local tables with a
// ShardedSink, kills one shard (SIGKILL) during the inserts and starts it
// again. Nothing is lost and nothing is stored twice: a batch that failed
// before its block reached the server is sent again; one whose answer was
// lost is looked up by its insert_id in the shard's table (a partition's
// share of a block is stored atomically, all or nothing) and only the
// partitions without it are sent again.
func TestShardedSinkFault(t *testing.T) {
	servers := setupCluster(t)
	ctx := testCtx(t)
	recs := randomRecords(4, 400000)
	var cfgs []Config
	for _, s := range servers {
		cfgs = append(cfgs, Config{Addr: []string{s.addr()}, Table: "flows_local", BatchSize: 5000,
			MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second, MaxRetries: 60,
			DialTimeout: time.Second, ReadTimeout: 10 * time.Second})
	}
	sink, err := NewShardedSink(ctx, cfgs)
	if err != nil {
		t.Fatal(err)
	}
	var written atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for written.Load() < int64(len(recs))/5 {
			time.Sleep(time.Millisecond)
		}
		servers[1].stop(syscall.SIGKILL)
		time.Sleep(2 * time.Second)
		servers[1].start()
	}()
	for i := 0; i < len(recs); i += 1000 {
		if err := sink.WriteBatch(recs[i:min(i+1000, len(recs))]); err != nil {
			t.Fatal(err)
		}
		written.Store(int64(i + 1000))
	}
	<-done
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	servers[1].wait()
	st := sink.Stats()
	t.Logf("shard sinks: %+v", st)
	if st[1].Retries == 0 {
		t.Errorf("shard 1 was killed but its sink never retried: the test tested nothing")
	}
	var stored uint64
	for _, s := range st {
		stored += s.Flows
	}
	if stored != uint64(len(recs)) {
		t.Errorf("sinks count %d flows stored, want %d", stored, len(recs))
	}
	want := sumOf(recs)
	waitSums(t, servers[0], "flows", want)
	for i, s := range servers {
		var part []flow.Record
		for j := range recs {
			if ShardOf(recs[j].Src, 2) == i {
				part = append(part, recs[j])
			}
		}
		if got := tableSums(t, s, "flows_local"); got != sumOf(part) {
			t.Errorf("shard %d: totals %+v, want %+v", i, got, sumOf(part))
		}
	}
}

// TestDistributedFault inserts through server 0's Distributed table
// while shard 1 is down, then starts shard 1 again: server 0 keeps shard
// 1's rows in its on-disk queue and sends them when the shard is back; the
// totals end up exact.
//
// Shard 1 is stopped before the inserts, not during one of server 0's
// sends to it: ClickHouse 18.16 takes the "Attempt to read after eof" of a
// shard killed in the middle of a send for a corrupt queue file and moves
// the file to broken/, where its rows stay undelivered (seen here: about
// 2,500 of 200,000 flows). That is why ShardedSink exists.
func TestDistributedFault(t *testing.T) {
	servers := setupCluster(t)
	ctx := testCtx(t)
	recs := randomRecords(5, 200000)
	sink, err := NewSink(ctx, Config{Addr: []string{servers[0].addr()}, Table: "flows", BatchSize: 5000})
	if err != nil {
		t.Fatal(err)
	}
	servers[1].stop(syscall.SIGKILL)
	if err := sink.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	// While shard 1 is down its share waits in server 0's queue.
	var n uint64
	if err := servers[0].conn().QueryRow(ctx, "SELECT count() FROM flows_local").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n == 0 || n >= uint64(len(recs)) {
		t.Errorf("shard 0 holds %d of %d flows while shard 1 is down", n, len(recs))
	}
	servers[1].start()
	servers[1].wait()
	waitSums(t, servers[1], "flows", sumOf(recs))
}

// TestLostAnswer makes the sink believe that the server's answer to some
// stored INSERTs was lost: the sink must find them stored and not send
// them again. Then it leaves one INSERT stored for one day only (as when a
// server dies between writing two partitions' parts): only the other days'
// flows are missing.
func TestLostAnswer(t *testing.T) {
	srv := startServers(t, 1)[0]
	ctx := testCtx(t)
	conn := srv.conn()
	if err := CreateTable(ctx, conn, "flows"); err != nil {
		t.Fatal(err)
	}
	recs := randomRecords(6, 30000)
	sink, err := NewSink(ctx, Config{Addr: []string{srv.addr()}, BatchSize: 4000, MinBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var batches atomic.Int64
	sink.loseAnswer = func(attempt int) bool { return batches.Add(1)%3 == 1 }
	if err := sink.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	st := sink.Stats()
	// Three batches lose their answer; the last batch has 2000 flows.
	if st.Verified != 3 || st.Skipped < 2000+2*4000 || st.Flows != uint64(len(recs)) {
		t.Errorf("stats %+v, want 3 lost answers resolved and their flows not sent again", st)
	}
	if got := tableSums(t, srv, "flows"); got != sumOf(recs) {
		t.Errorf("table totals %+v, want %+v", got, sumOf(recs))
	}

	// Store the first day's flows of a batch under one insert_id, as a
	// half-done INSERT of the whole batch would.
	sink.loseAnswer = nil
	part := randomRecords(7, 3000) // three days
	var day1 []flow.Record
	for i := range part {
		if dayOf(startSecond(part[i].Start)) == dayOf(startSecond(part[0].Start)) {
			day1 = append(day1, part[i])
		}
	}
	const id = 0xfeed
	if _, err := sink.insertOnce(day1, id, 0, &columnBuf{}); err != nil {
		t.Fatal(err)
	}
	missing, err := missingSoon(sink, part, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != len(part)-len(day1) || len(day1) == 0 || len(missing) == 0 {
		t.Fatalf("%d flows missing, want %d (%d of %d stored)", len(missing), len(part)-len(day1), len(day1), len(part))
	}
	for i := range missing {
		if dayOf(startSecond(missing[i].Start)) == dayOf(startSecond(day1[0].Start)) {
			t.Fatalf("flow of the stored day reported missing: %v", &missing[i])
		}
	}
	// A day stored in part cannot come from one INSERT: it is an error.
	if _, err := sink.insertOnce(day1[:1], id+1, 0, &columnBuf{}); err != nil {
		t.Fatal(err)
	}
	if _, err := missingSoon(sink, day1, id+1); !errors.Is(err, ErrPartialInsert) {
		t.Errorf("partly stored day: err %v, want ErrPartialInsert", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
}

// missingSoon calls s.missing until the INSERTs it checks have left
// system.processes: the server may list one for a moment after answering.
func missingSoon(s *Sink, all []flow.Record, id uint64) ([]flow.Record, error) {
	for i := 0; ; i++ {
		m, err := s.missing(all, id)
		if err == nil || errors.Is(err, ErrPartialInsert) || i == 50 {
			return m, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
