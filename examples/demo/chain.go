package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flowkit/flowkit/capture"
	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/store"
	"github.com/flowkit/flowkit/timeouts"
)

// stored is what the sensor-to-store half hands the analysis.
type stored struct {
	repo    *store.Repo
	flows   int64
	traffic *synth.Traffic
}

// sensorToStore synthesizes a day of packets, meters them, exports the flows
// over loopback IPFIX to a collector that writes a repository.
func sensorToStore(p *report, dir string, seed uint64) (*stored, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Packets: the synthesizer's scenarios, written as a pcap file.
	tr, err := synth.Generate(synth.Config{Seed: seed})
	if err != nil {
		return nil, err
	}
	pcapPath := filepath.Join(dir, "day.pcap")
	f, err := os.Create(pcapPath)
	if err != nil {
		return nil, err
	}
	if err := tr.WritePcap(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	p.stage("synthesized %d packets of %d scenarios, %s to %s UTC", tr.Len(), len(tr.Scenarios()),
		tr.Start().Format("2006-01-02 15:04"), tr.End().Format("15:04"))

	// Collector: IPFIX over UDP on loopback, into a repository.
	repo, err := store.OpenRepo(filepath.Join(dir, "repo"))
	if err != nil {
		return nil, err
	}
	internal, _ := store.ParsePrefixes("10.0.0.0/8")
	writer := repo.NewWriter(store.WriterOptions{Classifier: &store.PrefixClassifier{Internal: internal}})
	counted := &countingSink{next: writer}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if udp, ok := pc.(*net.UDPConn); ok {
		udp.SetReadBuffer(8 << 20) // the meter replays a day in a second
	}
	collector := &ipfix.Collector{Sink: counted}
	var serveErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		serveErr = collector.ServeUDP(ctx, pc)
	}()

	// Sensor: capture → flow table → IPFIX exporter.
	exporter, err := ipfix.Dial(ctx, "udp://"+pc.LocalAddr().String(), ipfix.ExporterOptions{})
	if err != nil {
		return nil, err
	}
	metered := &countingSink{next: exporter}
	table, err := flow.NewTable(flow.TableConfig{Timeouts: timeouts.Default(), Workers: 2, Sink: metered})
	if err != nil {
		return nil, err
	}
	src, err := capture.OpenFile(pcapPath)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	if err := table.Meter(ctx, src); err != nil {
		return nil, err
	}
	took := time.Since(began)
	src.Close()
	table.Close()
	if err := exporter.Close(); err != nil {
		return nil, err
	}
	to := timeouts.Default()
	p.stage("metered them into %d flows (idle %s, active %s) in %s", metered.n(), to.Idle, to.Active, took.Round(time.Millisecond))

	// Wait until the collector has everything the exporter sent (UDP
	// gives no end-of-stream), or until it stops making progress.
	for last, still := int64(-1), 0; counted.n() < metered.n() && still < 20; {
		time.Sleep(25 * time.Millisecond)
		if n := counted.n(); n == last {
			still++
		} else {
			last, still = n, 0
		}
	}
	cancel()
	wg.Wait()
	if serveErr != nil && ctx.Err() == nil {
		return nil, serveErr
	}
	stats := collector.Stats()
	lost := metered.n() - counted.n()
	p.stage("exported them as IPFIX over UDP to %s: %d messages; the collector decoded %d flows (%d lost)",
		pc.LocalAddr(), exporter.Messages(), counted.n(), lost)
	if lost != 0 {
		p.line("collector counters: %+v", stats)
	}

	if err := writer.Close(); err != nil {
		return nil, err
	}
	files, err := repo.Files(store.Selection{})
	if err != nil {
		return nil, err
	}
	size := dirSize(repo.Root())
	p.stage("stored them in a repository: %d hourly files, %d bytes (%.1f bytes/flow)",
		len(files), size, float64(size)/float64(max(counted.n(), 1)))
	return &stored{repo: repo, flows: counted.n(), traffic: tr}, nil
}

// countingSink passes batches on and counts the records.
type countingSink struct {
	mu    sync.Mutex
	next  flow.Sink
	total int64
}

func (c *countingSink) WriteBatch(b []flow.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += int64(len(b))
	return c.next.WriteBatch(b)
}

func (c *countingSink) n() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

func dirSize(root string) int64 {
	var n int64
	filepath.Walk(root, func(_ string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n += info.Size()
		}
		return nil
	})
	return n
}

var _ = fmt.Sprint
