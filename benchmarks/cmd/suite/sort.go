package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
)

// sortByStart times `flowkit sort -fields stime` over the repository into
// an IPFIX file, what rwsort --fields=stime does with a SiLK file, and
// checks that the output holds every corpus flow in start order. No peer
// runs here: nfdump 1.7 sorts only what it prints, so rwsort's figure from
// REFERENCE.md stands beside it as context.
func sortByStart(e *env) ([]row, error) {
	if err := needData(e); err != nil {
		return nil, err
	}
	out := filepath.Join(e.work, "sorted.ipfix")
	defer os.Remove(out)
	res, err := measure(command{
		argv: []string{e.flowkit, "sort", "-repo", e.repo, "-fields", "stime", "-w", out},
		check: func([]byte) error {
			n, err := checkSortedIPFIX(out)
			if err != nil {
				return err
			}
			if n != e.totals.flows {
				return fmt.Errorf("%d records sorted, the corpus has %d", n, e.totals.flows)
			}
			return nil
		},
	}, e.runs)
	if err != nil {
		return nil, err
	}
	return []row{{
		work: fmt.Sprintf("sort %d flows by start time into a file", e.flows), flowkit: res, peerName: "-",
		check: fmt.Sprintf("all %d flows, start times never decrease (read back with flowkit's IPFIX reader); SiLK rwsort --fields=stime 6.47 s for 10 M (context)", e.totals.flows),
	}}, nil
}

// checkSortedIPFIX reads an IPFIX file and returns its record count, or an
// error at the first record that starts before the one before it.
func checkSortedIPFIX(path string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := ipfix.NewFileReader(bufio.NewReaderSize(f, 1<<20))
	buf := make([]flow.Record, flow.DefaultBatchSize)
	var n uint64
	last := int64(-1 << 63)
	for {
		k, err := r.ReadBatch(buf)
		for i := range buf[:k] {
			if buf[i].Start < last {
				return n, fmt.Errorf("record %d starts before the one before it", n+uint64(i))
			}
			last = buf[i].Start
		}
		n += uint64(k)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
