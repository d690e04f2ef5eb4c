package store

import (
	"os"
	"slices"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
)

// sharedData returns a file under ../shared/data beside the module root.
func sharedData(t *testing.T, rel string) string { return testenv.Shared(t, "data", rel) }

// TestRealIPFIXRoundTrip stores the records of a real IPFIX capture
// (ipfixcol2's example flows: IPv4 and IPv6, many exporters' fields) and
// reads every field back exactly.
func TestRealIPFIXRoundTrip(t *testing.T) {
	in, err := os.Open(sharedData(t, "ipfix/ipfixcol2_example_flows.ipfix"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var sink flow.SliceSink
	if _, err := flow.Copy(&sink, ipfix.NewFileReader(in)); err != nil {
		t.Fatal(err)
	}
	recs := sink.Recs
	if len(recs) < 1000 {
		t.Fatalf("only %d records in the capture", len(recs))
	}
	v6 := 0
	for i := range recs {
		if !recs[i].Src.Is4() {
			v6++
		}
	}
	f, err := OpenBytes("ipfix", writeFile(t, recs, 1000))
	if err != nil {
		t.Fatal(err)
	}
	var got []flow.Record
	var rerr error
	for r := range f.Records(AllColumns, &rerr) {
		got = append(got, r)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	want := slices.Clone(recs)
	slices.SortFunc(want, cmpRecordAll)
	slices.SortFunc(got, cmpRecordAll)
	if !slices.Equal(got, want) {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
			}
		}
	}
	t.Logf("%d records (%d IPv6) in %d bytes: %.1f B/flow", len(recs), v6, f.Size(), float64(f.Size())/float64(len(recs)))
}

// cmpRecordAll orders records by every field (a total order for exact
// multiset comparison).
func cmpRecordAll(a, b flow.Record) int {
	if c := cmpRecord(a, b); c != 0 {
		return c
	}
	ka, kb := a.String()+string(a.NextHop[:]), b.String()+string(b.NextHop[:])
	if ka != kb {
		if ka < kb {
			return -1
		}
		return 1
	}
	pa := []uint64{a.Packets, a.RevPackets, a.RevBytes, uint64(a.RevStartOffset), uint64(a.Input), uint64(a.Output),
		uint64(a.SrcAS), uint64(a.DstAS), uint64(a.DstPort), uint64(a.Sensor), uint64(a.VLAN), uint64(a.Application),
		uint64(a.Protocol), uint64(a.Flags), uint64(a.InitialFlags), uint64(a.SessionFlags), uint64(a.RevFlags),
		uint64(a.RevInitialFlags), uint64(a.RevSessionFlags), uint64(a.EndReason), uint64(a.Type)}
	pb := []uint64{b.Packets, b.RevPackets, b.RevBytes, uint64(b.RevStartOffset), uint64(b.Input), uint64(b.Output),
		uint64(b.SrcAS), uint64(b.DstAS), uint64(b.DstPort), uint64(b.Sensor), uint64(b.VLAN), uint64(b.Application),
		uint64(b.Protocol), uint64(b.Flags), uint64(b.InitialFlags), uint64(b.SessionFlags), uint64(b.RevFlags),
		uint64(b.RevInitialFlags), uint64(b.RevSessionFlags), uint64(b.EndReason), uint64(b.Type)}
	return slices.Compare(pa, pb)
}
