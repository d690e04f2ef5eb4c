package store

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// An integer stream stores n unsigned values as
//
//	uvarint base | uvarint gcd | byte tiers | tiers × byte width | uvarint len | len bytes of bits
//
// value = base + gcd × code, and every code is written with a tiered
// prefix code: tier t of T is selected by t one-bits and a zero bit (the
// last tier by T-1 one-bits, no zero), then the code in width[t] bits. The
// widths are chosen per stream to minimize the size, so skewed values (small
// time deltas, frequent small counters) take few bits and rare large ones
// still fit: a cheap stand-in for entropy coding that decodes fast.

const maxTiers = 4

// tierCode holds the widths of a tiered code.
type tierCode struct {
	n int
	w [maxTiers]uint
}

func (tc *tierCode) selBits(t int) uint {
	if t < tc.n-1 {
		return uint(t + 1)
	}
	return uint(tc.n - 1)
}

// chooseTiers picks the tier widths that minimize the total bits for values
// whose bit lengths have histogram hist.
func chooseTiers(hist *[65]int) tierCode {
	var lens []uint
	for l := 0; l <= 64; l++ {
		if hist[l] > 0 {
			lens = append(lens, uint(l))
		}
	}
	if len(lens) == 0 {
		return tierCode{n: 1}
	}
	maxL := lens[len(lens)-1]
	// cum[l] = number of values with bit length <= l
	var cum [66]int
	for l := 0; l <= 64; l++ {
		cum[l+1] = cum[l] + hist[l]
	}
	count := func(lo, hi uint) int { // bit lengths in (lo, hi]; lo == 255 means from 0
		if lo == 255 {
			return cum[hi+1]
		}
		return cum[hi+1] - cum[lo+1]
	}
	best := tierCode{n: 1, w: [maxTiers]uint{maxL}}
	bestCost := uint64(cum[65]) * uint64(maxL)
	k := len(lens) - 1 // candidates for the lower tiers: lens[:k]
	for a := 0; a < k; a++ {
		w0 := lens[a]
		// two tiers
		c := uint64(count(255, w0))*uint64(1+w0) + uint64(count(w0, maxL))*uint64(1+maxL)
		if c < bestCost {
			bestCost, best = c, tierCode{n: 2, w: [maxTiers]uint{w0, maxL}}
		}
		for b := a + 1; b < k; b++ {
			w1 := lens[b]
			c3 := uint64(count(255, w0))*uint64(1+w0) + uint64(count(w0, w1))*uint64(2+w1) +
				uint64(count(w1, maxL))*uint64(2+maxL)
			if c3 < bestCost {
				bestCost, best = c3, tierCode{n: 3, w: [maxTiers]uint{w0, w1, maxL}}
			}
			for d := b + 1; d < k; d++ {
				w2 := lens[d]
				c4 := uint64(count(255, w0))*uint64(1+w0) + uint64(count(w0, w1))*uint64(2+w1) +
					uint64(count(w1, w2))*uint64(3+w2) + uint64(count(w2, maxL))*uint64(3+maxL)
				if c4 < bestCost {
					bestCost, best = c4, tierCode{n: 4, w: [maxTiers]uint{w0, w1, w2, maxL}}
				}
			}
		}
	}
	return best
}

