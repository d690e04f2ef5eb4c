// Package prefetch asks the processor to start loading memory that code
// will read soon, without waiting for it: a flow table looks up dozens of
// packets ahead this way, so that their cache misses overlap with the
// work on earlier packets instead of stalling it. A prefetch is only a
// hint: it never faults, even for an address that is no longer valid, and
// changes nothing a program can observe but its speed.
package prefetch
