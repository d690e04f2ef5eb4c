// Command sensor is flowkit's smallest flow meter: it reads packets from a
// capture file or a live Linux interface, aggregates them into flows and
// exports the flows as IPFIX, as YAF does. It shows how to embed the SDK:
// capture → flow.Table → ipfix.Exporter.
//
//	sensor -r capture.pcap -export udp://127.0.0.1:4739
//	sensor -i eth0 -export tcp://collector.example:4739 -biflow
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/flowkit/flowkit/capture"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/timeouts"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sensor:", err)
		os.Exit(1)
	}
}

// run meters one packet source into one IPFIX exporter until the source
// ends or ctx is cancelled.
func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sensor", flag.ContinueOnError)
	file := fs.String("r", "", "read packets from this pcap or pcapng file")
	iface := fs.String("i", "", "capture live on this interface (Linux, root)")
	export := fs.String("export", "udp://127.0.0.1:4739", "send IPFIX here: udp://HOST:PORT or tcp://HOST:PORT")
	to := timeouts.Default()
	fs.DurationVar(&to.Idle, "idle", to.Idle, "idle timeout")
	fs.DurationVar(&to.Active, "active", to.Active, "active timeout")
	biflow := fs.Bool("biflow", false, "export RFC 5103 biflows")
	sensor := fs.Uint("sensor", 0, "sensor id stamped on every flow")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if (*file == "") == (*iface == "") {
		return errors.New("give exactly one of -r FILE and -i IFACE")
	}

	// The packet source: a file replays its own clock; a live interface
	// reports quiet polls so the table's clock follows the wall clock.
	var src capture.Source
	var err error
	if *file != "" {
		src, err = capture.OpenFile(*file)
	} else {
		src, err = capture.OpenLive(*iface, capture.LiveConfig{Promiscuous: true})
	}
	if err != nil {
		return err
	}
	defer src.Close()

	// The exporter is a flow.Sink: the table hands it finished flows in batches.
	exporter, err := ipfix.Dial(ctx, *export, ipfix.ExporterOptions{Domain: uint32(*sensor)})
	if err != nil {
		return err
	}
	table, err := flow.NewTable(flow.TableConfig{
		Timeouts: to, Biflow: *biflow, Workers: 2, Sensor: uint16(*sensor), Sink: exporter,
	})
	if err != nil {
		exporter.Close()
		return err
	}
	meterErr := table.Meter(ctx, src) // flushes every flow at the end
	table.Close()
	if err := exporter.Close(); err != nil && meterErr == nil {
		meterErr = err
	}
	st := table.Stats()
	slog.Info("sensor done", "packets", st.Packets, "flows", st.Flows(), "ipfix messages", exporter.Messages(),
		"capture", fmt.Sprintf("%+v", src.Stats()))
	if errors.Is(meterErr, context.Canceled) {
		return nil
	}
	return meterErr
}
