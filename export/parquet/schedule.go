package parquet

import (
	"fmt"
	"sync"

	"github.com/flowkit/flowkit/flow"
)

// The writer's two helper goroutines encode chunks as jobs: job j of a
// chunk is column colOrder[j] (for an address column, its IPv4 column
// too). A column's jobs run in chunk order, as its page buffer,
// dictionary and pages are one stream; different columns do not wait for
// each other. So a helper that finds nothing left to take in the oldest
// chunk goes on with the next chunk's columns whose previous chunk is
// done, rather than waiting at every chunk's end for the other helper's
// last column (a page compressed, a dictionary block: a millisecond's
// lump that left one core idle).

// maxInFlight is how many chunks the helpers may have at once; the
// caller fills one more.
const maxInFlight = 2

// chunkJob is one chunk's jobs, or with nil recs the row group's end:
// every column's last page written out (flushColumn), taken as jobs too.
type chunkJob struct {
	recs  []flow.Record
	seq   int64    // the chunk's number: column jobs run in this order
	first int64    // the row number of recs[0] (with nil recs, of the row group's end), for errors
	zeros zeroCols // columns all zero in recs
	taken uint32   // jobs taken, a bit each
	done  int      // jobs finished
}

// jobs is the number of jobs of c.
func (c *chunkJob) jobs() int {
	if c.recs == nil {
		return int(numCols)
	}
	return len(colOrder)
}

// schedule is the queue of chunks the helpers share with the caller.
type schedule struct {
	mu     sync.Mutex
	cond   sync.Cond // signalled when a job is taken or finished, or a chunk queued
	queue  []*chunkJob
	colSeq [len(colOrder)]int64 // per data job index, chunks done
	seq    int64                // the next data chunk's number
	free   [][]flow.Record      // chunk buffers not in the queue
	err    error                // the first job's error; later jobs are skipped
	stop   bool
}

// pick returns the first job a helper may take: the oldest chunk first,
// its columns in colOrder, each only once its previous chunk is done.
// A row group's end is queued alone (see endGroup), so its jobs wait for
// nothing.
func (q *schedule) pick() (*chunkJob, int) {
	for _, c := range q.queue {
		for j := range c.jobs() {
			if c.taken&(1<<j) == 0 && (c.recs == nil || q.colSeq[j] == c.seq) {
				c.taken |= 1 << j
				return c, j
			}
		}
	}
	return nil, 0
}

// help is a helper goroutine's loop, with s as its scratch: take a job,
// do it, until the writer stops.
func (w *Writer) help(s *scratch) {
	q := &w.sched
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		c, j := q.pick()
		if c == nil {
			if q.stop {
				return
			}
			q.cond.Wait()
			continue
		}
		var err error
		if q.err == nil {
			q.mu.Unlock()
			err = w.doJob(s, c, j)
			q.mu.Lock()
		}
		if err != nil && q.err == nil {
			q.err = err
		}
		if c.recs != nil {
			q.colSeq[j]++
		}
		if c.done++; c.done == c.jobs() {
			// Chunks end in order: a column's jobs run in chunk order.
			q.queue = q.queue[1:]
			if c.recs != nil {
				q.free = append(q.free, c.recs[:0])
			}
		}
		q.cond.Broadcast()
	}
}

// doJob does job j of c.
func (w *Writer) doJob(s *scratch, c *chunkJob, j int) error {
	if c.recs == nil {
		if err := w.flushColumn(colID(j)); err != nil {
			return fmt.Errorf("parquet: writing the row group ending at row %d: %w", c.first, err)
		}
		return nil
	}
	id := colOrder[j]
	if err := writeColumn(w.cols, id, s, c.recs, c.zeros.has(id)); err != nil {
		return fmt.Errorf("parquet: writing rows %d-%d: column %s: %w", c.first, c.first+int64(len(c.recs)), colNames[id], err)
	}
	return nil
}

// queueChunk hands recs, whose first row is row first and whose columns
// zeros are all zero, to the helpers,
// once fewer than maxInFlight chunks are in their hands, and returns a
// buffer for the next chunk; or the helpers' error.
func (q *schedule) queueChunk(recs []flow.Record, first int64, zeros zeroCols) ([]flow.Record, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) >= maxInFlight && q.err == nil {
		q.cond.Wait()
	}
	if q.err != nil {
		return recs[:0], q.err
	}
	q.queue = append(q.queue, &chunkJob{recs: recs, seq: q.seq, first: first, zeros: zeros})
	q.seq++
	q.cond.Broadcast()
	var next []flow.Record
	if n := len(q.free); n > 0 {
		next, q.free = q.free[n-1], q.free[:n-1]
	} else {
		next = newChunk()
	}
	return next, nil
}

// chunkPool keeps chunk buffers (1.2 MB each) across writers.
var chunkPool sync.Pool

// newChunk returns an empty chunk buffer.
func newChunk() []flow.Record {
	if c, ok := chunkPool.Get().(*[]flow.Record); ok {
		return (*c)[:0]
	}
	return make([]flow.Record, 0, chunkRows)
}

// releaseChunks gives the free chunk buffers and stage back to the pool;
// the writer is closed and the queue empty.
func (q *schedule) releaseChunks(stage []flow.Record) {
	for _, c := range append(q.free, stage) {
		chunkPool.Put(&c)
	}
	q.free = nil
}

// drain waits until the helpers have finished every queued chunk, and
// returns their error.
func (q *schedule) drain() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) > 0 {
		q.cond.Wait()
	}
	return q.err
}

// endGroup has the helpers write out every column's last page once the
// queued chunks are done; see Writer.endGroup.
func (q *schedule) endGroup(end int64) error {
	if err := q.drain(); err != nil {
		return err
	}
	q.mu.Lock()
	q.queue = append(q.queue, &chunkJob{first: end})
	q.cond.Broadcast()
	q.mu.Unlock()
	return q.drain()
}

// stopHelpers lets the helper goroutines return; the queue is empty.
func (q *schedule) stopHelpers() {
	q.mu.Lock()
	q.stop = true
	q.cond.Broadcast()
	q.mu.Unlock()
}
