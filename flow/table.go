package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/flowkit/flowkit/timeouts"
)

// TableConfig configures a flow Table.
type TableConfig struct {
	// Timeouts decide when flows end; the zero value is invalid, start
	// from timeouts.Default().
	Timeouts timeouts.Config
	// Biflow makes one RFC 5103 bidirectional record per conversation:
	// the first packet's direction is forward, the other direction fills
	// the Rev* fields. Off by default (SiLK-style unidirectional flows).
	Biflow bool
	// Workers is the number of shards metered in parallel; 0 or 1 meters
	// in the caller's goroutine. With n > 1, the table starts n-1 worker
	// goroutines; Add meters shard 0 on the caller's goroutine while each
	// worker meters its own shard, all reading the caller's batch in place
	// (each hashes a part of the batch for all and meters the packets
	// whose key hash it owns), and returns when all are done. The records
	// are the same for any value. A table with a MaxFlows cap uses one
	// worker, because the cap evicts the least recently seen flow of the
	// whole table. Workers pay off only with idle cores: between batches
	// a worker spins a few hundred microseconds before it sleeps.
	// Table.Meter also reads the next batch while the table meters one.
	Workers int
	// Sensor is copied into every record and its key.
	Sensor uint16
	// Sink receives the finished records in batches. It is called from
	// one goroutine at a time: the caller's, or with Workers > 1 the
	// caller's and the workers' (never two at once).
	Sink Sink
}

// TableStats are a Table's counters.
type TableStats struct {
	ActiveFlows int    // flows in the table now
	Packets     uint64 // packets metered
	Bytes       uint64 // IP bytes metered
	// Ended counts the flows ended, indexed by EndReason.
	Ended [EndLackOfResources + 1]uint64
}

// Flows returns the number of flow records emitted so far.
func (s *TableStats) Flows() uint64 {
	var n uint64
	for _, v := range s.Ended {
		n += v
	}
	return n
}

// Evictions returns how many flows were ended to respect MaxFlows.
func (s *TableStats) Evictions() uint64 { return s.Ended[EndLackOfResources] }

// ErrTableClosed is returned by a Table's methods after Close.
var ErrTableClosed = errors.New("flow: table is closed")

// Table aggregates packets into flow records: the flow meter's core (YAF's
// flow table, SiLK's flow generation). It follows flowkit's metering
// contract (see package timeouts): packet timestamps drive the clock, and
// flows end on idle and active timeouts, TCP FIN/RST, memory pressure and
// Flush. Entries hold no pointers, expiry costs O(1) per packet, and the
// work can be sharded over several goroutines by a symmetric key hash.
//
// A Table is not safe for concurrent use: one goroutine calls Add, Advance,
// Flush, Stats and Close.
type Table struct {
	shards []*shard
	mu     sync.Mutex // serializes sink calls from the shards' goroutines
	sink   Sink
	err    error // first sink error not yet returned (under mu with workers)
	closed bool
	clock  int64    // the latest packet time or Advance value
	crew   *workers // with several shards: the goroutines of shards 1..n-1
}

// NewTable returns a table for cfg. With cfg.Workers > 1 it starts that
// many goroutines, which Close stops.
func NewTable(cfg TableConfig) (*Table, error) {
	if err := cfg.Timeouts.Validate(); err != nil {
		return nil, fmt.Errorf("flow: table: %w", err)
	}
	if cfg.Sink == nil {
		return nil, errors.New("flow: table: TableConfig.Sink is nil")
	}
	if cfg.Workers < 0 || cfg.Workers > 256 {
		return nil, fmt.Errorf("flow: table: workers %d out of range 0..256", cfg.Workers)
	}
	n := max(cfg.Workers, 1)
	if cfg.Timeouts.MaxFlows > 0 {
		n = 1
	}
	t := &Table{sink: cfg.Sink, clock: math.MinInt64}
	for i := 0; i < n; i++ {
		s, err := newShard(t, i, n, &cfg)
		if err != nil {
			return nil, fmt.Errorf("flow: table: %w", err)
		}
		t.shards = append(t.shards, s)
	}
	if n > 1 {
		t.crew = newWorkers(t)
	}
	return t, nil
}

// takeErr returns the first sink error since the last call and forgets it.
func (t *Table) takeErr() error {
	if t.crew != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
	}
	err := t.err
	t.err = nil
	return err
}

// write passes a batch of finished records to the sink and keeps its
// first error for the table's caller.
func (t *Table) write(recs []Record) {
	if t.crew != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
	}
	if err := t.sink.WriteBatch(recs); err != nil && t.err == nil {
		t.err = err
	}
}

