package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
)

// TestSensorExportsTheTruth meters a synthesized capture and checks that a
// collector receives exactly the synthesizer's ground truth.
func TestSensorExportsTheTruth(t *testing.T) {
	tr, err := synth.Generate(synth.Config{Seed: 7, Scenarios: []string{"smtp", "web", "vpn", "ssh", "beacon"}})
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(t.TempDir(), "in.pcap")
	f, _ := os.Create(pcap)
	if err := tr.WritePcap(f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc.(*net.UDPConn).SetReadBuffer(4 << 20)
	ctx, cancel := context.WithCancel(context.Background())
	var got flow.SliceSink
	var mu sync.Mutex
	c := &ipfix.Collector{Sink: sinkFunc(func(b []flow.Record) error {
		mu.Lock()
		defer mu.Unlock()
		return got.WriteBatch(b)
	})}
	done := make(chan error, 1)
	go func() { done <- c.ServeUDP(ctx, pc) }()

	if err := run(context.Background(), []string{"-r", pcap, "-export", "udp://" + pc.LocalAddr().String()}); err != nil {
		t.Fatal(err)
	}
	want := tr.Truth()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		n := len(got.Recs)
		mu.Unlock()
		if n >= len(want) {
			break
		}
	}
	cancel()
	<-done
	synth.SortRecords(got.Recs)
	t.Logf("%d flows metered, exported and collected", len(got.Recs))
	if len(got.Recs) != len(want) {
		t.Fatalf("collector got %d flows, the truth has %d", len(got.Recs), len(want))
	}
	for i := range want {
		g, w := got.Recs[i], want[i]
		// IPFIX carries milliseconds by default: compare times at that precision.
		if g.Key() != w.Key() || g.Packets != w.Packets || g.Bytes != w.Bytes || g.Flags != w.Flags ||
			g.EndReason != w.EndReason || g.Start/1e6 != w.Start/1e6 || g.End/1e6 != w.End/1e6 {
			t.Fatalf("flow %d:\n got %v\nwant %v", i, &g, &w)
		}
	}
}

type sinkFunc func([]flow.Record) error

func (f sinkFunc) WriteBatch(b []flow.Record) error { return f(b) }
