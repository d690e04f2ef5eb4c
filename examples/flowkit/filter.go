package main

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

func init() {
	register("filter", verb{
		summary: "select flows matching an expression (rwfilter, nfdump -R ... EXPR)",
		example: "flowkit filter -r flows.txt 'proto tcp and dst port 22' -count\n" +
			"  flowkit filter -r flows.txt 'proto tcp' -w - | flowkit stats -fields dport -values bytes   # binary pipeline\n" +
			"  flowkit filter -r flows.txt 'bytes > 10k' -format text -fail small.txt",
		run: runFilter,
	})
}

func runFilter(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("filter", stderr)
	in := qAddQueryInput(fs)
	count := fs.Bool("count", false, "print only the number of matching flows")
	passFile := fs.String("w", "-", "write matching flows here (- is stdout): binary IPFIX that every verb reads with -r, a store file for a name ending in .fkb, or text with -format")
	failFile := fs.String("fail", "", "write the flows that do not match here (same format as -w)")
	format := fs.String("format", "", qRecordFormatUsage)
	pos, err := qParseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want one expression (quote it), got %d arguments", errUsage, len(pos))
	}
	if err := qCheckRecordFormat(*format); err != nil {
		return err
	}
	pred, err := query.Parse(pos[0], nil)
	if err != nil {
		return err
	}
	if in.repo != "" {
		return filterRepo(in, pred, *count, *passFile, *failFile, *format, stdout)
	}
	if *count && *failFile == "" {
		var counts [2]int64
		ms := [2]*query.Matcher{query.NewMatcher(pred), query.NewMatcher(pred)}
		var sels [2]query.Bits
		err := in.each(2, 0, func(w int, b []flow.Record) error {
			sels[w] = ms[w].Select(b, sels[w])
			counts[w] += int64(sels[w].Count())
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, counts[0]+counts[1])
		return nil
	}
	src, done, err := in.open()
	if err != nil {
		return err
	}
	defer done()
	pred = in.restrict(pred)
	if in.selErr != nil {
		return qUsageErr(in.selErr)
	}
	var pass, fail *qRecordOut
	if !*count {
		if pass, err = qOpenRecordOut(*passFile, *format, stdout); err != nil {
			return err
		}
	}
	if *failFile != "" {
		if fail, err = qOpenRecordOut(*failFile, *format, stdout); err != nil {
			return err
		}
	}
	st, err := query.Filter(context.Background(), src, pred, pass.sink(), fail.sink())
	if err != nil {
		return err
	}
	if err := pass.close(); err != nil {
		return err
	}
	if err := fail.close(); err != nil {
		return err
	}
	if *count {
		fmt.Fprintln(stdout, st.Passed)
	}
	return nil
}

// filterRepo is filter over -repo: counts come from the planner (often
// from the indexes alone); records are written in file order.
func filterRepo(in *qQueryInput, pred query.Pred, count bool, passFile, failFile, format string, stdout io.Writer) error {
	sel := in.restrict(pred)
	if in.selErr != nil {
		return qUsageErr(in.selErr)
	}
	if count && failFile == "" {
		var n atomic.Int64
		if _, err := in.scan(sel, 0, 0, func(_ int, m *query.BlockMatch) error {
			n.Add(int64(m.Count))
			return nil
		}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, n.Load())
		return nil
	}
	write := func(p query.Pred, name string) (int64, error) {
		src, done, err := in.repoSource(p)
		if err != nil {
			return 0, err
		}
		defer done()
		var sink flow.Sink = qDiscard{}
		var out *qRecordOut
		if name != "" {
			if out, err = qOpenRecordOut(name, format, stdout); err != nil {
				return 0, err
			}
			sink = out.sink()
		}
		n, err := flow.Copy(sink, src)
		if err != nil {
			return n, err
		}
		return n, out.close()
	}
	if failFile != "" {
		if _, err := write(query.Not{P: pred}, failFile); err != nil {
			return err
		}
	}
	name := passFile
	if count {
		name = ""
	}
	n, err := write(pred, name)
	if err != nil {
		return err
	}
	if count {
		fmt.Fprintln(stdout, n)
	}
	return nil
}

// qDiscard is a sink that drops records.
type qDiscard struct{}

func (qDiscard) WriteBatch([]flow.Record) error { return nil }
