package query

import (
	"cmp"
	"encoding/binary"
	"iter"
	"math"
	"net/netip"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/flowkit/flowkit/flow"
)

// IPSet is a set of IPv4 and IPv6 addresses (SiLK's IPset): IPv4 in a
// roaring bitmap, IPv6 as a sorted list of disjoint address ranges, so
// whole CIDR blocks of either family cost little. The zero value is not
// ready: use NewIPSet.
//
// Adding is cheap and batched; the first read after a change puts the
// IPv6 ranges in order. An IPSet is safe for concurrent reads once it is no
// longer modified and has been read once (Len does).
type IPSet struct {
	v4    *roaring.Bitmap
	v6    []span // sorted, disjoint and not adjacent once normalized
	dirty bool   // v6 may be unsorted or overlapping
}

// u128 is an IPv6 address as a number.
type u128 struct{ hi, lo uint64 }

// span is an inclusive range of IPv6 addresses.
type span struct{ lo, hi u128 }

func u128Of(a flow.Addr) u128 {
	return u128{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])}
}

func (u u128) addr() flow.Addr {
	var a flow.Addr
	binary.BigEndian.PutUint64(a[:8], u.hi)
	binary.BigEndian.PutUint64(a[8:], u.lo)
	return a
}

func (u u128) cmp(v u128) int {
	if c := cmp.Compare(u.hi, v.hi); c != 0 {
		return c
	}
	return cmp.Compare(u.lo, v.lo)
}

func (u u128) inc() u128 {
	if u.lo == math.MaxUint64 {
		return u128{u.hi + 1, 0}
	}
	return u128{u.hi, u.lo + 1}
}

func (u u128) dec() u128 {
	if u.lo == 0 {
		return u128{u.hi - 1, math.MaxUint64}
	}
	return u128{u.hi, u.lo - 1}
}

var maxU128 = u128{math.MaxUint64, math.MaxUint64}

// NewIPSet returns an empty set.
func NewIPSet() *IPSet { return &IPSet{v4: roaring.New()} }

// Add adds one address. An invalid address is ignored.
func (s *IPSet) Add(a netip.Addr) {
	if a.IsValid() {
		s.AddAddr(flow.AddrFrom(a))
	}
}

// AddAddr adds one address.
func (s *IPSet) AddAddr(a flow.Addr) {
	if a.Is4() {
		s.v4.Add(a.Uint32())
		return
	}
	u := u128Of(a)
	s.addSpan(span{u, u})
}

func (s *IPSet) addSpan(sp span) {
	if n := len(s.v6); n > 0 && !s.dirty {
		last := s.v6[n-1]
		switch {
		case last.hi != maxU128 && last.hi.inc() == sp.lo:
			s.v6[n-1].hi = sp.hi // extends the last range: stays ordered
			return
		case last.hi.cmp(sp.lo) < 0:
			s.v6 = append(s.v6, sp)
			return
		}
		s.dirty = true
	}
	s.v6 = append(s.v6, sp)
}

// AddPrefix adds every address of p. IPv6 prefixes that lie in the
// IPv4-mapped range are added as IPv4.
func (s *IPSet) AddPrefix(p netip.Prefix) {
	if !p.IsValid() {
		return
	}
	p = p.Masked()
	a := flow.AddrFrom(p.Addr())
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	lo := u128Of(a)
	hi := u128{lo.hi | ^maskBits(bits), lo.lo}
	if bits > 64 {
		hi.lo = lo.lo | ^maskBits(bits-64)
	} else {
		hi.lo = math.MaxUint64
	}
	s.addRange(lo, hi)
}

// addRange adds [lo, hi], splitting off the IPv4-mapped part.
func (s *IPSet) addRange(lo, hi u128) {
	v4lo := u128{0, 0xffff_0000_0000}
	v4hi := u128{0, 0xffff_ffff_ffff}
	if lo.cmp(v4lo) < 0 {
		s.addSpan(span{lo, minU(hi, v4lo.dec())})
	}
	if lo.cmp(v4hi) <= 0 && hi.cmp(v4lo) >= 0 {
		a, b := maxU(lo, v4lo), minU(hi, v4hi)
		s.v4.AddRange(a.lo&0xffffffff, (b.lo&0xffffffff)+1)
	}
	if hi.cmp(v4hi) > 0 {
		s.addSpan(span{maxU(lo, v4hi.inc()), hi})
	}
}

