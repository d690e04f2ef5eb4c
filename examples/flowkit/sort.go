package main

import (
	"io"
	"os"
	"runtime/debug"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

func init() {
	register("sort", verb{
		summary: "sort flows by fields, spilling to disk beyond a memory budget (rwsort)",
		example: "flowkit sort -r flows.txt -fields stime -w sorted.ipfix; flowkit sort -r sorted.ipfix -fields bytes -reverse -format text",
		run:     runSort,
	})
}

func runSort(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sort", stderr)
	in := qAddQueryInput(fs)
	fieldList := fs.String("fields", "stime", "sort keys, most significant first")
	reverse := fs.Bool("reverse", false, "sort in descending order")
	budget := fs.Int64("buffer", 512<<20, "memory budget in bytes before sorted runs spill to disk")
	tmp := fs.String("tmp", "", "directory for spilled runs (default: the system's)")
	out := fs.String("w", "-", "write sorted flows here (- is stdout): binary IPFIX that every verb reads with -r, a store file for a name ending in .fkb, or text with -format")
	format := fs.String("format", "", qRecordFormatUsage)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := qCheckRecordFormat(*format); err != nil {
		return err
	}
	keys, err := query.ParseFields(*fieldList)
	if err != nil {
		return qUsageErr(err)
	}
	// Keep the garbage collector close to the budget: records are big
	// and the default lets the heap grow to twice what is live.
	debug.SetMemoryLimit(*budget*3/2 + 256<<20)
	if in.repo != "" && keys[0] == query.Start {
		// rwsort --fields=stime over a repository: an hour at a time.
		o, err := qOpenRecordOut(*out, *format, stdout)
		if err != nil {
			return err
		}
		newSorter := func() *query.Sorter { return query.NewSorter(keys, *reverse, *budget/2, *tmp) }
		if err := sortRepoByHour(in, newSorter, *reverse, o.sink()); err != nil {
			o.close()
			if *out != "-" {
				os.Remove(*out) // no half-sorted file left behind
			}
			return err
		}
		return o.close()
	}
	src, done, err := in.source()
	if err != nil {
		return err
	}
	defer done()
	s := query.NewSorter(keys, *reverse, *budget, *tmp)
	defer s.Close()
	if _, err := flow.Copy(s, src); err != nil {
		return err
	}
	o, err := qOpenRecordOut(*out, *format, stdout)
	if err != nil {
		return err
	}
	if err := s.Output(o.sink()); err != nil {
		return err
	}
	return o.close()
}
