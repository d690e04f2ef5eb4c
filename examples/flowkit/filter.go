package main

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
	"sync/atomic"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/query"
	"github.com/flowkit/flowkit/store"
)

func init() {
	register("filter", verb{
		summary: "select flows matching an expression (rwfilter, nfdump -R ... EXPR)",
		example: "flowkit filter -r flows.txt 'proto tcp and dst port 22' -count",
		run:     runFilter,
	})
}

func runFilter(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("filter", stderr)
	in := qAddQueryInput(fs)
	count := fs.Bool("count", false, "print only the number of matching flows")
	passFile := fs.String("w", "-", "write matching flows here (text with a title line, all fields; - is stdout; a name ending in .fkb: a store file)")
	failFile := fs.String("fail", "", "write the flows that do not match here")
	pos, err := qParseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want one expression (quote it), got %d arguments", errUsage, len(pos))
	}
	pred, err := query.Parse(pos[0], nil)
	if err != nil {
		return err
	}
	if in.repo != "" {
		return filterRepo(in, pred, *count, *passFile, *failFile, stdout)
	}
	if *count && *failFile == "" {
		var counts [2]int64
		ms := [2]*query.Matcher{query.NewMatcher(pred), query.NewMatcher(pred)}
		var sels [2]query.Bits
		err := in.each(2, 0, func(w int, b []flow.Record) error {
			sels[w] = ms[w].Select(b, sels[w])
			counts[w] += int64(sels[w].Count())
			return nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, counts[0]+counts[1])
		return nil
	}
	src, done, err := in.open()
	if err != nil {
		return err
	}
	defer done()
	pred = in.restrict(pred)
	if qSelectionErr != nil {
		return qUsageErr(qSelectionErr)
	}
	var pass, fail *qRecordOut
	if !*count {
		if pass, err = qOpenRecordOut(*passFile, stdout); err != nil {
			return err
		}
	}
	if *failFile != "" {
		if fail, err = qOpenRecordOut(*failFile, stdout); err != nil {
			return err
		}
	}
	st, err := query.Filter(context.Background(), src, pred, pass.sink(), fail.sink())
	if err != nil {
		return err
	}
	if err := pass.close(); err != nil {
		return err
	}
	if err := fail.close(); err != nil {
		return err
	}
	if *count {
		fmt.Fprintln(stdout, st.Passed)
	}
	return nil
}

// qQueryInput is the input flags the query verbs share: a text or CSV file
// (or stdin), or a repository with a time range and sensor/type selection.
type qQueryInput struct {
	file, format, fields    string
	repo, start, end, types string
	sensors                 string
	stdin                   io.Reader
}

func qAddQueryInput(fs *flag.FlagSet) *qQueryInput {
	in := &qQueryInput{stdin: os.Stdin}
	fs.StringVar(&in.file, "r", "-", "read flows from this text or CSV file (- is stdin), or a store file (name ending in .fkb)")
	fs.StringVar(&in.format, "format", "text", "input format: text (SiLK pipe columns) or csv")
	fs.StringVar(&in.fields, "in-fields", "", "columns of a text input without a title line (default: the title line, else "+flowtext.FormatFields(flowtext.DefaultFields, ",")+")")
	fs.StringVar(&in.repo, "repo", "", "read flows from this repository instead of -r")
	fs.StringVar(&in.start, "start", "", "only flows starting at or after this time (RFC 3339, 2026/01/01T10:00:00 or epoch seconds)")
	fs.StringVar(&in.end, "end", "", "only flows starting before this time")
	fs.StringVar(&in.sensors, "sensor", "", "only these sensor ids (comma-separated)")
	fs.StringVar(&in.types, "type", "", "only these flow types (in,out,int,ext)")
	return in
}

// open returns the record source and a function that releases it.
func (in *qQueryInput) open() (flow.Source, func(), error) {
	if in.repo != "" {
		return in.repoSource(nil)
	}
	format, err := flowtext.ParseFormat(in.format)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	var fields []flowtext.Field
	if in.fields != "" {
		if fields, err = flowtext.ParseFields(in.fields); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	}
	if strings.HasSuffix(in.file, ".fkb") {
		f, err := store.OpenFile(in.file)
		if err != nil {
			return nil, nil, err
		}
		return f.NewReader(store.AllColumns), func() { f.Close() }, nil
	}
	var r io.Reader = in.stdin
	done := func() {}
	if in.file != "-" {
		f, err := os.Open(in.file)
		if err != nil {
			return nil, nil, err
		}
		r, done = f, func() { f.Close() }
	}
	return flowtext.NewReader(bufio.NewReaderSize(r, 1<<20), fields, format), done, nil
}

// restrict adds the -start/-end/-sensor/-type selection to p.
func (in *qQueryInput) restrict(p query.Pred) query.Pred {
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
		and = append(and, qMustSelection(expr))
	}
	if in.sensors != "" {
		and = append(and, qMustSelection("sensor in ["+in.sensors+"]"))
	}
	if in.types != "" {
		and = append(and, qMustSelection("type in ["+in.types+"]"))
	}
	if len(and) == 0 {
		return p
	}
	if p != nil {
		and = append(query.And{p}, and...)
	}
	return and
}

// qMustSelection parses a selection flag's expression; a bad value becomes
// a predicate that reports the error when evaluated would be wrong, so
// panic-free: errors surface through qSelectionErr.
func qMustSelection(expr string) query.Pred {
	p, err := query.Parse(expr, nil)
	if err != nil {
		qSelectionErr = errors.Join(qSelectionErr, fmt.Errorf("selection %q: %v", expr, err))
		return query.Or{}
	}
	return p
}

