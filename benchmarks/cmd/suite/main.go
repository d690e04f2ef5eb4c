// Command suite runs flowkit's whole-process comparisons with its peers and
// prints one table of medians and ratios; benchmarks/run is its front door.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// env is what every section gets: paths, scale and the flowkit binary.
type env struct {
	root    string // the flowkit checkout
	work    string // scratch directory for data and outputs
	flowkit string // the built flowkit binary
	flows   int    // corpus size
	runs    int
	quick   bool
	packets int // pcap size for pcap -> flows (0: 1 M with -quick, else 10 M)

	loadStart string // load average when the suite started

	// Left by the data section for the others.
	corpus string            // the text corpus
	totals totals            // its flows, packets and bytes
	repo   string            // flowkit repository of the corpus
	nf     map[string]string // nfdump files of the corpus by compression (lz4, lzo, bz2)
}

// section is one comparison (or a group of rows sharing data).
type section struct {
	name  string
	needs []string                    // flowkit verbs it needs; missing ones make it "not yet"
	run   func(e *env) ([]row, error) // the rows it measured
}

func main() {
	root := flag.String("root", "..", "the flowkit checkout")
	quick := flag.Bool("quick", false, "1 M flows and one run each")
	runs := flag.Int("runs", 0, "runs per side (default 3, 1 with -quick)")
	work := flag.String("work", "", "scratch directory (default: a temporary one, removed at the end)")
	out := flag.String("o", "", "write the table here too (default ROOT/benchmarks/RESULTS.md; - for none)")
	corpus := flag.String("corpus", "", "reuse this corpus file (gen_flows.py output with as many flows as the scale) instead of generating it")
	packets := flag.Int("packets", 0, "packets in the bulk pcap (default 10 M, 1 M with -quick)")
	prebuilt := flag.String("flowkit", "", "use this flowkit binary instead of building ROOT/examples/flowkit")
	only := flag.String("only", "", "run only the sections whose name contains this (the data section always runs)")
	flag.Parse()

	e := &env{root: *root, flows: 10_000_000, runs: 3, quick: *quick, corpus: *corpus, packets: *packets}
	if *quick {
		e.flows, e.runs = 1_000_000, 1
	}
	if *runs > 0 {
		e.runs = *runs
	}
	if err := setup(e, *work, *prebuilt); err != nil {
		fmt.Fprintln(os.Stderr, "suite:", err)
		os.Exit(1)
	}
	if *work == "" {
		defer os.RemoveAll(e.work)
	}

	started := time.Now()
	var rows []row
	failed := false
	for i, s := range sections {
		if i > 0 && *only != "" && !strings.Contains(s.name, *only) {
			continue
		}
		if missing := missingVerbs(e, s.needs); len(missing) > 0 {
			rows = append(rows, row{work: s.name, note: fmt.Sprintf("not yet: flowkit has no %v", missing)})
			continue
		}
		fmt.Fprintf(os.Stderr, "suite: %s ...\n", s.name)
		r, err := s.run(e)
		if err != nil {
			failed = true
			rows = append(rows, row{work: s.name, note: "FAILED: " + firstLine(err.Error())})
			fmt.Fprintf(os.Stderr, "suite: %s: %v\n", s.name, err)
			continue
		}
		rows = append(rows, r...)
	}
	table := renderTable(e, rows, time.Since(started))
	fmt.Print(table)
	if *out != "-" {
		path := *out
		if path == "" {
			path = filepath.Join(e.root, "benchmarks", "RESULTS.md")
		}
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "suite:", err)
			os.Exit(1)
		}
	}
	if failed {
		os.Exit(1)
	}
}

// setup builds flowkit and makes the scratch directory.
func setup(e *env, work, prebuilt string) error {
	var err error
	if e.root, err = filepath.Abs(e.root); err != nil {
		return err
	}
	if work == "" {
		if work, err = os.MkdirTemp("", "flowkit-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	e.work = work
	e.loadStart = loadAverage()
	if e.corpus != "" {
		if e.corpus, err = filepath.Abs(e.corpus); err != nil {
			return err
		}
	}
	if prebuilt != "" {
		e.flowkit, err = filepath.Abs(prebuilt)
		return err
	}
	e.flowkit = filepath.Join(work, "flowkit")
	build := exec.Command("go", "build", "-o", e.flowkit, "./examples/flowkit")
	build.Dir = e.root
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building flowkit: %w", err)
	}
	return nil
}

// missingVerbs lists the verbs the built flowkit does not have
// (flowkit VERB -h exits 0 for a known verb).
func missingVerbs(e *env, verbs []string) []string {
	var missing []string
	for _, v := range verbs {
		if exec.Command(e.flowkit, v, "-h").Run() != nil {
			missing = append(missing, v)
		}
	}
	return missing
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
