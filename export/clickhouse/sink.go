package clickhouse

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowkit/flowkit/flow"
)

// Sink writes flows to one ClickHouse table, one INSERT per BatchSize
// flows. It implements flow.Sink; it is not safe for concurrent use.
//
// INSERTs run in Config.Senders goroutines (default 1), each on its own
// connection, so that the server writes one batch while the sink copies
// the next. WriteBatch returns once the flows are
// copied; an INSERT that fails for good makes the next WriteBatch, Flush
// or Close return its error, and Flush returns only when every flow given
// so far is stored.
//
// A failed INSERT is tried again with backoff. Before a retry of an INSERT
// whose data may have reached the server (the connection broke after the
// block was sent), the sink asks the table which partitions hold rows with
// that INSERT's insert_id and sends again only the flows of the partitions
// that have none: ClickHouse writes each partition's part of a block
// atomically, so a partition holds all of them or none. Against a
// MergeTree table every flow is thus stored exactly once. Against a
// Distributed table the check can miss rows still in the receiving
// server's send queue, so a crash of that server in the middle of an
// INSERT may store some flows twice; use ShardedSink for exactly-once.
type Sink struct {
	ctx    context.Context
	cfg    Config
	conn   driver.Conn
	insert string // the INSERT statement

	cur  *batchBuf      // flows not yet handed to a sender
	free chan *batchBuf // empty buffers: Senders+1 in all
	work chan *batchBuf // full buffers for the senders
	wg   sync.WaitGroup // buffers handed over and not yet sent
	done sync.WaitGroup // sender goroutines
	seq  atomic.Uint64  // insert ids are seed+seq
	seed uint64

	mu     sync.Mutex
	stats  Stats
	err    error // the first INSERT that failed for good
	closed bool

	// loseAnswer, set by tests, makes a stored INSERT report a lost
	// answer, as when the server dies right after storing it.
	loseAnswer func(attempt int) bool
}

// Stats counts what a sink did.
type Stats struct {
	Flows    uint64 // flows stored
	Inserts  uint64 // INSERTs that succeeded
	Retries  uint64 // INSERTs tried again
	Verified uint64 // lost answers resolved by asking the table
	Skipped  uint64 // flows not sent again because the table had them
	// Rechecked counts INSERTs that held redelivered keyed flows
	// (WriteKeyed) and asked the table for them before sending.
	Rechecked uint64
}

// batchBuf is the flows of one INSERT and the insert_id of each: 0 stands
// for the INSERT's own fresh id, others are keyed ids (WriteKeyed).
type batchBuf struct {
	recs []flow.Record
	ids  []uint64
	// check: some flows were redelivered; ask the table before sending.
	check bool
}

func (b *batchBuf) reset() {
	b.recs, b.ids, b.check = b.recs[:0], b.ids[:0], false
}

// NewSink connects to cfg's server. The context bounds the sink's life:
// once it is cancelled, inserts and retries stop with its error.
func NewSink(ctx context.Context, cfg Config) (*Sink, error) {
	cfg.defaults()
	if err := checkIdent("table", cfg.Table); err != nil {
		return nil, err
	}
	conn, err := Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var seed [8]byte
	crand.Read(seed[:])
	s := &Sink{
		ctx:    ctx,
		cfg:    cfg,
		conn:   conn,
		insert: "INSERT INTO " + cfg.Table + " (" + columnList() + ")",
		free:   make(chan *batchBuf, cfg.Senders+1),
		work:   make(chan *batchBuf),
		seed:   binary.LittleEndian.Uint64(seed[:]),
	}
	s.cur = newBatchBuf(cfg.BatchSize)
	for range cfg.Senders {
		s.free <- nil // allocated when first needed
	}
	s.done.Add(cfg.Senders)
	for range cfg.Senders {
		go s.sender()
	}
	return s, nil
}

// sender sends the buffers of s.work, each with one INSERT.
func (s *Sink) sender() {
	defer s.done.Done()
	var cols columnBuf
	for buf := range s.work {
		if s.failed() == nil {
			if err := s.send(buf, &cols); err != nil {
				s.mu.Lock()
				if s.err == nil {
					s.err = err
				}
				s.mu.Unlock()
			}
		}
		buf.reset()
		s.free <- buf
		s.wg.Done()
	}
}

