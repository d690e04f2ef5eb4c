package detect_test

import (
	"fmt"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query/detect"
)

// Example runs the scan detector over a small SYN scan given as one-way
// records: each probe and the RST that refused it.
func Example() {
	scanner := flow.AddrFrom4([4]byte{203, 0, 113, 9})
	victim := flow.AddrFrom4([4]byte{10, 0, 0, 20})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var recs []flow.Record
	for p := uint16(1); p <= 100; p++ {
		t := t0 + int64(p)*int64(time.Millisecond)
		recs = append(recs,
			flow.Record{Src: scanner, Dst: victim, SrcPort: 40000, DstPort: p, Protocol: flow.ProtoTCP,
				Start: t, End: t, Packets: 1, Bytes: 44, Flags: flow.SYN},
			flow.Record{Src: victim, Dst: scanner, SrcPort: p, DstPort: 40000, Protocol: flow.ProtoTCP,
				Start: t, End: t + 1000, Packets: 1, Bytes: 40, Flags: flow.RST | flow.ACK})
	}
	e := detect.NewEngine(detect.NewScanDetector(detect.ScanConfig{}))
	e.FinalOnly = true
	e.OnAlert = func(a detect.Alert) { fmt.Println(a.Kind, a.Key, a.Text) }
	_ = e.WriteBatch(recs)
	e.Flush()
	// Output:
	// scan 203.0.113.9 tcp vertical scan of 100 targets (1 hosts, 100 ports), 100 flows, 0% answered, 2026-01-01 00:00:00 - 00:00:00, method trw+sweep
}

// ExampleAnalyzeStarts judges a series of start times directly.
func ExampleAnalyzeStarts() {
	var starts []int64
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := int64(0); i < 48; i++ {
		jitter := (i%5 - 2) * int64(time.Second)
		starts = append(starts, t0+i*int64(10*time.Minute)+jitter)
	}
	b := detect.AnalyzeStarts(starts, detect.BeaconConfig{})
	fmt.Println(b.Period, b.PerCycle, b.Regularity)
	// Output:
	// 10m0s 1 1
}

// ExampleThreshold is a streaming pipeline rule: alert when one source
// sends five SSH SYNs within a minute.
func ExampleThreshold() {
	rule := &detect.Threshold[flow.Addr]{
		RuleName: "ssh-burst",
		Match:    func(r *flow.Record) bool { return r.DstPort == 22 && r.Flags&flow.SYN != 0 },
		Key:      func(r *flow.Record) flow.Addr { return r.Src },
		Count:    5,
		Window:   time.Minute,
	}
	e := detect.NewEngine(rule)
	e.OnAlert = func(a detect.Alert) { fmt.Println(a.Kind, a.Key, a.Text) }
	src := flow.AddrFrom4([4]byte{10, 9, 9, 9})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := int64(0); i < 8; i++ {
		t := t0 + i*int64(5*time.Second)
		e.Observe(&flow.Record{Src: src, DstPort: 22, Protocol: flow.ProtoTCP, Flags: flow.SYN, Start: t, End: t})
	}
	e.Flush()
	// Output:
	// ssh-burst 10.9.9.9 5 matching records within 20s
}
