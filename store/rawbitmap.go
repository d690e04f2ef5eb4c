package store

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// rawBitmap reads an index chunk's roaring bitmap (the portable
// serialization of RoaringBitmap/roaring, FORMAT.md) in place: it finds
// containers from the descriptive header and marks their rows straight
// into a row bitset. Unlike roaring.Bitmap.FromUnsafeBytes it allocates no
// container per key, which for an address column with thousands of posted
// values was most of the cost of a lookup.
type rawBitmap struct {
	data   []byte   // the whole serialization
	keyc   []byte   // descriptive header: per container u16 key, u16 card-1
	runs   []byte   // is-run bitmap (nil when no container is a run)
	offs   []uint32 // start of each container in data
	n      int      // containers
	card   int      // total cardinality
	maxKey int      // key of the last container (-1 when empty)
}

const (
	roaringCookieNoRuns = 12346 // only array and bitmap containers
	roaringCookieRuns   = 12347 // low 16 bits of the cookie with runs
	roaringNoOffsetMax  = 4     // with runs, fewer containers have no offset header
	roaringArrayMax     = 4096  // larger containers are bitmaps
)

var errBitmap = errors.New("bad roaring bitmap")

// parse reads the headers of src and locates every container, checking
// that they lie inside src, end exactly at its end, have ascending keys,
// and that run containers hold the cardinality the header says.
func (rb *rawBitmap) parse(src []byte) error {
	rb.data, rb.keyc, rb.runs, rb.n, rb.card, rb.maxKey = src, nil, nil, 0, 0, -1
	rb.offs = rb.offs[:0]
	if len(src) == 0 {
		return nil
	}
	if len(src) < 4 {
		return errBitmap
	}
	cookie := binary.LittleEndian.Uint32(src)
	p := 4
	var n int
	switch {
	case cookie&0xffff == roaringCookieRuns:
		n = int(cookie>>16) + 1
		rl := (n + 7) / 8
		if len(src) < p+rl {
			return errBitmap
		}
		rb.runs = src[p : p+rl]
		p += rl
	case cookie == roaringCookieNoRuns:
		if len(src) < 8 {
			return errBitmap
		}
		n = int(binary.LittleEndian.Uint32(src[4:]))
		p = 8
		if n > 1<<16 {
			return errBitmap
		}
	default:
		return errBitmap
	}
	if len(src) < p+4*n {
		return errBitmap
	}
	rb.keyc = src[p : p+4*n]
	p += 4 * n
	if rb.runs == nil || n >= roaringNoOffsetMax {
		p += 4 * n // offset header: recomputed below, not trusted
		if len(src) < p {
			return errBitmap
		}
	}
	rb.n = n
	rb.offs = grow(rb.offs, n)
	prev := -1
	for i := 0; i < n; i++ {
		key := int(binary.LittleEndian.Uint16(rb.keyc[4*i:]))
		card := int(binary.LittleEndian.Uint16(rb.keyc[4*i+2:])) + 1
		if key <= prev {
			return errBitmap
		}
		prev = key
		rb.offs[i] = uint32(p)
		switch {
		case rb.isRun(i):
			if len(src) < p+2 {
				return errBitmap
			}
			nr := int(binary.LittleEndian.Uint16(src[p:]))
			p += 2
			if len(src) < p+4*nr {
				return errBitmap
			}
			sum := 0
			for r := 0; r < nr; r++ {
				start := int(binary.LittleEndian.Uint16(src[p+4*r:]))
				l := int(binary.LittleEndian.Uint16(src[p+4*r+2:]))
				if start+l > 0xffff {
					return errBitmap
				}
				sum += l + 1
			}
			if sum != card {
				return errBitmap
			}
			p += 4 * nr
		case card > roaringArrayMax:
			p += 8192
		default:
			p += 2 * card
		}
		if p > len(src) {
			return errBitmap
		}
		rb.card += card
	}
	if p != len(src) {
		return errBitmap
	}
	rb.maxKey = prev
	return nil
}

func (rb *rawBitmap) isRun(i int) bool { return rb.runs != nil && rb.runs[i/8]&(1<<(i%8)) != 0 }

func (rb *rawBitmap) key(i int) int { return int(binary.LittleEndian.Uint16(rb.keyc[4*i:])) }

func (rb *rawBitmap) cardOf(i int) int { return int(binary.LittleEndian.Uint16(rb.keyc[4*i+2:])) + 1 }

