package clickhouse

import (
	"context"
	"errors"
	"fmt"

	"github.com/flowkit/flowkit/flow"
)

// ShardedSink writes each flow straight to the local table of one shard,
// picked by a hash of the source address, with one Sink per shard. Each
// shard's Sink stores every flow exactly once (see Sink), so the whole
// does too, which inserting through a Distributed table does not promise;
// read the shards back through a Distributed table (DistributedSQL).
// Flows of one source address land on one shard, so "host" queries and
// group-bys on the source address touch one shard's data per address.
// While a shard is down, WriteBatch blocks in that shard's retries.
type ShardedSink struct {
	shards []*Sink
	parts  [][]flow.Record // WriteKeyed's flows per shard, reused
	closed bool
}

// NewShardedSink connects to every shard; cfgs[i] names shard i's server
// and local table.
func NewShardedSink(ctx context.Context, cfgs []Config) (*ShardedSink, error) {
	if len(cfgs) == 0 {
		return nil, fmt.Errorf("clickhouse: sharded sink with no shard")
	}
	s := &ShardedSink{}
	for i, c := range cfgs {
		sk, err := NewSink(ctx, c)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("clickhouse: shard %d: %w", i, err)
		}
		s.shards = append(s.shards, sk)
	}
	return s, nil
}

// ShardOf returns the shard index of a source address among n shards:
// FNV-1a over its 16 bytes, then mixed (a murmur3 finaliser) so that every
// bit of the address moves the low bits the modulo keeps (plain FNV-1a
// modulo 2 is only the parity of the bytes' low bits).
func ShardOf(src flow.Addr, n int) int {
	h := uint64(14695981039346656037)
	for _, b := range src {
		h ^= uint64(b)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return int(h % uint64(n))
}

// WriteBatch implements flow.Sink.
func (s *ShardedSink) WriteBatch(batch []flow.Record) error {
	if s.closed {
		return ErrClosed
	}
	n := len(s.shards)
	for i := range batch {
		if err := s.shards[ShardOf(batch[i].Src, n)].add(&batch[i]); err != nil {
			return err
		}
	}
	return nil
}

// Flush sends every shard's gathered flows.
func (s *ShardedSink) Flush() error {
	var errs []error
	for _, sk := range s.shards {
		errs = append(errs, sk.Flush())
	}
	return errors.Join(errs...)
}

// Stats returns the counters of each shard's sink.
func (s *ShardedSink) Stats() []Stats {
	out := make([]Stats, len(s.shards))
	for i, sk := range s.shards {
		out[i] = sk.Stats()
	}
	return out
}

// Close flushes and closes every shard's sink.
func (s *ShardedSink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, sk := range s.shards {
		errs = append(errs, sk.Close())
	}
	return errors.Join(errs...)
}
