package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/flowkit/flowkit/store"
)

func init() {
	register("import", verb{
		summary: "store flows (text, CSV or IPFIX file) in a repository (rwtuc + rwflowpack)",
		example: "flowkit import -repo /data/flows -internal 10.0.0.0/8 flows.txt",
		run:     runImport,
	})
}

// defaultInternal is RFC 1918 and ULA space: the usual inside of a site.
const defaultInternal = "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"

func runImport(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	repoDir := fs.String("repo", "", "repository directory (created if missing)")
	format := fs.String("format", "", "input format: text (SiLK pipe columns), csv (header line) or ipfix (RFC 5655 file); default: told from the first bytes, as -r does")
	fs.StringVar(format, "in-format", "", "the same as -format (the name the other verbs use for their input format)")
	fieldList := fs.String("fields", "", "text columns in order (default "+flowtext.FormatFields(flowtext.DefaultFields, ",")+"); csv reads its header")
	internalList := fs.String("internal", defaultInternal, "internal networks that set the flow type (in/out/int/ext); \"none\" keeps the records' type")
	sensor := fs.Int("sensor", -1, "set every record's sensor id (default: keep the input's)")
	blockRows := fs.Int("block", 0, "records per block (default and maximum 65536)")
	quiet := fs.Bool("q", false, "no progress line even on a terminal")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *repoDir == "" {
		return fmt.Errorf("%w: -repo is required", errUsage)
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one input FILE or - for stdin", errUsage)
	}
	if *sensor > 65535 {
		return fmt.Errorf("%w: -sensor %d: want 0..65535", errUsage, *sensor)
	}
	var classifier store.Classifier
	if *internalList != "none" {
		prefixes, err := store.ParsePrefixes(*internalList)
		if err != nil {
			return fmt.Errorf("%w: -internal: %v", errUsage, err)
		}
		classifier = &store.PrefixClassifier{Internal: prefixes}
	}

	var in io.Reader = os.Stdin
	var size int64
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in = f
	}
	counted := &countingReader{r: in}
	br := bufio.NewReaderSize(counted, 1<<16)
	if *format == "" {
		switch qSniff(qPeekHead(br)) {
		case qInIPFIX:
			*format = "ipfix"
		case qInCSV:
			*format = "csv"
		case qInFKB:
			return fmt.Errorf("%w: %s is a store file: copy it into the repository's tree, or read it with -r in the other verbs", errUsage, inputName(fs.Arg(0)))
		default:
			*format = "text"
		}
	}

	var src flow.Source
	switch strings.ToLower(*format) {
	case "ipfix":
		src = ipfix.NewFileReader(br)
	default:
		tf, err := flowtext.ParseFormat(*format)
		if err != nil {
			return fmt.Errorf("%w: -format: %v (or ipfix)", errUsage, err)
		}
		fields := flowtext.DefaultFields
		if *fieldList != "" {
			if fields, err = flowtext.ParseFields(*fieldList); err != nil {
				return fmt.Errorf("%w: -fields: %v", errUsage, err)
			}
		}
		src = flowtext.NewReader(br, fields, tf)
	}

	repo, err := store.OpenRepo(*repoDir)
	if err != nil {
		return err
	}
	w := repo.NewWriter(store.WriterOptions{Classifier: classifier, BlockRows: *blockRows})
	prog := newProgress(stderr, size, *quiet)
	start := time.Now()
	n, err := pipeline(src, func(batch []flow.Record) error {
		if *sensor >= 0 {
			for i := range batch {
				batch[i].Sensor = uint16(*sensor)
			}
		}
		if err := w.WriteBatch(batch); err != nil {
			return err
		}
		prog.update(w.Records(), counted.n.Load())
		return nil
	})
	if err != nil {
		w.Close()
		prog.done()
		return fmt.Errorf("%s: after %d records: %w", inputName(fs.Arg(0)), n, err)
	}
	if err := w.Close(); err != nil {
		prog.done()
		return err
	}
	prog.done()
	el := time.Since(start)
	fmt.Fprintf(stdout, "imported %d records into %s in %.2f s (%.2f M records/s)\n",
		n, *repoDir, el.Seconds(), float64(n)/el.Seconds()/1e6)
	return nil
}

// inputName names the input in errors.
func inputName(arg string) string {
	if arg == "-" {
		return "stdin"
	}
	return arg
}

// pipeline reads src on its own goroutine (text parsing) while fn stores
// the previous batch, passing buffers back and forth; it returns the
// number of records handed to fn.
func pipeline(src flow.Source, fn func([]flow.Record) error) (int64, error) {
	const nbuf = 4
	free := make(chan []flow.Record, nbuf)
	full := make(chan []flow.Record, nbuf)
	for i := 0; i < nbuf; i++ {
		free <- make([]flow.Record, 8192)
	}
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		defer close(full)
		for {
			var buf []flow.Record
			select {
			case buf = <-free:
			case <-stop:
				readErr <- nil
				return
			}
			k, err := src.ReadBatch(buf[:cap(buf)])
			if k > 0 {
				full <- buf[:k]
			} else {
				free <- buf
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				return
			}
		}
	}()
	var total int64
	for batch := range full {
		if err := fn(batch); err != nil {
			close(stop)
			for range full {
			}
			return total, err
		}
		total += int64(len(batch))
		free <- batch
	}
	return total, <-readErr
}

// countingReader counts the bytes read through it (for progress and ETA).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// progress prints a one-line status (records, rate, ETA) on a terminal,
// at most twice a second, and nothing when the output is not a terminal.
type progress struct {
	w     io.Writer
	on    bool
	total int64 // input bytes, 0 when unknown
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, total int64, quiet bool) *progress {
	p := &progress{w: w, total: total, start: time.Now()}
	if f, ok := w.(*os.File); ok && !quiet {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) update(records, bytesRead int64) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 500*time.Millisecond {
		return
	}
	p.last = now
	el := now.Sub(p.start).Seconds()
	line := fmt.Sprintf("\r%d records, %.2f M records/s", records, float64(records)/el/1e6)
	if p.total > 0 && bytesRead > 0 {
		frac := float64(bytesRead) / float64(p.total)
		eta := time.Duration(el/frac*(1-frac)) * time.Second
		line += fmt.Sprintf(", %.0f%%, ETA %s", 100*frac, eta.Round(time.Second))
	}
	fmt.Fprint(p.w, line+"   ")
}

func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
