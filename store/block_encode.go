package store

import (
	"encoding/binary"
	"hash/crc32"
	"math/bits"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/pierrec/lz4/v4"
)

// MaxBlockRows is the most rows a block holds: row numbers are 16 bits in
// the index bitmaps.
const MaxBlockRows = 1 << 16

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func durationOf(ns int64) time.Duration { return time.Duration(ns) }

func zigzag(v int64) uint64   { return uint64(v<<1) ^ uint64(v>>63) }
func unzigzag(u uint64) int64 { return int64(u>>1) ^ -int64(u&1) }

// Compression of a stored chunk.
const (
	compNone = 0
	compLZ4  = 1
)

// chunkMeta describes one column chunk of a block (footer entry).
type chunkMeta struct {
	comp        byte
	stored      uint32 // bytes in the file
	raw         uint32 // bytes after decompression
	bitmapBytes uint32 // roaring bitmap bytes inside (indexed columns)
	crc         uint32 // CRC32C of the stored bytes
	min, max    uint64 // zone map of numeric columns
	minA, maxA  flow.Addr
}

// BlockInfo describes one block of a file: where it is, how many rows, and
// its zone maps, which a planner uses to skip blocks without reading them.
type BlockInfo struct {
	Offset   int64 // file offset of the first chunk
	Size     int64 // bytes of all chunks
	Rows     int
	MinStart int64 // smallest Start (ns)
	MaxStart int64
	MinEnd   int64 // smallest End (ns)
	MaxEnd   int64
	chunks   [NumColumns]chunkMeta
}

// Range returns the zone map (smallest and largest value) of a numeric
// column other than ColStart, ColEnd and ColRevStartOffset, whose ranges
// are MinStart/MaxStart, MinEnd/MaxEnd and not kept respectively.
func (b *BlockInfo) Range(c Column) (lo, hi uint64) {
	return b.chunks[c].min, b.chunks[c].max
}

// AddrRange returns the smallest and largest address of an address column.
func (b *BlockInfo) AddrRange(c Column) (lo, hi flow.Addr) {
	return b.chunks[c].minA, b.chunks[c].maxA
}

// ColumnSize returns the stored and the uncompressed bytes of a column's
// chunk, and how many of the uncompressed bytes are roaring bitmaps.
func (b *BlockInfo) ColumnSize(c Column) (stored, raw, bitmap int) {
	m := &b.chunks[c]
	return int(m.stored), int(m.raw), int(m.bitmapBytes)
}

// blockEncoder turns up to MaxBlockRows records into a block's chunks. It
// keeps all its buffers between blocks.
type blockEncoder struct {
	keys    []sortKey
	tmpKeys []sortKey
	sorted  []flow.Record
	u       []uint64
	u2      []uint64
	addrs   []flow.Addr
	raw     []byte
	comp    []byte
	out     []byte
	pe      postingEncoder
	lz      lz4.Compressor
	// NoCompress disables lz4 (for tests and measurements).
	noCompress bool
}

type sortKey struct {
	start int64
	idx   int32
}

// perPacket returns b/p, or 0 when p is 0. A 32-bit division, when the
// values fit, is several times faster than a 64-bit one on many x86 cores.
func perPacket(b, p uint64) uint64 {
	switch {
	case p == 0:
		return 0
	case (b|p)>>32 == 0:
		return uint64(uint32(b) / uint32(p))
	}
	return b / p
}

