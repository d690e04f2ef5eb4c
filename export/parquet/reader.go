package parquet

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/parquet-go/parquet-go"
)

// ErrSchema is wrapped by the errors of files whose columns or values are
// not those Writer writes.
var ErrSchema = errors.New("parquet: not a flowkit flow file")

// Reader reads back the flow records of a file that Writer wrote. It is a
// flow.Source. It exists to check exports and to import them again; query
// engines read the files directly.
type Reader struct {
	pr   *parquet.GenericReader[row]
	rows []row
	row  int64 // index of the next row, for error messages
}

// OpenReader opens the Parquet file in r (size bytes long) and checks that
// it has the columns Writer writes.
func OpenReader(r io.ReaderAt, size int64) (*Reader, error) {
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, fmt.Errorf("parquet: %w", err)
	}
	for _, path := range Schema.Columns() {
		leaf, ok := f.Schema().Lookup(path...)
		want, _ := Schema.Lookup(path...)
		if !ok || leaf.Node.Type().Kind() != want.Node.Type().Kind() {
			return nil, fmt.Errorf("%w: column %s missing or of another type", ErrSchema, path[0])
		}
	}
	return &Reader{pr: parquet.NewGenericReader[row](f, Schema)}, nil
}

// NumRows returns the number of rows of the file.
func (r *Reader) NumRows() int64 { return r.pr.NumRows() }

// ReadBatch fills dst with the next records; io.EOF after the last.
func (r *Reader) ReadBatch(dst []flow.Record) (int, error) {
	if len(r.rows) < len(dst) {
		r.rows = make([]row, len(dst))
	}
	n, err := r.pr.Read(r.rows[:len(dst)])
	for i := range n {
		if cerr := toRecord(&r.rows[i], &dst[i]); cerr != nil {
			return i, fmt.Errorf("%w: row %d: %v", ErrSchema, r.row+int64(i), cerr)
		}
	}
	r.row += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("parquet: row %d: %w", r.row, err)
	}
	return n, err
}

// Close releases the reader.
func (r *Reader) Close() error { return r.pr.Close() }

// toRecord converts a row back into a record.
func toRecord(x *row, r *flow.Record) error {
	*r = flow.Record{
		Start: x.Start, End: x.End,
		SrcPort: x.SrcPort, DstPort: x.DstPort, Protocol: x.Protocol,
		Packets: x.Packets, Bytes: x.Bytes, RevPackets: x.RevPackets, RevBytes: x.RevBytes,
		RevStartOffset: time.Duration(x.RevStartOffset),
		Input:          x.Input, Output: x.Output, SrcAS: x.SrcAS, DstAS: x.DstAS,
		Sensor: x.Sensor, VLAN: x.VLAN, Application: x.Application,
		Flags: flow.TCPFlags(x.Flags), InitialFlags: flow.TCPFlags(x.InitialFlags),
		SessionFlags: flow.TCPFlags(x.SessionFlags), RevFlags: flow.TCPFlags(x.RevFlags),
		RevInitialFlags: flow.TCPFlags(x.RevInitialFlags), RevSessionFlags: flow.TCPFlags(x.RevSessionFlags),
	}
	var err error
	if r.Src, err = parseAddr(x.SrcAddr, "src_addr"); err != nil {
		return err
	}
	if r.Dst, err = parseAddr(x.DstAddr, "dst_addr"); err != nil {
		return err
	}
	if len(x.NextHop) > 0 {
		if r.NextHop, err = parseAddr(x.NextHop, "next_hop"); err != nil {
			return err
		}
	}
	if r.EndReason, err = flow.ParseEndReason(x.EndReason); err != nil {
		return fmt.Errorf("end_reason: %v", err)
	}
	if r.Type, err = flow.ParseFlowType(x.Type); err != nil {
		return fmt.Errorf("flow_type: %v", err)
	}
	return nil
}

func parseAddr(b []byte, col string) (flow.Addr, error) {
	a, err := netip.ParseAddr(string(b))
	if err != nil {
		return flow.Addr{}, fmt.Errorf("%s: %v", col, err)
	}
	return flow.AddrFrom(a), nil
}
