package main

// The input and output helpers every query verb shares: one way to name
// the input (-r FILE or -repo DIR with a selection), one way to write
// records (-w FILE, binary unless -format asks for text) and one way to
// write results (-format text|csv|json, -o FILE). See the table in main.go.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/query"
	"github.com/flowkit/flowkit/store"
)

// stdin is what "-r -" reads; tests replace it to feed a pipeline.
var stdin io.Reader = os.Stdin

// qInKind is an input format.
type qInKind uint8

const (
	qInText  qInKind = iota // flowkit/SiLK pipe text, title line optional
	qInCSV                  // CSV with a header line
	qInIPFIX                // an IPFIX stream (RFC 5655 file)
	qInFKB                  // a flowkit store file
)

// storeMagic leads every store file (store/FORMAT.md).
const storeMagic = "FKSTORE\x00"

// qSniff tells the input format from the input's first bytes: a store
// file's magic, an IPFIX message header (version 10: a text file never
// starts with a NUL byte), else text, CSV when the first line that is not a
// '#' comment has commas and no '|'.
func qSniff(head []byte) qInKind {
	switch {
	case bytes.HasPrefix(head, []byte(storeMagic)):
		return qInFKB
	case len(head) >= 2 && head[0] == 0 && head[1] == 10:
		return qInIPFIX
	}
	for len(head) > 0 {
		line, rest, _ := bytes.Cut(head, []byte("\n"))
		head = rest
		if t := bytes.TrimSpace(line); len(t) == 0 || t[0] == '#' {
			continue
		}
		if bytes.IndexByte(line, ',') >= 0 && bytes.IndexByte(line, '|') < 0 {
			return qInCSV
		}
		break
	}
	return qInText
}

// qPeekHead returns enough of the input's first bytes for qSniff (the
// magic numbers, or the first line that is not a comment, up to 4 KB)
// without waiting for more than that on a live pipe.
func qPeekHead(br *bufio.Reader) []byte {
	head, err := br.Peek(8)
	if err != nil || qSniff(head) == qInFKB || qSniff(head) == qInIPFIX {
		return head
	}
	for {
		head, _ = br.Peek(br.Buffered())
		if len(head) >= 4096 || qHasLine(head) {
			return head
		}
		if _, err := br.Peek(len(head) + 1); err != nil {
			head, _ = br.Peek(br.Buffered())
			return head
		}
	}
}

// qHasLine reports whether b holds a whole line that is not blank or a
// '#' comment.
func qHasLine(b []byte) bool {
	for {
		line, rest, ok := bytes.Cut(b, []byte("\n"))
		if !ok {
			return false
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return true
		}
		b = rest
	}
}

// qParseInKind reads -in-format.
func qParseInKind(s string) (qInKind, error) {
	switch strings.ToLower(s) {
	case "text", "txt":
		return qInText, nil
	case "csv":
		return qInCSV, nil
	case "ipfix":
		return qInIPFIX, nil
	case "fkb", "store":
		return qInFKB, nil
	}
	return 0, qUsageErr(fmt.Errorf("-in-format %q: want text, csv, ipfix or fkb", s))
}

// qQueryInput is the input flags the query verbs share: a file (or stdin)
// in any of the formats qSniff knows, or a repository with a time range
// and sensor/type selection.
type qQueryInput struct {
	file, format, fields    string
	repo, start, end, types string
	sensors                 string
	selErr                  error // bad -start/-end/-sensor/-type values, set by restrict
}

