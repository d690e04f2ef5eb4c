package query

import (
	"encoding/binary"
	"net/netip"

	"github.com/flowkit/flowkit/flow"
)

// prefixMatch tests a 16-byte address against a prefix with two masked
// 64-bit compares; IPv4 prefixes become IPv4-mapped /96+n prefixes, so one
// test serves both families.
type prefixMatch struct {
	hi, lo   uint64 // the prefix's masked address halves
	mhi, mlo uint64 // the masks
	never    bool   // an invalid prefix matches nothing
}

func compilePrefix(p netip.Prefix) prefixMatch {
	if !p.IsValid() {
		return prefixMatch{never: true}
	}
	p = p.Masked()
	a := flow.AddrFrom(p.Addr())
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	var m prefixMatch
	m.mhi = maskBits(bits)
	if bits > 64 {
		m.mlo = maskBits(bits - 64)
	}
	m.hi = binary.BigEndian.Uint64(a[:8]) & m.mhi
	m.lo = binary.BigEndian.Uint64(a[8:]) & m.mlo
	return m
}

// maskBits returns a mask of the n (capped at 64) leading bits.
func maskBits(n int) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	if n <= 0 {
		return 0
	}
	return ^uint64(0) << (64 - n)
}

func (m *prefixMatch) match(a flow.Addr) bool {
	return !m.never && binary.BigEndian.Uint64(a[:8])&m.mhi == m.hi && binary.BigEndian.Uint64(a[8:])&m.mlo == m.lo
}
