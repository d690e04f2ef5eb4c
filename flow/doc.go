// Package flow holds flowkit's flow record and the vocabulary every other
// package shares: addresses, TCP flags, end reasons, flow types, the flow key
// and the batch interfaces through which records move between stages.
//
// A [Record] is one flat value with no pointers, so that millions of them
// can sit in slices, tables and column buffers without the garbage collector
// scanning them. Addresses are stored as 16-byte [Addr] values (IPv4 in the
// IPv4-mapped form) and times as nanoseconds since the Unix epoch (UTC); the
// accessors hand out [net/netip.Addr] and [time.Time].
//
// Records travel in batches: a [Source] fills a caller-owned slice, a [Sink]
// takes one. [Records] wraps a Source as an [iter.Seq] for callers who
// prefer range loops.
//
// The packet-to-flow aggregator (the flow table) also lives here; see
// [Packet] for the decoded packet summary it consumes. A [Table] can be
// sharded over worker goroutines ([TableConfig].Workers) by a symmetric
// hash of the flow key. The shards then share the caller's batch in place:
// each hashes a part of it and notes every packet for the shard that owns
// it, then meters its own packets from those notes, and its flows end at
// the same clock values as in a one-shard table, so the records are the
// same. The caller's goroutine meters the first shard while worker
// goroutines meter the others, and Add returns when all are done.
// [Table.Meter] reads the next batch on a goroutine of its own meanwhile.
//
// A table holds no pointers per flow and about 100 bytes per active flow
// (about 125 with biflows): a 56-byte entry (key and forward counters), a
// 24-byte reverse side for biflows, the expiry lists' 32 bytes and the
// index's 4-byte cells at most 3/4 full (BenchmarkTableMemory measures it).
package flow
