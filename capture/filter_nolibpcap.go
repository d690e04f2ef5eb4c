//go:build !libpcap

package capture

import "github.com/gopacket/gopacket/layers"

// compileFilter needs libpcap; this build has none.
func compileFilter(expr string, link layers.LinkType, snapLen int) ([]BPFInstruction, error) {
	return nil, ErrNoLibpcap
}
