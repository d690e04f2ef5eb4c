package store

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/flowkit/flowkit/flow"
)

// Column identifies one stored field of [flow.Record]. The numbers are part
// of the file format (FORMAT.md): a file stores its chunks in this order.
type Column uint8

// The stored columns, one per flow.Record field.
const (
	ColStart           Column = iota // Start, delta-coded from the block base
	ColEnd                           // End, stored as End-Start
	ColSrc                           // Src address (indexed)
	ColDst                           // Dst address (indexed)
	ColNextHop                       // NextHop address (indexed)
	ColPackets                       // Packets
	ColBytes                         // Bytes, stored as bytes per packet and remainder
	ColRevPackets                    // RevPackets
	ColRevBytes                      // RevBytes, as bytes per reverse packet and remainder
	ColRevStartOffset                // RevStartOffset
	ColInput                         // Input interface
	ColOutput                        // Output interface
	ColSrcAS                         // SrcAS
	ColDstAS                         // DstAS
	ColSrcPort                       // SrcPort (indexed)
	ColDstPort                       // DstPort (indexed)
	ColSensor                        // Sensor (indexed)
	ColVLAN                          // VLAN
	ColApplication                   // Application label (indexed)
	ColProtocol                      // Protocol (indexed)
	ColFlags                         // Flags, union of all packets' TCP flags (indexed)
	ColInitialFlags                  // InitialFlags
	ColSessionFlags                  // SessionFlags
	ColRevFlags                      // RevFlags
	ColRevInitialFlags               // RevInitialFlags
	ColRevSessionFlags               // RevSessionFlags
	ColEndReason                     // EndReason
	ColType                          // Type (flow type)
	NumColumns         int    = iota // number of columns in format versions 1 and 2
)

var columnNames = [NumColumns]string{
	"start", "end", "src", "dst", "nexthop", "packets", "bytes", "revpackets", "revbytes",
	"revstartoffset", "input", "output", "srcas", "dstas", "sport", "dport", "sensor", "vlan",
	"application", "protocol", "flags", "initialflags", "sessionflags", "revflags",
	"revinitialflags", "revsessionflags", "endreason", "type",
}

// String returns the column's short name.
func (c Column) String() string {
	if int(c) < NumColumns {
		return columnNames[c]
	}
	return fmt.Sprintf("column%d", uint8(c))
}

// ParseColumn reads a name that String returns.
func ParseColumn(s string) (Column, error) {
	for i, n := range columnNames {
		if strings.EqualFold(s, n) {
			return Column(i), nil
		}
	}
	return 0, fmt.Errorf("store: unknown column %q", s)
}

// Indexed reports whether the column is stored as an index (dictionary,
// roaring bitmaps of rows, exceptions) that [File.Index] serves.
func (c Column) Indexed() bool {
	switch c {
	case ColSrc, ColDst, ColNextHop, ColSrcPort, ColDstPort, ColSensor, ColApplication,
		ColProtocol, ColFlags:
		return true
	}
	return false
}

// IsAddr reports whether the column holds addresses.
func (c Column) IsAddr() bool { return c == ColSrc || c == ColDst || c == ColNextHop }

// ColumnMask selects columns: bit c is column c.
type ColumnMask uint32

// AllColumns selects every column.
const AllColumns ColumnMask = 1<<NumColumns - 1

// MaskOf returns the mask of the given columns.
func MaskOf(cols ...Column) ColumnMask {
	var m ColumnMask
	for _, c := range cols {
		m |= 1 << c
	}
	return m
}

// Has reports whether m selects c.
func (m ColumnMask) Has(c Column) bool { return m&(1<<c) != 0 }

// Columns holds decoded column vectors of one block, owned by the caller
// and reused across calls: [File.ReadColumns] fills the vectors of the
// selected columns (Len entries each) and leaves the others untouched.
// The vectors are read-only to the caller: a column that is one value in
// a block (a sensor, a flow type, the reverse counters of one-way flows)
// is not written again when its vector still holds that value from the
// block before, which saves most of the memory traffic of such columns.
type Columns struct {
	Len  int        // rows in the block
	Mask ColumnMask // columns filled by the last ReadColumns

	Start, End     []int64
	Src, Dst       []flow.Addr
	NextHop        []flow.Addr
	Packets, Bytes []uint64
	RevPackets     []uint64
	RevBytes       []uint64
	RevStartOffset []int64 // nanoseconds
	Input, Output  []uint32
	SrcAS, DstAS   []uint32
	SrcPort        []uint16
	DstPort        []uint16
	Sensor         []uint16
	VLAN           []uint16
	Application    []uint16
	Protocol       []uint8
	Flags          []flow.TCPFlags
	InitialFlags   []flow.TCPFlags
	SessionFlags   []flow.TCPFlags
	RevFlags       []flow.TCPFlags
	RevInitFlags   []flow.TCPFlags
	RevSessFlags   []flow.TCPFlags
	EndReason      []flow.EndReason
	Type           []flow.FlowType

	held [NumColumns]held // which vectors hold one value, from constant chunks
}