func minU(a, b u128) u128 {
	if a.cmp(b) < 0 {
		return a
	}
	return b
}

func maxU(a, b u128) u128 {
	if a.cmp(b) > 0 {
		return a
	}
	return b
}

// normalize sorts and merges the IPv6 ranges.
func (s *IPSet) normalize() {
	if !s.dirty {
		return
	}
	s.dirty = false
	slices.SortFunc(s.v6, func(a, b span) int { return a.lo.cmp(b.lo) })
	out := s.v6[:0]
	for _, sp := range s.v6 {
		if n := len(out); n > 0 && (out[n-1].hi == maxU128 || out[n-1].hi.inc().cmp(sp.lo) >= 0) {
			if sp.hi.cmp(out[n-1].hi) > 0 {
				out[n-1].hi = sp.hi
			}
			continue
		}
		out = append(out, sp)
	}
	s.v6 = out
}

// Contains reports whether a is in the set.
func (s *IPSet) Contains(a flow.Addr) bool {
	if a.Is4() {
		return s.v4.Contains(a.Uint32())
	}
	s.normalize()
	u := u128Of(a)
	i, _ := slices.BinarySearchFunc(s.v6, u, func(sp span, u u128) int { return sp.hi.cmp(u) })
	return i < len(s.v6) && s.v6[i].lo.cmp(u) <= 0
}

// ContainsAddr reports whether a is in the set.
func (s *IPSet) ContainsAddr(a netip.Addr) bool {
	return a.IsValid() && s.Contains(flow.AddrFrom(a))
}

// Len4 returns the number of IPv4 addresses.
func (s *IPSet) Len4() uint64 { return s.v4.GetCardinality() }

// Len returns the number of addresses, saturated at math.MaxUint64 (an
// IPv6 /64 alone holds 2^64).
func (s *IPSet) Len() uint64 {
	s.normalize()
	n := s.v4.GetCardinality()
	for _, sp := range s.v6 {
		d := u128{sp.hi.hi - sp.lo.hi, sp.hi.lo - sp.lo.lo}
		if sp.hi.lo < sp.lo.lo {
			d.hi--
		}
		if d.hi != 0 || d.lo == math.MaxUint64 {
			return math.MaxUint64
		}
		if n+d.lo+1 < n {
			return math.MaxUint64
		}
		n += d.lo + 1
	}
	return n
}

// Clone returns an independent copy.
func (s *IPSet) Clone() *IPSet {
	s.normalize()
	return &IPSet{v4: s.v4.Clone(), v6: slices.Clone(s.v6)}
}

// Union adds every address of o to s (rwsettool --union).
func (s *IPSet) Union(o *IPSet) {
	s.normalize()
	o.normalize()
	s.v4.Or(o.v4)
	s.v6 = append(s.v6, o.v6...)
	s.dirty = true
	s.normalize()
}

// Intersect keeps only the addresses that are also in o (rwsettool
// --intersect).
func (s *IPSet) Intersect(o *IPSet) {
	s.normalize()
	o.normalize()
	s.v4.And(o.v4)
	var out []span
	i, j := 0, 0
	for i < len(s.v6) && j < len(o.v6) {
		a, b := s.v6[i], o.v6[j]
		lo, hi := maxU(a.lo, b.lo), minU(a.hi, b.hi)
		if lo.cmp(hi) <= 0 {
			out = append(out, span{lo, hi})
		}
		if a.hi.cmp(b.hi) < 0 {
			i++
		} else {
			j++
		}
	}
	s.v6 = out
}

