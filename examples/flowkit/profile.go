package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole invocation to the file
// named by FLOWKIT_CPUPROFILE, for developers measuring a verb as users run
// it (go tool pprof FILE). It returns the function that stops it.
func startProfile(stderr io.Writer) func() {
	path := os.Getenv("FLOWKIT_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "flowkit: FLOWKIT_CPUPROFILE: %v\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "flowkit: FLOWKIT_CPUPROFILE: %v\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
