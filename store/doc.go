// Package store keeps flow records on disk in a columnar, compressed,
// indexed format and organizes the files into a SiLK-like repository.
//
// # Repository layout
//
// A repository is a directory tree partitioned by sensor, flow type and hour
// of the record's start time, readable by a person:
//
//	ROOT/
//	  S0/                         sensor (S + numeric id, as SiLK's S0)
//	    in/  out/  int/  ext/     flow type set by a Classifier
//	      2026/01/01/00/          hour of Start (UTC)
//	        in-S0_20260101.00-<id>.fkb   committed, immutable file
//	        .in-S0_....fkb.tmp           being written: never read
//
// A [Writer] buffers records per partition, encodes full blocks into a
// hidden temporary file and commits it on Flush or Close: write, fsync,
// rename to the visible name, fsync the directory. Readers list only
// committed names, so they never see a half-written file; a crash loses at
// most what was not flushed. [Repo.Retain] removes hours older than a limit.
//
// # File layout (see FORMAT.md for every byte)
//
//	+--------------------+ 0
//	| header: magic, ver |
//	+--------------------+
//	| block 0            |  column chunk 0 | column chunk 1 | ... (lz4 or raw)
//	| block 1            |  rows sorted by Start, at most 65536 rows
//	| ...                |
//	+--------------------+
//	| footer             |  per block: rows, zone maps, per column
//	|                    |  offset, sizes, encoding, CRC32C
//	+--------------------+
//	| trailer            |  footer length, footer CRC32C, magic
//	+--------------------+
//
// Indexed columns (protocol, ports, TCP flags, sensor, application,
// addresses) are stored as their own index: a sorted dictionary of the
// values worth a roaring bitmap of rows, the most frequent value (or the
// rare ones) implicit, and rare values kept as exceptions in row order.
// Reading the column and answering "which rows have value v" come from the
// same bytes, so the index costs almost nothing on top, and every lookup
// is exact. On the benchmark corpus a flow takes about 14.4 bytes (10 M
// flows) to 14.8 bytes (1 M flows), indexes included.
//
// # Reading API (what a query planner uses)
//
//	repo, _ := store.OpenRepo(dir)
//	refs, _ := repo.Files(store.Selection{Start: t0, End: t1, Sensors: ..., Types: ...})
//	for _, ref := range refs {              // parallel over files is fine
//	    f, _ := store.OpenFile(ref.Path)    // mmap, read-only, footer checked
//	    for b := range f.NumBlocks() {      // parallel over blocks is fine
//	        info := f.Block(b)              // zone maps: MinStart, MaxStart, MinEnd, MaxEnd,
//	                                        // info.Range(ColBytes), info.AddrRange(ColSrc)
//	        idx, _ := f.Index(b, store.ColDstPort)
//	        if !idx.ContainsRange(22, 22) { continue } // dictionary only
//	        rows := idx.Lookup(22)          // *roaring.Bitmap of rows, exact
//	        // also idx.LookupRange(lo, hi); addresses: idx.LookupAddr(a),
//	        // idx.LookupPrefix(netip.Prefix), idx.ContainsPrefix(p)
//	        // a scan reuses one Index and a row bitset per worker instead:
//	        //   f.ReadIndex(b, store.ColSrc, &ix)   // dictionary and layout only
//	        //   ix.MarkPrefix(rowBits, prefix)      // no allocation; exceptions
//	        //                                      // scanned only when needed
//	        var cols store.Columns          // caller-owned, reused across blocks
//	        f.ReadColumns(b, store.MaskOf(store.ColStart, store.ColBytes), &cols)
//	        // cols.Start[i], cols.Bytes[i] for i < cols.Len; only the chunks of
//	        // the mask (and those they are stored relative to) are read
//	    }
//	    f.Close()
//	}
//
// [Repo.Scan] and [File.Scan] do the loops above on several goroutines and
// hand each block's [Columns] to a callback.
//
// # Where decoding is in assembly
//
// The integer streams' prefix code is decoded in assembly on amd64, two
// chains at once for paired streams (tiered_amd64.s); on machines with
// AVX-512, placing exceptions, widening IPv4 addresses, narrowing values
// (expand_amd64.s) and the end column's remainders (duration_amd64.s) run
// 8 to 64 rows an instruction. Every routine has a Go loop beside it that
// other machines run and a test that compares the two.
//
// For convenience [File.Records] and [Repo.Records] give an
// iter.Seq[flow.Record] that reuses one Record. Corruption is reported as a
// [*CorruptError] naming file, block and column; it wraps [ErrCorrupt].
package store
