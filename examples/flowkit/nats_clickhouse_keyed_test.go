package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	busnats "github.com/flowkit/flowkit/bus/nats"
	"github.com/flowkit/flowkit/export/clickhouse"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestNATSClickHouseKeyedRedelivery: a collector stores a batch of
// messages in ClickHouse and dies before its acknowledgements reach the
// NATS server; a second collector (collectNATS, as flowkit collect
// -listen nats:// -clickhouse runs it) gets the batch again after AckWait.
// Into one server and into two shards, every flow ends up stored once.
// The control case hides WriteKeyed from the sink: the batch is stored
// twice, which is what the keyed path prevents.
func TestNATSClickHouseKeyedRedelivery(t *testing.T) {
	natsURL := testenv.NATSServer(t)
	servers := testenv.ClickHouseCluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, s := range servers {
		keyedWaitClickHouse(t, ctx, s.Addr())
	}
	want := keyedRecords(4000)
	pub, err := busnats.DialPublisher(ctx, natsURL+"/kc", busnats.PublisherOptions{Sensor: 2, MaxMessageSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.WriteBatch(want); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	js := testenv.JetStream(t, natsURL)
	one := servers[0].Addr()
	two := servers[0].Addr() + "," + servers[1].Addr()
	for _, c := range []struct {
		name, hosts, table string
		keyed              bool
	}{
		{"one-server", one, "kc_one", true},
		{"two-shards", two, "kc_sharded", true},
		{"control-unkeyed", one, "kc_plain", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			chURL := "clickhouse://" + c.hosts + "/default?table=" + c.table
			durable := strings.ReplaceAll(c.table, "_", "-")
			open := func() collectOut {
				out, err := openClickHouseOut(ctx, chURL)
				if err != nil {
					t.Fatal(err)
				}
				if !c.keyed {
					return keyedHidden{out}
				}
				return out
			}
			crashedRecs := keyedCrash(t, ctx, natsURL, durable, open())

			// The second collector, as flowkit collect runs it.
			out := open()
			cctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				_, err := collectNATS(cctx, natsURL+"/kc?durable="+durable+"&fetch=4", &limitSink{w: out, left: -1}, out, nil)
				done <- err
			}()
			testenv.NATSDrained(t, js, busnats.StreamName("kc"), durable, 60*time.Second)
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}

			var n, pkts uint64
			for _, h := range strings.Split(c.hosts, ",") {
				hn, hp := keyedTableSums(t, ctx, h, c.table)
				if strings.Contains(c.hosts, ",") && hn == 0 {
					t.Errorf("shard %s holds no flows", h)
				}
				n, pkts = n+hn, pkts+hp
			}
			var wantPkts uint64
			for i := range want {
				wantPkts += want[i].Packets
			}
			t.Logf("%d flows, %d packets stored; %d published; the crashed batch held %d", n, pkts, len(want), crashedRecs)
			if c.keyed && (n != uint64(len(want)) || pkts != wantPkts) {
				t.Errorf("stored %d flows, %d packets; want %d, %d (each once)", n, pkts, len(want), wantPkts)
			}
			if !c.keyed && n != uint64(len(want)+crashedRecs) {
				t.Errorf("control: stored %d flows, want %d (the crashed batch twice)", n, len(want)+crashedRecs)
			}
		})
	}
}

// keyedHidden hides WriteKeyed (and keeps Flush): the consumer writes
// plain batches.
type keyedHidden struct{ collectOut }

func (k keyedHidden) Flush() error { return k.collectOut.(chSink).Flush() }

// keyedCrash runs one consumer step of a collector whose connection
// drops right after the sink committed (Flush) the batch, before any
// acknowledgement leaves; it closes the sink and returns the number of
// records in the batch.
func keyedCrash(t *testing.T, ctx context.Context, natsURL, durable string, out collectOut) int {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var recs int
	count := &keyedCounter{next: out, n: &recs}
	var sink flow.Sink = count
	if ks, ok := out.(busnats.KeyedSink); ok {
		sink = &keyedCounterK{keyedCounter: count, ks: ks}
	}
	c, err := busnats.NewConsumer(ctx, js, busnats.ConsumerOptions{
		Subject: "kc", Durable: durable, FetchMessages: 4, AckWait: time.Second, MaxWait: time.Second,
		Commit: func([]string) error {
			err := out.(interface{ Flush() error }).Flush() // the sink stored the batch
			nc.Close()
			return err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Once(ctx, sink); err == nil || !strings.Contains(err.Error(), "ack") {
		t.Fatalf("crashing collector: err %v, want an acknowledgement failure", err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if recs == 0 {
		t.Fatal("the crashing collector stored nothing")
	}
	return recs
}

// keyedCounter counts the records passed on.
type keyedCounter struct {
	next flow.Sink
	n    *int
}

func (k *keyedCounter) WriteBatch(b []flow.Record) error {
	*k.n += len(b)
	return k.next.WriteBatch(b)
}

// keyedCounterK counts keyed writes too.
type keyedCounterK struct {
	*keyedCounter
	ks busnats.KeyedSink
}

func (k *keyedCounterK) WriteKeyed(key string, redelivered bool, recs []flow.Record) error {
	*k.n += len(recs)
	return k.ks.WriteKeyed(key, redelivered, recs)
}

// keyedRecords makes n distinct flows over three days from many sources.
func keyedRecords(n int) []flow.Record {
	base := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC).UnixNano()
	recs := make([]flow.Record, n)
	for i := range recs {
		r := &recs[i]
		r.Start = base + int64(i)*int64(72*time.Hour)/int64(n)
		r.End = r.Start + int64(time.Second)
		r.Src, r.Dst = flow.AddrFromUint32(0x0a000000+uint32(i*7919)), flow.AddrFromUint32(0xc0a80001)
		r.SrcPort, r.DstPort, r.Protocol = uint16(1024+i), 443, flow.ProtoTCP
		r.Packets, r.Bytes, r.Sensor = uint64(1+i), uint64(64*(1+i)), 2
	}
	return recs
}

// keyedWaitClickHouse waits until the server at addr answers a ping.
func keyedWaitClickHouse(t *testing.T, ctx context.Context, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: []string{addr}, DialTimeout: time.Second})
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clickhouse-server at %s does not answer: %v", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// keyedTableSums returns the flow count and packet total of table at addr.
func keyedTableSums(t *testing.T, ctx context.Context, addr, table string) (n, packets uint64) {
	t.Helper()
	conn, err := clickhouse.Open(ctx, clickhouse.Config{Addr: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRow(ctx, fmt.Sprintf("SELECT count(), sum(packets) FROM %s", table)).Scan(&n, &packets); err != nil {
		t.Fatalf("sums of %s at %s: %v", table, addr, err)
	}
	return n, packets
}