func gcd64(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// appendUints appends an integer stream holding vals.
func appendUints(dst []byte, vals []uint64, scratch *bitWriter) []byte {
	if len(vals) == 0 {
		return append(dst, 0, 1, 1, 0, 0)
	}
	mn, mx := vals[0], vals[0]
	for _, v := range vals {
		mn = min(mn, v)
		mx = max(mx, v)
	}
	var g uint64
	if mx != mn {
		for _, v := range vals {
			if d := v - mn; d != 0 {
				g = gcd64(d, g)
				if g == 1 {
					break
				}
			}
		}
	}
	if g == 0 {
		g = 1
	}
	var hist [65]int
	shift := uint(bits.TrailingZeros64(g))
	pow2 := g == 1<<shift
	switch {
	case mx == mn:
		hist[0] = len(vals)
	case pow2:
		for _, v := range vals {
			hist[bits.Len64((v-mn)>>shift)]++
		}
	default:
		for _, v := range vals {
			hist[bits.Len64((v-mn)/g)]++
		}
	}
	tc := chooseTiers(&hist)
	dst = binary.AppendUvarint(dst, mn)
	dst = binary.AppendUvarint(dst, g)
	dst = append(dst, byte(tc.n))
	for t := 0; t < tc.n; t++ {
		dst = append(dst, byte(tc.w[t]))
	}
	if tc.n == 1 && tc.w[0] == 0 {
		return binary.AppendUvarint(dst, 0)
	}
	bw := scratch
	bw.buf, bw.acc, bw.n = bw.buf[:0], 0, 0
	var sel [maxTiers]uint64
	for t := 0; t < tc.n; t++ {
		sel[t] = 1<<uint(t) - 1
	}
	for _, v := range vals {
		c := v - mn
		if pow2 {
			c >>= shift
		} else {
			c /= g
		}
		l := uint(bits.Len64(c))
		t := 0
		for l > tc.w[t] {
			t++
		}
		sb := tc.selBits(t)
		if sb+tc.w[t] <= 64 {
			bw.write(sel[t]|c<<sb, sb+tc.w[t])
		} else {
			bw.write(sel[t], sb)
			bw.write(c, tc.w[t])
		}
	}
	body := bw.finish()
	dst = binary.AppendUvarint(dst, uint64(len(body)))
	return append(dst, body...)
}

// errStream is what a malformed integer stream gives.
var errStream = fmt.Errorf("bad integer stream")

// constUints reports whether src starts with a constant integer stream
// and returns its value and the rest of src.
func constUints(src []byte) (v uint64, rest []byte, ok bool) {
	base, n := binary.Uvarint(src)
	if n <= 0 || len(src) < n+4 {
		return 0, nil, false
	}
	// gcd 1 (one byte), one tier of width 0, empty body
	if src[n] != 1 || src[n+1] != 1 || src[n+2] != 0 || src[n+3] != 0 {
		return 0, nil, false
	}
	return base, src[n+4:], true
}

// tierEntry is what one lookup on the low 3 bits of a code's bits gives:
// the shift past the selector, the bits consumed and the mask of the code.
type tierEntry struct {
	shift, used uint8
	mask        uint64
}

// lookupTable returns the tierEntry for each value of a code's low 3 bits,
// and whether some code with its selector is wider than 57 bits (one
// 64-bit load may then not hold a whole code).
func (tc *tierCode) lookupTable() (tab [8]tierEntry, wide bool) {
	for x := 0; x < 8; x++ {
		t := bits.TrailingZeros8(^uint8(x))
		if t > tc.n-1 {
			t = tc.n - 1
		}
		sb, w := tc.selBits(t), tc.w[t]
		m := ^uint64(0)
		if w < 64 {
			m = 1<<w - 1
		}
		tab[x] = tierEntry{uint8(sb), uint8(sb + w), m}
		if sb+w > 57 {
			wide = true
		}
	}
	return tab, wide
}

// readStreamHeader checks and splits an integer stream's header (base,
// gcd, tier widths, body length) and returns the body and what follows it.
func readStreamHeader(src []byte) (base, g uint64, tc tierCode, body, rest []byte, err error) {
	base, n := binary.Uvarint(src)
	if n <= 0 {
		return 0, 0, tc, nil, nil, errStream
	}
	src = src[n:]
	g, n = binary.Uvarint(src)
	if n <= 0 || g == 0 {
		return 0, 0, tc, nil, nil, errStream
	}
	src = src[n:]
	if len(src) < 1 {
		return 0, 0, tc, nil, nil, errStream
	}
	tc.n = int(src[0])
	if tc.n < 1 || tc.n > maxTiers || len(src) < 1+tc.n {
		return 0, 0, tc, nil, nil, errStream
	}
	for t := 0; t < tc.n; t++ {
		tc.w[t] = uint(src[1+t])
		if tc.w[t] > 64 || (t > 0 && tc.w[t] <= tc.w[t-1]) {
			return 0, 0, tc, nil, nil, errStream
		}
	}
	src = src[1+tc.n:]
	blen, n := binary.Uvarint(src)
	if n <= 0 || blen > uint64(len(src)-n) {
		return 0, 0, tc, nil, nil, errStream
	}
	return base, g, tc, src[n : n+int(blen)], src[n+int(blen):], nil
}

// readUints decodes an integer stream of len(dst) values into dst and
// returns the rest of src.
func readUints(src []byte, dst []uint64) ([]byte, error) {
	base, g, tc, body, rest, err := readStreamHeader(src)
	if err != nil {
		return nil, err
	}
	if tc.n == 1 && tc.w[0] == 0 {
		for i := range dst {
			dst[i] = base
		}
		return rest, nil
	}
	tab, wide := tc.lookupTable()
	r := bitReader{data: body}
	switch {
	case tc.n == 1 && tc.w[0] <= 56:
		w, m := tc.w[0], uint64(1)<<tc.w[0]-1
		for i := range dst {
			dst[i] = base + (r.peek()&m)*g
			r.pos += w
		}
	case tc.n == 1:
		for i := range dst {
			dst[i] = base + r.read(tc.w[0])*g
		}
	case !wide:
		// two codes per 8-byte load when they fit in the 57 bits a load
		// guarantees: the second decode does not wait for a reload. The
		// table lives in two registers (8 bits per entry), so the
		// dependency from one code to the next is a load and a few ALU
		// operations, no table load.
		var usedTab, shiftTab uint64
		for x := 0; x < 8; x++ {
			usedTab |= uint64(tab[x].used) << (8 * x)
			shiftTab |= uint64(tab[x].shift) << (8 * x)
		}
		i, pos := decodePairs(body, dst, base, g, usedTab, shiftTab)
		r.pos = pos
		for ; i+1 < len(dst); i += 2 {
			x := r.peek()
			k0 := (x & 7) * 8
			u0 := (usedTab >> k0) & 0xff
			s0 := (shiftTab >> k0) & 0xff
			y := x >> u0
			k1 := (y & 7) * 8
			u1 := (usedTab >> k1) & 0xff
			dst[i] = base + ((x>>s0)&(1<<(u0-s0)-1))*g
			if u0+u1 <= 57 {
				s1 := (shiftTab >> k1) & 0xff
				dst[i+1] = base + ((y>>s1)&(1<<(u1-s1)-1))*g
				r.pos += uint(u0 + u1)
				continue
			}
			r.pos += uint(u0)
			x = r.peek()
			f := tab[x&7]
			dst[i+1] = base + ((x>>f.shift)&f.mask)*g
			r.pos += uint(f.used)
		}
		for ; i < len(dst); i++ {
			x := r.peek()
			e := tab[x&7]
			dst[i] = base + ((x>>e.shift)&e.mask)*g
			r.pos += uint(e.used)
		}
	default:
		for i := range dst {
			x := r.peek()
			e := tab[x&7]
			if e.used <= 57 {
				dst[i] = base + ((x>>e.shift)&e.mask)*g
				r.pos += uint(e.used)
			} else {
				r.pos += uint(e.shift)
				dst[i] = base + r.read(uint(e.used-e.shift))*g
			}
		}
	}
	if r.pos > uint(len(body))*8 || r.overrun {
		return nil, errStream
	}
	return rest, nil
}

// skipUints checks the header of an integer stream and returns the rest
// of src after it, with bounds lo <= every value <= hi read from the
// header alone (base, gcd and the widest tier), without decoding it.
func skipUints(src []byte) (rest []byte, lo, hi uint64, err error) {
	base, n := binary.Uvarint(src)
	if n <= 0 {
		return nil, 0, 0, errStream
	}
	src = src[n:]
	g, n := binary.Uvarint(src)
	if n <= 0 || g == 0 {
		return nil, 0, 0, errStream
	}
	src = src[n:]
	if len(src) < 1 {
		return nil, 0, 0, errStream
	}
	t := int(src[0])
	if t < 1 || t > maxTiers || len(src) < 1+t {
		return nil, 0, 0, errStream
	}
	w := uint(src[t]) // widths increase: the last is the widest
	if w > 64 {
		return nil, 0, 0, errStream
	}
	src = src[1+t:]
	blen, n := binary.Uvarint(src)
	if n <= 0 || blen > uint64(len(src)-n) {
		return nil, 0, 0, errStream
	}
	// hi = base + g*(2^w - 1), saturated
	hi = ^uint64(0)
	maxCode := ^uint64(0)
	if w < 64 {
		maxCode = 1<<w - 1
	}
	if hiMul, lo64 := bits.Mul64(g, maxCode); hiMul == 0 {
		if s, c := bits.Add64(base, lo64, 0); c == 0 {
			hi = s
		}
	}
	return src[n+int(blen):], base, hi, nil
}

// decodePairs is the inner loop of readUints for streams whose two codes
// fit in one 57-bit window: it decodes pairs while a whole 8-byte load
// stays inside body, with the bit position in a register, and returns
// how many values it wrote and the bit position reached.
func decodePairs(body []byte, dst []uint64, base, g, usedTab, shiftTab uint64) (int, uint) {
	pos := uint(0)
	i := 0
	if len(body) < 8 {
		return 0, 0
	}
	limit := uint(len(body)-8) * 8 // a load at pos>>3 stays inside body
	for ; i+1 < len(dst) && pos <= limit; i += 2 {
		x := binary.LittleEndian.Uint64(body[pos>>3:]) >> (pos & 7)
		k0 := (x & 7) * 8
		u0 := (usedTab >> k0) & 0xff
		s0 := (shiftTab >> k0) & 0xff
		y := x >> u0
		k1 := (y & 7) * 8
		u1 := (usedTab >> k1) & 0xff
		if u0+u1 > 57 {
			break // the caller's loop handles the reload
		}
		s1 := (shiftTab >> k1) & 0xff
		dst[i] = base + ((x>>s0)&(1<<(u0-s0)-1))*g
		dst[i+1] = base + ((y>>s1)&(1<<(u1-s1)-1))*g
		pos += uint(u0 + u1)
	}
	return i, pos
}
