package main

import (
	"context"
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
	"syscall"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
)

// totals are the sums every tool must agree on.
type totals struct {
	flows, packets, bytes uint64
}

func (t totals) String() string {
	return fmt.Sprintf("%d flows, %d packets, %d bytes", t.flows, t.packets, t.bytes)
}

// prepareData makes the corpus, imports it into a flowkit repository (timed)
// and gives nfdump the same flows: flowkit's IPFIX exporter sends them to
// nfcapd on loopback, and nfdump must count the same totals before anything
// is timed.
func prepareData(e *env) ([]row, error) {
	if e.corpus == "" {
		e.corpus = filepath.Join(e.work, "flows.txt")
		gen := exec.Command("python3", filepath.Join(e.root, "..", "shared", "bench", "gen_flows.py"),
			"-n", strconv.Itoa(e.flows), "-o", e.corpus)
		gen.Stderr = os.Stderr
		fmt.Fprintf(os.Stderr, "suite: generating %d corpus flows\n", e.flows)
		if err := gen.Run(); err != nil {
			return nil, fmt.Errorf("gen_flows.py: %w", err)
		}
	}
	var err error
	if e.totals, err = corpusTotals(e.corpus); err != nil {
		return nil, err
	}
	if e.totals.flows != uint64(e.flows) {
		return nil, fmt.Errorf("%s has %d flows, want %d", e.corpus, e.totals.flows, e.flows)
	}

	// flowkit repository, timed.
	e.repo = filepath.Join(e.work, "repo")
	imp := command{
		argv:  []string{e.flowkit, "import", "-q", "-repo", e.repo, e.corpus},
		setup: func() error { return os.RemoveAll(e.repo) },
	}
	res, err := measure(imp, e.runs)
	if err != nil {
		return nil, err
	}
	info, err := exec.Command(e.flowkit, "info", e.repo).Output()
	if err != nil {
		return nil, fmt.Errorf("flowkit info: %w", err)
	}
	if n := infoRecords(info); n != e.totals.flows {
		return nil, fmt.Errorf("flowkit info %s: %d records, the corpus has %d", e.repo, n, e.totals.flows)
	}
	rows := []row{{
		work: fmt.Sprintf("import %d text flows into a repository", e.flows), flowkit: res, peerName: "-",
		check: fmt.Sprintf("`flowkit info`: %d records; SiLK rwtuc 7.96 s for 10 M (context)", e.totals.flows),
	}}

	// nfdump files: export, verify, recompress.
	nfDir := filepath.Join(e.work, "nfcapd")
	var got totals
	for _, rate := range []int{100_000, 40_000, 15_000} {
		if got, err = exportToNfcapd(e, nfDir, rate); err != nil {
			return rows, err
		}
		if got == e.totals {
			break
		}
		fmt.Fprintf(os.Stderr, "suite: nfcapd received %v at %d flows/s, corpus %v; slower\n", got, rate, e.totals)
	}
	if got != e.totals {
		return rows, fmt.Errorf("nfdump counts %v, the corpus %v", got, e.totals)
	}
	e.nf = map[string]string{}
	for _, c := range []struct{ name, flag string }{{"lz4", "-y"}, {"lzo", "-z"}, {"bz2", "-j"}} {
		f := filepath.Join(e.work, "nf."+c.name)
		if out, err := exec.Command("nfdump", "-R", nfDir, c.flag, "-w", f).CombinedOutput(); err != nil {
			return rows, fmt.Errorf("nfdump -w %s: %w\n%s", f, err, out)
		}
		t, err := nfdumpTotals(f)
		if err != nil {
			return rows, err
		}
		if t != e.totals {
			return rows, fmt.Errorf("%s holds %v, the corpus %v", f, t, e.totals)
		}
		e.nf[c.name] = f
	}
	return rows, nil
}

