package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// realCaptures are the captures in ../shared/data/pcap on which flowkit's
// tests find softflowd's packets per 5-tuple equal to flowkit's
// (examples/flowkit TestMeterMatchesSoftflowd); their licences are in
// ../shared/data/MANIFEST.md.
var realCaptures = []string{"zeek_ssh.pcap", "ndpi_netflix.pcap", "ndpi_reddit.pcap", "zeek_wikipedia.pcap", "ipfixprobe_mixed.pcap", "ndpi_webex.pcap"}

// meterRealCaptures meters the real captures one process per file, with
// flowkit meter and with softflowd (IPFIX over TCP to flowkit collect, not
// timed), and checks that both count the same packets in all of them.
// The files are small: this row is about per-file start-up and real
// traffic's shape (fragments, VLANs, IPv6, odd link types), not speed.
func meterRealCaptures(e *env) ([]row, error) {
	dir := filepath.Join(e.root, "..", "shared", "data", "pcap")
	var files []string
	for _, name := range realCaptures {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("real capture missing: %w", err)
		}
		files = append(files, p)
	}
	quoted := "'" + strings.Join(files, "' '") + "'"
	fkOut := filepath.Join(e.work, "real-meter.txt")
	var fk, sf totals
	// One meter process per file, as a user runs it; the shell's own cost
	// is the same on both sides.
	meter := flowsCommand([]string{"sh", "-c", fmt.Sprintf("for f in %s; do %q meter -r \"$f\" || exit 1; done", quoted, e.flowkit)}, fkOut, &fk)
	port, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	sfOut := filepath.Join(e.work, "real-softflowd.txt")
	var collector *exec.Cmd
	soft := command{
		argv: []string{"sh", "-c", fmt.Sprintf("for f in %s; do softflowd -d -c none -r \"$f\" -v 10 -A milli -P tcp -n 127.0.0.1:%d >/dev/null || exit 1; done", quoted, port)},
		setup: func() (err error) {
			collector, err = startTCPCollector(e.flowkit, port, sfOut)
			return err
		},
		check: func([]byte) (err error) {
			if err := stopTCPCollector(collector, sfOut); err != nil {
				return err
			}
			sf, err = sumTextFlows(sfOut)
			return err
		},
	}
	a, b, err := compare(meter, soft, max(e.runs, 3))
	if err != nil {
		return nil, err
	}
	if fk.packets != sf.packets {
		return nil, fmt.Errorf("real captures: flowkit meter %v, softflowd %v", fk, sf)
	}
	diff := (float64(sf.bytes) - float64(fk.bytes)) / float64(fk.bytes) * 100
	return []row{{
		work:    fmt.Sprintf("pcap -> flows, %d real captures from ../shared/data/pcap (one process each; %d packets)", len(files), fk.packets),
		flowkit: a, peer: b, peerName: "softflowd -P tcp -> flowkit collect",
		check: fmt.Sprintf("both %d packets; flows: flowkit %d, softflowd %d (timeout policies differ); softflowd's bytes %+.2f%% (it counts Ethernet padding, flowkit IP bytes)", fk.packets, fk.flows, sf.flows, diff),
	}}, nil
}
