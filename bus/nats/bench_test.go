package nats

import (
	"context"
	"testing"
	"time"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/store"
)

// BenchmarkPublish publishes the synthesizer's day (66 k flows, reused
// round robin) in batches of 4096 records with the default options (64 KiB
// messages, 64 in flight) to a local JetStream stream on file storage,
// acknowledgements included. It reports flows/s and the publishing
// process's CPU time per flow (the server's is not counted), steadier than
// flows/s on a shared machine.
//
// Measured on 2 cores shared with other work (load 8 to 12): 1.3 to 2.5 M
// flows/s, 160 to 200 cpu-ns/flow in the publisher, mostly IPFIX encoding
// and socket writes; the publisher is busy a third of the time, the rest
// waits on the server. A window of 16 to 256 messages in flight makes no
// difference beyond the noise; 8 KiB messages are slower (more messages,
// acknowledgements and ids per flow).
func BenchmarkPublish(b *testing.B) {
	url := startServer(b)
	tr, err := synth.Generate(synth.Config{Seed: 11})
	if err != nil {
		b.Fatal(err)
	}
	recs := tr.Truth()
	flow.SortRecords(recs)
	const batch = 4096
	recs = recs[:len(recs)/batch*batch]
	pub, err := DialPublisher(context.Background(), url+"/bench", PublisherOptions{Sensor: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	b.ReportAllocs()
	cpu0 := testenv.CPUTime()
	b.ResetTimer()
	off := 0
	for range b.N {
		if err := pub.WriteBatch(recs[off : off+batch]); err != nil {
			b.Fatal(err)
		}
		off = (off + batch) % len(recs)
	}
	if err := pub.Flush(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st := pub.Stats()
	reportFlowRates(b, st.Records, cpu0)
	b.ReportMetric(float64(st.Bytes)/float64(st.Records), "B/flow")
}

// reportFlowRates reports n flows per second of the timed run and the
// process's CPU time per flow since cpu0 (steadier than flows/s on a
// shared machine).
func reportFlowRates(b *testing.B, n int64, cpu0 time.Duration) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(testenv.CPUTime()-cpu0)/float64(n), "cpu-ns/flow")
}

// publishFlows starts a JetStream server and publishes n flows (the
// synthesizer's ground truth, repeated) to subject, untimed. It returns
// the server's URL.
func publishFlows(b *testing.B, subject string, n int) string {
	b.Helper()
	url := startServer(b)
	tr, err := synth.Generate(synth.Config{Seed: 11})
	if err != nil {
		b.Fatal(err)
	}
	recs := tr.Truth()
	pub, err := DialPublisher(context.Background(), url+"/"+subject, PublisherOptions{Sensor: 1})
	if err != nil {
		b.Fatal(err)
	}
	for left := n; left > 0; {
		k := min(left, len(recs))
		if err := pub.WriteBatch(recs[:k]); err != nil {
			b.Fatal(err)
		}
		left -= k
	}
	if err := pub.Close(); err != nil {
		b.Fatal(err)
	}
	return url
}

// discard counts the records it is given.
type discard struct{ n int }

func (d *discard) WriteBatch(b []flow.Record) error { d.n += len(b); return nil }

// BenchmarkConsume measures a collector's side: b.N flows are published
// first (not timed), then one Consumer with the default options fetches,
// decodes and acknowledges them into a sink that only counts. It reports
// flows/s and the process's CPU time per flow.
func BenchmarkConsume(b *testing.B) {
	url := publishFlows(b, "bench", b.N)
	ctx := context.Background()
	c, err := DialConsumer(ctx, url+"/bench", ConsumerOptions{MaxWait: 100 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var sink discard
	cpu0 := testenv.CPUTime()
	b.ResetTimer()
	for sink.n < b.N {
		if _, err := c.Once(ctx, &sink); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if sink.n != b.N {
		b.Fatalf("consumed %d flows, published %d", sink.n, b.N)
	}
	reportFlowRates(b, int64(sink.n), cpu0)
}

// BenchmarkConsumeRepo is BenchmarkConsume into a store repository: a plain
// Writer whose Flush is the commit hook (at least once), and a RepoSink
// (exactly once: the batch is flushed into a stage, a commit record is
// written, and the files are renamed into place). The difference is the
// price of exactness: per batch two more fsyncs (the commit record and its
// directory; the stage's partition directories are fsynced as the
// writer's are, the repository's only when Forget drops the records, every
// 16 batches), the renames, and a listing of the commit records.
//
// Measured with -benchtime 1000000x (19 batches of 52 k flows), 4 runs
// alternating on 2 cores shared with other work (load 8): writer 1460 to
// 1650 cpu-ns/flow, exact 1450 to 1970; flows/s (250 k to 550 k) varied
// more from run to run than between the two.
func BenchmarkConsumeRepo(b *testing.B) {
	for _, kind := range []string{"writer", "exact"} {
		b.Run(kind, func(b *testing.B) {
			url := publishFlows(b, "bench", b.N)
			ctx := context.Background()
			root := b.TempDir()
			var sink flow.Sink
			opts := ConsumerOptions{MaxWait: 100 * time.Millisecond}
			if kind == "writer" {
				repo, err := store.OpenRepo(root)
				if err != nil {
					b.Fatal(err)
				}
				w := repo.NewWriter(store.WriterOptions{})
				opts.Commit = func([]string) error { return w.Flush() }
				sink = w
			} else {
				rs, err := OpenRepoSink(root, StreamName("bench"), "flowkit.0", store.WriterOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer rs.Close()
				sink = rs
			}
			c, err := DialConsumer(ctx, url+"/bench", opts)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			cpu0 := testenv.CPUTime()
			b.ResetTimer()
			for c.Stats().Records < int64(b.N) {
				if _, err := c.Once(ctx, sink); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			st := c.Stats()
			reportFlowRates(b, st.Records, cpu0)
			b.ReportMetric(float64(st.Records)/float64(st.Batches), "flows/batch")
		})
	}
}
