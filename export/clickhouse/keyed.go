package clickhouse

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/flowkit/flowkit/flow"
)

// WriteKeyed adds recs, the flows of one delivery of a message named key
// (for NATS: its Nats-Msg-Id), so that a message delivered again is
// stored once (at-least-once delivery, duplicates removed):
//
//   - recs get an insert_id derived from key alone (keyID), the same in
//     every process, instead of the INSERT's own random id; flows beyond
//     BatchSize go in chunks of BatchSize, chunk i with keyID(key, i);
//   - the flows of one chunk never straddle two INSERTs (the buffer is
//     sent first if they do not fit), so each partition of the table holds
//     all of a chunk's flows of that day or none: ClickHouse writes a
//     partition's part of one INSERT atomically;
//   - when redelivered is true, the INSERT holding recs first asks the
//     table which partitions already hold rows of their insert_id (the
//     check of a lost answer) and does not send those flows again.
//
// Keyed flows share INSERTs with other flows, keyed or not, each row
// carrying its own insert_id: an INSERT per message (a few hundred flows)
// would make ClickHouse write a part per message and partition, and at
// tens of messages a second merges fall behind ("too many parts"). The
// check costs a scan of insert_id and stime over the INSERT's time range,
// and runs only for INSERTs holding redelivered flows (or after a lost
// answer).
//
// What it relies on: collectors that may see the same message use the
// same BatchSize and, behind a ShardedSink, the same shards in the same
// order (else chunks differ; a mismatch found is ErrPartialInsert); the
// earlier delivery's INSERT has ended before the redelivery's check (a
// redelivery comes after the consumer's AckWait, or after a Nak that
// follows a failed INSERT); two keys whose 64-bit ids collide with flows
// on the same day are rare enough (about n²/2⁶⁵ for n messages) to
// ignore; against a Distributed table the check has the limit of the
// lost-answer check (rows still queued for a shard are not seen). Flush
// still means that every flow given so far is stored.
func (s *Sink) WriteKeyed(key string, redelivered bool, recs []flow.Record) error {
	if s.closed {
		return ErrClosed
	}
	if err := s.failed(); err != nil {
		return err
	}
	for chunk := 0; len(recs) > 0; chunk++ {
		n := min(len(recs), s.cfg.BatchSize)
		if err := s.addKeyed(keyID(key, chunk), redelivered, recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

// addKeyed appends at most BatchSize flows with insert_id id to the
// current buffer, handing it over first if they do not fit.
func (s *Sink) addKeyed(id uint64, check bool, recs []flow.Record) error {
	if len(s.cur.recs)+len(recs) > s.cfg.BatchSize {
		if err := s.handOver(); err != nil {
			return err
		}
	}
	s.cur.recs = append(s.cur.recs, recs...)
	for range recs {
		s.cur.ids = append(s.cur.ids, id)
	}
	s.cur.check = s.cur.check || check
	if len(s.cur.recs) == s.cfg.BatchSize {
		return s.handOver()
	}
	return nil
}

// keyID is the insert_id of chunk chunk of key's flows: the first 8
// bytes of SHA-256(key, chunk), never 0 (0 stands for "the INSERT's own
// id" in a batchBuf).
func keyID(key string, chunk int) uint64 {
	h := sha256.New()
	h.Write([]byte(key))
	var c [9]byte
	binary.BigEndian.PutUint64(c[1:], uint64(chunk))
	h.Write(c[:])
	id := binary.LittleEndian.Uint64(h.Sum(nil))
	if id == 0 {
		id = 1
	}
	return id
}

func newBatchBuf(n int) *batchBuf {
	return &batchBuf{recs: make([]flow.Record, 0, n), ids: make([]uint64, 0, n)}
}

// WriteKeyed splits recs by shard (as WriteBatch does) and writes each
// shard's part with that shard's Sink.WriteKeyed under the same key.
func (s *ShardedSink) WriteKeyed(key string, redelivered bool, recs []flow.Record) error {
	if s.closed {
		return ErrClosed
	}
	n := len(s.shards)
	if len(s.parts) != n {
		s.parts = make([][]flow.Record, n)
	}
	for i := range s.parts {
		s.parts[i] = s.parts[i][:0]
	}
	for i := range recs {
		k := ShardOf(recs[i].Src, n)
		s.parts[k] = append(s.parts[k], recs[i])
	}
	for i, p := range s.parts {
		if len(p) == 0 {
			continue
		}
		if err := s.shards[i].WriteKeyed(key, redelivered, p); err != nil {
			return err
		}
	}
	return nil
}
