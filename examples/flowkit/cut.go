package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/flowkit/flowkit/export/parquet"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
)

func init() {
	register("cut", verb{
		summary: "print flows as text columns (rwcut); -format text output imports back unchanged; -format parquet -o FILE exports every field as Parquet",
		example: "flowkit cut -r flows.txt -fields sIP,dIP,dPort,bytes,sTime -format text",
		run:     runCut,
	})
}

func runCut(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cut", stderr)
	in := qAddQueryInput(fs)
	fieldList := fs.String("fields", "", "columns to print (all, or a list such as sIP,dIP,sPort; default "+flowtext.FormatFields(flowtext.DefaultFields, ",")+")")
	res := qAddResultFlags(fs, "text (flowkit/SiLK pipe text, which import and -r read back), csv, json or parquet (every field, typed columns, for DuckDB, Spark, Trino, ClickHouse)")
	compression := fs.String("compression", "zstd", "Parquet page compression: zstd, snappy or none")
	noTitle := fs.Bool("no-title", false, "omit the title line of text output")
	limit := fs.Int("num", 0, "print at most this many flows (0: all)")
	recOut := fs.String("w", "", "write the flows as binary records here instead (IPFIX, or a store file for a name ending in .fkb; - is stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return qUsageErr(errors.New("unexpected argument " + fs.Arg(0)))
	}
	fields := flowtext.DefaultFields
	if strings.EqualFold(*fieldList, "all") {
		fields = flowtext.AllFields
	} else if *fieldList != "" {
		var err error
		if fields, err = flowtext.ParseFields(*fieldList); err != nil {
			return qUsageErr(err)
		}
	}
	if *recOut != "" && res.out != "" {
		return qUsageErr(errors.New("give -w (binary records) or -o (columns), not both"))
	}
	var format flowtext.Format
	switch res.format {
	case "text":
		format = flowtext.Text
	case "csv":
		format = flowtext.CSV
	case "json":
	case "parquet":
		if *fieldList != "" || *noTitle {
			return qUsageErr(errors.New("-format parquet writes every field: -fields and -no-title do not apply"))
		}
		if *recOut != "" {
			return qUsageErr(errors.New("-format parquet writes to -o, not -w"))
		}
	default:
		return qUsageErr(errors.New("-format " + res.format + ": want text, csv, json or parquet"))
	}
	codec, err := parquet.ParseCompression(*compression)
	if err != nil {
		return qUsageErr(err)
	}
	if res.format == "parquet" && (res.out == "" || res.out == "-") && qIsTerminal(stdout) {
		return qUsageErr(errors.New("will not write Parquet to a terminal: give -o FILE"))
	}
	src, done, err := in.source()
	if err != nil {
		return err
	}
	defer done()
	if *recOut != "" {
		o, err := qOpenRecordOut(*recOut, "", stdout)
		if err != nil {
			return err
		}
		if err := qCopyLimit(o.sink(), src, *limit); err != nil {
			o.close()
			return err
		}
		return o.close()
	}
	w, closeOut, err := qOpenOut(res.out, stdout)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	var sink interface {
		flow.Sink
		Flush() error
	}
	if res.format == "parquet" {
		sink = qParquetSink{parquet.NewWriter(bw, parquet.Options{Compression: codec})}
	} else if res.format == "json" {
		sink = newQJSONRecords(bw, fields)
	} else {
		if !*noTitle && format == flowtext.Text {
			bw.WriteString(flowtext.FormatFields(fields, "|") + "\n")
		}
		sink = flowtext.NewWriter(bw, fields, format)
	}
	err = qCopyLimit(sink, src, *limit)
	if ferr := sink.Flush(); err == nil {
		err = ferr
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	if err != nil && res.format == "parquet" && res.out != "" && res.out != "-" {
		os.Remove(res.out) // a footer after a failed read would pass for a whole export
	}
	return err
}

// qParquetSink ends a Parquet file (last row group, footer) on Flush.
type qParquetSink struct{ *parquet.Writer }

func (s qParquetSink) Flush() error { return s.Close() }

// qCopyLimit copies src to dst, at most limit records when limit > 0.
func qCopyLimit(dst flow.Sink, src flow.Source, limit int) error {
	if limit > 0 {
		dst = &qLimitSink{w: dst, left: limit}
	}
	if _, err := flow.Copy(dst, src); err != nil && err != qErrLimit {
		return err
	}
	return nil
}

// qLimitSink passes on at most left records, then stops the copy.
type qLimitSink struct {
	w    flow.Sink
	left int
}

type qLimitError struct{}

func (qLimitError) Error() string { return "limit reached" }

var qErrLimit error = qLimitError{}

func (l *qLimitSink) WriteBatch(b []flow.Record) error {
	if len(b) > l.left {
		b = b[:l.left]
	}
	l.left -= len(b)
	if err := l.w.WriteBatch(b); err != nil {
		return err
	}
	if l.left == 0 {
		return qErrLimit
	}
	return nil
}
