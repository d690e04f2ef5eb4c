package parquet

import (
	"bytes"
	"encoding/binary"

	"github.com/flowkit/flowkit/flow"
	"github.com/parquet-go/parquet-go"
)

// The text columns (addresses, end reason, flow type) are dictionary
// encoded, and parquet-go's dictionary for them finds each row's index
// in a Go map keyed by the text: with formatting the text and comparing
// strings for the statistics, that was half of the writer's CPU time.
// The writer knows better keys: a flow.Addr (16 bytes) or an enum byte.
// So for these columns it keeps the dictionary itself (textDict) and
// hands parquet-go the indexes (see wrap.go for how). The file is the
// same as with parquet-go's dictionary (the same dictionary order: first
// seen first).

// textDict is the dictionary of a text column, filled by the writer with
// indexOfV4, indexOfV6 or indexOfEnum. It embeds a parquet-go dictionary only to
// have the interface's unexported methods; every method parquet-go calls
// on a column's dictionary is its own.
type textDict struct {
	parquet.Dictionary
	typ     parquet.Type
	column  int
	st      *colState
	values  []byte               // the texts, one after another
	offsets []uint32             // text i is values[offsets[i]:offsets[i+1]]
	addrs   *keyTable[flow.Addr] // IPv6 addresses (and the zero address)
	v4s     *keyTable[uint32]    // IPv4 addresses, with their index in the IPv4 column's dictionary
	enum    *[256]int32          // index+1 of each enum value, 0 when not yet in
	text    map[string]int32
	prefix  []uint64 // per text, its first 8 bytes as a big-endian number (0-padded)
}

// newTextDict returns an empty dictionary of column columnIndex, of type
// typ, for addresses or (with enum) enum values; base is parquet-go's
// dictionary for the column, for the unexported methods.
func newTextDict(base parquet.Dictionary, typ parquet.Type, columnIndex int, st *colState, enum bool) *textDict {
	if !enum {
		if d, ok := addrDictPool.Get().(*textDict); ok {
			d.Dictionary, d.typ, d.column, d.st = base, typ, columnIndex, st
			d.Reset()
			return d
		}
	}
	d := &textDict{Dictionary: base, typ: typ, column: columnIndex, st: st, offsets: []uint32{0}}
	if enum {
		d.enum = new([256]int32)
	} else {
		d.addrs, d.v4s = new(keyTable[flow.Addr]), new(keyTable[uint32])
		d.addrs.init(10)
		d.v4s.init(10)
	}
	d.Reset()
	return d
}

// indexOfV4 returns the index of the text of a, an IPv4 address whose
// value is x, adding it when new, and the index of x in v4, the
// dictionary of the column of IPv4 addresses as integers (-1 when v4 is
// nil): one table lookup for both columns. IPv4 addresses have a table
// of their own, of 12-byte slots rather than 24, so that more of it
// stays in the cache.
func (d *textDict) indexOfV4(a *flow.Addr, x uint32, v4 *intDict) (int32, int32) {
	slot := d.v4s.find(x, hashV4(x))
	if slot.index > 0 {
		return slot.index - 1, slot.aux - 1
	}
	d.values = a.AppendText(d.values)
	i, j := d.add(), int32(-1)
	if v4 != nil {
		j = v4.add(uint64(x))
	}
	d.v4s.set(slot, x, i, j, hashV4)
	return i, j
}

// indexOfV6 returns the index of the text of a, an IPv6 address (or with
// noneEmpty, of "" for the zero address), adding it when new.
func (d *textDict) indexOfV6(a *flow.Addr, noneEmpty bool) int32 {
	slot := d.addrs.find(*a, hashAddr(*a))
	if slot.index > 0 {
		return slot.index - 1
	}
	if !noneEmpty || *a != (flow.Addr{}) {
		d.values = a.AppendText(d.values)
	}
	i := d.add()
	d.addrs.set(slot, *a, i, -1, hashAddr)
	return i
}

// indexOfEnum returns the index of text, the text of enum value v.
func (d *textDict) indexOfEnum(v uint8, text []byte) int32 {
	if i := d.enum[v]; i > 0 {
		return i - 1
	}
	d.values = append(d.values, text...)
	i := d.add()
	d.enum[v] = i + 1
	return i
}

