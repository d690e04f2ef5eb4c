//go:build libpcap

package capture

import (
	"fmt"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"
)

// compileFilter compiles a tcpdump expression for frames of the given link
// type with libpcap (cgo).
func compileFilter(expr string, link layers.LinkType, snapLen int) ([]BPFInstruction, error) {
	insns, err := pcap.CompileBPFFilter(link, snapLen, expr)
	if err != nil {
		return nil, fmt.Errorf("capture: filter %q: %w", expr, err)
	}
	out := make([]BPFInstruction, len(insns))
	for i, in := range insns {
		out[i] = BPFInstruction{Code: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	return out, nil
}
