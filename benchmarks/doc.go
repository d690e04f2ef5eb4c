// Package benchmarks is the planned home of flowkit's whole-process
// benchmark suite: `benchmarks/run [-quick]` measuring flowkit side by side
// with softflowd, nfdump/nfcapd, tshark and goflow2 on the benchmark corpus,
// and writing the table of ratios to RESULTS.md.
//
// Micro-benchmarks (go test -bench) live beside the code they measure.
package benchmarks
