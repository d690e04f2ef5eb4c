package parquet

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/parquet-go/parquet-go"
)

// TestIntStatistics: the integer dictionary columns, whose dictionaries
// and page bounds the writer keeps itself, and the IPv4 columns (null for
// IPv6) have exact min and max values in their column chunk statistics
// and in the page index, page by page, over several row groups.
func TestIntStatistics(t *testing.T) {
	recs := append([]flow.Record(nil), day(t)...)
	for i := range recs {
		if i%5 == 0 {
			recs[i].Src = flow.AddrFrom(mustAddr("2001:db8::7"))
			recs[i].Packets = 1<<40 + uint64(i)
			recs[i].SrcAS = uint32(i % 70000)
			recs[i].Sensor = uint16(i)
		}
	}
	ipv4 := func(a flow.Addr) (uint64, bool) { return uint64(a.Uint32()), a.Is4() }
	cols := map[colID]func(r *flow.Record) (uint64, bool){
		colSrcPort:  func(r *flow.Record) (uint64, bool) { return uint64(r.SrcPort), true },
		colDstPort:  func(r *flow.Record) (uint64, bool) { return uint64(r.DstPort), true },
		colProtocol: func(r *flow.Record) (uint64, bool) { return uint64(r.Protocol), true },
		colPackets:  func(r *flow.Record) (uint64, bool) { return r.Packets, true },
		colSrcAS:    func(r *flow.Record) (uint64, bool) { return uint64(r.SrcAS), true },
		colSensor:   func(r *flow.Record) (uint64, bool) { return uint64(r.Sensor), true },
		colFlags:    func(r *flow.Record) (uint64, bool) { return uint64(r.Flags), true },
		colSrcIPv4:  func(r *flow.Record) (uint64, bool) { return ipv4(r.Src) },
		colDstIPv4:  func(r *flow.Record) (uint64, bool) { return ipv4(r.Dst) },
	}
	// le reads a little-endian statistics value.
	le := func(b []byte) uint64 {
		if len(b) == 4 {
			return uint64(binary.LittleEndian.Uint32(b))
		}
		return binary.LittleEndian.Uint64(b)
	}
	val := func(v parquet.Value) uint64 {
		if v.Kind() == parquet.Int32 {
			return uint64(v.Uint32())
		}
		return v.Uint64()
	}
	for _, rg := range []int{0, 20_000} {
		data := export(t, recs, Options{RowGroupRows: rg})
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		first := int64(0)
		for gi, g := range f.RowGroups() {
			end := first + g.NumRows()
			for id, get := range cols {
				bounds := func(from, to int64) (lo, hi uint64, nulls int64) {
					lo = ^uint64(0)
					for i := from; i < to; i++ {
						v, ok := get(&recs[i])
						if !ok {
							nulls++
							continue
						}
						lo, hi = min(lo, v), max(hi, v)
					}
					return lo, hi, nulls
				}
				lo, hi, nulls := bounds(first, end)
				st := f.Metadata().RowGroups[gi].Columns[colIndex[id]].MetaData.Statistics
				if got := [3]uint64{le(st.MinValue), le(st.MaxValue), uint64(st.NullCount)}; got != [3]uint64{lo, hi, uint64(nulls)} {
					t.Errorf("row group rows %d, %s, row group %d: min, max, nulls %v, want %v", rg, colNames[id], gi, got, [3]uint64{lo, hi, uint64(nulls)})
				}
				ci, pages := pageRows(t, g.ColumnChunks()[colIndex[id]], first, end)
				for p, rows := range pages {
					from, to := rows[0], rows[1]
					plo, phi, _ := bounds(from, to)
					if got := [2]uint64{val(ci.MinValue(p)), val(ci.MaxValue(p))}; got != [2]uint64{plo, phi} {
						t.Errorf("row group rows %d, %s, page %d (rows %d-%d): page index %v, want %v", rg, colNames[id], p, from, to, got, [2]uint64{plo, phi})
					}
				}
			}
			first = end
		}
		if first != int64(len(recs)) {
			t.Fatalf("%d rows in the row groups, want %d", first, len(recs))
		}
	}
}
