package flow

import (
	"bytes"
	"cmp"
	"slices"
)

// CompareRecords orders records as the meter command prints them: by
// Start, then source and destination address, source and destination
// port, protocol, VLAN, then End and EndReason so that the order is total
// for the records of one table. It returns -1, 0 or +1.
func CompareRecords(a, b *Record) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Src[:], b.Src[:]); c != 0 {
		return c
	}
	if c := bytes.Compare(a.Dst[:], b.Dst[:]); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SrcPort, b.SrcPort); c != 0 {
		return c
	}
	if c := cmp.Compare(a.DstPort, b.DstPort); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Protocol, b.Protocol); c != 0 {
		return c
	}
	if c := cmp.Compare(a.VLAN, b.VLAN); c != 0 {
		return c
	}
	if c := cmp.Compare(a.End, b.End); c != 0 {
		return c
	}
	return cmp.Compare(a.EndReason, b.EndReason)
}

// SortRecords sorts recs in place with CompareRecords, so the output of
// two meter runs (any number of workers) can be diffed.
func SortRecords(recs []Record) {
	slices.SortFunc(recs, func(a, b Record) int { return CompareRecords(&a, &b) })
}
