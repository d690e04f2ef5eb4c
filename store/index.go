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
// rare values kept as exceptions. Every lookup is exact.
//
// An Index from [File.Index] is fully checked and read-only, safe for
// concurrent use; bitmaps it returns belong to the caller. One filled by
// [File.ReadIndex] is checked lazily (exceptions are decoded on the first
// lookup that needs them, and errors come from the Mark methods), belongs
// to one goroutine and is reused from block to block.
type Index struct {
	col      Column
	rows     int
	kind     byte
	implicit bool // rows in no bitmap are the exceptions; no default
	buf      []byte
	file     *File // set by ReadIndex: names the block in errors
	block    int

	def     uint64
	defAddr flow.Addr
	vals    []uint64    // posted numbers, ascending
	addrs   []flow.Addr // posted addresses, ascending
	rb      rawBitmap

	// exceptions: numbers and IPv4 as an integer stream decoded on first
	// use (excMin..excMax bounds it from the stream header), IPv6 as is
	excSrc         []byte
	excN           int
	excMin, excMax uint64
	excDone        bool
	excErr         error
	excVals        []uint64
	excAddr        []flow.Addr

	covered   [MaxBlockRows / 64]uint64 // rows in some bitmap
	coveredOK bool
	coveredEr error
}

var errIndex = errors.New("bad index chunk")

// parseIndex reads an indexed chunk of a block with rows rows and checks
// all of it. The Index refers to src, which must stay unchanged while the
// Index is used.
func parseIndex(src []byte, col Column, rows int) (*Index, error) {
	ix := &Index{}
	if err := ix.parse(src, col, rows); err != nil {
		return nil, err
	}
	// now, so that lookups never write to ix
	if err := ix.exceptions(); err != nil {
		return nil, err
	}
	if _, err := ix.coveredRows(); err != nil {
		return nil, err
	}
	return ix, nil
}

// parse reads the header, dictionary and bitmap layout of an indexed
// chunk into ix, reusing its vectors. Exceptions are located, not decoded.
func (ix *Index) parse(src []byte, col Column, rows int) error {
	ix.col, ix.rows = col, rows
	ix.def, ix.defAddr = 0, flow.Addr{}
	ix.vals, ix.addrs, ix.excVals, ix.excAddr = ix.vals[:0], ix.addrs[:0], ix.excVals[:0], ix.excAddr[:0]
	ix.excSrc, ix.excN, ix.excDone, ix.excErr = nil, 0, false, nil
	ix.coveredOK, ix.coveredEr = false, nil
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
	ix.excN = int(e)
	if e > 0 {
		switch ix.kind {
		case kindUint, kindAddr4:
			rest, lo, hi, err := skipUints(src)
			if err != nil {
				return errIndex
			}
			ix.excSrc, ix.excMin, ix.excMax = src[:len(src)-len(rest)], lo, hi
			src = rest
		default:
			if uint64(len(src)) < 16*e {
				return errIndex
			}
			ix.excAddr = grow(ix.excAddr, int(e))
			for j := range ix.excAddr {
				ix.excAddr[j] = flow.Addr(src[16*j:])
			}
			src = src[16*e:]
			ix.excDone = true
		}
	} else {
		ix.excDone = true
	}
	l, ok := readUv()
	if !ok || l != uint64(len(src)) {
		return errIndex
	}
	if err := ix.rb.parse(src); err != nil {
		return errIndex
	}
	// shape: at most one entry per row, keys <= P, the exception count
	// matches (row numbers are checked where they are used)
	rb := &ix.rb
	if rb.card > rows || rb.maxKey > int(p) {
		return errIndex
	}
	if ix.implicit {
		if rb.maxKey == int(p) || rows-rb.card != ix.excN {
			return errIndex
		}
		return nil
	}
	nexc := 0
	if rb.maxKey == int(p) {
		nexc = rb.cardOf(rb.n - 1)
	}
	if nexc != ix.excN {
		return errIndex
	}
	return nil
}

