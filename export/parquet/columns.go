package parquet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/flowkit/flowkit/flow"
	"github.com/parquet-go/parquet-go"
)

// colID names a column of the schema for the column-wise writer.
type colID uint8

const (
	colStart colID = iota
	colEnd
	colSrcAddr
	colDstAddr
	colSrcIPv4
	colDstIPv4
	colNextHop
	colSrcPort
	colDstPort
	colProtocol
	colPackets
	colBytes
	colRevPackets
	colRevBytes
	colRevStartOffset
	colInput
	colOutput
	colSrcAS
	colDstAS
	colSensor
	colVLAN
	colApplication
	colFlags
	colInitialFlags
	colSessionFlags
	colRevFlags
	colRevInitialFlags
	colRevSessionFlags
	colEndReason
	colType
	numCols
)

// colNames are the column names of the colIDs, as the row struct tags
// spell them.
var colNames = [numCols]string{
	"start_time", "end_time", "src_addr", "dst_addr", "src_ipv4", "dst_ipv4", "next_hop",
	"src_port", "dst_port", "protocol", "packets", "bytes", "rev_packets", "rev_bytes",
	"rev_start_offset_ns", "input", "output", "src_as", "dst_as", "sensor", "vlan", "application",
	"flags", "initial_flags", "session_flags", "rev_flags", "rev_initial_flags", "rev_session_flags",
	"end_reason", "flow_type",
}

// colIndex maps a colID to its leaf column index in Schema.
var colIndex = func() (idx [numCols]int) {
	if n := len(Schema.Columns()); n != int(numCols) {
		panic(fmt.Sprintf("parquet: schema has %d columns, the column writer knows %d", n, numCols))
	}
	for id, name := range colNames {
		leaf, ok := Schema.Lookup(name)
		if !ok {
			panic("parquet: schema has no column " + name)
		}
		idx[id] = leaf.ColumnIndex
	}
	return idx
}()

// colOrder is the order in which the writer's two goroutines take columns
// from a chunk: the costliest first (address text and its dictionary,
// with the IPv4 column beside it, timestamps, wide counters), so that the
// last ones taken, which decide who waits for whom, are cheap. The IPv4
// columns are not in it: the address columns' jobs write them.
var colOrder = [...]colID{
	colSrcAddr, colDstAddr, colStart, colEnd, colBytes, colPackets,
	colNextHop, colRevBytes, colRevPackets, colRevStartOffset, colSrcPort, colDstPort,
	colSrcAS, colDstAS, colInput, colOutput, colProtocol, colSensor, colVLAN, colApplication,
	colFlags, colInitialFlags, colSessionFlags, colRevFlags, colRevInitialFlags, colRevSessionFlags,
	colEndReason, colType,
}

// scratch is one goroutine's column values of a chunk.
type scratch struct {
	u64  []uint64        // an integer column's values
	vals []parquet.Value // an IPv4 column: its dictionary index or null
}

func newScratch() *scratch {
	return &scratch{u64: make([]uint64, chunkRows), vals: make([]parquet.Value, chunkRows)}
}

// writeColumn writes column id of recs (at most chunkRows records) to
// cols, and for the source and destination address also the IPv4 column;
// zero says the column is all zeros in recs (see zeroScan). It fills the
// column's page buffer in place, then lets parquet-go write it out if
// full.
func writeColumn(cols *colStates, id colID, s *scratch, recs []flow.Record, zero bool) error {
	st := &cols[id]
	b, err := st.buffer()
	if err != nil {
		return err
	}
	n := len(recs)
	switch {
	case zero && b.kind == indexKind && st.ints != nil:
		dst, i := b.grow32(n), st.ints.index(0)
		for k := range dst {
			dst[k] = i
		}
		b.bound(0, 0)
		return st.written()
	case zero && b.kind == int64Kind:
		clear(b.grow64(n))
		return st.written()
	case zero && b.kind == uint64Kind:
		clear(b.growU64(n))
		return st.written()
	}
	switch id {
	case colStart:
		dst := b.grow64(n)
		for i := range dst {
			dst[i] = recs[i].Start
		}
	case colEnd:
		dst := b.grow64(n)
		for i := range dst {
			dst[i] = recs[i].End
		}
	case colRevStartOffset:
		dst := b.grow64(n)
		for i := range dst {
			dst[i] = int64(recs[i].RevStartOffset)
		}
	case colBytes:
		dst := b.growU64(n)
		for i := range dst {
			dst[i] = recs[i].Bytes
		}
	case colRevBytes:
		dst := b.growU64(n)
		for i := range dst {
			dst[i] = recs[i].RevBytes
		}
	case colSrcAddr, colDstAddr:
		v4, v4id := &cols[colSrcIPv4], colSrcIPv4
		get := func(r *flow.Record) *flow.Addr { return &r.Src }
		if id == colDstAddr {
			v4, v4id = &cols[colDstIPv4], colDstIPv4
			get = func(r *flow.Record) *flow.Addr { return &r.Dst }
		}
		v4b, err := v4.buffer()
		if err != nil {
			return err
		}
		// The IPv4 column's bounds go in before its values, which
		// parquet-go may write out as a page at once.
		v4b.bound(fillAddr(b.grow32(n), s.vals, recs, st.text, v4.ints, &b.text, false, get))
		if _, err := v4.cw.WriteRowValues(s.vals[:n]); err != nil {
			return fmt.Errorf("column %s: %w", colNames[v4id], err)
		}
	case colNextHop:
		fillAddr(b.grow32(n), nil, recs, st.text, nil, &b.text, true, func(r *flow.Record) *flow.Addr { return &r.NextHop })
	case colEndReason:
		d, dst := st.text, b.grow32(n)
		for i := range dst {
			v := recs[i].EndReason
			dst[i] = d.indexOfEnum(uint8(v), endReasonText[v])
		}
	case colType:
		d, dst := st.text, b.grow32(n)
		for i := range dst {
			v := recs[i].Type
			dst[i] = d.indexOfEnum(uint8(v), flowTypeText[v])
		}
	default:
		vals := s.u64[:n]
		if !gather(vals, id, recs) {
			return fmt.Errorf("no column %d", id)
		}
		lo, hi := st.ints.indexes(b.grow32(n), vals)
		b.bound(lo, hi)
	}
	if st.dict != nil { // an address column's, its page as it grows
		if err := st.dict.feed(st.text); err != nil {
			return fmt.Errorf("compressing the dictionary: %w", err)
		}
	}
	if st.text != nil && st.text.Size() > maxTextDict {
		return fmt.Errorf("%w: %d bytes of texts", ErrDictTooLarge, st.text.Size())
	}
	return st.written()
}

