package flowtext

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// ErrSyntax is wrapped by every ParseError, so errors.Is(err, ErrSyntax)
// tells a bad line from an I/O error.
var ErrSyntax = errors.New("flowtext: bad line")

// ParseError says where a line could not be read: its line number, the
// 1-based column and the column's field.
type ParseError struct {
	Line   int64  // 1-based line number
	Column int    // 1-based column number; 0 when the line as a whole is wrong
	Field  string // the column's field name, when known
	Value  string // the text of the column
	Err    error  // what is wrong
}

func (e *ParseError) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("flowtext: line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("flowtext: line %d, column %d (%s): %q: %v", e.Line, e.Column, e.Field, e.Value, e.Err)
}

// Unwrap returns ErrSyntax and the cause, for errors.Is.
func (e *ParseError) Unwrap() []error { return []error{ErrSyntax, e.Err} }

// Reader reads records from text or CSV. It implements flow.Source.
type Reader struct {
	r      *bufio.Reader
	fields []Field
	format Format
	line   int64
	cols   [][]byte
	err    error // sticky
}

// NewReader reads the given columns (nil: take them from a title or CSV
// header line when there is one, else DefaultFields) in the given format.
// A CSV input must start with its header line when fields is nil.
func NewReader(r io.Reader, fields []Field, format Format) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 1<<20), fields: fields, format: format}
}

// Fields returns the columns being read (known after the first ReadBatch
// when they come from a header).
func (r *Reader) Fields() []Field { return r.fields }

// ReadBatch fills dst with the next records. It returns io.EOF at the end
// and a *ParseError (wrapping ErrSyntax) at the first bad line, after the
// good records before it.
func (r *Reader) ReadBatch(dst []flow.Record) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := 0
	for n < len(dst) {
		line, err := r.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			r.line++
			r.err = &ParseError{Line: r.line, Err: fmt.Errorf("line longer than %d bytes", r.r.Size())}
			return n, r.err
		}
		if len(line) > 0 {
			r.line++
			ok, perr := r.parseLine(line, &dst[n])
			if perr != nil {
				r.err = perr
				return n, perr
			}
			if ok {
				n++
			}
		}
		if err != nil {
			r.err = err
			if n > 0 && errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
	return n, nil
}

// parseLine reads one line into rec; ok is false for blank, comment and
// header lines.
func (r *Reader) parseLine(line []byte, rec *flow.Record) (ok bool, err error) {
	line = bytes.TrimRight(line, "\r\n")
	if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
		return false, nil
	}
	sep := r.format.sep()
	r.cols = splitColumns(r.cols[:0], line, sep)
	if r.fields == nil || r.line == 1 {
		if fields, herr := headerFields(r.cols); herr == nil {
			if r.fields == nil {
				r.fields = fields
			}
			return false, nil
		} else if r.format == CSV && r.fields == nil {
			return false, &ParseError{Line: r.line, Err: fmt.Errorf("want a CSV header of field names: %v", herr)}
		}
		if r.fields == nil {
			r.fields = DefaultFields
		}
	}
	if len(r.cols) != len(r.fields) {
		return false, &ParseError{Line: r.line, Err: fmt.Errorf("%d columns, want %d (%s)", len(r.cols), len(r.fields), FormatFields(r.fields, string(sep)))}
	}
	*rec = flow.Record{}
	var haveStart, haveEnd, haveDur bool
	var dur int64
	for i, f := range r.fields {
		col := r.cols[i]
		var perr error
		switch f {
		case STime:
			rec.Start, perr = parseTime(col)
			haveStart = true
		case ETime:
			rec.End, perr = parseTime(col)
			haveEnd = true
		case Duration:
			dur, perr = parseSeconds(col)
			if perr == nil && dur < 0 {
				perr = errRange
			}
			haveDur = true
		default:
			perr = setField(rec, f, col)
		}
		if perr != nil {
			return false, &ParseError{Line: r.line, Column: i + 1, Field: f.String(), Value: string(col), Err: perr}
		}
	}
	switch {
	case haveStart && haveDur:
		rec.End = rec.Start + dur
	case haveEnd && haveDur:
		rec.Start = rec.End - dur
	case haveStart && !haveEnd:
		rec.End = rec.Start
	case haveEnd && !haveStart:
		rec.Start = rec.End
	}
	if rec.End < rec.Start {
		return false, &ParseError{Line: r.line, Err: fmt.Errorf("end time before start time")}
	}
	return true, nil
}

