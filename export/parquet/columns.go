package parquet

import (
	"fmt"

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
// timestamps, wide counters), so that the last ones taken, which decide
// who waits for whom, are cheap.
var colOrder = [numCols]colID{
	colSrcAddr, colDstAddr, colStart, colEnd, colBytes, colPackets, colSrcIPv4, colDstIPv4,
	colNextHop, colRevBytes, colRevPackets, colRevStartOffset, colSrcPort, colDstPort,
	colSrcAS, colDstAS, colInput, colOutput, colProtocol, colSensor, colVLAN, colApplication,
	colFlags, colInitialFlags, colSessionFlags, colRevFlags, colRevInitialFlags, colRevSessionFlags,
	colEndReason, colType,
}

// fillColumn sets vals[i] to column id's value of recs[i] (for the text
// columns, the index of its text in the column's dictionary in dicts).
// It returns vals.
func fillColumn(id colID, vals []parquet.Value, recs []flow.Record, dicts *textDicts) []parquet.Value {
	vals = vals[:len(recs)]
	switch id {
	case colStart:
		for i := range recs {
			vals[i] = parquet.Int64Value(recs[i].Start)
		}
	case colEnd:
		for i := range recs {
			vals[i] = parquet.Int64Value(recs[i].End)
		}
	case colSrcAddr:
		fillAddr(vals, recs, dicts[id], false, func(r *flow.Record) *flow.Addr { return &r.Src })
	case colDstAddr:
		fillAddr(vals, recs, dicts[id], false, func(r *flow.Record) *flow.Addr { return &r.Dst })
	case colNextHop:
		fillAddr(vals, recs, dicts[id], true, func(r *flow.Record) *flow.Addr { return &r.NextHop })
	case colSrcIPv4:
		fillIPv4(vals, recs, func(r *flow.Record) *flow.Addr { return &r.Src })
	case colDstIPv4:
		fillIPv4(vals, recs, func(r *flow.Record) *flow.Addr { return &r.Dst })
	case colSrcPort:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.SrcPort) })
	case colDstPort:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.DstPort) })
	case colProtocol:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.Protocol) })
	case colPackets:
		fillInt64(vals, recs, func(r *flow.Record) int64 { return int64(r.Packets) })
	case colBytes:
		fillInt64(vals, recs, func(r *flow.Record) int64 { return int64(r.Bytes) })
	case colRevPackets:
		fillInt64(vals, recs, func(r *flow.Record) int64 { return int64(r.RevPackets) })
	case colRevBytes:
		fillInt64(vals, recs, func(r *flow.Record) int64 { return int64(r.RevBytes) })
	case colRevStartOffset:
		fillInt64(vals, recs, func(r *flow.Record) int64 { return int64(r.RevStartOffset) })
	case colInput:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.Input) })
	case colOutput:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.Output) })
	case colSrcAS:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.SrcAS) })
	case colDstAS:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.DstAS) })
	case colSensor:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.Sensor) })
	case colVLAN:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.VLAN) })
	case colApplication:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.Application) })
	case colFlags:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.Flags) })
	case colInitialFlags:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.InitialFlags) })
	case colSessionFlags:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.SessionFlags) })
	case colRevFlags:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.RevFlags) })
	case colRevInitialFlags:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.RevInitialFlags) })
	case colRevSessionFlags:
		fillInt32(vals, recs, func(r *flow.Record) int32 { return int32(r.RevSessionFlags) })
	case colEndReason:
		d := dicts[id]
		for i := range recs {
			v := recs[i].EndReason
			vals[i] = parquet.Int32Value(d.indexOfEnum(uint8(v), endReasonText[v]))
		}
	case colType:
		d := dicts[id]
		for i := range recs {
			v := recs[i].Type
			vals[i] = parquet.Int32Value(d.indexOfEnum(uint8(v), flowTypeText[v]))
		}
	}
	return vals
}

// endReasonText and flowTypeText are the enum texts.
var endReasonText, flowTypeText = func() (er, ft [256][]byte) {
	for i := range 256 {
		er[i] = []byte(flow.EndReason(i).String())
		ft[i] = []byte(flow.FlowType(i).String())
	}
	return er, ft
}()

// fillAddr writes the dictionary index of each record's address text;
// with noneEmpty the zero address (no next hop) is the empty string
// rather than "::".
func fillAddr(vals []parquet.Value, recs []flow.Record, d *textDict, noneEmpty bool, get func(*flow.Record) *flow.Addr) {
	for i := range recs {
		vals[i] = parquet.Int32Value(d.indexOfAddr(get(&recs[i]), noneEmpty))
	}
}

// fillIPv4 writes each record's IPv4 address as an integer, or null for
// an IPv6 address.
func fillIPv4(vals []parquet.Value, recs []flow.Record, get func(*flow.Record) *flow.Addr) {
	for i := range recs {
		if a := get(&recs[i]); a.Is4() {
			vals[i] = parquet.Int32Value(int32(a.Uint32()))
			vals[i].SetDefinitionLevel(1)
		} else {
			vals[i] = parquet.NullValue()
		}
	}
}

func fillInt32(vals []parquet.Value, recs []flow.Record, get func(*flow.Record) int32) {
	for i := range recs {
		vals[i] = parquet.Int32Value(get(&recs[i]))
	}
}

func fillInt64(vals []parquet.Value, recs []flow.Record, get func(*flow.Record) int64) {
	for i := range recs {
		vals[i] = parquet.Int64Value(get(&recs[i]))
	}
}
