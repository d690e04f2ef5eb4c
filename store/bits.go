package store

import (
	"encoding/binary"
	"math/bits"
)

// bitWriter appends bits least-significant first to a byte slice.
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

// bitReader reads what bitWriter wrote. Reads past the end return zero bits
// and set overrun, so a corrupt stream never panics.
type bitReader struct {
	data    []byte
	pos     uint // bit position
	overrun bool
}

// peek returns the next 64 bits (at least 57 of them valid when available).
func (r *bitReader) peek() uint64 {
	i := r.pos >> 3
	if int(i)+8 <= len(r.data) {
		return binary.LittleEndian.Uint64(r.data[i:]) >> (r.pos & 7)
	}
	var tmp [8]byte
	if int(i) < len(r.data) {
		copy(tmp[:], r.data[i:])
	}
	return binary.LittleEndian.Uint64(tmp[:]) >> (r.pos & 7)
}

// read returns the next w bits (w <= 64).
func (r *bitReader) read(w uint) uint64 {
	if w == 0 {
		return 0
	}
	var v uint64
	if w <= 56 {
		v = r.peek() & (1<<w - 1)
		r.pos += w
	} else {
		lo := r.peek() & (1<<32 - 1)
		r.pos += 32
		hi := r.peek()
		if w-32 < 64 {
			hi &= 1<<(w-32) - 1
		}
		r.pos += w - 32
		v = lo | hi<<32
	}
	if r.pos > uint(len(r.data))*8 {
		r.overrun = true
	}
	return v
}

// bitLen is the number of bits needed for v (0 for 0).
func bitLen(v uint64) uint { return uint(bits.Len64(v)) }
