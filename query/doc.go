// Package query asks questions of flow records: which flows match a
// condition, how much traffic fell in each time bin, who the top talkers
// are. It is what SiLK's rwfilter, rwcount, rwuniq, rwstats, rwsort,
// rwset and rwbag do, as one Go API that runs on any record stream (a
// [flow.Source], an [iter.Seq] of records, a slice) and that a planner maps
// onto the store's indexes.
//
// # Predicates
//
// A [Pred] is an inspectable tree: [And], [Or], [Not] over leaves that
// test one field each ([Range], [TimeRange], [Prefix], [InSet], [FlagMask],
// [Label]). Build one in Go:
//
//	p := query.And{query.Eq(query.Protocol, 6), query.Eq(query.DstPort, 22)}
//
// or parse the nfdump-style text expression a person types:
//
//	p, err := query.Parse("proto tcp and dst port 22", nil)
//
// Pred.Match tests one record; a [Matcher] evaluates the same tree
// column-wise over a batch into a selection vector ([Bits]) with no
// allocation per record, over records ([RecordColumns]) or any other
// [Columns] such as a store block's decoded vectors.
//
// # Operations
//
// [Filter] splits a stream into pass and fail outputs. [Counter] sums
// records, bytes and packets per time bin with SiLK's load schemes.
// [Grouper] groups by any set of fields with pointer-free maps keyed by
// fixed-size keys and computes sums, first start, last end and distinct
// counts; [Top] picks the top or bottom N groups with percentages.
// [Sorter] sorts by fields and spills sorted runs to disk beyond a memory
// budget. [IPSet] and [Bag] are SiLK's sets and bags; [PrefixMap] labels
// address blocks and serves as a predicate and a group-by key. [Parallel]
// spreads the batches of a source over goroutines.
//
// # Over the store
//
// [ScanStore] is the planner: for each block of the repository files a
// selection (narrowed by the predicate's start-time bounds) leaves, zone
// maps decide whether no row or every row can match a leaf, index
// lookups ([store.Index.MarkRange], [store.Index.MarkPrefix], read in
// place from the roaring bitmaps) mark the rows of leaves on indexed
// columns (protocol, ports, addresses, flags, sensor, application) in row
// bitsets that are combined through And, Or and Not; a block without candidates is never decoded, a count the
// indexes answer exactly decodes nothing, and otherwise only the columns
// the caller and the remaining leaves need are decoded and the rest of the
// predicate runs column-wise on the candidate rows, in parallel over
// blocks. [ScanStats] tells what was skipped.
//
// # File formats
//
// IP sets are saved in the format documented at [IPSet.MarshalBinary]
// (magic "FKIPSET1", a portable roaring bitmap for IPv4, sorted IPv6
// ranges, CRC-32C); [ReadIPSet] also reads text (addresses, CIDR blocks,
// ranges). Bags use the format of [Bag.MarshalBinary] ("FKBAG001").
// Prefix maps load from text ("CIDR label" lines).
package query
