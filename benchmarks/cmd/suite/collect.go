package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
)

// ingestRate is the fixed rate both collectors receive, flows per second:
// one that nfcapd keeps up with on this machine class (see prepareData).
const ingestRate = 100_000

// collectorIngest feeds flowkit collect (into a repository) and nfcapd
// (into its file) the same pre-encoded IPFIX datagrams over loopback at the
// same fixed rate, stops each with a signal, and compares the CPU time each
// process used (user+system from rusage) and whether each stored every flow.
// Wall time says nothing here: the sender's pace sets it.
func collectorIngest(e *env) ([]row, error) {
	help, _ := exec.Command(e.flowkit, "collect", "-h").CombinedOutput()
	if !regexp.MustCompile(`(?m)^\s+-repo\b`).Match(help) {
		return []row{{work: "collector ingest (IPFIX over loopback into storage)",
			note: "not yet: `flowkit collect` has no -repo to store flows"}}, nil
	}
	if e.corpus == "" {
		return nil, fmt.Errorf("no data: the data section failed")
	}
	n := 2_000_000
	if e.quick {
		n = 500_000
	}
	n = min(n, e.flows)
	msgs, want, err := encodeCorpus(e.corpus, n)
	if err != nil {
		return nil, err
	}
	var fkCPU, nfCPU []time.Duration
	var fkRSS, nfRSS int64
	fkGot, nfGot := uint64(want), uint64(want) // fewest stored over the runs
	for i := 0; i < e.runs; i++ {
		// flowkit collect -repo
		repo := filepath.Join(e.work, "collect-repo")
		os.RemoveAll(repo)
		port, err := freeUDPPort()
		if err != nil {
			return nil, err
		}
		fk := exec.Command(e.flowkit, "collect", "-listen", fmt.Sprintf("udp://127.0.0.1:%d", port), "-repo", repo)
		cpu, rss, err := feed(fk, port, msgs, want, os.Interrupt)
		if err != nil {
			return nil, err
		}
		info, err := exec.Command(e.flowkit, "info", repo).Output()
		if err != nil {
			return nil, fmt.Errorf("flowkit info %s: %w", repo, err)
		}
		fkGot = min(fkGot, infoRecords(info))
		fkCPU, fkRSS = append(fkCPU, cpu), max(fkRSS, rss)

		// nfcapd
		dir := filepath.Join(e.work, "collect-nfcapd")
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if port, err = freeUDPPort(); err != nil {
			return nil, err
		}
		nf := exec.Command("nfcapd", "-w", dir, "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-B", "8388608", "-t", "3600", "-y")
		cpu, rss, err = feed(nf, port, msgs, want, syscall.SIGTERM)
		if err != nil {
			return nil, err
		}
		t, err := nfdumpTotals("-R", dir)
		if err != nil {
			return nil, err
		}
		nfGot = min(nfGot, t.flows)
		nfCPU, nfRSS = append(nfCPU, cpu), max(nfRSS, rss)
	}
	return []row{{
		work:     fmt.Sprintf("collector ingest: CPU time for %d flows of IPFIX at %d flows/s over loopback into storage", want, ingestRate),
		flowkit:  result{median: median(fkCPU), maxRSS: fkRSS, runs: e.runs},
		peer:     result{median: median(nfCPU), maxRSS: nfRSS, runs: e.runs},
		peerName: "nfcapd -y (lz4 file)",
		check: fmt.Sprintf("same datagrams to both; stored (worst run): flowkit %s, nfcapd %s (flowkit info, nfdump summary); times are user+system CPU from rusage",
			stored(fkGot, want), stored(nfGot, want)),
	}}, nil
}

// encodeCorpus encodes the first n corpus flows as 1400-byte IPFIX messages,
// the template message first.
func encodeCorpus(corpus string, n int) (msgs [][]byte, flows int, err error) {
	f, err := os.Open(corpus)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	r := flowtext.NewReader(f, flowtext.DefaultFields, flowtext.Text)
	enc := &ipfix.Encoder{MaxMessageSize: 1400}
	export := time.Now()
	msgs = append(msgs, enc.AppendTemplateMessage(nil, export))
	buf := make([]flow.Record, 1000)
	for flows < n {
		k, rerr := r.ReadBatch(buf)
		recs := buf[:min(k, n-flows)]
		flows += len(recs)
		for len(recs) > 0 {
			m, used := enc.AppendMessage(nil, export, recs)
			if used == 0 {
				return nil, 0, fmt.Errorf("encoder put no record in a message")
			}
			msgs = append(msgs, m)
			recs = recs[used:]
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, 0, rerr
		}
	}
	return msgs, flows, nil
}

// feed starts the collector, sends the messages to it at ingestRate flows
// per second, gives it a second to drain, stops it with sig and returns the
// CPU time and peak RSS it used.
func feed(c *exec.Cmd, port int, msgs [][]byte, flows int, sig os.Signal) (time.Duration, int64, error) {
	var errb tailBuffer
	c.Stdout, c.Stderr = &errb, &errb
	if err := c.Start(); err != nil {
		return 0, 0, err
	}
	// rusage's peak RSS of a process this one started includes the
	// suite's own (see runOnce): watch the collector's VmHWM instead.
	peak := watchPeakRSS(c.Process.Pid)
	time.Sleep(500 * time.Millisecond)
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		c.Process.Kill()
		c.Wait()
		return 0, 0, err
	}
	perMsg := float64(flows) / float64(len(msgs)-1)
	start := time.Now()
	for i, m := range msgs {
		if _, err := conn.Write(m); err != nil {
			conn.Close()
			c.Process.Kill()
			c.Wait()
			return 0, 0, fmt.Errorf("sending to %v: %w", c.Args, err)
		}
		if i%20 == 0 {
			due := time.Duration(float64(i) * perMsg / ingestRate * float64(time.Second))
			if d := due - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
	}
	conn.Close()
	time.Sleep(time.Second)
	if err := c.Process.Signal(sig); err != nil {
		return 0, 0, err
	}
	if err := c.Wait(); err != nil {
		return 0, 0, fmt.Errorf("%v: %w\n%s", c.Args, err, errb.b)
	}
	ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("no rusage")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return cpu, peak(), nil
}

// watchPeakRSS samples process pid's peak resident memory (VmHWM, which
// belongs to its own address space) every 20 ms until it is gone; the
// returned function gives the last value seen, in bytes.
func watchPeakRSS(pid int) func() int64 {
	var last atomic.Int64
	path := fmt.Sprintf("/proc/%d/status", pid)
	go func() {
		for {
			b, err := os.ReadFile(path)
			if err != nil {
				return
			}
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
					if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb > 0 {
						last.Store(kb * 1024)
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return last.Load
}

// tailBuffer keeps the last 4 KB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func stored(got uint64, want int) string {
	if got == uint64(want) {
		return fmt.Sprintf("all %d", want)
	}
	return fmt.Sprintf("%d of %d (LOST %d)", got, want, uint64(want)-got)
}
