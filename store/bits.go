package store

import (
	"encoding/binary"
	"math/bits"
)

// bitReader reads bits written least-significant first, as appendUints
// writes them. Reads past the end return zero bits and set overrun, so a
// corrupt stream never panics.
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
