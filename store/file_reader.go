package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/flowkit/flowkit/flow"
	"github.com/pierrec/lz4/v4"
)

// ErrCorrupt is wrapped by every error about a damaged or malformed file.
var ErrCorrupt = errors.New("store: corrupt file")

// CorruptError says where a file is damaged. Block is -1 for the header,
// footer and trailer; Column is empty then.
type CorruptError struct {
	File   string
	Block  int
	Column string
	Offset int64 // file offset of the damaged part
	Reason string
}

// Error implements error.
func (e *CorruptError) Error() string {
	if e.Block < 0 {
		return fmt.Sprintf("store: %s: corrupt at offset %d: %s", e.File, e.Offset, e.Reason)
	}
	return fmt.Sprintf("store: %s: block %d column %s (offset %d): %s", e.File, e.Block, e.Column, e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// readerAt is what a File reads from: a mapped file or a byte slice.
// Bytes returns all of it when it can (nil otherwise), so chunks are read
// in place.
type readerAt interface {
	io.ReaderAt
	Len() int
	Close() error
	Bytes() []byte
}

type bytesReaderAt struct {
	*bytes.Reader
	data []byte
}

func (bytesReaderAt) Close() error    { return nil }
func (b bytesReaderAt) Len() int      { return int(b.Size()) }
func (b bytesReaderAt) Bytes() []byte { return b.data }

// readAtBytes is io.ReaderAt over a byte slice.
func readAtBytes(data, p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(data)) {
		return 0, fmt.Errorf("read at offset %d of %d bytes", off, len(data))
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// File is an open store file, mapped read-only. Its methods are safe for
// concurrent use, so blocks may be read in parallel.
type File struct {
	path    string
	r       readerAt
	data    []byte // r.Bytes(): chunks are read in place when not nil
	version int
	blocks  []BlockInfo
	rows    int64
}

// decoders and columnsPool keep decode scratch and column vectors across
// files and scans, so reading allocates only while buffers grow.
var (
	decoders    sync.Pool // *blockDecoder
	columnsPool sync.Pool // *Columns
)

// OpenFile maps the file at path and checks its header, trailer and
// footer. Column chunks are checked when read.
func OpenFile(path string) (*File, error) {
	m, err := openMapped(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f, err := openReader(path, m)
	if err != nil {
		m.Close()
		return nil, err
	}
	return f, nil
}

// OpenBytes reads a store file held in memory; name is used in errors.
func OpenBytes(name string, data []byte) (*File, error) {
	return openReader(name, bytesReaderAt{bytes.NewReader(data), data})
}

func openReader(name string, r readerAt) (*File, error) {
	f := &File{path: name, r: r, data: r.Bytes()}
	bad := func(off int64, format string, args ...any) error {
		return &CorruptError{File: name, Block: -1, Offset: off, Reason: fmt.Sprintf(format, args...)}
	}
	size := int64(r.Len())
	if size < headerSize+trailerSize {
		return nil, bad(0, "file of %d bytes is shorter than header and trailer", size)
	}
	var h [headerSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	if string(h[:8]) != headerMagic {
		return nil, bad(0, "not a flowkit store file (magic %q)", h[:8])
	}
	if crc32.Checksum(h[:12], castagnoli) != binary.LittleEndian.Uint32(h[12:]) {
		return nil, bad(0, "header checksum mismatch")
	}
	f.version = int(binary.LittleEndian.Uint16(h[8:]))
	if (f.version != Version && f.version != 1) || binary.LittleEndian.Uint16(h[10:]) != 0 {
		return nil, bad(8, "unsupported version %d flags %d", f.version, binary.LittleEndian.Uint16(h[10:]))
	}
	var t [trailerSize]byte
	if _, err := r.ReadAt(t[:], size-trailerSize); err != nil {
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	if string(t[8:]) != footerMagic {
		return nil, bad(size-8, "trailer magic missing (file truncated or not closed)")
	}
	flen := int64(binary.LittleEndian.Uint32(t[0:]))
	footerOff := size - trailerSize - flen
	if flen == 0 || footerOff < headerSize {
		return nil, bad(size-trailerSize, "footer length %d does not fit the file", flen)
	}
	footer := make([]byte, flen)
	if _, err := r.ReadAt(footer, footerOff); err != nil {
		return nil, fmt.Errorf("store: %s: %w", name, err)
	}
	if crc32.Checksum(footer, castagnoli) != binary.LittleEndian.Uint32(t[4:]) {
		return nil, bad(footerOff, "footer checksum mismatch")
	}
	blocks, err := parseFooter(footer, footerOff)
	if err != nil {
		return nil, bad(footerOff, "%v", err)
	}
	f.blocks = blocks
	for i := range blocks {
		f.rows += int64(blocks[i].Rows)
	}
	return f, nil
}

func parseFooter(src []byte, footerOff int64) ([]BlockInfo, error) {
	p := src
	uv := func() uint64 {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			p = nil
			return 0
		}
		p = p[n:]
		return v
	}
	ncol := uv()
	if ncol != uint64(NumColumns) {
		return nil, fmt.Errorf("footer lists %d columns, version %d has %d", ncol, Version, NumColumns)
	}
	nb := uv()
	if nb > uint64(len(src)) {
		return nil, fmt.Errorf("footer lists %d blocks", nb)
	}
	blocks := make([]BlockInfo, nb)
	next := int64(headerSize)
	for i := range blocks {
		b := &blocks[i]
		b.Offset = int64(uv())
		rows := uv()
		b.MinStart = unzigzag(uv())
		b.MaxStart = unzigzag(uv())
		b.MinEnd = unzigzag(uv())
		b.MaxEnd = unzigzag(uv())
		if p == nil || rows == 0 || rows > MaxBlockRows || b.Offset != next {
			return nil, fmt.Errorf("block %d: bad entry (rows %d, offset %d, want offset %d)", i, rows, b.Offset, next)
		}
		b.Rows = int(rows)
		for c := Column(0); int(c) < NumColumns; c++ {
			m := &b.chunks[c]
			if len(p) < 1 {
				return nil, fmt.Errorf("block %d column %s: footer truncated", i, c)
			}
			m.comp = p[0]
			p = p[1:]
			stored, raw, bm := uv(), uv(), uv()
			if p == nil || len(p) < 4 || m.comp > compLZ4 || stored > 1<<31 || raw > 1<<31 || bm > raw ||
				(m.comp == compNone && stored != raw) {
				return nil, fmt.Errorf("block %d column %s: bad chunk entry", i, c)
			}
			m.stored, m.raw, m.bitmapBytes = uint32(stored), uint32(raw), uint32(bm)
			m.crc = binary.LittleEndian.Uint32(p)
			p = p[4:]
			if c.IsAddr() {
				if len(p) < 1 {
					return nil, fmt.Errorf("block %d column %s: footer truncated", i, c)
				}
				w := int(p[0])
				p = p[1:]
				switch {
				case w == 4 && len(p) >= 8:
					m.minA = flow.AddrFromUint32(binary.BigEndian.Uint32(p))
					m.maxA = flow.AddrFromUint32(binary.BigEndian.Uint32(p[4:]))
				case w == 16 && len(p) >= 32:
					m.minA, m.maxA = flow.Addr(p[:16]), flow.Addr(p[16:32])
				default:
					return nil, fmt.Errorf("block %d column %s: bad address zone map", i, c)
				}
				p = p[2*w:]
			} else {
				m.min, m.max = uv(), uv()
				if p == nil {
					return nil, fmt.Errorf("block %d column %s: footer truncated", i, c)
				}
			}
			b.Size += int64(stored)
		}
		next = b.Offset + b.Size
		if next > footerOff {
			return nil, fmt.Errorf("block %d: chunks run past the footer", i)
		}
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%d stray bytes after the block list", len(p))
	}
	if next != footerOff {
		return nil, fmt.Errorf("%d bytes between the last block and the footer", footerOff-next)
	}
	return blocks, nil
}

// Path returns the name the file was opened with.
func (f *File) Path() string { return f.path }

// Close unmaps the file. Bitmaps and Columns already returned stay valid.
func (f *File) Close() error { return f.r.Close() }

// NumBlocks returns the number of blocks.
func (f *File) NumBlocks() int { return len(f.blocks) }

// Block returns the info and zone maps of block i.
func (f *File) Block(i int) *BlockInfo { return &f.blocks[i] }

// Version returns the format version of the file (1 or [Version]).
func (f *File) Version() int { return f.version }

// Rows returns the number of records in the file.
func (f *File) Rows() int64 { return f.rows }

// Size returns the file size in bytes.
func (f *File) Size() int64 { return int64(f.r.Len()) }

// blockDecoder holds scratch buffers for decoding one block.
type blockDecoder struct {
	ix     Index
	stored []byte
	raw    []byte
	u2     []uint64
	p16    []uint16 // posted values of a 16-bit indexed column
	e16    []uint16 // its exceptions
	p8     []uint8  // posted values of an 8-bit indexed column
	e8     []uint8  // its exceptions
	pf, ef []flow.TCPFlags
	a32    []uint32 // an IPv4 column's rows as numbers
	p32    []uint32 // its posted addresses
	e32    []uint32 // its exceptions
}

func (f *File) decoder() *blockDecoder {
	if d, ok := decoders.Get().(*blockDecoder); ok {
		return d
	}
	return &blockDecoder{}
}

func getColumns() *Columns {
	if c, ok := columnsPool.Get().(*Columns); ok {
		return c
	}
	return &Columns{}
}

func (f *File) corrupt(b int, c Column, reason string) error {
	off := f.blocks[b].Offset
	for k := Column(0); k < c; k++ {
		off += int64(f.blocks[b].chunks[k].stored)
	}
	return &CorruptError{File: f.path, Block: b, Column: c.String(), Offset: off, Reason: reason}
}

// stored returns the stored bytes of column c of block b, checked
// against their CRC: in place in the mapping when the file has one,
// else read into d.stored.
func (f *File) stored(d *blockDecoder, b int, c Column) ([]byte, error) {
	info := &f.blocks[b]
	m := &info.chunks[c]
	off := info.Offset
	for k := Column(0); k < c; k++ {
		off += int64(info.chunks[k].stored)
	}
	var st []byte
	if f.data != nil {
		// parseFooter checked that every chunk lies before the footer
		if mf, ok := f.r.(*mappedFile); ok {
			mf.populate(off, int64(m.stored))
		}
		st = f.data[off : off+int64(m.stored) : off+int64(m.stored)]
	} else {
		d.stored = grow(d.stored, int(m.stored))
		if _, err := f.r.ReadAt(d.stored, off); err != nil {
			return nil, fmt.Errorf("store: %s: block %d column %s: %w", f.path, b, c, err)
		}
		st = d.stored
	}
	if crc32.Checksum(st, castagnoli) != m.crc {
		return nil, f.corrupt(b, c, "checksum mismatch")
	}
	return st, nil
}

// chunkTo returns column c of block b, decompressed into buf (grown as
// needed, and returned as the second result for reuse) or, when stored
// raw, possibly in place in the file's mapping: read-only, and valid only
// until Close.
func (f *File) chunkTo(d *blockDecoder, b int, c Column, buf []byte) (raw, bufOut []byte, err error) {
	st, err := f.stored(d, b, c)
	if err != nil {
		return nil, buf, err
	}
	m := &f.blocks[b].chunks[c]
	if m.comp == compNone {
		if f.data != nil {
			return st, buf, nil
		}
		buf = append(buf[:0], st...)
		return buf, buf, nil
	}
	buf = grow(buf, int(m.raw))
	n, err := lz4.UncompressBlock(st, buf)
	if err != nil || n != len(buf) {
		return nil, buf, f.corrupt(b, c, "lz4 data does not decompress to the recorded size")
	}
	return buf, buf, nil
}

// chunk reads, checks and decompresses column c of block b. The result
// is a new slice when own is set; otherwise it lives in d.raw or in the
// file's mapping (read-only, valid until Close).
func (f *File) chunk(d *blockDecoder, b int, c Column, own bool) ([]byte, error) {
	if own {
		raw, _, err := f.chunkTo(d, b, c, nil)
		if err != nil {
			return nil, err
		}
		if f.data != nil && f.blocks[b].chunks[c].comp == compNone {
			raw = bytes.Clone(raw)
		}
		return raw, nil
	}
	raw, buf, err := f.chunkTo(d, b, c, d.raw)
	d.raw = buf
	return raw, err
}

// ReadIndex reads the index of an indexed column of block b into ix,
// reusing its buffers: the cheap way for a scan that looks up a few values
// per block. Only the dictionary and the bitmap layout are read now;
// exceptions are decoded by the first lookup that needs them, and damage
// found then is returned by the Mark methods as a [*CorruptError]. ix may
// refer to the file's mapping: it is valid until the file is closed or the
// next ReadIndex into it.
func (f *File) ReadIndex(b int, c Column, ix *Index) error {
	if b < 0 || b >= len(f.blocks) || !c.Indexed() {
		return fmt.Errorf("store: %s: no index for block %d column %s", f.path, b, c)
	}
	d := f.decoder()
	defer decoders.Put(d)
	ix.file = nil
	raw, buf, err := f.chunkTo(d, b, c, ix.buf)
	ix.buf = buf
	if err != nil {
		return err
	}
	if err := ix.parse(raw, c, f.blocks[b].Rows); err != nil {
		return f.corrupt(b, c, err.Error())
	}
	ix.file, ix.block = f, b
	return nil
}

// Index returns the index of an indexed column of block b.
func (f *File) Index(b int, c Column) (*Index, error) {
	if b < 0 || b >= len(f.blocks) || !c.Indexed() {
		return nil, fmt.Errorf("store: %s: no index for block %d column %s", f.path, b, c)
	}
	d := f.decoder()
	defer decoders.Put(d)
	raw, err := f.chunk(d, b, c, true)
	if err != nil {
		return nil, err
	}
	ix, err := parseIndex(raw, c, f.blocks[b].Rows)
	if err != nil {
		return nil, f.corrupt(b, c, err.Error())
	}
	return ix, nil
}

// ReadColumns decodes the columns of mask of block b into dst, reusing its
// vectors. Columns another one is stored relative to are decoded too
// (End needs Start and Packets, Bytes needs Packets, RevBytes needs
// RevPackets);
// dst.Mask says what was filled.
func (f *File) ReadColumns(b int, mask ColumnMask, dst *Columns) error {
	if b < 0 || b >= len(f.blocks) {
		return fmt.Errorf("store: %s: block %d out of range (%d blocks)", f.path, b, len(f.blocks))
	}
	mask &= AllColumns
	if mask.Has(ColEnd) {
		mask |= MaskOf(ColStart, ColPackets)
	}
	if mask.Has(ColBytes) {
		mask |= MaskOf(ColPackets)
	}
	if mask.Has(ColRevBytes) {
		mask |= MaskOf(ColRevPackets)
	}
	d := f.decoder()
	defer decoders.Put(d)
	n := f.blocks[b].Rows
	dst.Len = n
	dst.Mask = 0
	for _, c := range decodeOrder {
		if !mask.Has(c) {
			continue
		}
		raw, err := f.chunk(d, b, c, false)
		if err != nil {
			return err
		}
		if err := d.decodeColumn(raw, c, n, dst); err != nil {
			return f.corrupt(b, c, err.Error())
		}
	}
	dst.Mask = mask
	return nil
}

// decodeOrder decodes the columns others are stored relative to first.
var decodeOrder = func() []Column {
	order := []Column{ColStart, ColPackets, ColRevPackets}
	for c := Column(0); int(c) < NumColumns; c++ {
		if c != ColStart && c != ColPackets && c != ColRevPackets {
			order = append(order, c)
		}
	}
	return order
}()

var errRange = errors.New("value out of range for its field")

func (d *blockDecoder) decodeColumn(raw []byte, c Column, n int, dst *Columns) error {
	// what the vector held before; a constant chunk sets it again
	prev := dst.held[c]
	dst.held[c] = held{}
	switch c {
	case ColStart:
		base, k := binary.Uvarint(raw)
		if k <= 0 {
			return errStream
		}
		// the deltas decode in place, then one pass sums them
		st := grow(dst.Start, n)
		dst.Start = st
		if _, err := readUints(raw[k:], st); err != nil {
			return err
		}
		s := unzigzag(base)
		for i, v := range st {
			s += v
			st[i] = s
		}
		return nil
	case ColEnd:
		return d.readEnd(raw, n, dst)
	case ColRevStartOffset:
		if v, _, ok := constUints(raw); ok {
			fillHeld(&dst.RevStartOffset, unzigzag(v), v, 0, n, prev, &dst.held[c])
			return nil
		}
		ro := grow(dst.RevStartOffset, n)
		dst.RevStartOffset = ro
		if _, err := readUints(raw, ro); err != nil {
			return err
		}
		for i, v := range ro {
			ro[i] = unzigzag(uint64(v))
		}
		return nil
	case ColBytes, ColRevBytes:
		// packets are the column before bytes, revpackets before revbytes
		pk, out := dst.Packets, &dst.Bytes
		if c == ColRevBytes {
			pk, out = dst.RevPackets, &dst.RevBytes
		}
		*out = grow(*out, n)
		o := *out
		// q decodes into the output vector, which then becomes q·p + r
		q, rest, qConst := constUints(raw)
		if !qConst {
			var err error
			if rest, err = readUints(raw, o); err != nil {
				return err
			}
		}
		r, _, rConst := constUints(rest)
		var u2 []uint64
		if !rConst {
			u2 = grow(d.u2, n)
			d.u2 = u2
			if _, err := readUints(rest, u2); err != nil {
				return err
			}
		}
		switch {
		case qConst && rConst:
			if ph := dst.held[c-1]; ph.p != nil && ph.n >= n {
				// constant packets (held from this block): constant bytes
				fillHeld(out, q*ph.v+r, q*ph.v+r, 0, n, prev, &dst.held[c])
				return nil
			}
			for i := range o {
				o[i] = q*pk[i] + r
			}
		case rConst:
			for i := range o {
				o[i] = o[i]*pk[i] + r
			}
		case qConst:
			for i := range o {
				o[i] = q*pk[i] + u2[i]
			}
		default:
			for i := range o {
				o[i] = o[i]*pk[i] + u2[i]
			}
		}
		return nil
	}
	if c.Indexed() {
		return d.decodeIndexed(raw, c, n, dst, prev)
	}
	if v, _, ok := constUints(raw); ok {
		return fillConst(c, v, n, dst, prev)
	}
	switch c { // each column decodes straight into its vector
	case ColPackets:
		return readInto(raw, &dst.Packets, n)
	case ColRevPackets:
		return readInto(raw, &dst.RevPackets, n)
	case ColInput:
		return readInto(raw, &dst.Input, n)
	case ColOutput:
		return readInto(raw, &dst.Output, n)
	case ColSrcAS:
		return readInto(raw, &dst.SrcAS, n)
	case ColDstAS:
		return readInto(raw, &dst.DstAS, n)
	case ColVLAN:
		return readInto(raw, &dst.VLAN, n)
	case ColInitialFlags:
		return readInto(raw, &dst.InitialFlags, n)
	case ColSessionFlags:
		return readInto(raw, &dst.SessionFlags, n)
	case ColRevFlags:
		return readInto(raw, &dst.RevFlags, n)
	case ColRevInitialFlags:
		return readInto(raw, &dst.RevInitFlags, n)
	case ColRevSessionFlags:
		return readInto(raw, &dst.RevSessFlags, n)
	case ColEndReason:
		return readInto(raw, &dst.EndReason, n)
	case ColType:
		return readInto(raw, &dst.Type, n)
	}
	return fmt.Errorf("unknown column %d", c)
}

// readInto decodes an integer stream of n values into *dst, in the
// vector's own width.
func readInto[T streamValue](raw []byte, dst *[]T, n int) error {
	*dst = grow(*dst, n)
	_, err := readUints(raw, *dst)
	return err
}

// decodeIndexed decodes an indexed column. One that is a single value
// in the block (the default, no bitmap, no exception) is a fill, skipped
// when the vector still holds the value (prev).
func (d *blockDecoder) decodeIndexed(raw []byte, c Column, n int, dst *Columns, prev held) error {
	ix := &d.ix
	if err := ix.parse(raw, c, n); err != nil {
		return err
	}
	one := !ix.implicit && ix.rb.n == 0 && ix.excN == 0
	h := &dst.held[c]
	switch c {
	case ColSrc, ColDst, ColNextHop:
		col := &dst.NextHop
		switch c {
		case ColSrc:
			col = &dst.Src
		case ColDst:
			col = &dst.Dst
		}
		if one {
			a := ix.defAddr
			fillHeld(col, a, binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:]), n, prev, h)
			return nil
		}
		*col = grow(*col, n)
		if ix.kind == kindAddr4 {
			return d.fillAddrs4(ix, *col)
		}
		return ix.fillAddrs(*col)
	case ColProtocol:
		return fillIndexedSmall(ix, &dst.Protocol, n, &d.p8, &d.e8, one, prev, h)
	case ColFlags:
		return fillIndexedSmall(ix, &dst.Flags, n, &d.pf, &d.ef, one, prev, h)
	}
	var out *[]uint16
	switch c {
	case ColSrcPort:
		out = &dst.SrcPort
	case ColDstPort:
		out = &dst.DstPort
	case ColSensor:
		out = &dst.Sensor
	case ColApplication:
		out = &dst.Application
	default:
		return fmt.Errorf("unknown column %d", c)
	}
	return fillIndexedSmall(ix, out, n, &d.p16, &d.e16, one, prev, h)
}

// fillConst fills a plain numeric column with one value, unless its
// vector still holds it (prev).
func fillConst(c Column, v uint64, n int, dst *Columns, prev held) error {
	h := &dst.held[c]
	switch c {
	case ColPackets:
		return fill(&dst.Packets, v, n, prev, h)
	case ColRevPackets:
		return fill(&dst.RevPackets, v, n, prev, h)
	case ColInput:
		return fill(&dst.Input, v, n, prev, h)
	case ColOutput:
		return fill(&dst.Output, v, n, prev, h)
	case ColSrcAS:
		return fill(&dst.SrcAS, v, n, prev, h)
	case ColDstAS:
		return fill(&dst.DstAS, v, n, prev, h)
	case ColVLAN:
		return fill(&dst.VLAN, v, n, prev, h)
	case ColInitialFlags:
		return fill(&dst.InitialFlags, v, n, prev, h)
	case ColSessionFlags:
		return fill(&dst.SessionFlags, v, n, prev, h)
	case ColRevFlags:
		return fill(&dst.RevFlags, v, n, prev, h)
	case ColRevInitialFlags:
		return fill(&dst.RevInitFlags, v, n, prev, h)
	case ColRevSessionFlags:
		return fill(&dst.RevSessFlags, v, n, prev, h)
	case ColEndReason:
		return fill(&dst.EndReason, v, n, prev, h)
	case ColType:
		return fill(&dst.Type, v, n, prev, h)
	}
	return fmt.Errorf("unknown column %d", c)
}

func fill[T ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~int64](dst *[]T, v uint64, n int, prev held, h *held) error {
	if uint64(T(v)) != v {
		return errRange
	}
	fillHeld(dst, T(v), v, 0, n, prev, h)
	return nil
}

// setAll sets every element of s to v: memclr for zero, else by doubling
// copies (memmove speed instead of one store per element).
func setAll[T any](s []T, v T) {
	if len(s) == 0 {
		return
	}
	var zero T
	if any(v) == any(zero) {
		clear(s)
		return
	}
	s[0] = v
	for k := 1; k < len(s); k *= 2 {
		copy(s[k:], s[:k])
	}
}

// Reader reads the records of a file block by block; it implements
// [flow.Source]. Fields of columns outside its mask are zero.
type Reader struct {
	f     *File
	mask  ColumnMask
	block int
	row   int
	cols  Columns
	err   error
}

// NewReader returns a Reader of the columns in mask (AllColumns for whole
// records).
func (f *File) NewReader(mask ColumnMask) *Reader {
	return &Reader{f: f, mask: mask, block: -1}
}

// ReadBatch implements flow.Source.
func (r *Reader) ReadBatch(dst []flow.Record) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := 0
	for n < len(dst) {
		if r.block < 0 || r.row >= r.cols.Len {
			r.block++
			r.row = 0
			if r.block >= r.f.NumBlocks() {
				r.err = io.EOF
				break
			}
			if err := r.f.ReadColumns(r.block, r.mask, &r.cols); err != nil {
				r.err = err
				break
			}
		}
		for n < len(dst) && r.row < r.cols.Len {
			r.cols.Record(r.row, &dst[n])
			n++
			r.row++
		}
	}
	if n > 0 {
		return n, nil
	}
	return 0, r.err
}

// Records iterates over every record of the file, filling the columns of
// mask and reusing one Record. A read error stops the loop and is stored
// in *errp (errp may be nil).
func (f *File) Records(mask ColumnMask, errp *error) iter.Seq[flow.Record] {
	return func(yield func(flow.Record) bool) {
		cols := getColumns()
		defer columnsPool.Put(cols)
		var rec flow.Record
		for b := range f.blocks {
			if err := f.ReadColumns(b, mask, cols); err != nil {
				if errp != nil {
					*errp = err
				}
				return
			}
			for i := 0; i < cols.Len; i++ {
				cols.Record(i, &rec)
				if !yield(rec) {
					return
				}
			}
		}
	}
}

// Scan decodes the columns of mask of every block on workers goroutines
// (0 means GOMAXPROCS) and calls fn for each block with that worker's
// Columns, which fn must not keep. fn runs concurrently with itself. The
// first error (from a block or from fn) stops the scan and is returned.
func (f *File) Scan(mask ColumnMask, workers int, fn func(block int, cols *Columns) error) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(f.blocks))
	var next atomic.Int64
	var stop atomic.Bool
	var once sync.Once
	var first error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cols := getColumns()
			defer columnsPool.Put(cols)
			for !stop.Load() {
				b := int(next.Add(1) - 1)
				if b >= len(f.blocks) {
					return
				}
				err := f.ReadColumns(b, mask, cols)
				if err == nil {
					err = fn(b, cols)
				}
				if err != nil {
					once.Do(func() { first = err })
					stop.Store(true)
					return
				}
			}
		}()
	}
	wg.Wait()
	return first
}
