package flow

import (
	"unsafe"

	"github.com/flowkit/flowkit/internal/prefetch"
)

// A shard meters its packets in groups of prefetchGroup, through a
// pipeline of lookups ahead: a table of 100 k flows is larger than the
// core's caches, and one packet's lookup waits for memory three times, one
// after the other (its index cell, then the entry and last-seen node the
// cell points to, then that node's neighbours, which the move to the tail
// of the last-seen list relinks). So while group g is updated, group g+1's
// neighbours, group g+2's entries and nodes and group g+3's index cells
// are on their way (prefetch instructions, which do not wait), and each
// group finds in cache what it needs. The lookups ahead are only hints:
// update checks the candidate slot it is given (see find), so flows that
// were created or ended in between do no harm.
//
// Group g, for g = 0, 1, ...:
//
//	step g:   hash group g, prefetch its index cells
//	step g+1: probe its cells for candidate slots, prefetch entries, nodes
//	step g+2: prefetch the candidates' neighbours
//	step g+3: update group g
const (
	prefetchGroup = 16
	pipeDepth     = 4 // groups in the pipeline: one per step above
)

// lookAheadFlows is the shard size (flows) from which it looks ahead:
// below it, about 100 bytes a flow fit in a core's 2 MB L2 cache, and the
// lookups ahead would cost more than they save. A variable so that tests
// can run the pipeline on small tables.
var lookAheadFlows = 1 << 14

// pipeline holds the groups in flight, their tags and candidate slots.
// A shard's metering loop drives it:
//
//	for pl.start(groups); pl.next(); {
//		if g, tags, ok := pl.hashing(); ok { ...; pl.hashed(n) }
//		s.lookAhead()
//		if g, tags, cands, ok := pl.updating(); ok { ... }
//	}
//
// (the loop is the caller's, so that its per-packet work needs no call
// through a function value).
type pipeline struct {
	tags        [pipeDepth][prefetchGroup]uint32
	cands       [pipeDepth][prefetchGroup]int32
	n           [pipeDepth]int
	step, total int
}

// start begins a run over groups groups.
func (pl *pipeline) start(groups int) { pl.step, pl.total = -1, groups }

// next moves to the next step and reports whether there is one.
func (pl *pipeline) next() bool {
	pl.step++
	return pl.step < pl.total+pipeDepth-1
}

// hashing returns the group that enters the pipeline at this step and
// where its tags go, or ok=false when all have entered.
func (pl *pipeline) hashing() (g int, tags *[prefetchGroup]uint32, ok bool) {
	if pl.step >= pl.total {
		return 0, nil, false
	}
	return pl.step, &pl.tags[pl.step%pipeDepth], true
}

// hashed records that the group entering has n packets.
func (pl *pipeline) hashed(n int) { pl.n[pl.step%pipeDepth] = n }

// stage returns the tags and candidates of the group that entered back
// steps ago, or ok=false if there is none.
func (pl *pipeline) stage(back int) (tags []uint32, cands []int32, g int, ok bool) {
	g = pl.step - back
	if g < 0 || g >= pl.total {
		return nil, nil, 0, false
	}
	k := g % pipeDepth
	return pl.tags[k][:pl.n[k]], pl.cands[k][:pl.n[k]], g, true
}

// updating returns the group to update at this step, or ok=false.
func (pl *pipeline) updating() (g int, tags []uint32, cands []int32, ok bool) {
	tags, cands, g, ok = pl.stage(pipeDepth - 1)
	return g, tags, cands, ok
}

// lookAhead does this step's lookups ahead: the index cells of the group
// that entered, the candidates, entries and nodes of the one before, the
// neighbours of the one before that.
func (s *shard) lookAhead() {
	pl := &s.pl
	if s.tr.Len() < lookAheadFlows {
		// The table stays in the core's caches: looking ahead would
		// cost more than it saves, and update looks each packet up.
		if _, cands, _, ok := pl.stage(1); ok {
			for i := range cands {
				cands[i] = -1
			}
		}
		return
	}
	if tags, _, _, ok := pl.stage(0); ok {
		s.prefetchCells(tags)
	}
	if tags, cands, _, ok := pl.stage(1); ok {
		s.findCandidates(tags, cands)
	}
	if _, cands, _, ok := pl.stage(2); ok {
		s.tr.PrefetchNeighbors(cands)
	}
}

// prefetchCells starts loading each tag's home index cell.
func (s *shard) prefetchCells(tags []uint32) {
	x := &s.idx
	var addrs [prefetchGroup]uintptr
	for i, tag := range tags {
		addrs[i] = uintptr(unsafe.Pointer(&x.cells[x.home(tag)]))
	}
	prefetch.Lines(addrs[:len(tags)])
}

// findCandidates notes in cands, per tag, the slot of the first index
// cell with that tag (almost always the packet's flow; its home cell often
// belongs to another) or -1, and starts loading those entries (both ends:
// an entry may span two cache lines) and their last-seen nodes.
func (s *shard) findCandidates(tags []uint32, cands []int32) {
	x := &s.idx
	var addrs [2 * prefetchGroup]uintptr
	n := 0
	for k, tag := range tags {
		cands[k] = -1
		for i := x.home(tag); ; i = (i + 1) & x.mask {
			c := x.cells[i]
			if c == 0 {
				break
			}
			if x.tagMatches(c, tag) {
				sl := x.cellSlot(c)
				e := s.slots.entry(sl)
				addrs[n], addrs[n+1] = uintptr(unsafe.Pointer(&e.key)), uintptr(unsafe.Pointer(&e.pf))
				n += 2
				cands[k] = sl
				break
			}
		}
	}
	prefetch.Lines(addrs[:n])
	s.tr.PrefetchNodes(cands)
}