func (s *Sink) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Stats returns the sink's counters.
func (s *Sink) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// WriteBatch implements flow.Sink: it copies batch and hands BatchSize
// flows at a time to a sender.
func (s *Sink) WriteBatch(batch []flow.Record) error {
	if s.closed {
		return ErrClosed
	}
	if err := s.failed(); err != nil {
		return err
	}
	for len(batch) > 0 {
		n := min(len(batch), s.cfg.BatchSize-len(s.cur.recs))
		s.cur.recs = append(s.cur.recs, batch[:n]...)
		s.cur.ids = append(s.cur.ids, make([]uint64, n)...) // 0: the INSERT's own id; no allocation
		batch = batch[n:]
		if len(s.cur.recs) == s.cfg.BatchSize {
			if err := s.handOver(); err != nil {
				return err
			}
		}
	}
	return nil
}

// add appends one flow, for ShardedSink.
func (s *Sink) add(r *flow.Record) error {
	s.cur.recs = append(s.cur.recs, *r)
	s.cur.ids = append(s.cur.ids, 0)
	if len(s.cur.recs) == s.cfg.BatchSize {
		return s.handOver()
	}
	return nil
}

// handOver gives s.cur to a sender and takes an empty buffer, waiting
// while all senders are busy (which bounds the memory).
func (s *Sink) handOver() error {
	if len(s.cur.recs) == 0 {
		return nil
	}
	s.wg.Add(1)
	select {
	case s.work <- s.cur:
	case <-s.ctx.Done():
		s.wg.Done()
		return fmt.Errorf("clickhouse: insert into %s at %s: %w", s.cfg.Table, s.cfg.server(), s.ctx.Err())
	}
	select {
	case b := <-s.free:
		if b == nil {
			b = newBatchBuf(s.cfg.BatchSize)
		}
		s.cur = b
	case <-s.ctx.Done():
		s.cur = &batchBuf{} // the sink is done; its buffer grows if still used
		return fmt.Errorf("clickhouse: insert into %s at %s: %w", s.cfg.Table, s.cfg.server(), s.ctx.Err())
	}
	return s.failed()
}

// Flush sends the flows gathered so far and waits until every flow given
// to the sink is stored.
func (s *Sink) Flush() error {
	if s.closed {
		return ErrClosed
	}
	err := s.handOver()
	s.wg.Wait()
	if ferr := s.failed(); ferr != nil {
		return ferr
	}
	return err
}

// Close flushes, stops the senders and closes the connection.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	err := s.Flush()
	s.closed = true
	close(s.work)
	s.done.Wait()
	if cerr := s.conn.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("clickhouse: close %s: %w", s.cfg.server(), cerr)
	}
	return err
}

