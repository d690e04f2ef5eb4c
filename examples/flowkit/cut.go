package main

import (
	"bufio"
	"io"
	"strings"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
)

func init() {
	register("cut", verb{
		summary: "print flows as text columns (rwcut); the text format imports back unchanged",
		example: "flowkit cut -r flows.txt -fields sIP,dIP,dPort,bytes,sTime -format text",
		run:     runCut,
	})
}

func runCut(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cut", stderr)
	in := qAddQueryInput(fs)
	fieldList := fs.String("fields", "", "columns to print (all, or a list such as sIP,dIP,sPort; default "+flowtext.FormatFields(flowtext.DefaultFields, ",")+")")
	outFormat := fs.String("o", "text", "output format: text (SiLK pipe columns, no title) or csv")
	title := fs.Bool("title", false, "print a title line of field names before text output")
	limit := fs.Int("num", 0, "print at most this many flows (0: all)")
	if err := parseFlags(fs, args); err != nil {
		return err
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
	format, err := flowtext.ParseFormat(*outFormat)
	if err != nil {
		return qUsageErr(err)
	}
	src, done, err := in.source()
	if err != nil {
		return err
	}
	defer done()
	bw := bufio.NewWriterSize(stdout, 1<<20)
	if *title && format == flowtext.Text {
		bw.WriteString(flowtext.FormatFields(fields, "|") + "\n")
	}
	w := flowtext.NewWriter(bw, fields, format)
	var sink flow.Sink = w
	if *limit > 0 {
		sink = &qLimitSink{w: w, left: *limit}
	}
	if _, err := flow.Copy(sink, src); err != nil && err != qErrLimit {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return bw.Flush()
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
