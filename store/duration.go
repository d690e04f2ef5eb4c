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
	var g uint64
	neg := false
	for i := range rs {
		d := rs[i].End - rs[i].Start
		if d < 0 {
			neg = true
			break
		}
		if d != 0 && g != 1 {
			g = gcd64(uint64(d), g)
		}
	}
	plain := func(dst []byte) []byte {
		for i := range rs {
			u[i] = zigzag(rs[i].End - rs[i].Start)
		}
		return appendUints(append(dst, durPlain), u, &e.bw)
	}
	if neg {
		return plain(dst)
	}
	if g == 0 {
		g = 1
	}
	rbits := 0
	for i := range rs {
		units := uint64(rs[i].End-rs[i].Start) / g
		p := max(rs[i].Packets, 1)
		u[i] = units / p
		u2[i] = units % p
		rbits += bits.Len64(p - 1)
	}
	start := len(dst)
	dst = append(dst, durPerPacket)
	dst = binary.AppendUvarint(dst, g)
	dst = appendUints(dst, u, &e.bw)
	bw := &e.bw
	bw.buf, bw.acc, bw.n = bw.buf[:0], 0, 0
	for i := range rs {
		bw.write(u2[i], uint(bits.Len64(max(rs[i].Packets, 1)-1)))
	}
	body := bw.finish()
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	dst = append(dst, body...)
	// keep whichever mode is smaller
	perPacket := len(dst) - start
	alt := plain(nil)
	if len(alt) < perPacket {
		return append(dst[:start], alt...)
	}
	return dst
}

// readDurations decodes the end column into dst.End; dst.Start and
// dst.Packets must hold the block's values.
func (d *blockDecoder) readDurations(raw []byte, n int, dst *Columns) error {
	if len(raw) < 1 {
		return errStream
	}
	u := grow(d.u, n)
	d.u = u
	dst.End = grow(dst.End, n)
	end := dst.End
	switch raw[0] {
	case durPlain:
		if _, err := readUints(raw[1:], u); err != nil {
			return err
		}
		for i, v := range u {
			end[i] = dst.Start[i] + unzigzag(v)
		}
		return nil
	case durPerPacket:
		g, k := binary.Uvarint(raw[1:])
		if k <= 0 || g == 0 {
			return errStream
		}
		rest, err := readUints(raw[1+k:], u)
		if err != nil {
			return err
		}
		blen, k := binary.Uvarint(rest)
		if k <= 0 || blen != uint64(len(rest)-k) {
			return errStream
		}
		r := bitReader{data: rest[k:]}
		pk := dst.Packets
		for i, q := range u {
			p := max(pk[i], 1)
			w := uint(bits.Len64(p - 1))
			var rem uint64
			if w <= 56 {
				rem = r.peek() & (1<<w - 1)
				r.pos += w
			} else {
				rem = r.read(w)
			}
			end[i] = dst.Start[i] + int64((q*p+rem)*g)
		}
		if r.pos > uint(len(r.data))*8 || r.overrun {
			return errStream
		}
		return nil
	}
	return errStream
}
