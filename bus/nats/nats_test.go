package nats

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/internal/testenv/storetest"
	"github.com/flowkit/flowkit/store"
	"github.com/nats-io/nats.go"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, server, subject string }{
		{"nats://127.0.0.1:4222/flows", "nats://127.0.0.1:4222", "flows"},
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222", "flows"},
		{"nats://[::1]:4222/site.a/", "nats://[::1]:4222", "site.a"},
	} {
		s, sub, err := ParseURL(c.in)
		if err != nil || s != c.server || sub != c.subject {
			t.Errorf("ParseURL(%q) = %q, %q, %v", c.in, s, sub, err)
		}
	}
	for _, bad := range []string{"udp://1.2.3.4:5/x", "nats:///x", "nats://h:1/a..b", "nats://h:1/a.*", "nats://h:1/a b", "nats://h:1/a?durable=x"} {
		if _, _, err := ParseURL(bad); !errors.Is(err, ErrURL) {
			t.Errorf("ParseURL(%q): err %v, want ErrURL", bad, err)
		}
	}
}

func TestParseConsumerURL(t *testing.T) {
	server, o, err := ParseConsumerURL("nats://127.0.0.1:4222/site.a?durable=store-1&fetch=8", ConsumerOptions{Durable: "x", MaxWait: time.Second})
	if err != nil || server != "nats://127.0.0.1:4222" || o.Subject != "site.a" || o.Durable != "store-1" || o.FetchMessages != 8 || o.MaxWait != time.Second {
		t.Errorf("got %q %+v %v", server, o, err)
	}
	// Without parameters the options' values stay.
	if _, o, err := ParseConsumerURL("nats://h:1", ConsumerOptions{Durable: "x"}); err != nil || o.Durable != "x" || o.Subject != "flows" {
		t.Errorf("got %+v %v", o, err)
	}
	for _, bad := range []string{"nats://h:1/a?durable=a.b", "nats://h:1/a?durable=", "nats://h:1/a?fetch=0",
		"nats://h:1/a?fetch=x", "nats://h:1/a?durabel=x", "nats://h:1/a?durable=x&durable=y", "nats://h:1/a?%zz"} {
		if _, _, err := ParseConsumerURL(bad, ConsumerOptions{}); !errors.Is(err, ErrURL) {
			t.Errorf("ParseConsumerURL(%q): err %v, want ErrURL", bad, err)
		}
	}
}

// TestMeterPublishTwoCollectors meters the synthesizer's day into JetStream
// and stores it with two collectors sharing one durable consumer into one
// repository: every metered record is there exactly once.
func TestMeterPublishTwoCollectors(t *testing.T) {
	url, pub, want := publishDay(t, "flows", PublisherOptions{Sensor: 3, MaxInFlight: 8, MaxMessageSize: 8192})
	ctx := context.Background()
	ps := pub.Stats()
	t.Logf("published %+v", ps)
	if ps.Records != int64(len(want)) || ps.Messages < 20 {
		t.Fatalf("published %d records in %d messages, metered %d", ps.Records, ps.Messages, len(want))
	}

	repo, err := store.OpenRepo(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stats := make([]ConsumerStats, 2)
	errs := make([]error, 2)
	for i := range 2 {
		w := repo.NewWriter(store.WriterOptions{})
		c, err := DialConsumer(ctx, url+"/flows", ConsumerOptions{Durable: "store", FetchMessages: 4, MaxWait: 200 * time.Millisecond,
			Commit: func([]string) error { return w.Flush() }})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			errs[i] = c.Run(cctx, w)
			if err := w.Close(); errs[i] == nil {
				errs[i] = err
			}
			stats[i] = c.Stats()
		}()
	}
	js := testenv.JetStream(t, url)
	testenv.NATSDrained(t, js, StreamName("flows"), "store", 60*time.Second)
	cancel()
	wg.Wait()
	for i := range 2 {
		t.Logf("collector %d: %+v", i, stats[i])
		if errs[i] != nil {
			t.Fatalf("collector %d: %v", i, errs[i])
		}
		if stats[i].Messages == 0 {
			t.Errorf("collector %d got no work", i)
		}
	}
	if stats[0].Messages+stats[1].Messages != ps.Messages {
		t.Errorf("collectors acked %d+%d messages, published %d", stats[0].Messages, stats[1].Messages, ps.Messages)
	}
	testenv.SameRecords(t, storetest.Records(t, repo.Root()), want)
}

// errCrash is what a crashed collector's sink reports.
var errCrash = errors.New("collector crashed")

// stagedSink models a sink whose writes become durable only at commit, like
// a store writer: a crash loses what was staged, never what was committed.
type stagedSink struct {
	mu        *sync.Mutex
	committed *[]flow.Record
	staged    []flow.Record
	batches   int
	crashAt   int        // crash in this WriteBatch (0: never)
	nc        *nats.Conn // closed at the crash: no ack, no nak ever leaves
}

func (s *stagedSink) WriteBatch(b []flow.Record) error {
	s.batches++
	s.staged = append(s.staged, b...)
	if s.batches == s.crashAt {
		s.nc.Close()
		s.staged = nil
		return errCrash
	}
	return nil
}

