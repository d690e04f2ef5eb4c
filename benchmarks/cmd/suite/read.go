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

var (
	readRate    = regexp.MustCompile(`(?m)^BenchmarkReadRepo-\d+\s.*?\s([\d.e+]+) records/s`)
	readCPURate = regexp.MustCompile(`(?m)^BenchmarkReadRepo-\d+\s.*?\s([\d.e+]+) records/cpu-s`)
)

// fullRead measures a full read of every column of the corpus's
// repository: the store's BenchmarkReadRepo (every column of every block
// decoded into column vectors, parallel over files and blocks on all
// cores) beside nfdump reading every record of its lz4 file, alternately.
func fullRead(e *env) ([]row, error) {
	if err := needData(e); err != nil {
		return nil, err
	}
	bin := filepath.Join(e.work, "store.test")
	build := exec.Command("go", "test", "-c", "-o", bin, "./store")
	build.Dir = e.root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go test -c ./store: %w\n%s", err, tail(out, 2000))
	}
	nf := command{
		argv: []string{"nfdump", "-r", e.nf["lz4"], "-o", "null", "-N"},
		check: func(out []byte) error {
			t, err := parseNfdumpSummary(out)
			if err == nil && t.flows != e.totals.flows {
				err = fmt.Errorf("nfdump read %d flows, the corpus has %d", t.flows, e.totals.flows)
			}
			return err
		},
	}
	var rates, cpuRates []float64
	var nfWalls []time.Duration
	var nfRSS int64
	for i := 0; i < e.runs; i++ {
		c := exec.Command(bin, "-test.run", "^$", "-test.bench", "^BenchmarkReadRepo$", "-test.benchtime", "5x")
		c.Dir = filepath.Join(e.root, "store")
		c.Env = append(os.Environ(), "FLOWKIT_REPO="+e.repo)
		out, err := c.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("BenchmarkReadRepo: %w\n%s", err, tail(out, 2000))
		}
		r, rc := readRate.FindSubmatch(out), readCPURate.FindSubmatch(out)
		if r == nil || rc == nil {
			return nil, fmt.Errorf("no BenchmarkReadRepo line in:\n%s", tail(out, 2000))
		}
		v, _ := strconv.ParseFloat(string(r[1]), 64)
		vc, _ := strconv.ParseFloat(string(rc[1]), 64)
		rates, cpuRates = append(rates, v), append(cpuRates, vc)
		s, err := runOnce(nf)
		if err != nil {
			return nil, err
		}
		nfWalls, nfRSS = append(nfWalls, s.wall), max(nfRSS, s.maxRSS)
	}
	rate, cpuRate := medianFloat(rates), medianFloat(cpuRates)
	n := float64(e.totals.flows)
	return []row{{
		work: fmt.Sprintf("full read of all columns, %d flows (flowkit %.1f M records/s, %.1f M records per CPU-second)",
			e.totals.flows, rate/1e6, cpuRate/1e6),
		flowkit:  result{median: time.Duration(n / rate * float64(time.Second)), runs: e.runs},
		peer:     result{median: median(nfWalls), maxRSS: nfRSS, runs: e.runs},
		peerName: "nfdump lz4 `-o null -N` (every record, whole process)",
		check:    fmt.Sprintf("flowkit: Go benchmark BenchmarkReadRepo on the repository of the corpus (every column of every block decoded into column vectors, 5 passes a run, all cores); nfdump read %d flows = corpus", e.totals.flows),
	}}, nil
}
