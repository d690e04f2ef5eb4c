package nats

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
)

// keyedTable is a KeyedSink that behaves like a table with per-message
// duplicate removal: a redelivered key already stored is skipped; a key
// given twice without the redelivered flag is stored twice (so a wrong
// flag shows).
type keyedTable struct {
	mu          sync.Mutex
	stored      map[string][]flow.Record
	copies      map[string]int
	redelivered map[string]bool
	plain       int // records given by WriteBatch
}

func (k *keyedTable) WriteBatch(b []flow.Record) error {
	k.mu.Lock()
	k.plain += len(b)
	k.mu.Unlock()
	return nil
}

func (k *keyedTable) WriteKeyed(key string, redelivered bool, recs []flow.Record) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if redelivered {
		k.redelivered[key] = true
		if _, ok := k.stored[key]; ok {
			return nil
		}
	}
	k.stored[key] = append(k.stored[key], recs...)
	k.copies[key]++
	return nil
}

// TestConsumerKeyed: a collector commits a batch to a KeyedSink and dies
// before its acknowledgements leave; a second collector gets the batch
// again, each message under the same key (its Nats-Msg-Id) with
// redelivered set, and the table ends up with every record once.
func TestConsumerKeyed(t *testing.T) {
	url := startServer(t)
	ctx := context.Background()
	pub, err := DialPublisher(ctx, url+"/keyed", PublisherOptions{Sensor: 5, MaxMessageSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]flow.Record, 3000)
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	for i := range want {
		r := &want[i]
		r.Start, r.End = base+int64(i)*1e6, base+int64(i)*1e6+5e8
		r.Src, r.Dst = flow.AddrFromUint32(0x0a000001+uint32(i)), flow.AddrFromUint32(0xc0a80001)
		r.SrcPort, r.DstPort, r.Protocol = uint16(1024+i), 443, flow.ProtoTCP
		r.Packets, r.Bytes, r.Sensor = uint64(1+i), uint64(100+i), 5
	}
	if err := pub.WriteBatch(want); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	tab := &keyedTable{stored: map[string][]flow.Record{}, copies: map[string]int{}, redelivered: map[string]bool{}}
	opts := ConsumerOptions{Durable: "keyed", FetchMessages: 4, AckWait: time.Second, MaxWait: 200 * time.Millisecond}

	// Collector A stores one batch, then its connection drops before the
	// acknowledgements are sent.
	var crashed []string
	o := opts
	var a *Consumer
	o.Commit = func(ids []string) error {
		crashed = append(crashed, ids...)
		a.nc.Close()
		return nil
	}
	a, err = DialConsumer(ctx, url+"/keyed", o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Once(ctx, tab); err == nil || !strings.Contains(err.Error(), "ack") {
		t.Fatalf("collector A: err %v, want an acknowledgement failure", err)
	}
	a.Close()
	if len(crashed) != 4 {
		t.Fatalf("collector A committed %d messages, want 4", len(crashed))
	}

	b, err := DialConsumer(ctx, url+"/keyed", opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- b.Run(cctx, tab) }()
	js := testenv.JetStream(t, url)
	testenv.NATSDrained(t, js, StreamName("keyed"), "keyed", 30*time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Redelivered != 4 {
		t.Errorf("collector B saw %d redelivered messages, want 4", st.Redelivered)
	}
	var got []flow.Record
	for key, recs := range tab.stored {
		if tab.copies[key] != 1 {
			t.Errorf("message %s stored %d times", key, tab.copies[key])
		}
		if !strings.HasPrefix(key, "5-") {
			t.Errorf("key %q is not the publisher's message id", key)
		}
		got = append(got, recs...)
	}
	for _, id := range crashed {
		if !tab.redelivered[id] {
			t.Errorf("message %s was not flagged redelivered on its second delivery", id)
		}
	}
	if tab.plain != 0 {
		t.Errorf("%d records went through WriteBatch, want all keyed", tab.plain)
	}
	testenv.SameRecords(t, got, want)
}

// TestConsumerRedeliveryWithinFetch: the server redelivers a message
// while the fetch that holds it still waits for more (its AckWait is
// shorter than the fetch's wait, as when the consumer's AckWait was
// changed under a running collector). The batch then holds the message
// twice, neither copy stored yet, so a KeyedSink could not tell the
// second from a new one: the consumer writes it once.
func TestConsumerRedeliveryWithinFetch(t *testing.T) {
	url, want := publishOne(t, "refetch")
	ctx := context.Background()
	// The consumer is created with a long AckWait, which it caches; then
	// the server's is cut to 200 ms, below the fetch's 1.5 s wait.
	c, err := DialConsumer(ctx, url+"/refetch", ConsumerOptions{Durable: "refetch", FetchMessages: 10,
		AckWait: 20 * time.Second, MaxWait: 1500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	js := testenv.JetStream(t, url)
	cfg := c.cons.CachedInfo().Config
	cfg.AckWait = 200 * time.Millisecond
	if _, err := js.UpdateConsumer(ctx, StreamName("refetch"), cfg); err != nil {
		t.Fatal(err)
	}
	// A sink that buffers its inserts (as the ClickHouse sink does)
	// cannot find the first copy when the second comes: count the writes.
	var sink keyedWrites
	n, err := c.Once(ctx, &sink)
	if err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	t.Logf("%d messages acknowledged; stats %+v", n, st)
	if st.Redelivered == 0 {
		t.Fatalf("the fetch got no message twice (stats %+v): the test did not provoke a redelivery", st)
	}
	if len(sink.keys) != 1 || len(sink.recs) != 1 || sink.recs[0] != want[0] {
		t.Errorf("written under keys %q: %+v, want one record once", sink.keys, sink.recs)
	}
	testenv.NATSDrained(t, js, StreamName("refetch"), "refetch", 10*time.Second)
}

// TestConsumerFetchWaitBelowAckWait: a fetch that waits for more
// messages than there are waits at most half the server's AckWait, so
// the message it holds is not redelivered meanwhile.
func TestConsumerFetchWaitBelowAckWait(t *testing.T) {
	url, _ := publishOne(t, "shortwait")
	ctx := context.Background()
	c, err := DialConsumer(ctx, url+"/shortwait", ConsumerOptions{Durable: "shortwait", FetchMessages: 10,
		AckWait: time.Second, MaxWait: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var sink keyedWrites
	if _, err := c.Once(ctx, &sink); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.Redelivered != 0 || st.Messages != 1 || len(sink.recs) != 1 {
		t.Errorf("stats %+v, %d records written; want one message, delivered once", st, len(sink.recs))
	}
}

// publishOne starts a server and publishes one record, as sensor 6, to
// subject; it returns the server's URL and the record.
func publishOne(t *testing.T, subject string) (string, []flow.Record) {
	t.Helper()
	url := startServer(t)
	pub, err := DialPublisher(context.Background(), url+"/"+subject, PublisherOptions{Sensor: 6})
	if err != nil {
		t.Fatal(err)
	}
	recs := []flow.Record{{Start: 1e18, End: 1e18 + 1e9, Src: flow.AddrFromUint32(0x0a000001), Dst: flow.AddrFromUint32(0x0a000002),
		SrcPort: 1234, DstPort: 80, Protocol: flow.ProtoTCP, Packets: 3, Bytes: 300, Sensor: 6}}
	if err := pub.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	return url, recs
}

// keyedWrites is a KeyedSink that keeps what it is given.
type keyedWrites struct {
	keys []string
	recs []flow.Record
}

func (k *keyedWrites) WriteBatch(b []flow.Record) error {
	k.recs = append(k.recs, b...)
	return nil
}

func (k *keyedWrites) WriteKeyed(key string, _ bool, recs []flow.Record) error {
	k.keys = append(k.keys, key)
	k.recs = append(k.recs, recs...)
	return nil
}
