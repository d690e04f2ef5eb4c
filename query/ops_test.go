package query

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

func TestFilterPassFail(t *testing.T) {
	recs := randomRecords(21, 5000)
	p := MustParse("proto tcp and (dst port 22 or bytes > 1M)")
	var pass, fail flow.SliceSink
	st, err := Filter(context.Background(), &flow.SliceSource{Recs: recs}, p, &pass, &fail)
	if err != nil {
		t.Fatal(err)
	}
	var wantPass, wantFail []flow.Record
	for _, r := range recs {
		if r.Protocol == 6 && (r.DstPort == 22 || r.Bytes > 1000000) {
			wantPass = append(wantPass, r)
		} else {
			wantFail = append(wantFail, r)
		}
	}
	if !slices.Equal(pass.Recs, wantPass) || !slices.Equal(fail.Recs, wantFail) || len(wantPass) == 0 {
		t.Fatalf("pass %d/%d fail %d/%d", len(pass.Recs), len(wantPass), len(fail.Recs), len(wantFail))
	}
	if st.Read != 5000 || st.Passed != int64(len(wantPass)) || st.Failed != int64(len(wantFail)) {
		t.Fatalf("stats %+v", st)
	}
	// Count only, and an expression that matches nothing.
	st, err = Filter(context.Background(), &flow.SliceSource{Recs: recs}, MustParse("not any"), nil, nil)
	if err != nil || st.Passed != 0 || st.Failed != 5000 {
		t.Fatalf("empty result: %+v %v", st, err)
	}
	n := 0
	for range Where(slices.Values(recs), p) {
		n++
	}
	if n != len(wantPass) {
		t.Fatalf("Where yielded %d", n)
	}
}

func TestParallel(t *testing.T) {
	recs := randomRecords(22, 10000)
	var want uint64
	for _, r := range recs {
		want += uint64(r.SrcPort)
	}
	for _, workers := range []int{1, 2, 4} {
		var got atomic.Uint64
		err := Parallel(context.Background(), &flow.SliceSource{Recs: recs}, workers, func(w int, b []flow.Record) error {
			for _, r := range b {
				got.Add(uint64(r.SrcPort))
			}
			return nil
		})
		if err != nil || got.Load() != want {
			t.Fatalf("workers %d: %d want %d (%v)", workers, got.Load(), want, err)
		}
	}
	boom := fmt.Errorf("boom")
	err := Parallel(context.Background(), &flow.SliceSource{Recs: recs}, 2, func(int, []flow.Record) error { return boom })
	if err != boom {
		t.Fatalf("work error not returned: %v", err)
	}
}

// refBins is rwcount by definition: walk every bin a flow touches.
func refBins(recs []flow.Record, bin int64, load LoadScheme) map[int64][3]float64 {
	out := map[int64][3]float64{}
	add := func(b int64, share float64, r *flow.Record) {
		v := out[b]
		v[0] += share
		v[1] += share * float64(r.Bytes)
		v[2] += share * float64(r.Packets)
		out[b] = v
	}
	floor := func(t int64) int64 {
		if t < 0 && t%bin != 0 {
			return t/bin - 1
		}
		return t / bin
	}
	for i := range recs {
		r := &recs[i]
		switch load {
		case LoadStart:
			add(floor(r.Start), 1, r)
		case LoadEnd:
			add(floor(r.End), 1, r)
		case LoadMiddle:
			add(floor(r.Start+(r.End-r.Start)/2), 1, r)
		case LoadSpread:
			b0, b1 := floor(r.Start), floor(r.End)
			for b := b0; b <= b1; b++ {
				add(b, 1/float64(b1-b0+1), r)
			}
		case LoadProportional:
			b0, b1 := floor(r.Start), floor(r.End)
			if b0 == b1 {
				add(b0, 1, r)
				continue
			}
			for b := b0; b <= b1; b++ {
				lo, hi := max(r.Start, b*bin), min(r.End, (b+1)*bin)
				add(b, float64(hi-lo)/float64(r.End-r.Start), r)
			}
		}
	}
	return out
}

