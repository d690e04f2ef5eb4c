package parquet

import (
	"bytes"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/parquet-go/parquet-go"
)

// TestTextStatistics: the text columns, whose dictionaries the writer
// keeps itself, have exact min and max texts in their column chunk
// statistics and in the page index, page by page, over several row
// groups and pages (the synthesizer's day and records with IPv6
// addresses, next hops and every enum value, and the day as it is: IPv4
// only, whose address pages' bounds the writer finds as it goes).
func TestTextStatistics(t *testing.T) {
	t.Run("ipv4", func(t *testing.T) { testTextStatistics(t, day(t)) })
	recs := append([]flow.Record(nil), day(t)...)
	for i := range recs {
		if i%7 == 0 {
			recs[i].NextHop = flow.AddrFrom(mustAddr("2001:db8::99"))
			recs[i].Src = flow.AddrFrom(mustAddr("fe80::1"))
			recs[i].EndReason = flow.EndReason(i % 9)
			recs[i].Type = flow.FlowType(i % 7)
		}
	}
	t.Run("mixed", func(t *testing.T) { testTextStatistics(t, recs) })
}

func testTextStatistics(t *testing.T, recs []flow.Record) {
	for _, rg := range []int{0, 20_000} {
		data := export(t, recs, Options{RowGroupRows: rg})
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		pages := 0
		first := int64(0)
		for gi, g := range f.RowGroups() {
			for _, id := range []colID{colSrcAddr, colDstAddr, colNextHop, colEndReason, colType} {
				text := func(r *flow.Record) string {
					switch id {
					case colSrcAddr:
						return r.Src.String()
					case colDstAddr:
						return r.Dst.String()
					case colNextHop:
						if r.NextHop == (flow.Addr{}) {
							return ""
						}
						return r.NextHop.String()
					case colEndReason:
						return r.EndReason.String()
					}
					return r.Type.String()
				}
				bounds := func(from, to int64) (lo, hi string) {
					lo, hi = text(&recs[from]), text(&recs[from])
					for i := from; i < to; i++ {
						lo, hi = min(lo, text(&recs[i])), max(hi, text(&recs[i]))
					}
					return lo, hi
				}
				cc := g.ColumnChunks()[colIndex[id]]
				end := first + g.NumRows()
				lo, hi := bounds(first, end)
				st := f.Metadata().RowGroups[gi].Columns[colIndex[id]].MetaData.Statistics
				if got, want := string(st.MinValue)+" "+string(st.MaxValue), lo+" "+hi; got != want || st.NullCount != 0 {
					t.Errorf("row group rows %d, %s, row group %d: statistics %q (%d nulls), want %q", rg, colNames[id], gi, got, st.NullCount, want)
				}
				ci, rows := pageRows(t, cc, first, end)
				for p, r := range rows {
					from, to := r[0], r[1]
					plo, phi := bounds(from, to)
					if got, want := string(ci.MinValue(p).ByteArray())+" "+string(ci.MaxValue(p).ByteArray()), plo+" "+phi; got != want {
						t.Errorf("row group rows %d, %s, page %d (rows %d-%d): page index %q, want %q", rg, colNames[id], p, from, to, got, want)
					}
					pages++
				}
			}
			first += g.NumRows()
		}
		if first != int64(len(recs)) {
			t.Fatalf("%d rows in the row groups, want %d", first, len(recs))
		}
		t.Logf("row group rows %d: %d row groups, %d text column pages", rg, len(f.RowGroups()), pages)
	}
}

// pageRows returns the page index of column chunk cc, of a row group
// holding rows first to end, and the rows of each of its pages.
func pageRows(t *testing.T, cc parquet.ColumnChunk, first, end int64) (parquet.ColumnIndex, [][2]int64) {
	t.Helper()
	ci, err := cc.ColumnIndex()
	if err != nil {
		t.Fatal(err)
	}
	oi, err := cc.OffsetIndex()
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][2]int64, oi.NumPages())
	for p := range rows {
		rows[p] = [2]int64{first + oi.FirstRowIndex(p), end}
		if p+1 < oi.NumPages() {
			rows[p][1] = first + oi.FirstRowIndex(p+1)
		}
	}
	return ci, rows
}