// exceptions decodes the exception values once.
func (ix *Index) exceptions() error {
	if ix.excDone {
		return ix.excErr
	}
	ix.excDone = true
	ix.excVals = grow(ix.excVals, ix.excN)
	if _, err := readUints(ix.excSrc, ix.excVals); err != nil {
		ix.excErr = errIndex
		return ix.excErr
	}
	if ix.kind == kindAddr4 && ix.excMax > 0xffffffff {
		var all uint64
		for _, v := range ix.excVals {
			all |= v
		}
		if all > 0xffffffff {
			ix.excErr = errIndex
		}
	}
	return ix.excErr
}

// coveredRows returns the bitset of the rows that are in some bitmap,
// computed once.
func (ix *Index) coveredRows() ([]uint64, error) {
	cov := ix.covered[:(ix.rows+63)/64]
	if ix.coveredOK {
		return cov, ix.coveredEr
	}
	ix.coveredOK = true
	clear(cov)
	for i := 0; i < ix.rb.n; i++ {
		if err := ix.rb.markRows(i, cov, ix.rows); err != nil {
			ix.coveredEr = errIndex
			return cov, ix.coveredEr
		}
	}
	return cov, nil
}

// Column returns the column the index belongs to.
func (ix *Index) Column() Column { return ix.col }

// Rows returns the number of rows in the block.
func (ix *Index) Rows() int { return ix.rows }

// BitmapBytes returns the serialized size of the index's roaring bitmap.
func (ix *Index) BitmapBytes() int { return len(ix.rb.data) }

// fillAddrs decodes an address column into dst (len rows).
func (ix *Index) fillAddrs(dst []flow.Addr) error {
	if err := ix.exceptions(); err != nil {
		return err
	}
	if ix.kind == kindAddr4 && ix.implicit {
		// the free rows take the exceptions straight from their numbers
		if err := fillIndexed(ix, dst, ix.addrs, ix.defAddr, nil, false); err != nil {
			return err
		}
		return placeFree4(ix, dst, ix.excVals)
	}
	if ix.kind == kindAddr4 {
		exc := grow(ix.excAddr, len(ix.excVals))
		for j, v := range ix.excVals {
			exc[j] = addr4(uint32(v))
		}
		ix.excAddr = exc
	}
	return fillIndexed(ix, dst, ix.addrs, ix.defAddr, ix.excAddr, true)
}

// placeFree4 writes the IPv4 exceptions, given as numbers, in row order
// into the rows no bitmap covers (implicit mode, after fillIndexed marked
// the covered rows).
func placeFree4(ix *Index, dst []flow.Addr, exc []uint64) error {
	rows := len(dst)
	covered := ix.covered[:(rows+63)/64]
	e := 0
	last := len(covered) - 1
	for w, c := range covered {
		free := ^c
		if w == last && rows%64 != 0 {
			free &= 1<<(rows%64) - 1
		}
		if bits.OnesCount64(free) > len(exc)-e {
			return errIndex
		}
		for free != 0 {
			dst[w*64+bits.TrailingZeros64(free)] = addr4(uint32(exc[e]))
			e++
			free &= free - 1
		}
	}
	if e != len(exc) {
		return errIndex
	}
	return nil
}

// fillIndexed writes every row's value: posted values from the bitmap,
// then the default or (implicit mode) the exceptions into the rows no
// bitmap covers, or (explicit mode) the exceptions from key P.
//
// With place false (implicit mode only) the exceptions are left to the
// caller (placeFree).
func fillIndexed[T any](ix *Index, dst []T, posted []T, def T, exc []T, place bool) error {
	rows := len(dst)
	p := len(posted)
	var covered []uint64
	if ix.implicit {
		covered = ix.covered[:(rows+63)/64]
		clear(covered)
		ix.coveredOK = false // refilled below only by posted rows
	} else {
		setAll(dst, def)
		ix.coveredOK = false // its vector is fillSequence's scratch
	}
	rb := &ix.rb
	for i := 0; i < rb.n; i++ {
		var err error
		if k := rb.key(i); k < p {
			err = fillContainer(rb, i, dst, posted[k], covered)
		} else {
			err = fillSequence(rb, i, dst, exc, &ix.covered) // key P, explicit: checked by parse
		}
		if err != nil {
			return err
		}
	}
	if !ix.implicit {
		return nil
	}
	ix.coveredOK, ix.coveredEr = true, nil
	if !place {
		return nil
	}
	return placeRows(dst, covered, ^uint64(0), exc) // the free rows
}

