package main

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
	"github.com/flowkit/flowkit/query/detect"
	"github.com/flowkit/flowkit/query/stripplot"
	"github.com/flowkit/flowkit/store"
)

// analyse asks the repository what an analyst would ask, and prints it.
func analyse(p *report, day *stored, plotPath string) error {
	q := &asker{repo: day.repo}
	p.stage("asked the repository (queries run on its indexes; detectors on the stored flows):")

	// Detectors read every stored flow in end-time order, as they would
	// arrive from a live collector.
	all, err := q.find("any")
	if err != nil {
		return err
	}
	slices.SortFunc(all, func(a, b flow.Record) int { return cmp.Compare(a.End, b.End) })
	engine := detect.NewEngine(
		detect.NewScanDetector(detect.ScanConfig{}),
		detect.NewBeaconDetector(detect.BeaconConfig{}),
		detect.NewSessionDetector(detect.SessionConfig{}),
	)
	engine.FinalOnly = true
	if err := engine.WriteBatch(all); err != nil {
		return err
	}
	engine.Flush()
	var scans []*detect.Scan
	var beacons []*detect.Beacon
	var sessions []*detect.Session
	for _, a := range engine.Alerts {
		switch d := a.Detail.(type) {
		case *detect.Scan:
			scans = append(scans, d)
		case *detect.Beacon:
			beacons = append(beacons, d)
		case *detect.Session:
			sessions = append(sessions, d)
		}
	}

	for _, s := range scans {
		p.finding("scan", "%s probed %d %s targets (%d hosts) from %s to %s, %d%% answered [%s]",
			s.Scanner, s.Targets, flow.ProtocolName(s.Protocol), s.Hosts, hhmm(s.Start), hhmm(s.End),
			percent(s.Answered, s.Answered+s.Unanswered), s.Method)
	}
	if err := smtp(p, q); err != nil {
		return err
	}
	if err := web(p, q); err != nil {
		return err
	}
	if err := vpn(p, q); err != nil {
		return err
	}
	if err := ssh(p, q); err != nil {
		return err
	}
	for _, s := range sessions {
		if s.LowSlow {
			p.finding("low & slow", "%s:%d -> %s:%d open %s to %s, %.1f packets/min, %.1f bytes/s",
				s.Src, s.SrcPort, s.Dst, s.DstPort, hhmm(s.Start), hhmm(s.End), s.PacketsPerMinute, s.BytesPerSecond)
			reused, err := q.find(fmt.Sprintf("proto tcp and src host %s and src port %d and start > %d", s.Src, s.SrcPort, s.End.Unix()))
			if err != nil {
				return err
			}
			p.line("             then %d more connections from the same port %d until %s: a reused port, new sessions each",
				len(reused), s.SrcPort, hhmm(lastStart(reused)))
		}
	}
	for _, b := range beacons {
		p.finding("beacon", "%s -> %s:%d/%s: %d starts, every %s, %d per cycle, cycle %s (regularity %.2f)",
			b.Src, b.Dst, b.DstPort, flow.ProtocolName(b.Protocol), b.Events, b.Period, b.PerCycle, b.Cycle, b.Regularity)
	}
	if err := topTalkers(p, all); err != nil {
		return err
	}
	if plotPath != "" && len(beacons) > 0 {
		if err := plotBeacon(p, all, beacons[0], plotPath); err != nil {
			return err
		}
	}
	return nil
}

// asker runs filter expressions over the repository.
type asker struct {
	repo *store.Repo
}

// find returns the stored flows that expr selects, in start order.
func (q *asker) find(expr string) ([]flow.Record, error) {
	pred, err := query.Parse(expr, nil)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var out []flow.Record
	_, err = query.ScanStore(context.Background(), q.repo, store.Selection{}, pred, store.AllColumns, 0,
		func(_ int, m *query.BlockMatch) error {
			recs := m.Records(nil)
			mu.Lock()
			out = append(out, recs...)
			mu.Unlock()
			return nil
		})
	slices.SortFunc(out, func(a, b flow.Record) int { return cmp.Compare(a.Start, b.Start) })
	return out, err
}

// smtp finds the mail client and servers from port-25 flows.
func smtp(p *report, q *asker) error {
	toServer, err := q.find("proto tcp and dst port 25")
	if err != nil || len(toServer) == 0 {
		return err
	}
	type pair struct{ client, server flow.Addr }
	sent := map[pair]uint64{}
	flows := map[pair]int{}
	for _, r := range toServer {
		sent[pair{r.Src, r.Dst}] += r.Bytes
		flows[pair{r.Src, r.Dst}]++
	}
	for k := range sent {
		back, err := q.find(fmt.Sprintf("proto tcp and src host %s and src port 25 and dst host %s", k.server, k.client))
		if err != nil {
			return err
		}
		var recv uint64
		rstOnly := 0
		for _, r := range back {
			recv += r.Bytes
		}
		for _, r := range append(back, toServer...) {
			if r.Flags == flow.RST && (r.Src == k.client || r.Dst == k.client) {
				rstOnly++
			}
		}
		ratio := float64(sent[k]) / float64(max(recv, 1))
		p.finding("smtp", "client %s -> server %s: %d flows, client sent %d bytes, server %d (%.1fx); %d RST-only flows after the close",
			k.client, k.server, flows[k], sent[k], recv, ratio, rstOnly)
	}
	return nil
}