// maxTextDict bounds a text column's dictionary in a row group:
// parquet-go would turn a column whose dictionary passed 1 GiB to PLAIN
// pages, which the writer, handing it dictionary indexes, cannot write.
var maxTextDict int64 = 512 << 20

// ErrDictTooLarge is returned by WriteBatch when a row group has more
// distinct addresses than a dictionary page holds: set a smaller
// Options.RowGroupRows.
var ErrDictTooLarge = errors.New("parquet: address dictionary of the row group too large")

// gather sets vals to the values of integer column id of recs; false
// when id is not one.
func gather(vals []uint64, id colID, recs []flow.Record) bool {
	recs = recs[:len(vals)]
	switch id {
	case colSrcPort:
		for i := range recs {
			vals[i] = uint64(recs[i].SrcPort)
		}
	case colDstPort:
		for i := range recs {
			vals[i] = uint64(recs[i].DstPort)
		}
	case colProtocol:
		for i := range recs {
			vals[i] = uint64(recs[i].Protocol)
		}
	case colPackets:
		for i := range recs {
			vals[i] = recs[i].Packets
		}
	case colRevPackets:
		for i := range recs {
			vals[i] = recs[i].RevPackets
		}
	case colInput:
		for i := range recs {
			vals[i] = uint64(recs[i].Input)
		}
	case colOutput:
		for i := range recs {
			vals[i] = uint64(recs[i].Output)
		}
	case colSrcAS:
		for i := range recs {
			vals[i] = uint64(recs[i].SrcAS)
		}
	case colDstAS:
		for i := range recs {
			vals[i] = uint64(recs[i].DstAS)
		}
	case colSensor:
		for i := range recs {
			vals[i] = uint64(recs[i].Sensor)
		}
	case colVLAN:
		for i := range recs {
			vals[i] = uint64(recs[i].VLAN)
		}
	case colApplication:
		for i := range recs {
			vals[i] = uint64(recs[i].Application)
		}
	case colFlags:
		for i := range recs {
			vals[i] = uint64(recs[i].Flags)
		}
	case colInitialFlags:
		for i := range recs {
			vals[i] = uint64(recs[i].InitialFlags)
		}
	case colSessionFlags:
		for i := range recs {
			vals[i] = uint64(recs[i].SessionFlags)
		}
	case colRevFlags:
		for i := range recs {
			vals[i] = uint64(recs[i].RevFlags)
		}
	case colRevInitialFlags:
		for i := range recs {
			vals[i] = uint64(recs[i].RevInitialFlags)
		}
	case colRevSessionFlags:
		for i := range recs {
			vals[i] = uint64(recs[i].RevSessionFlags)
		}
	default:
		return false
	}
	return true
}

// endReasonText and flowTypeText are the enum texts.
var endReasonText, flowTypeText = func() (er, ft [256][]byte) {
	for i := range 256 {
		er[i] = []byte(flow.EndReason(i).String())
		ft[i] = []byte(flow.FlowType(i).String())
	}
	return er, ft
}()

// fillAddr sets idx to the dictionary index of each record's address
// text and vals to its index in the IPv4 dictionary v4 or null for an
// IPv6 address (with v4 nil, vals is left alone); with noneEmpty the
// zero address (no next hop) is the empty string rather than "::". It
// takes the texts' bounds into tb and returns the least and greatest
// IPv4 address.
func fillAddr(idx []int32, vals []parquet.Value, recs []flow.Record, d *textDict, v4 *intDict, tb *textBounds, noneEmpty bool, get func(*flow.Record) *flow.Addr) (lo, hi uint64) {
	recs = recs[:len(idx)]
	lo = math.MaxUint64
	for i := range recs {
		a := get(&recs[i])
		if !a.Is4() {
			idx[i] = d.indexOfV6(a, noneEmpty)
			tb.other = true
			if v4 != nil {
				vals[i] = parquet.NullValue()
			}
			continue
		}
		x := binary.BigEndian.Uint32(a[12:])
		j, k := d.indexOfV4(a, x, v4)
		idx[i] = j
		tb.addV4(x)
		if v4 != nil {
			vals[i] = parquet.Int32Value(k)
			vals[i].SetDefinitionLevel(1)
			lo, hi = min(lo, uint64(x)), max(hi, uint64(x))
		}
	}
	return lo, hi
}

// buffer returns the column's page buffer, which parquet-go makes on the
// first write.
func (st *colState) buffer() (*pageBuf, error) {
	if st.buf == nil {
		if _, err := st.cw.WriteRowValues(nil); err != nil {
			return nil, err
		}
		if st.buf == nil {
			return nil, errors.New("parquet-go made no page buffer through the column's type")
		}
	}
	return st.buf, nil
}

// written lets parquet-go write the page buffer out as a page when full.
func (st *colState) written() error {
	_, err := st.cw.WriteRowValues(nil)
	return err
}
