package timeouts

import (
	"math"
	"unsafe"

	"github.com/flowkit/flowkit/internal/pages"
	"github.com/flowkit/flowkit/internal/prefetch"
)

// Tracker keeps, for the flows of one table (or one shard of it), what is
// needed to find expired flows in O(1): each flow's start and last-seen
// times in two ordered lists and the closing flows in a FIFO. Flows are
// named by int32 slot numbers (the caller's entry indexes). The caller
// numbers new slots itself (call Grow before using one) and takes a slot
// back for reuse only from Free: a removed flow's slot becomes free at
// once, or, if the flow was closing, once its entry has left the closing
// FIFO, so that no entry there can name a later flow of the same slot.
//
// A Tracker is not safe for concurrent use; a sharded table has one per
// shard.
type Tracker struct {
	idle, active, grace int64 // ns
	// The last-seen order changes at every packet: its list is flat. The
	// others change once or twice a flow: they are paged, which saves the
	// spare room a flat array keeps.
	lru     list // by last-seen time (End)
	start   list // by first-seen time (Start)
	closing fifo // by closing time
	// closed has a bit per slot, set from MarkClosing until the slot's
	// entry leaves the closing FIFO (see Free).
	closed pages.Pages[uint64]
	free   []int32 // slots free for reuse
	// The trackers of a sharded table are used on different cores, and
	// the list heads change at every packet: padding keeps the next
	// object in memory off this one's cache lines.
	_ [64]byte
}

// NewTracker returns an empty Tracker for cfg, or cfg's validation error.
func NewTracker(cfg Config) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Tracker{idle: int64(cfg.Idle), active: int64(cfg.Active), grace: int64(cfg.Grace),
		lru: newList(false), start: newList(true)}, nil
}

// Grow makes room for slot numbers [0, n). It grows in steps of its own
// choosing (pages, or an eighth of a flat array), so calling it for each
// new slot number is cheap.
func (t *Tracker) Grow(n int) {
	t.lru.grow(n)
	t.start.grow(n)
	t.closed.Grow((n+63)/64, nil)
}

// closedWord returns the word of the closed bitmap that holds slot's bit,
// and the bit.
func (t *Tracker) closedWord(slot int32) (*uint64, uint64) {
	return t.closed.At(slot >> 6), 1 << (slot & 63)
}

// Len returns the number of tracked flows.
func (t *Tracker) Len() int { return t.lru.n }

// Insert starts tracking slot as a new flow whose first packet came at
// time at (ns).
func (t *Tracker) Insert(slot int32, at int64) {
	t.lru.insert(slot, at)
	t.start.insert(slot, at)
}

// Seen records a packet of slot's flow at time at. The last-seen time only
// moves forward (a late, reordered packet keeps it).
func (t *Tracker) Seen(slot int32, at int64) { t.lru.touch(slot, at) }

// PrefetchNodes starts loading what Seen reads first for each of slots:
// its node in the last-seen order. A caller that knows the slots of its
// next packets calls it, then PrefetchNeighbors once the nodes are in,
// then Seen: the cache misses of many packets then overlap. Negative
// slots are skipped; it changes nothing and does not wait for memory.
func (t *Tracker) PrefetchNodes(slots []int32) {
	var addrs [prefetchBatch]uintptr
	n := 0
	for _, s := range slots {
		if s < 0 || int(s) >= len(t.lru.flat) {
			continue
		}
		addrs[n] = uintptr(unsafe.Pointer(&t.lru.flat[s]))
		if n++; n == len(addrs) {
			prefetch.Lines(addrs[:n])
			n = 0
		}
	}
	prefetch.Lines(addrs[:n])
}

// PrefetchNeighbors starts loading the rest of what Seen reads and writes
// for each of slots: its neighbours in the last-seen order, which the move
// to the tail relinks. It reads the slots' own nodes (see PrefetchNodes).
func (t *Tracker) PrefetchNeighbors(slots []int32) {
	var addrs [prefetchBatch]uintptr
	n := 0
	nodes := t.lru.flat
	for _, s := range slots {
		if s < 0 || int(s) >= len(nodes) {
			continue
		}
		nd := &nodes[s]
		for _, nb := range [2]int32{nd.prev, nd.next} {
			if nb >= 0 && int(nb) < len(nodes) {
				addrs[n] = uintptr(unsafe.Pointer(&nodes[nb]))
				n++
			}
		}
		if n >= len(addrs)-1 {
			prefetch.Lines(addrs[:n])
			n = 0
		}
	}
	prefetch.Lines(addrs[:n])
}

// prefetchBatch is how many addresses the prefetch methods collect before
// they issue them.
const prefetchBatch = 32

