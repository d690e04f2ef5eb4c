package parquet

import (
	"math/bits"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"
)

// The writer does not hand parquet-go values one by one (a parquet.Value
// per row and column, then parquet-go's hash probe of its dictionary for
// each): it fills each column's page buffer with typed slices itself, and
// keeps the dictionaries of the dictionary-encoded columns itself
// (textDict, intDict), whose keys it knows better than a generic hash
// table does. To get at the buffers and to put its dictionaries in,
// writeSchema wraps the type of every column: parquet-go asks a column's
// type for its dictionary (NewDictionary) and for its page buffer
// (NewColumnBuffer), and the wrapped type answers with the writer's
// dictionary and notes the buffer in the column's colState. For a
// dictionary-encoded column the buffer holds int32 indexes, whose pages
// parquet-go encodes as RLE_DICTIONARY data and whose min and max come
// from the dictionary (indexPage).

// colState is what a Writer keeps of one column: parquet-go's writer for
// it, the page buffer that writer made through the column's wrapped type
// (of dictionary indexes for a dictionary-encoded column), and the
// column's dictionary (text or ints), if it has one, and the codec that
// compresses an address column's dictionary page ahead.
type colState struct {
	cw   *parquet.ColumnWriter
	buf  *pageBuf
	text *textDict
	ints *intDict
	dict *dictCodec // of an address column
}

// colStates are a writer's columns, by colID.
type colStates [numCols]colState

// writeSchema returns Schema with every column's type wrapped so that its
// dictionary and page buffer are those of cols, and the columns of
// compressible set compressed with codec, the others not at all.
func writeSchema(cols *colStates, codec compress.Codec) *parquet.Schema {
	fields := Schema.Fields()
	wrapped := make([]parquet.Field, len(fields))
	for i, f := range fields {
		wrapped[i] = f
		for id, name := range colNames {
			if f.Name() == name {
				c := codec
				if !compressible[id] {
					c = &parquet.Uncompressed
				} else if c.CompressionCodec() == format.Zstd {
					c = &litCodec{Codec: c}
				}
				if compressible[id] && (colID(id) == colSrcAddr || colID(id) == colDstAddr || colID(id) == colNextHop) {
					if c.CompressionCodec() != format.Uncompressed {
						cols[id].dict = &dictCodec{Codec: c, st: &cols[id], zstd: c.CompressionCodec() == format.Zstd}
						c = cols[id].dict
					}
				}
				wrapped[i] = wrapField{Field: f, st: &cols[id], id: colID(id), codec: c}
			}
		}
	}
	return parquet.NewSchema(Schema.Name(), rootNode{Node: Schema, fields: wrapped})
}

// rootNode is the schema's root with wrapped fields.
type rootNode struct {
	parquet.Node
	fields []parquet.Field
}

func (r rootNode) Fields() []parquet.Field { return r.fields }

// wrapField is a column whose type is a wrapType.
type wrapField struct {
	parquet.Field
	st    *colState
	id    colID
	codec compress.Codec
}

func (f wrapField) Compression() compress.Codec { return f.codec }

// compressible are the columns whose pages a codec makes smaller. The
// others' encodings leave nothing for it (measured with zstd on the
// benchmark corpus: timestamps, byte counts, source ports, IPv4
// integers, flags 0-0.5%; packets 3%), so compressing them would only
// cost time: with every column compressed, zstd took a fifth of the
// writer's time. What it shrinks is the address texts of the dictionary
// pages (by more than half) and the indexes of columns of few, unevenly used values
// (dst_port by 36%; AS numbers are alike). With zstd, these are coded as
// literals only (zstdlit.go).
var compressible = [numCols]bool{
	colSrcAddr: true, colDstAddr: true, colNextHop: true,
	colDstPort: true, colSrcAS: true, colDstAS: true,
}

func (f wrapField) Type() parquet.Type { return wrapType{Type: f.Field.Type(), st: f.st, id: f.id} }

