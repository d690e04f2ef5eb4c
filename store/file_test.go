package store

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// randomRecords makes n records with every field set, biased like real
// traffic (few protocols and ports, many addresses, IPv6 mixed in).
func randomRecords(rng *rand.Rand, n int, start int64) []flow.Record {
	recs := make([]flow.Record, n)
	ports := []uint16{80, 443, 53, 22, 25, 123}
	for i := range recs {
		r := &recs[i]
		r.Start = start + rng.Int64N(int64(time.Hour))
		r.End = r.Start + rng.Int64N(int64(time.Minute))
		if rng.IntN(10) == 0 {
			r.Src = flow.AddrFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(rng.IntN(50))}))
		} else {
			r.Src = flow.AddrFromUint32(0x0a000000 | uint32(rng.IntN(300)))
		}
		r.Dst = flow.AddrFromUint32(rng.Uint32())
		if rng.IntN(3) == 0 {
			r.NextHop = flow.AddrFromUint32(0xc0a80001)
		}
		r.Packets = 1 + rng.Uint64N(1000)
		r.Bytes = r.Packets*40 + rng.Uint64N(r.Packets*1460+1)
		if rng.IntN(2) == 0 {
			r.RevPackets = rng.Uint64N(500)
			r.RevBytes = r.RevPackets * 60
			r.RevStartOffset = time.Duration(rng.Int64N(1e9) - 1e8)
		}
		r.Input, r.Output = rng.Uint32N(8), rng.Uint32()
		r.SrcAS, r.DstAS = rng.Uint32N(70000), 64512
		r.SrcPort = uint16(rng.IntN(65536))
		r.DstPort = ports[rng.IntN(len(ports))]
		if rng.IntN(5) == 0 {
			r.DstPort = uint16(rng.IntN(65536))
		}
		r.Sensor = uint16(rng.IntN(3))
		r.VLAN = uint16(rng.IntN(4096))
		r.Application = []uint16{0, 80, 443, 53}[rng.IntN(4)]
		r.Protocol = []uint8{6, 6, 6, 17, 1, 58}[rng.IntN(6)]
		r.Flags = flow.TCPFlags(rng.IntN(256))
		r.InitialFlags = flow.SYN
		r.SessionFlags = flow.TCPFlags(rng.IntN(256))
		r.RevFlags = flow.TCPFlags(rng.IntN(256))
		r.RevInitialFlags = flow.SYN | flow.ACK
		r.RevSessionFlags = flow.TCPFlags(rng.IntN(4))
		r.EndReason = flow.EndReason(rng.IntN(6))
		r.Type = flow.FlowType(rng.IntN(5))
	}
	return recs
}

