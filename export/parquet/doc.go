// Package parquet exports flow records as Apache Parquet files, the
// columnar file that Spark, Trino, ClickHouse, DuckDB and pandas all read,
// so that flows outgrow one machine without a home-made cluster.
//
//	w := parquet.NewWriter(f, parquet.Options{})   // a flow.Sink
//	flow.Copy(w, src)                              // any flow.Source
//	w.Close()                                      // last row group + footer
//
// OpenReader reads a file back as a flow.Source (every field exact).
//
// # Schema
//
// One row per flow, every field of flow.Record, typed so that engines
// filter and sum without casts:
//
//	column                      Parquet type                        encoding
//	start_time, end_time        INT64 TIMESTAMP(NANOS, UTC)         delta
//	src_addr, dst_addr          BYTE_ARRAY STRING                   dictionary; "10.0.0.1", "2001:db8::1"
//	src_ipv4, dst_ipv4          INT32 UINT_32, optional             dictionary; null for IPv6
//	next_hop                    BYTE_ARRAY STRING                   dictionary; "" when none
//	src_port, dst_port          INT32 UINT_16                       dictionary; ICMP: type*256+code
//	protocol                    INT32 UINT_8                        dictionary
//	packets, rev_packets        INT64 UINT_64                       dictionary
//	bytes, rev_bytes            INT64 UINT_64                       delta
//	rev_start_offset_ns         INT64                               delta; nanoseconds
//	input, output, src_as,
//	dst_as                      INT32 UINT_32                       dictionary
//	sensor, vlan, application   INT32 UINT_16                       dictionary
//	flags, initial_flags,
//	session_flags, rev_*flags   INT32 UINT_8                        dictionary; TCP flag bits (FIN=1 ... CWR=128)
//	end_reason, flow_type       BYTE_ARRAY ENUM                     dictionary; idle, active, ...; in, out, int, ext
//
// The encodings are chosen for write speed as much as size: a column of
// few distinct values (flags, ports, packet counts, addresses) becomes
// bit-packed dictionary indexes, and wide counters become deltas, which
// leave a codec little to do: only the columns where it gains are
// compressed (the addresses, whose dictionary pages of texts zstd
// shrinks by more than half, destination ports and AS numbers); the others' pages
// are stored as they are, for the same size and a fifth less time.
// The dictionaries are per column chunk, in first-seen order.
// Engines read every encoding; the types are what queries see.
//
// Addresses come twice because engines filter on them in two ways. The
// string is what a person types (WHERE src_addr = '10.0.0.1') and is the
// same column for IPv4 and IPv6; engines without an IP type (DuckDB,
// Spark, Trino's Parquet reader) compare it directly, and its dictionary
// keeps it small. The UINT32 column is what prefix and range filters need
// (WHERE src_ipv4 BETWEEN 167772160 AND 184549375 for 10.0.0.0/8): its
// row group and page min/max statistics let an engine skip data, and
// ClickHouse reads it as its IPv4 type. A 16-byte FIXED_LEN_BYTE_ARRAY
// would cover IPv6 too, but no engine lets a person write a literal for it
// without a function call, so the string is the portable form.
//
// Timestamps are nanoseconds, as in flow.Record, so an export loses
// nothing; DuckDB, Trino, ClickHouse and pandas read TIMESTAMP(NANOS).
// Spark 3 needs spark.sql.legacy.parquet.nanosAsLong=true for it.
//
// Row groups hold DefaultRowGroupRows (1 M) rows, about 31 MB with zstd
// on the benchmark corpus: large enough for engines to read efficiently,
// small enough that a writer keeps one in memory. Every column has column
// chunk statistics (min, max, null count) and a page index (each page's
// min, max and null count, and where it starts). Data page headers carry
// no second copy of the page statistics: the page index replaced them
// (parquet-mr stopped writing them too), and computing them twice cost 5%
// of the writer's time.
//
// # Why parquet-go
//
// Both github.com/parquet-go/parquet-go (v0.32.0) and Apache Arrow's
// github.com/apache/arrow-go/v18 (v18.8.0) were measured writing this
// schema for the 1 M-flow benchmark corpus (gen_flows.py) on the
// project's 2-core machine:
//
//	writer               time      flows/s   bytes/flow  allocations
//	parquet-go zstd      971 ms    1.03 M    36.7        8 300 (0.01/flow)
//	parquet-go snappy    788 ms    1.27 M    44.0        5 345
//	arrow-go zstd        1864 ms   0.54 M    33.3        4.19 M (4.2/flow)
//	arrow-go snappy      1553 ms   0.64 M    39.6        4.19 M
//
// parquet-go writes twice as fast and allocates nothing per flow (values
// go straight into reused column buffers), where arrow-go builds Arrow
// arrays first (a copy and a gigabyte of garbage per million flows) for
// files only 10% smaller.
//
// # Speed
//
// BenchmarkWrite, 1 M corpus flows (go test ./export/parquet -run XXX
// -bench Write -benchtime 3x), four runs each, alternating with the
// writer of 2026-12-01 (e88f5ab), on the project's 2-core machine, whose
// speed drifts by a fifth within minutes (so the ranges):
//
//	codec           flows/s       flows/CPU-s   bytes/flow   writer of 2026-12-01 (flows/s, flows/CPU-s, bytes/flow)
//	zstd (fastest)  5.16-5.82 M   2.78-3.10 M   31.3         2.67-3.04 M, 2.07-2.18 M, 31.1
//	snappy          4.80-5.64 M   2.65-3.00 M   31.8         2.78-3.25 M, 2.14-2.41 M, 31.8
//	none            5.39-6.37 M   2.88-3.40 M   33.6         2.62-3.43 M, 2.26-2.58 M, 33.6
//
// Zstd is the default: the smallest files, and with its pages coded as
// literals only (zstdlit.go) no slower than Snappy. WriteBatch copies
// records into chunks of 8192 that two helper goroutines encode while the
// caller fills the next, taking columns as jobs (schedule.go), so both
// cores are busy and flows/s is nearly twice flows/CPU-s; at a row
// group's end they write out the columns' last pages, leaving parquet-go
// little to do alone.
//
// How: the writer hands parquet-go no values (wrap.go). It fills each
// column's page buffer with a typed slice (pagebuf.go) and keeps every
// dictionary itself, keyed by what it knows of the values: the address
// texts by the address in open-addressing tables, which also give the
// IPv4 columns' indexes (textdict.go), the integers in direct arrays
// below 64 Ki and a table above (intdict.go); a page's min and max come
// from the values as they are looked up (textbounds.go), and the bit
// width of a page of indexes from the dictionary's length. The address
// dictionary pages are encoded and compressed as the dictionaries grow
// (dictcodec.go). Where the time goes now, by CPU profile: the address
// lookups, a random memory read each, a sixth; parquet-go encoding pages
// a sixth; the integer dictionaries and reading their values from the
// records a fifth; copying records into chunks a tenth. Columns that are
// all zeros in a chunk (the reverse side of unidirectional flows, AS
// numbers not reported, ...) cost nearly nothing (zeros.go).
package parquet
