package flowtext

import (
	"bufio"
	"io"
	"strconv"

	"github.com/flowkit/flowkit/flow"
)

// Writer prints records as text or CSV. It buffers; call Flush at the end.
// It implements flow.Sink.
type Writer struct {
	w       *bufio.Writer
	fields  []Field
	format  Format
	line    []byte
	one     [1]flow.Record // Write's batch of one
	started bool
}

// NewWriter returns a writer of the given columns (nil means
// DefaultFields) in the given format. A CSV writer prints a header line
// before the first record.
func NewWriter(w io.Writer, fields []Field, format Format) *Writer {
	if fields == nil {
		fields = DefaultFields
	}
	return &Writer{w: bufio.NewWriterSize(w, 256<<10), fields: fields, format: format}
}

// WriteBatch writes the records, one a line.
func (w *Writer) WriteBatch(batch []flow.Record) error {
	if !w.started {
		w.started = true
		if w.format == CSV {
			if _, err := w.w.WriteString(FormatFields(w.fields, ",") + "\n"); err != nil {
				return err
			}
		}
	}
	for i := range batch {
		w.line = AppendRecord(w.line[:0], &batch[i], w.fields, w.format.sep())
		w.line = append(w.line, '\n')
		if _, err := w.w.Write(w.line); err != nil {
			return err
		}
	}
	return nil
}

// Write writes one record.
func (w *Writer) Write(r *flow.Record) error {
	w.one[0] = *r
	return w.WriteBatch(w.one[:])
}

// Flush writes out what is buffered (and the CSV header of an empty output).
func (w *Writer) Flush() error {
	if !w.started {
		if err := w.WriteBatch(nil); err != nil {
			return err
		}
	}
	return w.w.Flush()
}

// AppendRecord appends r's columns, separated by sep, to dst (no newline).
func AppendRecord(dst []byte, r *flow.Record, fields []Field, sep byte) []byte {
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, sep)
		}
		dst = appendField(dst, r, f)
	}
	return dst
}

func appendField(dst []byte, r *flow.Record, f Field) []byte {
	switch f {
	case SIP:
		return r.Src.AppendText(dst)
	case DIP:
		return r.Dst.AppendText(dst)
	case NhIP:
		return r.NextHop.AppendText(dst)
	case SPort:
		return strconv.AppendUint(dst, uint64(r.SrcPort), 10)
	case DPort:
		return strconv.AppendUint(dst, uint64(r.DstPort), 10)
	case Protocol:
		return strconv.AppendUint(dst, uint64(r.Protocol), 10)
	case Packets:
		return strconv.AppendUint(dst, r.Packets, 10)
	case Bytes:
		return strconv.AppendUint(dst, r.Bytes, 10)
	case Flags:
		return r.Flags.AppendText(dst)
	case InitialFlags:
		return r.InitialFlags.AppendText(dst)
	case SessionFlags:
		return r.SessionFlags.AppendText(dst)
	case STime:
		return appendSeconds(dst, r.Start)
	case ETime:
		return appendSeconds(dst, r.End)
	case Duration:
		return appendSeconds(dst, r.End-r.Start)
	case Sensor:
		return strconv.AppendUint(dst, uint64(r.Sensor), 10)
	case In:
		return strconv.AppendUint(dst, uint64(r.Input), 10)
	case Out:
		return strconv.AppendUint(dst, uint64(r.Output), 10)
	case Application:
		return strconv.AppendUint(dst, uint64(r.Application), 10)
	case EndReason:
		return append(dst, r.EndReason.String()...)
	case VLAN:
		return strconv.AppendUint(dst, uint64(r.VLAN), 10)
	case Type:
		return append(dst, r.Type.String()...)
	case SrcAS:
		return strconv.AppendUint(dst, uint64(r.SrcAS), 10)
	case DstAS:
		return strconv.AppendUint(dst, uint64(r.DstAS), 10)
	case RevPackets:
		return strconv.AppendUint(dst, r.RevPackets, 10)
	case RevBytes:
		return strconv.AppendUint(dst, r.RevBytes, 10)
	case RevFlags:
		return r.RevFlags.AppendText(dst)
	case RevInitialFlags:
		return r.RevInitialFlags.AppendText(dst)
	case RevSessionFlags:
		return r.RevSessionFlags.AppendText(dst)
	case RevStartOffset:
		return appendSeconds(dst, int64(r.RevStartOffset))
	}
	return dst
}
