package detect

import (
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// benchRecords is a day of mixed traffic like the benchmark corpus
// (gen_flows.py): 1 M one-way records, 5000 internal hosts (Zipf), 200 k
// external ones, TCP/UDP/ICMP 80/15/5, in end-time order.
var benchRecords = sync.OnceValue(func() []flow.Record {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(20261128, 1))
	inner := rand.NewZipf(rng, 1.1, 1, 4999)
	outer := rand.NewZipf(rng, 1.05, 1, 199_999)
	recs := make([]flow.Record, n)
	for i := range recs {
		r := &recs[i]
		in := flow.AddrFromUint32(0x0a000000 + uint32(inner.Uint64()) + 1)
		out := flow.AddrFromUint32(0x40000000 + uint32(outer.Uint64())*97)
		r.Start = day0 + int64(i)*86_400_000_000_000/n + rng.Int64N(1e9)
		r.End = r.Start + rng.Int64N(30e9)
		r.Packets = 1 + uint64(rng.ExpFloat64()*20)
		r.Bytes = r.Packets * uint64(40+rng.IntN(1400))
		r.SrcPort = uint16(32768 + rng.IntN(28000))
		switch p := rng.IntN(100); {
		case p < 80:
			r.Protocol = flow.ProtoTCP
			r.DstPort = []uint16{443, 443, 80, 25, 22, 3389}[rng.IntN(6)]
			r.Flags = flow.SYN | flow.ACK | flow.PSH | flow.FIN
			if r.Packets < 3 {
				r.Flags = flow.SYN
			}
		case p < 95:
			r.Protocol = flow.ProtoUDP
			r.DstPort = []uint16{53, 53, 123, 443}[rng.IntN(4)]
		default:
			r.Protocol = flow.ProtoICMP
			r.SrcPort = 0
			r.DstPort = []uint16{8 << 8, 0, 3<<8 | 3}[rng.IntN(3)]
		}
		r.Src, r.Dst = in, out
		if rng.IntN(100) < 35 {
			r.Src, r.Dst = out, in
		}
	}
	return byEnd(recs)
})

func benchRule(b *testing.B, mk func() Rule) {
	recs := benchRecords()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e := NewEngine(mk())
		e.OnAlert = func(Alert) {}
		_ = e.WriteBatch(recs)
		e.Flush()
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkScanDetector(b *testing.B) {
	benchRule(b, func() Rule { return NewScanDetector(ScanConfig{}) })
}

func BenchmarkBeaconDetector(b *testing.B) {
	benchRule(b, func() Rule { return NewBeaconDetector(BeaconConfig{}) })
}

func BenchmarkSessionDetector(b *testing.B) {
	benchRule(b, func() Rule { return NewSessionDetector(SessionConfig{}) })
}

func BenchmarkAllDetectors(b *testing.B) {
	benchRule(b, func() Rule {
		return ruleList{NewScanDetector(ScanConfig{}), NewBeaconDetector(BeaconConfig{}), NewSessionDetector(SessionConfig{})}
	})
}

// ruleList runs several rules as one, for the benchmark.
type ruleList []Rule

func (l ruleList) Name() string { return "all" }
func (l ruleList) Observe(r *flow.Record, emit func(Alert)) {
	for _, x := range l {
		x.Observe(r, emit)
	}
}
func (l ruleList) Flush(emit func(Alert)) {
	for _, x := range l {
		x.Flush(emit)
	}
}
