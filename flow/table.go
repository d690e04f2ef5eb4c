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
	// in the caller's goroutine. With n > 1, Add hashes each packet once
	// in the caller's goroutine, which then meters one shard while n-1
	// goroutines meter the others. The records are the same for any
	// value. A table with a MaxFlows cap uses one worker, because the cap
	// evicts the least recently seen flow of the whole table.
	Workers int
	// Sensor is copied into every record and its key.
	Sensor uint16
	// Sink receives the finished records in batches. It is called from
	// one goroutine at a time.
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
	jobs   []chan tableJob // to the goroutines of shards 1..n-1
	wg     sync.WaitGroup
	mu     sync.Mutex // serializes sink calls from the shards
	sink   Sink
	closed bool
	// With several shards, the caller's goroutine hashes each packet once
	// and sorts the batch into per-shard items, noting the clock's values;
	// then it meters shard 0 while the workers meter the others.
	clock  int64
	events []int64       // the clock values of the current batch
	items  [][]shardItem // per shard: its packets of the current batch
}

type jobKind uint8

const (
	jobAdd jobKind = iota
	jobAdvance
	jobFlush
)

type tableJob struct {
	kind jobKind
	pkts []Packet
	now  int64
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
		t.items = make([][]shardItem, n)
		for i := range t.items {
			t.items[i] = make([]shardItem, 0, 2*DefaultBatchSize/n)
		}
		t.events = make([]int64, 0, DefaultBatchSize)
		t.jobs = make([]chan tableJob, n-1)
		for i := range t.jobs {
			t.jobs[i] = make(chan tableJob)
			go t.work(t.shards[i+1], t.jobs[i])
		}
	}
	return t, nil
}

func (t *Table) work(s *shard, jobs <-chan tableJob) {
	for j := range jobs {
		s.do(j)
		t.wg.Done()
	}
}

func (s *shard) do(j tableJob) {
	switch j.kind {
	case jobAdd:
		if len(s.t.shards) == 1 {
			s.add(j.pkts)
		} else {
			s.addItems(j.pkts, s.t.items[s.id], s.t.events)
		}
	case jobAdvance:
		s.advance(j.now)
	case jobFlush:
		s.endAll(EndForced)
	}
}

// run executes j on every shard and returns the first sink error.
func (t *Table) run(j tableJob) error {
	if t.closed {
		return ErrTableClosed
	}
	if len(t.shards) == 1 {
		t.shards[0].do(j)
	} else {
		switch j.kind {
		case jobAdd:
			t.dispatch(j.pkts)
		case jobAdvance:
			t.clock = max(t.clock, j.now)
		}
		t.wg.Add(len(t.jobs))
		for _, c := range t.jobs {
			c <- j
		}
		t.shards[0].do(j)
		t.wg.Wait()
	}
	var err error
	for _, s := range t.shards {
		if s.err != nil && err == nil {
			err = s.err
		}
		s.err = nil
	}
	return err
}

// dispatch hashes each packet of a batch once and files it, with its tag
// and clock position, under the shard that owns its key; it records every
// value the clock takes during the batch in t.events.
func (t *Table) dispatch(pkts []Packet) {
	n := len(t.shards)
	for i := range t.items {
		t.items[i] = t.items[i][:0]
	}
	ev := t.events[:0]
	clock := t.clock
	for i := range pkts {
		p := &pkts[i]
		if p.Time > clock {
			clock = p.Time
			ev = append(ev, clock)
		}
		h := symmetricHash(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.VLAN, p.Protocol)
		k := shardOf(h, n)
		t.items[k] = append(t.items[k], shardItem{pkt: int32(i), ev: int32(len(ev)), tag: uint32(h)})
	}
	t.events, t.clock = ev, clock
}

// write passes a batch of finished records to the sink.
func (t *Table) write(recs []Record) error {
	if len(t.shards) > 1 {
		t.mu.Lock()
		defer t.mu.Unlock()
	}
	return t.sink.WriteBatch(recs)
}

// Add meters a batch of packets, in capture order. Before each packet the
// clock advances to its timestamp (if later) and flows that have expired
// end first. Finished records reach the sink whenever a batch of
// DefaultBatchSize fills and at every Advance and Flush. Add returns the
// sink's error, if any; metering itself cannot fail. The table does not
// keep pkts.
func (t *Table) Add(pkts []Packet) error {
	// Item indexes are int32: meter a huge batch in parts.
	const maxPart = 1 << 20
	var err error
	for len(pkts) > 0 {
		part := pkts[:min(len(pkts), maxPart)]
		pkts = pkts[len(part):]
		if perr := t.run(tableJob{kind: jobAdd, pkts: part}); perr != nil && err == nil {
			err = perr
		}
	}
	return err
}

// Advance moves the clock to now (ns since the Unix epoch) when that is
// later than the last packet, ending what expired, and hands every
// finished record to the sink. A live meter calls it from the wall clock
// when the wire is quiet.
func (t *Table) Advance(now int64) error {
	return t.run(tableJob{kind: jobAdvance, now: now})
}

// Flush ends every flow in the table with EndForced (end of input) and
// hands all records to the sink. The table stays usable.
func (t *Table) Flush() error {
	return t.run(tableJob{kind: jobFlush})
}

// Close flushes the remaining flows (EndForced) and stops the workers.
// Later calls return ErrTableClosed.
func (t *Table) Close() error {
	if t.closed {
		return ErrTableClosed
	}
	err := t.Flush()
	for _, c := range t.jobs {
		close(c)
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
func (t *Table) Clock() int64 { return t.shards[0].clock }

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
