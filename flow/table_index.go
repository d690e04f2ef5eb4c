package flow

import (
	"encoding/binary"
	"math/bits"
)

// flowIndex maps flow keys to entry slots: open addressing with linear
// probing over one []uint32 (no pointers, so the garbage collector never
// scans it), 4 bytes a cell. With 2^bits cells, a cell holds slot+1 in its
// low bits (a table never has more slots than 3/4 of its cells, so they
// fit) and, above them, the low 32-bits bits of the key's 32-bit hash (the
// tag); 0 marks an empty cell. The probe starts at the tag's top bits, so
// the stored tag bits are independent of the position and filter out
// almost every non-matching cell without touching its entry. Growing and
// deleting, which must find a cell's home, rehash the key of its entry
// (slotPages.tag): rarer than lookups by far, and cheaper than 8 more
// bytes in every entry.
type flowIndex struct {
	cells []uint32
	bits  uint   // log2(len(cells))
	mask  uint32 // len(cells) - 1: the slot+1 part of a cell
	n     int
}

const minIndexBits = 8

func newFlowIndex() flowIndex {
	return flowIndex{cells: make([]uint32, 1<<minIndexBits), bits: minIndexBits, mask: 1<<minIndexBits - 1}
}

// cellOf packs tag's low bits and slot into a cell.
func (x *flowIndex) cellOf(tag uint32, slot int32) uint32 { return tag<<x.bits | uint32(slot+1) }

// tagMatches reports whether cell c may hold a key whose hash tag is tag.
func (x *flowIndex) tagMatches(c, tag uint32) bool { return c&^x.mask == tag<<x.bits }

// cellSlot returns the entry slot that cell c points to.
func (x *flowIndex) cellSlot(c uint32) int32 { return int32(c&x.mask) - 1 }

// home returns the first cell to probe for tag.
func (x *flowIndex) home(tag uint32) uint32 { return uint32(uint64(tag) >> (32 - x.bits)) }

// insert adds slot under tag; the key must not be present. slots gives
// the tags of the cells already present when the index must grow.
func (x *flowIndex) insert(tag uint32, slot int32, slots *slotPages) {
	if (x.n+1)*4 > len(x.cells)*3 {
		x.grow(slots)
	}
	i := x.home(tag)
	for x.cells[i] != 0 {
		i = (i + 1) & x.mask
	}
	x.cells[i] = x.cellOf(tag, slot)
	x.n++
}

// remove deletes the cell of slot (stored under tag) with backward-shift
// deletion, so no tombstones slow later probes.
func (x *flowIndex) remove(tag uint32, slot int32, slots *slotPages) {
	want := x.cellOf(tag, slot)
	i := x.home(tag)
	for x.cells[i] != want {
		i = (i + 1) & x.mask
	}
	j := i
	for {
		j = (j + 1) & x.mask
		c := x.cells[j]
		if c == 0 {
			break
		}
		k := x.home(slots.tag(x.cellSlot(c)))
		// c stays when its home lies cyclically in (i, j].
		if i <= j {
			if i < k && k <= j {
				continue
			}
		} else if i < k || k <= j {
			continue
		}
		x.cells[i] = c
		i = j
	}
	x.cells[i] = 0
	x.n--
}

func (x *flowIndex) grow(slots *slotPages) {
	old, oldMask := x.cells, x.mask
	x.bits++
	x.cells = make([]uint32, 1<<x.bits)
	x.mask = 1<<x.bits - 1
	for _, c := range old {
		if c != 0 {
			slot := int32(c&oldMask) - 1
			tag := slots.tag(slot)
			i := x.home(tag)
			for x.cells[i] != 0 {
				i = (i + 1) & x.mask
			}
			x.cells[i] = x.cellOf(tag, slot)
		}
	}
}

// symmetricHash hashes a 5-tuple plus VLAN so that both directions of a
// conversation hash alike: both directions of a TCP session then land in
// the same shard and the same probe sequence (which makes the reverse
// lookup for FIN/RST handling cheap). It orders the two endpoints
// canonically, the smaller (address words, then port) first, without a
// branch: which endpoint is smaller is as good as random per packet, and
// a mispredicted branch costs more than the whole comparison.
func symmetricHash(src, dst *Addr, sport, dport, vlan uint16, proto uint8) uint64 {
	le := binary.LittleEndian
	a0, a1 := le.Uint64(src[0:8]), le.Uint64(src[8:16])
	b0, b1 := le.Uint64(dst[0:8]), le.Uint64(dst[8:16])
	ap, bp := uint64(sport), uint64(dport)
	// (b0, b1, bp) - (a0, a1, ap) borrows exactly when the source
	// endpoint is the larger: then swap = all ones and the XORs swap.
	_, borrow := bits.Sub64(bp, ap, 0)
	_, borrow = bits.Sub64(b1, a1, borrow)
	_, borrow = bits.Sub64(b0, a0, borrow)
	swap := -borrow
	x0, x1, xp := (a0^b0)&swap, (a1^b1)&swap, (ap^bp)&swap
	a0, a1, ap, b0, b1, bp = a0^x0, a1^x1, ap^xp, b0^x0, b1^x1, bp^xp
	h := mix(a0^0x9e3779b97f4a7c15, a1^0xd6e8feb86659fd93)
	h = mix(h^b0, b1^0xa0761d6478bd642f)
	tail := ap | bp<<16 | uint64(vlan)<<32 | uint64(proto)<<48
	return mix(h^tail, 0xe7037ed1a0b428db)
}
