package synth

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"
)

// needPeer returns a peer program's path (skip, or fail under CI=true).
func needPeer(t *testing.T, name string) string { return testenv.NeedPeer(t, name) }

// TestTsharkReadsCapture lets Wireshark's dissectors judge the frames: no
// malformed packet, no bad IP/TCP/UDP/ICMP checksum (fragments reassembled),
// every frame there.
func TestTsharkReadsCapture(t *testing.T) {
	tshark := needPeer(t, "tshark")
	var names []string
	for _, n := range ScenarioNames() {
		if n != "icmp-scan" { // the big one adds nothing here but time
			names = append(names, n)
		}
	}
	tr, err := Generate(Config{Seed: 11, Scenarios: names, Nanosecond: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "day.pcap")
	var buf bytes.Buffer
	if err := tr.WritePcap(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	prefs := []string{"-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"}
	bad := exec.Command(tshark, append([]string{"-r", path, "-Y",
		"_ws.malformed || _ws.expert.severity >= error || ip.checksum.status == 0 || tcp.checksum.status == 0 || " +
			"udp.checksum.status == 0 || icmp.checksum.status == 0", "-T", "fields", "-e", "frame.number"}, prefs...)...)
	out, err := bad.Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Fatalf("tshark finds problems in frames %s", strings.Join(strings.Fields(s), ","))
	}
	count, err := exec.Command(tshark, "-r", path, "-T", "fields", "-e", "frame.number").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if n := len(strings.Fields(string(count))); n != tr.Len() {
		t.Fatalf("tshark reads %d frames, wrote %d", n, tr.Len())
	}
}
