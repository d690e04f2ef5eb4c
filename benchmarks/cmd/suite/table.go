package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// row is one line of the results table.
type row struct {
	work            string
	flowkit, peer   result
	peerName        string
	check           string // how the outputs were checked equal
	note            string // "not yet: ...", "FAILED: ...", or a figure that is not a time (bytes/flow)
	flowkitV, peerV float64
	unit            string // for value rows (e.g. "B/flow"); time rows leave it empty
	lowerIsBetter   bool
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func fmtMem(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/1e6)
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// renderTable prints the rows as a Markdown table with the machine and scale.
func renderTable(e *env, rows []row, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# flowkit benchmark results\n\n")
	fmt.Fprintf(&b, "Date: %s. Machine: %s.\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), machineDescription())
	kind := "full run (`benchmarks/run`)"
	if e.quick {
		kind = "quick run (`benchmarks/run -quick`, the CI scale)"
	}
	fmt.Fprintf(&b, "Corpus: gen_flows.py default seed, %d flows; %s; %d run(s) per side, alternating; medians. Suite time %s.\n",
		e.flows, kind, e.runs, took.Round(time.Second))
	fmt.Fprintf(&b, "Load average at the start %s, at the end %s (the machine is shared: absolute times drift, ratios measured side by side hold better).\n\n",
		e.loadStart, loadAverage())
	fmt.Fprintf(&b, "| work | flowkit | peer | peer median | ratio (peer/flowkit) | flowkit peak RSS | peer peak RSS | outputs checked |\n")
	fmt.Fprintf(&b, "|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		switch {
		case r.note != "" && r.unit == "":
			fmt.Fprintf(&b, "| %s | %s | | | | | | |\n", r.work, r.note)
		case r.unit != "":
			ratio := "-"
			if r.flowkitV > 0 && r.peerV > 0 {
				ratio = fmt.Sprintf("%.2fx", r.peerV/r.flowkitV)
			}
			fmt.Fprintf(&b, "| %s | %.1f %s | %s | %.1f %s | %s | | | %s |\n", r.work, r.flowkitV, r.unit, r.peerName, r.peerV, r.unit, ratio, r.check)
		default:
			ratio := "-"
			if r.flowkit.median > 0 && r.peer.median > 0 {
				ratio = fmt.Sprintf("%.2fx", r.peer.median.Seconds()/r.flowkit.median.Seconds())
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", r.work, fmtDur(r.flowkit.median), r.peerName,
				fmtDur(r.peer.median), ratio, fmtMem(r.flowkit.maxRSS), fmtMem(r.peer.maxRSS), r.check)
		}
	}
	b.WriteString(referenceContext)
	return b.String()
}

// referenceContext repeats ../shared/bench/REFERENCE.md's figures, labelled
// as measured elsewhere: context, not comparisons of this run.
const referenceContext = `
## Context (not measured by this run)

From ../shared/bench/REFERENCE.md, measured on 2026-11-28 on the same machine class, whole process, 10 M corpus flows:
SiLK 3.19.1 (one lzo1x file): rwfilter 1.37-1.62 s, rwcount --bin-size=300 1.75 s, rwuniq by sip 2.79 s,
rwstats top dports 1.96 s, rwsort by stime 6.47 s; 24.8-39.3 bytes/flow.
nfdump 1.7.1 (lz4 file): filters 0.41-0.50 s, -s srcip/bytes 0.92 s, -s dstport/bytes 0.79 s, -A srcip 2.28 s; 38.3 bytes/flow (lzo 33.5, bz2 23.2).
softflowd 1.1.0 on 10 M packets / 200 k flows: 32.9 s (0.30 M packets/s), 62 MB RSS.
`
