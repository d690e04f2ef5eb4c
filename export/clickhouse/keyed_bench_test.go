package clickhouse

import (
	"context"
	"strconv"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"
)

// BenchmarkInsertKeyed writes flows as keyed messages of 600 flows (about
// a 64 KiB IPFIX message) through a Sink into one server's MergeTree
// table, the way a NATS collector does, and reports flows/s (one op is one
// flow). With redelivered=true every INSERT first asks the table for its
// ids: the cost of the check, which scans insert_id and stime over the
// INSERT's hours, after a collector crash. Use -benchtime 1000000x or more.
//
// Measured (go test -run XXX -bench 'InsertKeyed|Insert/default'
// -benchtime 1000000x -count 2, loaded 2-core machine): keyed writes
// without redelivery 0.54-0.58 M flows/s, 1.64-1.73 M flows per client
// CPU-s, like plain WriteBatch (0.42-0.57 M, 1.47-1.74 M); every INSERT
// checked: 0.39-0.40 M flows/s, 0.87-0.89 M flows per client CPU-s (the
// per-row id and day count), server 0.70-0.75 M flows per CPU-s against
// 0.82-0.88 M.
func BenchmarkInsertKeyed(b *testing.B) {
	for _, redelivered := range []bool{false, true} {
		b.Run("redelivered="+strconv.FormatBool(redelivered), func(b *testing.B) {
			srv := startServers(b, 1)[0]
			ctx := context.Background()
			if err := CreateTable(ctx, srv.conn(), "flows"); err != nil {
				b.Fatal(err)
			}
			recs := benchRecords(1 << 18)
			sink, err := NewSink(ctx, Config{Addr: []string{srv.addr()}})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0, self0 := srv.cpuTime(b), testenv.CPUTime()
			b.ResetTimer()
			const msg = 600
			for i, m := 0, 0; i < b.N; m++ {
				j := i % len(recs)
				n := min(msg, b.N-i, len(recs)-j)
				if err := sink.WriteKeyed("bench-"+strconv.Itoa(m), redelivered, recs[j:j+n]); err != nil {
					b.Fatal(err)
				}
				i += n
			}
			if err := sink.Flush(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			reportInsertRates(b, srv, cpu0, self0)
			if st := sink.Stats(); redelivered && st.Rechecked == 0 {
				b.Errorf("no INSERT was checked: %+v", st)
			}
			sink.Close()
		})
	}
}
