package flow

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowkit/flowkit/timeouts"
)

var errSinkFull = errors.New("sink full")

// failOnceSink fails its second WriteBatch call and accepts the others.
type failOnceSink struct{ calls int }

func (s *failOnceSink) WriteBatch(b []Record) error {
	s.calls++
	if s.calls == 2 {
		return errSinkFull
	}
	return nil
}

// TestTableSinkErrorReachesCaller checks that a sink error met by a worker
// is returned by exactly one later call, whatever the number of workers.
func TestTableSinkErrorReachesCaller(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cfg := timeouts.Config{Idle: 5 * time.Second, Active: 30 * time.Second, Grace: time.Second}
	pkts := randomTraffic(rng, 20000, 40)
	for _, workers := range []int{1, 2, 3} {
		var sink failOnceSink
		tab, err := NewTable(TableConfig{Timeouts: cfg, Workers: workers, Sink: &sink})
		if err != nil {
			t.Fatal(err)
		}
		failed := 0
		check := func(err error) {
			if err != nil {
				if !errors.Is(err, errSinkFull) {
					t.Fatalf("workers=%d: %v", workers, err)
				}
				failed++
			}
		}
		for i := 0; i < len(pkts); i += 500 {
			check(tab.Add(pkts[i:min(i+500, len(pkts))]))
			if i%5000 == 0 {
				check(tab.Advance(pkts[i].Time))
			}
		}
		check(tab.Close())
		if sink.calls < 2 || failed != 1 {
			t.Errorf("workers=%d: %d sink calls, %d calls returned the error, want 1", workers, sink.calls, failed)
		}
		if err := tab.Add(pkts[:1]); !errors.Is(err, ErrTableClosed) {
			t.Errorf("workers=%d: Add after Close: %v", workers, err)
		}
	}
}

// TestTableWorkersStats checks that Stats and Clock, read between Adds of
// batches of many sizes, agree with a table of one shard.
func TestTableWorkersStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cfg := timeouts.Config{Idle: 20 * time.Second, Active: 60 * time.Second, Grace: time.Second}
	pkts := randomTraffic(rng, 30000, 60)
	one, err := NewTable(TableConfig{Timeouts: cfg, Sink: &discardSink{}})
	if err != nil {
		t.Fatal(err)
	}
	two, err := NewTable(TableConfig{Timeouts: cfg, Workers: 2, Sink: &discardSink{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 7, prefetchGroup - 1, prefetchGroup + 1, DefaultBatchSize, 3*DefaultBatchSize + 5, 100, 2} {
		part := pkts[:n]
		pkts = pkts[n:]
		if err := one.Add(part); err != nil {
			t.Fatal(err)
		}
		if err := two.Add(part); err != nil {
			t.Fatal(err)
		}
		if a, b := one.Clock(), two.Clock(); a != b {
			t.Fatalf("after %d packets: clock %d, want %d", n, b, a)
		}
		if a, b := one.Stats(), two.Stats(); a != b {
			t.Fatalf("after %d packets: stats %+v, want %+v", n, b, a)
		}
	}
	one.Close()
	two.Close()
	if a, b := one.Stats(), two.Stats(); a != b || a.ActiveFlows != 0 {
		t.Fatalf("after Close: stats %+v, want %+v", b, a)
	}
}

// TestTableWorkersAddAllocatesNothing checks that metering known flows
// with workers allocates nothing per batch.
func TestTableWorkersAddAllocatesNothing(t *testing.T) {
	pkts := benchStream(4*DefaultBatchSize, 500)
	tab, err := NewTable(TableConfig{Timeouts: timeouts.Default(), Workers: 2, Sink: &discardSink{}})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	tab.Add(pkts)
	tab.Stats()
	allocs := testing.AllocsPerRun(20, func() {
		for i := 0; i < len(pkts); i += DefaultBatchSize {
			tab.Add(pkts[i : i+DefaultBatchSize])
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run", allocs)
	}
}

// TestHandoffSleepAndWake checks both ways a hand-over ends: a post that
// comes while the waiter spins, and one that comes after it went to sleep
// (the posts here wait longer than the spin). With several posters, the
// waiter returns only once all have posted.
func TestHandoffSleepAndWake(t *testing.T) {
	var h handoff
	h.init()
	const posters, rounds = 3, 20
	var target uint64
	for r := range rounds {
		for range posters {
			go func() {
				if r%2 == 1 {
					time.Sleep(2 * time.Millisecond)
				}
				h.post()
			}()
		}
		target += posters
		h.wait(target)
		if n := h.n.Load(); n < target {
			t.Fatalf("round %d: wait returned at %d posts, want %d", r, n, target)
		}
	}
	// Every wake-up sent was taken: none is left over to end a later
	// sleep early.
	if n := len(h.wake); n != 0 {
		t.Fatalf("%d wake-ups left in the channel", n)
	}
}

// TestTableWorkersSleepBetweenBatches checks that a table with workers
// gives a one-shard table's records when the caller pauses between
// batches long enough for the workers to go to sleep.
func TestTableWorkersSleepBetweenBatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cfg := timeouts.Config{Idle: 5 * time.Second, Active: 30 * time.Second, Grace: time.Second}
	pkts := randomTraffic(rng, 3000, 30)
	var one, two SliceSink
	t1, err := NewTable(TableConfig{Timeouts: cfg, Sink: &one})
	if err != nil {
		t.Fatal(err)
	}
	t2, err := NewTable(TableConfig{Timeouts: cfg, Workers: 2, Sink: &two})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(pkts); i += 500 {
		part := pkts[i:min(i+500, len(pkts))]
		if err := t1.Add(part); err != nil {
			t.Fatal(err)
		}
		if err := t2.Add(part); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Millisecond)
	}
	t1.Close()
	t2.Close()
	SortRecords(one.Recs)
	SortRecords(two.Recs)
	if len(one.Recs) == 0 {
		t.Fatal("no records")
	}
	if d := diffRecords(two.Recs, one.Recs); d != "" {
		t.Fatalf("2 workers against 1: %s", d)
	}
}
