// Command flowkit is flowkit's command-line program: one verb per
// capability, in the spirit of SiLK's rw* tools and nfdump.
//
//	flowkit meter -r capture.pcap            # packets to flows
//	flowkit VERB -h                          # help and an example for each verb
//
// Each verb lives in a file of its own (meter.go, collect.go, ...) and
// registers itself in verbs from an init function.
//
// # Flags every verb shares
//
//	input     -r FILE            read flows from FILE (- is stdin, the default); the format is
//	                             sniffed from the first bytes: IPFIX stream (RFC 5655 file),
//	                             store file (.fkb), CSV (header line with commas) or
//	                             flowkit/SiLK pipe text (title line optional)
//	          -in-format F       text|csv|ipfix|fkb instead of sniffing
//	          -in-fields LIST    columns of title-less text
//	          -repo DIR          read a repository instead, with -start/-end/-sensor/-type
//	records   -w FILE            filter (and -fail FILE), sort, cut, collect: write records,
//	                             binary: IPFIX with nanosecond times (every field exact), or a
//	                             store file for a name ending in .fkb (- is stdout)
//	          -format text|csv   filter, sort: write them as text instead (all fields, title)
//	results   -format F          cut, count, uniq, stats, collect, detect: text (aligned
//	                             columns; for cut and collect the pipe text that -r and import
//	                             read back), csv or json
//	          -o FILE            write results to FILE instead of stdout (plot: out.svg or
//	                             out.png; set: the IP set file)
//
// Verbs chain as SiLK's do, through a binary stream or through text:
//
//	flowkit filter -r day.txt 'proto tcp' -w - | flowkit stats -fields dport -values bytes
//	flowkit filter -r day.txt 'proto tcp' -format text | flowkit cut -fields sip,dport
//
// For developers: FLOWKIT_CPUPROFILE=FILE writes a CPU profile of the
// invocation (go tool pprof FILE).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// verb is one subcommand of the flowkit program.
type verb struct {
	summary string                                              // one line for the verb list
	example string                                              // shown in -h
	run     func(args []string, stdout, stderr io.Writer) error // parses args itself
}

// verbs holds every registered verb by name.
var verbs = map[string]verb{}

// register adds a verb; each verb file calls it from init.
func register(name string, v verb) {
	if _, dup := verbs[name]; dup {
		panic("flowkit: verb registered twice: " + name)
	}
	verbs[name] = v
}

// errUsage marks an error that is about how the command was called; main
// prints it with a pointer to -h and exits with status 2.
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one flowkit invocation and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printVerbs(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	v, ok := verbs[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "flowkit: unknown verb %q\n", args[0])
		printVerbs(stderr)
		return 2
	}
	stopProfile := startProfile(stderr)
	err := v.run(args[1:], stdout, stderr)
	stopProfile()
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "flowkit %s: %v (see flowkit %s -h)\n", args[0], err, args[0])
		return 2
	default:
		fmt.Fprintf(stderr, "flowkit %s: %v\n", args[0], err)
		return 1
	}
}

func printVerbs(w io.Writer) {
	fmt.Fprintln(w, "usage: flowkit VERB [flags] (flowkit VERB -h for help and an example)")
	names := make([]string, 0, len(verbs))
	for n := range verbs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, verbs[n].summary)
	}
}

// newFlagSet makes a verb's flag set whose -h output shows the summary and
// the example. Parse errors come back as errors, never os.Exit.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("flowkit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		v := verbs[name]
		fmt.Fprintf(stderr, "flowkit %s: %s\n\nexample:\n  %s\n\nflags:\n", name, v.summary, v.example)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args into fs and turns a flag error into errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}
