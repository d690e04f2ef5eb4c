package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// needData is the error of a section that runs without the data section's files.
func needData(e *env) error {
	if e.repo == "" || e.nf == nil {
		return fmt.Errorf("no data: the data section failed")
	}
	return nil
}

// bytesPerFlow compares the repository's size with nfdump's files.
func bytesPerFlow(e *env) ([]row, error) {
	if err := needData(e); err != nil {
		return nil, err
	}
	size, err := dirSize(e.repo)
	if err != nil {
		return nil, err
	}
	fk := float64(size) / float64(e.totals.flows)
	var rows []row
	for _, c := range []string{"lz4", "lzo", "bz2"} {
		n, err := dirSize(e.nf[c])
		if err != nil {
			return nil, err
		}
		rows = append(rows, row{
			work: "bytes per flow on disk", unit: "B/flow", flowkitV: fk, peerV: float64(n) / float64(e.totals.flows),
			peerName: "nfdump " + c, check: fmt.Sprintf("both hold the %d corpus flows (flowkit info, nfdump summary); flowkit: whole repository, indexes included", e.totals.flows),
		})
	}
	return rows, nil
}

// filterCase is one selective query in both languages with SiLK's count on
// the 10 M corpus (REFERENCE.md), 0 when it has none.
type filterCase struct {
	name, expr string
	ref10M     uint64
}

var filterCases = []filterCase{
	{"filter tcp/22", "proto tcp and dst port 22", 318_950},
	{"filter src host 10.0.5.7", "src ip 10.0.5.7", 7_234},
	{"filter host 10.0.5.7 (either side)", "host 10.0.5.7", 11_170},
	{"filter net 10.0.0.0/24 + dst port 443", "(src net 10.0.0.0/24 or dst net 10.0.0.0/24) and dst port 443", 5_938},
	{"filter bytes > 999999", "bytes > 999999", 1_680_882},
}

// filters counts matches of each expression: flowkit filter -count on the
// repository against nfdump's summary-only output on its lz4 file.
func filters(e *env) ([]row, error) {
	if err := needData(e); err != nil {
		return nil, err
	}
	var rows []row
	for _, fc := range filterCases {
		var fkCount, nfCount uint64
		fk := command{
			argv: []string{e.flowkit, "filter", "-repo", e.repo, "-count", fc.expr},
			check: func(out []byte) (err error) {
				fkCount, err = strconv.ParseUint(strings.TrimSpace(string(out)), 10, 64)
				return err
			},
		}
		nf := command{
			argv: []string{"nfdump", "-r", e.nf["lz4"], "-o", "null", "-N", fc.expr},
			check: func(out []byte) error {
				t, err := parseNfdumpSummary(out)
				nfCount = t.flows
				return err
			},
		}
		a, b, err := compare(fk, nf, e.runs)
		if err != nil {
			return rows, err
		}
		if fkCount != nfCount {
			return rows, fmt.Errorf("%s: flowkit counts %d, nfdump %d", fc.expr, fkCount, nfCount)
		}
		check := fmt.Sprintf("both count %d", fkCount)
		if e.flows == 10_000_000 && fc.ref10M != 0 {
			if fkCount != fc.ref10M {
				return rows, fmt.Errorf("%s: both count %d, REFERENCE.md %d", fc.expr, fkCount, fc.ref10M)
			}
			check += " = REFERENCE.md"
		}
		rows = append(rows, row{work: fmt.Sprintf("%s `%s`", fc.name, fc.expr), flowkit: a, peer: b, peerName: "nfdump lz4 `-o null`", check: check})
	}
	return rows, nil
}

// keyBytes is one group of a top-N or group-by answer.
type keyBytes struct {
	key   string
	bytes uint64
	flows uint64
}

