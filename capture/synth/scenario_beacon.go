package synth

import (
	"time"

	"github.com/flowkit/flowkit/flow"
)

// beaconScenario: malware calling home: three SYNs a minute apart, each
// refused, then half an hour of rest, all day long.
func beaconScenario(b *builder) {
	port := uint16(BeaconFirstPort)
	const cycle = 2*time.Minute + 30*time.Minute
	for start := 30 * time.Second; start+2*time.Minute < 24*time.Hour; start += cycle {
		for a := range 3 {
			t := b.at(start + time.Duration(a)*time.Minute + b.uniform(0, 50*time.Millisecond))
			c := b.tcp(BeaconClient, port, BeaconServer, 443, 0)
			port++
			c.c2s(t, flow.SYN, 0)
			c.reset(false, b.later(t, c.rtt()), flow.ACK)
		}
	}
}
