package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query/detect"
)

func init() {
	register("detect", verb{
		summary: "find scanners, beacons, long and low-and-slow sessions (rwscan, Analysis Pipeline)",
		example: "flowkit detect -r flows.txt -scan -beacon -long -format text",
		run:     runDetect,
	})
}

func runDetect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("detect", stderr)
	in := qAddQueryInput(fs)
	res := qAddResultFlags(fs, "text (tables by kind), csv or json (-live: one JSON object a line)")
	doScan := fs.Bool("scan", false, "look for scanners (threshold random walk, sweep score, stealth probes)")
	doBeacon := fs.Bool("beacon", false, "look for beacons (periodic connection starts)")
	doLong := fs.Bool("long", false, "look for long-lived and low-and-slow sessions")
	live := fs.Bool("live", false, "print each alert the moment it fires (early alerts included), for a stream on stdin")
	biflow := fs.Bool("biflow", false, "the input holds biflows: a one-way record means no answer (no pairing)")
	minTargets := fs.Int("min-targets", 4, "least distinct targets of a reported scan")
	minEvents := fs.Int("beacon-min-events", 10, "least connection starts of a reported beacon")
	longDur := fs.Duration("long-duration", time.Hour, "a session at least this long is long-lived")
	slowRate := fs.Float64("lowslow-rate", 32, "bytes per second (both directions) under which a session of 15 min or more, also under 4 packets a minute, is low-and-slow")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if err := qCheckOutputFormat(res.format); err != nil {
		return err
	}
	if !*doScan && !*doBeacon && !*doLong {
		*doScan, *doBeacon, *doLong = true, true, true
	}
	var rules []detect.Rule
	if *doScan {
		cfg := detect.ScanConfig{MinTargets: *minTargets}
		if *biflow {
			cfg.PairWindow = -1
		}
		rules = append(rules, detect.NewScanDetector(cfg))
	}
	if *doBeacon {
		rules = append(rules, detect.NewBeaconDetector(detect.BeaconConfig{MinEvents: *minEvents}))
	}
	if *doLong {
		rules = append(rules, detect.NewSessionDetector(detect.SessionConfig{LongDuration: *longDur, LowSlowBytesPerSecond: *slowRate}))
	}
	src, done, err := in.source()
	if err != nil {
		return err
	}
	defer done()
	w, closeOut, err := qOpenOut(res.out, stdout)
	if err != nil {
		return err
	}
	defer closeOut()

	e := detect.NewEngine(rules...)
	var out *alertPrinter
	if *live {
		out = newAlertPrinter(w, res.format, true)
		e.OnAlert = out.print
	} else {
		e.FinalOnly = true
	}
	if *live {
		err = e.Run(context.Background(), src)
	} else {
		err = runInEndOrder(e, src)
	}
	if err != nil {
		return err
	}
	if *live {
		err = out.flush()
	} else {
		err = writeFindings(w, res.format, e.Alerts)
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	return err
}

// runInEndOrder feeds history to the engine in end-time order, the order
// in which a live collector would have delivered it: files and
// repositories hold records by start time, and a long flow read early
// would move the detectors' clock past sources that are still active.
func runInEndOrder(e *detect.Engine, src flow.Source) error {
	var all flow.SliceSink
	if _, err := flow.Copy(&all, src); err != nil {
		return err
	}
	slices.SortStableFunc(all.Recs, func(a, b flow.Record) int { return cmp.Compare(a.End, b.End) })
	if err := e.WriteBatch(all.Recs); err != nil {
		return err
	}
	e.Flush()
	return nil
}

