package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/flowkit/flowkit/flow"
)

// Index answers "which rows of this block hold value v" for an indexed
// column (see [Column.Indexed]). It is the column's stored form: a default
// value (the most frequent), values that have a roaring bitmap of rows, and
// rare values kept as exceptions. Every lookup is exact. An Index is
// read-only and safe for concurrent use; bitmaps it returns belong to the
// caller.
type Index struct {
	col      Column
	rows     int
	kind     byte
	implicit bool // rows in no bitmap are the exceptions; no default
	covered  [MaxBlockRows / 64]uint64
	iterBuf  [1024]uint32 // NextMany scratch (a local array would escape)

	def     uint64
	defAddr flow.Addr
	vals    []uint64    // posted numbers, ascending
	addrs   []flow.Addr // posted addresses, ascending
	excVals []uint64
	excAddr []flow.Addr
	bm      roaring.Bitmap
}

var errIndex = errors.New("bad index chunk")

// parseIndex reads an indexed chunk of a block with rows rows. The bitmap
// refers to src, which must stay unchanged while the Index is used.
func parseIndex(src []byte, col Column, rows int) (*Index, error) {
	ix := &Index{}
	if err := ix.parse(src, col, rows); err != nil {
		return nil, err
	}
	ix.exceptionAddrs() // now, so that lookups never write to ix
	return ix, nil
}

// parse reads an indexed chunk into ix, reusing its vectors.
func (ix *Index) parse(src []byte, col Column, rows int) error {
	ix.col, ix.rows = col, rows
	ix.def, ix.defAddr = 0, flow.Addr{}
	ix.vals, ix.addrs, ix.excVals, ix.excAddr = ix.vals[:0], ix.addrs[:0], ix.excVals[:0], ix.excAddr[:0]
	if len(src) < 1 {
		return errIndex
	}
	ix.kind = src[0] &^ flagImplicit
	ix.implicit = src[0]&flagImplicit != 0
	src = src[1:]
	readUv := func() (uint64, bool) {
		v, n := binary.Uvarint(src)
		if n <= 0 {
			return 0, false
		}
		src = src[n:]
		return v, true
	}
	readAddr := func() (flow.Addr, bool) {
		if ix.kind == kindAddr4 {
			v, ok := readUv()
			if !ok || v > 0xffffffff {
				return flow.Addr{}, false
			}
			return flow.AddrFromUint32(uint32(v)), true
		}
		if len(src) < 16 {
			return flow.Addr{}, false
		}
		a := flow.Addr(src[:16])
		src = src[16:]
		return a, true
	}
	var ok bool
	switch {
	case ix.kind > kindAddr6:
		return errIndex
	case ix.implicit:
	case ix.kind == kindUint:
		if ix.def, ok = readUv(); !ok {
			return errIndex
		}
	default:
		if ix.defAddr, ok = readAddr(); !ok {
			return errIndex
		}
	}
	p, ok := readUv()
	if !ok || p > uint64(rows) {
		return errIndex
	}
	switch ix.kind {
	case kindUint:
		ix.vals = grow(ix.vals, int(p))
		prev := uint64(0)
		for j := range ix.vals {
			d, ok := readUv()
			if !ok {
				return errIndex
			}
			prev += d
			ix.vals[j] = prev
		}
	case kindAddr4:
		ix.addrs = grow(ix.addrs, int(p))
		prev := uint64(0)
		for j := range ix.addrs {
			d, ok := readUv()
			if !ok || prev+d > 0xffffffff {
				return errIndex
			}
			prev += d
			ix.addrs[j] = addr4(uint32(prev))
		}
	default:
		if uint64(len(src)) < 16*p {
			return errIndex
		}
		ix.addrs = grow(ix.addrs, int(p))
		for j := range ix.addrs {
			ix.addrs[j] = flow.Addr(src[16*j:])
		}
		src = src[16*p:]
	}
	e, ok := readUv()
	if !ok || e > uint64(rows) {
		return errIndex
	}
	if e > 0 {
		switch ix.kind {
		case kindUint, kindAddr4:
			ix.excVals = grow(ix.excVals, int(e))
			rest, err := readUints(src, ix.excVals)
			if err != nil {
				return errIndex
			}
			src = rest
			if ix.kind == kindAddr4 {
				// kept as numbers; excAddr is made only for lookups
				var all uint64
				for _, v := range ix.excVals {
					all |= v
				}
				if all > 0xffffffff {
					return errIndex
				}
			}
		default:
			if uint64(len(src)) < 16*e {
				return errIndex
			}
			ix.excAddr = grow(ix.excAddr, int(e))
			for j := range ix.excAddr {
				ix.excAddr[j] = flow.Addr(src[16*j:])
			}
			src = src[16*e:]
		}
	}
	l, ok := readUv()
	if !ok || l != uint64(len(src)) {
		return errIndex
	}
	ix.bm = roaring.Bitmap{}
	if l > 0 {
		if _, err := ix.bm.FromUnsafeBytes(src); err != nil {
			return errIndex
		}
	}
	// validate shape: at most one entry per row, keys <= P, exception
	// count matches (row numbers are checked where they are used)
	if ix.bm.GetCardinality() > uint64(rows) {
		return errIndex
	}
	if ix.bm.GetCardinality() > 0 {
		maxv := ix.bm.Maximum()
		if maxv>>16 > uint32(p) {
			return errIndex
		}
	}
	card := ix.bm.GetCardinality()
	if ix.implicit {
		if (card > 0 && ix.bm.Maximum()>>16 >= uint32(p)) || uint64(rows)-card != e {
			return errIndex
		}
		return nil
	}
	hiP := uint64(p) << 16
	nexc := card - ix.bm.Rank(uint32(hiP)-1)
	if p == 0 {
		nexc = card
	}
	if nexc != e {
		return errIndex
	}
	return nil
}