func (s *stagedSink) commit([]string) error {
	s.mu.Lock()
	*s.committed = append(*s.committed, s.staged...)
	s.mu.Unlock()
	s.staged = s.staged[:0]
	return nil
}

// TestCollectorCrash kills one of two collectors in the middle of a batch
// (its connection drops, its staged records are lost) and restarts it: the
// server redelivers the batch after AckWait, and every record is committed
// exactly once.
func TestCollectorCrash(t *testing.T) {
	url, _, want := publishDay(t, "site", PublisherOptions{Sensor: 9, MaxMessageSize: 4096})
	ctx := context.Background()
	var mu sync.Mutex
	var committed []flow.Record
	opts := ConsumerOptions{Durable: "crash", FetchMessages: 8, AckWait: 2 * time.Second, MaxWait: 200 * time.Millisecond}
	start := func(crashAt int) (*Consumer, *stagedSink) {
		s := &stagedSink{mu: &mu, committed: &committed, crashAt: crashAt}
		o := opts
		o.Commit = s.commit
		c, err := DialConsumer(ctx, url+"/site", o)
		if err != nil {
			t.Fatal(err)
		}
		s.nc = c.nc
		return c, s
	}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var total ConsumerStats
	var smu sync.Mutex
	run := func(c *Consumer, s *stagedSink) error {
		defer c.Close()
		err := c.Run(cctx, s)
		smu.Lock()
		st := c.Stats()
		total.Messages += st.Messages
		total.Redelivered += st.Redelivered
		smu.Unlock()
		return err
	}
	// Collector B runs all along, slowly, so that A's crash happens while
	// B still has work to share.
	b, bs := start(0)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := run(b, bs); err != nil {
			t.Errorf("collector B: %v", err)
		}
	}()
	a, as := start(3)
	if err := run(a, as); !errors.Is(err, errCrash) {
		t.Fatalf("collector A: %v, want the crash", err)
	}
	// Restart A with a new connection on the same durable consumer.
	a2, as2 := start(0)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := run(a2, as2); err != nil {
			t.Errorf("collector A (restarted): %v", err)
		}
	}()
	js := testenv.JetStream(t, url)
	testenv.NATSDrained(t, js, StreamName("site"), "crash", 60*time.Second)
	cancel()
	wg.Wait()
	t.Logf("acked %d messages, %d redelivered", total.Messages, total.Redelivered)
	if total.Redelivered == 0 {
		t.Errorf("the crashed batch was not redelivered")
	}
	testenv.SameRecords(t, committed, want)
}

// firstStall makes the first call of a sink's WriteBatch take stall.
type firstStall struct {
	stall  time.Duration
	called bool
}

func (f *firstStall) wait() {
	if !f.called {
		f.called = true
		time.Sleep(f.stall)
	}
}

// collectSink keeps what it is given.
type collectSink struct {
	mu  *sync.Mutex
	got *[]flow.Record
	firstStall
}

func (s *collectSink) WriteBatch(b []flow.Record) error {
	s.wait()
	s.mu.Lock()
	*s.got = append(*s.got, b...)
	s.mu.Unlock()
	return nil
}

// TestConsumerHoldsSlowBatch: a collector whose sink takes longer than
// AckWait over a batch keeps it (it tells the server the batch is in
// progress), so the other collector does not get it too: nothing is
// redelivered and every record arrives once.
func TestConsumerHoldsSlowBatch(t *testing.T) {
	url, _, want := publishDay(t, "hold", PublisherOptions{Sensor: 5, MaxMessageSize: 16384})
	opts := ConsumerOptions{Durable: "hold", FetchMessages: 2, AckWait: time.Second, MaxWait: 200 * time.Millisecond}
	var mu sync.Mutex
	var got []flow.Record
	slow := &collectSink{mu: &mu, got: &got, firstStall: firstStall{stall: 3500 * time.Millisecond}} // three AckWaits and a half
	stats := runSlowAndOther(t, url, "hold", opts, slow, &collectSink{mu: &mu, got: &got})
	t.Logf("slow collector %+v", stats[0])
	t.Logf("other collector %+v", stats[1])
	if stats[0].Batches == 0 {
		t.Errorf("the slow collector committed nothing")
	}
	if r := stats[0].Redelivered + stats[1].Redelivered; r != 0 {
		t.Errorf("%d messages redelivered, want none", r)
	}
	testenv.SameRecords(t, got, want)
}

// runSlowAndOther runs two collectors of subject on the durable consumer
// opts.Durable until the stream is drained: the first with sink slow, which
// fetches first, then one with sink other. It returns their stats.
func runSlowAndOther(t *testing.T, url, subject string, opts ConsumerOptions, slow, other flow.Sink) []ConsumerStats {
	t.Helper()
	ctx := context.Background()
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stats := make([]ConsumerStats, 2)
	for i, sink := range []flow.Sink{slow, other} {
		c, err := DialConsumer(ctx, url+"/"+subject, opts)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			time.Sleep(100 * time.Millisecond) // the slow one fetches first
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			if err := c.Run(cctx, sink); err != nil {
				t.Errorf("collector %d: %v", i, err)
			}
			stats[i] = c.Stats()
		}()
	}
	js := testenv.JetStream(t, url)
	testenv.NATSDrained(t, js, StreamName(subject), opts.Durable, 60*time.Second)
	cancel()
	wg.Wait()
	return stats
}
