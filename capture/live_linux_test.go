//go:build linux

package capture

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket/layers"
)

// vethPair creates a network namespace with one end of a veth pair inside
// it and returns the host-side interface, the host address and the name of
// the namespace. Everything is removed when the test ends.
func vethPair(t *testing.T) (hostIf, hostIP, peerIP, ns string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture test needs root (network namespace, veth pair and AF_PACKET socket); run as root to exercise it")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("iproute2 `ip` is missing")
		}
		t.Skip("iproute2 `ip` not installed")
	}
	pid := os.Getpid()
	ns = fmt.Sprintf("fkcap%d", pid)
	hostIf, peerIf := fmt.Sprintf("fkc%da", pid%1000000), fmt.Sprintf("fkc%db", pid%1000000)
	net3 := 10 + pid%240
	hostIP, peerIP = fmt.Sprintf("10.200.%d.1", net3), fmt.Sprintf("10.200.%d.2", net3)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", hostIf).Run()
		exec.Command("ip", "netns", "del", ns).Run()
	})
	run("link", "add", hostIf, "type", "veth", "peer", "name", peerIf)
	run("link", "set", peerIf, "netns", ns)
	run("addr", "add", hostIP+"/24", "dev", hostIf)
	run("link", "set", hostIf, "up")
	run("-n", ns, "addr", "add", peerIP+"/24", "dev", peerIf)
	run("-n", ns, "link", "set", peerIf, "up")
	run("-n", ns, "link", "set", "lo", "up")
	return hostIf, hostIP, peerIP, ns
}

// inNS runs a bash command inside the namespace.
func inNS(t *testing.T, ns, script string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "exec", ns, "bash", "-c", script).CombinedOutput(); err != nil {
		t.Errorf("in %s: %s: %v\n%s", ns, script, err, out)
	}
}

// collect reads src until done reports true or the deadline passes.
func collect(t *testing.T, src Source, done func([]flow.Packet) bool) []flow.Packet {
	t.Helper()
	var all []flow.Packet
	buf := make([]flow.Packet, 64)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		n, err := src.ReadPackets(buf)
		if err != nil {
			t.Fatalf("ReadPackets: %v", err)
		}
		all = append(all, buf[:n]...)
		if done(all) {
			break
		}
	}
	return all
}

func TestLiveVeth(t *testing.T) {
	hostIf, hostIP, peerIP, ns := vethPair(t)
	src, err := OpenLive(hostIf, LiveConfig{PollTimeout: 50 * time.Millisecond, Promiscuous: true,
		BlockSize: 1 << 16, NumBlocks: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	ln, err := net.Listen("tcp4", hostIP+":5556")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 64)
			c.Read(buf)
			c.Close()
		}
	}()
	// A quiet interval first: the source must return (0, nil).
	n, err := src.ReadPackets(make([]flow.Packet, 8))
	if err != nil {
		t.Fatalf("quiet read: %d, %v", n, err)
	}
	sent := make(chan struct{})
	defer func() { <-sent }() // no t.Errorf from the sender after the test ends
	go func() {
		defer close(sent)
		inNS(t, ns, fmt.Sprintf("for i in 1 2 3; do echo -n hello-$i > /dev/udp/%s/5555; done", hostIP))
		inNS(t, ns, fmt.Sprintf("exec 3<>/dev/tcp/%s/5556; echo -n ping >&3; cat <&3; exec 3>&-", hostIP))
	}()
	src4, dst4 := flow.AddrFrom(mustAddr(peerIP)), flow.AddrFrom(mustAddr(hostIP))
	var udp, syn, synack, fin, unreach int
	count := func(ps []flow.Packet) {
		udp, syn, synack, fin, unreach = 0, 0, 0, 0, 0
		for _, p := range ps {
			switch {
			case p.Protocol == 17 && p.Src == src4 && p.Dst == dst4 && p.DstPort == 5555:
				udp++
				if p.Length != 20+8+7 {
					t.Errorf("UDP length %d, want 35", p.Length)
				}
			case p.Protocol == 6 && p.Src == src4 && p.DstPort == 5556 && p.Flags == flow.SYN:
				syn++
			case p.Protocol == 6 && p.Src == dst4 && p.SrcPort == 5556 && p.Flags == flow.SYN|flow.ACK:
				synack++
			case p.Protocol == 6 && p.Flags&flow.FIN != 0:
				fin++
			case p.Protocol == 1 && p.Src == dst4 && p.Dst == src4 && p.DstPort == 3<<8|3:
				unreach++ // port unreachable: nobody listens on udp/5555
			}
		}
	}
	got := collect(t, src, func(ps []flow.Packet) bool {
		count(ps)
		return udp == 3 && syn == 1 && synack == 1 && fin >= 2 && unreach >= 1
	})
	count(got)
	// The kernel rate-limits ICMP errors per destination, so at least one
	// port-unreachable is demanded, not three.
	if udp != 3 || syn != 1 || synack != 1 || fin < 2 || unreach < 1 || unreach > 3 {
		t.Errorf("udp=%d syn=%d synack=%d fin=%d port-unreachable=%d; want 3 1 1 >=2 1..3\n%v", udp, syn, synack, fin, unreach, got)
	}
	for _, p := range got {
		if p.Time == 0 || time.Since(time.Unix(0, p.Time)) > time.Minute {
			t.Errorf("implausible timestamp %v", time.Unix(0, p.Time))
		}
	}
	st := src.Stats()
	if st.Decoded < uint64(len(got)) || st.KernelPackets < st.Packets || st.KernelDrops != 0 {
		t.Errorf("stats %+v for %d packets", st, len(got))
	}
	t.Logf("captured %d packets; stats %+v", len(got), st)
}

