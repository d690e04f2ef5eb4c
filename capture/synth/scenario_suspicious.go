package synth

import (
	"time"

	"github.com/flowkit/flowkit/flow"
)

// suspiciousScenario: a slow port-80 session open from 02:00 to 05:00, then
// sessions for hours that reuse the same ephemeral port.
func suspiciousScenario(b *builder) {
	c := b.tcp(SuspiciousClient, SuspiciousPort, SuspiciousServer, 80, 0)
	t := c.handshake(b.at(2 * time.Hour))
	end := b.at(5 * time.Hour)
	for {
		// one exchange (2 packets) every 90 s on average: 40 per 30 minutes
		t = b.later(t, b.uniform(60*time.Second, 120*time.Second))
		if t >= end-2*time.Minute.Nanoseconds() {
			break
		}
		c.c2s(t, pa, b.intn(20, 200))
		c.s2c(b.later(t, c.rtt()), pa, b.intn(20, 600))
	}
	c.finish(end)

	t = b.at(5*time.Hour + 30*time.Minute + b.uniform(0, 5*time.Minute))
	for i := 0; t < b.at(11*time.Hour); i++ {
		c.restart()
		s := c.handshake(t)
		for n := b.intn(2, 6); n > 0; n-- {
			s = b.later(s, b.uniform(5*time.Second, 30*time.Second))
			c.c2s(s, pa, b.intn(20, 200))
			s = b.later(s, c.rtt())
			c.s2c(s, pa, b.intn(20, 600))
		}
		s = b.later(s, b.uniform(time.Second, 10*time.Second))
		if i%2 == 0 {
			c.finish(s)
		} else {
			c.reset(true, s, flow.ACK)
		}
		t = b.later(t, b.uniform(40*time.Minute, 80*time.Minute))
	}
}
