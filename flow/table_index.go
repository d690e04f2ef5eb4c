package flow

import "encoding/binary"

// flowIndex maps flow keys to entry slots: open addressing with linear
// probing over one []uint64 (no pointers, so the garbage collector never
// scans it). A cell holds the low 32 bits of the key's hash (the tag) and
// slot+1; 0 marks an empty cell. The probe starts at the tag's top bits, so
// growing and deleting never rehash a key, and the tag filters out almost
// every non-matching cell without touching its entry.
type flowIndex struct {
	cells []uint64
	shift uint   // 32 - log2(len(cells))
	mask  uint32 // len(cells) - 1
	n     int
}

const minIndexBits = 8

func newFlowIndex() flowIndex {
	return flowIndex{cells: make([]uint64, 1<<minIndexBits), shift: 32 - minIndexBits, mask: 1<<minIndexBits - 1}
}

func cellOf(tag uint32, slot int32) uint64 { return uint64(tag)<<32 | uint64(uint32(slot)+1) }
func cellSlot(c uint64) int32              { return int32(uint32(c)) - 1 }
func cellTag(c uint64) uint32              { return uint32(c >> 32) }

// home returns the first cell to probe for tag.
func (x *flowIndex) home(tag uint32) uint32 { return tag >> x.shift }

// insert adds slot under tag; the key must not be present.
func (x *flowIndex) insert(tag uint32, slot int32) {
	if (x.n+1)*4 > len(x.cells)*3 {
		x.grow()
	}
	i := x.home(tag)
	for x.cells[i] != 0 {
		i = (i + 1) & x.mask
	}
	x.cells[i] = cellOf(tag, slot)
	x.n++
}

// remove deletes the cell of slot (stored under tag) with backward-shift
// deletion, so no tombstones slow later probes.
func (x *flowIndex) remove(tag uint32, slot int32) {
	want := cellOf(tag, slot)
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
		k := x.home(cellTag(c))
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

func (x *flowIndex) grow() {
	old := x.cells
	bits := 32 - x.shift + 1
	x.cells = make([]uint64, 1<<bits)
	x.shift = 32 - bits
	x.mask = 1<<bits - 1
	for _, c := range old {
		if c != 0 {
			i := x.home(cellTag(c))
			for x.cells[i] != 0 {
				i = (i + 1) & x.mask
			}
			x.cells[i] = c
		}
	}
}

// symmetricHash hashes a 5-tuple plus VLAN so that both directions of a
// conversation hash alike: both directions of a TCP session then land in
// the same shard and the same probe sequence (which makes the reverse
// lookup for FIN/RST handling cheap). It orders the two endpoints
// canonically with word compares instead of a byte loop.
func symmetricHash(src, dst *Addr, sport, dport, vlan uint16, proto uint8) uint64 {
	le := binary.LittleEndian
	a0, a1 := le.Uint64(src[0:8]), le.Uint64(src[8:16])
	b0, b1 := le.Uint64(dst[0:8]), le.Uint64(dst[8:16])
	if a0 > b0 || a0 == b0 && (a1 > b1 || a1 == b1 && sport > dport) {
		a0, a1, b0, b1 = b0, b1, a0, a1
		sport, dport = dport, sport
	}
	h := mix(a0^0x9e3779b97f4a7c15, a1^0xd6e8feb86659fd93)
	h = mix(h^b0, b1^0xa0761d6478bd642f)
	tail := uint64(sport) | uint64(dport)<<16 | uint64(vlan)<<32 | uint64(proto)<<48
	return mix(h^tail, 0xe7037ed1a0b428db)
}
