package main

import (
	"io"
	"strconv"
	"time"

	"github.com/flowkit/flowkit/query"
)

func init() {
	register("count", verb{
		summary: "records, bytes and packets per time bin (rwcount)",
		example: "flowkit count -r flows.txt -bin 300s -load spread",
		run:     runCount,
	})
}

func runCount(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("count", stderr)
	in := qAddQueryInput(fs)
	bin := fs.Duration("bin", 300*time.Second, "bin size")
	load := fs.String("load", "start", "where a flow's volume lands: start, end, middle, spread (evenly over its bins) or proportional (to its time in each bin)")
	skipZero := fs.Bool("skip-zeroes", false, "omit empty bins")
	res := qAddResultFlags(fs, "text (aligned columns), csv or json")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	scheme, err := query.ParseLoadScheme(*load)
	if err != nil {
		return qUsageErr(err)
	}
	if *bin <= 0 {
		return qUsageErr(qErrString("-bin must be positive"))
	}
	if err := qCheckOutputFormat(res.format); err != nil {
		return err
	}
	workers := 2
	counters := make([]*query.Counter, workers)
	for i := range counters {
		counters[i] = query.NewCounter(*bin, scheme)
	}
	need := query.ColumnsOf(query.Start, query.End, query.Bytes, query.Packets)
	if scheme == query.LoadStart {
		need = query.ColumnsOf(query.Start, query.Bytes, query.Packets) // no End to decode
	}
	if err := qAddAll(in, need, counters); err != nil {
		return err
	}
	for _, c := range counters[1:] {
		counters[0].Merge(c)
	}
	t := &qTable{header: []string{"Date", "Records", "Bytes", "Packets"}, right: []bool{false, true, true, true}}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
	var prev time.Time
	for i, b := range counters[0].Bins() {
		if !*skipZero && i > 0 {
			for z := prev.Add(*bin); z.Before(b.Start); z = z.Add(*bin) {
				t.add(qFormatTime(z), "0.00", "0.00", "0.00")
			}
		}
		prev = b.Start
		t.add(qFormatTime(b.Start), f(b.Records), f(b.Bytes), f(b.Packets))
	}
	return res.write(stdout, t)
}

type qErrString string

func (e qErrString) Error() string { return string(e) }
