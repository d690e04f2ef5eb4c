package flow

import (
	"math"
	"slices"
	"unsafe"

	"github.com/flowkit/flowkit/internal/prefetch"
)

// How the shards of a table with several workers share a batch (see
// workers): each shard routes one part of a sub-chunk, noting for every
// packet of the part which shard owns it, and then each shard meters its
// own packets of the sub-chunk from the notes of all parts. Every packet
// is hashed once, by one core, and a shard reads only its own packets'
// notes.
//
// A shard's clock must pass through the same values as in a table of one
// shard, where it moves to every packet's time: a flow ends at the first
// clock value at which it has expired, and which of its timeouts applies
// depends on that value (closing, idle, active: the first that holds
// there). The parts keep every packet's clock (run), and a shard whose
// next own packet lies past its deadline finds there, by binary search,
// the clock values at which its flows end (see tickNoted): once per
// ended flow at most. A packet of another shard costs it nothing else.

// routeNote is what a shard notes of one packet of its part for the
// packet's owner: 16 bytes.
type routeNote struct {
	// clock is the latest packet time of the part up to this packet: the
	// owner's clock before metering the packet is the later of it and the
	// latest time of the parts before (see addNoted).
	clock int64
	idx   uint32 // the packet's index in the batch
	tag   uint32 // low half of the key's symmetric hash (see flowIndex)
}

// partNotes is what one shard noted of its part of a sub-chunk.
type partNotes struct {
	byOwner [][]routeNote // per owning shard, in packet order
	run     []int64       // per packet of the part: the latest time up to it (nondecreasing)
	latest  int64         // the latest packet time of the part; MinInt64 when empty
	_       cacheLinePad  // written by one core, read by the others
}

// newPartNotes returns notes for a table of n shards.
func newPartNotes(n int) partNotes {
	pn := partNotes{byOwner: make([][]routeNote, n), run: make([]int64, 0, routeChunk/n+1)}
	for i := range pn.byOwner {
		// A part of routeChunk/n packets gives each owner about 1/n of
		// them; append grows a list that gets more. (Sized for the
		// worst case, the lists of 256 workers would take a gigabyte.)
		pn.byOwner[i] = make([]routeNote, 0, routeChunk/n/n*5/4+8)
	}
	return pn
}

// route notes the packets of pkts[lo:hi] (indexes in pkts) for their
// owners among n shards.
func (pn *partNotes) route(pkts []Packet, lo, hi, n int) {
	for i := range pn.byOwner {
		pn.byOwner[i] = pn.byOwner[i][:0]
	}
	latest := int64(math.MinInt64)
	pn.run = slices.Grow(pn.run[:0], hi-lo)[:hi-lo]
	for i := lo; i < hi; i++ {
		p := &pkts[i]
		h := symmetricHash(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.VLAN, p.Protocol)
		latest = max(latest, p.Time)
		pn.run[i-lo] = latest
		o := &pn.byOwner[shardOf(h, n)]
		*o = append(*o, routeNote{clock: latest, idx: uint32(i), tag: uint32(h)})
	}
	pn.latest = latest
}

// addNoted meters this shard's packets of a sub-chunk from the notes of
// its parts, in order, and moves its clock to the latest time of the
// sub-chunk.
func (s *shard) addNoted(pkts []Packet, parts []partNotes) {
	clock := s.clock
	for j := range parts {
		clock = s.meterNotes(pkts, parts, parts[j].byOwner[s.id], clock)
		clock = s.tickNoted(clock, parts[j].latest, parts)
	}
	s.clock = clock
}

// tickNoted is tick for a shard that meters from notes: it returns the
// clock moved to t (if later), having ended what expired on the way at
// the clock values of the sub-chunk's packets (parts), as a table of one
// shard would have: nothing expires before the deadline, so it moves
// the clock to the first packet clock at or after the deadline, ends
// what expired there, and repeats while the new deadline is not later
// than t.
func (s *shard) tickNoted(clock, t int64, parts []partNotes) int64 {
	for t > clock && t >= s.deadline {
		v := min(firstClock(parts, max(s.deadline, clock+1)), t)
		clock = v
		s.expire(v)
	}
	return max(clock, t)
}

// firstClock returns the first packet clock of parts that is at least d,
// or MaxInt64 if there is none.
func firstClock(parts []partNotes, d int64) int64 {
	for k := range parts {
		if p := &parts[k]; p.latest >= d {
			// The clock of the parts before is below d, so the
			// packets' clocks here are their part's run values.
			i, _ := slices.BinarySearch(p.run, d)
			return p.run[i]
		}
	}
	return math.MaxInt64
}

// meterNotes meters the packets of notes, which parts noted, in groups
// looked up ahead (see pipeline), and returns the clock.
func (s *shard) meterNotes(pkts []Packet, parts []partNotes, notes []routeNote, clock int64) int64 {
	pl := &s.pl
	for pl.start((len(notes) + prefetchGroup - 1) / prefetchGroup); pl.next(); {
		if g, tags, ok := pl.hashing(); ok {
			grp := notes[g*prefetchGroup : min((g+1)*prefetchGroup, len(notes))]
			var addrs [prefetchGroup]uintptr
			for i := range grp {
				tags[i] = grp[i].tag
				addrs[i] = uintptr(unsafe.Pointer(&pkts[grp[i].idx])) // the packets too
			}
			prefetch.Lines(addrs[:len(grp)])
			pl.hashed(len(grp))
		}
		s.lookAhead()
		if g, tags, cands, ok := pl.updating(); ok {
			grp := notes[g*prefetchGroup:][:len(tags)]
			for i := range grp {
				n := &grp[i]
				clock = s.tickNoted(clock, n.clock, parts)
				s.update(&pkts[n.idx], n.tag, cands[i], clock)
			}
		}
	}
	return clock
}
