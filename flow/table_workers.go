package flow

// The workers of a table with several shards. The caller's goroutine
// meters shard 0 and one goroutine per other shard meters the rest, all
// at the same time, and Add returns when all are done. A batch is taken a
// sub-chunk of routeChunk packets at a time, in phases that overlap two
// sub-chunks: in phase k every shard routes its part of sub-chunk k (see
// partNotes.route: it hashes those packets and notes each for its owner)
// and meters its own packets of sub-chunk k-1 from the notes of every
// part (see shard.addNoted). So every packet is hashed once, by one core,
// and a shard reads only its own packets; nothing is copied or queued
// per packet, and a phase ends with one hand-over. Meter's batches are
// one sub-chunk: two phases, one routing and one metering. The clock of
// each shard passes through every packet clock at which one of its flows
// ends (see tickNoted), so the records equal those of a table of one
// shard. (Earlier designs, in which every shard hashed every packet of a
// batch to find its own and moved its clock through every packet's time,
// scaled to 1.2-1.3x on two cores; this one to 1.8-2x.)
//
// A hand-over (see handoff) spins for a while before it sleeps: a phase
// takes a few hundred microseconds, and waking a sleeping goroutine costs
// two system calls and the wait for a core (sleeping after tens of
// microseconds of spinning measured 20% slower). Between calls the
// workers sleep, so the caller may read the shards (Stats) without a
// barrier. Sink calls from the shards are serialized by the table's
// mutex, which also guards the first sink error.

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
	phase int // jobAdd: route sub-chunk phase, meter sub-chunk phase-1
	now   int64
	// notes[k%2][i] is what shard i noted of its part of sub-chunk k.
	notes [2][]partNotes
}

// routeChunk is the number of packets of a sub-chunk: one phase routes
// one and meters the one before. Its notes (16 bytes a packet) stay in
// the cores' caches.
const routeChunk = 8192

// newWorkers starts one goroutine for each shard but the first.
func newWorkers(t *Table) *workers {
	w := &workers{t: t, start: make([]handoff, len(t.shards)-1)}
	w.done.init()
	for k := range w.notes {
		for range t.shards {
			w.notes[k] = append(w.notes[k], newPartNotes(len(t.shards)))
		}
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
		n := len(w.t.shards)
		if lo := w.phase * routeChunk; lo < len(w.pkts) {
			hi := min(lo+routeChunk, len(w.pkts))
			w.notes[w.phase%2][s.id].route(w.pkts, lo+(hi-lo)*s.id/n, lo+(hi-lo)*(s.id+1)/n, n)
		}
		if w.phase > 0 {
			s.addNoted(w.pkts, w.notes[(w.phase-1)%2])
		}
	case jobAdvance:
		s.advance(w.now)
	case jobFlush:
		s.endAll(EndForced)
	}
}

// add meters pkts on every shard, in one phase per sub-chunk and one
// more.
func (w *workers) add(pkts []Packet) {
	for phase := 0; (phase-1)*routeChunk < len(pkts); phase++ {
		w.phase = phase
		w.run(jobAdd, pkts, 0)
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
// (a few hundred microseconds).
const handoffSpins = 1 << 18

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
