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