// placeRows writes exc in order into the rows r < len(dst) whose bit is
// set in words[r/64] XOR flip (flip all ones: the rows whose bit is clear;
// bits past the last row are not rows), with AVX-512 where it can (see
// placeWords). words has a word per 64 rows. Those rows must be exactly as
// many as the values of exc: they are counted first, so that no placement
// reads past exc.
func placeRows[T any](dst []T, words []uint64, flip uint64, exc []T) error {
	if len(words) == 0 {
		if len(exc) != 0 {
			return errIndex
		}
		return nil
	}
	last := len(words) - 1
	lastMask := ^uint64(0)
	if len(dst)%64 != 0 {
		lastMask = 1<<(len(dst)%64) - 1
	}
	full := 0 // rows in the whole words before the last
	for _, x := range words[:last] {
		full += bits.OnesCount64(x ^ flip)
	}
	if full+bits.OnesCount64((words[last]^flip)&lastMask) != len(exc) {
		return errIndex
	}
	w, e := 0, 0
	if placeWords(dst, words[:last], flip, exc[:full]) {
		w, e = last, full
	}
	for ; w <= last; w++ {
		f := words[w] ^ flip
		if w == last {
			f &= lastMask
		}
		for ; f != 0; f &= f - 1 {
			dst[w*64+bits.TrailingZeros64(f)] = exc[e]
			e++
		}
	}
	return nil
}

// fillContainer writes v into the rows of container i and, when covered
// is not nil, marks them there.
func fillContainer[T any](rb *rawBitmap, i int, dst []T, v T, covered []uint64) error {
	rows := len(dst)
	p := int(rb.offs[i])
	card := rb.cardOf(i)
	switch {
	case rb.isRun(i):
		q, nr := rb.runList(i)
		for r := 0; r < nr; r++ {
			start, end := rb.run(q, r)
			if end >= rows {
				return errIndex
			}
			for j := start; j <= end; j++ {
				dst[j] = v
			}
			if covered != nil {
				setRange(covered, start, end+1)
			}
		}
	case card > roaringArrayMax:
		nw := (rows + 63) / 64
		for w := 0; w < 1024; w++ {
			x := binary.LittleEndian.Uint64(rb.data[p+8*w:])
			if x == 0 {
				continue
			}
			if w >= nw || (w == nw-1 && rows%64 != 0 && x>>(rows%64) != 0) {
				return errIndex
			}
			if covered != nil {
				covered[w] |= x
			}
			base := w * 64
			for x != 0 {
				dst[base+bits.TrailingZeros64(x)] = v
				x &= x - 1
			}
		}
	default:
		vals := rb.data[p : p+2*card]
		for j := 0; j+1 < len(vals); j += 2 {
			r := int(binary.LittleEndian.Uint16(vals[j:]))
			if r >= rows {
				return errIndex
			}
			dst[r] = v
			if covered != nil {
				covered[r>>6] |= 1 << (r & 63)
			}
		}
	}
	return nil
}