// radixSort sorts keys by start, stably (so equal starts keep their input
// order), with LSD radix passes of at most 11 bits; tmp is scratch of the
// same length. It replaces each start by (start - min) / g, g the gcd of
// those differences (times of a coarser clock than ns, like the ms of
// most exporters, give fewer bits and fewer passes): the caller keeps
// only the order.
func radixSort(keys, tmp []sortKey) {
	mn, mx := keys[0].start, keys[0].start
	for _, k := range keys {
		mn = min(mn, k.start)
		mx = max(mx, k.start)
	}
	var a gcdAcc
	for _, k := range keys {
		if d := uint64(k.start - mn); !a.divides(d) {
			if a.add(d); a.g == 1 {
				break
			}
		}
	}
	if a.g == 0 {
		return // all equal: sorted
	}
	if a.g > 1 {
		for i := range keys {
			keys[i].start = int64((uint64(keys[i].start-mn) >> a.shift) * a.inv)
		}
	} else {
		for i := range keys {
			keys[i].start -= mn
		}
	}
	span := uint64(mx-mn) / a.g
	// as few passes as the span needs, of equal width
	passes := (bits.Len64(span) + 10) / 11
	width := uint((bits.Len64(span) + passes - 1) / passes)
	mask := uint64(1)<<width - 1
	src, dst := keys, tmp
	for shift := uint(0); span>>shift != 0; shift += width {
		var count [2048]int
		for _, k := range src {
			count[(uint64(k.start)>>shift)&mask]++
		}
		pos := 0
		for i, c := range count[:mask+1] {
			count[i] = pos
			pos += c
		}
		for _, k := range src {
			d := (uint64(k.start) >> shift) & mask
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// encode appends the chunks of a block holding the records of chunks
// (1..MaxBlockRows records in all; every chunk but the last holds
// 1<<shift records) to e.out and returns its info (Offset left zero).
func (e *blockEncoder) encode(chunks [][]flow.Record, shift uint) BlockInfo {
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	keys := grow(e.keys, n)
	e.keys = keys
	var acc rowAcc
	acc.start(&chunks[0][0])
	for i, c := range chunks {
		acc.scan(c, keys[i<<shift:], i<<shift)
	}
	scan := acc.result()
	sorted := scan.sorted
	if !sorted {
		e.tmpKeys = grow(e.tmpKeys, n)
		radixSort(keys, e.tmpKeys)
	}
	// one pass of random reads puts the rows in order; every column
	// below then reads the records sequentially
	var rs []flow.Record
	switch {
	case sorted && len(chunks) == 1:
		rs = chunks[0]
	case sorted:
		rs = grow(e.sorted, n)
		e.sorted = rs
		for i, c := range chunks {
			copy(rs[i<<shift:], c)
		}
	case len(chunks) == 1:
		rs = grow(e.sorted, n)
		e.sorted = rs
		recs := chunks[0]
		for i, k := range keys {
			rs[i] = recs[k.idx]
		}
	default:
		rs = grow(e.sorted, n)
		e.sorted = rs
		mask := int32(1)<<shift - 1
		for i, k := range keys {
			rs[i] = chunks[k.idx>>shift][k.idx&mask]
		}
	}
	info := BlockInfo{Rows: n}
	e.out = e.out[:0]
	u := grow(e.u, n)
	e.u = u
	u2 := grow(e.u2, n)
	e.u2 = u2
	addrs := grow(e.addrs, n)
	e.addrs = addrs

	info.MinStart = rs[0].Start
	info.MaxStart = rs[n-1].Start
	info.MinEnd, info.MaxEnd = scan.minEnd, scan.maxEnd
	same := scan.same
	for c := Column(0); int(c) < NumColumns; c++ {
		raw := e.raw[:0]
		m := &info.chunks[c]
		// every encoding of a constant column is independent of the row
		// count (a one-value stream, or an index whose default is the
		// value with nothing posted and no exceptions), so its chunk is
		// the encoding of one row: the same bytes without a pass over
		// the block
		rows := rs
		if same&(1<<c) != 0 {
			rows = rs[:1]
		}
		raw = e.appendColumn(raw, m, c, rows, &info)
		e.raw = raw
		m.raw = uint32(len(raw))
		stored := raw
		m.comp = compNone
		if !e.noCompress && len(raw) >= 64 {
			e.comp = grow(e.comp, lz4.CompressBlockBound(len(raw)))
			cn, err := e.lz.CompressBlock(raw, e.comp)
			if err == nil && cn > 0 && cn < len(raw)-len(raw)/32 {
				stored = e.comp[:cn]
				m.comp = compLZ4
			}
		}
		m.stored = uint32(len(stored))
		m.crc = crc32.Checksum(stored, castagnoli)
		e.out = append(e.out, stored...)
	}
	info.Size = int64(len(e.out))
	return info
}

// appendColumn appends the chunk of column c of the block rs.
func (e *blockEncoder) appendColumn(raw []byte, m *chunkMeta, c Column, rs []flow.Record, info *BlockInfo) []byte {
	u, u2, addrs := e.u[:len(rs)], e.u2[:len(rs)], e.addrs[:len(rs)]
	switch c {
	case ColStart:
		base := info.MinStart
		raw = binary.AppendUvarint(raw, zigzag(base))
		prev := base
		for i := range rs {
			s := rs[i].Start
			u[i] = uint64(s - prev)
			prev = s
		}
		raw = appendUints(raw, u)
	case ColEnd:
		raw = e.appendDurations(raw, rs)
	case ColRevStartOffset:
		for i := range rs {
			u[i] = zigzag(int64(rs[i].RevStartOffset))
		}
		raw = appendUints(raw, u)
	case ColSrc, ColDst, ColNextHop:
		for i := range rs {
			r := &rs[i]
			switch c {
			case ColSrc:
				addrs[i] = r.Src
			case ColDst:
				addrs[i] = r.Dst
			default:
				addrs[i] = r.NextHop
			}
		}
		raw = e.pe.appendAddrPostings(raw, addrs)
		m.minA, m.maxA = e.pe.minA, e.pe.maxA
		m.bitmapBytes = uint32(e.pe.bitmapBytes)
	case ColBytes, ColRevBytes:
		for i := range rs {
			r := &rs[i]
			p, b := r.Packets, r.Bytes
			if c == ColRevBytes {
				p, b = r.RevPackets, r.RevBytes
			}
			q := perPacket(b, p)
			u[i] = q
			u2[i] = b - q*p
			if i == 0 || b < m.min {
				m.min = b
			}
			m.max = max(m.max, b)
		}
		raw = appendUints(raw, u)
		raw = appendUints(raw, u2)
	default:
		gatherUints(u, rs, c)
		m.min, m.max = u[0], u[0]
		for _, v := range u {
			m.min = min(m.min, v)
			m.max = max(m.max, v)
		}
		if c.Indexed() {
			raw = e.pe.appendUintPostings(raw, u)
			m.bitmapBytes = uint32(e.pe.bitmapBytes)
		} else {
			raw = appendUints(raw, u)
		}
	}
	return raw
}

// rowScan is what one sequential pass over a block's records finds.
type rowScan struct {
	sorted         bool // by Start
	minEnd, maxEnd int64
	// same holds the columns whose value is the same in every row (many
	// exporters leave most fields zero): a constant column is encoded
	// from one row. ColStart and ColEnd are never in it.
	same ColumnMask
}

// rowAcc accumulates a rowScan over a block's records, chunk by chunk:
// per field, the bits in which some row differs from the first row.
type rowAcc struct {
	f                                        *flow.Record
	fw                                       [3]uint64
	nh0, nh1, sr0, sr1, ds0, ds1             uint64
	src, dst, nh, pk, by, rp, rb, ro, io, as uint64
	small                                    [3]uint64
	sorted                                   bool
	prev, minEnd, maxEnd                     int64
}

func (a *rowAcc) start(f *flow.Record) {
	*a = rowAcc{f: f, fw: packedSmall(f), sorted: true, prev: f.Start, minEnd: f.End, maxEnd: f.End}
	a.nh0, a.nh1 = binary.LittleEndian.Uint64(f.NextHop[:8]), binary.LittleEndian.Uint64(f.NextHop[8:])
	a.sr0, a.sr1 = binary.LittleEndian.Uint64(f.Src[:8]), binary.LittleEndian.Uint64(f.Src[8:])
	a.ds0, a.ds1 = binary.LittleEndian.Uint64(f.Dst[:8]), binary.LittleEndian.Uint64(f.Dst[8:])
}

// scan fills keys with each record's Start and index (from base) and
// takes the records in, in one pass over them.
func (a *rowAcc) scan(recs []flow.Record, keys []sortKey, base int) {
	f, fw := a.f, a.fw
	nh0, nh1, sr0, sr1, ds0, ds1 := a.nh0, a.nh1, a.sr0, a.sr1, a.ds0, a.ds1
	src, dst, nh, pk, by, rp, rb, ro, io, as := a.src, a.dst, a.nh, a.pk, a.by, a.rp, a.rb, a.ro, a.io, a.as
	small := a.small
	sorted, prev, minEnd, maxEnd := a.sorted, a.prev, a.minEnd, a.maxEnd
	keys = keys[:len(recs)]
	for i := range recs {
		r := &recs[i]
		keys[i] = sortKey{r.Start, int32(base + i)}
		sorted = sorted && r.Start >= prev
		prev = r.Start
		minEnd = min(minEnd, r.End)
		maxEnd = max(maxEnd, r.End)
		src |= binary.LittleEndian.Uint64(r.Src[:8]) ^ sr0 | binary.LittleEndian.Uint64(r.Src[8:]) ^ sr1
		dst |= binary.LittleEndian.Uint64(r.Dst[:8]) ^ ds0 | binary.LittleEndian.Uint64(r.Dst[8:]) ^ ds1
		nh |= binary.LittleEndian.Uint64(r.NextHop[:8]) ^ nh0 | binary.LittleEndian.Uint64(r.NextHop[8:]) ^ nh1
		pk |= r.Packets ^ f.Packets
		by |= r.Bytes ^ f.Bytes
		rp |= r.RevPackets ^ f.RevPackets
		rb |= r.RevBytes ^ f.RevBytes
		ro |= uint64(r.RevStartOffset ^ f.RevStartOffset)
		io |= uint64(r.Input^f.Input) | uint64(r.Output^f.Output)<<32
		as |= uint64(r.SrcAS^f.SrcAS) | uint64(r.DstAS^f.DstAS)<<32
		w := packedSmall(r)
		small[0] |= w[0] ^ fw[0]
		small[1] |= w[1] ^ fw[1]
		small[2] |= w[2] ^ fw[2]
	}
	a.src, a.dst, a.nh, a.pk, a.by, a.rp, a.rb, a.ro, a.io, a.as = src, dst, nh, pk, by, rp, rb, ro, io, as
	a.small = small
	a.sorted, a.prev, a.minEnd, a.maxEnd = sorted, prev, minEnd, maxEnd
}

// result returns the scan of every record taken in.
func (a *rowAcc) result() rowScan {
	src, dst, nh, pk, by, rp, rb, ro, io, as := a.src, a.dst, a.nh, a.pk, a.by, a.rp, a.rb, a.ro, a.io, a.as
	small := a.small
	var m ColumnMask
	set := func(c Column, diff uint64) {
		if diff == 0 {
			m |= 1 << c
		}
	}
	set(ColSrc, src)
	set(ColDst, dst)
	set(ColNextHop, nh)
	set(ColPackets, pk)
	set(ColBytes, pk|by)
	set(ColRevPackets, rp)
	set(ColRevBytes, rp|rb)
	set(ColRevStartOffset, ro)
	set(ColInput, io&0xffffffff)
	set(ColOutput, io>>32)
	set(ColSrcAS, as&0xffffffff)
	set(ColDstAS, as>>32)
	set(ColSrcPort, small[0]&0xffff)
	set(ColDstPort, small[0]>>16&0xffff)
	set(ColSensor, small[0]>>32&0xffff)
	set(ColVLAN, small[0]>>48)
	set(ColApplication, small[1]&0xffff)
	set(ColProtocol, small[1]>>16&0xff)
	set(ColFlags, small[1]>>24&0xff)
	set(ColInitialFlags, small[1]>>32&0xff)
	set(ColSessionFlags, small[1]>>40&0xff)
	set(ColRevFlags, small[1]>>48&0xff)
	set(ColRevInitialFlags, small[1]>>56)
	set(ColRevSessionFlags, small[2]&0xff)
	set(ColEndReason, small[2]>>8&0xff)
	set(ColType, small[2]>>16&0xff)
	return rowScan{sorted: a.sorted, minEnd: a.minEnd, maxEnd: a.maxEnd, same: m}
}

// packedSmall packs the 16- and 8-bit fields of r into three words.
func packedSmall(r *flow.Record) [3]uint64 {
	return [3]uint64{
		uint64(r.SrcPort) | uint64(r.DstPort)<<16 | uint64(r.Sensor)<<32 | uint64(r.VLAN)<<48,
		uint64(r.Application) | uint64(r.Protocol)<<16 | uint64(r.Flags)<<24 | uint64(r.InitialFlags)<<32 |
			uint64(r.SessionFlags)<<40 | uint64(r.RevFlags)<<48 | uint64(r.RevInitialFlags)<<56,
		uint64(r.RevSessionFlags) | uint64(r.EndReason)<<8 | uint64(r.Type)<<16,
	}
}

func addrMinMax(a []flow.Addr) (lo, hi flow.Addr) {
	lo, hi = a[0], a[0]
	for i := range a {
		if string(a[i][:]) < string(lo[:]) {
			lo = a[i]
		}
		if string(a[i][:]) > string(hi[:]) {
			hi = a[i]
		}
	}
	return lo, hi
}

// gatherUints copies a numeric field of the plain and indexed numeric
// columns into u, one tight loop per field.
func gatherUints(u []uint64, rs []flow.Record, c Column) {
	switch c {
	case ColPackets:
		for i := range rs {
			u[i] = uint64(rs[i].Packets)
		}
	case ColRevPackets:
		for i := range rs {
			u[i] = uint64(rs[i].RevPackets)
		}
	case ColInput:
		for i := range rs {
			u[i] = uint64(rs[i].Input)
		}
	case ColOutput:
		for i := range rs {
			u[i] = uint64(rs[i].Output)
		}
	case ColSrcAS:
		for i := range rs {
			u[i] = uint64(rs[i].SrcAS)
		}
	case ColDstAS:
		for i := range rs {
			u[i] = uint64(rs[i].DstAS)
		}
	case ColSrcPort:
		for i := range rs {
			u[i] = uint64(rs[i].SrcPort)
		}
	case ColDstPort:
		for i := range rs {
			u[i] = uint64(rs[i].DstPort)
		}
	case ColSensor:
		for i := range rs {
			u[i] = uint64(rs[i].Sensor)
		}
	case ColVLAN:
		for i := range rs {
			u[i] = uint64(rs[i].VLAN)
		}
	case ColApplication:
		for i := range rs {
			u[i] = uint64(rs[i].Application)
		}
	case ColProtocol:
		for i := range rs {
			u[i] = uint64(rs[i].Protocol)
		}
	case ColFlags:
		for i := range rs {
			u[i] = uint64(rs[i].Flags)
		}
	case ColInitialFlags:
		for i := range rs {
			u[i] = uint64(rs[i].InitialFlags)
		}
	case ColSessionFlags:
		for i := range rs {
			u[i] = uint64(rs[i].SessionFlags)
		}
	case ColRevFlags:
		for i := range rs {
			u[i] = uint64(rs[i].RevFlags)
		}
	case ColRevInitialFlags:
		for i := range rs {
			u[i] = uint64(rs[i].RevInitialFlags)
		}
	case ColRevSessionFlags:
		for i := range rs {
			u[i] = uint64(rs[i].RevSessionFlags)
		}
	case ColEndReason:
		for i := range rs {
			u[i] = uint64(rs[i].EndReason)
		}
	case ColType:
		for i := range rs {
			u[i] = uint64(rs[i].Type)
		}
	}
}
