//go:build linux && libpcap

package capture

import (
	"fmt"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// TestLiveFilterExpression compiles a tcpdump expression with libpcap
// (build tag libpcap) and checks that only matching packets arrive.
func TestLiveFilterExpression(t *testing.T) {
	hostIf, hostIP, _, ns := vethPair(t)
	src, err := OpenLive(hostIf, LiveConfig{Filter: "udp and dst port 5555", SnapLen: 96, PollTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sent := make(chan struct{})
	defer func() { <-sent }()
	go func() {
		defer close(sent)
		inNS(t, ns, fmt.Sprintf("echo -n a > /dev/udp/%s/5556; echo -n b > /dev/udp/%s/5555; echo -n c > /dev/udp/%s/5555", hostIP, hostIP, hostIP))
	}()
	got := collect(t, src, func(ps []flow.Packet) bool { return len(ps) >= 2 })
	time.Sleep(200 * time.Millisecond)
	rest := make([]flow.Packet, 16)
	n, err := src.ReadPackets(rest)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest[:n]...)
	if len(got) != 2 {
		t.Fatalf("%d packets, want the 2 datagrams to port 5555: %v", len(got), got)
	}
	for _, p := range got {
		if p.Protocol != 17 || p.DstPort != 5555 {
			t.Errorf("filter passed %+v", p)
		}
	}
}
