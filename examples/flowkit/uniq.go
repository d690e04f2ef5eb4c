package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"time"

	"github.com/flowkit/flowkit/query"
)

func init() {
	register("uniq", verb{
		summary: "group flows by fields and sum them (rwuniq, nfdump -A)",
		example: "flowkit uniq -r flows.txt -fields sip -values bytes,flows,distinct:dip",
		run:     runUniq,
	})
}

// qGroupFlags are the flags uniq and stats share.
type qGroupFlags struct {
	fields, values, pmap string
	timeBin              time.Duration
	res                  *qResultFlags
	memLimit             int64
}

func qAddGroupFlags(fs *flag.FlagSet, defValues string) *qGroupFlags {
	g := &qGroupFlags{}
	fs.StringVar(&g.fields, "fields", "sip", "key fields (sip,dip,sport,dport,proto,sensor,type,slabel,dlabel,stime,...)")
	fs.StringVar(&g.values, "values", defValues, "values: flows, packets, bytes, stime, etime, distinct:FIELD")
	fs.StringVar(&g.pmap, "pmap", "", "prefix map file (\"CIDR label\" lines) for slabel/dlabel keys")
	fs.DurationVar(&g.timeBin, "bin-time", 0, "round stime/etime keys down to this bin")
	g.res = qAddResultFlags(fs, "text (aligned columns), csv or json")
	fs.Int64Var(&g.memLimit, "mem-limit", 160<<20, "soft memory limit in bytes for the Go heap (0: none)")
	return g
}

// group reads the input into a Grouper, two workers merged.
func (g *qGroupFlags) group(in *qQueryInput) (*query.Grouper, []query.Value, error) {
	if err := qCheckOutputFormat(g.res.format); err != nil {
		return nil, nil, err
	}
	keys, err := query.ParseFields(g.fields)
	if err != nil {
		return nil, nil, qUsageErr(err)
	}
	vals, distinct, err := query.ParseValues(g.values)
	if err != nil {
		return nil, nil, qUsageErr(err)
	}
	spec := query.GroupSpec{Keys: keys, Distinct: distinct, TimeBin: g.timeBin}
	if g.pmap != "" {
		f, err := os.Open(g.pmap)
		if err != nil {
			return nil, nil, err
		}
		spec.Map, err = query.LoadPrefixMap(f)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
	}
	// Stay within the memory goal: collect sooner rather than let the
	// heap grow to twice what is live.
	if g.memLimit > 0 {
		debug.SetMemoryLimit(g.memLimit)
	}
	const workers = 2
	gs := make([]*query.Grouper, workers)
	for i := range gs {
		if gs[i], err = query.NewGrouper(spec); err != nil {
			return nil, nil, qUsageErr(err)
		}
	}
	// Decode only the columns of the keys and of the values shown.
	cols := slices.Concat(keys, distinct)
	for _, v := range vals {
		switch v {
		case query.ValPackets:
			cols = append(cols, query.Packets)
		case query.ValBytes:
			cols = append(cols, query.Bytes)
		case query.ValStart:
			cols = append(cols, query.Start)
		case query.ValEnd:
			cols = append(cols, query.End)
		}
	}
	need := query.ColumnsOf(cols...)
	if err := qAddAll(in, need, gs); err != nil {
		return nil, nil, err
	}
	for _, o := range gs[1:] {
		gs[0].Merge(o)
	}
	return gs[0], vals, nil
}

// qValueName is a value's column title.
func qValueName(v query.Value, spec query.GroupSpec) string {
	switch v {
	case query.ValFlows:
		return "Records"
	case query.ValPackets:
		return "Packets"
	case query.ValBytes:
		return "Bytes"
	case query.ValStart:
		return "sTime-Earliest"
	case query.ValEnd:
		return "eTime-Latest"
	}
	return "Distinct:" + spec.Distinct[v-query.ValDistinct].String()
}

// qValueText formats one aggregate value.
func qValueText(a *query.Aggregate, v query.Value) string {
	switch v {
	case query.ValStart:
		return qFormatTime(time.Unix(0, a.Start))
	case query.ValEnd:
		return qFormatTime(time.Unix(0, a.End))
	}
	return strconv.FormatUint(a.Get(v), 10)
}

// qKeyHeader returns the key columns' titles.
func qKeyHeader(g *query.Grouper) ([]string, []bool) {
	var h []string
	var right []bool
	for _, f := range g.Spec().Keys {
		h = append(h, f.String())
		right = append(right, !f.IsAddr() && !f.IsLabel() && !f.IsFlags())
	}
	return h, right
}

func runUniq(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("uniq", stderr)
	in := qAddQueryInput(fs)
	gf := qAddGroupFlags(fs, "flows")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	g, vals, err := gf.group(in)
	if err != nil {
		return err
	}
	t := &qTable{}
	t.header, t.right = qKeyHeader(g)
	for _, v := range vals {
		t.header = append(t.header, qValueName(v, g.Spec()))
		t.right = append(t.right, true)
	}
	groups := g.Groups()
	nk := len(g.Spec().Keys)
	t.n = len(groups)
	t.cell = func(i, j int, dst []byte) []byte {
		if j < nk {
			return g.AppendKey(dst, &groups[i], j)
		}
		return append(dst, qValueText(&groups[i].Aggregate, vals[j-nk])...)
	}
	if len(groups) == 0 && gf.res.format == "text" {
		fmt.Fprintln(stderr, "flowkit uniq: no flows")
	}
	return gf.res.write(stdout, t)
}