// add ends the text appended to d.values and returns its index.
func (d *textDict) add() int32 {
	d.offsets = append(d.offsets, uint32(len(d.values)))
	var p [8]byte
	copy(p[:], d.values[d.offsets[len(d.offsets)-2]:])
	d.prefix = append(d.prefix, binary.BigEndian.Uint64(p[:]))
	return int32(len(d.offsets) - 2)
}

func (d *textDict) bytes(i int32) []byte { return d.values[d.offsets[i]:d.offsets[i+1]] }

// Type is the type of the column's indexed pages.
func (d *textDict) Type() parquet.Type { return indexType{Type: d.typ, dict: d, st: d.st} }

// Len is the number of texts.
func (d *textDict) Len() int { return len(d.offsets) - 1 }

// Size is the texts' size in bytes.
func (d *textDict) Size() int64 { return int64(len(d.values)) }

// Index returns text i.
func (d *textDict) Index(i int32) parquet.Value { return parquet.ByteArrayValue(d.bytes(i)) }

// Insert sets indexes to those of values' texts, adding new ones. The
// writer does not use it (it passes indexes); it is here for the
// interface.
func (d *textDict) Insert(indexes []int32, values []parquet.Value) {
	if d.text == nil {
		d.text = make(map[string]int32, d.Len())
		for i := range int32(d.Len()) {
			d.text[string(d.bytes(i))] = i
		}
	}
	for k, v := range values {
		b := v.ByteArray()
		i, ok := d.text[string(b)]
		if !ok {
			d.values = append(d.values, b...)
			i = d.add()
			d.text[string(b)] = i
		}
		indexes[k] = i
	}
}

// Lookup sets values to the texts of indexes.
func (d *textDict) Lookup(indexes []int32, values []parquet.Value) {
	for k, i := range indexes {
		values[k] = d.Index(i)
	}
}

// Bounds returns the least and greatest text of indexes. It compares
// the texts' 8-byte prefixes as numbers, which orders them as the texts
// (texts hold no zero byte, so padding orders a prefix first), and the
// texts themselves only when the prefixes are equal.
func (d *textDict) Bounds(indexes []int32) (lo, hi parquet.Value) {
	if len(indexes) == 0 {
		return lo, hi
	}
	if d.Len() == 1 { // no next hops, one end reason or flow type
		return d.Index(0), d.Index(0)
	}
	minI, maxI := indexes[0], indexes[0]
	minK, maxK := d.prefix[minI], d.prefix[maxI]
	for _, i := range indexes {
		k := d.prefix[i]
		if k <= minK && i != minI && (k < minK || bytes.Compare(d.bytes(i), d.bytes(minI)) < 0) {
			minI, minK = i, k
		}
		if k >= maxK && i != maxI && (k > maxK || bytes.Compare(d.bytes(i), d.bytes(maxI)) > 0) {
			maxI, maxK = i, k
		}
	}
	return d.Index(minI), d.Index(maxI)
}

// Reset empties the dictionary (parquet-go calls it after each row group).
func (d *textDict) Reset() {
	d.values = d.values[:0]
	d.offsets = d.offsets[:1]
	d.prefix = d.prefix[:0]
	if d.addrs != nil {
		d.addrs.reset()
		d.v4s.reset()
	}
	clear(d.text)
	if d.enum != nil {
		*d.enum = [256]int32{}
	}
}

// Page is the dictionary page: the texts, PLAIN encoded by parquet-go.
func (d *textDict) Page() parquet.Page {
	return d.typ.NewPage(d.column, d.Len(), d.typ.NewValues(d.values, d.offsets))
}

// hashAddr is the hash of an address: a multiplicative hash of its two
// halves.
func hashAddr(a flow.Addr) uint64 {
	lo := binary.LittleEndian.Uint64(a[:8])
	hi := binary.LittleEndian.Uint64(a[8:])
	return (lo*0x9e3779b97f4a7c15 ^ hi*0xc2b2ae3d27d4eb4f) * 0x165667b19e3779f9
}

// hashV4 is the hash of an IPv4 address as a number.
func hashV4(x uint32) uint64 { return hash64(uint64(x)) }