// Column returns the column the index belongs to.
func (ix *Index) Column() Column { return ix.col }

// Rows returns the number of rows in the block.
func (ix *Index) Rows() int { return ix.rows }

// BitmapBytes returns the serialized size of the index's roaring bitmap.
func (ix *Index) BitmapBytes() int { return int(ix.bm.GetSerializedSizeInBytes()) }

// npost is the number of posted values.
func (ix *Index) npost() int {
	if ix.kind == kindUint {
		return len(ix.vals)
	}
	return len(ix.addrs)
}

// fillUints decodes a numeric indexed column into dst (len rows).
func (ix *Index) fillUints(dst []uint64) error {
	return fillIndexed(ix, dst, ix.vals, ix.def, ix.excVals)
}

// fillAddrs decodes an address column into dst (len rows).
func (ix *Index) fillAddrs(dst []flow.Addr) error {
	if ix.kind == kindAddr4 {
		exc := grow(ix.excAddr, len(ix.excVals))
		for j, v := range ix.excVals {
			exc[j] = addr4(uint32(v))
		}
		ix.excAddr = exc
	}
	return fillIndexed(ix, dst, ix.addrs, ix.defAddr, ix.excAddr)
}

// fillIndexed writes every row's value: posted values from the bitmap,
// then the default or (implicit mode) the exceptions into the rows no
// bitmap covers, or (explicit mode) the exceptions from key P.
func fillIndexed[T any](ix *Index, dst []T, posted []T, def T, exc []T) error {
	nexc := len(exc)
	p := uint32(len(posted))
	covered := ix.covered[:(len(dst)+63)/64]
	if ix.implicit {
		clear(covered)
	} else {
		for i := range dst {
			dst[i] = def
		}
	}
	it := ix.bm.ManyIterator()
	buf := ix.iterBuf[:]
	e := 0
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		for _, x := range buf[:n] {
			k, row := x>>16, int(x&0xffff)
			if row >= len(dst) {
				return errIndex
			}
			switch {
			case k < p:
				dst[row] = posted[k]
				covered[row>>6] |= 1 << (row & 63)
			case ix.implicit || e >= nexc:
				return errIndex
			default:
				dst[row] = exc[e]
				e++
			}
		}
	}
	if !ix.implicit {
		return nil
	}
	last := len(covered) - 1
	for w, c := range covered {
		free := ^c
		if w == last && len(dst)%64 != 0 {
			free &= 1<<(len(dst)%64) - 1
		}
		for free != 0 {
			if e >= nexc {
				return errIndex
			}
			dst[w*64+bits.TrailingZeros64(free)] = exc[e]
			e++
			free &= free - 1
		}
	}
	if e != nexc {
		return errIndex
	}
	return nil
}