func (s *Sink) count(f func(st *Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// send stores b with one INSERT, retrying as the type comment says.
// b's redelivered keyed flows that the table holds already are not sent.
func (s *Sink) send(b *batchBuf, cols *columnBuf) error {
	id := s.seed + s.seq.Add(1)
	for i := range b.ids {
		if b.ids[i] == 0 {
			b.ids[i] = id
		}
	}
	all, allIDs := b.recs, b.ids
	recs, ids := all, allIDs
	var lastErr error
	// Before the first try, a batch with redelivered flows is as
	// uncertain as one whose answer was lost.
	uncertain, lost := b.check, false
	backoff := s.cfg.MinBackoff
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > s.cfg.MaxRetries {
				return fmt.Errorf("clickhouse: insert of %d flows into %s at %s failed %d times: %w",
					len(recs), s.cfg.Table, s.cfg.server(), attempt, lastErr)
			}
			s.count(func(st *Stats) { st.Retries++ })
			t := time.NewTimer(backoff)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return fmt.Errorf("clickhouse: insert into %s at %s: %w (last error: %v)", s.cfg.Table, s.cfg.server(), s.ctx.Err(), lastErr)
			case <-t.C:
			}
			backoff = min(2*backoff, s.cfg.MaxBackoff)
		}
		if uncertain {
			missing, missingIDs, err := s.missingRows(all, allIDs, id)
			if err != nil {
				if errors.Is(err, ErrPartialInsert) {
					return err
				}
				lastErr = err
				continue
			}
			s.count(func(st *Stats) {
				if lost {
					st.Verified++
				} else {
					st.Rechecked++
				}
				st.Skipped += uint64(len(recs) - len(missing))
				st.Flows += uint64(len(recs) - len(missing))
				if len(missing) == 0 {
					st.Inserts++
				}
			})
			if len(missing) == 0 {
				return nil
			}
			recs, ids = missing, missingIDs
			uncertain = false
		}
		sent, err := s.insertRows(recs, ids, id, attempt, cols)
		if errors.Is(err, errPermanent) {
			return fmt.Errorf("clickhouse: insert into %s at %s: %w", s.cfg.Table, s.cfg.server(), err)
		}
		if err == nil {
			s.count(func(st *Stats) { st.Flows += uint64(len(recs)); st.Inserts++ })
			return nil
		}
		if s.ctx.Err() != nil {
			return fmt.Errorf("clickhouse: insert into %s at %s: %w (last error: %v)", s.cfg.Table, s.cfg.server(), s.ctx.Err(), err)
		}
		lastErr = err
		uncertain, lost = sent, sent
	}
}

// errPermanent marks failures that a retry cannot mend: the table or
// database does not exist, a column is missing or of the wrong type, the
// login is refused.
var errPermanent = errors.New("not retried")

// permanentCodes are the ClickHouse error codes that a retry cannot mend.
var permanentCodes = map[int32]bool{
	16:  true, // NO_SUCH_COLUMN_IN_TABLE
	47:  true, // UNKNOWN_IDENTIFIER
	53:  true, // TYPE_MISMATCH
	60:  true, // UNKNOWN_TABLE
	62:  true, // SYNTAX_ERROR
	81:  true, // UNKNOWN_DATABASE
	192: true, // UNKNOWN_USER
	193: true, // WRONG_PASSWORD
	497: true, // ACCESS_DENIED
	516: true, // AUTHENTICATION_FAILED
}

func permanent(err error) bool {
	var e *ch.Exception
	return errors.As(err, &e) && permanentCodes[e.Code]
}

// queryID names one try of one INSERT, so that a retry can see whether
// the lost one still runs.
func queryID(id uint64, attempt int) string {
	return "flowkit-" + strconv.FormatUint(id, 16) + "-" + strconv.Itoa(attempt)
}

// insertOnce runs one INSERT of recs, all with insert_id id.
func (s *Sink) insertOnce(recs []flow.Record, id uint64, attempt int, cols *columnBuf) (sent bool, err error) {
	return s.insertRows(recs, nil, id, attempt, cols)
}

// insertRows runs one INSERT of recs, row i with insert_id ids[i] (id for
// all if ids is nil); id names the INSERT's query. sent reports whether
// the block may have reached the server (the failure came after
// PrepareBatch).
func (s *Sink) insertRows(recs []flow.Record, ids []uint64, id uint64, attempt int, cols *columnBuf) (sent bool, err error) {
	ctx := ch.Context(s.ctx, ch.WithQueryID(queryID(id, attempt)))
	b, err := s.conn.PrepareBatch(ctx, s.insert)
	if err != nil {
		if permanent(err) {
			err = fmt.Errorf("%w: %w", errPermanent, err)
		}
		return false, err
	}
	cols.fill(recs, id)
	if ids != nil {
		copy(cols.insertID, ids)
	}
	if err := cols.appendTo(b); err != nil {
		b.Abort()
		return false, fmt.Errorf("%w: %w", errPermanent, err)
	}
	if err := b.Send(); err != nil {
		return true, err
	}
	if s.loseAnswer != nil && s.loseAnswer(attempt) {
		return true, errors.New("answer lost (test)")
	}
	return false, nil
}

