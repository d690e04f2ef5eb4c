package testenv

import (
	"cmp"
	"slices"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// SameRecords fails the test unless got and want hold the same records the
// same number of times, in any order: first the counts and the packet and
// byte sums (logged, since they say most when a transport loses or repeats
// flows), then record by record. It sorts copies, not the slices given.
func SameRecords(t testing.TB, got, want []flow.Record) {
	t.Helper()
	var gp, gb, wp, wb uint64
	for i := range got {
		gp += got[i].Packets
		gb += got[i].Bytes
	}
	for i := range want {
		wp += want[i].Packets
		wb += want[i].Bytes
	}
	t.Logf("got %d records, %d packets, %d bytes; want %d, %d, %d", len(got), gp, gb, len(want), wp, wb)
	if len(got) != len(want) || gp != wp || gb != wb {
		t.Fatalf("got %d records, %d packets, %d bytes; want %d, %d, %d", len(got), gp, gb, len(want), wp, wb)
	}
	// Records alike but for the sensor (one capture metered as several
	// sensors) need the sensor in the order too.
	got, want = slices.Clone(got), slices.Clone(want)
	for _, rs := range [][]flow.Record{got, want} {
		flow.SortRecords(rs)
		slices.SortStableFunc(rs, func(a, b flow.Record) int { return cmp.Compare(a.Sensor, b.Sensor) })
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d differs:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}
