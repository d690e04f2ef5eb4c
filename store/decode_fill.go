package store

import (
	"encoding/binary"
	"math/bits"

	"github.com/flowkit/flowkit/flow"
)

// smallValue is the element type of a narrow indexed number column.
type smallValue interface{ ~uint8 | ~uint16 }

// fillIndexedSmall decodes a numeric indexed column into *out (n rows)
// in the column's own width: the exceptions decode straight into the
// scratch vector es and the posted values are narrowed into ps, so no
// 64-bit vector is written and copied. A value that does not fit T is
// errRange. A column that is its default alone (one) is a fill, skipped
// when the vector still holds the value (prev); h records what it holds.
func fillIndexedSmall[T smallValue](ix *Index, out *[]T, n int, ps, es *[]T, one bool, prev held, h *held) error {
	maxT := uint64(^T(0))
	if ix.def > maxT || (len(ix.vals) > 0 && ix.vals[len(ix.vals)-1] > maxT) {
		return errRange
	}
	if one {
		fillHeld(out, T(ix.def), ix.def, 0, n, prev, h)
		return nil
	}
	p := grow(*ps, len(ix.vals))
	*ps = p
	for i, v := range ix.vals {
		p[i] = T(v)
	}
	e := grow(*es, ix.excN)
	*es = e
	if err := readExceptions(ix, e); err != nil {
		return err
	}
	*out = grow(*out, n)
	return fillIndexed(ix, *out, p, T(ix.def), e, true)
}

// readExceptions decodes the number exceptions of ix (numbers or IPv4
// addresses) into e (len ix.excN) without going through ix.excVals.
func readExceptions[T streamValue](ix *Index, e []T) error {
	if ix.excN == 0 {
		return nil
	}
	if _, err := readUints(ix.excSrc, e); err != nil {
		if err == errRange {
			return errRange
		}
		return errIndex
	}
	return nil
}

// fillAddrs4 decodes an all-IPv4 address column into dst: rows get their
// addresses as numbers in the 4-byte vector a32 first (the bitmaps'
// scattered writes then land in a quarter of the memory), and one
// sequential pass widens them to flow.Addr (widenAddrs4).
func (d *blockDecoder) fillAddrs4(ix *Index, dst []flow.Addr) error {
	n := len(dst)
	p := grow(d.p32, len(ix.addrs))
	d.p32 = p
	for i := range ix.addrs {
		p[i] = ix.addrs[i].Uint32()
	}
	e := grow(d.e32, ix.excN)
	d.e32 = e
	if err := readExceptions(ix, e); err != nil {
		if err == errRange {
			return errIndex // an IPv4 exception wider than 32 bits
		}
		return err
	}
	a := grow(d.a32, n)
	d.a32 = a
	if err := fillIndexed(ix, a, p, ix.defAddr.Uint32(), e, true); err != nil {
		return err
	}
	// whole groups of 16 with AVX-512 where there is, the rest here
	for i := widenAddrs4(dst, a); i < len(a); i++ {
		v := a[i]
		// two 8-byte stores in place: a returned flow.Addr would go
		// through the stack and stall on store forwarding
		// (bytes 10, 11 0xff, 12-15 the address big-endian)
		b := dst[i][:]
		binary.LittleEndian.PutUint64(b, 0)
		binary.LittleEndian.PutUint64(b[8:], 0xffff0000|uint64(bits.ReverseBytes32(v))<<32)
	}
	return nil
}
