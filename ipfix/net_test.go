package ipfix

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// lockedSink collects records from the collector's goroutines.
type lockedSink struct {
	mu   sync.Mutex
	recs []flow.Record
}

func (s *lockedSink) WriteBatch(b []flow.Record) error {
	s.mu.Lock()
	s.recs = append(s.recs, b...)
	s.mu.Unlock()
	return nil
}

func (s *lockedSink) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

func waitFor(t *testing.T, cond func() bool) {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestExporterToCollector sends records over UDP and TCP on loopback from
// two exporters at once and checks that the collector gets them all,
// unchanged.
func TestExporterToCollector(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sink := &lockedSink{}
			col := &Collector{Sink: sink}
			var addr string
			done := make(chan error, 1)
			if network == "udp" {
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = pc.LocalAddr().String()
				go func() { done <- col.ServeUDP(ctx, pc) }()
			} else {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = ln.Addr().String()
				go func() { done <- col.ServeTCP(ctx, ln) }()
			}
			rng := rand.New(rand.NewPCG(9, 10))
			var want []flow.Record
			for i := 0; i < 2; i++ {
				exp, err := Dial(ctx, network+"://"+addr, ExporterOptions{Domain: uint32(i)})
				if err != nil {
					t.Fatal(err)
				}
				for b := 0; b < 10; b++ {
					batch := make([]flow.Record, 50)
					for j := range batch {
						batch[j] = randomRecord(rng, j%2 == 0, j%3 == 0, true)
					}
					want = append(want, batch...)
					if err := exp.WriteBatch(batch); err != nil {
						t.Fatal(err)
					}
					if network == "udp" {
						time.Sleep(time.Millisecond) // loopback UDP buffers are finite
					}
				}
				defer exp.Close()
			}
			waitFor(t, func() bool { return sink.len() == len(want) })
			seen := map[flow.Record]int{}
			for _, r := range want {
				seen[r]++
			}
			sink.mu.Lock()
			for _, r := range sink.recs {
				seen[r]--
			}
			sink.mu.Unlock()
			for r, n := range seen {
				if n != 0 {
					t.Fatalf("record %v count off by %d", r, n)
				}
			}
			st := col.Stats()
			if st.Exporters != 2 || st.SequenceGaps != 0 || st.Malformed != 0 {
				t.Fatalf("stats %+v", st)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCollectorMaxExporters: the third exporter is refused and counted.
func TestCollectorMaxExporters(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	col := &Collector{Sink: &lockedSink{}, MaxExporters: 2}
	go col.ServeUDP(ctx, pc)
	for i := 0; i < 3; i++ {
		exp, err := Dial(ctx, "udp://"+pc.LocalAddr().String(), ExporterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		exp.WriteBatch([]flow.Record{{Packets: 1, Src: flow.AddrFromUint32(1), Dst: flow.AddrFromUint32(2)}})
		defer exp.Close()
	}
	waitFor(t, func() bool { return col.Stats().ExportersRefused > 0 })
	if st := col.Stats(); st.Exporters != 2 {
		t.Fatalf("stats %+v", st)
	}
}

// TestExporterTCPReconnects: after the collector goes away and comes back
// on the same port, the exporter reconnects and re-sends its templates.
func TestExporterTCPReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx1, cancel1 := context.WithCancel(context.Background())
	sink1 := &lockedSink{}
	done1 := make(chan error, 1)
	go func() { done1 <- (&Collector{Sink: sink1}).ServeTCP(ctx1, ln) }()
	exp, err := Dial(context.Background(), "tcp://"+addr, ExporterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Close()
	rec := flow.Record{Src: flow.AddrFromUint32(1), Dst: flow.AddrFromUint32(2), Packets: 3, Bytes: 120}
	if err := exp.WriteBatch([]flow.Record{rec}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return sink1.len() == 1 })
	cancel1()
	<-done1
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("port not reusable yet: %v", err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	sink2 := &lockedSink{}
	go (&Collector{Sink: sink2}).ServeTCP(ctx2, ln2)
	// Writes to the dead connection fail (perhaps only the second one);
	// the exporter then reconnects on the next batch.
	waitFor(t, func() bool {
		exp.WriteBatch([]flow.Record{rec})
		return sink2.len() > 0
	})
	sink2.mu.Lock()
	defer sink2.mu.Unlock()
	if sink2.recs[0] != rec {
		t.Fatalf("got %v", sink2.recs[0].String())
	}
}

// TestCollectSeq: the iter.Seq form yields the records and stops cleanly.
func TestCollectSeq(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() {
		exp, err := Dial(ctx, "udp://"+addr, ExporterOptions{TemplateInterval: time.Millisecond})
		if err != nil {
			return
		}
		defer exp.Close()
		for ctx.Err() == nil {
			exp.WriteBatch([]flow.Record{{Src: flow.AddrFromUint32(7), Dst: flow.AddrFromUint32(8), Packets: 1}})
			time.Sleep(5 * time.Millisecond)
		}
	}()
	var errp error
	n := 0
	for r := range Collect(ctx, "udp://"+addr, Limits{}, &errp) {
		if r.Src != flow.AddrFromUint32(7) {
			t.Fatalf("record %v", r.String())
		}
		if n++; n == 5 {
			break
		}
	}
	if n != 5 || errp != nil {
		t.Fatalf("%d records, err %v", n, errp)
	}
}
