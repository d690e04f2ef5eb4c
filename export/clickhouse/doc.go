// Package clickhouse stores flow records in ClickHouse and asks ClickHouse
// the questions that package query asks of records in Go.
//
// It talks to the server over the native protocol with clickhouse-go (the
// HTTP interface of clickhouse-go does not work with ClickHouse 18.16,
// Debian's package) and is tested against a real clickhouse-server 18.16.1.
//
// # Schema
//
// [TableSQL] gives the table (CREATE TABLE IF NOT EXISTS): one column per
// field of flow.Record, so every record reads back exactly ([Select]):
//
//   - times (Start, End, RevStartOffset) are Int64 nanoseconds: 18.16 has
//     no DateTime64. A column stime DateTime('UTC'), computed by the server
//     from start_ns (whole seconds), is what the table is partitioned and
//     sorted by; it is right for start times from 1970 to 2106 (start_ns
//     keeps the exact value in any case, but start-time filters, which
//     also bound stime, miss flows outside that range);
//   - addresses (src, dst, nexthop) are FixedString(16) holding
//     flow.Addr's bytes, IPv4 in the IPv4-mapped form ::ffff:a.b.c.d. 18.16
//     has neither the IPv4 nor the IPv6 type; a UInt32 column would need a
//     second column (or a family flag) for IPv6, and two families in two
//     columns make every address test twice as long. The 16-byte form is
//     the layout of ClickHouse's IPv6 type and of IPv6StringToNum, so
//     IPv6NumToString(src) prints both families (::ffff:10.0.0.1), later
//     versions can CAST it to IPv6, and a CIDR block is one byte range
//     (BETWEEN), which the primary key can serve;
//   - counters UInt64, interfaces and AS numbers UInt32, ports, sensor,
//     VLAN and application UInt16, protocol, flags, end reason and type
//     UInt8, as wide as the Record fields;
//   - insert_id UInt64, the same for all rows of one INSERT (or of one
//     message given to [Sink.WriteKeyed]), lets a sink find out after a
//     lost answer whether its INSERT was stored, and after a redelivery
//     whether the message was.
//
// The engine is MergeTree, PARTITION BY toDate(stime): a day per partition
// keeps the partition count low (18.16 handles hundreds, not tens of
// thousands), makes retention a DROP PARTITION per day, and most flow
// questions are about a time window, which prunes whole days.
// ORDER BY (toStartOfHour(stime), src, dst, start_ns): within a day the
// hour prefix narrows a time window to hours through the primary index;
// within the hour, rows sort by source then destination address, so the
// commonest filters after time ("host", "src net", top talkers by source)
// skip granules, and equal addresses sit together, which compresses well;
// start_ns last keeps each conversation in time order. A key led by the
// exact start time would serve time windows to the second but leave the
// address columns unsorted, and address filters would read the whole
// window. Measured on 4.2 million flows of one hour (one part): a source
// address lookup read 32,768 rows in 4 ms with this key and all 4,194,304
// in 65 ms with ORDER BY (toStartOfHour(stime), start_ns). The price is at
// insert time: sorting by address costs the server about 40% more CPU per
// flow (0.48 to 0.55 against 0.75 million flows per server CPU second).
//
// # Writing
//
// [Sink] implements flow.Sink: it copies records into a buffer of
// Config.BatchSize (default 262144) flows and sends one INSERT per full
// buffer (and on Flush and Close), as typed columns, from Config.Senders
// goroutines (default 1); it holds at most Senders+1 buffers, so its
// memory is bounded (see Config.BatchSize). A failed INSERT is
// tried again with exponential backoff up to Config.MaxRetries times,
// except for errors a retry cannot mend (missing table or column, refused
// login); the sink's context stops it. Errors name the server and the
// table.
//
// Speed (BenchmarkInsert: go test -run X -bench Insert -benchtime
// 3000000x ./export/clickhouse, one server on the same 2-core machine,
// shared with other work at a load average of about 3): 0.39 to 0.58
// million flows/s at the defaults, 0.37 to 0.46 million with LZ4
// (Config.Compress); per CPU second, the server stores 0.5 to 0.7 million
// flows (merges included) and the sink encodes 1.6 to 2.1 million (1.0 to
// 1.2 million with LZ4). A second sender (Config.Senders) gave nothing
// measurable on that machine. 262144 flows per INSERT cost the server
// about 40% less CPU per flow than 65536: fewer, larger parts to write and
// merge.
//
// Nothing is stored twice: an INSERT that fails before its block was sent
// is simply sent again. One whose block was sent but whose answer was lost
// (the server died in between) may or may not be stored; ClickHouse
// writes each partition's share of a block as one part, atomically (a part
// is written to a temporary directory and renamed), so after reconnecting
// the sink waits until no earlier try of that INSERT still runs (its query
// id is in system.processes) and asks the table which days hold rows with
// the INSERT's insert_id, then sends again only the flows of the days that
// hold none. This is exact for MergeTree tables. Through a Distributed
// table, rows may still sit in the receiving server's queue when the sink
// asks, so a crash of that server during an INSERT can store flows twice.
//
// The same check removes duplicates that come from upstream: a message
// from a queue (NATS JetStream) that a collector stored but did not
// acknowledge before dying is delivered again, maybe to another collector.
// [Sink.WriteKeyed] gives the message's flows an insert_id derived from the
// message id, the same in every collector, and, for a redelivered message,
// asks the table for that id before sending and skips the days that hold
// it. Rows of many messages share one INSERT, each with its own insert_id,
// so INSERTs stay large (see WriteKeyed for what this relies on).
//
// # Sharding
//
// Two ways are supported and tested with two servers (each with its own
// config, port and data directory, and a remote_servers cluster of two
// shards with one replica each):
//
//   - through a Distributed table ([DistributedSQL]) over the local
//     MergeTree tables, sharding key sipHash64(src): a Sink writes to the
//     Distributed table on one server, which writes each shard's rows to
//     its on-disk queue and forwards them. While a shard is down its rows
//     wait in the queue and are sent when it comes back (tested: a shard
//     down during all inserts, then started). But ClickHouse 18.16 takes a
//     shard killed in the middle of receiving a queue file for a corrupt
//     file ("Attempt to read after eof") and moves the file to broken/,
//     where its rows stay undelivered until someone inserts them by hand:
//     killing a shard during inserts lost about 2,500 of 200,000 flows this
//     way. A crash of the server receiving the inserts in the middle of an
//     INSERT can also store flows twice (see Sink);
//   - per shard by key hash ([ShardedSink]): flowkit picks the shard from
//     the source address ([ShardOf], FNV-1a, mixed) and writes each shard's local
//     table with its own Sink, so each shard gets exactly-once inserts and
//     no server queues data for another. While a shard is down, its Sink
//     retries and WriteBatch blocks. This is what the fault test checks:
//     a shard killed during inserts and restarted, and the totals exact.
//
// The tests start each server as "clickhouse-server
// --config-file=DIR/config.xml" (server_test.go writes the files): the
// config sets listen_host 127.0.0.1, tcp_port, path, tmp_path,
// user_files_path and format_schema_path under DIR, users_config (a
// users.xml with the default user, no password, from loopback), timezone
// UTC, console logging, and remote_servers with the cluster "flows": one
// <shard><replica><host>127.0.0.1</host><port>N</port></replica></shard>
// per server. 18.16 runs as root with no extra flag, needs no HTTP or
// interserver port, and answers within about a second. On each server the
// tests create the local table (TableSQL) and the Distributed table
// (DistributedSQL with cluster "flows", database "default").
//
// Either way, queries go to the Distributed table, which reads all shards
// and merges. Both put a source address's flows on one shard (with
// different hashes, which does not matter to queries through the
// Distributed table).
//
// # Queries
//
// [Where] translates a query.Pred (what query.Parse reads: "proto tcp and
// dst port 22", "host 10.0.5.7", "net 10.0.0.0/24", "bytes > 1M", flags,
// times, durations) into a WHERE expression that selects the same flows as
// Pred.Match; prefix-map labels and IP sets of more than 1000 CIDR blocks
// give ErrNotTranslated. A start-time filter also bounds stime, so that the
// server skips whole days and, through the primary key, hours (the test
// runs it with force_index_by_date and force_primary_key).
// [GroupQuery] is a group-by with sums and distinct
// counts and, with Limit, a top-N (top source addresses by bytes), ranked
// and tie-broken as query.Top; [Group] runs it. The tests run each
// filter and top-N over the same flows in Go and in ClickHouse and require
// the same answer.
package clickhouse
