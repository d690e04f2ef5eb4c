package query

import "math/bits"

// Bits is a selection vector over the rows of a batch: bit i of word i/64
// is set when row i is selected. Bits past the batch length stay clear.
type Bits []uint64

// words returns the number of 64-bit words n rows take.
func words(n int) int { return (n + 63) / 64 }

// Resize returns b with room for n rows, all clear, reusing its storage.
func (b Bits) Resize(n int) Bits {
	w := words(n)
	if cap(b) < w {
		b = make(Bits, w)
	}
	b = b[:w]
	clear(b)
	return b
}

// SetAll selects rows 0..n-1 and clears the rest.
func (b Bits) SetAll(n int) {
	for i := range b {
		b[i] = ^uint64(0)
	}
	b.trim(n)
}

// trim clears the bits at n and after.
func (b Bits) trim(n int) {
	if n%64 != 0 && len(b) > 0 && n/64 < len(b) {
		b[n/64] &= 1<<(n%64) - 1
	}
	for i := words(n); i < len(b); i++ {
		b[i] = 0
	}
}

// Set selects row i.
func (b Bits) Set(i int) { b[i/64] |= 1 << (i % 64) }

// Has reports whether row i is selected.
func (b Bits) Has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

// Count returns the number of selected rows.
func (b Bits) Count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// Rows appends the indexes of the selected rows to dst, in order.
func (b Bits) Rows(dst []int32) []int32 {
	for wi, w := range b {
		for w != 0 {
			dst = append(dst, int32(wi*64+bits.TrailingZeros64(w)))
			w &= w - 1
		}
	}
	return dst
}