// web groups port-80 connections into pages: starts within 20 s.
func web(p *report, q *asker) error {
	conns, err := q.find("proto tcp and dst port 80 and initial-flags S/SA")
	if err != nil {
		return err
	}
	byClient := map[flow.Addr][]flow.Record{}
	for _, r := range conns {
		byClient[r.Src] = append(byClient[r.Src], r)
	}
	for client, rs := range byClient {
		if len(rs) < 6 {
			continue
		}
		pages, pageStart := 0, int64(0)
		servers := map[flow.Addr]bool{}
		ports := map[uint16]bool{}
		for _, r := range rs {
			ports[r.SrcPort] = true
			if pages == 0 || r.Start-pageStart > int64(20*time.Second) {
				pages++
				pageStart = r.Start
			}
			servers[r.Dst] = true
		}
		if len(ports) < len(rs)/2 { // one port reused over and over is no browser
			continue
		}
		p.finding("web", "%s opened %d connections to port 80 on %d servers, in %d pages, %s to %s (source ports %d..%d)",
			client, len(rs), len(servers), pages, hhmm(time.Unix(0, rs[0].Start)), hhmm(time.Unix(0, rs[len(rs)-1].Start)),
			rs[0].SrcPort, rs[len(rs)-1].SrcPort)
	}
	return nil
}

// vpn shows the idle timeout splitting quiet keep-alives.
func vpn(p *report, q *asker) error {
	for _, port := range []int{500, 4500} {
		rs, err := q.find(fmt.Sprintf("proto udp and src port %d and dst port %d", port, port))
		if err != nil || len(rs) == 0 {
			if err != nil {
				return err
			}
			continue
		}
		ends := map[flow.EndReason]int{}
		var pkts uint64
		for _, r := range rs {
			ends[r.EndReason]++
			pkts += r.Packets
		}
		p.finding("vpn", "%s <-> %s udp %d/%d: %d keep-alives in %d flows, %d ended by the idle timeout (%s)",
			rs[0].Src, rs[0].Dst, port, port, pkts, len(rs), ends[flow.EndIdleTimeout], endSummary(ends))
	}
	return nil
}

// ssh shows the active timeout rolling a long session over.
func ssh(p *report, q *asker) error {
	rs, err := q.find("proto tcp and dst port 22")
	if err != nil || len(rs) == 0 {
		return err
	}
	ends := map[flow.EndReason]int{}
	for _, r := range rs {
		ends[r.EndReason]++
	}
	p.finding("ssh", "%s -> %s:22: %d flows from %s to %s, %d cut by the active timeout (%s)",
		rs[0].Src, rs[0].Dst, len(rs), hhmm(time.Unix(0, rs[0].Start)), hhmm(time.Unix(0, rs[len(rs)-1].End)),
		ends[flow.EndActiveTimeout], endSummary(ends))
	return nil
}

// topTalkers ranks sources by bytes.
func topTalkers(p *report, all []flow.Record) error {
	g, err := query.NewGrouper(query.GroupSpec{Keys: []query.Field{query.SrcAddr}})
	if err != nil {
		return err
	}
	g.AddBatch(all)
	top := query.Top(g.Groups(), query.ValBytes, 5, false)
	p.finding("top talkers", "by bytes sent:")
	for i, t := range top {
		p.line("  %d. %-16s %12d bytes %6.2f%%  %8d flows  (cumulative %.2f%%)",
			i+1, g.KeyAddr(t.Group, 0), t.Value, t.Percent, t.Flows, t.Cumulative)
	}
	return nil
}

// plotBeacon draws the beacon's source beside the other busy sources.
func plotBeacon(p *report, all []flow.Record, b *detect.Beacon, path string) error {
	keys := []stripplot.Key{{A: flow.AddrFrom(b.Src)}}
	for _, r := range all { // a few other clients, for contrast
		k := stripplot.Key{A: r.Src}
		if r.Src.Is4() && r.Src[12] == 10 && !slices.Contains(keys, k) && len(keys) < 6 {
			keys = append(keys, k)
		}
	}
	plot, err := stripplot.Build(slices.Values(all), stripplot.Options{By: stripplot.BySource, Keys: keys,
		Title: fmt.Sprintf("beacon %s -> %s:%d among other sources", b.Src, b.Dst, b.DstPort)})
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if strings.HasSuffix(path, ".svg") {
		err = plot.WriteSVG(f)
	} else {
		err = plot.WritePNG(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	p.stage("wrote a strip plot of the beacon's source and %d other sources to %s", len(keys)-1, path)
	return nil
}

func hhmm(t time.Time) string { return t.UTC().Format("15:04") }

func lastStart(rs []flow.Record) time.Time {
	if len(rs) == 0 {
		return time.Time{}
	}
	return time.Unix(0, rs[len(rs)-1].Start)
}

func percent(a, b int) int {
	if b == 0 {
		return 0
	}
	return 100 * a / b
}

func endSummary(ends map[flow.EndReason]int) string {
	var parts []string
	for e := flow.EndUnknown; e <= flow.EndLackOfResources; e++ {
		if ends[e] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", e, ends[e]))
		}
	}
	return strings.Join(parts, ", ")
}
