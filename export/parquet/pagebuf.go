package parquet

import (
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// pageKind is what a pageBuf holds.
type pageKind uint8

const (
	indexKind  pageKind = iota // int32 dictionary indexes
	int64Kind                  // INT64 values (timestamps, offsets)
	uint64Kind                 // unsigned INT64 values (byte counts)
)

// pageBuf is the page buffer of one column, which parquet-go makes
// through the column's wrapped type and writes out as a page when full.
// The writer fills its slice in place (grow), rather than through
// parquet-go's buffers, which take parquet.Values or copy a slice and
// give their memory back to a pool after every page only to grow it
// again. For an intDict's indexes it also keeps the page's least and
// greatest value, which the writer sees as it looks them up, so that the
// page's bounds cost nothing more.
//
// It embeds parquet-go's own buffer for the column only for the
// interface's other methods, which the writer does not call.
type pageBuf struct {
	parquet.ColumnBuffer
	typ    parquet.Type // of the column, or of the indexes
	column int
	kind   pageKind
	i32    []int32
	i64    []int64
	u64    []uint64
	dict   parquet.Dictionary // of an indexKind buffer
	ints   *intDict           // dict, when an intDict
	lo, hi uint64             // least and greatest value of ints (lo > hi when none)
	text   textBounds         // of an address column
}

// newPageBuf returns an empty buffer of kind, from the pool if it has
// one; the caller sets the rest.
func newPageBuf(kind pageKind) *pageBuf {
	b, ok := pageBufPools[kind].Get().(*pageBuf)
	if !ok {
		b = &pageBuf{kind: kind}
		switch kind {
		case indexKind:
			b.i32 = make([]int32, 0, pageBufferSize/4+chunkRows)
		case int64Kind:
			b.i64 = make([]int64, 0, pageBufferSize/8+chunkRows)
		default:
			b.u64 = make([]uint64, 0, pageBufferSize/8+chunkRows)
		}
	}
	b.dict, b.ints = nil, nil
	b.Reset()
	return b
}

// grow32 extends the buffer of indexes by n and returns the new part.
func (b *pageBuf) grow32(n int) []int32 {
	k := len(b.i32)
	b.i32 = growBy(b.i32, n)
	return b.i32[k:]
}

func (b *pageBuf) grow64(n int) []int64 {
	k := len(b.i64)
	b.i64 = growBy(b.i64, n)
	return b.i64[k:]
}

func (b *pageBuf) growU64(n int) []uint64 {
	k := len(b.u64)
	b.u64 = growBy(b.u64, n)
	return b.u64[k:]
}

func growBy[T any](s []T, n int) []T {
	k := len(s) + n
	if k > cap(s) {
		s = append(s[:cap(s)], make([]T, k-cap(s))...)
	}
	return s[:k]
}

// bound widens the bounds to take lo and hi.
func (b *pageBuf) bound(lo, hi uint64) {
	b.lo, b.hi = min(b.lo, lo), max(b.hi, hi)
}

func (b *pageBuf) Len() int {
	switch b.kind {
	case indexKind:
		return len(b.i32)
	case int64Kind:
		return len(b.i64)
	}
	return len(b.u64)
}

func (b *pageBuf) Cap() int {
	switch b.kind {
	case indexKind:
		return cap(b.i32)
	case int64Kind:
		return cap(b.i64)
	}
	return cap(b.u64)
}

// Size is the buffer's size in bytes, which decides when it is a page.
func (b *pageBuf) Size() int64 {
	if b.kind == indexKind {
		return 4 * int64(len(b.i32))
	}
	return 8 * int64(b.Len())
}

func (b *pageBuf) Reset() {
	b.i32, b.i64, b.u64 = b.i32[:0], b.i64[:0], b.u64[:0]
	b.lo, b.hi = math.MaxUint64, 0
	b.text = textBounds{}
}

// Page returns the buffer's values as a page (sharing its memory:
// parquet-go encodes a page before it resets the buffer).
func (b *pageBuf) Page() parquet.Page {
	switch b.kind {
	case int64Kind:
		return b.typ.NewPage(b.column, len(b.i64), encoding.Int64Values(b.i64))
	case uint64Kind:
		return b.typ.NewPage(b.column, len(b.u64), encoding.Uint64Values(b.u64))
	}
	p := indexPage{Page: b.typ.NewPage(b.column, len(b.i32), encoding.Int32Values(b.i32)), dict: b.dict}
	if b.ints != nil && b.lo <= b.hi {
		p.lo, p.hi, p.known = b.ints.value(b.lo), b.ints.value(b.hi), true
	} else {
		p.lo, p.hi, p.known = b.text.bounds()
	}
	return p
}

// WriteValues appends values: the optional IPv4 columns' indexes come
// this way, through parquet-go's buffer of definition levels.
func (b *pageBuf) WriteValues(values []parquet.Value) (int, error) {
	switch b.kind {
	case int64Kind:
		for _, v := range values {
			b.i64 = append(b.i64, v.Int64())
		}
	case uint64Kind:
		for _, v := range values {
			b.u64 = append(b.u64, v.Uint64())
		}
	default:
		// The writer has put the values' bounds in already (bound).
		dst := b.grow32(len(values))
		for i := range dst {
			dst[i] = values[i].Int32()
		}
	}
	return len(values), nil
}
