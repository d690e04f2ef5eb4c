package store

import (
	"encoding/binary"
	"math/bits"
)

// uintPlan is how an integer stream (intcodec.go) encodes a vector:
// base, gcd and tier widths, and the exact size, known before a bit is
// written (the end column compares two encodings by size).
type uintPlan struct {
	mn, g    uint64
	shift    uint   // trailing zero bits of g
	inv      uint64 // inverse of g>>shift mod 2^64: exact division by a multiply
	tc       tierCode
	bodyBits uint64
	paired   bool   // the header gives split: where value n/2 starts
	split    uint64 // in bits from the start of the body
}

// oddInverse returns x with x*a == 1 mod 2^64 for odd a (Newton's
// iteration: each step doubles the correct low bits, from 3).
func oddInverse(a uint64) uint64 {
	x := a
	for range 5 {
		x *= 2 - a*x
	}
	return x
}

// code returns (v-mn)/g. g divides every v-mn, so the division is exact
// and a multiply by the odd part's inverse does it.
func (p *uintPlan) code(v uint64) uint64 { return ((v - p.mn) >> p.shift) * p.inv }

// gcdAcc accumulates the gcd of a sequence. The gcd rarely changes after
// the first values: a value it divides is recognized with a mask, a
// multiply and a compare (divides) instead of a division.
type gcdAcc struct {
	g, mask, inv, limit uint64
	shift               uint
}

// divides reports whether the gcd so far divides d (0 divides only 0).
func (a *gcdAcc) divides(d uint64) bool {
	return d == 0 || (a.g != 0 && d&a.mask == 0 && (d>>a.shift)*a.inv <= a.limit)
}

// add takes d, which the gcd so far does not divide, into it.
func (a *gcdAcc) add(d uint64) {
	a.g = gcd64(d, a.g)
	a.shift = uint(bits.TrailingZeros64(a.g))
	a.mask = 1<<a.shift - 1
	odd := a.g >> a.shift
	a.inv, a.limit = oddInverse(odd), ^uint64(0)/odd
}

// gcdDeltas returns the gcd of v-mn over vals (0 when all equal mn).
func gcdDeltas(vals []uint64, mn uint64) uint64 {
	var a gcdAcc
	for _, v := range vals {
		if d := v - mn; !a.divides(d) {
			if a.add(d); a.g == 1 {
				return 1
			}
		}
	}
	return a.g
}

// planUints chooses the encoding of vals (at least one value).
func planUints(vals []uint64) uintPlan {
	mn, mx := vals[0], vals[0]
	for _, v := range vals {
		mn = min(mn, v)
		mx = max(mx, v)
	}
	p := uintPlan{mn: mn, g: 1, inv: 1}
	var hist, firstHalf [65]int
	if mx == mn {
		hist[0] = len(vals)
	} else {
		p.g = gcdDeltas(vals, mn)
		p.shift = uint(bits.TrailingZeros64(p.g))
		p.inv = oddInverse(p.g >> p.shift)
		// the first half's histogram on the way gives the split bit
		for _, v := range vals[:len(vals)/2] {
			hist[bits.Len64(p.code(v))]++
		}
		firstHalf = hist
		for _, v := range vals[len(vals)/2:] {
			hist[bits.Len64(p.code(v))]++
		}
	}
	p.tc, p.bodyBits = chooseTiers(&hist)
	if p.tc.n >= 2 && len(vals) >= pairMinValues {
		p.paired = true
		p.split = p.tc.bits(&firstHalf)
	}
	return p
}

// size returns the bytes of the stream.
func (p *uintPlan) size() int {
	body := int((p.bodyBits + 7) / 8)
	if p.tc.n == 1 && p.tc.w[0] == 0 {
		return uvarintLen(p.mn) + uvarintLen(p.g) + 1 + 1 + 1
	}
	n := uvarintLen(p.mn) + uvarintLen(p.g) + 1 + p.tc.n + uvarintLen(uint64(body)) + body
	if p.paired {
		n += uvarintLen(p.split)
	}
	return n
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

// appendUints appends an integer stream holding vals.
func appendUints(dst []byte, vals []uint64) []byte {
	if len(vals) == 0 {
		return append(dst, 0, 1, 1, 0, 0)
	}
	p := planUints(vals)
	return p.append(dst, vals)
}

// append appends the stream of vals, which p was planned for.
func (p *uintPlan) append(dst []byte, vals []uint64) []byte {
	tc := &p.tc
	dst = binary.AppendUvarint(dst, p.mn)
	dst = binary.AppendUvarint(dst, p.g)
	if p.paired {
		dst = append(dst, byte(tc.n)|pairedTiers)
	} else {
		dst = append(dst, byte(tc.n))
	}
	for t := 0; t < tc.n; t++ {
		dst = append(dst, byte(tc.w[t]))
	}
	if tc.n == 1 && tc.w[0] == 0 {
		return binary.AppendUvarint(dst, 0)
	}
	body := int((p.bodyBits + 7) / 8)
	dst = binary.AppendUvarint(dst, uint64(body))
	if p.paired {
		dst = binary.AppendUvarint(dst, p.split)
	}
	// per bit length of a code: its tier's selector, selector bits and
	// total bits
	type slot struct {
		sel    uint64
		sb, nb uint8
	}
	var tab [65]slot
	t := 0
	for l := range tab {
		for t < tc.n-1 && uint(l) > tc.w[t] {
			t++
		}
		sb := tc.selBits(t)
		tab[l] = slot{1<<uint(t) - 1, uint8(sb), uint8(sb + tc.w[t])}
	}
	// codes go into a 64-bit accumulator, flushed whole: the bits of
	// bitWriter, least significant first
	start := len(dst)
	dst = append(dst, make([]byte, body)...)
	out := dst[start:]
	var acc uint64
	var n uint
	w := 0
	for _, v := range vals {
		c := p.code(v)
		s := &tab[bits.Len64(c)]
		if s.nb > 64 {
			// a selector and a code wider than a word: in two pieces
			acc, n, w = putBits(out, acc, n, w, s.sel, uint(s.sb))
			acc, n, w = putBits(out, acc, n, w, c, uint(s.nb-s.sb))
			continue
		}
		acc, n, w = putBits(out, acc, n, w, s.sel|c<<s.sb, uint(s.nb))
	}
	return dst[:start+flushBits(out, acc, n, w)]
}

// flushBits stores the n bits left in acc at out[w:], whole bytes, and
// returns where they end.
func flushBits(out []byte, acc uint64, n uint, w int) int {
	for ; n > 0; n -= min(n, 8) {
		out[w] = byte(acc)
		w++
		acc >>= 8
	}
	return w
}

// putBits adds the nb low bits of code (no higher bits set, nb <= 64) to
// acc, holding n bits, and stores acc at out[w:] when it fills.
func putBits(out []byte, acc uint64, n uint, w int, code uint64, nb uint) (uint64, uint, int) {
	acc |= code << n
	n += nb
	if n >= 64 {
		binary.LittleEndian.PutUint64(out[w:], acc)
		w += 8
		n -= 64
		acc = code >> (nb - n) // the bits that did not fit (a shift by 64 gives 0)
	}
	return acc, n, w
}
