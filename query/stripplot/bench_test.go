package stripplot

import (
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// benchPlot: 20 strips, 1 M flows over a day.
func benchPlot(b *testing.B) *Plot {
	rng := rand.New(rand.NewPCG(3, 3))
	bl := NewBuilder(Options{Top: 20})
	var r flow.Record
	for i := 0; i < 1_000_000; i++ {
		r.Src = flow.AddrFromUint32(0x0a000000 + uint32(rng.IntN(20)))
		r.Start = day0.UnixNano() + rng.Int64N(int64(24*time.Hour))
		r.Bytes = uint64(rng.IntN(1 << 20))
		bl.Add(&r)
	}
	p, err := bl.Plot()
	if err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkBuild(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	recs := make([]flow.Record, 1_000_000)
	for i := range recs {
		recs[i].Src = flow.AddrFromUint32(0x0a000000 + uint32(rng.IntN(5000)))
		recs[i].Start = day0.UnixNano() + rng.Int64N(int64(24*time.Hour))
		recs[i].Bytes = uint64(rng.IntN(1 << 20))
	}
	b.ResetTimer()
	for b.Loop() {
		bl := NewBuilder(Options{Top: 20})
		_ = bl.WriteBatch(recs)
		if _, err := bl.Plot(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkWritePNG(b *testing.B) {
	p := benchPlot(b)
	b.ResetTimer()
	for b.Loop() {
		if err := p.WritePNG(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteSVG(b *testing.B) {
	p := benchPlot(b)
	b.ResetTimer()
	for b.Loop() {
		if err := p.WriteSVG(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
