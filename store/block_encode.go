package store

import (
	"encoding/binary"
	"hash/crc32"
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
	bw      bitWriter
	lz      lz4.Compressor
	// NoCompress disables lz4 (for tests and measurements).
	noCompress bool
}

type sortKey struct {
	start int64
	idx   int32
}

// radixSort sorts keys by start, stably (so equal starts keep their input
// order), with LSD radix passes of 11 bits over start minus the minimum;
// tmp is scratch of the same length.
func radixSort(keys, tmp []sortKey) {
	mn, mx := keys[0].start, keys[0].start
	for _, k := range keys {
		mn = min(mn, k.start)
		mx = max(mx, k.start)
	}
	span := uint64(mx - mn)
	src, dst := keys, tmp
	for shift := uint(0); shift < 64 && span>>shift != 0; shift += 11 {
		var count [2048]int
		for _, k := range src {
			count[(uint64(k.start-mn)>>shift)&2047]++
		}
		pos := 0
		for i, c := range count {
			count[i] = pos
			pos += c
		}
		for _, k := range src {
			d := (uint64(k.start-mn) >> shift) & 2047
			dst[count[d]] = k
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
}

// encode appends the chunks of a block holding recs (1..MaxBlockRows
// records) to e.out and returns its info (Offset left zero).
func (e *blockEncoder) encode(recs []flow.Record) BlockInfo {
	n := len(recs)
	keys := grow(e.keys, n)
	e.keys = keys
	sorted := true
	for i := range recs {
		keys[i] = sortKey{recs[i].Start, int32(i)}
		if i > 0 && recs[i].Start < recs[i-1].Start {
			sorted = false
		}
	}
	if !sorted {
		e.tmpKeys = grow(e.tmpKeys, n)
		radixSort(keys, e.tmpKeys)
	}
	// one pass of random reads puts the rows in order; every column
	// below then reads the records sequentially
	rs := recs
	if !sorted {
		rs = grow(e.sorted, n)
		e.sorted = rs
		for i, k := range keys {
			rs[i] = recs[k.idx]
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
	info.MinEnd, info.MaxEnd = rs[0].End, rs[0].End
	for i := range rs {
		end := rs[i].End
		info.MinEnd = min(info.MinEnd, end)
		info.MaxEnd = max(info.MaxEnd, end)
	}

	for c := Column(0); int(c) < NumColumns; c++ {
		raw := e.raw[:0]
		m := &info.chunks[c]
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
			raw = appendUints(raw, u, &e.bw)
		case ColEnd:
			raw = e.appendDurations(raw, rs)
		case ColRevStartOffset:
			for i := range rs {
				u[i] = zigzag(int64(rs[i].RevStartOffset))
			}
			raw = appendUints(raw, u, &e.bw)
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
			m.minA, m.maxA = addrMinMax(addrs)
			raw = e.pe.appendAddrPostings(raw, addrs)
			m.bitmapBytes = uint32(e.pe.bitmapBytes)
		case ColBytes, ColRevBytes:
			for i := range rs {
				r := &rs[i]
				p, b := r.Packets, r.Bytes
				if c == ColRevBytes {
					p, b = r.RevPackets, r.RevBytes
				}
				var q uint64
				if p > 0 {
					q = b / p
				}
				u[i] = q
				u2[i] = b - q*p
				if i == 0 || b < m.min {
					m.min = b
				}
				m.max = max(m.max, b)
			}
			raw = appendUints(raw, u, &e.bw)
			raw = appendUints(raw, u2, &e.bw)
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
				raw = appendUints(raw, u, &e.bw)
			}
		}
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