// runList returns the offset of the first run of run container i and
// its run count.
func (rb *rawBitmap) runList(i int) (q, nr int) {
	p := int(rb.offs[i])
	return p + 2, int(binary.LittleEndian.Uint16(rb.data[p:]))
}

// run returns the first and last (inclusive) row of run r of the run
// list at q.
func (rb *rawBitmap) run(q, r int) (start, end int) {
	start = int(binary.LittleEndian.Uint16(rb.data[q+4*r:]))
	return start, start + int(binary.LittleEndian.Uint16(rb.data[q+4*r+2:]))
}

// find returns the position of the first container whose key is >= k.
func (rb *rawBitmap) find(k int) int {
	lo, hi := 0, rb.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if rb.key(m) < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// markRows ORs the rows (low 16 bits) of container i into dst, a bitset
// of rows rows. A row at or past rows is an error (a damaged chunk).
func (rb *rawBitmap) markRows(i int, dst []uint64, rows int) error {
	p := int(rb.offs[i])
	card := rb.cardOf(i)
	switch {
	case rb.isRun(i):
		q, nr := rb.runList(i)
		for r := 0; r < nr; r++ {
			start, end := rb.run(q, r)
			if end >= rows {
				return errBitmap
			}
			setRange(dst, start, end+1)
		}
	case card > roaringArrayMax:
		words := rb.data[p : p+8192]
		nw := (rows + 63) / 64
		for w := 0; w < nw; w++ {
			dst[w] |= binary.LittleEndian.Uint64(words[8*w:])
		}
		if rows%64 != 0 && binary.LittleEndian.Uint64(words[8*(nw-1):])>>(rows%64) != 0 {
			return errBitmap
		}
		for w := nw; w < 1024; w++ {
			if binary.LittleEndian.Uint64(words[8*w:]) != 0 {
				return errBitmap
			}
		}
	default:
		vals := rb.data[p : p+2*card]
		for j := 0; j < len(vals); j += 2 {
			r := int(binary.LittleEndian.Uint16(vals[j:]))
			if r >= rows {
				return errBitmap
			}
			dst[r>>6] |= 1 << (r & 63)
		}
	}
	return nil
}

// markSelected ORs into dst the rows of container i at the ascending
// positions pos (the k-th row of the container in row order).
func (rb *rawBitmap) markSelected(i int, pos []int32, dst []uint64, rows int) error {
	if len(pos) == 0 {
		return nil
	}
	p := int(rb.offs[i])
	card := rb.cardOf(i)
	if int(pos[len(pos)-1]) >= card {
		return errBitmap
	}
	mark := func(r int) error {
		if r >= rows {
			return errBitmap
		}
		dst[r>>6] |= 1 << (r & 63)
		return nil
	}
	switch {
	case rb.isRun(i):
		q, nr := rb.runList(i)
		seen, k := 0, 0
		for r := 0; r < nr && k < len(pos); r++ {
			start, end := rb.run(q, r)
			l := end - start + 1
			for k < len(pos) && int(pos[k]) < seen+l {
				if err := mark(start + int(pos[k]) - seen); err != nil {
					return err
				}
				k++
			}
			seen += l
		}
	case card > roaringArrayMax:
		seen, k := 0, 0
		for w := 0; w < 1024 && k < len(pos); w++ {
			x := binary.LittleEndian.Uint64(rb.data[p+8*w:])
			c := bits.OnesCount64(x)
			for k < len(pos) && int(pos[k]) < seen+c {
				if err := mark(w*64 + selectBit(x, int(pos[k])-seen)); err != nil {
					return err
				}
				k++
			}
			seen += c
		}
	default:
		for _, q := range pos {
			if err := mark(int(binary.LittleEndian.Uint16(rb.data[p+2*int(q):]))); err != nil {
				return err
			}
		}
	}
	return nil
}

// selectBit returns the position of the k-th (from 0) set bit of x.
func selectBit(x uint64, k int) int {
	for ; k > 0; k-- {
		x &= x - 1
	}
	return bits.TrailingZeros64(x)
}

// setRange sets bits [lo, hi) of dst.
func setRange(dst []uint64, lo, hi int) {
	for lo < hi {
		w := lo >> 6
		b := lo & 63
		n := min(64-b, hi-lo)
		m := ^uint64(0)
		if n < 64 {
			m = (1<<n - 1) << b
		}
		dst[w] |= m
		lo += n
	}
}
