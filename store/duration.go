package store

import (
	"encoding/binary"
	"math/bits"

	"github.com/flowkit/flowkit/flow"
)

// The end column stores the duration End − Start in one of two modes:
//
//	0: integer stream of zigzag(duration)
//	1: uvarint unit | integer stream of q | bit stream of r
//
// Mode 1 is for durations >= 0: with u = duration / unit (unit the gcd of
// the durations) and p = max(Packets, 1), q = u / p and r = u mod p, and r
// takes exactly bitlen(p − 1) bits, a width the reader knows from the
// packets column. A flow's duration grows with its packets; time per
// packet (q) is the narrow quantity, as bytes per packet is for bytes.
const (
	durPlain     = 0
	durPerPacket = 1
)

// appendDurations encodes the end column of rs (sorted rows).
func (e *blockEncoder) appendDurations(dst []byte, rs []flow.Record) []byte {
	u, u2 := e.u[:len(rs)], e.u2[:len(rs)]
	var sign int64
	for i := range rs {
		d := rs[i].End - rs[i].Start
		sign |= d
		u[i] = uint64(d)
	}
	if sign < 0 {
		for i := range rs {
			u[i] = zigzag(rs[i].End - rs[i].Start)
		}
		return appendUints(append(dst, durPlain), u)
	}
	// the plain stream of zigzag(d) = 2d is planned from d: the same
	// codes and widths, twice the base and (unless constant) the gcd
	plain := planUints(u)
	plain.mn *= 2
	if plain.tc.n > 1 || plain.tc.w[0] > 0 {
		plain.g *= 2
		plain.shift++
	}
	g := max(gcdDeltas(u, 0), 1)
	shift := uint(bits.TrailingZeros64(g))
	inv := oddInverse(g >> shift)
	var rbits uint64
	for i := range rs {
		units := (u[i] >> shift) * inv // u[i] / g: g divides it
		p := max(rs[i].Packets, 1)
		q := perPacket(units, p)
		u[i] = q
		u2[i] = units - q*p
		rbits += uint64(bits.Len64(p - 1))
	}
	start := len(dst)
	dst = append(dst, durPerPacket)
	dst = binary.AppendUvarint(dst, g)
	dst = appendUints(dst, u)
	// the remainders: bitlen(p-1) bits each
	body := int((rbits + 7) / 8)
	dst = binary.AppendUvarint(dst, uint64(body))
	at := len(dst)
	dst = append(dst, make([]byte, body)...)
	out := dst[at:]
	var acc uint64
	var n uint
	w := 0
	for i := range rs {
		acc, n, w = putBits(out, acc, n, w, u2[i], uint(bits.Len64(max(rs[i].Packets, 1)-1)))
	}
	flushBits(out, acc, n, w)
	// keep whichever mode is smaller: the plain stream is written only
	// when it wins
	if 1+plain.size() < len(dst)-start {
		for i := range rs {
			u[i] = zigzag(rs[i].End - rs[i].Start)
		}
		return plain.append(append(dst[:start], durPlain), u)
	}
	return dst
}