// nearScale allows a rounding error relative to scale, the size of the
// sums involved.
func nearScale(a, b, scale float64) bool {
	return math.Abs(a-b) <= 1e-12*scale+1e-9*math.Abs(b)
}

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-6*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestCounterAgainstReference(t *testing.T) {
	recs := randomRecords(23, 3000)
	for i := range recs { // keep sums exact enough in float64
		recs[i].Bytes %= 1 << 40
		recs[i].Packets %= 1 << 30
	}
	// Long flows crossing many bins, and one before the epoch.
	recs = append(recs, flow.Record{Start: day0, End: day0 + 86400e9, Bytes: 1e9, Packets: 1e6},
		flow.Record{Start: -90e9, End: 30e9, Bytes: 120, Packets: 2})
	var totBytes, totPkts float64
	for _, r := range recs {
		totBytes += float64(r.Bytes)
		totPkts += float64(r.Packets)
	}
	for _, bin := range []time.Duration{time.Second, 300 * time.Second, time.Hour} {
		for load := LoadStart; load <= LoadProportional; load++ {
			c := NewCounter(bin, load)
			// Two halves merged must equal one pass.
			c2 := NewCounter(bin, load)
			c.AddBatch(recs[:1500])
			c2.AddBatch(recs[1500:])
			c.Merge(c2)
			want := refBins(recs, int64(bin), load)
			got := c.Bins()
			seen := 0
			var total float64
			for _, b := range got {
				w := want[floorDiv(b.Start.UnixNano(), int64(bin))]
				if b.Records != 0 {
					seen++
				}
				total += b.Records
				// The difference arrays round relative to the largest sums.
				if !nearScale(b.Records, w[0], 1e4) || !nearScale(b.Bytes, w[1], totBytes) || !nearScale(b.Packets, w[2], totPkts) {
					t.Fatalf("bin %v load %v at %v: got %.6f/%.1f/%.1f want %.6f/%.1f/%.1f", bin, load, b.Start, b.Records, b.Bytes, b.Packets, w[0], w[1], w[2])
				}
			}
			nonzero := 0
			for _, w := range want {
				if w[0] > 1e-9 {
					nonzero++
				}
			}
			if len(got) != seen || seen != nonzero || !near(total, float64(len(recs))) {
				t.Fatalf("bin %v load %v: %d bins with traffic, want %d; total %.3f", bin, load, seen, nonzero, total)
			}
		}
	}
	if NewCounter(time.Minute, LoadStart).Bins() != nil {
		t.Fatal("empty counter has bins")
	}
}

func keyString(g *Grouper, grp *Group) string {
	var b []byte
	for i := range g.Spec().Keys {
		b = g.AppendKey(b, grp, i)
		b = append(b, '|')
	}
	return string(b)
}

