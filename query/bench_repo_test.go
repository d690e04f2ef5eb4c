package query

import (
	"context"
	"os"
	"sync/atomic"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/store"
)

// BenchmarkScanRepoCount counts the flows of the benchmark suite's
// selective filters over an existing repository named by FLOWKIT_REPO
// (for example one `flowkit import` built from the 10 M corpus), the way
// `flowkit filter -repo DIR -count EXPR` does.
func BenchmarkScanRepoCount(b *testing.B) {
	dir := os.Getenv("FLOWKIT_REPO")
	if dir == "" {
		b.Skip("set FLOWKIT_REPO to a repository")
	}
	repo, err := store.OpenRepo(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, expr string }{
		{"srcip", "src ip 10.0.5.7"},
		{"host", "host 10.0.5.7"},
		{"netport", "(src net 10.0.0.0/24 or dst net 10.0.0.0/24) and dst port 443"},
		{"tcp22", "proto tcp and dst port 22"},
		{"bytes", "bytes > 999999"},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := MustParse(c.expr)
			var n atomic.Int64
			var st ScanStats
			cpu0 := testenv.CPUTime().Seconds()
			for b.Loop() {
				n.Store(0)
				st, err = ScanStore(context.Background(), repo, store.Selection{}, p, 0, 0, func(_ int, m *BlockMatch) error {
					n.Add(int64(m.Count))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((testenv.CPUTime().Seconds()-cpu0)/float64(b.N)*1e3, "cpu-ms/op")
			b.ReportMetric(float64(n.Load()), "matched")
			b.ReportMetric(float64(st.Decoded), "decoded")
			b.ReportMetric(float64(st.Blocks), "blocks")
		})
	}
}
