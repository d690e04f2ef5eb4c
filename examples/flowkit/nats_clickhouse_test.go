package main

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	busnats "github.com/flowkit/flowkit/bus/nats"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/flowkit/flowkit/export/clickhouse"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/query"
	"github.com/flowkit/flowkit/store"
)

// TestNATSToClickHouse runs the scale-out chain with real processes: flowkit
// meter publishes a synthesized day to NATS JetStream, two flowkit collect
// processes share its durable consumer and insert into two ClickHouse
// servers, one shard each, read back through a Distributed table. The
// count, packet and byte sums and the top talkers there must equal those of
// a local repository of the same capture, though one ClickHouse server was
// stopped for a while and started again while the collectors inserted.
// TestNATSToClickHouseKill kills a collector.
func TestNATSToClickHouse(t *testing.T) {
	url := testenv.NATSServer(t)
	chs := testenv.ClickHouseCluster(t, 2)
	bin := buildFlowkit(t)
	pcap, _ := synthPcap(t, true)
	ctx := context.Background()

	// The local answer: the same capture in a repository.
	repoDir := filepath.Join(t.TempDir(), "repo")
	ipfixFile := filepath.Join(t.TempDir(), "day.ipfix")
	if _, errs, code := qRun(t, "meter", "-r", pcap, "-sensor", "1", "-w", ipfixFile); code != 0 {
		t.Fatalf("meter -w: %s", errs)
	}
	if _, errs, code := qRun(t, "import", "-q", "-internal", "none", "-repo", repoDir, ipfixFile); code != 0 {
		t.Fatalf("import: %s", errs)
	}

	dst := "clickhouse://" + chs[0].Addr() + "," + chs[1].Addr() + "/default?table=flows"
	src := url + "/ch?durable=ch&fetch=2"
	a := startCollectorTo(t, bin, src, "-clickhouse", dst)
	b := startCollectorTo(t, bin, src, "-clickhouse", dst)
	js := testenv.JetStream(t, url)
	waitPulling(t, js, "ch", "ch", 2)

	// Stop shard 1 while the day is published; start it again a moment
	// later: the collectors' inserts wait in their retries.
	chs[1].Stop(syscall.SIGTERM)
	go func() {
		time.Sleep(2 * time.Second)
		chs[1].Start()
	}()
	want := publishDay(t, url+"/ch", pcap, 1)
	testenv.NATSDrained(t, js, busnats.StreamName("ch"), "ch", 120*time.Second)
	a.stop(t)
	b.stop(t)
	if chs[1].Exited() {
		t.Fatal("shard 1 did not come back")
	}

	conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: []string{chs[0].Addr()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := clickhouse.CreateDistributed(ctx, conn, "flows_all", testenv.ClickHouseClusterName, "default", "flows"); err != nil {
		t.Fatal(err)
	}
	var n, packets, octets uint64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(packets), sum(bytes) FROM flows_all").Scan(&n, &packets, &octets); err != nil {
		t.Fatal(err)
	}
	var wp, wb uint64
	for i := range want {
		wp += want[i].Packets
		wb += want[i].Bytes
	}
	repo, err := store.OpenRepo(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	g, err := query.NewGrouper(query.GroupSpec{Keys: []query.Field{query.SrcAddr}})
	if err != nil {
		t.Fatal(err)
	}
	var rerr error
	var local int
	for r := range repo.Records(store.Selection{}, store.AllColumns, &rerr) {
		g.Add(&r)
		local++
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	t.Logf("ClickHouse: %d flows, %d packets, %d bytes; repository: %d flows; metered: %d flows, %d packets, %d bytes",
		n, packets, octets, local, len(want), wp, wb)
	if n != uint64(len(want)) || packets != wp || octets != wb || local != len(want) {
		t.Fatalf("ClickHouse %d flows, %d packets, %d bytes; repository %d flows; metered %d, %d, %d",
			n, packets, octets, local, len(want), wp, wb)
	}

	// Top talkers by bytes, on both sides.
	rows, err := clickhouse.Group(ctx, conn, clickhouse.GroupQuery{Table: "flows_all", Keys: []query.Field{query.SrcAddr}, By: query.ValBytes, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	top := g.Top(query.ValBytes, 10, false)
	if len(rows) != len(top) || len(top) == 0 {
		t.Fatalf("top talkers: ClickHouse %d rows, repository %d", len(rows), len(top))
	}
	for i := range top {
		if rows[i].Key[0].Addr != g.KeyAddr(top[i].Group, 0) || rows[i].Bytes != top[i].Bytes || rows[i].Flows != top[i].Flows {
			t.Fatalf("top talker %d: ClickHouse %v %d bytes %d flows, repository %v %d bytes %d flows", i,
				rows[i].Key[0].Addr, rows[i].Bytes, rows[i].Flows, g.KeyAddr(top[i].Group, 0), top[i].Bytes, top[i].Flows)
		}
	}
}

// TestNATSToClickHouseKill kills one of two collectors with SIGKILL at a
// random moment while they insert three sensors' days into two ClickHouse
// shards, and starts it again: the stream redelivers what it held, the
// keyed inserts store each message once, and the shards end up holding
// exactly what was metered.
func TestNATSToClickHouseKill(t *testing.T) {
	url := testenv.NATSServer(t)
	chs := testenv.ClickHouseCluster(t, 2)
	bin := buildFlowkit(t)
	pcap, _ := synthPcap(t, true)
	ctx := context.Background()
	js := testenv.JetStream(t, url)
	// A short AckWait, so the server soon redelivers what the killed
	// collector held.
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: busnats.StreamName("chkill"), Subjects: []string{"chkill.>"},
		Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateConsumer(ctx, busnats.StreamName("chkill"), jetstream.ConsumerConfig{Durable: "crash",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: 2 * time.Second, MaxAckPending: 8,
		FilterSubject: "chkill.>", DeliverPolicy: jetstream.DeliverAllPolicy}); err != nil {
		t.Fatal(err)
	}
	want := publishDay(t, url+"/chkill", pcap, 3)
	dst := "clickhouse://" + chs[0].Addr() + "," + chs[1].Addr() + "/default?table=flows&batch=20000"
	src := url + "/chkill?durable=crash&fetch=1"
	a := startCollectorTo(t, bin, src, "-clickhouse", dst)
	b := startCollectorTo(t, bin, src, "-clickhouse", dst)
	time.Sleep(time.Duration(300+rand.IntN(1500)) * time.Millisecond)
	a.signal(t, syscall.SIGKILL)
	a.cmd.Wait()
	close(a.done)
	if info := durableInfo(js, "chkill", "crash"); info == nil || info.NumPending == 0 {
		t.Errorf("collector A was killed after the stream was consumed: not mid-stream")
	} else {
		t.Logf("killed A with %d messages pending, %d unacknowledged", info.NumPending, info.NumAckPending)
	}
	a2 := startCollectorTo(t, bin, src, "-clickhouse", dst)
	testenv.NATSDrained(t, js, busnats.StreamName("chkill"), "crash", 120*time.Second)
	a2.stop(t)
	b.stop(t)
	t.Logf("redelivered: %d (restarted A) + %d (B)", a2.stat(t, "redelivered"), b.stat(t, "redelivered"))

	var n, packets, octets uint64
	for _, c := range chs {
		conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: []string{c.Addr()}})
		if err != nil {
			t.Fatal(err)
		}
		var cn, cp, cb uint64
		if err := conn.QueryRow(ctx, "SELECT count(), sum(packets), sum(bytes) FROM flows").Scan(&cn, &cp, &cb); err != nil {
			t.Fatal(err)
		}
		conn.Close()
		t.Logf("shard %s: %d flows", c.Addr(), cn)
		n, packets, octets = n+cn, packets+cp, octets+cb
	}
	var wp, wb uint64
	for i := range want {
		wp += want[i].Packets
		wb += want[i].Bytes
	}
	if n != uint64(len(want)) || packets != wp || octets != wb {
		t.Fatalf("ClickHouse %d flows, %d packets, %d bytes; metered %d, %d, %d", n, packets, octets, len(want), wp, wb)
	}
}
