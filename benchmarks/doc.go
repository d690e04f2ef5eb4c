// Package benchmarks is flowkit's whole-process benchmark suite, a Go
// module of its own so that the peers it imports for comparison (goflow2)
// stay out of the main module's dependencies.
//
// `benchmarks/run [-quick]` installs the peers it needs from Debian's
// packages (softflowd, nfdump, tshark), prepares the data, runs each
// comparison several times alternating flowkit and the peer, and prints
// one table (work, flowkit median, peer median, ratio, peak memory of
// each) with the machine's description; it also writes the table to
// RESULTS.md. Each comparison runs when the flowkit part it needs exists
// and says "not yet" otherwise: no figure is ever made up.
//
// Micro-benchmarks (go test -bench) live beside the code they measure.
package benchmarks