func writeFile(t testing.TB, recs []flow.Record, blockRows int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewFileWriter(&buf, blockRows)
	if err := w.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func sortByStart(recs []flow.Record) []flow.Record {
	out := slices.Clone(recs)
	slices.SortStableFunc(out, func(a, b flow.Record) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	return out
}

func TestRoundTripEveryField(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := randomRecords(rng, 5000, 1767225600e9)
	data := writeFile(t, recs, 1000)
	f, err := OpenBytes("mem", data)
	if err != nil {
		t.Fatal(err)
	}
	if f.NumBlocks() != 5 || f.Rows() != 5000 {
		t.Fatalf("blocks %d rows %d", f.NumBlocks(), f.Rows())
	}
	var got []flow.Record
	var rerr error
	for r := range f.Records(AllColumns, &rerr) {
		got = append(got, r)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	// each block is sorted by Start on its own
	for b := 0; b < 5; b++ {
		want := sortByStart(recs[b*1000 : (b+1)*1000])
		for i := range want {
			if got[b*1000+i] != want[i] {
				t.Fatalf("block %d row %d:\n got %+v\nwant %+v", b, i, got[b*1000+i], want[i])
			}
		}
	}
}

func TestProjectionLeavesOtherFieldsZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	recs := randomRecords(rng, 300, 0)
	f, err := OpenBytes("mem", writeFile(t, recs, 0))
	if err != nil {
		t.Fatal(err)
	}
	var cols Columns
	if err := f.ReadColumns(0, MaskOf(ColDstPort, ColBytes), &cols); err != nil {
		t.Fatal(err)
	}
	if cols.Mask != MaskOf(ColDstPort, ColBytes, ColPackets) {
		t.Fatalf("mask %b", cols.Mask)
	}
	want := sortByStart(recs)
	for i := range want {
		if cols.DstPort[i] != want[i].DstPort || cols.Bytes[i] != want[i].Bytes {
			t.Fatalf("row %d", i)
		}
	}
	if cols.Start != nil || cols.Src != nil {
		t.Fatal("unrequested columns decoded")
	}
}

func TestIndexLookupsMatchScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	recs := sortByStart(randomRecords(rng, 20000, 0))
	f, err := OpenBytes("mem", writeFile(t, recs, 0))
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, c Column, lookup func(ix *Index) []uint32, match func(r *flow.Record) bool) {
		t.Helper()
		ix, err := f.Index(0, c)
		if err != nil {
			t.Fatal(err)
		}
		got := lookup(ix)
		var want []uint32
		for i := range recs {
			if match(&recs[i]) {
				want = append(want, uint32(i))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: got %d rows, want %d", name, len(got), len(want))
		}
		if len(want) == 0 {
			t.Fatalf("%s: test matches nothing", name)
		}
	}
	for _, p := range []uint64{443, 80, 22, uint64(recs[7].DstPort)} {
		check("dport", ColDstPort, func(ix *Index) []uint32 { return ix.Lookup(p).ToArray() },
			func(r *flow.Record) bool { return uint64(r.DstPort) == p })
	}
	check("sport range", ColSrcPort, func(ix *Index) []uint32 { return ix.LookupRange(0, 1023).ToArray() },
		func(r *flow.Record) bool { return r.SrcPort <= 1023 })
	check("proto", ColProtocol, func(ix *Index) []uint32 { return ix.Lookup(17).ToArray() },
		func(r *flow.Record) bool { return r.Protocol == 17 })
	check("flags", ColFlags, func(ix *Index) []uint32 { return ix.Lookup(uint64(flow.SYN | flow.ACK)).ToArray() },
		func(r *flow.Record) bool { return r.Flags == flow.SYN|flow.ACK })
	check("sensor", ColSensor, func(ix *Index) []uint32 { return ix.Lookup(2).ToArray() },
		func(r *flow.Record) bool { return r.Sensor == 2 })
	check("app", ColApplication, func(ix *Index) []uint32 { return ix.Lookup(53).ToArray() },
		func(r *flow.Record) bool { return r.Application == 53 })
	host := recs[11].Src
	check("host", ColSrc, func(ix *Index) []uint32 { return ix.LookupAddr(host).ToArray() },
		func(r *flow.Record) bool { return r.Src == host })
	rare := recs[12].Dst
	check("rare host", ColDst, func(ix *Index) []uint32 { return ix.LookupAddr(rare).ToArray() },
		func(r *flow.Record) bool { return r.Dst == rare })
	net := netip.MustParsePrefix("10.0.0.0/24")
	check("net", ColSrc, func(ix *Index) []uint32 { return ix.LookupPrefix(net).ToArray() },
		func(r *flow.Record) bool { return net.Contains(r.SrcAddr()) })
	net6 := netip.MustParsePrefix("2001:db8::/120")
	check("net6", ColSrc, func(ix *Index) []uint32 { return ix.LookupPrefix(net6).ToArray() },
		func(r *flow.Record) bool { return net6.Contains(r.SrcAddr()) })
	nh := flow.AddrFromUint32(0xc0a80001)
	check("nexthop", ColNextHop, func(ix *Index) []uint32 { return ix.LookupAddr(nh).ToArray() },
		func(r *flow.Record) bool { return r.NextHop == nh })
}

func TestEveryFlippedByteIsDetected(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	recs := randomRecords(rng, 400, 0)
	data := writeFile(t, recs, 200)
	step := 1
	if testing.Short() {
		step = 7
	}
	for i := 0; i < len(data); i += step {
		bad := slices.Clone(data)
		bad[i] ^= 0x40
		f, err := OpenBytes("flip", bad)
		if err == nil {
			var rerr error
			for range f.Records(AllColumns, &rerr) {
			}
			err = rerr
		}
		if err == nil {
			t.Fatalf("flipped byte %d of %d not detected", i, len(data))
		}
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d: error %v does not wrap ErrCorrupt", i, err)
		}
	}
}

func TestEmptyFile(t *testing.T) {
	f, err := OpenBytes("empty", writeFile(t, nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumBlocks() != 0 || f.Rows() != 0 {
		t.Fatal("empty file has rows")
	}
}

// TestImplicitIPv6Exceptions covers an address column of mostly one-off
// IPv6 addresses (exceptions outnumber every value, so they are implicit).
func TestImplicitIPv6Exceptions(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	recs := make([]flow.Record, 3000)
	hot := flow.AddrFrom(netip.MustParseAddr("2001:db8::1"))
	for i := range recs {
		var b [16]byte
		b[0], b[1] = 0x20, 0x01
		for j := 8; j < 16; j++ {
			b[j] = byte(rng.IntN(256))
		}
		recs[i].Start = int64(i)
		recs[i].Dst = flow.Addr(b)
		if i%5 == 0 {
			recs[i].Dst = hot
		}
	}
	f, err := OpenBytes("v6", writeFile(t, recs, 0))
	if err != nil {
		t.Fatal(err)
	}
	ix, err := f.Index(0, ColDst)
	if err != nil {
		t.Fatal(err)
	}
	if !ix.implicit || ix.kind != kindAddr6 {
		t.Fatalf("want implicit IPv6 exceptions, got implicit=%v kind=%d", ix.implicit, ix.kind)
	}
	if got := ix.LookupAddr(hot).GetCardinality(); got != 600 {
		t.Fatalf("hot address: %d rows", got)
	}
	if got := ix.LookupAddr(recs[7].Dst).ToArray(); len(got) != 1 || got[0] != 7 {
		t.Fatalf("one-off address: rows %v", got)
	}
	if got := ix.LookupPrefix(netip.MustParsePrefix("2001::/16")).GetCardinality(); got != 3000 {
		t.Fatalf("prefix: %d rows", got)
	}
	var cols Columns
	if err := f.ReadColumns(0, MaskOf(ColDst), &cols); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if cols.Dst[i] != recs[i].Dst {
			t.Fatalf("row %d", i)
		}
	}
}
