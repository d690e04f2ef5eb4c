// Command demo runs flowkit's whole chain in one process on a synthesized
// day of traffic, and prints what a flow analyst draws from it:
//
//	synthesized packets (pcap) → capture → flow table → IPFIX over loopback UDP
//	→ collector → store (temporary repository) → queries and detections
//
// It finishes in seconds, writes a strip plot of the beacon it finds
// (-plot, beacon.png by default; -plot "" for none) and removes everything
// else it made.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	plot := flag.String("plot", "beacon.png", "write the beacon's strip plot here (.png or .svg); empty for none")
	seed := flag.Uint64("seed", 1, "synthesizer seed")
	flag.Parse()
	if err := run(os.Stdout, *seed, *plot); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// run is the demo, writing its report to out.
func run(out io.Writer, seed uint64, plotPath string) error {
	dir, err := os.MkdirTemp("", "flowkit-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	p := &report{w: out}
	p.title("flowkit demo: one synthesized day of traffic through the whole chain")
	day, err := sensorToStore(p, dir, seed)
	if err != nil {
		return err
	}
	return analyse(p, day, plotPath)
}

// report prints the demo's sections.
type report struct {
	w    io.Writer
	step int
}

func (p *report) title(s string) { fmt.Fprintf(p.w, "%s\n\n", s) }

func (p *report) stage(format string, args ...any) {
	p.step++
	fmt.Fprintf(p.w, "%d. %s\n", p.step, fmt.Sprintf(format, args...))
}

func (p *report) finding(name, format string, args ...any) {
	fmt.Fprintf(p.w, "   %-12s %s\n", name+":", fmt.Sprintf(format, args...))
}

func (p *report) line(format string, args ...any) {
	fmt.Fprintf(p.w, "   %s\n", fmt.Sprintf(format, args...))
}
