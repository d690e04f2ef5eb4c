package nats

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowkit/flowkit/capture"
	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/timeouts"
)

// startServer runs nats-server with JetStream (see testenv.NATSServer) and
// returns its nats:// URL.
func startServer(t testing.TB) string {
	t.Helper()
	return testenv.NATSServer(t)
}

// teeSink keeps a copy of every record and passes the batch on.
type teeSink struct {
	recs []flow.Record
	next flow.Sink
}

func (s *teeSink) WriteBatch(b []flow.Record) error {
	s.recs = append(s.recs, b...)
	return s.next.WriteBatch(b)
}

// publishDay starts a JetStream server, meters the synthesizer's day as
// opts.Sensor and publishes it to subject, closing the publisher. It
// returns the server's URL, the publisher (for its Stats) and the records.
func publishDay(t testing.TB, subject string, opts PublisherOptions) (string, *Publisher, []flow.Record) {
	t.Helper()
	url := startServer(t)
	pub, err := DialPublisher(context.Background(), url+"/"+subject, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := meterDay(t, opts.Sensor, pub)
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	return url, pub, want
}

// meterDay meters the synthesizer's day (written as a pcap, read back by
// capture like any file) as sensor into sink and returns the records.
func meterDay(t testing.TB, sensor uint16, sink flow.Sink) []flow.Record {
	t.Helper()
	tr, err := synth.Generate(synth.Config{Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "day.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.WritePcap(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tee := &teeSink{next: sink}
	tab, err := flow.NewTable(flow.TableConfig{Timeouts: timeouts.Default(), Sensor: sensor, Sink: tee})
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Meter(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	return tee.recs
}
