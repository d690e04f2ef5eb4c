// Command synth writes the synthesizer's deterministic traffic as a pcap
// file and, optionally, its ground-truth flow records as text.
//
//	go run ./examples/synth -o day.pcap -truth day.txt
//	go run ./examples/synth -o smtp.pcap -scenario smtp,beacon -seed 7
//	go run ./examples/synth -list
//	go run ./examples/synth -o bulk.pcap -bulk 10000000 -flows 200000 -snaplen 128
//
// The truth file has one flow a line in flowkit's text format (flowtext),
// with the columns of TruthFields; read it back with
// flowtext.NewReader(r, fields, flowtext.Text).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow/flowtext"
)

// TruthFields are the columns of the truth file.
const TruthFields = "sIP|dIP|sPort|dPort|protocol|packets|bytes|flags|initialFlags|sessionFlags|sTime|eTime|duration|vlan|endReason"

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "synth:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("synth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output pcap file (required unless -list)")
	seed := fs.Uint64("seed", 1, "random seed")
	scen := fs.String("scenario", "", "comma-separated scenario names (default: all; see -list)")
	truth := fs.String("truth", "", "also write the ground-truth flows to this text file")
	start := fs.String("start", synth.DefaultStart.Format(time.RFC3339), "start of the day (RFC 3339)")
	nanos := fs.Bool("ns", false, "nanosecond timestamps (default microseconds)")
	snap := fs.Int("snaplen", 0, "truncate captured frames to this many bytes (0: whole frames)")
	list := fs.Bool("list", false, "list the scenarios and exit")
	bulk := fs.Int("bulk", 0, "write a bulk benchmark capture of this many packets instead of scenarios")
	flows := fs.Int("flows", 200000, "bulk: concurrent flows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *list {
		tr, err := synth.Generate(synth.Config{Seed: *seed})
		if err != nil {
			return err
		}
		for _, s := range tr.Scenarios() {
			fmt.Fprintf(stdout, "%-14s %7d packets %6d flows  %s\n", s.Name, s.Packets, len(s.Truth), s.Description)
		}
		return nil
	}
	if *out == "" {
		fs.Usage()
		return errors.New("-o is required")
	}
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		return fmt.Errorf("-start: %w", err)
	}
	if *bulk > 0 {
		b, err := synth.NewBulk(synth.BulkConfig{Seed: *seed, Start: t0, Packets: *bulk, Flows: *flows,
			SnapLen: *snap, Nanosecond: *nanos})
		if err != nil {
			return err
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := b.WritePcap(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "wrote %s: %d packets, %d flows, %d IP bytes\n", *out, st.Packets, st.Flows, st.Bytes)
		return f.Close()
	}

	cfg := synth.Config{Seed: *seed, Start: t0, Nanosecond: *nanos, SnapLen: *snap}
	if *scen != "" {
		cfg.Scenarios = strings.Split(*scen, ",")
	}
	tr, err := synth.Generate(cfg)
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tr.WritePcap(f); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s: %d packets, %d flows, %s to %s\n", *out, tr.Len(), len(tr.Truth()),
		tr.Start().Format(time.RFC3339), tr.End().Format(time.RFC3339))
	if *truth != "" {
		return writeTruth(*truth, tr)
	}
	return nil
}

func writeTruth(path string, tr *synth.Traffic) error {
	fields, err := flowtext.ParseFields(TruthFields)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := flowtext.NewWriter(f, fields, flowtext.Text)
	if err := w.WriteBatch(tr.Truth()); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
