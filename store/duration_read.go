package store

import (
	"encoding/binary"
	"math/bits"
)

// readEnd decodes the end column (see duration.go) into dst.End;
// dst.Start and dst.Packets must hold the block's values. The durations
// (mode 0) or the time-per-packet quotients (mode 1) decode straight into
// End, which then becomes Start plus the duration in place. In mode 1 the
// remainders' widths come from the packets column, so their bit
// positions are a running sum that does not wait for the bits: the loads
// run ahead.
func (d *blockDecoder) readEnd(raw []byte, n int, dst *Columns) error {
	if len(raw) < 1 {
		return errStream
	}
	end := grow(dst.End, n)
	dst.End = end
	start := dst.Start[:n]
	switch raw[0] {
	case durPlain:
		if _, err := readUints(raw[1:], end); err != nil {
			return err
		}
		for i, v := range end {
			end[i] = start[i] + unzigzag(uint64(v))
		}
		return nil
	case durPerPacket:
		g, k := binary.Uvarint(raw[1:])
		if k <= 0 || g == 0 {
			return errStream
		}
		rest, err := readUints(raw[1+k:], end)
		if err != nil {
			return err
		}
		blen, k := binary.Uvarint(rest)
		if k <= 0 || blen != uint64(len(rest)-k) {
			return errStream
		}
		body := rest[k:]
		pk := dst.Packets[:n]
		i, pos := endRemainders(body, 0, pk, start, end, g)
		for ; i < n; i++ {
			p := max(pk[i], 1)
			w := uint(bits.Len64(p - 1))
			if int(pos>>3)+8 > len(body) || w > 56 {
				break
			}
			rem := binary.LittleEndian.Uint64(body[pos>>3:]) >> (pos & 7) & (1<<w - 1)
			pos += w
			end[i] = start[i] + int64((uint64(end[i])*p+rem)*g)
		}
		// the last bytes of the remainders, and remainders wider than a
		// load holds
		r := bitReader{data: body, pos: pos}
		for ; i < n; i++ {
			p := max(pk[i], 1)
			rem := r.read(uint(bits.Len64(p - 1)))
			end[i] = start[i] + int64((uint64(end[i])*p+rem)*g)
		}
		if r.pos > uint(len(body))*8 || r.overrun {
			return errStream
		}
		return nil
	}
	return errStream
}
