package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

var benchLine = regexp.MustCompile(`(?m)^BenchmarkDecode(\w+)-\d+\s+\d+\s+(\d+) ns/op\s+([\d.e+]+) records/s\s+(\d+) B/op\s+(\d+) allocs/op`)

// ipfixDecode runs the benchmarks module's Go benchmark: flowkit's IPFIX
// decoder and goflow2 v2's netflow decoder on the same messages (flowkit's
// encoder, corpus records, 1400-byte messages).
func ipfixDecode(e *env) ([]row, error) {
	benchtime := "3s"
	if e.quick {
		benchtime = "1s"
	}
	c := exec.Command("go", "test", "-run", "^$", "-bench", "^BenchmarkDecode", "-benchtime", benchtime, "-count", strconv.Itoa(e.runs), ".")
	c.Dir = filepath.Join(e.root, "benchmarks")
	c.Env = append(os.Environ(), "FLOWKIT_BENCH_CORPUS="+e.corpus)
	out, err := c.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench: %w\n%s", err, tail(out, 2000))
	}
	rates := map[string][]float64{}
	allocs := map[string]string{}
	for _, m := range benchLine.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[3]), 64)
		rates[string(m[1])] = append(rates[string(m[1])], v)
		allocs[string(m[1])] = fmt.Sprintf("%s B/op, %s allocs/op", m[4], m[5])
	}
	fk, gf := rates["Flowkit"], rates["Goflow2"]
	if len(fk) == 0 || len(gf) == 0 {
		return nil, fmt.Errorf("no benchmark lines in:\n%s", tail(out, 2000))
	}
	fkR, gfR := medianFloat(fk), medianFloat(gf)
	src := "synthetic corpus-like records"
	if e.corpus != "" {
		src = "the first 20,000 corpus flows"
	}
	// Time per million records, so that the table's ratio column reads as the others.
	perM := func(r float64) result {
		return result{median: time.Duration(1e6 / r * float64(time.Second)), runs: len(fk)}
	}
	return []row{{
		work:    fmt.Sprintf("IPFIX decode, time per 1 M records (flowkit %.1f M records/s, goflow2 %.2f M records/s)", fkR/1e6, gfR/1e6),
		flowkit: perM(fkR), peer: perM(gfR), peerName: "goflow2 v2.2.6 decoders/netflow",
		check: fmt.Sprintf("Go benchmark, same messages (%s, flowkit encoder, 1400 B); both decode exactly 20,000 records per pass; flowkit %s into a reused Record, goflow2 %s into its DataRecords (no protobuf mapping)", src, allocs["Flowkit"], allocs["Goflow2"]),
	}}, nil
}

func medianFloat(v []float64) float64 {
	d := make([]time.Duration, len(v))
	for i, x := range v {
		d[i] = time.Duration(x)
	}
	return float64(median(d))
}
