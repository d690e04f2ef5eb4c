package store

import (
	"bytes"
	"encoding/binary"
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
// testdata/golden-v2.fkb from goldenRecords in blocks of 16 rows, and
// testdata/golden-v2-paired.fkb (whose larger block holds paired integer
// streams) from pairedRecords (regenerate with go test -run Golden
// -update after a deliberate format change, and bump Version), and the
// reader must read them back.
func TestGoldenFile(t *testing.T) {
	for _, c := range []struct {
		name      string
		recs      []flow.Record
		blockRows int
	}{
		{"golden-v2.fkb", goldenRecords(), 16},
		{"golden-v2-paired.fkb", pairedRecords(), 0},
	} {
		data := writeFile(t, c.recs, c.blockRows)
		path := filepath.Join("testdata", c.name)
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
		checkGolden(t, path, want, c.recs, c.blockRows, Version)
	}
}

// TestGoldenFileV1 reads a file the version 1 writer wrote (goldenRecords
// in blocks of 16): version 2 readers read version 1.
func TestGoldenFileV1(t *testing.T) {
	path := filepath.Join("testdata", "golden-v1.fkb")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, path, data, goldenRecords(), 16, 1)
}

// TestGoldenPairedStreams checks that the paired golden file holds what
// it is there to pin: integer streams that give their split bit.
func TestGoldenPairedStreams(t *testing.T) {
	f, err := OpenBytes("paired", writeFile(t, pairedRecords(), 0))
	if err != nil {
		t.Fatal(err)
	}
	paired := 0
	d := &blockDecoder{}
	for _, c := range []Column{ColStart, ColPackets} {
		raw, err := f.chunk(d, 0, c, true)
		if err != nil {
			t.Fatal(err)
		}
		if c == ColStart {
			_, k := binary.Uvarint(raw)
			raw = raw[k:]
		}
		if h, _, err := readStreamHeader(raw); err == nil && h.paired {
			paired++
		}
	}
	if paired != 2 {
		t.Fatalf("%d of the start and packets streams are paired, want 2", paired)
	}
}

// pairedRecords is one block of 600 records whose time deltas and packet
// counts need two tiers or more: enough values for paired streams.
func pairedRecords() []flow.Record {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	recs := make([]flow.Record, 600)
	t := base
	for i := range recs {
		t += int64(time.Millisecond) * int64(i%7*i%3+(i%97)/96*5000)
		recs[i] = flow.Record{
			Start:    t,
			End:      t + int64(i%11)*int64(time.Millisecond),
			Src:      flow.AddrFromUint32(0x0a000000 + uint32(i%50)),
			Dst:      flow.AddrFromUint32(0xc6336400 + uint32(i*7919%600)),
			Packets:  uint64(1 + i%3 + (i%89)/88*100000),
			SrcPort:  uint16(32768 + i*31%28000),
			DstPort:  []uint16{443, 80, 53, 22}[i%4],
			Protocol: []uint8{6, 6, 17, 6}[i%4],
			Flags:    flow.SYN | flow.ACK,
			Sensor:   1,
		}
		recs[i].Bytes = recs[i].Packets * uint64(40+i%1400)
	}
	return recs
}

// checkGolden reads a golden file back and compares it with recs, sorted
// by start time per block of blockRows (0: one block).
func checkGolden(t *testing.T, path string, data []byte, recs []flow.Record, blockRows, version int) {
	t.Helper()
	f, err := OpenBytes(path, data)
	if err != nil {
		t.Fatal(err)
	}
	if blockRows == 0 {
		blockRows = len(recs)
	}
	blocks := (len(recs) + blockRows - 1) / blockRows
	if f.NumBlocks() != blocks || f.Rows() != int64(len(recs)) || f.Version() != version {
		t.Fatalf("%s: blocks %d rows %d version %d, want %d, %d, %d", path, f.NumBlocks(), f.Rows(), f.Version(), blocks, len(recs), version)
	}
	var got []flow.Record
	var rerr error
	for r := range f.Records(AllColumns, &rerr) {
		got = append(got, r)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	for b := 0; b < blocks; b++ {
		exp := sortByStart(recs[b*blockRows : min((b+1)*blockRows, len(recs))])
		for i := range exp {
			if got[b*blockRows+i] != exp[i] {
				t.Fatalf("%s block %d row %d: got %+v want %+v", path, b, i, got[b*blockRows+i], exp[i])
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
	f.Add(writeFile(f, pairedRecords(), 0))
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
		// packet counts from the input, so that the end column's
		// remainders have widths of every size (0 to past a load)
		for i := range cols.Packets {
			if len(raw) > 0 {
				b := uint64(raw[i%len(raw)])
				cols.Packets[i] = b << (b % 64)
			}
		}
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