// Start returns the time of slot's first packet.
func (t *Tracker) Start(slot int32) int64 { return t.start.node(slot).at }

// End returns the time of slot's last packet (the latest timestamp).
func (t *Tracker) End(slot int32) int64 { return t.lru.node(slot).at }

// unmarkClosing clears slot's closing mark: its entry has left the
// closing FIFO.
func (t *Tracker) unmarkClosing(slot int32) {
	w, bit := t.closedWord(slot)
	*w &^= bit
}

// Closing reports whether slot's flow has been marked closing.
func (t *Tracker) Closing(slot int32) bool {
	w, bit := t.closedWord(slot)
	return *w&bit != 0
}

// MarkClosing marks slot's flow closing at time c (the table passes its
// clock, which never goes back, so the FIFO stays ordered). Marking a flow
// that is already closing does nothing: the first mark counts.
func (t *Tracker) MarkClosing(slot int32, c int64) {
	w, bit := t.closedWord(slot)
	if *w&bit != 0 {
		return
	}
	*w |= bit
	t.closing.push(closing{slot: slot, at: c})
}

// Remove stops tracking slot (after it expired or was ended otherwise).
// Free hands the slot out again: at once, or, for a flow that was marked
// closing and ended otherwise, once its closing entry has left the FIFO.
func (t *Tracker) Remove(slot int32) {
	t.lru.remove(slot)
	t.start.remove(slot)
	if !t.Closing(slot) {
		t.free = append(t.free, slot)
	}
}

// Free returns a slot number that may be used again for a new flow (the
// one removed last), or ok=false when there is none: the caller then
// numbers a new slot.
func (t *Tracker) Free() (slot int32, ok bool) {
	n := len(t.free)
	if n == 0 {
		return noSlot, false
	}
	slot = t.free[n-1]
	t.free = t.free[:n-1]
	return slot, true
}

// closingHead returns the first entry of the closing FIFO that is a
// tracked flow's, or nil. It drops the entries before it, of flows that
// ended otherwise, and frees their slots.
func (t *Tracker) closingHead() *closing {
	for t.closing.size > 0 {
		c := t.closing.front()
		if t.lru.node(c.slot).prev != notLinked {
			return c
		}
		t.unmarkClosing(c.slot)
		t.free = append(t.free, c.slot)
		t.closing.pop()
	}
	return nil
}

// Expired returns a flow that has expired at clock now and why, or
// ok=false when none has. The caller ends that flow and calls Remove before
// asking again; repeated calls drain every expired flow. Each call costs
// O(1) plus the stale closing entries it discards.
func (t *Tracker) Expired(now int64) (slot int32, r Reason, ok bool) {
	// Closing flows first: their FIFO is ordered by closing time, so once
	// its head has not expired no closing flow has, and the checks below
	// need not consider the closing rule.
	if c := t.closingHead(); c != nil && now-c.at > t.grace {
		s := c.slot
		t.closing.pop()
		t.unmarkClosing(s) // so that Remove frees the slot
		return s, EndOfFlow, true
	}
	if s := t.lru.head; s != noSlot && now-t.lru.node(s).at > t.idle {
		return s, Idle, true
	}
	if s := t.start.head; s != noSlot && now-t.start.node(s).at >= t.active {
		if now-t.lru.node(s).at > t.idle {
			return s, Idle, true
		}
		return s, Active, true
	}
	return noSlot, None, false
}

// Deadline returns the earliest clock at which Expired will return a flow
// (math.MaxInt64 when no flow is tracked): Expired(now) reports a flow
// exactly when now >= Deadline(), as long as the Tracker does not change
// in between. A sharded table uses it to skip clock values at which none
// of its flows can end. It discards stale closing entries.
func (t *Tracker) Deadline() int64 {
	d := int64(math.MaxInt64)
	if c := t.closingHead(); c != nil {
		d = addSat(c.at, t.grace+1)
	}
	if s := t.lru.head; s != noSlot {
		d = min(d, addSat(t.lru.node(s).at, t.idle+1))
	}
	if s := t.start.head; s != noSlot {
		d = min(d, addSat(t.start.node(s).at, t.active))
	}
	return d
}

// addSat returns a+b (b > 0), or math.MaxInt64 when that overflows.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Oldest returns the least recently seen flow (smallest End), the one to
// evict when the table is full, or ok=false when there is none.
func (t *Tracker) Oldest() (slot int32, ok bool) {
	return t.lru.head, t.lru.head != noSlot
}

// Each calls fn for every tracked flow, least recently seen first, until fn
// returns false. fn must not change the Tracker.
func (t *Tracker) Each(fn func(slot int32) bool) {
	for s := t.lru.head; s != noSlot; s = t.lru.node(s).next {
		if !fn(s) {
			return
		}
	}
}