// missing returns the flows of all whose partition (day of start) holds
// no row with insert_id id: those the lost INSERT did not store.
func (s *Sink) missing(all []flow.Record, id uint64) ([]flow.Record, error) {
	ids := make([]uint64, len(all))
	for i := range ids {
		ids[i] = id
	}
	out, _, err := s.missingRows(all, ids, id)
	return out, err
}

// idDay is one insert_id's rows in one partition (day).
type idDay struct {
	id  uint64
	day uint32
}

// missingRows returns the flows of all (and their ids) for which the table
// holds no row of the same insert_id in the same partition (day of start):
// a partition's part of one INSERT is stored whole or not at all, so those
// are the flows to send. It waits (by failing) while an earlier try of
// INSERT id still runs.
func (s *Sink) missingRows(all []flow.Record, ids []uint64, id uint64) ([]flow.Record, []uint64, error) {
	var running uint64
	prefix := "flowkit-" + strconv.FormatUint(id, 16) + "-"
	if err := s.conn.QueryRow(s.ctx, "SELECT count() FROM system.processes WHERE startsWith(query_id, ?)", prefix).Scan(&running); err != nil {
		return nil, nil, fmt.Errorf("clickhouse: check running inserts at %s: %w", s.cfg.server(), err)
	}
	if running > 0 {
		return nil, nil, fmt.Errorf("clickhouse: an earlier try of the insert into %s at %s still runs", s.cfg.Table, s.cfg.server())
	}
	want := map[idDay]uint64{}
	listed := map[uint64]bool{}
	var list []byte
	lo, hi := int64(1<<62), int64(-1<<62)
	for i := range all {
		sec := startSecond(all[i].Start)
		k := idDay{ids[i], dayOf(sec)}
		if !listed[ids[i]] {
			listed[ids[i]] = true
			if len(list) > 0 {
				list = append(list, ',')
			}
			list = strconv.AppendUint(list, ids[i], 10)
		}
		want[k]++
		lo, hi = min(lo, sec), max(hi, sec)
	}
	q := "SELECT insert_id, toUInt32(toDate(stime)) AS d, count() FROM " + s.cfg.Table +
		" WHERE stime BETWEEN toDateTime(" + strconv.FormatInt(lo, 10) + ", 'UTC') AND toDateTime(" + strconv.FormatInt(hi, 10) + ", 'UTC')" +
		" AND insert_id IN (" + string(list) + ") GROUP BY insert_id, d"
	rows, err := s.conn.Query(s.ctx, q)
	if err != nil {
		return nil, nil, fmt.Errorf("clickhouse: check lost insert in %s at %s: %w", s.cfg.Table, s.cfg.server(), err)
	}
	defer rows.Close()
	have := map[idDay]bool{}
	for rows.Next() {
		var k idDay
		var n uint64
		if err := rows.Scan(&k.id, &k.day, &n); err != nil {
			return nil, nil, fmt.Errorf("clickhouse: check lost insert in %s at %s: %w", s.cfg.Table, s.cfg.server(), err)
		}
		if n != want[k] {
			return nil, nil, fmt.Errorf("%w: %s at %s holds %d of %d flows of insert %x on day %d",
				ErrPartialInsert, s.cfg.Table, s.cfg.server(), n, want[k], k.id, k.day)
		}
		have[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("clickhouse: check lost insert in %s at %s: %w", s.cfg.Table, s.cfg.server(), err)
	}
	var out []flow.Record
	var outIDs []uint64
	for i := range all {
		if !have[idDay{ids[i], dayOf(startSecond(all[i].Start))}] {
			out = append(out, all[i])
			outIDs = append(outIDs, ids[i])
		}
	}
	return out, outIDs, nil
}

// startSecond is the stime the server computes: toDateTime(intDiv(start_ns,
// 1e9)), a 32-bit count of seconds.
func startSecond(ns int64) int64 { return int64(uint32(ns / 1e9)) }

// dayOf is toDate of a second: the day number since 1970-01-01 (UTC).
func dayOf(sec int64) uint32 { return uint32(sec / 86400) }
