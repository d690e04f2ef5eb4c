package flowtext

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// corpusLines returns n lines of the benchmark corpus, from gen_flows.py.
func corpusLines(b *testing.B, n string) []byte {
	b.Helper()
	script := corpusScript(b)
	out, err := exec.Command("python3", script, "-n", n, "-o", "-").Output()
	if err != nil {
		b.Skipf("gen_flows.py: %v", err)
	}
	return out
}

// BenchmarkReadCorpus parses corpus lines; lines/s is the figure to compare
// with the 10 M-line goal.
func BenchmarkReadCorpus(b *testing.B) {
	data := corpusLines(b, "200000")
	lines := bytes.Count(data, []byte{'\n'})
	buf := make([]flow.Record, flow.DefaultBatchSize)
	rd := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rd.Reset(data)
		r := NewReader(rd, DefaultFields, Text)
		for {
			if _, err := r.ReadBatch(buf); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkReadCorpusFile reads a whole corpus file named by
// FLOWKIT_CORPUS (e.g. the 10 M-line output of gen_flows.py) from disk.
func BenchmarkReadCorpusFile(b *testing.B) {
	path := os.Getenv("FLOWKIT_CORPUS")
	if path == "" {
		b.Skip("set FLOWKIT_CORPUS to a gen_flows.py output file")
	}
	buf := make([]flow.Record, flow.DefaultBatchSize)
	var lines int64
	for b.Loop() {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := NewReader(f, DefaultFields, Text)
		lines = 0
		for {
			n, err := r.ReadBatch(buf)
			lines += int64(n)
			if err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
		f.Close()
	}
	b.ReportMetric(float64(lines), "lines")
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkWrite prints corpus records in the default layout.
func BenchmarkWrite(b *testing.B) {
	data := corpusLines(b, "100000")
	var recs []flow.Record
	var err error
	for r := range flow.Records(NewReader(bytes.NewReader(data), nil, Text), &err) {
		recs = append(recs, r)
	}
	w := NewWriter(io.Discard, nil, Text)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := w.WriteBatch(recs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