// wrapType is a column's own type, but its dictionary is the writer's and
// its page buffer is noted in st.
type wrapType struct {
	parquet.Type
	st *colState
	id colID
}

func (t wrapType) NewColumnBuffer(columnIndex, numValues int) parquet.ColumnBuffer {
	kind := int64Kind
	if t.id == colBytes || t.id == colRevBytes {
		kind = uint64Kind
	}
	b := newPageBuf(kind)
	b.ColumnBuffer, b.typ, b.column = t.Type.NewColumnBuffer(columnIndex, 0), t.Type, columnIndex
	t.st.buf = b
	return b
}

func (t wrapType) NewDictionary(columnIndex, numValues int, data encoding.Values) parquet.Dictionary {
	base := t.Type.NewDictionary(columnIndex, numValues, data)
	switch t.id {
	case colSrcAddr, colDstAddr, colNextHop, colEndReason, colType:
		d := newTextDict(base, t.Type, columnIndex, t.st, t.id == colEndReason || t.id == colType)
		t.st.text = d
		return d
	}
	d := newIntDict(base, t.Type, columnIndex, t.st, directSize[t.id])
	t.st.ints = d
	return d
}

// indexType is the type of a dictionary-encoded column whose buffers
// hold the indexes of the writer's dictionary.
type indexType struct {
	parquet.Type
	dict parquet.Dictionary
	st   *colState
}

func (t indexType) NewColumnBuffer(columnIndex, numValues int) parquet.ColumnBuffer {
	b := newPageBuf(indexKind)
	b.ColumnBuffer, b.typ, b.column, b.dict = parquet.Int32Type.NewColumnBuffer(columnIndex, 0), parquet.Int32Type, columnIndex, t.dict
	b.ints, _ = t.dict.(*intDict)
	t.st.buf = b
	return b
}

// indexPage is a page of indexes whose bounds are dictionary values.
type indexPage struct {
	parquet.Page
	dict   parquet.Dictionary
	lo, hi parquet.Value // the bounds when known (an intDict's page)
	known  bool
}

func (p indexPage) Bounds() (lo, hi parquet.Value, ok bool) {
	if p.NumValues() == 0 {
		return lo, hi, false
	}
	if p.known {
		return p.lo, p.hi, true
	}
	data := p.Data()
	lo, hi = p.dict.Bounds(data.Int32())
	return lo, hi, true
}

func (p indexPage) Dictionary() parquet.Dictionary { return p.dict }

// Type is the type that encodes the page: RLE_DICTIONARY data takes its
// bit width from the dictionary's length rather than from a scan of the
// page for its greatest index (parquet-go's way, 8% of the writer's
// time); it is the same but where the page does not use the last
// dictionary entries seen so far.
func (p indexPage) Type() parquet.Type {
	return indexPageType{Type: p.Page.Type(), width: bits.Len32(uint32(max(p.dict.Len(), 1) - 1))}
}

// indexPageType is the type of an indexPage.
type indexPageType struct {
	parquet.Type
	width int
}

func (t indexPageType) Encode(dst []byte, src encoding.Values, enc encoding.Encoding) ([]byte, error) {
	if enc.Encoding() != format.RLEDictionary {
		return t.Type.Encode(dst, src, enc)
	}
	idx := src.Int32()
	// The bit width byte, then the RLE/bit-packed hybrid runs written
	// after it in place: dst has room for the longest runs can be.
	if need := 1 + 5*len(idx) + 64; cap(dst) < need {
		dst = make([]byte, 0, need)
	}
	dst = append(dst[:0], byte(t.width))
	runs, err := (&rle.Encoding{BitWidth: t.width}).EncodeInt32(dst[1:], idx)
	if err != nil {
		return dst, err
	}
	if len(runs) > 0 && &runs[0] != &dst[:2][1] { // grown elsewhere after all
		return append(dst, runs...), nil
	}
	return dst[:1+len(runs)], nil
}
