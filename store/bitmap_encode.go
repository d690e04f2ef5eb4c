package store

import "encoding/binary"

// roaringWriter writes the index bitmaps in roaring's portable
// serialization straight from the rows of each key, exactly as
// roaring.Bitmap's AddMany, RunOptimize and WriteTo write them: a
// roaring.Bitmap built every block cost about ten allocations per
// container and most of the bitmap time (see bitmap_encode_test.go, which
// checks the bytes against roaring's).
type roaringWriter struct {
	ctrs []roaringCtr
}

// roaringCtr describes one container: its key (high 16 bits), rows
// (sorted, distinct, the low 16 bits), number of runs and kind.
type roaringCtr struct {
	key  uint16
	rows []uint32
	runs int
	kind uint8
}

// Container kinds (the cookies and limits are in rawbitmap.go).
const (
	ctrArray = iota
	ctrBitmap
	ctrRun
)

// roaringBitmapCost is what roaring's RunOptimize counts for a bitmap
// container when it decides on runs: its 8 KiB of words plus its Go
// struct (an int and a slice header).
const roaringBitmapCost = 8192 + 32

// size returns the serialized bytes of the container.
func (c *roaringCtr) size() int {
	switch c.kind {
	case ctrRun:
		return 2 + 4*c.runs
	case ctrBitmap:
		return 8192
	}
	return 2 * len(c.rows)
}

// appendBitmap appends the serialized bitmap of key<<16|row for the rows
// of every key in keyRows (each sorted ascending, distinct, < 65536),
// preceded by its length as a uvarint, and returns dst and the bitmap's
// length.
func (w *roaringWriter) appendBitmap(dst []byte, keyRows [][]uint32) ([]byte, int) {
	ctrs := w.ctrs[:0]
	hasRun := false
	for k, rows := range keyRows {
		if len(rows) == 0 {
			continue
		}
		runs := 1
		for i := 1; i < len(rows); i++ {
			if rows[i] != rows[i-1]+1 {
				runs++
			}
		}
		c := roaringCtr{key: uint16(k), rows: rows, runs: runs, kind: ctrArray}
		switch {
		case 2+4*runs < min(roaringBitmapCost, 2*len(rows)):
			c.kind = ctrRun
			hasRun = true
		case len(rows) > roaringArrayMax:
			c.kind = ctrBitmap
		}
		ctrs = append(ctrs, c)
	}
	w.ctrs = ctrs
	n := len(ctrs)
	offsets := !hasRun || n >= roaringNoOffsetMax
	header := 8 + 4*n
	if hasRun {
		header = 4 + (n+7)/8 + 4*n
	}
	if offsets {
		header += 4 * n
	}
	size := header
	for i := range ctrs {
		size += ctrs[i].size()
	}
	dst = binary.AppendUvarint(dst, uint64(size))
	start := len(dst)
	if hasRun {
		dst = binary.LittleEndian.AppendUint16(dst, roaringCookieRuns)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(n-1))
		runBits := len(dst)
		dst = append(dst, make([]byte, (n+7)/8)...)
		for i := range ctrs {
			if ctrs[i].kind == ctrRun {
				dst[runBits+i/8] |= 1 << (i % 8)
			}
		}
	} else {
		dst = binary.LittleEndian.AppendUint32(dst, roaringCookieNoRuns)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(n))
	}
	for i := range ctrs {
		dst = binary.LittleEndian.AppendUint16(dst, ctrs[i].key)
		dst = binary.LittleEndian.AppendUint16(dst, uint16(len(ctrs[i].rows)-1))
	}
	if offsets {
		off := header
		for i := range ctrs {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(off))
			off += ctrs[i].size()
		}
	}
	for i := range ctrs {
		c := &ctrs[i]
		switch c.kind {
		case ctrArray:
			for _, r := range c.rows {
				dst = binary.LittleEndian.AppendUint16(dst, uint16(r))
			}
		case ctrBitmap:
			p := len(dst)
			dst = append(dst, make([]byte, 8192)...)
			words := dst[p : p+8192]
			for _, r := range c.rows {
				words[(r>>3)&8191] |= 1 << (r & 7)
			}
		default:
			dst = binary.LittleEndian.AppendUint16(dst, uint16(c.runs))
			rows := c.rows
			s := 0
			for j := 1; j <= len(rows); j++ {
				if j == len(rows) || rows[j] != rows[j-1]+1 {
					dst = binary.LittleEndian.AppendUint16(dst, uint16(rows[s]))
					dst = binary.LittleEndian.AppendUint16(dst, uint16(rows[j-1]-rows[s]))
					s = j
				}
			}
		}
	}
	return dst, len(dst) - start
}