// readCSV parses CSV output; header names the columns, keyCol/bytesCol/flowsCol pick them ("" skips).
func readCSV(out []byte, keyCol, bytesCol, flowsCol string) ([]keyBytes, error) {
	r := csv.NewReader(bytes.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("empty output")
	}
	idx := map[string]int{}
	for i, h := range recs[0] {
		idx[h] = i
	}
	col := func(name string) (int, error) {
		if name == "" {
			return -1, nil
		}
		i, ok := idx[name]
		if !ok {
			return 0, fmt.Errorf("no column %q in %v", name, recs[0])
		}
		return i, nil
	}
	ki, err := col(keyCol)
	if err != nil {
		return nil, err
	}
	bi, err := col(bytesCol)
	if err != nil {
		return nil, err
	}
	fi, err := col(flowsCol)
	if err != nil {
		return nil, err
	}
	var res []keyBytes
	for _, rec := range recs[1:] {
		if len(rec) <= max(ki, bi, fi) || (ki >= 0 && rec[ki] == "") {
			break // nfdump's summary after a blank line
		}
		var kb keyBytes
		if ki >= 0 {
			kb.key = rec[ki]
		}
		if bi >= 0 {
			v, err := strconv.ParseFloat(rec[bi], 64)
			if err != nil {
				break
			}
			kb.bytes = uint64(v)
		}
		if fi >= 0 {
			v, err := strconv.ParseFloat(rec[fi], 64)
			if err != nil {
				break
			}
			kb.flows = uint64(v)
		}
		res = append(res, kb)
	}
	return res, nil
}

// topN compares flowkit stats with nfdump -s on the top-10 keys and their byte sums.
func topN(e *env) ([]row, error) {
	if err := needData(e); err != nil {
		return nil, err
	}
	var rows []row
	for _, c := range []struct{ work, fkField, nfStat string }{
		{"top 10 source addresses by bytes", "sip", "srcip/bytes"},
		{"top 10 destination ports by bytes", "dport", "dstport/bytes"},
	} {
		var fkTop, nfTop []keyBytes
		fk := command{
			argv: append([]string{e.flowkit, "stats", "-repo", e.repo, "-fields", c.fkField, "-values", "bytes", "-top", "10"}, csvArgs(e, "stats")...),
			check: func(out []byte) (err error) {
				fkTop, err = readCSV(out, c.fkField, "Bytes", "")
				return err
			},
		}
		nf := command{
			argv: []string{"nfdump", "-r", e.nf["lz4"], "-s", c.nfStat, "-n", "10", "-N", "-o", "csv"},
			check: func(out []byte) (err error) {
				nfTop, err = readCSV(out, "val", "byt", "")
				return err
			},
		}
		a, b, err := compare(fk, nf, e.runs)
		if err != nil {
			return rows, err
		}
		if len(fkTop) != 10 || len(nfTop) != 10 {
			return rows, fmt.Errorf("%s: flowkit gave %d groups, nfdump %d", c.work, len(fkTop), len(nfTop))
		}
		var sum uint64
		for i := range fkTop {
			if fkTop[i] != nfTop[i] {
				return rows, fmt.Errorf("%s: rank %d: flowkit %+v, nfdump %+v", c.work, i+1, fkTop[i], nfTop[i])
			}
			sum += fkTop[i].bytes
		}
		rows = append(rows, row{work: c.work, flowkit: a, peer: b, peerName: "nfdump lz4 `-s " + c.nfStat + " -n 10`",
			check: fmt.Sprintf("same 10 keys in the same order, same bytes (sum %d)", sum)})
	}
	return rows, nil
}

