package flow

// The workers of a table with several shards. The caller's goroutine
// meters shard 0 and one goroutine per other shard meters the rest, all
// at the same time, and Add returns when all are done. Each shard reads
// the caller's batch in place, a chunk at a time: it notes each packet's
// time, hash tag and owning shard in an array of its own (see route; 16
// bytes a packet, in the core's cache), then moves its clock through
// every packet's time, so that its flows end exactly as in a one-shard
// table, and meters the packets it owns (see addRouted). Nothing is
// copied or queued per packet: a second shard costs one more hash per
// packet and two hand-overs per chunk. (Splitting the hashing between
// the shards, with one array of notes for all, measured no faster: it
// needs a second hand-over per chunk, and each core then reads the other
// core's notes.)
//
// A hand-over (see handoff) spins for a while before it sleeps: a chunk
// takes tens of microseconds, and waking a sleeping goroutine takes about
// as long. Between calls the workers sleep, so the caller may read the
// shards (Stats) without a barrier. Sink calls from the shards are
// serialized by the table's mutex, which also guards the first sink error.

import (
	"runtime"
	"sync/atomic"
)

type jobKind uint8

const (
	jobAdd     jobKind = iota // meter the shard's packets of a chunk
	jobAdvance                // advance the clock to now
	jobFlush                  // end every flow (EndForced)
	jobStop                   // leave
)

type workers struct {
	t     *Table
	start []handoff // one per worker goroutine (shards 1..n-1): a job is ready
	done  handoff   // the workers' count of finished jobs
	ended uint64    // finished jobs the caller has waited for
	// The job; written by the caller before it posts start, read by the
	// workers after they see the post.
	kind  jobKind
	pkts  []Packet
	notes [][]packetRoute // per shard: the notes of pkts (see route)
	now   int64
}

// routeChunk is the most packets metered in one job: their notes (16
// bytes each) stay in the core's cache.
const routeChunk = 8192

// newWorkers starts one goroutine for each shard but the first.
func newWorkers(t *Table) *workers {
	w := &workers{t: t, start: make([]handoff, len(t.shards)-1)}
	w.done.init()
	for range t.shards {
		w.notes = append(w.notes, make([]packetRoute, routeChunk))
	}
	for i := range w.start {
		w.start[i].init()
		go w.work(t.shards[i+1], &w.start[i])
	}
	return w
}

// work runs shard s's jobs until jobStop.
func (w *workers) work(s *shard, start *handoff) {
	for gen := uint64(1); ; gen++ {
		start.wait(gen)
		kind := w.kind
		if kind == jobStop {
			w.done.post()
			return
		}
		w.apply(s, kind)
		w.done.post()
	}
}

// apply runs the current job on shard s.
func (w *workers) apply(s *shard, kind jobKind) {
	switch kind {
	case jobAdd:
		rt := w.notes[s.id][:len(w.pkts)]
		route(w.pkts, rt, len(w.t.shards))
		s.addRouted(w.pkts, rt)
	case jobAdvance:
		s.advance(w.now)
	case jobFlush:
		s.endAll(EndForced)
	}
}

// add meters pkts on every shard, a chunk at a time.
func (w *workers) add(pkts []Packet) {
	for len(pkts) > 0 {
		chunk := pkts[:min(len(pkts), routeChunk)]
		pkts = pkts[len(chunk):]
		w.run(jobAdd, chunk, 0)
	}
}

// run runs a job on every shard, shard 0 on the caller's goroutine, and
// returns when all are done.
func (w *workers) run(kind jobKind, pkts []Packet, now int64) {
	w.kind, w.pkts, w.now = kind, pkts, now
	for i := range w.start {
		w.start[i].post()
	}
	if kind != jobStop {
		w.apply(w.t.shards[0], kind)
	}
	w.ended += uint64(len(w.start))
	w.done.wait(w.ended)
	w.pkts = nil
}

// handoff is a counter that one goroutine waits on while others add to
// it: the waiter spins for a while, yielding its core to other goroutines
// now and then, and then sleeps until a post wakes it.
type handoff struct {
	n        atomic.Uint64
	sleeping atomic.Bool
	wake     chan struct{}
}

// handoffSpins is how many times wait checks the counter before it sleeps
// (tens of microseconds).
const handoffSpins = 1 << 14

func (h *handoff) init() { h.wake = make(chan struct{}, 1) }

// post adds one to the counter and wakes the waiter if it sleeps.
func (h *handoff) post() {
	h.n.Add(1)
	if h.sleeping.Load() && h.sleeping.CompareAndSwap(true, false) {
		h.wake <- struct{}{}
	}
}

// wait returns once the counter has reached target. One goroutine waits
// on a handoff at a time.
func (h *handoff) wait(target uint64) {
	for spin := 0; ; spin++ {
		if h.n.Load() >= target {
			return
		}
		if spin < handoffSpins {
			if spin%1024 == 1023 {
				runtime.Gosched()
			}
			continue
		}
		h.sleeping.Store(true)
		if h.n.Load() >= target {
			// A post may have seen the flag and sent a wake-up: take it,
			// so that it does not end a later sleep early.
			if !h.sleeping.CompareAndSwap(true, false) {
				<-h.wake
			}
			return
		}
		<-h.wake
	}
}