// fillSequence writes exc in order into the rows of container i (the
// exception rows of explicit mode; parse checked len(exc) == its card).
func fillSequence[T any](rb *rawBitmap, i int, dst []T, exc []T, scratch *[MaxBlockRows / 64]uint64) error {
	rows := len(dst)
	p := int(rb.offs[i])
	card := rb.cardOf(i)
	if len(exc) != card {
		return errIndex
	}
	e := 0
	switch {
	case rb.isRun(i):
		q, nr := rb.runList(i)
		for r := 0; r < nr; r++ {
			start, end := rb.run(q, r)
			if end >= rows {
				return errIndex
			}
			e += copy(dst[start:end+1], exc[e:])
		}
	case card > roaringArrayMax:
		// the container's words, placed as an implicit column's free
		// rows are; all its bits must be rows (placeRows counts those)
		words := scratch[:1024]
		n := 0
		for w := range words {
			words[w] = binary.LittleEndian.Uint64(rb.data[p+8*w:])
			n += bits.OnesCount64(words[w])
		}
		if n != len(exc) {
			return errIndex
		}
		return placeRows(dst, words[:(rows+63)/64], 0, exc)
	default:
		vals := rb.data[p : p+2*card]
		for j := 0; j+1 < len(vals); j += 2 {
			r := int(binary.LittleEndian.Uint16(vals[j:]))
			if r >= rows {
				return errIndex
			}
			dst[r] = exc[e]
			e++
		}
	}
	return nil
}

// words returns the bitset length of the index's rows.
func (ix *Index) words() int { return (ix.rows + 63) / 64 }

// markKeys marks the rows of the posted values i..j-1.
func (ix *Index) markKeys(i, j int, dst []uint64) error {
	rb := &ix.rb
	for c := rb.find(i); c < rb.n && rb.key(c) < j; c++ {
		if err := rb.markRows(c, dst, ix.rows); err != nil {
			return errIndex
		}
	}
	return nil
}

// markDefault marks the rows holding the default value (explicit mode).
func (ix *Index) markDefault(dst []uint64) error {
	cov, err := ix.coveredRows()
	if err != nil {
		return err
	}
	for w, c := range cov {
		dst[w] |= ^c
	}
	if ix.rows%64 != 0 {
		dst[len(cov)-1] &= 1<<(ix.rows%64) - 1
	}
	return nil
}

// markExceptions marks the rows of the exceptions at positions pos
// (ascending).
func (ix *Index) markExceptions(pos []int32, dst []uint64) error {
	if len(pos) == 0 {
		return nil
	}
	if !ix.implicit {
		if err := ix.rb.markSelected(ix.rb.n-1, pos, dst, ix.rows); err != nil {
			return errIndex
		}
		return nil
	}
	cov, err := ix.coveredRows()
	if err != nil {
		return err
	}
	seen, k := 0, 0
	for w := 0; w < len(cov) && k < len(pos); w++ {
		free := ^cov[w]
		if w == len(cov)-1 && ix.rows%64 != 0 {
			free &= 1<<(ix.rows%64) - 1
		}
		c := bits.OnesCount64(free)
		if int(pos[k]) < seen+c {
			// walk the free rows of the word in order
			for idx := seen; free != 0 && k < len(pos); idx++ {
				if int(pos[k]) == idx {
					dst[w] |= free & -free
					k++
				}
				free &= free - 1
			}
		}
		seen += c
	}
	if k != len(pos) {
		return errIndex
	}
	return nil
}

// scanExceptions appends the positions of the exceptions (numbers or
// IPv4 numbers) in [lo, hi] to pos: from the decoded values when they are
// there, else in one pass over the stream without decoding it.
func (ix *Index) scanExceptions(lo, hi uint64, pos []int32) ([]int32, error) {
	if !ix.excDone {
		pos, err := scanUints(ix.excSrc, ix.excN, lo, hi, pos)
		if err != nil {
			return pos, errIndex
		}
		return pos, nil
	}
	if ix.excErr != nil {
		return pos, ix.excErr
	}
	span := hi - lo
	for e, v := range ix.excVals {
		if v-lo <= span {
			pos = append(pos, int32(e))
		}
	}
	return pos, nil
}