// Difference removes the addresses of o from s (rwsettool --difference).
func (s *IPSet) Difference(o *IPSet) {
	s.normalize()
	o.normalize()
	s.v4.AndNot(o.v4)
	var out []span
	j := 0
	for _, a := range s.v6 {
		for j < len(o.v6) && o.v6[j].hi.cmp(a.lo) < 0 {
			j++
		}
		cur := a
		k := j
		for ; k < len(o.v6) && o.v6[k].lo.cmp(cur.hi) <= 0; k++ {
			b := o.v6[k]
			if b.lo.cmp(cur.lo) > 0 {
				out = append(out, span{cur.lo, b.lo.dec()})
			}
			if b.hi.cmp(cur.hi) >= 0 {
				cur.lo, cur.hi = maxU128, u128{} // consumed
				break
			}
			cur.lo = b.hi.inc()
		}
		if cur.lo.cmp(cur.hi) <= 0 {
			out = append(out, cur)
		}
	}
	s.v6 = out
}

// Equal reports whether both sets hold the same addresses.
func (s *IPSet) Equal(o *IPSet) bool {
	s.normalize()
	o.normalize()
	return s.v4.Equals(o.v4) && slices.Equal(s.v6, o.v6)
}

// All iterates over every address, IPv4 first, in ascending order. A set
// holding large IPv6 blocks yields a great many addresses; see Prefixes.
func (s *IPSet) All() iter.Seq[netip.Addr] {
	return func(yield func(netip.Addr) bool) {
		it := s.v4.Iterator()
		for it.HasNext() {
			if !yield(flow.AddrFromUint32(it.Next()).Netip()) {
				return
			}
		}
		s.normalize()
		for _, sp := range s.v6 {
			u := sp.lo
			for {
				if !yield(u.addr().Netip()) {
					return
				}
				if u == sp.hi {
					break
				}
				u = u.inc()
			}
		}
	}
}

// Prefixes iterates over the set as the fewest CIDR blocks, IPv4 first, in
// ascending order (rwsetcat --cidr-blocks).
func (s *IPSet) Prefixes() iter.Seq[netip.Prefix] {
	return func(yield func(netip.Prefix) bool) {
		it := s.v4.ManyIterator()
		buf := make([]uint32, 256)
		var lo, hi uint64
		open := false
		flush := func() bool {
			for lo <= hi {
				bits := rangeBlock(lo, hi, 32)
				if !yield(netip.PrefixFrom(flow.AddrFromUint32(uint32(lo)).Netip(), 32-bits)) {
					return false
				}
				lo += 1 << bits
			}
			return true
		}
		for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
			for _, v := range buf[:n] {
				switch {
				case open && uint64(v) == hi+1:
					hi++
				default:
					if open && !flush() {
						return
					}
					lo, hi, open = uint64(v), uint64(v), true
				}
			}
		}
		if open && !flush() {
			return
		}
		s.normalize()
		for _, sp := range s.v6 {
			for lo := sp.lo; ; {
				bits := spanBlock(lo, sp.hi)
				if !yield(netip.PrefixFrom(lo.addr().Netip(), 128-bits)) {
					return
				}
				end := lo
				if bits >= 64 {
					end.hi |= maskLow(bits - 64)
					end.lo = math.MaxUint64
				} else {
					end.lo |= maskLow(bits)
				}
				if end.cmp(sp.hi) >= 0 {
					break
				}
				lo = end.inc()
			}
		}
	}
}

// maskLow returns a mask of the n low bits.
func maskLow(n int) uint64 {
	if n >= 64 {
		return math.MaxUint64
	}
	return 1<<n - 1
}

// rangeBlock returns the size (in bits) of the largest aligned block that
// starts at lo and does not pass hi.
func rangeBlock(lo, hi uint64, width int) int {
	bits := 0
	for bits < width {
		size := uint64(1) << (bits + 1)
		if lo&(size-1) != 0 || lo+size-1 > hi {
			break
		}
		bits++
	}
	return bits
}

// spanBlock is rangeBlock for 128-bit addresses.
func spanBlock(lo, hi u128) int {
	bits := 0
	for bits < 128 {
		n := bits + 1
		var end u128
		if n > 64 {
			if lo.lo != 0 || lo.hi&maskLow(n-64) != 0 {
				break
			}
			end = u128{lo.hi | maskLow(n-64), math.MaxUint64}
		} else {
			if lo.lo&maskLow(n) != 0 {
				break
			}
			end = u128{lo.hi, lo.lo | maskLow(n)}
		}
		if end.cmp(hi) > 0 {
			break
		}
		bits = n
	}
	return bits
}
