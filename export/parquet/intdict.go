package parquet

import (
	"math"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// intDict is the dictionary of an unsigned integer column (ports, flags,
// protocol, packet counts, interfaces, AS numbers, IPv4 addresses). The
// writer finds a value's index with a plain array for columns of at most
// 16 bits and with an open-addressing table for wider ones, rather than
// parquet-go's hash probe of every value (a sixth of the writer's time);
// the IPv4 columns' dictionaries are filled by the address lookup
// (textDict.indexOfV4), which already found whether the address is new.
// It embeds parquet-go's dictionary only for the interface's unexported
// methods.
type intDict struct {
	parquet.Dictionary
	typ    parquet.Type
	column int
	st     *colState
	wide   bool             // INT64 (else INT32) physical type
	values []uint64         // in first-seen order
	direct []int32          // index+1 by value, 0 when not in; nil for wide columns
	table  keyTable[uint64] // for values beyond direct
	u32    []uint32         // the values as the dictionary page of an INT32 column
}

// directSize is the length of the direct index of each integer column:
// all of the values of the 8-bit columns, the values below 64 Ki of the
// others (all of the 16-bit columns', and most packet counts, interface
// indexes and AS numbers); the table has the rest. The IPv4 columns have
// none: the address lookup fills their dictionaries.
var directSize = func() (n [numCols]int) {
	for id := range numCols {
		switch id {
		case colProtocol, colFlags, colInitialFlags, colSessionFlags, colRevFlags, colRevInitialFlags, colRevSessionFlags:
			n[id] = 1 << 8
		case colSrcIPv4, colDstIPv4:
		default:
			n[id] = 1 << 16
		}
	}
	return n
}()

func newIntDict(base parquet.Dictionary, typ parquet.Type, columnIndex int, st *colState, direct int) *intDict {
	if d, ok := intDictPool(direct).Get().(*intDict); ok && len(d.direct) == direct {
		d.Dictionary, d.typ, d.column, d.st, d.wide = base, typ, columnIndex, st, typ.Kind() == parquet.Int64
		d.Reset()
		return d
	}
	d := &intDict{Dictionary: base, typ: typ, column: columnIndex, st: st, wide: typ.Kind() == parquet.Int64}
	if direct > 0 {
		d.direct = make([]int32, direct)
	}
	d.table.init(8)
	return d
}

// index returns the index of v, adding it when new.
func (d *intDict) index(v uint64) int32 {
	if v < uint64(len(d.direct)) {
		if i := d.direct[v]; i > 0 {
			return i - 1
		}
		i := d.add(v)
		d.direct[v] = i + 1
		return i
	}
	s := d.table.find(v, hash64(v))
	if s.index > 0 {
		return s.index - 1
	}
	i := d.add(v)
	d.table.set(s, v, i, -1, hash64)
	return i
}

// indexes sets idx to the indexes of vals, adding new ones, and returns
// the least and greatest of vals. A run of one value (many columns hold
// one value, or few) is looked up once.
func (d *intDict) indexes(idx []int32, vals []uint64) (lo, hi uint64) {
	if len(vals) == 0 {
		return math.MaxUint64, 0
	}
	idx = idx[:len(vals)]
	last := vals[0]
	li := d.index(last)
	lo, hi = last, last
	for i, v := range vals {
		if v != last {
			last, li = v, d.index(v)
			lo, hi = min(lo, v), max(hi, v)
		}
		idx[i] = li
	}
	return lo, hi
}

// add appends v, which the caller knows is new, and returns its index.
func (d *intDict) add(v uint64) int32 {
	d.values = append(d.values, v)
	return int32(len(d.values) - 1)
}

// Type is the type of the column's indexed pages.
func (d *intDict) Type() parquet.Type { return indexType{Type: d.typ, dict: d, st: d.st} }

// Len is the number of values.
func (d *intDict) Len() int { return len(d.values) }

// Size is the values' size in bytes.
func (d *intDict) Size() int64 {
	if d.wide {
		return 8 * int64(len(d.values))
	}
	return 4 * int64(len(d.values))
}

// Index returns value i.
func (d *intDict) Index(i int32) parquet.Value { return d.value(d.values[i]) }

func (d *intDict) value(v uint64) parquet.Value {
	if d.wide {
		return parquet.Int64Value(int64(v))
	}
	return parquet.Int32Value(int32(uint32(v)))
}

// Insert sets indexes to those of values, adding new ones. The writer
// does not use it (it passes indexes); it is here for the interface.
func (d *intDict) Insert(indexes []int32, values []parquet.Value) {
	for k, v := range values {
		if d.wide {
			indexes[k] = d.index(v.Uint64())
		} else {
			indexes[k] = d.index(uint64(v.Uint32()))
		}
	}
}

// Lookup sets values to the values of indexes.
func (d *intDict) Lookup(indexes []int32, values []parquet.Value) {
	for k, i := range indexes {
		values[k] = d.Index(i)
	}
}

// Bounds returns the least and greatest value of indexes (unsigned: all
// of the columns are).
func (d *intDict) Bounds(indexes []int32) (lo, hi parquet.Value) {
	if len(indexes) == 0 {
		return lo, hi
	}
	vals := d.values
	mn, mx := vals[indexes[0]], vals[indexes[0]]
	for _, i := range indexes {
		v := vals[i]
		mn, mx = min(mn, v), max(mx, v)
	}
	return d.value(mn), d.value(mx)
}

// Reset empties the dictionary (parquet-go calls it after each row group).
func (d *intDict) Reset() {
	for _, v := range d.values {
		if v < uint64(len(d.direct)) {
			d.direct[v] = 0
		}
	}
	d.values = d.values[:0]
	d.table.reset()
}

// Page is the dictionary page: the values, PLAIN encoded by parquet-go.
func (d *intDict) Page() parquet.Page {
	if d.wide {
		return d.typ.NewPage(d.column, len(d.values), encoding.Uint64Values(d.values))
	}
	d.u32 = d.u32[:0]
	for _, v := range d.values {
		d.u32 = append(d.u32, uint32(v))
	}
	return d.typ.NewPage(d.column, len(d.u32), encoding.Uint32Values(d.u32))
}