// keyRows returns the rows of key k as a new bitmap.
func (ix *Index) keyRows(k uint32) *roaring.Bitmap {
	out := roaring.New()
	it := ix.bm.Iterator()
	it.AdvanceIfNeeded(k << 16)
	var rows []uint32
	for it.HasNext() {
		x := it.PeekNext()
		if x>>16 != k {
			break
		}
		rows = append(rows, x&0xffff)
		it.Next()
	}
	out.AddMany(rows)
	return out
}

// defaultRows returns the rows holding the default value.
func (ix *Index) defaultRows() *roaring.Bitmap {
	covered := roaring.New()
	it := ix.bm.ManyIterator()
	var buf [1024]uint32
	for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
		for i := range buf[:n] {
			buf[i] &= 0xffff
		}
		covered.AddMany(buf[:n])
	}
	covered.Flip(0, uint64(ix.rows))
	return covered
}

// exceptionRows returns the exception rows whose value satisfies match
// (e is the exception's position).
func (ix *Index) exceptionRows(match func(e int) bool) *roaring.Bitmap {
	out := roaring.New()
	var rows []uint32
	if ix.implicit {
		free := ix.defaultRows() // the rows in no bitmap
		e := 0
		it := free.Iterator()
		for it.HasNext() && e < ix.nexc() {
			r := it.Next()
			if match(e) {
				rows = append(rows, r)
			}
			e++
		}
		out.AddMany(rows)
		return out
	}
	p := uint32(ix.npost())
	it := ix.bm.Iterator()
	it.AdvanceIfNeeded(p << 16)
	e := 0
	for it.HasNext() && e < ix.nexc() {
		x := it.Next()
		if match(e) {
			rows = append(rows, x&0xffff)
		}
		e++
	}
	out.AddMany(rows)
	return out
}

func (ix *Index) nexc() int {
	if ix.kind == kindAddr6 {
		return len(ix.excAddr)
	}
	return len(ix.excVals)
}

// Lookup returns the rows whose value equals v (numeric columns).
func (ix *Index) Lookup(v uint64) *roaring.Bitmap { return ix.LookupRange(v, v) }

// LookupRange returns the rows whose value lies in [lo, hi] (numeric
// columns; for address columns it returns an empty bitmap).
func (ix *Index) LookupRange(lo, hi uint64) *roaring.Bitmap {
	out := roaring.New()
	if ix.kind != kindUint || lo > hi {
		return out
	}
	if !ix.implicit && ix.def >= lo && ix.def <= hi {
		out.Or(ix.defaultRows())
	}
	i, _ := slices.BinarySearch(ix.vals, lo)
	for ; i < len(ix.vals) && ix.vals[i] <= hi; i++ {
		out.Or(ix.keyRows(uint32(i)))
	}
	if len(ix.excVals) > 0 {
		exc := ix.excVals
		out.Or(ix.exceptionRows(func(e int) bool { v := exc[e]; return v >= lo && v <= hi }))
	}
	return out
}

// LookupAddr returns the rows whose address equals a (address columns).
func (ix *Index) LookupAddr(a flow.Addr) *roaring.Bitmap { return ix.lookupAddrRange(a, a) }