// Add meters a batch of packets, in capture order. Before each packet the
// clock advances to its timestamp (if later) and flows that have expired
// end first. Finished records reach the sink whenever a batch of
// DefaultBatchSize fills and at every Advance and Flush. Add returns the
// sink's error, if any; metering itself cannot fail. The table does not
// keep pkts.
func (t *Table) Add(pkts []Packet) error {
	if t.closed {
		return ErrTableClosed
	}
	if len(pkts) == 0 {
		return nil
	}
	if t.crew != nil {
		t.crew.add(pkts)
	} else {
		t.shards[0].add(pkts)
	}
	t.clock = t.shards[0].clock
	return t.takeErr()
}

// Advance moves the clock to now (ns since the Unix epoch) when that is
// later than the last packet, ending what expired, and hands every
// finished record to the sink. A live meter calls it from the wall clock
// when the wire is quiet.
func (t *Table) Advance(now int64) error {
	if t.closed {
		return ErrTableClosed
	}
	t.clock = max(t.clock, now)
	if t.crew != nil {
		t.crew.run(jobAdvance, nil, now)
	} else {
		t.shards[0].advance(now)
	}
	return t.takeErr()
}

// Flush ends every flow in the table with EndForced (end of input) and
// hands all records to the sink. The table stays usable.
func (t *Table) Flush() error {
	if t.closed {
		return ErrTableClosed
	}
	if t.crew != nil {
		t.crew.run(jobFlush, nil, 0)
	} else {
		t.shards[0].endAll(EndForced)
	}
	return t.takeErr()
}

// Close flushes the remaining flows (EndForced) and stops the workers.
// Later calls return ErrTableClosed.
func (t *Table) Close() error {
	if t.closed {
		return ErrTableClosed
	}
	err := t.Flush()
	if t.crew != nil {
		t.crew.run(jobStop, nil, 0)
	}
	t.closed = true
	return err
}

// Stats returns the table's counters summed over its shards.
func (t *Table) Stats() TableStats {
	var st TableStats
	for _, s := range t.shards {
		st.ActiveFlows += s.tr.Len()
		st.Packets += s.stats.Packets
		st.Bytes += s.stats.Bytes
		for i, v := range s.stats.Ended {
			st.Ended[i] += v
		}
	}
	return st
}

// Clock returns the table's clock: the latest packet time or Advance
// value, ns since the Unix epoch (math.MinInt64 before any).
func (t *Table) Clock() int64 { return t.clock }

// PacketSource is a source of decoded packets, as the capture package's
// sources are. ReadPackets fills dst from the start and returns how many
// packets it wrote; it returns io.EOF at the end of the input and (0, nil)
// when a live source's poll timed out with no packet.
type PacketSource interface {
	ReadPackets(dst []Packet) (int, error)
}

// Meter reads src until its end or until ctx is done, metering every
// packet, then flushes the table (EndForced). When src reports a quiet
// poll (0, nil), the clock advances to the wall clock, as a live meter's
// must. It returns the first error of src (other than io.EOF) or the sink.
//
// Meter reads on a goroutine of its own into a few batch buffers, so that
// reading and decoding the next packets overlaps metering these.
func (t *Table) Meter(ctx context.Context, src PacketSource) error {
	free := make(chan []Packet, meterBuffers)
	for range meterBuffers {
		free <- make([]Packet, t.meterBatch())
	}
	full := make(chan meterRead, meterBuffers) // never blocks: one slot a buffer
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for {
			var buf []Packet
			select {
			case buf = <-free:
			case <-stop:
				return
			}
			if ctx.Err() != nil {
				return
			}
			n, err := src.ReadPackets(buf)
			full <- meterRead{buf: buf, n: n, err: err}
			if err != nil {
				return
			}
		}
	}()
	var err error
	for r := range full {
		if err == nil {
			if r.n > 0 {
				err = t.Add(r.buf[:r.n])
			} else if r.err == nil {
				err = t.Advance(time.Now().UnixNano())
			}
			if r.err != nil && !errors.Is(r.err, io.EOF) && err == nil {
				err = r.err
			}
			if err != nil {
				close(stop) // the reader ends after its current read
			}
		}
		free <- r.buf
	}
	if ferr := t.Flush(); err == nil {
		err = ferr
	}
	return err
}

// meterBuffers is the number of batch buffers Meter reads into: one being
// metered, one being read, one ready.
const meterBuffers = 3

// meterBatch is the size of Meter's batches: with workers larger than
// DefaultBatchSize, so that they hand over less often (each hand-over
// waits for the slowest shard); without, DefaultBatchSize, since larger
// buffers made a short capture start slower.
func (t *Table) meterBatch() int {
	if t.crew != nil {
		return 8 * DefaultBatchSize
	}
	return DefaultBatchSize
}

// meterRead is one ReadPackets result that Meter's reader hands over.
type meterRead struct {
	buf []Packet
	n   int
	err error
}