// TestLiveBPFAndSnapLen attaches a raw BPF program accepting only IPv4 UDP
// (tcpdump -dd 'ip and udp') with a 64-byte snap length, then checks that
// the ICMP port-unreachable answer is filtered out and that a 1000-byte
// datagram keeps its wire length.
func TestLiveBPFAndSnapLen(t *testing.T) {
	hostIf, hostIP, peerIP, ns := vethPair(t)
	ipUDP := []BPFInstruction{
		{0x28, 0, 0, 12},     // ldh [12]
		{0x15, 0, 3, 0x0800}, // jeq #0x800
		{0x30, 0, 0, 23},     // ldb [23]
		{0x15, 0, 1, 17},     // jeq #17
		{0x06, 0, 0, 262144}, // ret #262144 (lowered to SnapLen)
		{0x06, 0, 0, 0},      // ret #0
	}
	src, err := OpenLive(hostIf, LiveConfig{SnapLen: 64, BPF: ipUDP, PollTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sent := make(chan struct{})
	defer func() { <-sent }()
	go func() {
		defer close(sent)
		inNS(t, ns, fmt.Sprintf("head -c 1000 /dev/zero | tr '\\0' x > /dev/udp/%s/5557", hostIP))
	}()
	peer := flow.AddrFrom(mustAddr(peerIP))
	got := collect(t, src, func(ps []flow.Packet) bool {
		for _, p := range ps {
			if p.DstPort == 5557 {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond) // let stray ICMP arrive, if the filter failed
	rest := make([]flow.Packet, 64)
	n, err := src.ReadPackets(rest)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest[:n]...)
	var big bool
	for _, p := range got {
		if p.Protocol != 17 {
			t.Errorf("BPF filter let through protocol %d: %+v", p.Protocol, p)
		}
		if p.Src == peer && p.DstPort == 5557 {
			big = true
			if p.Length != 1028 {
				t.Errorf("length %d, want 1028 (wire length despite the 64-byte snap)", p.Length)
			}
		}
	}
	if !big {
		t.Fatalf("1000-byte datagram not captured: %v", got)
	}
	if st := src.Stats(); st.Truncated == 0 {
		t.Errorf("snap length not applied: %+v", st)
	}
}

func TestLiveFilterExpressionNeedsLibpcap(t *testing.T) {
	if _, err := compileFilter("udp", layers.LinkTypeEthernet, 128); err == nil {
		t.Skip("built with -tags libpcap")
	} else if !errors.Is(err, ErrNoLibpcap) {
		t.Fatalf("err = %v, want ErrNoLibpcap", err)
	}
	if _, err := OpenLive("lo", LiveConfig{Filter: "udp"}); !errors.Is(err, ErrNoLibpcap) {
		t.Fatalf("OpenLive with an expression: %v, want ErrNoLibpcap", err)
	}
}
