package clickhouse

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

// expressions are the filters the tests run both ways: flowkit's query
// package over a slice and ClickHouse SQL from Where.
var expressions = []string{
	"any",
	"proto tcp and dst port 22",
	"proto udp or proto icmp",
	"host 10.1.2.3",
	"src host 10.0.5.7 or dst host 10.0.5.7",
	"net 10.0.0.0/24",
	"src net 10.2.0.0/15 and not dst net 10.3.4.0/22",
	"net 2001::/16",
	"net 2001:db8::/32",
	"bytes > 1M",
	"packets < 1000 or bytes >= 500000000",
	"port 443",
	"dst port 0-1023 and proto tcp",
	"flags S and not flags A",
	"not (proto tcp)",
	"icmp-type 8",
	"duration > 30m",
	"vlan 100",
	"sensor 2 and src as 1-2000000000",
	"bpp > 1000",
	"start >= 2026-03-02T12:00:00Z and start < 2026-03-03T00:00:00Z",
}

func TestWhereSQL(t *testing.T) {
	for _, c := range []struct{ expr, want string }{
		{"proto tcp and dst port 22", "(protocol = 6 AND dst_port = 22)"},
		{"host 10.0.5.7", "(src = toFixedString(unhex('00000000000000000000ffff0a000507'), 16) OR dst = toFixedString(unhex('00000000000000000000ffff0a000507'), 16))"},
		{"src net 10.0.0.0/24", "src BETWEEN toFixedString(unhex('00000000000000000000ffff0a000000'), 16) AND toFixedString(unhex('00000000000000000000ffff0a0000ff'), 16)"},
		{"bytes > 1M", "bytes >= 1000001"},
	} {
		p, err := query.Parse(c.expr, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Where(p)
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.expr, got, c.want)
		}
	}
	for _, p := range expressions {
		if _, err := Where(query.MustParse(p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	m, err := query.LoadPrefixMap(strings.NewReader("10.0.0.0/8 internal\n"))
	if err != nil {
		t.Fatal(err)
	}
	lbl, err := query.HasLabel(query.SrcAddr, m, "nets", "internal")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Where(query.And{query.Eq(query.Protocol, 6), lbl}); !errors.Is(err, ErrNotTranslated) {
		t.Errorf("label predicate: err %v, want ErrNotTranslated", err)
	}
	if _, err := TableSQL("flows; DROP TABLE x"); !errors.Is(err, ErrBadName) {
		t.Errorf("bad table name: err %v, want ErrBadName", err)
	}
}

// TestQueriesAgree runs each filter, and group-bys with top-N, over the
// same flows in flowkit (over a slice) and in ClickHouse.
func TestQueriesAgree(t *testing.T) {
	srv := startServers(t, 1)[0]
	ctx := testCtx(t)
	conn := srv.conn()
	if err := CreateTable(ctx, conn, "flows"); err != nil {
		t.Fatal(err)
	}
	recs := append(randomRecords(2, 20000), synthRecords(t)...)
	// A few flows that the expressions single out.
	for i := range 50 {
		recs[i].Src = flow.AddrFrom(netip.MustParseAddr("10.0.5.7"))
		recs[i].Protocol, recs[i].DstPort = flow.ProtoTCP, 22
		recs[i].VLAN = 100
	}
	sink, err := NewSink(ctx, Config{Addr: []string{srv.addr()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}

	for _, expr := range expressions {
		p, err := query.Parse(expr, nil)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		var want []flow.Record
		for i := range recs {
			if p.Match(&recs[i]) {
				want = append(want, recs[i])
			}
		}
		got, err := Select(ctx, conn, "flows", p)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		flow.SortRecords(want)
		flow.SortRecords(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: ClickHouse selects %d flows, flowkit %d", expr, len(got), len(want))
		}
		if strings.HasPrefix(expr, "start") {
			// The stime bounds that Where adds let the server skip days
			// and hours: these settings make it fail otherwise.
			w, _ := Where(p)
			var n uint64
			err := conn.QueryRow(ctx, "SELECT count() FROM flows WHERE "+w+" SETTINGS force_index_by_date = 1, force_primary_key = 1").Scan(&n)
			if err != nil || n != uint64(len(want)) {
				t.Errorf("%s with force_index_by_date and force_primary_key: %d flows, err %v; want %d", expr, n, err, len(want))
			}
		}
		if expr != "any" && (len(want) == 0 || len(want) == len(recs)) {
			t.Errorf("%s selects %d of %d flows: the test says nothing", expr, len(want), len(recs))
		}
	}

	for _, c := range []struct {
		keys   string
		filter string
		by     query.Value
		bottom bool
	}{
		{"sip", "any", query.ValBytes, false},
		{"dip,dport", "proto tcp", query.ValFlows, false},
		{"proto", "any", query.ValPackets, true},
		{"sip,dip", "net 10.0.0.0/8", query.ValPackets, false},
		{"icmptype,icmpcode", "any", query.ValFlows, false},
		{"stime", "any", query.ValBytes, false},
	} {
		agreeTop(t, conn, "flows", recs, c.keys, c.filter, c.by, c.bottom)
	}
}

func agreeTop(t *testing.T, conn driver.Conn, table string, recs []flow.Record, keys, filter string, by query.Value, bottom bool) {
	t.Helper()
	fields, err := query.ParseFields(keys)
	if err != nil {
		t.Fatal(err)
	}
	p := query.MustParse(filter)
	spec := query.GroupSpec{Keys: fields, Distinct: []query.Field{query.DstPort}}
	if slices.Contains(fields, query.Start) {
		spec.TimeBin = 3600e9
	}
	g, err := query.NewGrouper(spec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if p.Match(&recs[i]) {
			g.Add(&recs[i])
		}
	}
	groups := g.Groups()
	const n = 10
	top := query.Top(groups, by, n, bottom)
	var want []Row
	for _, r := range top {
		row := Row{Aggregate: r.Aggregate}
		for i, f := range fields {
			kv := KeyValue{}
			if f.IsAddr() {
				kv.Addr = g.KeyAddr(r.Group, i)
			} else {
				kv.Uint = g.KeyUint(r.Group, i)
			}
			row.Key = append(row.Key, kv)
		}
		want = append(want, row)
	}
	q := GroupQuery{Table: table, Filter: p, Keys: fields, TimeBin: spec.TimeBin,
		Distinct: spec.Distinct, By: by, Limit: n, Bottom: bottom}
	got, err := Group(testCtx(t), conn, q)
	if err != nil {
		t.Fatalf("group by %s where %s: %v", keys, filter, err)
	}
	if len(want) == 0 {
		t.Fatalf("group by %s where %s: no groups: the test says nothing", keys, filter)
	}
	if !slices.EqualFunc(got, want, func(a, b Row) bool {
		return a.Aggregate == b.Aggregate && slices.Equal(a.Key, b.Key)
	}) {
		t.Errorf("top %d by %d of %s where %s (bottom %v):\nClickHouse %+v\nflowkit    %+v", n, by, keys, filter, bottom, got, want)
	}
}