// writeFindings prints final alerts grouped by kind: readable tables, or
// one CSV row per finding.
func writeFindings(w io.Writer, format string, alerts []detect.Alert) error {
	if format == "json" {
		t := &qTable{header: findingHeader, right: []bool{false, false, false, false, true, true, true, false, false}}
		for _, a := range alerts {
			t.add(findingRow(a)...)
		}
		return t.write(w, "json")
	}
	bw := bufio.NewWriter(w)
	if format == "csv" {
		cw := csv.NewWriter(bw)
		cw.Write(findingHeader)
		for _, a := range alerts {
			cw.Write(findingRow(a))
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		return bw.Flush()
	}
	var scans, beacons, sessions []detect.Alert
	for _, a := range alerts {
		switch a.Detail.(type) {
		case *detect.Scan:
			scans = append(scans, a)
		case *detect.Beacon:
			beacons = append(beacons, a)
		case *detect.Session:
			sessions = append(sessions, a)
		}
	}
	if len(alerts) == 0 {
		fmt.Fprintln(bw, "no findings")
	}
	if len(scans) > 0 {
		fmt.Fprintf(bw, "SCANNERS (%d)\n", len(scans))
		t := &textTable{header: []string{"scanner", "proto", "shape", "targets", "hosts", "ports", "answered", "start", "end", "method"}}
		for _, a := range scans {
			s := a.Detail.(*detect.Scan)
			t.add(s.Scanner.String(), flow.ProtocolName(s.Protocol), s.Shape, strconv.Itoa(s.Targets), strconv.Itoa(s.Hosts),
				strconv.Itoa(s.Ports), fmt.Sprintf("%.0f%%", 100*float64(s.Answered)/float64(max(1, s.Answered+s.Unanswered))),
				clock(s.Start), clock(s.End), s.Method.String())
		}
		t.write(bw)
	}
	if len(beacons) > 0 {
		fmt.Fprintf(bw, "BEACONS (%d)\n", len(beacons))
		t := &textTable{header: []string{"source", "destination", "starts", "period", "cycle", "per-cycle", "regularity", "jitter(cv)", "start", "end"}}
		for _, a := range beacons {
			b := a.Detail.(*detect.Beacon)
			t.add(b.Src.String(), fmt.Sprintf("%s:%d/%s", b.Dst, b.DstPort, flow.ProtocolName(b.Protocol)), strconv.Itoa(b.Events),
				b.Period.String(), b.Cycle.String(), strconv.Itoa(b.PerCycle), fmt.Sprintf("%.2f", b.Regularity),
				fmt.Sprintf("%.3f", b.CV), clock(b.Start), clock(b.End))
		}
		t.write(bw)
	}
	if len(sessions) > 0 {
		fmt.Fprintf(bw, "LONG AND LOW-AND-SLOW SESSIONS (%d)\n", len(sessions))
		t := &textTable{header: []string{"kind", "session", "duration", "records", "packets", "bytes", "B/s", "pkts/min", "start", "end"}}
		for _, a := range sessions {
			s := a.Detail.(*detect.Session)
			t.add(string(s.Kind()), s.Key(), s.Duration.Round(time.Second).String(), strconv.Itoa(s.Records),
				strconv.FormatUint(s.Packets, 10), strconv.FormatUint(s.Bytes, 10), fmt.Sprintf("%.1f", s.BytesPerSecond),
				fmt.Sprintf("%.1f", s.PacketsPerMinute), clock(s.Start), clock(s.End))
		}
		t.write(bw)
	}
	return bw.Flush()
}

// findingHeader names the columns of findingRow.
var findingHeader = []string{"kind", "key", "start", "end", "count", "period_s", "cycle_s", "method", "text"}

// findingRow is the CSV row of one alert.
func findingRow(a detect.Alert) []string {
	row := []string{string(a.Kind), a.Key, "", "", "", "", "", "", a.Text}
	switch d := a.Detail.(type) {
	case *detect.Scan:
		row[2], row[3], row[4], row[7] = clock(d.Start), clock(d.End), strconv.Itoa(d.Targets), d.Method.String()
	case *detect.Beacon:
		row[2], row[3], row[4] = clock(d.Start), clock(d.End), strconv.Itoa(d.Events)
		row[5] = strconv.FormatFloat(d.Period.Seconds(), 'f', -1, 64)
		row[6] = strconv.FormatFloat(d.Cycle.Seconds(), 'f', -1, 64)
	case *detect.Session:
		row[2], row[3], row[4] = clock(d.Start), clock(d.End), strconv.Itoa(d.Records)
	}
	return row
}

// alertPrinter prints alerts as they arrive (-live).
type alertPrinter struct {
	w    *bufio.Writer
	cw   *csv.Writer
	json bool
	err  error
}

func newAlertPrinter(w io.Writer, format string, header bool) *alertPrinter {
	p := &alertPrinter{w: bufio.NewWriter(w), json: format == "json"}
	if format == "csv" {
		p.cw = csv.NewWriter(p.w)
		if header {
			p.cw.Write([]string{"time", "state", "kind", "key", "text"})
		}
	}
	return p
}

func (p *alertPrinter) print(a detect.Alert) {
	state := "final"
	if !a.Final {
		state = "early"
	}
	if p.cw != nil {
		p.cw.Write([]string{clock(a.Time), state, string(a.Kind), a.Key, a.Text})
		p.cw.Flush()
	} else if p.json {
		b, _ := json.Marshal(map[string]string{"time": clock(a.Time), "state": state, "kind": string(a.Kind), "key": a.Key, "text": a.Text})
		p.w.Write(append(b, '\n'))
	} else {
		fmt.Fprintf(p.w, "%s %-5s %-7s %s  %s\n", clock(a.Time), state, a.Kind, a.Key, a.Text)
	}
	if err := p.w.Flush(); err != nil && p.err == nil {
		p.err = err
	}
}

func (p *alertPrinter) flush() error {
	if p.cw != nil {
		p.cw.Flush()
	}
	if err := p.w.Flush(); err != nil {
		return err
	}
	return p.err
}

// textTable prints aligned columns, SiLK style.
type textTable struct {
	header []string
	rows   [][]string
}

func (t *textTable) add(row ...string) { t.rows = append(t.rows, row) }

func (t *textTable) write(w *bufio.Writer) {
	width := make([]int, len(t.header))
	for j, h := range t.header {
		width[j] = len(h)
	}
	for _, row := range t.rows {
		for j, c := range row {
			width[j] = max(width[j], len(c))
		}
	}
	for _, row := range append([][]string{t.header}, t.rows...) {
		w.WriteString("  ")
		for j, c := range row {
			w.WriteString(c)
			if j < len(row)-1 {
				w.WriteString(strings.Repeat(" ", width[j]-len(c)+2))
			}
		}
		w.WriteString("\n")
	}
}

// clock prints a time in UTC as SiLK does.
func clock(t time.Time) string { return t.UTC().Format("2006/01/02T15:04:05") }