// coversAll reports whether every value of [lo, hi] (numbers, or IPv4
// addresses as numbers) is posted (nposted of them) or the default, so
// that no exception can lie in the range: a value is in exactly one of
// the default, the dictionary and the exceptions (FORMAT.md), and looking
// up a posted value or the default never decodes the exceptions.
func (ix *Index) coversAll(lo, hi uint64, nposted int) bool {
	n := uint64(nposted)
	if !ix.implicit {
		d := ix.def
		if ix.kind == kindAddr4 {
			d = uint64(ix.defAddr.Uint32())
		}
		if d >= lo && d <= hi {
			n++
		}
	}
	return hi-lo < n // the range holds hi-lo+1 values
}

// MarkRange sets in dst (a bitset of at least (Rows()+63)/64 words, bit
// r%64 of word r/64 for row r) the rows whose value lies in [lo, hi]
// (numeric columns; nothing for address columns). It allocates nothing.
func (ix *Index) MarkRange(dst []uint64, lo, hi uint64) error {
	return ix.fail(ix.markMatch(dst, lo, hi, nil))
}

// fail names the file, block and column of a damaged index in err.
func (ix *Index) fail(err error) error {
	if err == nil || ix.file == nil {
		return err
	}
	return ix.file.corrupt(ix.block, ix.col, err.Error())
}

// MarkMatch sets in dst the rows whose value satisfies match (numeric
// columns), testing each distinct stored value once.
func (ix *Index) MarkMatch(dst []uint64, match func(v uint64) bool) error {
	return ix.fail(ix.markMatch(dst, 0, ^uint64(0), match))
}

func (ix *Index) markMatch(dst []uint64, lo, hi uint64, match func(uint64) bool) error {
	if ix.kind != kindUint || lo > hi {
		return nil
	}
	dst = dst[:ix.words()]
	in := func(v uint64) bool { return v >= lo && v <= hi && (match == nil || match(v)) }
	if !ix.implicit && in(ix.def) {
		if err := ix.markDefault(dst); err != nil {
			return err
		}
	}
	i, j := 0, 0
	if match == nil {
		i, _ = slices.BinarySearch(ix.vals, lo)
		j = i
		for j < len(ix.vals) && ix.vals[j] <= hi {
			j++
		}
		if err := ix.markKeys(i, j, dst); err != nil {
			return err
		}
	} else {
		for i, v := range ix.vals {
			if match(v) {
				if err := ix.markKeys(i, i+1, dst); err != nil {
					return err
				}
			}
		}
	}
	if ix.excN == 0 || hi < ix.excMin || lo > ix.excMax {
		return nil
	}
	if match == nil && ix.coversAll(lo, hi, j-i) {
		return nil
	}
	var buf [256]int32
	pos := buf[:0]
	if match == nil {
		var err error
		if pos, err = ix.scanExceptions(lo, hi, pos); err != nil {
			return err
		}
	} else {
		if err := ix.exceptions(); err != nil {
			return err
		}
		for e, v := range ix.excVals {
			if in(v) {
				pos = append(pos, int32(e))
			}
		}
	}
	return ix.markExceptions(pos, dst)
}

// MarkPrefix sets in dst the rows whose address lies in p (address
// columns), as MarkRange does for numbers.
func (ix *Index) MarkPrefix(dst []uint64, p netip.Prefix) error {
	lo, hi := prefixRange(p)
	return ix.fail(ix.markAddrRange(dst, lo, hi))
}

func cmpAddr(a, b flow.Addr) int { return bytes.Compare(a[:], b[:]) }

// v4Bounds returns the IPv4 numbers of [lo, hi] intersected with the
// IPv4-mapped range, and false when they do not meet.
func v4Bounds(lo, hi flow.Addr) (l, h uint64, ok bool) {
	min4, max4 := addr4(0), addr4(0xffffffff)
	if cmpAddr(hi, min4) < 0 || cmpAddr(lo, max4) > 0 {
		return 0, 0, false
	}
	l, h = 0, 0xffffffff
	if cmpAddr(lo, min4) > 0 {
		l = uint64(lo.Uint32())
	}
	if cmpAddr(hi, max4) < 0 {
		h = uint64(hi.Uint32())
	}
	return l, h, true
}

