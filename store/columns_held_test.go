package store

import (
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// TestHeldColumnsRefill reads blocks whose columns switch between one
// value, another value and varying values, of different lengths, into one
// reused Columns (and once into a vector the caller replaced): every row
// must read back as written although constant columns are not rewritten
// when their vector already holds the value.
func TestHeldColumnsRefill(t *testing.T) {
	mk := func(rows int, t0 int64, kind int) []flow.Record {
		recs := make([]flow.Record, rows)
		for i := range recs {
			r := &recs[i]
			r.Start = t0 + int64(i)*1e6
			r.End = r.Start + 5e6
			r.Src = flow.AddrFromUint32(0x0a000001 + uint32(i%7))
			r.Dst = flow.AddrFromUint32(0xc0a80001 + uint32(i%5))
			r.Packets, r.Bytes = 3, 300
			r.Protocol = 6
			switch kind {
			case 0: // one set of constants
				r.Input, r.Sensor, r.Type, r.VLAN = 7, 3, flow.FlowType(1), 0
				r.NextHop = flow.AddrFromUint32(0x0a0000fe)
				r.RevPackets, r.RevBytes = 0, 0
			case 1: // another
				r.Input, r.Sensor, r.Type, r.VLAN = 9, 4, flow.FlowType(2), 12
				r.NextHop = flow.AddrFromUint32(0x0a0000fd)
				r.RevPackets, r.RevBytes = 2, 120
			default: // varying
				r.Input, r.Sensor, r.Type, r.VLAN = uint32(i%3), uint16(i%4), flow.FlowType(i%3), uint16(i%2)
				r.NextHop = flow.AddrFromUint32(0x0a000000 + uint32(i%3))
				r.RevPackets, r.RevBytes = uint64(i%3), uint64(i%3)*60
			}
		}
		return recs
	}
	var long, short []flow.Record
	for b, kind := range []int{0, 2, 0, 1, 2, 1} {
		long = append(long, mk(1000, int64(b)*1e12, kind)...)
	}
	for b, kind := range []int{1, 0} {
		short = append(short, mk(500, int64(b)*1e12, kind)...)
	}
	fl, err := OpenBytes("long", writeFile(t, long, 1000))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := OpenBytes("short", writeFile(t, short, 500))
	if err != nil {
		t.Fatal(err)
	}
	type read struct {
		f    *File
		recs []flow.Record
		b    int
	}
	seq := []read{{fl, long, 0}, {fl, long, 1}, {fl, long, 2}, {fl, long, 3}, {fs, short, 0},
		{fl, long, 3}, {fl, long, 5}, {fs, short, 1}, {fl, long, 0}, {fl, long, 4}, {fl, long, 0}}
	var cols Columns
	var rec flow.Record
	for k, r := range seq {
		if k == 9 {
			cols.Input = make([]uint32, 2000) // the caller's own vector
		}
		if err := r.f.ReadColumns(r.b, AllColumns, &cols); err != nil {
			t.Fatal(err)
		}
		rows := r.f.Block(r.b).Rows
		for i := 0; i < rows; i++ {
			cols.Record(i, &rec)
			if want := r.recs[r.b*rows+i]; rec != want {
				t.Fatalf("read %d (block %d of %s) row %d:\n got %+v\nwant %+v", k, r.b, r.f.Path(), i, rec, want)
			}
		}
	}
}
