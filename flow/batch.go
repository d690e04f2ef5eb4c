package flow

import (
	"errors"
	"io"
	"iter"
)

// Source produces records in batches. ReadBatch fills dst from the start
// and returns how many records it wrote; at the end it returns 0 and
// io.EOF. It may return n > 0 together with an error: the n records are
// good, the error says why no more follow. The records are copied into dst,
// so the caller owns them.
type Source interface {
	ReadBatch(dst []Record) (n int, err error)
}

// Sink consumes records in batches. WriteBatch must not keep batch after it
// returns: the caller reuses it.
type Sink interface {
	WriteBatch(batch []Record) error
}

// DefaultBatchSize is the batch length that stages use when the caller does
// not choose one: large enough to amortize a call, small enough for cache.
const DefaultBatchSize = 1024

// Records iterates over every record of src, reusing one batch buffer. When
// reading stops on an error other than io.EOF, the error is stored in *errp
// (errp may be nil to ignore it). Stopping the loop early is fine.
func Records(src Source, errp *error) iter.Seq[Record] {
	return func(yield func(Record) bool) {
		buf := make([]Record, DefaultBatchSize)
		for {
			n, err := src.ReadBatch(buf)
			for i := 0; i < n; i++ {
				if !yield(buf[i]) {
					return
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) && errp != nil {
					*errp = err
				}
				return
			}
		}
	}
}

// Copy reads every batch of src and writes it to dst, returning the number
// of records copied. It stops at the first error (io.EOF from src is the
// normal end and is not returned).
func Copy(dst Sink, src Source) (int64, error) {
	buf := make([]Record, DefaultBatchSize)
	var total int64
	for {
		n, err := src.ReadBatch(buf)
		if n > 0 {
			if werr := dst.WriteBatch(buf[:n]); werr != nil {
				return total, werr
			}
			total += int64(n)
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return total, nil
			}
			return total, err
		}
	}
}

// SliceSource serves records from a slice; handy in tests and examples.
type SliceSource struct {
	Recs []Record
	pos  int
}

// ReadBatch implements Source.
func (s *SliceSource) ReadBatch(dst []Record) (int, error) {
	if s.pos >= len(s.Recs) {
		return 0, io.EOF
	}
	n := copy(dst, s.Recs[s.pos:])
	s.pos += n
	return n, nil
}

// SliceSink appends every batch it receives to Recs.
type SliceSink struct {
	Recs []Record
}

// WriteBatch implements Sink.
func (s *SliceSink) WriteBatch(batch []Record) error {
	s.Recs = append(s.Recs, batch...)
	return nil
}