func qAddQueryInput(fs *flag.FlagSet) *qQueryInput {
	in := &qQueryInput{}
	fs.StringVar(&in.file, "r", "-", "read flows from this file (- is stdin): IPFIX, store file (.fkb), CSV or pipe text, told apart by the first bytes")
	fs.StringVar(&in.format, "in-format", "", "input format, instead of sniffing it: text, csv, ipfix or fkb")
	fs.StringVar(&in.fields, "in-fields", "", "columns of a text input without a title line (default "+flowtext.FormatFields(flowtext.DefaultFields, ",")+")")
	fs.StringVar(&in.repo, "repo", "", "read flows from this repository instead of -r")
	fs.StringVar(&in.start, "start", "", "only flows starting at or after this time (RFC 3339, 2026/01/01T10:00:00 or epoch seconds)")
	fs.StringVar(&in.end, "end", "", "only flows starting before this time")
	fs.StringVar(&in.sensors, "sensor", "", "only these sensor ids (comma-separated)")
	fs.StringVar(&in.types, "type", "", "only these flow types (in,out,int,ext)")
	return in
}

// name is the input's name in messages.
func (in *qQueryInput) name() string {
	if in.file == "-" {
		return "stdin"
	}
	return in.file
}

// textFields returns -in-fields parsed (nil: from the title line).
func (in *qQueryInput) textFields() ([]flowtext.Field, error) {
	if in.fields == "" {
		return nil, nil
	}
	f, err := flowtext.ParseFields(in.fields)
	if err != nil {
		return nil, qUsageErr(err)
	}
	return f, nil
}

// kind returns -in-format, or sniffs head.
func (in *qQueryInput) kind(head []byte) (qInKind, error) {
	if in.format != "" {
		return qParseInKind(in.format)
	}
	return qSniff(head), nil
}

// open returns the record source and a function that releases it.
func (in *qQueryInput) open() (flow.Source, func(), error) {
	if in.repo != "" {
		return in.repoSource(nil)
	}
	fields, err := in.textFields()
	if err != nil {
		return nil, nil, err
	}
	if in.format != "" {
		if _, err := qParseInKind(in.format); err != nil {
			return nil, nil, err
		}
	}
	var r io.Reader = stdin
	var f *os.File
	if in.file != "-" {
		if f, err = os.Open(in.file); err != nil {
			return nil, nil, err
		}
		r = f
	}
	closeFile := func() {
		if f != nil {
			f.Close()
		}
	}
	br := bufio.NewReaderSize(r, 1<<20)
	head := qPeekHead(br)
	kind, err := in.kind(head)
	if err != nil {
		closeFile()
		return nil, nil, err
	}
	switch kind {
	case qInFKB:
		var sf *store.File
		if st, serr := f.Stat(); f != nil && serr == nil && st.Mode().IsRegular() { // f.Stat is safe on nil
			closeFile()
			sf, err = store.OpenFile(in.file)
		} else {
			// A pipe: the reader needs the footer, so take it whole.
			data, rerr := io.ReadAll(br)
			closeFile()
			if rerr != nil {
				return nil, nil, fmt.Errorf("%s: %w", in.name(), rerr)
			}
			sf, err = store.OpenBytes(in.name(), data)
		}
		if err != nil {
			return nil, nil, err
		}
		return sf.NewReader(store.AllColumns), func() { sf.Close() }, nil
	case qInIPFIX:
		return &qNamedSource{src: ipfix.NewFileReader(br), name: in.name()}, closeFile, nil
	case qInCSV:
		return flowtext.NewReader(br, fields, flowtext.CSV), closeFile, nil
	}
	return flowtext.NewReader(br, fields, flowtext.Text), closeFile, nil
}

// qNamedSource adds the input's name to its errors.
type qNamedSource struct {
	src  flow.Source
	name string
}

func (s *qNamedSource) ReadBatch(dst []flow.Record) (int, error) {
	n, err := s.src.ReadBatch(dst)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%s: %w", s.name, err)
	}
	return n, err
}

// restrict adds the -start/-end/-sensor/-type selection to p.
// Bad values are left in in.selErr.
func (in *qQueryInput) restrict(p query.Pred) query.Pred {
	in.selErr = nil
	var and query.And
	if in.start != "" || in.end != "" {
		expr := ""
		if in.start != "" {
			expr = "start >= " + in.start
		}
		if in.end != "" {
			if expr != "" {
				expr += " and "
			}
			expr += "start < " + in.end
		}
		and = append(and, in.selection(expr))
	}
	if in.sensors != "" {
		and = append(and, in.selection("sensor in ["+in.sensors+"]"))
	}
	if in.types != "" {
		and = append(and, in.selection("type in ["+in.types+"]"))
	}
	if len(and) == 0 {
		return p
	}
	if p != nil {
		and = append(query.And{p}, and...)
	}
	return and
}