// groupBy compares flowkit uniq with nfdump -A srcip (both print every
// group), and flowkit count's 5-minute bins with nfdump's closest: a
// summary-only full scan (nfdump 1.7 has no time bins).
func groupBy(e *env) ([]row, error) {
	if err := needData(e); err != nil {
		return nil, err
	}
	var fkGroups, nfGroups []keyBytes
	fk := command{
		argv: append([]string{e.flowkit, "uniq", "-repo", e.repo, "-fields", "sip", "-values", "bytes,flows"}, csvArgs(e, "uniq")...),
		check: func(out []byte) (err error) {
			fkGroups, err = readCSV(out, "sip", "Bytes", "Records")
			return err
		},
	}
	nf := command{
		argv: []string{"nfdump", "-r", e.nf["lz4"], "-A", "srcip", "-N", "-q", "-o", "fmt:%sa %fl %byt"},
		check: func(out []byte) (err error) {
			nfGroups, err = readColumns(out)
			return err
		},
	}
	a, b, err := compare(fk, nf, e.runs)
	if err != nil {
		return nil, err
	}
	sum := func(g []keyBytes) (t totals) {
		for _, k := range g {
			t.flows += k.flows
			t.bytes += k.bytes
		}
		return t
	}
	fs, ns := sum(fkGroups), sum(nfGroups)
	if len(fkGroups) != len(nfGroups) || fs != ns || fs.flows != e.totals.flows || fs.bytes != e.totals.bytes {
		return nil, fmt.Errorf("group by sip: flowkit %d groups (%v), nfdump %d groups (%v), corpus %v",
			len(fkGroups), fs, len(nfGroups), ns, e.totals)
	}
	rows := []row{{work: "group by source address (bytes, flows)", flowkit: a, peer: b, peerName: "nfdump lz4 `-A srcip -q -o fmt:%sa %fl %byt`",
		check: fmt.Sprintf("both %d groups, flow and byte sums = corpus", len(fkGroups))}}

	var bins int
	var binSum totals
	fkc := command{
		argv: append([]string{e.flowkit, "count", "-repo", e.repo, "-bin", "300s"}, csvArgs(e, "count")...),
		check: func(out []byte) error {
			r := csv.NewReader(bytes.NewReader(out))
			recs, err := r.ReadAll()
			if err != nil {
				return err
			}
			bins, binSum = 0, totals{}
			for _, rec := range recs[1:] {
				if len(rec) < 4 {
					return fmt.Errorf("short line %v", rec)
				}
				f, _ := strconv.ParseFloat(rec[1], 64)
				by, _ := strconv.ParseFloat(rec[2], 64)
				p, _ := strconv.ParseFloat(rec[3], 64)
				binSum.flows += uint64(f)
				binSum.bytes += uint64(by)
				binSum.packets += uint64(p)
				bins++
			}
			return nil
		},
	}
	var nfTot totals
	nfc := command{
		argv: []string{"nfdump", "-r", e.nf["lz4"], "-o", "null", "-N"},
		check: func(out []byte) (err error) {
			nfTot, err = parseNfdumpSummary(out)
			return err
		},
	}
	a, b, err = compare(fkc, nfc, e.runs)
	if err != nil {
		return rows, err
	}
	if binSum != nfTot || nfTot != e.totals {
		return rows, fmt.Errorf("time bins: flowkit's %d bins sum to %v, nfdump %v, corpus %v", bins, binSum, nfTot, e.totals)
	}
	rows = append(rows, row{work: "5-minute time bins", flowkit: a, peer: b, peerName: "nfdump lz4 totals only (no time bins in nfdump 1.7)",
		check: fmt.Sprintf("flowkit's %d bins sum to nfdump's totals (%v)", bins, nfTot)})
	return rows, nil
}

// readColumns parses nfdump's "fmt:%sa %fl %byt" lines.
func readColumns(out []byte) ([]keyBytes, error) {
	var res []keyBytes
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if len(f) != 3 {
			return nil, fmt.Errorf("nfdump line %q: want address, flows, bytes", line)
		}
		fl, err1 := strconv.ParseUint(f[1], 10, 64)
		by, err2 := strconv.ParseUint(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("nfdump line %q: want address, flows, bytes", line)
		}
		res = append(res, keyBytes{key: f[0], flows: fl, bytes: by})
	}
	return res, nil
}

// csvArgs are the flags that make a verb print CSV: the CLI moved from
// "-o csv" to "-format csv" (with -o naming a file), so ask its help.
func csvArgs(e *env, verb string) []string {
	help, _ := exec.Command(e.flowkit, verb, "-h").CombinedOutput()
	lines := strings.Split(string(help), "\n")
	for _, name := range []string{"-format", "-o"} {
		for i, l := range lines {
			if strings.TrimSpace(l) == name+" string" && i+1 < len(lines) && strings.Contains(lines[i+1], "csv") {
				return []string{name, "csv"}
			}
		}
	}
	return []string{"-format", "csv"}
}
