package main

import (
	"bufio"
	"fmt"
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
// (flows to a text file) and with softflowd (flows as IPFIX to nfcapd, as
// REFERENCE.md measured it), then checks both found the same flows and
// packets and that flowkit's bytes are the synthesizer's IP bytes.
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
	flowsFile := filepath.Join(e.work, "meter.txt")
	meter := command{
		argv: []string{e.flowkit, "meter", "-r", pcap},
		out:  flowsFile,
		check: func([]byte) (err error) {
			fk, err = sumTextFlows(flowsFile)
			return err
		},
	}
	nfDir := filepath.Join(e.work, "softflowd")
	port, err := freeUDPPort()
	if err != nil {
		return nil, err
	}
	var nfcapd *exec.Cmd
	var sf totals
	soft := command{
		argv: []string{"softflowd", "-d", "-c", "none", "-r", pcap, "-v", "10", "-A", "milli", "-m", "400000",
			"-n", fmt.Sprintf("127.0.0.1:%d", port), "-t", "maxlife=1800"},
		setup: func() (err error) {
			if err := os.RemoveAll(nfDir); err != nil {
				return err
			}
			if err := os.MkdirAll(nfDir, 0o755); err != nil {
				return err
			}
			// softflowd sends its flows in a burst at the end of the file
			// with no pacing: a large buffer keeps nfcapd from dropping them.
			nfcapd, err = startNfcapd(nfDir, port, 512<<20)
			return err
		},
		check: func([]byte) (err error) {
			time.Sleep(3 * time.Second) // let nfcapd drain its socket
			if err := stopNfcapd(nfcapd); err != nil {
				return err
			}
			sf, err = nfdumpTotals("-R", nfDir)
			return err
		},
	}
	a, b, err := compare(meter, soft, e.runs)
	if err != nil {
		return nil, err
	}
	if fk.packets != truthPackets || fk.bytes != truthBytes {
		return nil, fmt.Errorf("flowkit meter: %v, the pcap holds %d packets, %d IP bytes", fk, truthPackets, truthBytes)
	}
	// Flow counts may differ by timeout policy (softflowd ends TCP flows
	// 300 s after a FIN, flowkit 5 s after); packets must not.
	if fk.packets != sf.packets {
		return nil, fmt.Errorf("flowkit meter %v, softflowd %v (nfcapd's log %s.log says whether datagrams were lost)", fk, sf, nfDir)
	}
	diff := (float64(sf.bytes) - float64(fk.bytes)) / float64(fk.bytes) * 100
	pps := float64(truthPackets) / a.median.Seconds() / 1e6
	flows := fmt.Sprintf("both %d flows", fk.flows)
	if fk.flows != sf.flows {
		flows = fmt.Sprintf("flows: flowkit %d, softflowd %d (timeout policies differ)", fk.flows, sf.flows)
	}
	return []row{{
		work:    fmt.Sprintf("pcap -> flows, %d packets, 200 k concurrent flows (flowkit %.2f M packets/s)", truthPackets, pps),
		flowkit: a, peer: b, peerName: "softflowd -m 400000 -> nfcapd",
		check: fmt.Sprintf("both %d packets (= the pcap), %s; flowkit bytes = synth's IP bytes, softflowd's %+.2f%%", fk.packets, flows, diff),
	}}, nil
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
