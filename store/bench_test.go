package store

import (
	"io"
	"os"
	"sync/atomic"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
)

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// BenchmarkWriter encodes the corpus (records already in memory) into one
// store file: flows/s is ingest speed on one core, B/flow the file size.
func BenchmarkWriter(b *testing.B) {
	recs := corpus(b, "1000000")
	var size int64
	b.ResetTimer()
	cpu0 := testenv.CPUTime().Seconds()
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
	cpu := testenv.CPUTime().Seconds() - cpu0
	n := float64(len(recs))
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(n*float64(b.N)/cpu, "flows/cpu-s")
	b.ReportMetric(float64(size)/n, "B/flow")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRepoIngest writes the corpus into a repository partitioned by
// hour and flow type, with commits (fsync, rename): B/flow is the on-disk
// size of the repository the way import builds it. flows/cpu-s counts the
// CPU of every goroutine (the last blocks are encoded in parallel on
// commit) and of reading the files back for their sizes.
func BenchmarkRepoIngest(b *testing.B) {
	recs := corpus(b, "1000000")
	var total, bitmaps int64
	b.ResetTimer()
	cpu0 := testenv.CPUTime().Seconds()
	for b.Loop() {
		total, bitmaps, _ = repoSize(b, recs)
	}
	cpu := testenv.CPUTime().Seconds() - cpu0
	n := float64(len(recs))
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	b.ReportMetric(n*float64(b.N)/cpu, "flows/cpu-s")
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
	cpu0 := testenv.CPUTime().Seconds()
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
	cpu := testenv.CPUTime().Seconds() - cpu0
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(len(recs))*float64(b.N)/cpu, "records/cpu-s")
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
	cpu0 := testenv.CPUTime().Seconds()
	for b.Loop() {
		var rerr error
		for r := range f.Records(AllColumns, &rerr) {
			sum += r.Bytes
		}
		if rerr != nil {
			b.Fatal(rerr)
		}
	}
	cpu := testenv.CPUTime().Seconds() - cpu0
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(len(recs))*float64(b.N)/cpu, "records/cpu-s")
	b.ReportMetric(0, "ns/op")
	_ = io.Discard
}

// BenchmarkReadColumns decodes all columns of one file on one goroutine,
// per column group, to see where decode time goes.
func BenchmarkReadColumns(b *testing.B) {
	recs := corpus(b, "1000000")[:262144]
	data := writeFile(b, recs, 0)
	f, err := OpenBytes("bench", data)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		mask ColumnMask
	}{
		{"all", AllColumns},
		{"corpusfields", MaskOf(ColStart, ColEnd, ColSrc, ColDst, ColSrcPort, ColDstPort, ColProtocol, ColPackets, ColBytes, ColFlags)},
		{"time", MaskOf(ColStart, ColEnd)},
		{"addrs", MaskOf(ColSrc, ColDst)},
		{"ports", MaskOf(ColSrcPort, ColDstPort)},
		{"counters", MaskOf(ColPackets, ColBytes)},
		{"protoflags", MaskOf(ColProtocol, ColFlags)},
	} {
		b.Run(m.name, func(b *testing.B) {
			var cols Columns
			cpu0 := testenv.CPUTime().Seconds()
			for b.Loop() {
				for blk := 0; blk < f.NumBlocks(); blk++ {
					if err := f.ReadColumns(blk, m.mask, &cols); err != nil {
						b.Fatal(err)
					}
				}
			}
			cpu := testenv.CPUTime().Seconds() - cpu0
			b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(len(recs))*float64(b.N)/cpu, "records/cpu-s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkReadRepo reads every column of an existing repository named by
// FLOWKIT_REPO (for example one built by `flowkit import` from the 10 M
// corpus), in parallel over files and blocks.
func BenchmarkReadRepo(b *testing.B) {
	dir := os.Getenv("FLOWKIT_REPO")
	if dir == "" {
		b.Skip("set FLOWKIT_REPO to a repository")
	}
	repo, err := OpenRepo(dir)
	if err != nil {
		b.Fatal(err)
	}
	var rows atomic.Int64
	cpu0 := testenv.CPUTime().Seconds()
	for b.Loop() {
		rows.Store(0)
		if err := repo.Scan(Selection{}, AllColumns, 0, func(_ FileRef, _ *File, _ int, cols *Columns) error {
			rows.Add(int64(cols.Len))
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	cpu := testenv.CPUTime().Seconds() - cpu0
	n := float64(rows.Load()) * float64(b.N)
	b.ReportMetric(n/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(n/cpu, "records/cpu-s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPrefixClassifier classifies corpus records by the corpus's
// internal network (the flow type every record of an import gets).
func BenchmarkPrefixClassifier(b *testing.B) {
	recs := corpus(b, "1000000")[:100000]
	var n [8]int
	b.ResetTimer()
	for b.Loop() {
		for i := range recs {
			n[internal.Classify(&recs[i])&7]++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(recs)), "ns/record")
	b.ReportMetric(0, "ns/op")
}
