package flow

// slotPages holds a shard's entries (and, for biflows, their reverse
// sides) in pages of slotPageSize slots. A table that grows adds a page
// and copies nothing: growing one array would copy every entry (a pause of
// tens of milliseconds at a million flows, in which a live capture's ring
// fills) and keep up to an eighth of it as spare capacity.
type slotPages struct {
	entries []*[slotPageSize]entry
	rev     []*[slotPageSize]revSide // biflow only, parallel to entries
	used    int32                    // slots handed out so far: the next never-used slot
}

// slotPageBits sets the page size: 1024 slots, 64 KiB of entries.
const (
	slotPageBits = 10
	slotPageSize = 1 << slotPageBits
	slotPageMask = slotPageSize - 1
)

// entry returns slot's entry.
func (sp *slotPages) entry(slot int32) *entry {
	return &sp.entries[slot>>slotPageBits][slot&slotPageMask]
}

// reverse returns slot's reverse side (biflow only).
func (sp *slotPages) reverse(slot int32) *revSide {
	return &sp.rev[slot>>slotPageBits][slot&slotPageMask]
}

// tag returns the hash tag of slot's entry, recomputed from its key: the
// index needs it only to move or delete a cell, far less often than an
// entry is looked up, and keeping it would take 8 bytes an entry (with
// alignment).
func (sp *slotPages) tag(slot int32) uint32 {
	k := &sp.entry(slot).key
	return uint32(symmetricHash(&k.src, &k.dst, k.sport, k.dport, k.vlan, k.proto))
}

// next returns a never-used slot, adding a page when all are used.
func (sp *slotPages) next(biflow bool) int32 {
	slot := sp.used
	if int(slot) == len(sp.entries)*slotPageSize {
		sp.entries = append(sp.entries, new([slotPageSize]entry))
		if biflow {
			sp.rev = append(sp.rev, new([slotPageSize]revSide))
		}
	}
	sp.used++
	return slot
}
