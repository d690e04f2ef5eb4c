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
// one: a million flows (about 31 MB compressed on the benchmark corpus),
// in the range query engines read best (row groups of tens to hundreds
// of MB that one task scans, with min/max statistics to skip the others).
const DefaultRowGroupRows = 1 << 20

// chunkRows is how many records the writer encodes per column at a time.
const chunkRows = 8192

// pageBufferSize is the size of a column's page buffer: a page is
// written out when the buffer is this full (parquet-go's default, 64 Ki
// dictionary indexes or 32 Ki timestamps).
const pageBufferSize = parquet.DefaultPageBufferSize

// ErrClosed is returned by WriteBatch after Close.
var ErrClosed = errors.New("parquet: writer closed")

// Compression names a page compression codec.
type Compression uint8

// Codecs. Zstd is the default: the smallest files. The column encodings
// leave little for a codec to do (on the benchmark corpus 31.1 bytes per
// flow with zstd, 31.8 with Snappy, 33.6 with none), and the writer
// compresses only the columns where it gains (compressible): the
// addresses, whose dictionary pages of texts shrink by 60%, and the
// destination ports and AS numbers.
const (
	Zstd Compression = iota
	Snappy
	Uncompressed
)

// The codecs are shared by all writers: each keeps a pool of encoders
// (zstd's take a few hundred KB to set up), which a writer of its own
// would make again for every file.
var (
	zstdCodec   = &zstd.Codec{Level: zstd.SpeedFastest}
	snappyCodec = &snappy.Codec{}
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
// Close to write the last row group and the footer (and to stop its
// helper goroutines). It is not safe for concurrent use.
//
// The writer fills parquet-go's column writers directly, column by
// column, rather than through row structs. WriteBatch copies records
// into a chunk; two helper goroutines encode full chunks while the
// caller fills the next one: each column's buffer, dictionary and page
// compression are independent, and the helpers take columns as jobs
// (schedule.go), so that neither waits long for the other whatever the
// columns cost and however busy the cores are.
type Writer struct {
	pw      *parquet.GenericWriter[any]
	cols    *colStates
	sched   schedule
	rg      int64         // rows per row group
	inGroup int64         // rows in the current row group
	n       int64         // rows handed to the helpers
	stage   []flow.Record // rows taken but not yet handed over: less than a chunk
	scan    zeroScan      // of stage
	err     error         // the first error; the writer stops at it
	closed  bool
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
		codec = snappyCodec
	case Uncompressed:
		codec = &parquet.Uncompressed
	default:
		codec = zstdCodec
	}
	cols := new(colStates)
	pw := parquet.NewGenericWriter[any](w, writeSchema(cols, codec),
		parquet.Compression(codec),
		parquet.MaxRowsPerRowGroup(int64(rg)),
		parquet.PageBufferSize(pageBufferSize),
		// Min and max per page go to the column index (the page index)
		// and the column chunk statistics; copies in every data page
		// header are what the page index replaced (parquet-mr no longer
		// writes them either), and computing them took 5% of the time.
		parquet.DataPageStatistics(false),
		parquet.CreatedBy("flowkit", "", ""),
		parquet.KeyValueMetadata("flowkit.schema", "flow/1"),
	)
	cws := pw.ColumnWriters()
	for id := range numCols {
		cols[id].cw = cws[colIndex[id]]
	}
	x := &Writer{
		pw:    pw,
		cols:  cols,
		rg:    int64(rg),
		stage: newChunk(),
	}
	x.sched.cond.L = &x.sched.mu
	go x.help(newScratch())
	go x.help(newScratch())
	return x
}

// endGroup writes out the last page of every column of the row group in
// both helpers, as they encode chunks, and finishes the address columns'
// compressed dictionary pages, so that what is left for parquet-go to do
// alone (the other dictionary pages, putting the row group together) is
// little; then it writes the row group.
func (w *Writer) endGroup() error {
	if err := w.sched.endGroup(w.n); err != nil {
		return err // says which rows or row group
	}
	if err := w.pw.Flush(); err != nil {
		return fmt.Errorf("parquet: writing the row group ending at row %d: %w", w.n, err)
	}
	return nil
}

// flushColumn writes out the last page of column id (and finishes its
// compressed dictionary page, for an address column).
func (w *Writer) flushColumn(id colID) error {
	st := &w.cols[id]
	if err := st.cw.Flush(); err != nil {
		return fmt.Errorf("column %s: %w", colNames[id], err)
	}
	if st.dict != nil && st.text != nil {
		if err := st.dict.precompress(st.text); err != nil {
			return fmt.Errorf("column %s: compressing its dictionary: %w", colNames[id], err)
		}
	}
	return nil
}

// WriteBatch takes batch's records into the file. It does not keep
// batch: it copies the records into a chunk, which the helpers encode when
// it is full while later records fill the next one, so an error in them
// may come from a later call (or Close). After an error the writer
// returns it again from every call.
func (w *Writer) WriteBatch(batch []flow.Record) error {
	if w.closed {
		return ErrClosed
	}
	for len(batch) > 0 && w.err == nil {
		full := int(min(chunkRows, w.rg-w.inGroup))
		k := min(full-len(w.stage), len(batch))
		w.stage = append(w.stage, batch[:k]...)
		w.scan.add(batch[:k])
		batch = batch[k:]
		if len(w.stage) == full {
			w.err = w.handOver()
		}
	}
	return w.err
}

// handOver gives the staged chunk to the helpers, then ends the row
// group when it is full.
func (w *Writer) handOver() error {
	n := int64(len(w.stage))
	next, err := w.sched.queueChunk(w.stage, w.n, w.scan.zeros())
	if err != nil {
		return err
	}
	w.stage = next
	w.n += n
	if w.inGroup += n; w.inGroup == w.rg {
		w.inGroup = 0
		return w.endGroup()
	}
	return nil
}

// Rows returns the number of records taken so far.
func (w *Writer) Rows() int64 { return w.n + int64(len(w.stage)) }

// Close writes the last row group and the file footer. It does not close
// the underlying io.Writer.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err == nil && len(w.stage) > 0 {
		w.err = w.handOver()
	}
	if w.err == nil && w.inGroup > 0 {
		w.err = w.endGroup()
	}
	// The helpers finish what they hold before the columns go.
	if err := w.sched.drain(); w.err == nil {
		w.err = err
	}
	w.sched.stopHelpers()
	w.sched.releaseChunks(w.stage)
	w.stage = nil
	if w.err == nil {
		if err := w.pw.Close(); err != nil {
			w.err = fmt.Errorf("parquet: closing file: %w", err)
		}
	}
	w.cols.release()
	return w.err
}
