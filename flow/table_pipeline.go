package flow

import (
	"sync"
	"sync/atomic"
)

// The pipeline of a table with several shards. The caller's goroutine
// (Add) only dispatches: it hashes each packet once, notes the values the
// clock takes during the batch, and copies each packet, with its hash tag
// and clock position, into the part of a batch buffer that belongs to the
// shard owning its key. It hands the buffer to every shard's worker over
// a buffered channel and returns at once, so it reads and dispatches the
// next packets while the workers meter these: the caller and the workers
// run concurrently instead of in lock step. The packets are copied because
// Add's caller reuses its buffer as soon as Add returns. No shard is
// metered on the caller's goroutine: a meter's caller also reads and
// decodes the packets, and whatever else it did would hold up every
// worker waiting for its next batch.
//
// The buffers come from a pool of pipeDepth, which bounds both the memory
// and how far the caller may run ahead: Add waits for a free buffer when
// all are in flight. A worker's channel holds at most pipeDepth batches
// and one barrier, so sending never blocks. Each worker meters its shard's
// part of each batch in order; the last one done with a batch returns it
// to the pool. Every shard sees every clock value of every batch, in
// order, so the records are those of a one-shard table (see addItems).
//
// Whatever reads or changes shard state from the caller's side (Advance,
// Flush, Close, Stats) sends a barrier job behind the batches in flight
// and waits until every worker has passed it. Sink calls from the workers
// are serialized by the table's mutex, which also guards the first sink
// error; the caller returns it from its next call.

// pipeBatch is the most packets one batch buffer holds; Add cuts larger
// batches. pipeDepth is the number of batch buffers: how many batches may
// be in flight.
const (
	pipeBatch = 2 * DefaultBatchSize
	pipeDepth = 4
)

type jobKind uint8

const (
	jobAdd     jobKind = iota // meter the shard's part of a batch
	jobAdvance                // advance the clock to now
	jobFlush                  // end every flow (EndForced)
	jobSync                   // nothing: a barrier
)

type pipeJob struct {
	kind jobKind
	b    *pipeBuf // jobAdd
	now  int64    // jobAdvance
}

// pipeBuf is one batch in flight: its packets sorted by shard, shard i's
// in items[off[i]:off[i+1]], and the clock values of the batch.
type pipeBuf struct {
	items   []shardItem
	off     []int32
	events  []int64
	pending atomic.Int32 // workers not yet done with it
}

// pipeRoute is the dispatcher's note on one packet between its two passes.
type pipeRoute struct {
	shard, tag uint32
	ev         int32
}

type pipeline struct {
	t     *Table
	jobs  []chan pipeJob // one per shard
	free  chan *pipeBuf  // the pool of batch buffers
	wg    sync.WaitGroup // counts the workers yet to pass a barrier
	route []pipeRoute    // dispatcher scratch
	pos   []int32        // dispatcher scratch: next item per shard
}

// newPipeline starts one worker goroutine per shard of t.
func newPipeline(t *Table) *pipeline {
	n := len(t.shards)
	p := &pipeline{t: t, jobs: make([]chan pipeJob, n), free: make(chan *pipeBuf, pipeDepth),
		route: make([]pipeRoute, pipeBatch), pos: make([]int32, n)}
	for range pipeDepth {
		p.free <- &pipeBuf{items: make([]shardItem, pipeBatch), off: make([]int32, n+1),
			events: make([]int64, 0, pipeBatch)}
	}
	for i := range p.jobs {
		p.jobs[i] = make(chan pipeJob, pipeDepth+1)
		go p.work(t.shards[i], p.jobs[i])
	}
	return p
}

// work runs shard s's jobs until the channel closes.
func (p *pipeline) work(s *shard, jobs <-chan pipeJob) {
	for j := range jobs {
		switch j.kind {
		case jobAdd:
			b := j.b
			s.addItems(b.items[b.off[s.id]:b.off[s.id+1]], b.events)
			if b.pending.Add(-1) == 0 {
				p.free <- b
			}
			continue
		case jobAdvance:
			s.advance(j.now)
		case jobFlush:
			s.endAll(EndForced)
		case jobSync:
		}
		p.wg.Done()
	}
}

// add dispatches pkts to the workers in batches of at most pipeBatch.
func (p *pipeline) add(pkts []Packet) {
	for len(pkts) > 0 {
		part := pkts[:min(len(pkts), pipeBatch)]
		pkts = pkts[len(part):]
		b := <-p.free
		p.dispatch(b, part)
		b.pending.Store(int32(len(p.jobs)))
		for _, c := range p.jobs {
			c <- pipeJob{kind: jobAdd, b: b}
		}
	}
}

// dispatch fills b with pkts: a first pass hashes each packet, picks its
// shard and records every value the clock takes; a second copies the
// packets into their shards' ranges of b.items (a counting sort, so one
// buffer of len(pkts) items serves any split between shards).
func (p *pipeline) dispatch(b *pipeBuf, pkts []Packet) {
	n := len(p.jobs)
	rt := p.route[:len(pkts)]
	off := b.off
	clear(off)
	ev := b.events[:0]
	clock := p.t.clock
	for i := range pkts {
		pk := &pkts[i]
		if pk.Time > clock {
			clock = pk.Time
			ev = append(ev, clock)
		}
		h := symmetricHash(&pk.Src, &pk.Dst, pk.SrcPort, pk.DstPort, pk.VLAN, pk.Protocol)
		k := shardOf(h, n)
		rt[i] = pipeRoute{shard: uint32(k), tag: uint32(h), ev: int32(len(ev))}
		off[k+1]++
	}
	for k := 1; k <= n; k++ {
		off[k] += off[k-1]
	}
	pos := p.pos
	copy(pos, off[:n])
	items := b.items
	for i := range pkts {
		r := rt[i]
		it := &items[pos[r.shard]]
		pos[r.shard]++
		it.pkt, it.ev, it.tag = pkts[i], r.ev, r.tag
	}
	b.events, p.t.clock = ev, clock
}

// barrier sends a job of kind k to every worker behind the batches in
// flight and waits until all have run it.
func (p *pipeline) barrier(k jobKind, now int64) {
	p.wg.Add(len(p.jobs))
	for _, c := range p.jobs {
		c <- pipeJob{kind: k, now: now}
	}
	p.wg.Wait()
}

// stop ends the workers; the table must have passed a barrier.
func (p *pipeline) stop() {
	for _, c := range p.jobs {
		close(c)
	}
}
