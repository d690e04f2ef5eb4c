package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

// command is one process to time: argv and, optionally, what to run
// before each timing (not timed) and a check of its output.
type command struct {
	argv  []string
	dir   string
	out   string                    // when set, stdout goes to this file instead of memory
	setup func() error              // before each run, untimed (e.g. empty an output directory)
	check func(stdout []byte) error // after each run: is the answer right?
}

// sample is one timed run.
type sample struct {
	wall   time.Duration
	maxRSS int64 // bytes
	stdout []byte
}

// timeBin is GNU time, which reports its child's peak resident memory.
const timeBin = "/usr/bin/time"

// runOnce runs c and measures its wall time and peak resident memory.
//
// The peak memory comes from GNU time running the command, not from the
// rusage of a process this one starts: Go starts processes with
// CLONE_VM, and Linux carries the parent's peak RSS into the child's at
// exec, so every child would report at least the suite's own peak (which
// grows to hundreds of MB as it holds corpus data).
func runOnce(c command) (sample, error) {
	if c.setup != nil {
		if err := c.setup(); err != nil {
			return sample{}, fmt.Errorf("setup of %v: %w", c.argv, err)
		}
	}
	rssFile, err := os.CreateTemp("", "flowkit-bench-rss-*")
	if err != nil {
		return sample{}, err
	}
	rssFile.Close()
	defer os.Remove(rssFile.Name())
	cmd := exec.Command(timeBin, append([]string{"-f", "%M", "-o", rssFile.Name(), "--"}, c.argv...)...)
	cmd.Dir = c.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if c.out != "" {
		f, err := os.Create(c.out)
		if err != nil {
			return sample{}, err
		}
		defer f.Close()
		cmd.Stdout = f
	}
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%v: %w\n%s", c.argv, err, tail(errb.Bytes(), 2000))
	}
	s := sample{wall: wall, stdout: out.Bytes()}
	if b, err := os.ReadFile(rssFile.Name()); err == nil {
		if kb, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
			s.maxRSS = kb * 1024
		}
	}
	if c.check != nil {
		if err := c.check(s.stdout); err != nil {
			return s, fmt.Errorf("%v: wrong answer: %w", c.argv, err)
		}
	}
	return s, nil
}

// result is the median of several runs of one side of a comparison.
type result struct {
	median time.Duration
	maxRSS int64
	runs   int
}

// compare runs a and b alternately, runs times each (a first, then b, then
// a ...), so that drift on a shared machine hits both alike.
func compare(a, b command, runs int) (ra, rb result, err error) {
	var wa, wb []time.Duration
	for i := 0; i < runs; i++ {
		sa, err := runOnce(a)
		if err != nil {
			return ra, rb, err
		}
		wa = append(wa, sa.wall)
		ra.maxRSS = max(ra.maxRSS, sa.maxRSS)
		sb, err := runOnce(b)
		if err != nil {
			return ra, rb, err
		}
		wb = append(wb, sb.wall)
		rb.maxRSS = max(rb.maxRSS, sb.maxRSS)
	}
	ra.median, ra.runs = median(wa), runs
	rb.median, rb.runs = median(wb), runs
	return ra, rb, nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// measure runs one command runs times (a comparison with no peer process).
func measure(c command, runs int) (result, error) {
	var w []time.Duration
	var r result
	for i := 0; i < runs; i++ {
		s, err := runOnce(c)
		if err != nil {
			return r, err
		}
		w = append(w, s.wall)
		r.maxRSS = max(r.maxRSS, s.maxRSS)
	}
	r.median, r.runs = median(w), runs
	return r, nil
}
