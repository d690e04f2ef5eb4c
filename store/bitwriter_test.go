package store

import "encoding/binary"

// bitWriter appends bits least-significant first to a byte slice: the
// simple reference the tests check the encoders' bit packing against.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint // bits in acc
}

// write appends the low w bits of v (w <= 64).
func (b *bitWriter) write(v uint64, w uint) {
	if w == 0 {
		return
	}
	if w < 64 {
		v &= 1<<w - 1
	}
	if b.n+w <= 64 {
		b.acc |= v << b.n
		b.n += w
		if b.n == 64 {
			b.buf = binary.LittleEndian.AppendUint64(b.buf, b.acc)
			b.acc, b.n = 0, 0
		}
		return
	}
	// split: fill acc, flush, keep the rest
	first := 64 - b.n
	b.acc |= v << b.n
	b.buf = binary.LittleEndian.AppendUint64(b.buf, b.acc)
	b.acc = v >> first
	b.n = w - first
}

// finish flushes the partial word (whole bytes only) and returns the buffer.
func (b *bitWriter) finish() []byte {
	for b.n > 0 {
		b.buf = append(b.buf, byte(b.acc))
		b.acc >>= 8
		if b.n < 8 {
			b.n = 0
		} else {
			b.n -= 8
		}
	}
	return b.buf
}