func (ix *Index) markAddrRange(dst []uint64, lo, hi flow.Addr) error {
	if ix.kind == kindUint || cmpAddr(lo, hi) > 0 {
		return nil
	}
	dst = dst[:ix.words()]
	if !ix.implicit && addrIn(&ix.defAddr, &lo, &hi) {
		if err := ix.markDefault(dst); err != nil {
			return err
		}
	}
	i, _ := slices.BinarySearchFunc(ix.addrs, lo, cmpAddr)
	j := i
	for j < len(ix.addrs) && cmpAddr(ix.addrs[j], hi) <= 0 {
		j++
	}
	if err := ix.markKeys(i, j, dst); err != nil {
		return err
	}
	if ix.excN == 0 {
		return nil
	}
	var buf [256]int32
	pos := buf[:0]
	if ix.kind == kindAddr4 {
		l, h, ok := v4Bounds(lo, hi)
		if !ok || h < ix.excMin || l > ix.excMax || ix.coversAll(l, h, j-i) {
			return nil
		}
		var err error
		if pos, err = ix.scanExceptions(l, h, pos); err != nil {
			return err
		}
	} else {
		if lo == hi && (j > i || (!ix.implicit && ix.defAddr == lo)) {
			return nil // posted or the default: never an exception
		}
		for e := range ix.excAddr {
			if addrIn(&ix.excAddr[e], &lo, &hi) {
				pos = append(pos, int32(e))
			}
		}
	}
	return ix.markExceptions(pos, dst)
}

// toBitmap returns the rows of a bitset as a roaring bitmap.
func toBitmap(b []uint64) *roaring.Bitmap {
	return roaring.FromDense(b, false)
}

// Lookup returns the rows whose value equals v (numeric columns).
func (ix *Index) Lookup(v uint64) *roaring.Bitmap { return ix.LookupRange(v, v) }

// LookupRange returns the rows whose value lies in [lo, hi] (numeric
// columns; for address columns it returns an empty bitmap).
func (ix *Index) LookupRange(lo, hi uint64) *roaring.Bitmap {
	b := make([]uint64, ix.words())
	if ix.MarkRange(b, lo, hi) != nil {
		return roaring.New()
	}
	return toBitmap(b)
}

// LookupAddr returns the rows whose address equals a (address columns).
func (ix *Index) LookupAddr(a flow.Addr) *roaring.Bitmap {
	b := make([]uint64, ix.words())
	if ix.markAddrRange(b, a, a) != nil {
		return roaring.New()
	}
	return toBitmap(b)
}

// LookupPrefix returns the rows whose address lies in p (address columns).
func (ix *Index) LookupPrefix(p netip.Prefix) *roaring.Bitmap {
	b := make([]uint64, ix.words())
	if ix.MarkPrefix(b, p) != nil {
		return roaring.New()
	}
	return toBitmap(b)
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
	if ix.excN == 0 || hi < ix.excMin || lo > ix.excMax {
		return false
	}
	if ix.exceptions() != nil {
		return true // cannot tell: let the lookup report the damage
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
	i, _ := slices.BinarySearchFunc(ix.addrs, lo, cmpAddr)
	if i < len(ix.addrs) && cmpAddr(ix.addrs[i], hi) <= 0 {
		return true
	}
	if ix.excN == 0 {
		return false
	}
	if ix.kind == kindAddr4 {
		l, h, ok := v4Bounds(lo, hi)
		if !ok || h < ix.excMin || l > ix.excMax {
			return false
		}
		if ix.exceptions() != nil {
			return true
		}
		for _, v := range ix.excVals {
			if v >= l && v <= h {
				return true
			}
		}
		return false
	}
	for e := range ix.excAddr {
		if addrIn(&ix.excAddr[e], &lo, &hi) {
			return true
		}
	}
	return false
}
