package store

// scanUints finds the values of an integer stream of n values that lie in
// [lo, hi] and appends their positions to pos, without storing the
// values: the comparison is made on the codes (value = base + gcd ×
// code), so a lookup in an index's exceptions costs one pass over the
// bits. It checks the stream as readUints does.
func scanUints(src []byte, n int, lo, hi uint64, pos []int32) ([]int32, error) {
	h, _, err := readStreamHeader(src)
	if err != nil {
		return pos, err
	}
	base, g, tc, body := h.base, h.g, h.tc, h.body
	// codes [clo, chi] are the values [lo, hi]
	if hi < base || lo > hi {
		return pos, nil
	}
	var clo uint64
	if lo > base {
		clo = (lo-base)/g + min(1, (lo-base)%g)
	}
	chi := (hi - base) / g
	if clo > chi {
		return pos, nil
	}
	span := chi - clo
	if tc.n == 1 && tc.w[0] == 0 {
		if clo == 0 {
			for i := 0; i < n; i++ {
				pos = append(pos, int32(i))
			}
		}
		return pos, nil
	}
	tab, wide := tc.lookupTable()
	r := bitReader{data: body}
	switch {
	case tc.n == 1 && tc.w[0] <= 56:
		w, m := tc.w[0], uint64(1)<<tc.w[0]-1
		for i := 0; i < n; i++ {
			if (r.peek()&m)-clo <= span {
				pos = append(pos, int32(i))
			}
			r.pos += w
		}
	case !wide:
		// two codes per load when they fit in the 57 bits a load
		// guarantees, as readUints does
		i := 0
		for ; i+1 < n; i += 2 {
			x := r.peek()
			e := tab[x&7]
			c0 := (x >> e.shift) & e.mask
			y := x >> e.used
			f := tab[y&7]
			var c1 uint64
			if uint(e.used)+uint(f.used) <= 57 {
				c1 = (y >> f.shift) & f.mask
				r.pos += uint(e.used) + uint(f.used)
			} else {
				r.pos += uint(e.used)
				y = r.peek()
				f = tab[y&7]
				c1 = (y >> f.shift) & f.mask
				r.pos += uint(f.used)
			}
			if c0-clo <= span {
				pos = append(pos, int32(i))
			}
			if c1-clo <= span {
				pos = append(pos, int32(i+1))
			}
		}
		for ; i < n; i++ {
			x := r.peek()
			e := tab[x&7]
			if ((x>>e.shift)&e.mask)-clo <= span {
				pos = append(pos, int32(i))
			}
			r.pos += uint(e.used)
		}
	default:
		for i := 0; i < n; i++ {
			x := r.peek()
			e := tab[x&7]
			var c uint64
			if tc.n == 1 {
				c = r.read(tc.w[0])
			} else if e.used <= 57 {
				c = (x >> e.shift) & e.mask
				r.pos += uint(e.used)
			} else {
				r.pos += uint(e.shift)
				c = r.read(uint(e.used - e.shift))
			}
			if c-clo <= span {
				pos = append(pos, int32(i))
			}
		}
	}
	if r.pos > uint(len(body))*8 || r.overrun {
		return pos, errStream
	}
	return pos, nil
}