// corpusTotals sums the corpus with flowkit's text reader.
func corpusTotals(path string) (totals, error) {
	f, err := os.Open(path)
	if err != nil {
		return totals{}, err
	}
	defer f.Close()
	r := flowtext.NewReader(f, flowtext.DefaultFields, flowtext.Text)
	buf := make([]flow.Record, 4096)
	var t totals
	for {
		n, err := r.ReadBatch(buf)
		for i := range buf[:n] {
			t.flows++
			t.packets += buf[i].Packets
			t.bytes += buf[i].Bytes
		}
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return t, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// exportToNfcapd sends the corpus with flowkit's IPFIX exporter to a fresh
// nfcapd on loopback at a fixed rate (UDP has no flow control: too fast and
// nfcapd drops), stops nfcapd with SIGTERM (which flushes its file) and
// returns what nfdump counts in the directory.
func exportToNfcapd(e *env, dir string, rate int) (totals, error) {
	if err := os.RemoveAll(dir); err != nil {
		return totals{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return totals{}, err
	}
	port, err := freeUDPPort()
	if err != nil {
		return totals{}, err
	}
	nfcapd, err := startNfcapd(dir, port, 8<<20)
	if err != nil {
		return totals{}, err
	}
	sendErr := sendCorpus(e.corpus, fmt.Sprintf("udp://127.0.0.1:%d", port), rate)
	time.Sleep(time.Second) // let nfcapd drain its socket
	if err := stopNfcapd(nfcapd); err != nil {
		return totals{}, err
	}
	if sendErr != nil {
		return totals{}, sendErr
	}
	return nfdumpTotals("-R", dir)
}

// sendCorpus reads the corpus with flowtext and writes it to an IPFIX
// exporter, rate flows per second.
func sendCorpus(corpus, target string, rate int) error {
	f, err := os.Open(corpus)
	if err != nil {
		return err
	}
	defer f.Close()
	ex, err := ipfix.Dial(context.Background(), target, ipfix.ExporterOptions{})
	if err != nil {
		return err
	}
	r := flowtext.NewReader(f, flowtext.DefaultFields, flowtext.Text)
	buf := make([]flow.Record, 100)
	start, sent := time.Now(), 0
	for {
		n, rerr := r.ReadBatch(buf)
		if n > 0 {
			if err := ex.WriteBatch(buf[:n]); err != nil {
				ex.Close()
				return err
			}
			sent += n
			due := time.Duration(float64(sent) / float64(rate) * float64(time.Second))
			if d := due - time.Since(start); d > 0 {
				time.Sleep(d)
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			ex.Close()
			return rerr
		}
	}
	return ex.Close()
}

// startNfcapd starts nfcapd on loopback with a socket buffer of bufBytes
// (as root nfcapd forces it past net.core.rmem_max).
func startNfcapd(dir string, port, bufBytes int) (*exec.Cmd, error) {
	c := exec.Command("nfcapd", "-w", dir, "-b", "127.0.0.1", "-p", strconv.Itoa(port), "-B", strconv.Itoa(bufBytes), "-t", "3600")
	log, err := os.Create(dir + ".log")
	if err != nil {
		return nil, err
	}
	c.Stdout, c.Stderr = log, log
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("nfcapd: %w", err)
	}
	time.Sleep(500 * time.Millisecond) // bound before the first datagram
	return c, nil
}

func stopNfcapd(c *exec.Cmd) error {
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := c.Wait(); err != nil {
		return fmt.Errorf("nfcapd: %w", err)
	}
	return nil
}

// freeTCPPort asks the kernel for a free loopback TCP port.
func freeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freeUDPPort asks the kernel for a free loopback UDP port.
func freeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

var nfSummary = regexp.MustCompile(`total flows: (\d+), total bytes: (\d+), total packets: (\d+)`)

// parseNfdumpSummary reads nfdump's "Summary: total flows: ..." line (with -N).
func parseNfdumpSummary(out []byte) (totals, error) {
	m := nfSummary.FindSubmatch(out)
	if m == nil {
		return totals{}, fmt.Errorf("no summary line in nfdump's output: %q", tail(out, 300))
	}
	var t totals
	t.flows, _ = strconv.ParseUint(string(m[1]), 10, 64)
	t.bytes, _ = strconv.ParseUint(string(m[2]), 10, 64)
	t.packets, _ = strconv.ParseUint(string(m[3]), 10, 64)
	return t, nil
}

// nfdumpTotals runs nfdump with -o null -N on a file (or "-R", dir).
func nfdumpTotals(args ...string) (totals, error) {
	if len(args) == 1 {
		args = []string{"-r", args[0]}
	}
	out, err := exec.Command("nfdump", append(args, "-o", "null", "-N")...).CombinedOutput()
	if err != nil {
		return totals{}, fmt.Errorf("nfdump %v: %w\n%s", args, err, out)
	}
	return parseNfdumpSummary(out)
}

// infoRecords reads the "records N" line of flowkit info.
func infoRecords(out []byte) uint64 {
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "records" {
			n, _ := strconv.ParseUint(f[1], 10, 64)
			return n
		}
	}
	return 0
}

// dirSize is the total size of the regular files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	return n, err
}
