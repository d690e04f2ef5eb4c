package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/store"
)

func init() {
	register("collect", verb{
		summary: "receive or read IPFIX / NetFlow v9 / v5 and print the flows as text, or store them",
		example: "flowkit collect -listen udp://127.0.0.1:4739 -repo /data/flows\n" +
			"  flowkit collect -r export.pcap -format csv -o flows.csv\n" +
			"  flowkit collect -r flows.ipfix -w - | flowkit uniq -fields dport -values bytes\n" +
			"  flowkit collect -listen 'nats://127.0.0.1:4222/flows?durable=store' -repo /data/flows    # run several: they share the stream and the repository; each flow is stored once, even if collectors die\n" +
			"  flowkit collect -listen udp://127.0.0.1:4739 -clickhouse 'clickhouse://127.0.0.1:9000/default?table=flows'",
		run: runCollect,
	})
}

// errStopCollect ends collection once -num records were printed.
var errStopCollect = errors.New("enough records")

// limitSink passes at most n records (n <= 0: all) to w.
type limitSink struct {
	w    flow.Sink
	left int
}

func (s *limitSink) WriteBatch(b []flow.Record) error {
	if s.left < 0 {
		return s.w.WriteBatch(b)
	}
	if len(b) > s.left {
		b = b[:s.left]
	}
	s.left -= len(b)
	if err := s.w.WriteBatch(b); err != nil {
		return err
	}
	if s.left == 0 {
		return errStopCollect
	}
	return nil
}

