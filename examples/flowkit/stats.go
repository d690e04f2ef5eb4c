package main

import (
	"io"
	"strconv"
)

func init() {
	register("stats", verb{
		summary: "top or bottom N groups by a value, with percentages (rwstats, nfdump -s)",
		example: "flowkit stats -r flows.txt -fields dport -values bytes -top 10",
		run:     runStats,
	})
}

func runStats(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stats", stderr)
	in := qAddQueryInput(fs)
	gf := qAddGroupFlags(fs, "flows")
	top := fs.Int("top", 10, "show the N largest groups by the first value")
	bottom := fs.Int("bottom", 0, "show the N smallest groups instead")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	g, vals, err := gf.group(in)
	if err != nil {
		return err
	}
	n, low := *top, false
	if *bottom > 0 {
		n, low = *bottom, true
	}
	by := vals[0]
	ranked := g.Top(by, n, low)
	t := &qTable{}
	t.header, t.right = qKeyHeader(g)
	for _, v := range vals {
		t.header = append(t.header, qValueName(v, g.Spec()))
		t.right = append(t.right, true)
	}
	t.header = append(t.header, "%"+qValueName(by, g.Spec()), "cumul_%")
	t.right = append(t.right, true, true)
	var buf []byte
	for _, r := range ranked {
		row := make([]string, 0, len(t.header))
		for k := range g.Spec().Keys {
			buf = g.AppendKey(buf[:0], r.Group, k)
			row = append(row, string(buf))
		}
		for _, v := range vals {
			row = append(row, qValueText(&r.Aggregate, v))
		}
		row = append(row, strconv.FormatFloat(r.Percent, 'f', 6, 64), strconv.FormatFloat(r.Cumulative, 'f', 6, 64))
		t.add(row...)
	}
	return gf.res.write(stdout, t)
}