// LookupPrefix returns the rows whose address lies in p (address columns).
func (ix *Index) LookupPrefix(p netip.Prefix) *roaring.Bitmap {
	lo, hi := prefixRange(p)
	return ix.lookupAddrRange(lo, hi)
}

// prefixRange returns the first and last Addr of p.
func prefixRange(p netip.Prefix) (lo, hi flow.Addr) {
	p = p.Masked()
	lo = flow.AddrFrom(p.Addr())
	bitsN := p.Bits()
	if p.Addr().Is4() {
		bitsN += 96
	}
	hi = lo
	for i := bitsN; i < 128; i++ {
		hi[i/8] |= 0x80 >> (i % 8)
	}
	return lo, hi
}

func addrIn(a, lo, hi *flow.Addr) bool {
	return bytes.Compare(a[:], lo[:]) >= 0 && bytes.Compare(a[:], hi[:]) <= 0
}

// addr4 is flow.AddrFromUint32 as two 8-byte stores (the decode hot path).
func addr4(v uint32) (a flow.Addr) {
	binary.BigEndian.PutUint64(a[8:], 0xffff<<32|uint64(v))
	return a
}

// exceptionAddrs returns the exception addresses, converting IPv4 ones
// from their numbers.
func (ix *Index) exceptionAddrs() []flow.Addr {
	if ix.kind == kindAddr4 && len(ix.excAddr) != len(ix.excVals) {
		ix.excAddr = make([]flow.Addr, len(ix.excVals))
		for j, v := range ix.excVals {
			ix.excAddr[j] = flow.AddrFromUint32(uint32(v))
		}
	}
	return ix.excAddr
}

func (ix *Index) lookupAddrRange(lo, hi flow.Addr) *roaring.Bitmap {
	out := roaring.New()
	if ix.kind == kindUint {
		return out
	}
	exc := ix.exceptionAddrs()
	if !ix.implicit && addrIn(&ix.defAddr, &lo, &hi) {
		out.Or(ix.defaultRows())
	}
	i, _ := slices.BinarySearchFunc(ix.addrs, lo, func(a, b flow.Addr) int { return bytes.Compare(a[:], b[:]) })
	for ; i < len(ix.addrs) && bytes.Compare(ix.addrs[i][:], hi[:]) <= 0; i++ {
		out.Or(ix.keyRows(uint32(i)))
	}
	if len(exc) > 0 {
		out.Or(ix.exceptionRows(func(e int) bool { return addrIn(&exc[e], &lo, &hi) }))
	}
	return out
}

// ContainsRange reports whether any row has a value in [lo, hi], without
// building bitmaps: a quick test to skip a block.
func (ix *Index) ContainsRange(lo, hi uint64) bool {
	if ix.kind != kindUint {
		return false
	}
	if !ix.implicit && ix.def >= lo && ix.def <= hi {
		return true
	}
	i, _ := slices.BinarySearch(ix.vals, lo)
	if i < len(ix.vals) && ix.vals[i] <= hi {
		return true
	}
	for _, v := range ix.excVals {
		if v >= lo && v <= hi {
			return true
		}
	}
	return false
}

// ContainsPrefix reports whether any row has an address in p.
func (ix *Index) ContainsPrefix(p netip.Prefix) bool {
	if ix.kind == kindUint {
		return false
	}
	lo, hi := prefixRange(p)
	if !ix.implicit && addrIn(&ix.defAddr, &lo, &hi) {
		return true
	}
	i, _ := slices.BinarySearchFunc(ix.addrs, lo, func(a, b flow.Addr) int { return bytes.Compare(a[:], b[:]) })
	if i < len(ix.addrs) && bytes.Compare(ix.addrs[i][:], hi[:]) <= 0 {
		return true
	}
	exc := ix.exceptionAddrs()
	for e := range exc {
		if addrIn(&exc[e], &lo, &hi) {
			return true
		}
	}
	return false
}