func runCollect(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("collect", stderr)
	listen := fs.String("listen", "", "listen on udp://host:port or tcp://host:port, or consume NATS JetStream subject SUBJECT.> with the shared durable consumer NAME (default flowkit) at nats://host:port/SUBJECT[?durable=NAME&fetch=MESSAGES], until interrupted (SIGINT or SIGTERM)")
	file := fs.String("r", "", "read an IPFIX file (RFC 5655; - is stdin) or a pcap/pcapng capture of exports")
	fieldList := fs.String("fields", "", "columns to print (all, or a list; default "+flowtext.FormatFields(flowtext.DefaultFields, ",")+")")
	res := qAddResultFlags(fs, "text (flowkit/SiLK pipe text), csv or json")
	recOut := fs.String("w", "", "write the flows as binary records here instead of printing them (IPFIX, or a store file for a name ending in .fkb; - is stdout)")
	repoDir := fs.String("repo", "", "store the flows in this repository (created if missing) instead of printing them")
	chURL := fs.String("clickhouse", "", "insert the flows into ClickHouse instead of printing them: clickhouse://HOST:PORT/DATABASE?table=NAME (a MergeTree table, created if missing, or a Distributed table), or several HOST:PORT, one per shard, each flow to the shard of its source address")
	limit := fs.Int("num", 0, "stop after this many flows (0: no limit)")
	stats := fs.Bool("stats", false, "print decoder counters (templates, missing templates, sequence gaps...) to stderr at the end")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if (*listen == "") == (*file == "") {
		return fmt.Errorf("%w: give exactly one of -listen and -r", errUsage)
	}
	if *limit > 0 && strings.HasPrefix(*listen, "nats://") {
		// Stopping inside a batch would store part of it and hand it all
		// back to the stream.
		return fmt.Errorf("%w: -num cannot be used with -listen nats://", errUsage)
	}
	outs := 0
	for _, o := range []string{res.out, *recOut, *repoDir, *chURL} {
		if o != "" {
			outs++
		}
	}
	if outs > 1 {
		return fmt.Errorf("%w: give at most one of -o, -w, -repo and -clickhouse", errUsage)
	}
	fields := flowtext.DefaultFields
	if strings.EqualFold(*fieldList, "all") {
		fields = flowtext.AllFields
	} else if *fieldList != "" {
		var err error
		if fields, err = flowtext.ParseFields(*fieldList); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	var out collectOut
	var err error
	natsRepo := strings.HasPrefix(*listen, "nats://") && *repoDir != ""
	switch {
	case natsRepo:
		out = nopOut{} // collectNATSRepo stores through its own exactly-once sink
	case *chURL != "":
		out, err = openClickHouseOut(context.Background(), *chURL)
	default:
		out, err = openCollectOut(res, *recOut, *repoDir, fields, stdout)
	}
	if err != nil {
		return err
	}
	if cs, ok := out.(*closerSink); ok && *listen != "" {
		cs.live = true // show each batch as it arrives
	}
	left := *limit
	if left <= 0 {
		left = -1
	}
	sink := &limitSink{w: out, left: left}
	var st ipfix.Stats
	if *listen != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if strings.HasPrefix(*listen, "nats://") {
			var w io.Writer
			if *stats {
				w = stderr
			}
			if natsRepo {
				// Exactly once: the repository keeps which messages it holds.
				st, err = collectNATSRepo(ctx, *listen, *repoDir, w)
			} else {
				st, err = collectNATS(ctx, *listen, sink, out, w)
			}
		} else {
			col := &ipfix.Collector{Sink: sink}
			err = col.ListenAndServe(ctx, *listen)
			st = col.Stats().Stats
		}
	} else {
		st, err = collectFile(*file, sink)
	}
	if errors.Is(err, errStopCollect) {
		err = nil
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if *stats {
		fmt.Fprintf(stderr, "messages %d records %d options-records %d templates %d missing-template %d malformed %d sequence-gaps %d lost-records %d lost-packets %d\n",
			st.Messages, st.Records, st.OptionsRecords, st.Templates, st.MissingTemplate, st.Malformed, st.SequenceGaps, st.LostRecords, st.LostPackets)
	}
	return err
}

// collectOut is where collect puts the flows: printed, written as
// records, or stored in a repository.
type collectOut interface {
	flow.Sink
	Close() error
}

// nopOut is the collectOut of a collector whose records go elsewhere.
type nopOut struct{}

func (nopOut) WriteBatch([]flow.Record) error { return nil }
func (nopOut) Close() error                   { return nil }

// openCollectOut opens -o/-format, -w or -repo.
func openCollectOut(res *qResultFlags, recOut, repoDir string, fields []flowtext.Field, stdout io.Writer) (collectOut, error) {
	switch {
	case recOut != "":
		o, err := qOpenRecordOut(recOut, "", stdout)
		if err != nil {
			return nil, err
		}
		return &closerSink{Sink: o.sink(), close: o.close, flush: o.bw.Flush}, nil
	case repoDir != "":
		if err := os.MkdirAll(repoDir, 0o755); err != nil {
			return nil, err
		}
		repo, err := store.OpenRepo(repoDir)
		if err != nil {
			return nil, err
		}
		return repo.NewWriter(store.WriterOptions{}), nil
	}
	var format flowtext.Format
	switch res.format {
	case "text":
		format = flowtext.Text
	case "csv":
		format = flowtext.CSV
	case "json":
	default:
		return nil, fmt.Errorf("%w: -format %q: want text, csv or json", errUsage, res.format)
	}
	w, closeOut, err := qOpenOut(res.out, stdout)
	if err != nil {
		return nil, err
	}
	var s interface {
		flow.Sink
		Flush() error
	}
	var flush func() error
	if res.format == "json" {
		j := newQJSONRecords(w, fields)
		s, flush = j, j.w.Flush
	} else {
		tw := flowtext.NewWriter(w, fields, format)
		s, flush = tw, tw.Flush
	}
	return &closerSink{Sink: s, flush: flush, close: func() error {
		err := s.Flush()
		if cerr := closeOut(); err == nil {
			err = cerr
		}
		return err
	}}, nil
}

// closerSink is a sink with its own close function; when live it
// flushes after every batch.
type closerSink struct {
	flow.Sink
	close, flush func() error
	live         bool
}

func (c *closerSink) WriteBatch(b []flow.Record) error {
	err := c.Sink.WriteBatch(b)
	if err == nil && c.live {
		err = c.flush()
	}
	return err
}

func (c *closerSink) Close() error { return c.close() }

// collectFile reads an IPFIX file or a capture of exports, told apart by
// their first bytes (IPFIX version 10, or a pcap/pcapng magic number).
func collectFile(path string, sink flow.Sink) (ipfix.Stats, error) {
	var r io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return ipfix.Stats{}, err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return ipfix.Stats{}, fmt.Errorf("%s: %w", path, err)
	}
	if magic[0] == 0 && magic[1] == 10 {
		fr := ipfix.NewFileReader(br)
		_, err := flow.Copy(sink, fr)
		return fr.Decoder().Stats(), err
	}
	// A capture: one decoder per exporter (source address and port), as a
	// live collector keeps them.
	decs := map[string]*ipfix.Decoder{}
	var rec flow.Record
	var batch []flow.Record
	emit := func(r *flow.Record) { batch = append(batch, *r) }
	err = ipfix.ReadPcapDatagrams(br, func(dg *ipfix.Datagram) error {
		key := dg.Src.String()
		d := decs[key]
		if d == nil {
			d = ipfix.NewDecoder()
			decs[key] = d
		}
		batch = batch[:0]
		if derr := d.Decode(dg.Payload, &rec, emit); derr != nil && !errors.Is(derr, ipfix.ErrUnknownTemplate) {
			fmt.Fprintf(os.Stderr, "flowkit collect: %s from %s: %v\n", dg.Time.UTC().Format("2006-01-02T15:04:05.000Z"), key, derr)
		}
		if len(batch) == 0 {
			return nil
		}
		return sink.WriteBatch(batch)
	})
	var st ipfix.Stats
	for _, d := range decs {
		s := d.Stats()
		st.Messages += s.Messages
		st.Records += s.Records
		st.OptionsRecords += s.OptionsRecords
		st.Templates += s.Templates
		st.MissingTemplate += s.MissingTemplate
		st.Malformed += s.Malformed
		st.SequenceGaps += s.SequenceGaps
		st.LostRecords += s.LostRecords
		st.LostPackets += s.LostPackets
	}
	return st, err
}
