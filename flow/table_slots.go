package flow

import "github.com/flowkit/flowkit/internal/pages"

// slotPages holds a shard's entries (and, for biflows, their reverse
// sides) by slot, in pages (see internal/pages): a table that grows adds a
// page and copies nothing.
type slotPages struct {
	entries pages.Pages[entry]
	rev     pages.Pages[revSide] // biflow only, parallel to entries
	used    int32                // slots handed out so far: the next never-used slot
}

// entry returns slot's entry.
func (sp *slotPages) entry(slot int32) *entry { return sp.entries.At(slot) }

// reverse returns slot's reverse side (biflow only).
func (sp *slotPages) reverse(slot int32) *revSide { return sp.rev.At(slot) }

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
	sp.used++
	sp.entries.Grow(int(sp.used), nil)
	if biflow {
		sp.rev.Grow(int(sp.used), nil)
	}
	return slot
}
