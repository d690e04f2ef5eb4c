package parquet

import (
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
)

// countingWriter counts the bytes of the file.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWrite exports the benchmark corpus (its first 1 M flows; the
// synthesizer's day without it) per codec and reports flows/s, flows per
// CPU-second (the process's, so other goroutines' work counts; steadier
// than flows/s on a shared machine) and the file's bytes/flow.
func BenchmarkWrite(b *testing.B) {
	recs := corpusOrDay(b)
	for _, c := range []struct {
		name string
		c    Compression
	}{{"zstd", Zstd}, {"snappy", Snappy}, {"none", Uncompressed}} {
		b.Run(c.name, func(b *testing.B) {
			var size int64
			b.ReportAllocs()
			start, cpu0 := time.Now(), testenv.CPUTime().Seconds()
			for range b.N {
				cw := &countingWriter{}
				w := NewWriter(cw, Options{Compression: c.c})
				for i := 0; i < len(recs); i += flow.DefaultBatchSize {
					if err := w.WriteBatch(recs[i:min(i+flow.DefaultBatchSize, len(recs))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				size = cw.n
			}
			el, cpu := time.Since(start), testenv.CPUTime().Seconds()-cpu0
			b.ReportMetric(float64(len(recs)*b.N)/el.Seconds(), "flows/s")
			b.ReportMetric(float64(size)/float64(len(recs)), "bytes/flow")
			b.ReportMetric(float64(el.Nanoseconds())/float64(len(recs)*b.N), "ns/flow")
			b.ReportMetric(float64(len(recs)*b.N)/cpu, "flows/cpu-s")
		})
	}
}

var benchCorpus []flow.Record

// corpusOrDay loads the records once per process.
func corpusOrDay(b *testing.B) []flow.Record {
	if benchCorpus == nil {
		b.Run("load", func(b *testing.B) {
			if benchCorpus == nil {
				benchCorpus = corpus(b, 1_000_000)
			}
		})
	}
	if benchCorpus == nil {
		benchCorpus = day(b)
	}
	return benchCorpus
}
