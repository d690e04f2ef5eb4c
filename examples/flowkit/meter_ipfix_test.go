package main

import (
	"bytes"
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

// meterPcap writes a synthesized capture for the IPFIX output tests.
func meterPcap(t *testing.T) (string, []flow.Record) {
	t.Helper()
	tr, err := synth.Generate(synth.Config{Seed: 5, Scenarios: []string{"smtp", "web", "vpn", "ipv6", "vlan"}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "in.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.WritePcap(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return path, tr.Truth()
}

func sameRecords(t *testing.T, got, want []flow.Record) {
	t.Helper()
	flow.SortRecords(got)
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d:\n got %v\nwant %v", i, &got[i], &want[i])
		}
	}
}

// TestMeterWritesIPFIXFile: meter -w writes an RFC 5655 file whose
// nanosecond templates carry every field of the ground truth exactly.
func TestMeterWritesIPFIXFile(t *testing.T) {
	pcap, want := meterPcap(t)
	out := filepath.Join(t.TempDir(), "flows.ipfix")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"meter", "-r", pcap, "-w", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []flow.Record
	var rerr error
	for r := range flow.Records(ipfix.NewFileReader(f), &rerr) {
		got = append(got, r)
	}
	if rerr != nil {
		t.Fatal(rerr)
	}
	flow.SortRecords(want)
	sameRecords(t, got, want)
}

// TestMeterExportsUDP: meter -export sends the flows to a collector.
func TestMeterExportsUDP(t *testing.T) {
	pcap, want := meterPcap(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got flow.SliceSink
	c := &ipfix.Collector{Sink: sinkFunc(func(b []flow.Record) error {
		mu.Lock()
		defer mu.Unlock()
		return got.WriteBatch(b)
	})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.ServeUDP(ctx, pc) }()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"meter", "-r", pcap, "-export", "udp://" + pc.LocalAddr().String()}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
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
	// UDP export uses millisecond templates (what nfdump and SiLK read).
	for i := range want {
		want[i].Start -= want[i].Start % 1e6
		want[i].End -= want[i].End % 1e6
	}
	flow.SortRecords(want)
	sameRecords(t, got.Recs, want)
}

type sinkFunc func([]flow.Record) error

func (f sinkFunc) WriteBatch(b []flow.Record) error { return f(b) }
