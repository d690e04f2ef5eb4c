package flow

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/flowkit/flowkit/timeouts"
)

// discardSink counts records and drops them.
type discardSink struct{ n int }

func (d *discardSink) WriteBatch(b []Record) error { d.n += len(b); return nil }

// benchStream returns n packets over the given number of flows (TCP and
// UDP, IPv4), in random order.
func benchStream(n, flows int) []Packet {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := make([]Packet, flows)
	for i := range keys {
		keys[i] = Packet{Src: AddrFromUint32(0x0a000000 + uint32(rng.IntN(1<<16))), Dst: AddrFromUint32(0xc0a80000 + uint32(rng.IntN(1<<12))),
			SrcPort: uint16(1024 + rng.IntN(60000)), DstPort: uint16([]int{80, 443, 53, 22}[i%4]), Protocol: ProtoTCP, Flags: ACK}
		if i%4 == 2 {
			keys[i].Protocol, keys[i].Flags = ProtoUDP, 0
		}
	}
	pkts := make([]Packet, n)
	for i := range pkts {
		pkts[i] = keys[rng.IntN(flows)]
		pkts[i].Length = uint32(40 + rng.IntN(1460))
		pkts[i].Time = t0 + int64(i)*1000 // 1 µs apart
	}
	return pkts
}

// BenchmarkTableUpdate meters a prepared stream of decoded packets over
// 100 000 concurrent flows (no flow expires), in batches of Table.Meter's
// size: one op is one packet. independent=2 is the yardstick for
// workers=2: two one-shard tables on two goroutines, each fed its own
// half of the flows (split beforehand by the same key hash), with nothing
// shared; what two cores of this machine can do at best.
func BenchmarkTableUpdate(b *testing.B) {
	const flows = 100_000
	stream := benchStream(1<<20, flows)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			tab, err := NewTable(TableConfig{Timeouts: timeouts.Default(), Workers: workers, Sink: &discardSink{}})
			if err != nil {
				b.Fatal(err)
			}
			defer tab.Close()
			meterStream(b, tab, stream, len(stream), nil) // warm up: every flow exists before timing starts
			b.ReportAllocs()
			var replays int64
			cpu0 := cpuTime()
			b.ResetTimer()
			meterStream(b, tab, stream, b.N, &replays)
			b.StopTimer()
			reportRates(b, cpu0+replays)
			if st := tab.Stats(); st.ActiveFlows > flows || st.Flows() != 0 {
				b.Fatalf("unexpected table state %+v", st)
			}
		})
	}
	b.Run("independent=2", func(b *testing.B) {
		var halves [2][]Packet
		for i := range stream {
			p := &stream[i]
			k := shardOf(symmetricHash(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.VLAN, p.Protocol), 2)
			halves[k] = append(halves[k], *p)
		}
		var tabs [2]*Table
		for k := range tabs {
			tab, err := NewTable(TableConfig{Timeouts: timeouts.Default(), Sink: &discardSink{}})
			if err != nil {
				b.Fatal(err)
			}
			defer tab.Close()
			meterStream(b, tab, halves[k], len(halves[k]), nil)
			tabs[k] = tab
		}
		cpu0 := cpuTime()
		b.ResetTimer()
		var wg sync.WaitGroup
		for k := range tabs {
			// The two goroutines replay their halves inside the timing
			// (b's timer is not theirs to stop), which makes this
			// yardstick a little slower than it could be.
			wg.Go(func() { meterStream(b, tabs[k], halves[k], (b.N+1-k)/2, nil) })
		}
		wg.Wait()
		b.StopTimer()
		reportRates(b, cpu0)
	})
}

// meterStream meters n packets of stream in batches of Table.Meter's
// size, replaying it with later timestamps as often as needed so that the
// clock keeps moving. With replays non-nil, b's timer stops while the
// timestamps are rewritten (a pass over the whole stream, not the table's
// work, which a table with workers would otherwise wait for) and replays
// adds up the CPU time that took.
func meterStream(b *testing.B, tab *Table, stream []Packet, n int, replays *int64) {
	span := stream[len(stream)-1].Time - stream[0].Time + 1000
	pos := 0
	for done := 0; done < n; {
		if pos == len(stream) {
			var cpu0 int64
			if replays != nil {
				b.StopTimer()
				cpu0 = cpuTime()
			}
			for i := range stream {
				stream[i].Time += span
			}
			if replays != nil {
				*replays += cpuTime() - cpu0
				b.StartTimer()
			}
			pos = 0
		}
		k := min(tab.meterBatch(), len(stream)-pos, n-done)
		if err := tab.Add(stream[pos : pos+k]); err != nil {
			b.Error(err)
			return
		}
		pos += k
		done += k
	}
}

// reportRates reports packets per second and, since on a shared machine
// the wall clock also counts waiting for a core, CPU time per packet over
// all threads since cpu0.
func reportRates(b *testing.B, cpu0 int64) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/pkt")
}

// cpuTime returns the process's user+system CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkTableMemory inserts 1 M flows and reports the heap bytes per
// active flow (entries, index, expiry lists). flows=100k measures a
// smaller table, where the parts that do not grow with it (output
// buffers) weigh more and the index is less full.
func BenchmarkTableMemory(b *testing.B) {
	b.Run("flows=1M", func(b *testing.B) { benchmarkTableMemory(b, 1_000_000) })
	b.Run("flows=100k", func(b *testing.B) { benchmarkTableMemory(b, 100_000) })
}

func benchmarkTableMemory(b *testing.B, flows int) {
	pkts := make([]Packet, flows)
	for i := range pkts {
		pkts[i] = Packet{Time: t0 + int64(i), Src: AddrFromUint32(0x0a000000 + uint32(i>>8)), Dst: AddrFromUint32(0xc0a80001),
			SrcPort: uint16(i), DstPort: 443, Protocol: ProtoTCP, Flags: ACK, Length: 52}
	}
	for _, c := range []struct {
		biflow  bool
		workers int
	}{{false, 1}, {true, 1}, {false, 2}} {
		biflow := c.biflow
		name := fmt.Sprintf("biflow=%v", biflow)
		if c.workers > 1 {
			name += fmt.Sprintf(",workers=%d", c.workers)
		}
		b.Run(name, func(b *testing.B) {
			// The measurement is made once whatever b.N is: it takes seconds.
			var perFlow float64
			{
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				tab, err := NewTable(TableConfig{Timeouts: timeouts.Default(), Biflow: biflow, Workers: c.workers, Sink: &discardSink{}})
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < flows; i += DefaultBatchSize {
					tab.Add(pkts[i:min(i+DefaultBatchSize, flows)])
				}
				// Stats also waits for the batches in flight.
				if n := tab.Stats().ActiveFlows; n != flows {
					b.Fatalf("%d flows", n)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perFlow = float64(after.HeapAlloc-before.HeapAlloc) / float64(flows)
				runtime.KeepAlive(tab)
			}
			for b.Loop() {
			}
			b.ReportMetric(perFlow, "B/flow")
		})
	}
}
