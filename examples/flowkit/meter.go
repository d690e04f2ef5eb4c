package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	busnats "github.com/flowkit/flowkit/bus/nats"
	"github.com/flowkit/flowkit/capture"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/timeouts"
)

func init() {
	register("meter", verb{
		summary: "meter packets (pcap/pcapng file or live interface) into flows and print them sorted",
		example: "flowkit meter -r capture.pcap -idle 30s -active 300s -biflow -fields sip,dip,sport,dport,protocol,packets,bytes\n" +
			"  flowkit meter -r capture.pcap -export udp://127.0.0.1:4739    # or tcp://..., or -w flows.ipfix\n" +
			"  flowkit meter -r capture.pcap -sensor 7 -export nats://127.0.0.1:4222/flows    # JetStream subject flows.7",
		run: runMeter,
	})
}

// meterOptions are the meter verb's settings, parsed from its flags.
type meterOptions struct {
	file, iface string
	table       flow.TableConfig
	fields      []flowtext.Field
	format      flowtext.Format
	stats       bool
	export      string // IPFIX over udp:// or tcp://, or JetStream (nats://), instead of text
	ipfixFile   string // an IPFIX file (RFC 5655) instead of text
}

func parseMeterFlags(args []string, stderr io.Writer) (*meterOptions, error) {
	fs := newFlagSet("meter", stderr)
	o := &meterOptions{}
	def := timeouts.Default()
	fs.StringVar(&o.file, "r", "", "read packets from this pcap or pcapng file (optionally gzip-compressed)")
	fs.StringVar(&o.iface, "i", "", "capture live on this interface (AF_PACKET) until interrupted")
	fs.DurationVar(&o.table.Timeouts.Idle, "idle", def.Idle, "idle timeout")
	fs.DurationVar(&o.table.Timeouts.Active, "active", def.Active, "active timeout")
	fs.DurationVar(&o.table.Timeouts.Grace, "grace", def.Grace, "how long a TCP flow closed by FIN/RST still collects packets")
	fs.IntVar(&o.table.Timeouts.MaxFlows, "max-flows", 0, "cap on concurrent flows, least recently seen evicted first (0: none)")
	fs.BoolVar(&o.table.Biflow, "biflow", false, "RFC 5103 bidirectional flows (one record per conversation)")
	fs.IntVar(&o.table.Workers, "workers", 1, "metering goroutines (the output does not depend on it)")
	sensor := fs.Uint("sensor", 0, "sensor id put in every record (0-65535)")
	fieldList := fs.String("fields", "", "columns to print (all, or a list; default "+flowtext.FormatFields(flowtext.DefaultFields, ",")+")")
	outFormat := fs.String("format", "text", "output format: text or csv")
	fs.StringVar(&o.export, "export", "", "send the flows as IPFIX to udp://HOST:PORT or tcp://HOST:PORT, or publish them to NATS JetStream at nats://HOST:PORT/SUBJECT (subject SUBJECT.SENSOR), instead of printing them")
	fs.StringVar(&o.ipfixFile, "w", "", "write the flows to this IPFIX file (RFC 5655, nanosecond times; - is stdout) instead of printing them")
	fs.BoolVar(&o.stats, "stats", false, "print packet and flow counters to stderr at the end")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if (o.file == "") == (o.iface == "") {
		return nil, fmt.Errorf("%w: give exactly one of -r and -i", errUsage)
	}
	if o.export != "" && o.ipfixFile != "" {
		return nil, fmt.Errorf("%w: give at most one of -export and -w", errUsage)
	}
	if strings.HasPrefix(o.export, "nats://") {
		if _, _, err := busnats.ParseURL(o.export); err != nil {
			return nil, fmt.Errorf("%w: -export: %v", errUsage, err)
		}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *sensor > 0xffff {
		return nil, fmt.Errorf("%w: -sensor %d exceeds 65535", errUsage, *sensor)
	}
	o.table.Sensor = uint16(*sensor)
	if err := o.table.Timeouts.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	o.fields = flowtext.DefaultFields
	if strings.EqualFold(*fieldList, "all") {
		o.fields = flowtext.AllFields
	} else if *fieldList != "" {
		var err error
		if o.fields, err = flowtext.ParseFields(*fieldList); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	var err error
	if o.format, err = flowtext.ParseFormat(*outFormat); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return o, nil
}

func runMeter(args []string, stdout, stderr io.Writer) error {
	o, err := parseMeterFlags(args, stderr)
	if err != nil {
		return err
	}
	var src capture.Source
	ctx := context.Background()
	if o.file != "" {
		src, err = capture.OpenFile(o.file)
	} else {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt)
		defer stop()
		src, err = capture.OpenLive(o.iface, capture.LiveConfig{SnapLen: 256})
	}
	if err != nil {
		return err
	}
	defer src.Close()
	if o.export != "" || o.ipfixFile != "" {
		return meterToIPFIX(ctx, src, o, stdout, stderr)
	}
	recs, st, merr := meterSource(ctx, src, o.table)
	// Print what was metered even when the capture ended in an error (a
	// truncated file): those flows are good.
	flow.SortRecords(recs)
	tw := flowtext.NewWriter(stdout, o.fields, o.format)
	werr := tw.WriteBatch(recs)
	if ferr := tw.Flush(); werr == nil {
		werr = ferr
	}
	if o.stats {
		printMeterStats(stderr, st)
	}
	if merr != nil {
		return merr
	}
	return werr
}

// meterSource meters every packet of src with a table configured by cfg
// (its Sink is replaced) and returns the records, unsorted.
func meterSource(ctx context.Context, src flow.PacketSource, cfg flow.TableConfig) ([]flow.Record, flow.TableStats, error) {
	var sink chunkSink
	cfg.Sink = &sink
	tab, err := flow.NewTable(cfg)
	if err != nil {
		return nil, flow.TableStats{}, err
	}
	err = tab.Meter(ctx, src)
	st := tab.Stats()
	if cerr := tab.Close(); err == nil {
		err = cerr
	}
	return sink.records(), st, err
}

// chunkSink keeps records in fixed-size chunks: a slice grown by append
// copies every record several times on the way and leaves the old copies
// to the garbage collector, which tripled meter's peak memory.
type chunkSink struct {
	chunks [][]flow.Record
	n      int
}

const chunkRecords = 1 << 14

func (s *chunkSink) WriteBatch(batch []flow.Record) error {
	for len(batch) > 0 {
		if len(s.chunks) == 0 || len(s.chunks[len(s.chunks)-1]) == chunkRecords {
			s.chunks = append(s.chunks, make([]flow.Record, 0, chunkRecords))
		}
		last := &s.chunks[len(s.chunks)-1]
		k := min(chunkRecords-len(*last), len(batch))
		*last = append(*last, batch[:k]...)
		batch = batch[k:]
		s.n += k
	}
	return nil
}

// records returns every record in one slice, releasing each chunk once
// copied.
func (s *chunkSink) records() []flow.Record {
	out := make([]flow.Record, 0, s.n)
	for i, c := range s.chunks {
		out = append(out, c...)
		s.chunks[i] = nil
	}
	s.chunks = nil
	return out
}

func printMeterStats(w io.Writer, st flow.TableStats) {
	fmt.Fprintf(w, "packets %d bytes %d flows %d idle %d active %d eof %d forced %d resource %d\n",
		st.Packets, st.Bytes, st.Flows(), st.Ended[flow.EndIdleTimeout], st.Ended[flow.EndActiveTimeout],
		st.Ended[flow.EndOfFlow], st.Ended[flow.EndForced], st.Ended[flow.EndLackOfResources])
}

// meterToIPFIX streams the flows to an IPFIX exporter or file as the table
// ends them (unsorted: a collector does not care, and a live meter cannot
// wait for the end).
func meterToIPFIX(ctx context.Context, src flow.PacketSource, o *meterOptions, stdout, stderr io.Writer) error {
	var sink interface {
		flow.Sink
		Close() error
	}
	flush := func() error { return nil }
	var pub *busnats.Publisher
	if strings.HasPrefix(o.export, "nats://") {
		// Batched IPFIX messages with ids; Close waits for the stream's
		// acknowledgement of every one.
		var err error
		if pub, err = busnats.DialPublisher(ctx, o.export, busnats.PublisherOptions{Sensor: o.table.Sensor}); err != nil {
			return err
		}
		sink = pub
	} else if o.export != "" {
		exp, err := ipfix.Dial(ctx, o.export, ipfix.ExporterOptions{Domain: uint32(o.table.Sensor)})
		if err != nil {
			return err
		}
		sink = exp
	} else {
		out := stdout
		if o.ipfixFile != "-" {
			f, err := os.Create(o.ipfixFile)
			if err != nil {
				return err
			}
			defer f.Close()
			out = f
		}
		bw := bufio.NewWriterSize(out, 1<<20)
		flush = bw.Flush
		fw := ipfix.NewFileWriter(bw)
		fw.Encoder.Domain = uint32(o.table.Sensor)
		fw.Encoder.Nanoseconds = true
		sink = fw
	}
	cfg := o.table
	cfg.Sink = sink
	tab, err := flow.NewTable(cfg)
	if err != nil {
		sink.Close()
		return err
	}
	merr := tab.Meter(ctx, src)
	st := tab.Stats()
	if err := tab.Close(); merr == nil {
		merr = err
	}
	if err := sink.Close(); merr == nil {
		merr = err
	}
	if err := flush(); merr == nil {
		merr = err
	}
	if o.stats {
		printMeterStats(stderr, st)
		if pub != nil {
			ps := pub.Stats()
			fmt.Fprintf(stderr, "published records %d messages %d bytes %d duplicates %d retries %d\n",
				ps.Records, ps.Messages, ps.Bytes, ps.Duplicates, ps.Retries)
		}
	}
	return merr
}