func TestGrouperAgainstReference(t *testing.T) {
	recs := randomRecords(24, 20000)
	for i := range recs { // whole milliseconds, as the duration key prints
		recs[i].End = recs[i].Start + (recs[i].End-recs[i].Start)/1e6*1e6
	}
	pm := NewPrefixMap("ext")
	pm.Add(netip.MustParsePrefix("10.0.0.0/8"), "int")
	specs := []GroupSpec{
		{Keys: []Field{SrcAddr}, Distinct: []Field{DstAddr, DstPort}},
		{Keys: []Field{DstPort}},
		{Keys: []Field{Protocol}, Distinct: []Field{DstPort}},
		{Keys: []Field{SrcAddr, DstAddr, SrcPort, DstPort, Protocol}},
		{Keys: []Field{SrcLabel, Protocol, Flags}, Map: pm, Distinct: []Field{SrcAddr}},
		{Keys: []Field{Start}, TimeBin: time.Hour},
		{Keys: []Field{Type, EndReason, Duration}},
	}
	for _, spec := range specs {
		type agg struct {
			Aggregate
			d [MaxDistinct]map[string]bool
		}
		ref := map[string]*agg{}
		for i := range recs {
			r := &recs[i]
			var parts []string
			for _, f := range spec.Keys {
				switch {
				case f.IsAddr():
					parts = append(parts, f.Addr(r).String())
				case f == SrcLabel:
					parts = append(parts, pm.LabelOf(r.Src.Netip()))
				case f == Start:
					parts = append(parts, time.Unix(0, r.Start/3600e9*3600e9).UTC().Format("2006-01-02T15:04:05.000Z07:00"))
				case f == Flags:
					parts = append(parts, r.Flags.String())
				case f == Type:
					parts = append(parts, r.Type.String())
				case f == EndReason:
					parts = append(parts, r.EndReason.String())
				case f == Duration:
					parts = append(parts, fmt.Sprintf("%.3f", float64(r.End-r.Start)/1e9))
				default:
					parts = append(parts, fmt.Sprint(f.Uint(r)))
				}
			}
			k := strings.Join(parts, "|") + "|"
			a := ref[k]
			if a == nil {
				a = &agg{Aggregate: Aggregate{Start: math.MaxInt64, End: math.MinInt64}}
				for i := range a.d {
					a.d[i] = map[string]bool{}
				}
				ref[k] = a
			}
			a.Flows++
			a.Packets += r.Packets
			a.Bytes += r.Bytes
			a.Start = min(a.Start, r.Start)
			a.End = max(a.End, r.End)
			for i, f := range spec.Distinct {
				a.d[i][fmt.Sprint(f.Addr(r), f.Uint(r))] = true
			}
		}
		whole, err := NewGrouper(spec)
		if err != nil {
			t.Fatal(err)
		}
		whole.AddBatch(recs[:7000])
		half, _ := NewGrouper(spec)
		half.AddBatch(recs[7000:])
		whole.Merge(half)
		if whole.Len() != len(ref) {
			t.Fatalf("%v: %d groups, want %d", spec.Keys, whole.Len(), len(ref))
		}
		groups := whole.Groups()
		for i := range groups {
			k := keyString(whole, &groups[i])
			a := ref[k]
			if a == nil {
				t.Fatalf("%v: unexpected group %q", spec.Keys, k)
			}
			g := groups[i].Aggregate
			if g.Flows != a.Flows || g.Packets != a.Packets || g.Bytes != a.Bytes || g.Start != a.Start || g.End != a.End {
				t.Fatalf("%v: group %q: %+v want %+v", spec.Keys, k, g, a.Aggregate)
			}
			for d := range spec.Distinct {
				if g.Distinct[d] != uint64(len(a.d[d])) {
					t.Fatalf("%v: group %q distinct %d: %d want %d", spec.Keys, k, d, g.Distinct[d], len(a.d[d]))
				}
			}
			if i > 0 && compareKeys(&groups[i-1].Key, &groups[i].Key) >= 0 {
				t.Fatal("groups not in key order")
			}
		}
		if agg, ok := whole.Lookup(&recs[0]); !ok || agg.Flows == 0 {
			t.Fatal("Lookup")
		}
	}
	if _, err := NewGrouper(GroupSpec{Keys: []Field{SrcAddr, DstAddr, NextHop, Bytes, Packets, Start}}); err == nil {
		t.Fatal("72-byte key accepted")
	}
	if _, err := NewGrouper(GroupSpec{Keys: []Field{SrcLabel}}); err == nil {
		t.Fatal("label key without map accepted")
	}
}

func TestTopAgainstSort(t *testing.T) {
	for _, key := range []Field{DstPort, SrcAddr} {
		testTopAgainstSort(t, key)
	}
}

