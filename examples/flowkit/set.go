package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

func init() {
	register("set", verb{
		summary: "build, combine and print IP sets (rwset, rwsettool, rwsetcat)",
		example: "flowkit set -r flows.txt -field sip -o sources.set; flowkit set -op difference -o new.set today.set yesterday.set; flowkit set -cat -cidr new.set",
		run:     runSet,
	})
}

func runSet(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("set", stderr)
	in := qAddQueryInput(fs)
	field := fs.String("field", "sip", "address to collect from flows: sip, dip, nhip or any (both ends)")
	out := fs.String("o", "", "write the set to this file (the binary IP set format)")
	op := fs.String("op", "", "combine the set files given as arguments: union, intersect or difference (first minus the rest)")
	cat := fs.Bool("cat", false, "print the addresses of the set files given as arguments (or of the built set)")
	cidr := fs.Bool("cidr", false, "with -cat, print CIDR blocks instead of addresses")
	count := fs.Bool("count", false, "print the number of addresses")
	files, err := qParseInterleaved(fs, args)
	if err != nil {
		return err
	}
	var set *query.IPSet
	switch {
	case *op != "":
		if len(files) == 0 {
			return qUsageErr(fmt.Errorf("-op %s needs set files as arguments", *op))
		}
		for i, name := range files {
			s, err := qReadSetFile(name)
			if err != nil {
				return err
			}
			if i == 0 {
				set = s
				continue
			}
			switch *op {
			case "union":
				set.Union(s)
			case "intersect", "intersection":
				set.Intersect(s)
			case "difference":
				set.Difference(s)
			default:
				return qUsageErr(fmt.Errorf("unknown -op %q: want union, intersect or difference", *op))
			}
		}
	case *cat && len(files) > 0:
		set = query.NewIPSet()
		for _, name := range files {
			s, err := qReadSetFile(name)
			if err != nil {
				return err
			}
			set.Union(s)
		}
	default:
		if len(files) > 0 {
			return qUsageErr(fmt.Errorf("unexpected arguments %q (set files go with -op or -cat)", files))
		}
		var fields []query.Field
		switch *field {
		case "any":
			fields = []query.Field{query.SrcAddr, query.DstAddr}
		default:
			f, err := query.ParseField(*field)
			if err != nil || !f.IsAddr() {
				return qUsageErr(fmt.Errorf("-field %q: want sip, dip, nhip or any", *field))
			}
			fields = []query.Field{f}
		}
		sets := []*query.IPSet{query.NewIPSet(), query.NewIPSet()}
		err := in.each(len(sets), query.ColumnsOf(fields...), func(w int, b []flow.Record) error {
			for i := range b {
				for _, f := range fields {
					sets[w].AddAddr(f.Addr(&b[i]))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		set = sets[0]
		set.Union(sets[1])
	}
	if *out != "" {
		if err := qWriteSetFile(*out, set); err != nil {
			return err
		}
	}
	bw := bufio.NewWriterSize(stdout, 1<<16)
	if *cat || (*out == "" && !*count) {
		if *cidr {
			for p := range set.Prefixes() {
				fmt.Fprintln(bw, p)
			}
		} else {
			for a := range set.All() {
				fmt.Fprintln(bw, a)
			}
		}
	}
	if *count {
		fmt.Fprintln(bw, set.Len())
	}
	return bw.Flush()
}

func qReadSetFile(name string) (*query.IPSet, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := query.ReadIPSet(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

func qWriteSetFile(name string, s *query.IPSet) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := s.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
