package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var synthSummary = regexp.MustCompile(`(\d+) packets, (\d+) flows, (\d+) IP bytes`)

// meterVsSoftflowd meters the synthesizer's bulk pcap with flowkit meter
// (flows to a text file) and with softflowd (flows as IPFIX over TCP to
// flowkit collect), then checks both counted every packet and that
// flowkit's bytes are the synthesizer's IP bytes. Only softflowd's process
// is timed on its side, as REFERENCE.md timed it.
func meterVsSoftflowd(e *env) ([]row, error) {
	packets := 10_000_000
	if e.quick {
		packets = 1_000_000
	}
	if e.packets > 0 {
		packets = e.packets
	}
	synth := filepath.Join(e.work, "synth")
	build := exec.Command("go", "build", "-o", synth, "./examples/synth")
	build.Dir, build.Stderr = e.root, os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building synth: %w", err)
	}
	pcap := filepath.Join(e.work, "big.pcap")
	out, err := exec.Command(synth, "-o", pcap, "-bulk", strconv.Itoa(packets), "-flows", "200000", "-snaplen", "128").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("synth: %w\n%s", err, out)
	}
	m := synthSummary.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("synth printed no summary: %q", out)
	}
	truthPackets, _ := strconv.ParseUint(string(m[1]), 10, 64)
	truthBytes, _ := strconv.ParseUint(string(m[3]), 10, 64)
	defer os.Remove(pcap)

	var fk totals
	meter := flowsCommand([]string{e.flowkit, "meter", "-r", pcap}, filepath.Join(e.work, "meter.txt"), &fk)
	sfFile := filepath.Join(e.work, "softflowd.txt")
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	var collector *exec.Cmd
	var sf totals
	soft := command{
		// softflowd sends its flows in a burst at the end of the file with
		// no pacing; over UDP a collector drops part of that burst whenever
		// the socket buffer is capped (net.core.rmem_max). IPFIX over TCP
		// (RFC 7011 section 10.4) loses nothing, so every packet is counted.
		argv: []string{"softflowd", "-d", "-c", "none", "-r", pcap, "-v", "10", "-A", "milli", "-m", "400000",
			"-P", "tcp", "-n", fmt.Sprintf("127.0.0.1:%d", port), "-t", "maxlife=1800"},
		setup: func() (err error) {
			collector, err = startTCPCollector(e.flowkit, port, sfFile)
			return err
		},
		check: func([]byte) (err error) {
			if err := stopTCPCollector(collector, sfFile); err != nil {
				return err
			}
			sf, err = sumTextFlows(sfFile)
			return err
		},
	}
	a, b, err := compare(meter, soft, e.runs)
	if err != nil {
		return nil, err
	}
	// The same with two workers: the records must not change.
	var fk2 totals
	meter2 := flowsCommand([]string{e.flowkit, "meter", "-workers", "2", "-r", pcap}, filepath.Join(e.work, "meter2.txt"), &fk2)
	a2, err := measure(meter2, e.runs)
	if err != nil {
		return nil, err
	}
	if fk.packets != truthPackets || fk.bytes != truthBytes {
		return nil, fmt.Errorf("flowkit meter: %v, the pcap holds %d packets, %d IP bytes", fk, truthPackets, truthBytes)
	}
	// Flow counts may differ by timeout policy (softflowd ends TCP flows
	// 300 s after a FIN, flowkit 5 s after); packets must not.
	if fk.packets != sf.packets {
		return nil, fmt.Errorf("flowkit meter %v, softflowd %v (as flowkit collect received them over TCP)", fk, sf)
	}
	diff := (float64(sf.bytes) - float64(fk.bytes)) / float64(fk.bytes) * 100
	pps := float64(truthPackets) / a.median.Seconds() / 1e6
	flows := fmt.Sprintf("both %d flows", fk.flows)
	if fk.flows != sf.flows {
		flows = fmt.Sprintf("flows: flowkit %d, softflowd %d (timeout policies differ)", fk.flows, sf.flows)
	}
	if fk2 != fk {
		return nil, fmt.Errorf("flowkit meter -workers 2: %v, with 1 worker %v", fk2, fk)
	}
	pps2 := float64(truthPackets) / a2.median.Seconds() / 1e6
	return []row{{
		work:    fmt.Sprintf("pcap -> flows, %d packets, 200 k concurrent flows (flowkit %.2f M packets/s)", truthPackets, pps),
		flowkit: a, peer: b, peerName: "softflowd -m 400000 -P tcp -> flowkit collect",
		check: fmt.Sprintf("both %d packets (= the pcap), %s; flowkit bytes = synth's IP bytes, softflowd's %+.2f%%", fk.packets, flows, diff),
	}, {
		work:    fmt.Sprintf("the same, flowkit meter -workers 2 (%.2f M packets/s)", pps2),
		flowkit: a2, peer: b, peerName: "softflowd (the runs above)",
		check: "flowkit's flows, packets and bytes as with 1 worker",
	}}, nil
}

// flowsCommand runs argv, which prints flows as flowtext (default
// columns), into file, and sums them into sum after each run.
func flowsCommand(argv []string, file string, sum *totals) command {
	return command{argv: argv, out: file, check: func([]byte) (err error) {
		*sum, err = sumTextFlows(file)
		return err
	}}
}

// sumTextFlows sums flows, packets and bytes of a flowtext file (default columns).
func sumTextFlows(path string) (totals, error) {
	f, err := os.Open(path)
	if err != nil {
		return totals{}, err
	}
	defer f.Close()
	var t totals
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 7 {
			continue
		}
		p, err1 := strconv.ParseUint(strings.TrimSpace(cols[5]), 10, 64)
		b, err2 := strconv.ParseUint(strings.TrimSpace(cols[6]), 10, 64)
		if err1 != nil || err2 != nil {
			continue // a title line
		}
		t.flows++
		t.packets += p
		t.bytes += b
	}
	return t, sc.Err()
}

// startTCPCollector starts flowkit collect on a loopback TCP port, printing
// flows to out, and waits until the port accepts connections.
func startTCPCollector(flowkit string, port int, out string) (*exec.Cmd, error) {
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	c := exec.Command(flowkit, "collect", "-listen", "tcp://"+addr, "-o", out)
	var errb tailBuffer
	c.Stdout, c.Stderr = &errb, &errb
	if err := c.Start(); err != nil {
		return nil, fmt.Errorf("flowkit collect: %w", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return c, nil
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			c.Wait()
			return nil, fmt.Errorf("flowkit collect never listened on %s: %v\n%s", addr, err, errb.b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopTCPCollector interrupts the collector once its output (written a
// batch at a time as flows arrive) has stopped growing for half a second
// after the exporter exited, and waits for it to flush and exit.
func stopTCPCollector(c *exec.Cmd, out string) error {
	last, still := int64(-1), 0
	for deadline := time.Now().Add(60 * time.Second); still < 5 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		size := int64(-1)
		if fi, err := os.Stat(out); err == nil {
			size = fi.Size()
		}
		if size == last {
			still++
		} else {
			last, still = size, 0
		}
	}
	if err := c.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	if err := c.Wait(); err != nil {
		return fmt.Errorf("flowkit collect: %w", err)
	}
	return nil
}
