package query

import (
	"math"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// refCase pairs a predicate with a plain reference written out by hand.
type refCase struct {
	p   Pred
	ref func(r *flow.Record) bool
}

func in4(a flow.Addr, p string) bool {
	pr := netip.MustParsePrefix(p)
	return a.Netip().Is4() == pr.Addr().Is4() && pr.Contains(a.Netip())
}

func refCases(t testing.TB) []refCase {
	host := netip.MustParseAddr("10.0.0.7")
	v6 := netip.MustParseAddr("2001:db8::3")
	set := NewIPSet()
	set.AddPrefix(netip.MustParsePrefix("10.0.1.0/24"))
	set.Add(v6)
	set.AddPrefix(netip.MustParsePrefix("2001:db8:0:1::/64"))
	pm := NewPrefixMap("external")
	pm.Add(netip.MustParsePrefix("10.0.0.0/8"), "internal")
	pm.Add(netip.MustParsePrefix("10.0.2.0/24"), "dmz")
	pm.Add(netip.MustParsePrefix("2001:db8::/32"), "internal")
	lbl, err := HasLabel(SrcAddr, pm, "zones", "internal")
	if err != nil {
		t.Fatal(err)
	}
	t1, t2 := time.Unix(0, day0+3600e9), time.Unix(0, day0+7200e9)
	return []refCase{
		{Eq(Protocol, 6), func(r *flow.Record) bool { return r.Protocol == 6 }},
		{And{Eq(Protocol, 6), Eq(DstPort, 22)}, func(r *flow.Record) bool { return r.Protocol == 6 && r.DstPort == 22 }},
		{Host(SrcAddr, host), func(r *flow.Record) bool { return r.Src == flow.AddrFrom(host) }},
		{AnyHost(host), func(r *flow.Record) bool { return r.Src == flow.AddrFrom(host) || r.Dst == flow.AddrFrom(host) }},
		{Host(DstAddr, v6), func(r *flow.Record) bool { return r.Dst == flow.AddrFrom(v6) }},
		{And{AnyNet(netip.MustParsePrefix("10.0.0.0/24")), Eq(DstPort, 443)}, func(r *flow.Record) bool {
			return (in4(r.Src, "10.0.0.0/24") || in4(r.Dst, "10.0.0.0/24")) && r.DstPort == 443
		}},
		{Prefix{SrcAddr, netip.MustParsePrefix("0.0.0.0/0")}, func(r *flow.Record) bool { return r.Src.Is4() }},
		{Prefix{DstAddr, netip.MustParsePrefix("2001:db8::/63")}, func(r *flow.Record) bool {
			return !r.Dst.Is4() && netip.MustParsePrefix("2001:db8::/63").Contains(r.Dst.Netip())
		}},
		{Prefix{NextHop, netip.MustParsePrefix("255.255.255.255/32")}, func(r *flow.Record) bool { return r.NextHop == flow.AddrFromUint32(math.MaxUint32) }},
		{InSet{SrcAddr, set, "s"}, func(r *flow.Record) bool {
			return in4(r.Src, "10.0.1.0/24") || r.Src == flow.AddrFrom(v6) ||
				(!r.Src.Is4() && netip.MustParsePrefix("2001:db8:0:1::/64").Contains(r.Src.Netip()))
		}},
		{AtLeast(Bytes, 1000000), func(r *flow.Record) bool { return r.Bytes >= 1000000 }},
		{AtLeast(Bytes, math.MaxUint64), func(r *flow.Record) bool { return r.Bytes == math.MaxUint64 }},
		{AtMost(Packets, 0), func(r *flow.Record) bool { return r.Packets == 0 }},
		{Between(BytesPerPacket, 40, 1500), func(r *flow.Record) bool {
			return r.Packets != 0 && r.Bytes/r.Packets >= 40 && r.Bytes/r.Packets <= 1500
		}},
		{AnyPort(0, 0), func(r *flow.Record) bool { return r.SrcPort == 0 || r.DstPort == 0 }},
		{Between(SrcPort, 65535, 65535), func(r *flow.Record) bool { return r.SrcPort == 65535 }},
		{Between(DstPort, 1024, 65535), func(r *flow.Record) bool { return r.DstPort >= 1024 }},
		{Eq(ICMPType, 3), func(r *flow.Record) bool { return (r.Protocol == 1 || r.Protocol == 58) && r.DstPort>>8 == 3 }},
		{AtMost(ICMPCode, math.MaxUint64), func(r *flow.Record) bool { return r.Protocol == 1 || r.Protocol == 58 }},
		{And{Eq(ICMPType, 0), Eq(ICMPCode, 0)}, func(r *flow.Record) bool { return (r.Protocol == 1 || r.Protocol == 58) && r.DstPort == 0 }},
		{StartBetween(t1, t2), func(r *flow.Record) bool { return r.Start >= t1.UnixNano() && r.Start <= t2.UnixNano() }},
		{EndBetween(t1, t2), func(r *flow.Record) bool { return r.End >= t1.UnixNano() && r.End <= t2.UnixNano() }},
		{ActiveDuring(t1, t2), func(r *flow.Record) bool { return r.Start <= t2.UnixNano() && r.End >= t1.UnixNano() }},
		{DurationBetween(time.Second, time.Hour), func(r *flow.Record) bool {
			return r.End-r.Start >= 1e9 && r.End-r.Start <= 3600e9
		}},
		{DurationBetween(0, 0), func(r *flow.Record) bool { return r.End == r.Start }},
		{TCPFlagsMatch(Flags, flow.SYN, flow.SYN|flow.ACK), func(r *flow.Record) bool { return r.Flags&flow.SYN != 0 && r.Flags&flow.ACK == 0 }},
		{TCPFlagsMatch(InitialFlags, flow.SYN, flow.SYN), func(r *flow.Record) bool { return r.InitialFlags&flow.SYN != 0 }},
		{TCPFlagsMatch(SessionFlags, flow.FIN|flow.ACK, flow.FIN|flow.ACK|flow.RST), func(r *flow.Record) bool {
			return r.SessionFlags&(flow.FIN|flow.ACK|flow.RST) == flow.FIN|flow.ACK
		}},
		{TCPFlagsMatch(RevFlags, 0, flow.RST), func(r *flow.Record) bool { return r.RevFlags&flow.RST == 0 }},
		{Eq(Sensor, 2), func(r *flow.Record) bool { return r.Sensor == 2 }},
		{Eq(Type, uint64(flow.TypeOut)), func(r *flow.Record) bool { return r.Type == flow.TypeOut }},
		{Eq(Application, 443), func(r *flow.Record) bool { return r.Application == 443 }},
		{Eq(VLAN, 4095), func(r *flow.Record) bool { return r.VLAN == 4095 }},
		{Eq(EndReason, uint64(flow.EndActiveTimeout)), func(r *flow.Record) bool { return r.EndReason == flow.EndActiveTimeout }},
		{Eq(Output, math.MaxUint32), func(r *flow.Record) bool { return r.Output == math.MaxUint32 }},
		{Between(DstAS, 65536, math.MaxUint32), func(r *flow.Record) bool { return r.DstAS >= 65536 }},
		{AtLeast(RevBytes, 1), func(r *flow.Record) bool { return r.RevBytes >= 1 }},
		{lbl, func(r *flow.Record) bool {
			return (in4(r.Src, "10.0.0.0/8") && !in4(r.Src, "10.0.2.0/24")) ||
				(!r.Src.Is4() && netip.MustParsePrefix("2001:db8::/32").Contains(r.Src.Netip()))
		}},
		{Not{Eq(Protocol, 6)}, func(r *flow.Record) bool { return r.Protocol != 6 }},
		{And{}, func(r *flow.Record) bool { return true }},
		{Or{}, func(r *flow.Record) bool { return false }},
		{Between(Bytes, 10, 5), func(r *flow.Record) bool { return false }},
	}
}

// check compares Match and the Matcher with the reference on recs.
func check(t *testing.T, name string, p Pred, ref func(*flow.Record) bool, recs []flow.Record, m *Matcher) {
	t.Helper()
	if m == nil {
		m = NewMatcher(p)
	}
	var sel Bits
	for off := 0; off < len(recs); off += 1000 {
		batch := recs[off:min(off+1000, len(recs))]
		sel = m.Select(batch, sel)
		for i := range batch {
			want := ref(&batch[i])
			if got := p.Match(&batch[i]); got != want {
				t.Fatalf("%s: Match(%v) = %v, want %v", name, batch[i].String(), got, want)
			}
			if got := m.Match(&batch[i]); got != want {
				t.Fatalf("%s: Matcher.Match(%v) = %v, want %v", name, batch[i].String(), got, want)
			}
			if got := sel.Has(i); got != want {
				t.Fatalf("%s: Matcher row %d (%v) = %v, want %v", name, i, batch[i].String(), got, want)
			}
		}
	}
}

func TestPredicatesAgainstReference(t *testing.T) {
	recs := randomRecords(1, 20000)
	for _, c := range refCases(t) {
		n := 0
		for i := range recs {
			if c.ref(&recs[i]) {
				n++
			}
		}
		check(t, c.p.String(), c.p, c.ref, recs, nil)
		t.Logf("%-60s %6d of %d", c.p.String(), n, len(recs))
	}
}

// TestRandomTrees builds random And/Or/Not trees over the leaves and checks
// them against the same boolean logic applied to the references.
func TestRandomTrees(t *testing.T) {
	recs := randomRecords(2, 3000)
	cases := refCases(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var build func(depth int) refCase
	build = func(depth int) refCase {
		if depth == 0 || rng.IntN(3) == 0 {
			return cases[rng.IntN(len(cases))]
		}
		switch rng.IntN(3) {
		case 0:
			c := build(depth - 1)
			return refCase{Not{c.p}, func(r *flow.Record) bool { return !c.ref(r) }}
		case 1:
			a, b, c := build(depth-1), build(depth-1), build(depth-1)
			return refCase{And{a.p, Or{b.p, c.p}}, func(r *flow.Record) bool { return a.ref(r) && (b.ref(r) || c.ref(r)) }}
		}
		a, b := build(depth-1), build(depth-1)
		return refCase{Or{a.p, And{b.p}}, func(r *flow.Record) bool { return a.ref(r) || b.ref(r) }}
	}
	for i := 0; i < 300; i++ {
		c := build(4)
		check(t, c.p.String(), c.p, c.ref, recs, nil)
	}
}

func TestMatcherCompactAndNoAlloc(t *testing.T) {
	recs := randomRecords(5, 4096)
	p := And{Eq(Protocol, 6), AnyPort(22, 22), Not{TCPFlagsMatch(Flags, flow.ACK, flow.ACK)}}
	m := NewMatcher(p)
	var want []flow.Record
	for _, r := range recs {
		if r.Protocol == 6 && (r.SrcPort == 22 || r.DstPort == 22) && r.Flags&flow.ACK == 0 {
			want = append(want, r)
		}
	}
	batch := append([]flow.Record(nil), recs...)
	n := m.Compact(batch)
	if n != len(want) || n == 0 {
		t.Fatalf("Compact kept %d, want %d", n, len(want))
	}
	for i := range want {
		if batch[i] != want[i] {
			t.Fatalf("record %d differs", i)
		}
	}
	var sel Bits
	sel = m.Select(recs, sel)
	allocs := testing.AllocsPerRun(20, func() { sel = m.Select(recs, sel) })
	if allocs != 0 {
		t.Fatalf("Select allocates %v times per batch", allocs)
	}
}