func testTopAgainstSort(t *testing.T, key Field) {
	recs := randomRecords(25, 20000)
	g, _ := NewGrouper(GroupSpec{Keys: []Field{key}})
	g.AddBatch(recs)
	groups := g.Groups()
	for _, bottom := range []bool{false, true} {
		for _, by := range []Value{ValFlows, ValBytes, ValPackets} {
			for _, n := range []int{0, 1, 10, len(groups), len(groups) + 5} {
				top := Top(groups, by, n, bottom)
				// The Grouper's own Top must rank exactly as Top does.
				gtop := g.Top(by, n, bottom)
				if len(gtop) != len(top) {
					t.Fatalf("%v: Grouper.Top %d rows, Top %d", key, len(gtop), len(top))
				}
				for i := range top {
					if gtop[i].Key != top[i].Key || gtop[i].Aggregate != top[i].Aggregate || gtop[i].Percent != top[i].Percent || gtop[i].Cumulative != top[i].Cumulative {
						t.Fatalf("%v bottom=%v by %d n %d: Grouper.Top row %d differs", key, bottom, by, n, i)
					}
				}
				ref := slices.Clone(groups)
				sort.SliceStable(ref, func(i, j int) bool {
					if ref[i].Get(by) != ref[j].Get(by) {
						return (ref[i].Get(by) > ref[j].Get(by)) != bottom
					}
					return false // groups are in key order already
				})
				ref = ref[:min(n, len(ref))]
				if len(top) != len(ref) {
					t.Fatalf("top %d: %d rows", n, len(top))
				}
				var total, cum float64
				for i := range groups {
					total += float64(groups[i].Get(by))
				}
				for i := range ref {
					if top[i].Key != ref[i].Key || top[i].Value != ref[i].Get(by) {
						t.Fatalf("bottom=%v by %d n %d row %d differs", bottom, by, n, i)
					}
					cum += 100 * float64(ref[i].Get(by)) / total
					if !near(top[i].Percent, 100*float64(ref[i].Get(by))/total) || !near(top[i].Cumulative, cum) {
						t.Fatalf("row %d percentages %v %v", i, top[i].Percent, top[i].Cumulative)
					}
				}
				if n >= len(groups) && len(top) > 0 && !near(top[len(top)-1].Cumulative, 100) {
					t.Fatalf("cumulative ends at %v", top[len(top)-1].Cumulative)
				}
			}
		}
	}
}

func TestSorterSpills(t *testing.T) {
	recs := randomRecords(26, 30000)
	for _, keys := range [][]Field{{Start}, {SrcAddr, DstPort}, {Bytes}, {Protocol, Duration}} {
		for _, reverse := range []bool{false, true} {
			s := NewSorter(keys, reverse, 5000*int64(recordSize), t.TempDir())
			for off := 0; off < len(recs); off += 777 {
				if err := s.WriteBatch(recs[off:min(off+777, len(recs))]); err != nil {
					t.Fatal(err)
				}
			}
			if s.Runs() < 5 {
				t.Fatalf("only %d runs spilled", s.Runs())
			}
			var out flow.SliceSink
			if err := s.Output(&out); err != nil {
				t.Fatal(err)
			}
			want := slices.Clone(recs)
			sort.SliceStable(want, func(i, j int) bool {
				c := CompareRecords(&want[i], &want[j], keys)
				if reverse {
					return c > 0
				}
				return c < 0
			})
			if !slices.Equal(out.Recs, want) {
				t.Fatalf("%v reverse=%v: output differs from a stable sort", keys, reverse)
			}
		}
	}
	s := NewSorter([]Field{Start}, false, 1<<20, "")
	var out flow.SliceSink
	if err := s.Output(&out); err != nil || len(out.Recs) != 0 {
		t.Fatal("empty sort")
	}
}

func TestIPSetAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 1))
	randPrefix := func() netip.Prefix {
		if rng.IntN(2) == 0 {
			a := flow.AddrFromUint32(0x0a000000 | uint32(rng.IntN(1<<12))).Netip()
			return netip.PrefixFrom(a, 20+rng.IntN(13)).Masked()
		}
		b := netip.MustParseAddr("2001:db8::").As16()
		b[15] = byte(rng.IntN(256))
		b[14] = byte(rng.IntN(2))
		return netip.PrefixFrom(netip.AddrFrom16(b), 116+rng.IntN(13)).Masked()
	}
	build := func() (*IPSet, []netip.Prefix) {
		s := NewIPSet()
		var ps []netip.Prefix
		for range 40 {
			p := randPrefix()
			ps = append(ps, p)
			s.AddPrefix(p)
		}
		return s, ps
	}
	in := func(ps []netip.Prefix, a netip.Addr) bool {
		for _, p := range ps {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	probe := func() netip.Addr { return randPrefix().Addr().Next() }
	for round := range 20 {
		a, pa := build()
		b, pb := build()
		u, i, d := a.Clone(), a.Clone(), a.Clone()
		u.Union(b)
		i.Intersect(b)
		d.Difference(b)
		for range 2000 {
			x := probe()
			ia, ib := in(pa, x), in(pb, x)
			if a.ContainsAddr(x) != ia || u.ContainsAddr(x) != (ia || ib) || i.ContainsAddr(x) != (ia && ib) || d.ContainsAddr(x) != (ia && !ib) {
				t.Fatalf("round %d: %v: a=%v b=%v union %v inter %v diff %v", round, x, ia, ib, u.ContainsAddr(x), i.ContainsAddr(x), d.ContainsAddr(x))
			}
		}
		// Counting: every address enumerated is in the set, Len agrees.
		n := uint64(0)
		for x := range u.All() {
			if !in(pa, x) && !in(pb, x) {
				t.Fatalf("All yields %v", x)
			}
			n++
		}
		if n != u.Len() {
			t.Fatalf("All gave %d, Len %d", n, u.Len())
		}
		// Prefixes rebuild the same set; the file round-trips.
		re := NewIPSet()
		for p := range u.Prefixes() {
			re.AddPrefix(p)
		}
		if !re.Equal(u) {
			t.Fatal("Prefixes do not rebuild the set")
		}
		bin, err := u.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadIPSet(bytes.NewReader(bin))
		if err != nil || !back.Equal(u) {
			t.Fatalf("file round trip: %v", err)
		}
		for _, cut := range []int{0, 5, len(bin) / 2, len(bin) - 1} {
			if err := NewIPSet().UnmarshalBinary(bin[:cut]); err == nil {
				t.Fatalf("truncated to %d accepted", cut)
			}
		}
		bad := slices.Clone(bin)
		bad[len(bad)/2] ^= 1
		if err := NewIPSet().UnmarshalBinary(bad); err == nil {
			t.Fatal("flipped bit accepted")
		}
	}
	// The limits: all of IPv4, the top and bottom of IPv6.
	s := NewIPSet()
	s.AddPrefix(netip.MustParsePrefix("0.0.0.0/0"))
	s.Add(netip.MustParseAddr("::"))
	s.Add(netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))
	if s.Len() != 1<<32+2 || !s.ContainsAddr(netip.MustParseAddr("255.255.255.255")) || s.ContainsAddr(netip.MustParseAddr("::1")) {
		t.Fatalf("limits: len %d", s.Len())
	}
	s.AddPrefix(netip.MustParsePrefix("::/0"))
	if s.Len() != math.MaxUint64 {
		t.Fatal("huge set Len must saturate")
	}
}

func TestReadIPSetText(t *testing.T) {
	s, err := ReadIPSet(strings.NewReader("10.0.0.1\n# c\n\n10.0.1.0/30  # four\n2001:db8::1-2001:db8::3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 8 {
		t.Fatalf("len %d", s.Len())
	}
	_, err = ReadIPSet(strings.NewReader("10.0.0.1\nbanana\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad line error: %v", err)
	}
}

func TestPrefixMapLongestMatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(28, 2))
	m := NewPrefixMap("none")
	type entry struct {
		p     netip.Prefix
		label string
	}
	var ents []entry
	for i := range 300 {
		var p netip.Prefix
		if rng.IntN(3) > 0 {
			p = netip.PrefixFrom(flow.AddrFromUint32(0x0a000000|rng.Uint32()>>16).Netip(), 8+rng.IntN(25)).Masked()
		} else {
			b := netip.MustParseAddr("2001:db8::").As16()
			b[5], b[15] = byte(rng.IntN(4)), byte(rng.IntN(256))
			p = netip.PrefixFrom(netip.AddrFrom16(b), 32+rng.IntN(97)).Masked()
		}
		l := fmt.Sprintf("l%d", i%17)
		m.Add(p, l)
		ents = slices.DeleteFunc(ents, func(e entry) bool { return e.p == p })
		ents = append(ents, entry{p, l})
	}
	for range 20000 {
		var a netip.Addr
		if rng.IntN(3) > 0 {
			a = flow.AddrFromUint32(0x0a000000 | rng.Uint32()>>8).Netip()
		} else {
			b := netip.MustParseAddr("2001:db8::").As16()
			b[5], b[15] = byte(rng.IntN(4)), byte(rng.IntN(256))
			a = netip.AddrFrom16(b)
		}
		want, bits := "none", -1
		for _, e := range ents {
			if e.p.Contains(a) && e.p.Bits() > bits {
				want, bits = e.label, e.p.Bits()
			}
		}
		if got := m.LabelOf(a); got != want {
			t.Fatalf("%v: %q want %q", a, got, want)
		}
	}
	if _, err := LoadPrefixMap(strings.NewReader("default outside\n10.0.0.0/8 inside\n10.1.2.3 host\n")); err != nil {
		t.Fatal(err)
	}
	_, err := LoadPrefixMap(strings.NewReader("10.0.0.0/8 inside\n10.0.0.0/99 x\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad line: %v", err)
	}
}

