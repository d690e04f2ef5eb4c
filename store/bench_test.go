package store

import (
	"io"
	"sync/atomic"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWriter encodes the corpus (records already in memory) into one
// store file: flows/s is ingest speed on one core, B/flow the file size.
func BenchmarkWriter(b *testing.B) {
	recs := corpus(b, "1000000")
	var size int64
	b.ResetTimer()
	for b.Loop() {
		cw := &countWriter{}
		w := NewFileWriter(cw, 0)
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
	n := float64(len(recs))
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(size)/n, "B/flow")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRepoIngest writes the corpus into a repository partitioned by
// hour and flow type, with commits (fsync, rename): B/flow is the on-disk
// size of the repository the way import builds it.
func BenchmarkRepoIngest(b *testing.B) {
	recs := corpus(b, "1000000")
	var total, bitmaps int64
	b.ResetTimer()
	for b.Loop() {
		total, bitmaps, _ = repoSize(b, recs)
	}
	n := float64(len(recs))
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(float64(total)/n, "B/flow")
	b.ReportMetric(float64(bitmaps)/n, "bitmapB/flow")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkReadAll decodes every column of every block of a repository
// holding the corpus, in parallel over files and blocks.
func BenchmarkReadAll(b *testing.B) {
	recs := corpus(b, "1000000")
	repo, err := OpenRepo(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	w := repo.NewWriter(WriterOptions{Classifier: internal, MaxBuffered: 8 << 20})
	if err := w.WriteBatch(recs); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var rows atomic.Int64
	for b.Loop() {
		rows.Store(0)
		err := repo.Scan(Selection{}, AllColumns, 0, func(_ FileRef, _ *File, _ int, cols *Columns) error {
			rows.Add(int64(cols.Len))
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if rows.Load() != int64(len(recs)) {
		b.Fatalf("read %d rows of %d", rows.Load(), len(recs))
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRecords iterates records one at a time over one file.
func BenchmarkRecords(b *testing.B) {
	recs := corpus(b, "1000000")[:200000]
	f, err := OpenBytes("bench", writeFile(b, recs, 0))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var sum uint64
	for b.Loop() {
		var rerr error
		for r := range f.Records(AllColumns, &rerr) {
			sum += r.Bytes
		}
		if rerr != nil {
			b.Fatal(rerr)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(0, "ns/op")
	_ = io.Discard
}
