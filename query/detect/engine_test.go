package detect

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// TestEngineAllRules runs every detector over one mixed stream: each
// finds its own pattern and nothing else.
func TestEngineAllRules(t *testing.T) {
	var recs []flow.Record
	recs = append(recs, icmpSweep()...)
	recs = append(recs, synScan()...)
	recs = append(recs, busyServer()...)
	recs = append(recs, browsing(1)...)
	recs = append(recs, burstBeacon(1)...)
	recs = append(recs, sshRollover()...)
	byEnd(recs)
	e := NewEngine(NewScanDetector(ScanConfig{}), NewBeaconDetector(BeaconConfig{}), NewSessionDetector(SessionConfig{}))
	e.FinalOnly = true
	if err := e.Run(context.Background(), &flow.SliceSource{Recs: recs}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range e.Alerts {
		got = append(got, string(a.Kind)+" "+a.Key)
	}
	slices.Sort(got)
	want := []string{
		"beacon 10.0.0.66 -> 198.51.100.200:443/tcp",
		"long 10.0.0.12:50022 -> 10.0.9.22:22/tcp",
		"scan 192.0.2.66",
		"scan 203.0.113.9",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("alerts:\n%v\nwant\n%v", got, want)
	}
}

func TestThreshold(t *testing.T) {
	// Alert when one source sends 5 SSH SYNs within a minute.
	rule := &Threshold[flow.Addr]{
		RuleName: "ssh-burst",
		Match:    func(r *flow.Record) bool { return r.DstPort == 22 && r.Flags&flow.SYN != 0 },
		Key:      func(r *flow.Record) flow.Addr { return r.Src },
		Count:    5,
		Window:   time.Minute,
	}
	var recs []flow.Record
	for i := int64(0); i < 10; i++ {
		recs = append(recs, rec(addr("10.9.9.9"), addr("10.0.0.1"), 1000, 22, flow.ProtoTCP, day0+i*sec(5), 0, 1, 60, flow.SYN))
		recs = append(recs, rec(addr("10.9.9.8"), addr("10.0.0.1"), 1000, 22, flow.ProtoTCP, day0+i*sec(20), 0, 1, 60, flow.SYN))
	}
	alerts := run(t, byEnd(recs), rule)
	if len(alerts) != 1 || alerts[0].Key != "10.9.9.9" || alerts[0].Kind != "ssh-burst" {
		t.Fatalf("alerts %v", alerts)
	}
	if c := alerts[0].Detail.(*Count); c.End.Sub(c.Start) != 20*time.Second {
		t.Fatalf("count %+v", c)
	}
}

func TestEngineRunSeqMatchesWriteBatch(t *testing.T) {
	recs := synScan()
	e := NewEngine(NewScanDetector(ScanConfig{}))
	e.RunSeq(slices.Values(recs))
	if len(e.Alerts) != 2 || e.Alerts[0].Final || !e.Alerts[1].Final {
		t.Fatalf("want an early and a final alert, got %v", e.Alerts)
	}
}