func TestBag(t *testing.T) {
	recs := randomRecords(29, 5000)
	b, err := NewBag(DstPort, ValBytes)
	if err != nil {
		t.Fatal(err)
	}
	ref := map[uint16]uint64{}
	for i := range recs {
		b.Add(&recs[i])
		old := ref[recs[i].DstPort]
		if old+recs[i].Bytes < old {
			ref[recs[i].DstPort] = math.MaxUint64
		} else {
			ref[recs[i].DstPort] = old + recs[i].Bytes
		}
	}
	if b.Len() != len(ref) {
		t.Fatalf("%d keys want %d", b.Len(), len(ref))
	}
	for i := range recs {
		if b.Get(&recs[i]) != ref[recs[i].DstPort] {
			t.Fatalf("port %d: %d want %d", recs[i].DstPort, b.Get(&recs[i]), ref[recs[i].DstPort])
		}
	}
	data, _ := b.MarshalBinary()
	var back Bag
	if err := back.UnmarshalBinary(data); err != nil || !slices.Equal(back.Entries(), b.Entries()) {
		t.Fatalf("round trip: %v", err)
	}
	if err := back.UnmarshalBinary(data[:len(data)-1]); err == nil {
		t.Fatal("truncated bag accepted")
	}
}

// TestSortInMemoryAgainstStableSort checks SortRecords and a Sorter that
// never spills against sort.SliceStable, for radix-sorted single keys
// (times sharing their high bytes, negative times, many equal keys) and
// compared keys, at sizes around the radix cut-over.
func TestSortInMemoryAgainstStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(28, 1))
	for _, n := range []int{0, 1, 2, 63, 64, 65, 1000, 20000} {
		recs := randomRecords(uint64(29+n), n)
		for i := range recs {
			if i%3 == 0 {
				recs[i].Start = -recs[i].Start // before 1970
			}
			if i%5 == 0 && i > 0 {
				recs[i].Start = recs[i-1].Start // ties
			}
			recs[i].Bytes = uint64(rng.IntN(50)) // many equal keys
		}
		for _, keys := range [][]Field{{Start}, {Bytes}, {Protocol}, {End}, {SrcAddr}, {Start, Bytes}} {
			for _, reverse := range []bool{false, true} {
				want := slices.Clone(recs)
				sort.SliceStable(want, func(i, j int) bool {
					c := CompareRecords(&want[i], &want[j], keys)
					if reverse {
						return c > 0
					}
					return c < 0
				})
				got := slices.Clone(recs)
				SortRecords(got, keys, reverse)
				if !slices.Equal(got, want) {
					t.Fatalf("SortRecords n=%d %v reverse=%v differs from a stable sort", n, keys, reverse)
				}
				s := NewSorter(keys, reverse, int64(n+flow.DefaultBatchSize)*int64(recordSize), t.TempDir())
				if err := s.WriteBatch(recs); err != nil {
					t.Fatal(err)
				}
				var out flow.SliceSink
				if err := s.Output(&out); err != nil {
					t.Fatal(err)
				}
				if s.Runs() != 0 || len(out.Recs) != n || (n > 0 && !slices.Equal(out.Recs, want)) {
					t.Fatalf("Sorter n=%d %v reverse=%v: %d runs, output differs from a stable sort", n, keys, reverse, s.Runs())
				}
			}
		}
	}
}
