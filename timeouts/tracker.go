package timeouts

import "math"

// Tracker keeps, for the flows of one table (or one shard of it), what is
// needed to find expired flows in O(1): each flow's start and last-seen
// times in two ordered lists and the closing flows in a FIFO. Flows are
// named by int32 slot numbers that the caller allocates (its entry
// indexes); call Grow before using a new slot number.
//
// A Tracker is not safe for concurrent use; a sharded table has one per
// shard.
type Tracker struct {
	idle, active, grace int64 // ns
	lru                 list  // by last-seen time (End)
	start               list  // by first-seen time (Start)
	closing             fifo  // by closing time
	// gen counts each slot's reuses (low 31 bits) and marks a closing
	// flow (closedBit), one word per slot instead of two slices.
	gen []uint32
	// The trackers of a sharded table are used on different cores, and
	// the list heads change at every packet: padding keeps the next
	// object in memory off this one's cache lines.
	_ [64]byte
}

// closedBit is the bit of a gen word that says the flow is closing.
const closedBit = 1 << 31

// NewTracker returns an empty Tracker for cfg, or cfg's validation error.
func NewTracker(cfg Config) (*Tracker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Tracker{idle: int64(cfg.Idle), active: int64(cfg.Active), grace: int64(cfg.Grace),
		lru: newList(), start: newList()}, nil
}

// Grow makes room for slot numbers [0, n). It allocates exactly n slots
// (no spare capacity: the caller decides how fast to grow), so a caller
// should grow in steps, not one slot at a time.
func (t *Tracker) Grow(n int) {
	if n <= len(t.gen) {
		return
	}
	t.lru.grow(n)
	t.start.grow(n)
	gen := make([]uint32, n)
	copy(gen, t.gen)
	t.gen = gen
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

// Prefetch loads what Seen will read and write for each of slots: their
// neighbours in the last-seen order, which the move to the tail relinks.
// A caller that knows the slots of its next few packets calls it so that
// the cache misses overlap; it changes nothing, and the result only keeps
// the loads from being optimized away.
func (t *Tracker) Prefetch(slots []int32) uint32 {
	var sum uint32
	nodes := t.lru.nodes
	for _, s := range slots {
		nd := &nodes[s]
		if nd.prev >= 0 {
			sum += uint32(nodes[nd.prev].next)
		}
		if nd.next >= 0 {
			sum += uint32(nodes[nd.next].prev)
		}
	}
	return sum
}

// Start returns the time of slot's first packet.
func (t *Tracker) Start(slot int32) int64 { return t.start.nodes[slot].at }

// End returns the time of slot's last packet (the latest timestamp).
func (t *Tracker) End(slot int32) int64 { return t.lru.nodes[slot].at }

// Closing reports whether slot has been marked closing.
func (t *Tracker) Closing(slot int32) bool { return t.gen[slot]&closedBit != 0 }

// MarkClosing marks slot's flow closing at time c (the table passes its
// clock, which never goes back, so the FIFO stays ordered). Marking a flow
// that is already closing does nothing: the first mark counts.
func (t *Tracker) MarkClosing(slot int32, c int64) {
	if t.gen[slot]&closedBit != 0 {
		return
	}
	t.gen[slot] |= closedBit
	t.closing.push(closing{slot: slot, gen: t.gen[slot], at: c})
}

// Remove stops tracking slot (after it expired or was ended otherwise).
// The slot number may then be reused with Insert.
func (t *Tracker) Remove(slot int32) {
	t.lru.remove(slot)
	t.start.remove(slot)
	t.gen[slot] = (t.gen[slot] + 1) &^ closedBit
}

// Expired returns a flow that has expired at clock now and why, or
// ok=false when none has. The caller ends that flow and calls Remove before
// asking again; repeated calls drain every expired flow. Each call costs
// O(1) plus the stale closing entries it discards.
func (t *Tracker) Expired(now int64) (slot int32, r Reason, ok bool) {
	// Closing flows first: their FIFO is ordered by closing time, so once
	// its head has not expired no closing flow has, and the checks below
	// need not consider the closing rule.
	for t.closing.size > 0 {
		c := t.closing.front()
		if t.gen[c.slot] != c.gen {
			t.closing.pop() // the flow ended otherwise
			continue
		}
		if now-c.at > t.grace {
			s := c.slot
			t.closing.pop()
			return s, EndOfFlow, true
		}
		break
	}
	if s := t.lru.head; s != noSlot && now-t.lru.nodes[s].at > t.idle {
		return s, Idle, true
	}
	if s := t.start.head; s != noSlot && now-t.start.nodes[s].at >= t.active {
		if now-t.lru.nodes[s].at > t.idle {
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
	for t.closing.size > 0 {
		c := t.closing.front()
		if t.gen[c.slot] != c.gen {
			t.closing.pop()
			continue
		}
		d = addSat(c.at, t.grace+1)
		break
	}
	if s := t.lru.head; s != noSlot {
		d = min(d, addSat(t.lru.nodes[s].at, t.idle+1))
	}
	if s := t.start.head; s != noSlot {
		d = min(d, addSat(t.start.nodes[s].at, t.active))
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
	for s := t.lru.head; s != noSlot; s = t.lru.nodes[s].next {
		if !fn(s) {
			return
		}
	}
}