// qSelectionErr collects bad -start/-end/-sensor/-type values.
var qSelectionErr error

// source returns the input with the selection applied.
func (in *qQueryInput) source() (flow.Source, func(), error) {
	src, done, err := in.open()
	if err != nil {
		return nil, nil, err
	}
	sel := in.restrict(nil)
	if qSelectionErr != nil {
		done()
		return nil, nil, fmt.Errorf("%w: %v", errUsage, qSelectionErr)
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

// qRecordOut writes records as text with a title line of every field,
// which every query verb reads back losslessly, or, for a name ending in
// .fkb, as a store file (binary, columnar, compressed).
type qRecordOut struct {
	sinkTo flow.Sink
	text   *flowtext.Writer
	fkb    *store.FileWriter
	bw     *bufio.Writer
	f      *os.File
}

func qOpenRecordOut(name string, stdout io.Writer) (*qRecordOut, error) {
	out := &qRecordOut{}
	var w io.Writer = stdout
	if name != "-" {
		f, err := os.Create(name)
		if err != nil {
			return nil, err
		}
		out.f, w = f, f
	}
	if strings.HasSuffix(name, ".fkb") {
		out.bw = bufio.NewWriterSize(w, 1<<20)
		out.fkb = store.NewFileWriter(out.bw, 0)
		out.sinkTo = out.fkb
		return out, nil
	}
	if _, err := io.WriteString(w, flowtext.FormatFields(flowtext.AllFields, "|")+"\n"); err != nil {
		return nil, err
	}
	out.text = flowtext.NewWriter(w, flowtext.AllFields, flowtext.Text)
	out.sinkTo = out.text
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
	if o.text != nil {
		err = o.text.Flush()
	} else {
		err = o.fkb.Close()
		if ferr := o.bw.Flush(); err == nil {
			err = ferr
		}
	}
	if o.f != nil {
		if cerr := o.f.Close(); err == nil {
			err = cerr
		}
	}
	return err
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

// qCheckOutputFormat validates -o before any work is done.
func qCheckOutputFormat(f string) error {
	switch f {
	case "text", "csv", "json":
		return nil
	}
	return fmt.Errorf("%w: unknown output format %q: want text, csv or json", errUsage, f)
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
	sel := in.restrict(nil)
	if qSelectionErr != nil {
		return fmt.Errorf("%w: %v", errUsage, qSelectionErr)
	}
	if in.repo != "" {
		bufs := make([][]flow.Record, workers)
		for i := range bufs {
			bufs[i] = make([]flow.Record, flow.DefaultBatchSize)
		}
		_, err := in.scan(sel, need, workers, func(w int, m *query.BlockMatch) error {
			for b := range m.Batches(bufs[w]) {
				if err := work(w, b); err != nil {
					return err
				}
			}
			return nil
		})
		return err
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
	if in.repo != "" || in.file == "-" || n < 2 || strings.HasSuffix(in.file, ".fkb") {
		return nil, nil, nil
	}
	format, err := flowtext.ParseFormat(in.format)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
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
	size := st.Size()
	// The columns: -in-fields, else a title or header line, else the default.
	var fields []flowtext.Field
	if in.fields != "" {
		if fields, err = flowtext.ParseFields(in.fields); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
		}
	} else {
		first, _ := bufio.NewReader(io.NewSectionReader(f, 0, 1<<16)).ReadString('\n')
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
		out = append(out, qChunk{src: flowtext.NewReader(bufio.NewReaderSize(sr, 1<<20), fields, format), offset: cuts[i]})
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
	if qSelectionErr != nil {
		return nil, nil, fmt.Errorf("%w: %v", errUsage, qSelectionErr)
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

// filterRepo is filter over -repo: counts come from the planner (often
// from the indexes alone); records are written in file order.
func filterRepo(in *qQueryInput, pred query.Pred, count bool, passFile, failFile string, stdout io.Writer) error {
	sel := in.restrict(pred)
	if qSelectionErr != nil {
		return qUsageErr(qSelectionErr)
	}
	if count && failFile == "" {
		var n atomic.Int64
		if _, err := in.scan(sel, 0, 0, func(_ int, m *query.BlockMatch) error {
			n.Add(int64(m.Count))
			return nil
		}); err != nil {
			return err
		}
		fmt.Fprintln(stdout, n.Load())
		return nil
	}
	write := func(p query.Pred, name string) (int64, error) {
		src, done, err := in.repoSource(p)
		if err != nil {
			return 0, err
		}
		defer done()
		var sink flow.Sink = qDiscard{}
		var out *qRecordOut
		if name != "" {
			if out, err = qOpenRecordOut(name, stdout); err != nil {
				return 0, err
			}
			sink = out.sink()
		}
		n, err := flow.Copy(sink, src)
		if err != nil {
			return n, err
		}
		return n, out.close()
	}
	if failFile != "" {
		if _, err := write(query.Not{P: pred}, failFile); err != nil {
			return err
		}
	}
	name := passFile
	if count {
		name = ""
	}
	n, err := write(pred, name)
	if err != nil {
		return err
	}
	if count {
		fmt.Fprintln(stdout, n)
	}
	return nil
}

// qDiscard is a sink that drops records.
type qDiscard struct{}

func (qDiscard) WriteBatch([]flow.Record) error { return nil }
