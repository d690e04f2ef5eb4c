package query_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

// someFlows makes a small day of traffic: 10.0.5.7 is a busy client, a few
// SSH sessions to 10.0.0.22 happen in the morning.
func someFlows() []flow.Record {
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var recs []flow.Record
	add := func(src, dst string, dport uint16, at time.Duration, bytes uint64) {
		r := flow.Record{Protocol: flow.ProtoTCP, SrcPort: 40000, DstPort: dport, Packets: bytes / 500, Bytes: bytes,
			Start: day.Add(at).UnixNano(), End: day.Add(at + time.Minute).UnixNano(), Flags: flow.SYN | flow.ACK}
		r.SetSrcAddr(netip.MustParseAddr(src))
		r.SetDstAddr(netip.MustParseAddr(dst))
		recs = append(recs, r)
	}
	for i := range 20 {
		add("10.0.5.7", "93.184.216.34", 443, time.Duration(i)*time.Hour, 2_000_000)
		add("10.0.9.9", "93.184.216.34", 443, time.Duration(i)*time.Hour, 300_000)
	}
	for i := range 3 {
		add("10.0.3.3", "10.0.0.22", 22, 8*time.Hour+time.Duration(i)*20*time.Minute, 50_000)
	}
	add("10.0.3.3", "10.0.0.22", 22, 17*time.Hour, 80_000)
	return recs
}

// Top talkers: group by source address, rank by bytes (rwstats --fields=sip
// --values=bytes --count=2).
func Example_topTalkers() {
	g, _ := query.NewGrouper(query.GroupSpec{Keys: []query.Field{query.SrcAddr}})
	g.AddBatch(someFlows())
	groups := g.Groups()
	for _, r := range query.Top(groups, query.ValBytes, 2, false) {
		fmt.Printf("%-10s %10d bytes %6.2f%% cumulative %6.2f%%\n", g.KeyAddr(r.Group, 0), r.Value, r.Percent, r.Cumulative)
	}
	// Output:
	// 10.0.5.7     40000000 bytes  86.52% cumulative  86.52%
	// 10.0.9.9      6000000 bytes  12.98% cumulative  99.50%
}

// Port 22 over the day: filter with an expression, count per 4-hour bin.
func Example_sshOverTheDay() {
	p, err := query.Parse("proto tcp and dst port 22", nil)
	if err != nil {
		panic(err)
	}
	c := query.NewCounter(4*time.Hour, query.LoadStart)
	var ssh flow.SliceSink
	st, _ := query.Filter(context.Background(), &flow.SliceSource{Recs: someFlows()}, p, &ssh, nil)
	c.AddBatch(ssh.Recs)
	fmt.Println(st.Passed, "of", st.Read, "flows")
	for _, b := range c.Bins() {
		fmt.Printf("%s %2.0f flows %6.0f bytes\n", b.Start.Format("15:04"), b.Records, b.Bytes)
	}
	// Output:
	// 4 of 44 flows
	// 08:00  3 flows 150000 bytes
	// 16:00  1 flows  80000 bytes
}

// Parse errors point at the bad token.
func ExampleParse_error() {
	_, err := query.Parse("proto tcp and dst port x", nil)
	fmt.Println(err)
	// Output:
	// query: column 24: expected a port number, found "x"
}

// Predicates are trees a planner can walk; String prints them back.
func ExampleParse() {
	p, _ := query.Parse("net 10.0.0.0/24 and dst port 443", nil)
	for _, leaf := range p.(query.And) {
		fmt.Printf("%T: %v\n", leaf, leaf)
	}
	// Output:
	// query.Or: (src net 10.0.0.0/24 or dst net 10.0.0.0/24)
	// query.Range: dst port 443
}

// IP sets: the sources seen, minus a known list.
func ExampleIPSet() {
	seen := query.NewIPSet()
	for _, r := range someFlows() {
		seen.AddAddr(r.Src)
	}
	known, _ := query.ReadIPSet(strings.NewReader("10.0.5.0/24\n10.0.9.9\n"))
	seen.Difference(known)
	for a := range seen.All() {
		fmt.Println(a)
	}
	// Output:
	// 10.0.3.3
}

// Prefix maps label addresses; group by the label.
func ExamplePrefixMap() {
	m, _ := query.LoadPrefixMap(strings.NewReader("default external\n10.0.0.0/8 internal\n10.0.0.0/24 servers\n"))
	g, _ := query.NewGrouper(query.GroupSpec{Keys: []query.Field{query.DstLabel}, Map: m})
	g.AddBatch(someFlows())
	groups := g.Groups()
	for i := range groups {
		fmt.Printf("%s %d flows\n", g.AppendKey(nil, &groups[i], 0), groups[i].Flows)
	}
	// Output:
	// external 40 flows
	// servers 4 flows
}
