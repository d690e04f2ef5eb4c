package clickhouse

import (
	"context"
	"testing"
	"time"

	"github.com/flowkit/flowkit/internal/testenv"
)

// BenchmarkInsert writes flows through a Sink (default batch size) into
// one server's MergeTree table and reports flows/s (one op is one flow).
// The server runs on the same machine and shares its cores; use
// -benchtime 3000000x or more, so that the server's parts and merges
// weigh in.
func BenchmarkInsert(b *testing.B) {
	for _, bc := range []struct {
		name     string
		compress bool
		senders  int
		batch    int
	}{
		{"default", false, 0, 0}, // no compression, one sender, 262144 flows per INSERT
		{"lz4", true, 0, 0},
		{"senders=2", false, 2, 0},
		{"batch=65536", false, 0, 65536},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := startServers(b, 1)[0]
			ctx := context.Background()
			if err := CreateTable(ctx, srv.conn(), "flows"); err != nil {
				b.Fatal(err)
			}
			recs := benchRecords(1 << 18)
			sink, err := NewSink(ctx, Config{Addr: []string{srv.addr()}, Compress: bc.compress,
				Senders: bc.senders, BatchSize: bc.batch})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0, self0 := srv.cpuTime(b), testenv.CPUTime()
			b.ResetTimer()
			for i := 0; i < b.N; i += len(recs) {
				if err := sink.WriteBatch(recs[:min(len(recs), b.N-i)]); err != nil {
					b.Fatal(err)
				}
			}
			if err := sink.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			reportInsertRates(b, srv, cpu0, self0)
			sink.Close()
		})
	}
}

// reportInsertRates reports b.N flows per second of wall time, of the
// server's CPU time since cpu0 and of this process's since self0.
func reportInsertRates(b *testing.B, srv *server, cpu0, self0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	// The machine is shared: flows per second of the server's own
	// CPU time (merges included) is the figure that load does not
	// change much.
	b.ReportMetric(float64(b.N)/(srv.cpuTime(b)-cpu0).Seconds(), "flows/server-cpu-s")
	b.ReportMetric(float64(b.N)/(testenv.CPUTime()-self0).Seconds(), "flows/client-cpu-s")
}
