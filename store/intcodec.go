package store

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unsafe"
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
// whose bit lengths have histogram hist, and returns them with that total
// (selectors and codes: the body of the stream in bits).
func chooseTiers(hist *[65]int) (tierCode, uint64) {
	var lens []uint
	for l := 0; l <= 64; l++ {
		if hist[l] > 0 {
			lens = append(lens, uint(l))
		}
	}
	if len(lens) == 0 {
		return tierCode{n: 1}, 0
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
	return best, bestCost
}

// bits returns the bits that values with bit-length histogram hist take
// in this code (selectors and codes).
func (tc *tierCode) bits(hist *[65]int) uint64 {
	var total uint64
	t := 0
	for l, c := range hist {
		for t < tc.n-1 && uint(l) > tc.w[t] {
			t++
		}
		total += uint64(c) * uint64(tc.selBits(t)+tc.w[t])
	}
	return total
}

func gcd64(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
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

// pairedTiers is the flag in a stream's tier byte that says the stream
// gives the bit where its second half of values starts (see
// streamHeader.split).
const pairedTiers = 0x80

// pairMinValues is the fewest values a tiered stream must hold for the
// writer to pair it: below, the pair loop would hardly run.
const pairMinValues = 256

// streamHeader is the header of an integer stream: values are base + g ×
// code, coded with the tiers of tc in body. A paired stream (paired) of
// n values also says at which bit of body (split) value n/2 starts, so a
// decoder can run the halves as two independent chains.
type streamHeader struct {
	base, g uint64
	tc      tierCode
	paired  bool
	split   uint
	body    []byte
}

// readStreamHeader checks and splits an integer stream's header (base,
// gcd, tier widths, body length, and the split bit of a paired stream)
// and returns it and what follows the stream.
func readStreamHeader(src []byte) (h streamHeader, rest []byte, err error) {
	var n int
	h.base, n = binary.Uvarint(src)
	if n <= 0 {
		return h, nil, errStream
	}
	src = src[n:]
	h.g, n = binary.Uvarint(src)
	if n <= 0 || h.g == 0 {
		return h, nil, errStream
	}
	src = src[n:]
	if len(src) < 1 {
		return h, nil, errStream
	}
	tc := &h.tc
	h.paired = src[0]&pairedTiers != 0
	tc.n = int(src[0] &^ pairedTiers)
	if tc.n < 1 || tc.n > maxTiers || len(src) < 1+tc.n || (h.paired && tc.n < 2) {
		return h, nil, errStream
	}
	for t := 0; t < tc.n; t++ {
		tc.w[t] = uint(src[1+t])
		if tc.w[t] > 64 || (t > 0 && tc.w[t] <= tc.w[t-1]) {
			return h, nil, errStream
		}
	}
	src = src[1+tc.n:]
	blen, n := binary.Uvarint(src)
	if n <= 0 || blen > uint64(len(src)-n) {
		return h, nil, errStream
	}
	src = src[n:]
	if h.paired {
		split, n := binary.Uvarint(src)
		if n <= 0 || split > 8*blen || blen > uint64(len(src)-n) {
			return h, nil, errStream
		}
		h.split = uint(split)
		src = src[n:]
	}
	h.body = src[:blen]
	return h, src[blen:], nil
}

// streamValue is what an integer stream decodes into: a 64-bit vector,
// or a narrower one when the column's values are narrow (readUints then
// refuses values that do not fit).
type streamValue interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int64
}

// readUints decodes an integer stream of len(dst) values into dst and
// returns the rest of src. Decoding straight into a column's own vector
// (uint16 ports, int64 deltas) saves a 64-bit pass and a copy; a value
// that does not fit T is errRange.
func readUints[T streamValue](src []byte, dst []T) ([]byte, error) {
	h, rest, err := readStreamHeader(src)
	if err != nil {
		return nil, err
	}
	tc, body := &h.tc, h.body
	if tc.n == 1 && tc.w[0] == 0 {
		if uint64(T(h.base)) != h.base {
			return nil, errRange
		}
		setAll(dst, T(h.base))
		return rest, nil
	}
	var all uint64 // OR of the values: one check that they fit T
	switch d := newTieredDecoder(&h); {
	case tc.n == 1 && tc.w[0] <= 56:
		i, pos, a := decodeFixed(body, dst, h.base, h.g, tc.w[0])
		d.fast = false // decodeFixed did the bulk
		if _, all, err = decodeTiered(&d, pos, dst[i:]); err != nil {
			return nil, err
		}
		all |= a
	case h.paired:
		if all, err = decodePaired(&d, h.split, dst); err != nil {
			return nil, err
		}
	default:
		if _, all, err = decodeTiered(&d, 0, dst); err != nil {
			return nil, err
		}
	}
	if uint64(T(all)) != all {
		return nil, errRange
	}
	return rest, nil
}

// tieredDecoder holds what decoding a stream's codes needs: the body,
// the lookup table by the low 3 bits, and for the bulk loops the table in
// tieredValues' form with k, the codes one load holds (fast is false
// when some code is too wide for them: the one-at-a-time loop then
// decodes everything).
type tieredDecoder struct {
	body []byte
	tab  [8]tierEntry
	base uint64
	g    uint64
	tt   tierTabs
	k    int
	fast bool
}

func newTieredDecoder(h *streamHeader) (d tieredDecoder) {
	var wide bool
	d.body = h.body
	d.tab, wide = h.tc.lookupTable()
	d.base, d.g = h.base, h.g
	d.tt, d.k = tiers(&d.tab, h.base, h.g)
	d.fast = !wide
	return d
}

// decodeTiered decodes len(dst) values from bit pos and returns the bit
// where they end (inside the body, else errStream) and the OR of the
// values. The bulk goes through
// tieredValues: straight into a 64-bit dst, through a stack buffer in
// chunks of a multiple of k into a narrower one.
func decodeTiered[T streamValue](d *tieredDecoder, pos uint, dst []T) (end uint, all uint64, err error) {
	i := 0
	if d.fast {
		if d64 := as64(dst); d64 != nil {
			i, pos = tieredValues(d.body, pos, d64, d.k, &d.tt)
		} else {
			var buf [240]uint64
			chunk := len(buf) / d.k * d.k
			for i < len(dst) {
				m := min(len(dst)-i, chunk)
				c, p := tieredValues(d.body, pos, buf[:m], d.k, &d.tt)
				all |= narrow(dst[i:i+c], buf[:c])
				i, pos = i+c, p
				if c < m {
					break
				}
			}
		}
	}
	// the values the bulk leaves (near the end of body, or codes too
	// wide for its loads), one at a time
	r := bitReader{data: d.body, pos: pos}
	for ; i < len(dst); i++ {
		x := r.peek()
		e := d.tab[x&7]
		var v uint64
		if e.used <= 57 {
			v = d.base + ((x>>e.shift)&e.mask)*d.g
			r.pos += uint(e.used)
		} else {
			r.pos += uint(e.shift)
			v = d.base + r.read(uint(e.used-e.shift))*d.g
		}
		all |= v
		dst[i] = T(v)
	}
	if r.pos > uint(len(d.body))*8 || r.overrun {
		return 0, 0, errStream
	}
	return r.pos, all, nil
}

// narrow copies the 64-bit values of src into dst and returns their OR
// (which tells whether they fit).
func narrow[T streamValue](dst []T, src []uint64) uint64 {
	src = src[:len(dst)]
	k, all := narrowVec(dst, src) // in groups of 8 where it can
	for j := k; j < len(src); j++ {
		v := src[j]
		all |= v
		dst[j] = T(v)
	}
	return all
}

// decodePaired decodes a paired stream into dst and returns the OR of
// the values: its two halves as two chains at once while both have whole
// groups left, then each half's rest alone. The first half must end
// exactly at split, where the header says the second starts.
func decodePaired[T streamValue](d *tieredDecoder, split uint, dst []T) (all uint64, err error) {
	half := len(dst) / 2
	a, b := dst[:half], dst[half:]
	posA, posB := uint(0), split
	i := 0
	if d.fast {
		if d64 := as64(dst); d64 != nil {
			i, posA, posB = tieredPair(d.body, posA, posB, d64[:half], half, d.k, &d.tt)
		} else {
			var buf [240]uint64
			const offB = len(buf) / 2
			chunk := offB / d.k * d.k
			for i < half {
				m := min(half-i, chunk)
				c, pa, pb := tieredPair(d.body, posA, posB, buf[:m], offB, d.k, &d.tt)
				all |= narrow(a[i:i+c], buf[:c])
				all |= narrow(b[i:i+c], buf[offB:offB+c])
				i, posA, posB = i+c, pa, pb
				if c < m {
					break
				}
			}
		}
	}
	endA, allA, err := decodeTiered(d, posA, a[i:])
	if err != nil {
		return 0, err
	}
	if endA != split {
		return 0, errStream
	}
	_, allB, err := decodeTiered(d, posB, b[i:])
	if err != nil {
		return 0, err
	}
	return all | allA | allB, nil
}

// skipUints checks the header of an integer stream and returns the rest
// of src after it, with bounds lo <= every value <= hi read from the
// header alone (base, gcd and the widest tier), without decoding it.
func skipUints(src []byte) (rest []byte, lo, hi uint64, err error) {
	h, rest, err := readStreamHeader(src)
	if err != nil {
		return nil, 0, 0, err
	}
	base, g := h.base, h.g
	w := h.tc.w[h.tc.n-1] // widths increase: the last is the widest
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
	return rest, base, hi, nil
}

// decodeFixed is the inner loop of readUints for one-tier streams of
// width w <= 56: code i lies at bit i·w, so no code waits for the one
// before. It decodes while a whole 8-byte load stays inside body and
// returns how many values it wrote, the bit position reached and the OR
// of the values.
func decodeFixed[T streamValue](body []byte, dst []T, base, g uint64, w uint) (int, uint, uint64) {
	m := uint64(1)<<w - 1
	var all uint64
	pos := uint(0)
	i := 0
	if g == 1 && (w == 16 || w == 32) {
		// whole 16- or 32-bit words (IPv4 exceptions, ports): one plain
		// load each, no shift, no mask, no multiply
		n := min(len(dst), len(body)/int(w/8))
		if w == 16 {
			for j := range dst[:n] {
				v := base + uint64(binary.LittleEndian.Uint16(body[2*j:]))
				all |= v
				dst[j] = T(v)
			}
		} else {
			for j := range dst[:n] {
				v := base + uint64(binary.LittleEndian.Uint32(body[4*j:]))
				all |= v
				dst[j] = T(v)
			}
		}
		return n, uint(n) * w, all
	}
	for ; i < len(dst) && int(pos>>3)+8 <= len(body); i++ {
		v := base + (binary.LittleEndian.Uint64(body[pos>>3:])>>(pos&7)&m)*g
		all |= v
		dst[i] = T(v)
		pos += w
	}
	return i, pos, all
}

// tierTabs is a tiered code's lookup table in the form tieredValues
// reads (the assembly knows the offsets): per value of the low 3 bits,
// the shift past the selector and the mask of the code; the bits used
// (selector and code) as 8 bytes of one word; base and gcd; and for two
// tiers (two) the bits used by each, a choice on the lowest bit.
type tierTabs struct {
	shift        [8]uint64
	mask         [8]uint64
	usedTab      uint64
	base, g      uint64
	used0, used1 uint64
	two          bool
}

// tiers returns tab as tierTabs and k, the number of whole codes one
// 8-byte load always holds (57 valid bits over the longest code; at most
// 8, at least 1 when no code is wider than 57 bits).
func tiers(tab *[8]tierEntry, base, g uint64) (tt tierTabs, k int) {
	maxUsed := uint64(1)
	for x := 0; x < 8; x++ {
		tt.usedTab |= uint64(tab[x].used) << (8 * x)
		tt.shift[x], tt.mask[x] = uint64(tab[x].shift), tab[x].mask
		maxUsed = max(maxUsed, uint64(tab[x].used))
	}
	tt.base, tt.g = base, g
	tt.used0, tt.used1 = uint64(tab[0].used), uint64(tab[1].used)
	// two tiers: '0' then width 0, '1' then width 1, both past one bit
	tt.two = tab[0].shift == 1 && tab[1].shift == 1 && tab[2] == tab[0] && tab[3] == tab[1]
	for x := 4; x < 8; x++ {
		tt.two = tt.two && tab[x] == tab[x&1]
	}
	return tt, int(min(57/maxUsed, 8))
}

// as64 returns a 64-bit vector as []uint64 (an int64 vector is the same
// memory), nil for narrower ones.
func as64[T streamValue](dst []T) []uint64 {
	switch d := any(dst).(type) {
	case []uint64:
		return d
	case []int64:
		return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(d))), len(d))
	}
	return nil
}

