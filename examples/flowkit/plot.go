package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query/stripplot"
)

func init() {
	register("plot", verb{
		summary: "draw a strip plot of flow starts per host or pair over time, as SVG or PNG (stripplot.py)",
		example: "flowkit plot -r flows.txt -by sip -keys 10.0.7.70,10.0.9.9 -o beacon.png -start 2026-01-01T00:00:00Z -end 2026-01-02T00:00:00Z",
		run:     runPlot,
	})
}

func runPlot(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", stderr)
	in := qAddQueryInput(fs)
	fs.Lookup("start").Usage = "only flows starting at or after this time, and the left end of the time axis (RFC 3339, 2026/01/01T10:00:00 or epoch seconds; default: the first flow)"
	fs.Lookup("end").Usage = "only flows starting before this time, and the right end of the time axis (default: the last flow)"
	by := fs.String("by", "sip", "one strip per: sip (source), dip (destination) or pair")
	keys := fs.String("keys", "", "the strips, comma-separated: addresses, or src-dst pairs with -by pair (default: the -top busiest)")
	top := fs.Int("top", 10, "how many of the busiest keys to draw when -keys is not given")
	out := fs.String("o", "", "write the picture here: a .svg or .png file (- writes SVG to stdout)")
	title := fs.String("title", "", "title of the plot")
	weight := fs.String("weight", "bytes", "what sets tick height: bytes or packets")
	width := fs.Int("width", 1200, "picture width in pixels")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *out == "" {
		return fmt.Errorf("%w: -o FILE.svg or FILE.png is required", errUsage)
	}
	ext := strings.ToLower(filepath.Ext(*out))
	if *out != "-" && ext != ".svg" && ext != ".png" {
		return fmt.Errorf("%w: -o %s: the name must end in .svg or .png", errUsage, *out)
	}
	opt := stripplot.Options{Top: *top, Title: *title, Width: *width}
	var err error
	if opt.By, err = stripplot.ParseBy(*by); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch *weight {
	case "bytes":
		opt.Weight = stripplot.ByBytes
	case "packets":
		opt.Weight = stripplot.ByPackets
	default:
		return fmt.Errorf("%w: -weight %q: want bytes or packets", errUsage, *weight)
	}
	if *keys != "" {
		for _, s := range strings.Split(*keys, ",") {
			k, err := stripplot.ParseKey(s)
			if err != nil {
				return fmt.Errorf("%w: -keys: %v", errUsage, err)
			}
			if k.Pair != (opt.By == stripplot.ByPair) {
				return fmt.Errorf("%w: -keys %s: with -by %s the keys must be %s", errUsage, s, opt.By,
					map[bool]string{true: "src-dst pairs", false: "addresses"}[opt.By == stripplot.ByPair])
			}
			opt.Keys = append(opt.Keys, k)
		}
	}
	if opt.Start, err = parseTimeFlag("start", in.start); err != nil {
		return err
	}
	if opt.End, err = parseTimeFlag("end", in.end); err != nil {
		return err
	}
	// -start and -end select the flows and are the ends of the time axis.
	src, done, err := in.source()
	if err != nil {
		return err
	}
	defer done()
	b := stripplot.NewBuilder(opt)
	if _, err := flow.Copy(b, src); err != nil {
		return err
	}
	p, err := b.Plot()
	if err != nil {
		return err
	}
	if *out == "-" {
		return p.WriteSVG(stdout)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if ext == ".png" {
		err = p.WritePNG(f)
	} else {
		err = p.WriteSVG(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "flowkit plot: %d strips, %s - %s, wrote %s\n", len(p.Strips),
		p.Start.Format(time.RFC3339), p.End.Format(time.RFC3339), *out)
	return nil
}

// parseTimeFlag reads RFC 3339, SiLK's 2026/01/01T10:00:00 (UTC) or epoch
// seconds; empty gives the zero time.
func parseTimeFlag(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Unix(0, int64(v*1e9)).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006/01/02T15:04:05", "2006-01-02T15:04:05", "2006/01/02", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: -%s %q: want RFC 3339, 2006/01/02T15:04:05 or epoch seconds", errUsage, name, s)
}