// splitColumns cuts line at sep, trimming spaces (rwcut pads columns) and a
// CSV value's quotes, and drops the empty column after a trailing separator.
func splitColumns(cols [][]byte, line []byte, sep byte) [][]byte {
	for {
		i := bytes.IndexByte(line, sep)
		if i < 0 {
			break
		}
		cols = append(cols, trimColumn(line[:i]))
		line = line[i+1:]
	}
	if last := trimColumn(line); len(last) > 0 || len(cols) == 0 {
		cols = append(cols, last)
	}
	return cols
}

func trimColumn(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return b
}

// headerFields reads a title line; it fails unless every column is a field name.
func headerFields(cols [][]byte) ([]Field, error) {
	fields := make([]Field, 0, len(cols))
	for _, c := range cols {
		f, ok := FieldByName(string(c))
		if !ok {
			return nil, fmt.Errorf("%q is not a field name", c)
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// setField parses one column that is not a time into rec.
func setField(rec *flow.Record, f Field, col []byte) error {
	var err error
	var v uint64
	switch f {
	case SIP:
		rec.Src, err = parseAddr(col)
	case DIP:
		rec.Dst, err = parseAddr(col)
	case NhIP:
		rec.NextHop, err = parseAddr(col)
	case SPort:
		v, err = parseUint(col, math.MaxUint16)
		rec.SrcPort = uint16(v)
	case DPort:
		v, err = parseUint(col, math.MaxUint16)
		rec.DstPort = uint16(v)
	case Protocol:
		v, err = parseUint(col, math.MaxUint8)
		rec.Protocol = uint8(v)
	case Packets:
		rec.Packets, err = parseUint(col, math.MaxUint64)
	case Bytes:
		rec.Bytes, err = parseUint(col, math.MaxUint64)
	case Flags:
		rec.Flags, err = parseFlags(col)
	case InitialFlags:
		rec.InitialFlags, err = parseFlags(col)
	case SessionFlags:
		rec.SessionFlags, err = parseFlags(col)
	case Sensor:
		v, err = parseUint(col, math.MaxUint16)
		rec.Sensor = uint16(v)
	case In:
		v, err = parseUint(col, math.MaxUint32)
		rec.Input = uint32(v)
	case Out:
		v, err = parseUint(col, math.MaxUint32)
		rec.Output = uint32(v)
	case Application:
		v, err = parseUint(col, math.MaxUint16)
		rec.Application = uint16(v)
	case EndReason:
		rec.EndReason, err = flow.ParseEndReason(string(col))
	case VLAN:
		v, err = parseUint(col, 4095)
		rec.VLAN = uint16(v)
	case Type:
		rec.Type, err = flow.ParseFlowType(string(col))
	case SrcAS:
		v, err = parseUint(col, math.MaxUint32)
		rec.SrcAS = uint32(v)
	case DstAS:
		v, err = parseUint(col, math.MaxUint32)
		rec.DstAS = uint32(v)
	case RevPackets:
		rec.RevPackets, err = parseUint(col, math.MaxUint64)
	case RevBytes:
		rec.RevBytes, err = parseUint(col, math.MaxUint64)
	case RevFlags:
		rec.RevFlags, err = parseFlags(col)
	case RevInitialFlags:
		rec.RevInitialFlags, err = parseFlags(col)
	case RevSessionFlags:
		rec.RevSessionFlags, err = parseFlags(col)
	case RevStartOffset:
		var ns int64
		ns, err = parseSeconds(col)
		rec.RevStartOffset = time.Duration(ns)
	default:
		err = fmt.Errorf("field cannot be read")
	}
	return err
}

// parseFlags reads SiLK letters.
func parseFlags(col []byte) (flow.TCPFlags, error) {
	var f flow.TCPFlags
	err := f.UnmarshalText(col)
	return f, err
}