// selection parses a selection flag's expression; a bad value is kept in
// in.selErr (and matches nothing) for the caller to report.
func (in *qQueryInput) selection(expr string) query.Pred {
	p, err := query.Parse(expr, nil)
	if err != nil {
		in.selErr = errors.Join(in.selErr, fmt.Errorf("selection %q: %v", expr, err))
		return query.Or{}
	}
	return p
}

// source returns the input with the selection applied.
func (in *qQueryInput) source() (flow.Source, func(), error) {
	src, done, err := in.open()
	if err != nil {
		return nil, nil, err
	}
	sel := in.restrict(nil)
	if in.selErr != nil {
		done()
		return nil, nil, fmt.Errorf("%w: %v", errUsage, in.selErr)
	}
	if sel == nil {
		return src, done, nil
	}
	return &qFilteredSource{src: src, m: query.NewMatcher(sel)}, done, nil
}

// qFilteredSource passes on only the records that match.
type qFilteredSource struct {
	src flow.Source
	m   *query.Matcher
}

func (f *qFilteredSource) ReadBatch(dst []flow.Record) (int, error) {
	for {
		n, err := f.src.ReadBatch(dst)
		n = f.m.Compact(dst[:n])
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// qParseInterleaved parses flags that may come before or after the
// positional arguments ("filter EXPR -count").
func qParseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// qRecordOut writes records: by default as binary, an IPFIX stream with
// nanosecond templates (every Record field exact; what -r reads back,
// sniffed) or, for a name ending in .fkb, a store file; with -format text
// or csv as text of every field with a title or header line.
type qRecordOut struct {
	sinkTo flow.Sink
	text   *flowtext.Writer
	ipfix  *ipfix.FileWriter
	fkb    *store.FileWriter
	bw     *bufio.Writer
	f      *os.File
}

// qRecordFormatUsage is the help of -format for verbs that write records.
const qRecordFormatUsage = "write -w records as text or csv (all fields, a title line) instead of binary (IPFIX; a -w name ending in .fkb: a store file)"

// qCheckRecordFormat validates a record output's -format.
func qCheckRecordFormat(format string) error {
	switch format {
	case "", "text", "csv", "ipfix", "fkb":
		return nil
	}
	return qUsageErr(fmt.Errorf("-format %q: want text or csv (binary when not given)", format))
}

// qIsTerminal reports whether w is the process's standard output on a
// terminal (where binary records would only garble the screen).
func qIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func qOpenRecordOut(name, format string, stdout io.Writer) (*qRecordOut, error) {
	if err := qCheckRecordFormat(format); err != nil {
		return nil, err
	}
	if format == "" {
		format = "ipfix"
		if strings.HasSuffix(name, ".fkb") {
			format = "fkb"
		}
	}
	binary := format == "ipfix" || format == "fkb"
	if name == "-" && binary && qIsTerminal(stdout) {
		return nil, qUsageErr(errors.New("will not write binary records to a terminal: give -format text, or -w FILE, or pipe into another verb"))
	}
	out := &qRecordOut{}
	var w io.Writer = stdout
	if name != "-" {
		f, err := os.Create(name)
		if err != nil {
			return nil, err
		}
		out.f, w = f, f
	}
	out.bw = bufio.NewWriterSize(w, 1<<20)
	switch format {
	case "fkb":
		out.fkb = store.NewFileWriter(out.bw, 0)
		out.sinkTo = out.fkb
	case "ipfix":
		out.ipfix = ipfix.NewFileWriter(out.bw)
		out.ipfix.Encoder.Nanoseconds = true
		out.sinkTo = out.ipfix
	case "csv":
		out.text = flowtext.NewWriter(out.bw, flowtext.AllFields, flowtext.CSV)
		out.sinkTo = out.text
	default:
		out.bw.WriteString(flowtext.FormatFields(flowtext.AllFields, "|") + "\n")
		out.text = flowtext.NewWriter(out.bw, flowtext.AllFields, flowtext.Text)
		out.sinkTo = out.text
	}
	return out, nil
}

func (o *qRecordOut) sink() flow.Sink {
	if o == nil {
		return nil
	}
	return o.sinkTo
}

func (o *qRecordOut) close() error {
	if o == nil {
		return nil
	}
	var err error
	switch {
	case o.text != nil:
		err = o.text.Flush()
	case o.ipfix != nil:
		err = o.ipfix.Close()
	default:
		err = o.fkb.Close()
	}
	if ferr := o.bw.Flush(); err == nil {
		err = ferr
	}
	if o.f != nil {
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// qOpenOut opens -o for results: the file, or stdout for "" and "-".
func qOpenOut(name string, stdout io.Writer) (io.Writer, func() error, error) {
	if name == "" || name == "-" {
		return stdout, func() error { return nil }, nil
	}
	switch name {
	case "text", "csv", "json", "parquet":
		// -o used to name the output format; never write a file called "csv".
		return nil, nil, fmt.Errorf("%w: -o names an output file; for the %s format use -format %s", errUsage, name, name)
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

// qResultFlags are -format and -o of the verbs that print results.
type qResultFlags struct {
	format, out string
}

func qAddResultFlags(fs *flag.FlagSet, formats string) *qResultFlags {
	r := &qResultFlags{}
	fs.StringVar(&r.format, "format", "text", "output format: "+formats)
	fs.StringVar(&r.out, "o", "", "write the output to this file instead of stdout")
	return r
}

// write prints t to -o in -format.
func (r *qResultFlags) write(stdout io.Writer, t *qTable) error {
	w, done, err := qOpenOut(r.out, stdout)
	if err != nil {
		return err
	}
	err = t.write(w, r.format)
	if cerr := done(); err == nil {
		err = cerr
	}
	return err
}

// qJSONRecords writes records as a JSON array of objects, one key per
// field; cells that are numbers are written as numbers.
type qJSONRecords struct {
	w      *bufio.Writer
	fields []flowtext.Field
	names  [][]byte
	n      int
	cell   []byte
}

func newQJSONRecords(w io.Writer, fields []flowtext.Field) *qJSONRecords {
	j := &qJSONRecords{w: bufio.NewWriterSize(w, 1<<16), fields: fields}
	for _, f := range fields {
		k, _ := json.Marshal(flowtext.FormatFields([]flowtext.Field{f}, ""))
		j.names = append(j.names, k)
	}
	return j
}

func (j *qJSONRecords) WriteBatch(b []flow.Record) error {
	for i := range b {
		if j.n == 0 {
			j.w.WriteString("[")
		} else {
			j.w.WriteString(",")
		}
		j.n++
		j.w.WriteString("\n  {")
		for k := range j.fields {
			if k > 0 {
				j.w.WriteString(", ")
			}
			j.w.Write(j.names[k])
			j.w.WriteString(": ")
			j.cell = flowtext.AppendRecord(j.cell[:0], &b[i], j.fields[k:k+1], '|')
			qJSONCell(j.w, j.cell)
		}
		j.w.WriteString("}")
	}
	return nil
}

// Flush ends the array.
func (j *qJSONRecords) Flush() error {
	if j.n == 0 {
		j.w.WriteString("[")
	}
	j.w.WriteString("\n]\n")
	return j.w.Flush()
}

// qJSONCell writes a number as it is and anything else as a JSON string.
func qJSONCell(w *bufio.Writer, c []byte) {
	if len(c) > 0 && (c[0] >= '0' && c[0] <= '9' || c[0] == '-' && len(c) > 1 && c[1] >= '0' && c[1] <= '9') {
		if _, err := strconv.ParseFloat(string(c), 64); err == nil {
			w.Write(c)
			return
		}
	}
	v, _ := json.Marshal(string(c))
	w.Write(v)
}

// qTable prints result rows as aligned text columns (SiLK style), CSV or
// JSON (an array of objects; numeric cells as numbers). Rows come either
// from add or, for large results, from n and cell, which formats cell (i, j)
// on demand so that no row is kept as strings.
type qTable struct {
	header []string
	right  []bool // right-align this column (numbers)
	rows   [][]string
	n      int
	cell   func(i, j int, dst []byte) []byte
}

func (t *qTable) add(row ...string) { t.rows = append(t.rows, row) }

func (t *qTable) size() int {
	if t.cell != nil {
		return t.n
	}
	return len(t.rows)
}

func (t *qTable) get(i, j int, dst []byte) []byte {
	if t.cell != nil {
		return t.cell(i, j, dst)
	}
	return append(dst, t.rows[i][j]...)
}

func (t *qTable) write(w io.Writer, format string) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	var c []byte
	switch format {
	case "csv":
		cw := csv.NewWriter(bw)
		cw.Write(t.header)
		row := make([]string, len(t.header))
		for i := range t.size() {
			for j := range row {
				c = t.get(i, j, c[:0])
				row[j] = string(c)
			}
			cw.Write(row)
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	case "json":
		bw.WriteString("[")
		for i := range t.size() {
			if i > 0 {
				bw.WriteString(",")
			}
			bw.WriteString("\n  {")
			for j := range t.header {
				if j > 0 {
					bw.WriteString(", ")
				}
				k, _ := json.Marshal(t.header[j])
				bw.Write(k)
				bw.WriteString(": ")
				c = t.get(i, j, c[:0])
				if _, err := strconv.ParseFloat(string(c), 64); err == nil && t.right[j] {
					bw.Write(c)
				} else {
					v, _ := json.Marshal(string(c))
					bw.Write(v)
				}
			}
			bw.WriteString("}")
		}
		bw.WriteString("\n]\n")
	case "text", "":
		width := make([]int, len(t.header))
		for j, h := range t.header {
			width[j] = len(h)
		}
		for i := range t.size() {
			for j := range width {
				c = t.get(i, j, c[:0])
				width[j] = max(width[j], len(c))
			}
		}
		line := func(cell func(j int) []byte) {
			for j := range width {
				v := cell(j)
				pad := width[j] - len(v)
				if !t.right[j] {
					bw.Write(v)
				}
				for range pad {
					bw.WriteByte(' ')
				}
				if t.right[j] {
					bw.Write(v)
				}
				bw.WriteByte('|')
			}
			bw.WriteByte('\n')
		}
		line(func(j int) []byte { return []byte(t.header[j]) })
		for i := range t.size() {
			line(func(j int) []byte { c = t.get(i, j, c[:0]); return c })
		}
	default:
		return fmt.Errorf("%w: unknown output format %q: want text, csv or json", errUsage, format)
	}
	return bw.Flush()
}

// qCheckOutputFormat validates -format before any work is done.
func qCheckOutputFormat(f string) error {
	switch f {
	case "text", "csv", "json":
		return nil
	}
	return fmt.Errorf("%w: -format %q: want text, csv or json", errUsage, f)
}

// eachBlock calls work with every matching block of the -repo input, from
// workers goroutines (w tells which), decoding only need.
func (in *qQueryInput) eachBlock(workers int, need store.ColumnMask, work func(w int, m *query.BlockMatch) error) error {
	sel := in.restrict(nil)
	if in.selErr != nil {
		return fmt.Errorf("%w: %v", errUsage, in.selErr)
	}
	_, err := in.scan(sel, need, workers, work)
	return err
}

// qAdder is what Grouper and Counter share: they count a store block
// column by column or a batch of records.
type qAdder interface {
	AddMatch(*query.BlockMatch)
	AddBatch([]flow.Record)
}

// qAddAll feeds in's input to adders, one per worker: store blocks as
// they are for -repo, batches of records otherwise.
func qAddAll[A qAdder](in *qQueryInput, need store.ColumnMask, adders []A) error {
	if in.repo != "" {
		return in.eachBlock(len(adders), need, func(w int, m *query.BlockMatch) error {
			adders[w].AddMatch(m)
			return nil
		})
	}
	return in.each(len(adders), need, func(w int, b []flow.Record) error {
		adders[w].AddBatch(b)
		return nil
	})
}

// qFormatTime prints bin and group times as SiLK does, in UTC.
func qFormatTime(t time.Time) string { return t.UTC().Format("2006/01/02T15:04:05") }

// qUsageErr marks err as a usage error (exit status 2).
func qUsageErr(err error) error { return fmt.Errorf("%w: %v", errUsage, err) }

// each reads the input and calls work(worker, batch) on workers
// goroutines, in no particular order, with the -start/-end/-sensor/-type
// selection applied. A regular text or CSV file is cut into one byte range
// per worker, each parsed by its own reader, so parsing runs in parallel
// too; other inputs are read by one goroutine and handed out.
//
// With -repo the store planner runs instead, decoding only need (the
// columns work reads) of the blocks the selection leaves.
func (in *qQueryInput) each(workers int, need store.ColumnMask, work func(w int, batch []flow.Record) error) error {
	if in.repo != "" {
		bufs := make([][]flow.Record, workers)
		for i := range bufs {
			bufs[i] = make([]flow.Record, flow.DefaultBatchSize)
		}
		return in.eachBlock(workers, need, func(w int, m *query.BlockMatch) error {
			for b := range m.Batches(bufs[w]) {
				if err := work(w, b); err != nil {
					return err
				}
			}
			return nil
		})
	}
	sel := in.restrict(nil)
	if in.selErr != nil {
		return fmt.Errorf("%w: %v", errUsage, in.selErr)
	}
	readers, done, err := in.chunks(workers)
	if err != nil {
		return err
	}
	if readers == nil {
		src, done, err := in.source()
		if err != nil {
			return err
		}
		defer done()
		return query.Parallel(context.Background(), src, workers, work)
	}
	defer done()
	errs := make([]error, len(readers))
	var wg sync.WaitGroup
	for w, rd := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var m *query.Matcher
			if sel != nil {
				m = query.NewMatcher(sel)
			}
			buf := make([]flow.Record, flow.DefaultBatchSize)
			for {
				n, err := rd.src.ReadBatch(buf)
				if m != nil {
					n = m.Compact(buf[:n])
				}
				if n > 0 {
					if werr := work(w, buf[:n]); werr != nil {
						errs[w] = werr
						return
					}
				}
				if err != nil {
					if !errors.Is(err, io.EOF) {
						errs[w] = fmt.Errorf("%s (part starting at byte %d): %w", in.file, rd.offset, err)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// qChunk is one byte range of the input and its reader.
type qChunk struct {
	src    flow.Source
	offset int64
}

// chunks cuts a regular input file into up to n line-aligned ranges with a
// reader each; nil when the input cannot be cut (stdin, a repository, a
// small file).
func (in *qQueryInput) chunks(n int) ([]qChunk, func(), error) {
	if in.repo != "" || in.file == "-" || n < 2 {
		return nil, nil, nil
	}
	f, err := os.Open(in.file)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() || st.Size() < 1<<20 {
		f.Close()
		return nil, nil, err
	}
	head := make([]byte, 4096)
	k, _ := f.ReadAt(head, 0)
	kind, err := in.kind(head[:k])
	if err != nil || (kind != qInText && kind != qInCSV) {
		f.Close()
		return nil, nil, err
	}
	format := flowtext.Text
	if kind == qInCSV {
		format = flowtext.CSV
	}
	size := st.Size()
	// The columns: -in-fields, else a title or header line, else the default.
	var fields []flowtext.Field
	if in.fields != "" {
		if fields, err = flowtext.ParseFields(in.fields); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	} else {
		// The first line that is not a '#' comment.
		hr := bufio.NewReader(io.NewSectionReader(f, 0, 1<<16))
		first, _ := hr.ReadString('\n')
		for strings.HasPrefix(strings.TrimSpace(first), "#") {
			if first, err = hr.ReadString('\n'); err != nil {
				break
			}
		}
		sep := "|"
		if format == flowtext.CSV {
			sep = ","
		}
		if hf, herr := flowtext.ParseFields(strings.ReplaceAll(strings.TrimSpace(first), sep, ",")); herr == nil {
			fields = hf
		} else if format == flowtext.CSV {
			f.Close()
			return nil, nil, fmt.Errorf("%s: want a CSV header of field names", in.file)
		} else {
			fields = flowtext.DefaultFields
		}
	}
	// Cut points just after a newline.
	cuts := []int64{0}
	b := make([]byte, 1<<16)
	for i := 1; i < n; i++ {
		pos := size * int64(i) / int64(n)
		if pos <= cuts[len(cuts)-1] {
			continue
		}
		for {
			k, rerr := f.ReadAt(b, pos)
			if j := bytes.IndexByte(b[:k], '\n'); j >= 0 {
				pos += int64(j) + 1
				break
			}
			pos += int64(k)
			if rerr != nil {
				break
			}
		}
		if pos < size {
			cuts = append(cuts, pos)
		}
	}
	cuts = append(cuts, size)
	var out []qChunk
	for i := 0; i+1 < len(cuts); i++ {
		sr := io.NewSectionReader(f, cuts[i], cuts[i+1]-cuts[i])
		fi := fields
		if i == 0 && in.fields == "" {
			fi = nil // the first range reads its own title or header line
		}
		out = append(out, qChunk{src: flowtext.NewReader(bufio.NewReaderSize(sr, 1<<20), fi, format), offset: cuts[i]})
	}
	return out, func() { f.Close() }, nil
}

// scan runs the store planner over -repo.
func (in *qQueryInput) scan(p query.Pred, need store.ColumnMask, workers int, fn func(w int, m *query.BlockMatch) error) (query.ScanStats, error) {
	repo, err := store.OpenRepo(in.repo)
	if err != nil {
		return query.ScanStats{}, err
	}
	return query.ScanStore(context.Background(), repo, store.Selection{}, p, need, workers, fn)
}

// repoSource returns the records of -repo that match p and the selection,
// in file order, as a flow.Source.
func (in *qQueryInput) repoSource(p query.Pred) (flow.Source, func(), error) {
	p = in.restrict(p)
	if in.selErr != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, in.selErr)
	}
	if _, err := os.Stat(in.repo); err != nil {
		return nil, nil, err
	}
	var scanErr error
	seq := func(yield func([]flow.Record) bool) {
		var buf []flow.Record
		_, scanErr = in.scan(p, store.AllColumns, 1, func(_ int, m *query.BlockMatch) error {
			buf = m.Records(buf[:0])
			if !yield(buf) {
				return errStopScan
			}
			return nil
		})
		if errors.Is(scanErr, errStopScan) {
			scanErr = nil
		}
	}
	next, stop := iter.Pull(seq)
	return &qBlockSource{next: next, err: &scanErr}, stop, nil
}

var errStopScan = errors.New("scan stopped")

// qBlockSource serves the batches of a pulled block sequence.
type qBlockSource struct {
	next func() ([]flow.Record, bool)
	cur  []flow.Record
	err  *error
}

func (s *qBlockSource) ReadBatch(dst []flow.Record) (int, error) {
	for len(s.cur) == 0 {
		b, ok := s.next()
		if !ok {
			if *s.err != nil {
				return 0, *s.err
			}
			return 0, io.EOF
		}
		s.cur = b
	}
	n := copy(dst, s.cur)
	s.cur = s.cur[n:]
	return n, nil
}