// held says that a column vector holds one value (v, as one or two
// words) in its first n entries; p is the vector's first element, so a
// vector the caller replaced is not mistaken for it.
type held struct {
	p    unsafe.Pointer
	n    int
	v, w uint64
}

// fillHeld makes *dst n copies of v, whose words are v0 and v1, writing
// only what prev (what the vector held before this block) does not
// already hold, and records the result in h.
func fillHeld[T any](dst *[]T, v T, v0, v1 uint64, n int, prev held, h *held) {
	s := grow(*dst, n)
	*dst = s
	p := unsafe.Pointer(unsafe.SliceData(s))
	switch {
	case prev.p != p || prev.v != v0 || prev.w != v1:
		setAll(s, v)
	case prev.n < n:
		setAll(s[prev.n:], v)
	default:
		n = prev.n // the entries past n still hold v too
	}
	*h = held{p: p, n: n, v: v0, w: v1}
}

// Record fills r with row i of the columns in c.Mask; fields of columns not
// read are set to zero.
func (c *Columns) Record(i int, r *flow.Record) {
	*r = flow.Record{}
	m := c.Mask
	if m&(1<<ColStart) != 0 {
		r.Start = c.Start[i]
	}
	if m&(1<<ColEnd) != 0 {
		r.End = c.End[i]
	}
	if m&(1<<ColSrc) != 0 {
		r.Src = c.Src[i]
	}
	if m&(1<<ColDst) != 0 {
		r.Dst = c.Dst[i]
	}
	if m&(1<<ColNextHop) != 0 {
		r.NextHop = c.NextHop[i]
	}
	if m&(1<<ColPackets) != 0 {
		r.Packets = c.Packets[i]
	}
	if m&(1<<ColBytes) != 0 {
		r.Bytes = c.Bytes[i]
	}
	if m&(1<<ColRevPackets) != 0 {
		r.RevPackets = c.RevPackets[i]
	}
	if m&(1<<ColRevBytes) != 0 {
		r.RevBytes = c.RevBytes[i]
	}
	if m&(1<<ColRevStartOffset) != 0 {
		r.RevStartOffset = durationOf(c.RevStartOffset[i])
	}
	if m&(1<<ColInput) != 0 {
		r.Input = c.Input[i]
	}
	if m&(1<<ColOutput) != 0 {
		r.Output = c.Output[i]
	}
	if m&(1<<ColSrcAS) != 0 {
		r.SrcAS = c.SrcAS[i]
	}
	if m&(1<<ColDstAS) != 0 {
		r.DstAS = c.DstAS[i]
	}
	if m&(1<<ColSrcPort) != 0 {
		r.SrcPort = c.SrcPort[i]
	}
	if m&(1<<ColDstPort) != 0 {
		r.DstPort = c.DstPort[i]
	}
	if m&(1<<ColSensor) != 0 {
		r.Sensor = c.Sensor[i]
	}
	if m&(1<<ColVLAN) != 0 {
		r.VLAN = c.VLAN[i]
	}
	if m&(1<<ColApplication) != 0 {
		r.Application = c.Application[i]
	}
	if m&(1<<ColProtocol) != 0 {
		r.Protocol = c.Protocol[i]
	}
	if m&(1<<ColFlags) != 0 {
		r.Flags = c.Flags[i]
	}
	if m&(1<<ColInitialFlags) != 0 {
		r.InitialFlags = c.InitialFlags[i]
	}
	if m&(1<<ColSessionFlags) != 0 {
		r.SessionFlags = c.SessionFlags[i]
	}
	if m&(1<<ColRevFlags) != 0 {
		r.RevFlags = c.RevFlags[i]
	}
	if m&(1<<ColRevInitialFlags) != 0 {
		r.RevInitialFlags = c.RevInitFlags[i]
	}
	if m&(1<<ColRevSessionFlags) != 0 {
		r.RevSessionFlags = c.RevSessFlags[i]
	}
	if m&(1<<ColEndReason) != 0 {
		r.EndReason = c.EndReason[i]
	}
	if m&(1<<ColType) != 0 {
		r.Type = c.Type[i]
	}
}

// grow returns s with length n, reallocating (with room for a whole
// block, so that vectors stop growing after the first) when needed.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, max(n, MaxBlockRows))
	}
	return s[:n]
}
