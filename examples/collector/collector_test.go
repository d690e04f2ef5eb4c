package main

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/store"
)

// TestCollectorStoresWhatItReceives exports the synthesizer's ground truth
// over UDP and reads the repository back.
func TestCollectorStoresWhatItReceives(t *testing.T) {
	tr, err := synth.Generate(synth.Config{Seed: 3, Scenarios: []string{"smtp", "web", "vpn", "beacon", "ipv6"}})
	if err != nil {
		t.Fatal(err)
	}
	want := tr.Truth()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "udp://" + addr, "-repo", dir, "-flush", "100ms"}, func() { close(ready) })
	}()
	<-ready
	exp, err := ipfix.Dial(context.Background(), "udp://"+addr, ipfix.ExporterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(want); i += 100 { // paced, as a meter's output is
		if err := exp.WriteBatch(want[i:min(i+100, len(want))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	exp.Close()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	repo, err := store.OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var pkts, byts uint64
	var rerr error
	types := map[string]int{}
	for r := range repo.Records(store.Selection{}, store.AllColumns, &rerr) {
		n++
		pkts += r.Packets
		byts += r.Bytes
		types[r.Type.String()]++
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	var wp, wb uint64
	for _, r := range want {
		wp += r.Packets
		wb += r.Bytes
	}
	if n != len(want) || pkts != wp || byts != wb {
		t.Fatalf("repository has %d flows %d packets %d bytes, want %d %d %d", n, pkts, byts, len(want), wp, wb)
	}
	if types["out"] == 0 || types["in"] == 0 {
		t.Fatalf("flows not classified by the internal prefixes: %v", types)
	}
}
