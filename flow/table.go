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
	// in the caller's goroutine. With n > 1, the table starts n worker
	// goroutines, one per shard, and Add becomes a dispatcher: it hashes
	// each packet once, copies it into a batch buffer sorted by shard and
	// queues the buffer to the workers without waiting for them, so the
	// caller reads and decodes the next packets while they meter. At most
	// a few batches are in flight (a small fixed pool of buffers); Advance,
	// Flush, Close and Stats wait until the workers have caught up. A sink
	// error met by a worker is returned by the table's next call. The
	// records are the same for any value. A table with a MaxFlows cap uses
	// one worker, because the cap evicts the least recently seen flow of
	// the whole table. Workers pay off only with idle cores: the dispatch
	// and the hand-over of each packet between cores cost about a quarter
	// more CPU per packet. On a 2-core machine with both cores free, 2
	// workers metered about 1.4 times as many packets per second as 1
	// (BenchmarkTableUpdate; flowkit meter on a file: about 1.5 times);
	// with the other core busy, no more than 1.
	Workers int
	// Sensor is copied into every record and its key.
	Sensor uint16
	// Sink receives the finished records in batches. It is called from
	// one goroutine at a time: the caller's, or with Workers > 1 the
	// workers' (never two at once).
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
	clock  int64     // the latest packet time or Advance value
	pipe   *pipeline // with several shards: the workers and their batches
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
		t.pipe = newPipeline(t)
	}
	return t, nil
}

// takeErr returns the first sink error since the last call and forgets it.
func (t *Table) takeErr() error {
	if t.pipe != nil {
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
	if t.pipe != nil {
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
//
// With several workers, Add copies the packets into the pipeline and
// returns before they are metered (see TableConfig.Workers): a sink error
// they cause is returned by a later call, at the latest by Flush or Close.
func (t *Table) Add(pkts []Packet) error {
	if t.closed {
		return ErrTableClosed
	}
	if t.pipe != nil {
		t.pipe.add(pkts)
		return t.takeErr()
	}
	s := t.shards[0]
	s.add(pkts)
	t.clock = s.clock
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
	if t.pipe != nil {
		t.pipe.barrier(jobAdvance, now)
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
	if t.pipe != nil {
		t.pipe.barrier(jobFlush, 0)
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
	if t.pipe != nil {
		t.pipe.stop()
	}
	t.closed = true
	return err
}

// Stats returns the table's counters summed over its shards. With several
// workers it first waits until they have metered every packet added.
func (t *Table) Stats() TableStats {
	if t.pipe != nil && !t.closed {
		t.pipe.barrier(jobSync, 0)
	}
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
func (t *Table) Meter(ctx context.Context, src PacketSource) error {
	buf := make([]Packet, DefaultBatchSize)
	var err error
	for err == nil {
		if ctx.Err() != nil {
			break
		}
		n, rerr := src.ReadPackets(buf)
		if n > 0 {
			err = t.Add(buf[:n])
		} else if rerr == nil {
			err = t.Advance(time.Now().UnixNano())
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) && err == nil {
				err = rerr
			}
			break
		}
	}
	if ferr := t.Flush(); err == nil {
		err = ferr
	}
	return err
}
