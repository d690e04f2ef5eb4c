package parquet

import (
	"errors"
	"fmt"
	"io"

	"github.com/flowkit/flowkit/flow"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/zstd"
)

// DefaultRowGroupRows is the row group length when Options does not set
// one: a million flows (about 35 MB compressed on the benchmark corpus),
// in the range query engines read best (row groups of tens to hundreds
// of MB that one task scans, with min/max statistics to skip the others).
const DefaultRowGroupRows = 1 << 20

// chunkRows is how many records the writer converts to rows at a time.
const chunkRows = 4096

// maxAddrText is the longest text of a flow.Addr (a full IPv6 address).
const maxAddrText = len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")

// ErrClosed is returned by WriteBatch after Close.
var ErrClosed = errors.New("parquet: writer closed")

// Compression names a page compression codec.
type Compression uint8

// Codecs. Zstd is the default: on the benchmark corpus it makes files
// about 16% smaller than Snappy for about 20% more time.
const (
	Zstd Compression = iota
	Snappy
	Uncompressed
)

// ParseCompression reads "zstd", "snappy" or "none".
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "zstd", "":
		return Zstd, nil
	case "snappy":
		return Snappy, nil
	case "none", "uncompressed":
		return Uncompressed, nil
	}
	return 0, fmt.Errorf("parquet: unknown compression %q: want zstd, snappy or none", s)
}

// Options tunes a Writer; the zero value is the default.
type Options struct {
	// RowGroupRows is the number of rows per row group (DefaultRowGroupRows
	// when zero). The writer holds one row group's pages in memory.
	RowGroupRows int
	// Compression is the page codec (Zstd when zero).
	Compression Compression
}

// Writer writes flow records to one Parquet file. It is a flow.Sink; call
// Close to write the last row group and the footer. It is not safe for
// concurrent use.
type Writer struct {
	pw     *parquet.GenericWriter[row]
	rows   []row
	ipv4   []uint32 // backing store of the rows' nullable IPv4 columns
	arena  []byte   // backing store of the rows' address text
	n      int64
	closed bool
}

// NewWriter returns a Writer that writes a Parquet file to w. Nothing is
// written until the first row group is full or Close is called.
func NewWriter(w io.Writer, opts Options) *Writer {
	rg := opts.RowGroupRows
	if rg <= 0 {
		rg = DefaultRowGroupRows
	}
	var codec compress.Codec
	switch opts.Compression {
	case Snappy:
		codec = &snappy.Codec{}
	case Uncompressed:
		codec = &parquet.Uncompressed
	default:
		codec = &zstd.Codec{Level: zstd.SpeedFastest}
	}
	pw := parquet.NewGenericWriter[row](w, Schema,
		parquet.Compression(codec),
		parquet.MaxRowsPerRowGroup(int64(rg)),
		parquet.DataPageStatistics(true),
		parquet.CreatedBy("flowkit", "", ""),
		parquet.KeyValueMetadata("flowkit.schema", "flow/1"),
	)
	return &Writer{
		pw:    pw,
		rows:  make([]row, chunkRows),
		ipv4:  make([]uint32, 2*chunkRows),
		arena: make([]byte, 0, 3*maxAddrText*chunkRows),
	}
}

// WriteBatch converts batch to rows and hands them to the column buffers.
// It does not keep batch.
func (w *Writer) WriteBatch(batch []flow.Record) error {
	if w.closed {
		return ErrClosed
	}
	for len(batch) > 0 {
		n := min(len(batch), chunkRows)
		w.fill(batch[:n])
		if _, err := w.pw.Write(w.rows[:n]); err != nil {
			return fmt.Errorf("parquet: writing rows %d-%d: %w", w.n, w.n+int64(n), err)
		}
		w.n += int64(n)
		batch = batch[n:]
	}
	return nil
}

// fill converts recs (at most chunkRows) into w.rows. Address text goes
// into w.arena, which has room for every address of a chunk, so the rows'
// slices stay valid and nothing is allocated.
func (w *Writer) fill(recs []flow.Record) {
	arena := w.arena[:0]
	for i := range recs {
		r := &recs[i]
		x := &w.rows[i]
		x.Start, x.End = r.Start, r.End
		a := len(arena)
		arena = r.Src.AppendText(arena)
		b := len(arena)
		arena = r.Dst.AppendText(arena)
		c := len(arena)
		if r.NextHop != (flow.Addr{}) {
			arena = r.NextHop.AppendText(arena)
		}
		d := len(arena)
		x.SrcAddr, x.DstAddr, x.NextHop = arena[a:b:b], arena[b:c:c], arena[c:d:d]
		x.SrcIPv4, x.DstIPv4 = nil, nil
		if r.Src.Is4() {
			w.ipv4[2*i] = r.Src.Uint32()
			x.SrcIPv4 = &w.ipv4[2*i]
		}
		if r.Dst.Is4() {
			w.ipv4[2*i+1] = r.Dst.Uint32()
			x.DstIPv4 = &w.ipv4[2*i+1]
		}
		x.SrcPort, x.DstPort, x.Protocol = r.SrcPort, r.DstPort, r.Protocol
		x.Packets, x.Bytes = r.Packets, r.Bytes
		x.RevPackets, x.RevBytes = r.RevPackets, r.RevBytes
		x.RevStartOffset = int64(r.RevStartOffset)
		x.Input, x.Output, x.SrcAS, x.DstAS = r.Input, r.Output, r.SrcAS, r.DstAS
		x.Sensor, x.VLAN, x.Application = r.Sensor, r.VLAN, r.Application
		x.Flags, x.InitialFlags, x.SessionFlags = uint8(r.Flags), uint8(r.InitialFlags), uint8(r.SessionFlags)
		x.RevFlags, x.RevInitialFlags, x.RevSessionFlags = uint8(r.RevFlags), uint8(r.RevInitialFlags), uint8(r.RevSessionFlags)
		x.EndReason, x.Type = r.EndReason.String(), r.Type.String()
	}
	w.arena = arena
}

// Rows returns the number of records written so far.
func (w *Writer) Rows() int64 { return w.n }

// Close writes the last row group and the file footer. It does not close
// the underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.pw.Close(); err != nil {
		return fmt.Errorf("parquet: closing file: %w", err)
	}
	return nil
}
