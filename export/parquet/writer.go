package parquet

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"

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
const chunkRows = 4096

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
// helper goroutine). It is not safe for concurrent use.
//
// The writer fills parquet-go's column writers directly, column by
// column, rather than through row structs, in the caller's goroutine and
// a helper goroutine at once: each column's buffer, dictionary and page
// compression are independent. The two take a chunk's columns from a
// shared counter, so that neither waits long for the other whatever the
// columns cost and however busy the cores are.
type Writer struct {
	pw      *parquet.GenericWriter[any]
	cols    *colStates
	main    *scratch           // the caller goroutine's column values of a chunk
	worker  *scratch           // the helper goroutine's
	next    atomic.Int32       // index in colOrder of the next column of the chunk to take
	jobs    chan []flow.Record // chunks for the helper goroutine
	done    chan error         // its answers, one per chunk
	rg      int64              // rows per row group
	inGroup int64              // rows in the current row group
	n       int64
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
		pw:     pw,
		cols:   cols,
		main:   newScratch(),
		worker: newScratch(),
		jobs:   make(chan []flow.Record),
		done:   make(chan error),
		rg:     int64(rg),
	}
	go x.work()
	return x
}

// work does the helper goroutine's share of each step it is sent.
func (w *Writer) work() {
	for recs := range w.jobs {
		w.done <- w.step(w.worker, recs)
	}
}

// inBoth does a step in the caller's goroutine and the helper's at once,
// each taking columns from w.next: encoding chunk, or with a nil chunk
// writing out the row group's last pages.
func (w *Writer) inBoth(chunk []flow.Record) error {
	w.next.Store(0)
	w.jobs <- chunk
	err := w.step(w.main, chunk)
	if werr := <-w.done; err == nil {
		err = werr
	}
	return err
}

// step is one goroutine's share of a step of inBoth, using s as scratch.
func (w *Writer) step(s *scratch, chunk []flow.Record) error {
	if chunk == nil {
		return w.flushColumns()
	}
	return w.writeColumns(s, chunk)
}

// endGroup writes out the last page of every column of the row group in
// both goroutines, as it encodes chunks, and compresses the address
// columns' dictionary pages, so that what is left for parquet-go to do
// alone (the other dictionary pages, putting the row group together) is
// little.
func (w *Writer) endGroup() error {
	return w.inBoth(nil)
}

// flushColumns writes out the last page of the columns it takes from
// w.next until none is left (and compresses their dictionary pages
// ahead, for the address columns).
func (w *Writer) flushColumns() error {
	for {
		id := colID(w.next.Add(1) - 1)
		if id >= numCols {
			return nil
		}
		st := &w.cols[id]
		if err := st.cw.Flush(); err != nil {
			return fmt.Errorf("column %s: %w", colNames[id], err)
		}
		if st.dict != nil && st.text != nil {
			if err := st.dict.precompress(st.text); err != nil {
				return fmt.Errorf("column %s: compressing its dictionary: %w", colNames[id], err)
			}
		}
	}
}

// WriteBatch encodes batch into the column buffers. It does not keep batch.
func (w *Writer) WriteBatch(batch []flow.Record) error {
	if w.closed {
		return ErrClosed
	}
	for len(batch) > 0 {
		n := int(min(int64(len(batch)), chunkRows, w.rg-w.inGroup))
		chunk := batch[:n]
		if err := w.inBoth(chunk); err != nil {
			return fmt.Errorf("parquet: writing rows %d-%d: %w", w.n, w.n+int64(n), err)
		}
		w.n += int64(n)
		batch = batch[n:]
		if w.inGroup += int64(n); w.inGroup == w.rg {
			if err := w.endGroup(); err != nil {
				return fmt.Errorf("parquet: writing the row group ending at row %d: %w", w.n, err)
			}
			if err := w.pw.Flush(); err != nil {
				return fmt.Errorf("parquet: writing the row group ending at row %d: %w", w.n, err)
			}
			w.inGroup = 0
		}
	}
	return nil
}

// writeColumns writes the columns of recs (at most chunkRows records) that
// it takes from w.next until none is left, using s as scratch.
func (w *Writer) writeColumns(s *scratch, recs []flow.Record) error {
	for {
		i := int(w.next.Add(1)) - 1
		if i >= len(colOrder) {
			return nil
		}
		id := colOrder[i]
		if err := writeColumn(w.cols, id, s, recs); err != nil {
			return fmt.Errorf("column %s: %w", colNames[id], err)
		}
	}
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
	var err error
	if w.inGroup > 0 {
		err = w.endGroup()
	}
	close(w.jobs)
	if err != nil {
		return fmt.Errorf("parquet: writing the last row group: %w", err)
	}
	err = w.pw.Close()
	w.cols.release()
	if err != nil {
		return fmt.Errorf("parquet: closing file: %w", err)
	}
	return nil
}
