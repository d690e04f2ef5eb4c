package store

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenRecords is a small fixed set touching every column and both
// address kinds.
func goldenRecords() []flow.Record {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var recs []flow.Record
	for i := 0; i < 40; i++ {
		r := flow.Record{
			Start:    base + int64(39-i)*int64(time.Millisecond)*7,
			Src:      flow.AddrFromUint32(0x0a000005 + uint32(i%3)),
			Dst:      flow.AddrFromUint32(0xc6336400 + uint32(i*i)),
			Packets:  uint64(1 + i%5),
			SrcPort:  uint16(40000 + i),
			DstPort:  []uint16{443, 80, 53}[i%3],
			Protocol: []uint8{6, 6, 17}[i%3],
			Flags:    flow.SYN | flow.ACK,
			Sensor:   1,
			Type:     flow.TypeOut,
		}
		r.End = r.Start + int64(i)*int64(time.Millisecond)
		r.Bytes = r.Packets*60 + uint64(i)
		if i%10 == 0 {
			r.Dst = flow.AddrFrom(netip.MustParseAddr("2001:db8::7"))
			r.NextHop = flow.AddrFrom(netip.MustParseAddr("fe80::1"))
			r.RevPackets, r.RevBytes, r.RevStartOffset = 2, 120, 3*time.Millisecond
			r.Input, r.Output, r.SrcAS, r.DstAS, r.VLAN = 1, 2, 64500, 15169, 10
			r.Application, r.EndReason = 443, flow.EndOfFlow
			r.InitialFlags, r.SessionFlags = flow.SYN, flow.ACK|flow.FIN
			r.RevFlags, r.RevInitialFlags, r.RevSessionFlags = flow.SYN|flow.ACK, flow.SYN|flow.ACK, flow.ACK
		}
		recs = append(recs, r)
	}
	return recs
}

// TestGoldenFile pins the binary format: the writer must produce exactly
// testdata/golden-v1.fkb (regenerate with go test -run Golden -update
// after a deliberate format change, and bump Version), and the reader must
// read it back.
func TestGoldenFile(t *testing.T) {
	recs := goldenRecords()
	data := writeFile(t, recs, 16)
	path := filepath.Join("testdata", "golden-v1.fkb")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Fatalf("writer output (%d bytes) differs from %s (%d bytes): the format changed", len(data), path, len(want))
	}
	f, err := OpenBytes(path, want)
	if err != nil {
		t.Fatal(err)
	}
	if f.NumBlocks() != 3 || f.Rows() != 40 {
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
	for b := 0; b < 3; b++ {
		exp := sortByStart(recs[b*16 : min((b+1)*16, 40)])
		for i := range exp {
			if got[b*16+i] != exp[i] {
				t.Fatalf("block %d row %d: got %+v want %+v", b, i, got[b*16+i], exp[i])
			}
		}
	}
}

// FuzzFile feeds arbitrary bytes to the file reader: it must return an
// error or records, never panic.
func FuzzFile(f *testing.F) {
	f.Add(writeFile(f, goldenRecords(), 16))
	f.Add(writeFile(f, goldenRecords()[:3], 0))
	f.Add(writeFile(f, nil, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		fl, err := OpenBytes("fuzz", data)
		if err != nil {
			return
		}
		var rerr error
		for range fl.Records(AllColumns, &rerr) {
		}
		for b := 0; b < fl.NumBlocks(); b++ {
			for c := Column(0); int(c) < NumColumns; c++ {
				if ix, err := fl.Index(b, c); err == nil {
					ix.Lookup(80)
					ix.LookupPrefix(netip.MustParsePrefix("10.0.0.0/8"))
				}
			}
		}
	})
}

// FuzzChunks feeds arbitrary bytes to the column decoders directly, past
// the checksums that stop most mutations in FuzzFile.
func FuzzChunks(f *testing.F) {
	data := writeFile(f, goldenRecords(), 0)
	fl, err := OpenBytes("seed", data)
	if err != nil {
		f.Fatal(err)
	}
	d := &blockDecoder{}
	for c := Column(0); int(c) < NumColumns; c++ {
		raw, err := fl.chunk(d, 0, c, true)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(c), raw)
	}
	f.Fuzz(func(t *testing.T, col uint8, raw []byte) {
		c := Column(col % uint8(NumColumns))
		var cols Columns
		cols.Start = make([]int64, 40)
		cols.Packets = make([]uint64, 40)
		cols.RevPackets = make([]uint64, 40)
		dec := &blockDecoder{}
		dec.decodeColumn(raw, c, 40, &cols)
		if ix, err := parseIndex(raw, c, 40); err == nil {
			ix.Lookup(1)
			ix.LookupRange(0, 100)
			ix.LookupAddr(flow.AddrFromUint32(1))
			ix.LookupPrefix(netip.MustParsePrefix("::/0"))
		}
	})
}
