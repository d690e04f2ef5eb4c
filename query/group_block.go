package query

import (
	"math"
	"math/bits"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// AddMatch counts the selected rows of a store block, as AddBatch would
// count them as records. For the common shapes (one port, protocol, sensor,
// VLAN, application or address key, no distinct counts) it reads the column
// vectors directly and never builds a record; other specs go row by row
// through a record it keeps. The block must have been read with the key
// columns; of Start, End, Packets and Bytes it may leave out those whose
// values the caller will not look at (their aggregates stay zero, or the
// initial extremes for Start and End).
func (g *Grouper) AddMatch(m *BlockMatch) {
	c := m.Cols
	if c == nil || m.Count == 0 {
		return
	}
	if len(g.spec.Keys) == 1 && len(g.spec.Distinct) == 0 {
		switch f := g.spec.Keys[0]; {
		case f == DstPort && c.Mask&(1<<store.ColDstPort) != 0:
			addSmallKeys(g, m, c.DstPort, 2)
			return
		case f == SrcPort && c.Mask&(1<<store.ColSrcPort) != 0:
			addSmallKeys(g, m, c.SrcPort, 2)
			return
		case f == Protocol && c.Mask&(1<<store.ColProtocol) != 0:
			addSmallKeys(g, m, c.Protocol, 1)
			return
		case f == SrcAddr && c.Mask&(1<<store.ColSrc) != 0:
			g.addAddrKeys(m, c.Src)
			return
		case f == DstAddr && c.Mask&(1<<store.ColDst) != 0:
			g.addAddrKeys(m, c.Dst)
			return
		}
	}
	for wi, w := range m.Rows {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			c.Record(i, &g.rec)
			g.Add(&g.rec)
		}
	}
}

// addSmallKeys groups by a one- or two-byte column through the dense table
// (width is the key's bytes: a one-byte key sits in the table's high byte,
// as putField writes it).
func addSmallKeys[T uint8 | uint16](g *Grouper, m *BlockMatch, keys []T, width int) {
	c, t := m.Cols, g.tab.(*denseTable)
	shift := 0
	if width == 1 {
		shift = 8
	}
	for wi, w := range m.Rows {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			v := uint16(keys[i]) << shift
			id := t.ids[v]
			if id < 0 {
				id = int32(len(t.keys))
				t.ids[v] = id
				t.keys = append(t.keys, v)
				g.aggs = append(g.aggs, Aggregate{Start: math.MaxInt64, End: math.MinInt64})
			}
			g.aggs[id].addRow(c, i)
		}
	}
}

// addAddrKeys groups by an address column.
func (g *Grouper) addAddrKeys(m *BlockMatch, addrs []flow.Addr) {
	c := m.Cols
	var k [MaxKeyBytes]byte
	for wi, w := range m.Rows {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			copy(k[:16], addrs[i][:])
			id, isNew := g.tab.index(&k)
			if isNew {
				g.aggs = append(g.aggs, Aggregate{Start: math.MaxInt64, End: math.MinInt64})
			}
			g.aggs[id].addRow(c, i)
		}
	}
}

// addRow adds row i of c to the aggregate, as Grouper.Add adds a record,
// for the value columns c holds.
func (a *Aggregate) addRow(c *store.Columns, i int) {
	a.Flows++
	m := c.Mask
	if m&(1<<store.ColPackets) != 0 {
		a.Packets += c.Packets[i]
	}
	if m&(1<<store.ColBytes) != 0 {
		a.Bytes += c.Bytes[i]
	}
	if m&(1<<store.ColStart) != 0 {
		a.Start = min(a.Start, c.Start[i])
	}
	if m&(1<<store.ColEnd) != 0 {
		a.End = max(a.End, c.End[i])
	}
}