// tieredValuesGo decodes the values of a tiered stream from bit pos of
// body into dst, k codes per 8-byte load, while a whole group of k fits
// dst and a whole load stays inside body; it returns how many values it
// wrote and the bit position reached. One load holds the k codes, so
// they wait for each other only through a few register operations, not
// for a reload.
func tieredValuesGo(body []byte, pos uint, dst []uint64, k int, tt *tierTabs) (int, uint) {
	if len(body) < 8 {
		return 0, pos
	}
	limit := uint(len(body)-8) * 8 // a load at pos>>3 stays inside body
	i := 0
	for ; i+k <= len(dst) && pos <= limit; i += k {
		x := binary.LittleEndian.Uint64(body[pos>>3:]) >> (pos & 7)
		d := dst[i : i+k]
		for j := range d {
			t := x & 7
			d[j] = tt.base + ((x>>(tt.shift[t]&63))&tt.mask[t])*tt.g
			u := (tt.usedTab >> (t << 3)) & 0xff
			x >>= u & 63
			pos += uint(u)
		}
	}
	return i, pos
}

// tieredPairGo is tieredValuesGo on two chains: chain A decodes from bit
// posA into dst, chain B from bit posB into dst[offB:], a group of k
// codes each per round, while A has a whole group left in dst and both
// loads stay inside body. It returns the values each chain wrote and
// the bits where they stopped. The caller keeps dst[offB:] valid for as
// many values as len(dst).
func tieredPairGo(body []byte, posA, posB uint, dst []uint64, offB, k int, tt *tierTabs) (int, uint, uint) {
	if len(body) < 8 {
		return 0, posA, posB
	}
	limit := uint(len(body)-8) * 8
	dstB := dst[offB:][:len(dst)]
	i := 0
	for ; i+k <= len(dst) && posA <= limit && posB <= limit; i += k {
		x := binary.LittleEndian.Uint64(body[posA>>3:]) >> (posA & 7)
		y := binary.LittleEndian.Uint64(body[posB>>3:]) >> (posB & 7)
		da, db := dst[i:i+k], dstB[i:i+k]
		for j := range da {
			t := x & 7
			da[j] = tt.base + ((x>>(tt.shift[t]&63))&tt.mask[t])*tt.g
			u := (tt.usedTab >> (t << 3)) & 0xff
			x >>= u & 63
			posA += uint(u)
			t = y & 7
			db[j] = tt.base + ((y>>(tt.shift[t]&63))&tt.mask[t])*tt.g
			u = (tt.usedTab >> (t << 3)) & 0xff
			y >>= u & 63
			posB += uint(u)
		}
	}
	return i, posA, posB
}
