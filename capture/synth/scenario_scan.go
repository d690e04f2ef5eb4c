package synth

import (
	"net/netip"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// scanScenario: an ICMP echo sweep of a /16, two requests per target.
func scanScenario(b *builder) {
	src := addr(ScanSource)
	pfx := netip.MustParsePrefix(ScanNetwork)
	base := flow.AddrFrom(pfx.Addr()).Uint32()
	hosts := uint32(1)<<(32-pfx.Bits()) - 1
	t := b.at(6 * time.Hour)
	seq := uint32(0)
	for i := uint32(1); i < hosts; i++ {
		dst := flow.AddrFromUint32(base + i)
		var f *flowState
		for range 2 {
			b.icmpEcho(&f, t, src, dst, seq, ScanIPLen)
			seq++
			// 2-4 packets per second
			t = b.later(t, b.uniform(250*time.Millisecond, 500*time.Millisecond))
		}
	}
}
