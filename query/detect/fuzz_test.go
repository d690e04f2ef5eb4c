package detect

import (
	"encoding/binary"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// FuzzRules feeds records made from arbitrary bytes (any times, flags,
// ports, end reasons, out of order) to every rule: no panic, and every
// alert complete.
func FuzzRules(f *testing.F) {
	f.Add([]byte("seed record bytes for the detectors...................................."))
	f.Add(make([]byte, 200))
	f.Fuzz(func(t *testing.T, data []byte) {
		const size = 24
		var recs []flow.Record
		for len(data) >= size {
			b := data[:size]
			data = data[size:]
			r := flow.Record{
				Src:      flow.AddrFromUint32(0x0a000000 | uint32(b[0]&7)),
				Dst:      flow.AddrFromUint32(0x0a000100 | uint32(b[1]&15)),
				SrcPort:  binary.LittleEndian.Uint16(b[2:]) & 0x0f0f,
				DstPort:  binary.LittleEndian.Uint16(b[4:]),
				Protocol: []uint8{1, 6, 17, 58, 47}[b[6]%5],
				Flags:    flow.TCPFlags(b[7]),
				Packets:  uint64(b[8]),
				Bytes:    uint64(binary.LittleEndian.Uint16(b[9:])),
				Start:    day0 + int64(binary.LittleEndian.Uint32(b[11:]))*1e6,
			}
			r.End = r.Start + int64(int16(binary.LittleEndian.Uint16(b[15:])))*1e7
			r.InitialFlags = flow.TCPFlags(b[17])
			r.RevPackets = uint64(b[18] & 3)
			r.RevFlags = flow.TCPFlags(b[19])
			r.EndReason = flow.EndReason(b[20] % 7)
			recs = append(recs, r)
		}
		th := &Threshold[flow.Addr]{RuleName: "t", Key: func(r *flow.Record) flow.Addr { return r.Src }, Count: 3, Window: 1e10}
		e := NewEngine(NewScanDetector(ScanConfig{MinTargets: 1, SweepMinTargets: 2, MaxSources: 4, MaxTargets: 8}),
			NewBeaconDetector(BeaconConfig{MinEvents: 3, MinSpan: 1, MaxPairs: 4, MaxEvents: 8, EvalEvery: 1}),
			NewSessionDetector(SessionConfig{MaxChains: 4, LongDuration: 1e9, LowSlowDuration: 1e9}), th)
		_ = e.WriteBatch(recs)
		e.Flush()
		for _, a := range e.Alerts {
			if a.Detail == nil || a.Text == "" || a.Key == "" {
				t.Fatalf("incomplete alert %+v", a)
			}
		}
	})
}
