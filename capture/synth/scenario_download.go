package synth

import (
	"time"

	"github.com/flowkit/flowkit/flow"
)

// downloadScenario: three large downloads the client aborts with RST, and
// a lone RST long after the last one.
func downloadScenario(b *builder) {
	var c *tcpConn
	var t int64
	for d := range 3 {
		c = b.tcp(DownloadClient, uint16(DownloadPort+d), DownloadServer, 80, 0)
		t = c.handshake(b.at(11*time.Hour + time.Duration(d)*20*time.Minute + b.uniform(0, time.Minute)))
		t = b.later(t, b.uniform(time.Millisecond, 5*time.Millisecond))
		c.c2s(t, pa, b.intn(350, 500)) // GET
		t = b.later(t, c.rtt())
		c.s2c(t, pa, b.intn(250, 400)) // response header
		for i, n := 1, b.intn(3000, 6000); i <= n; i++ {
			t = b.later(t, b.uniform(500*time.Microsecond, 1500*time.Microsecond))
			c.s2c(t, flow.ACK, 1460)
			if i%2 == 0 {
				c.c2s(b.later(t, 50*time.Microsecond), flow.ACK, 0)
			}
		}
		t = b.later(t, b.uniform(100*time.Microsecond, time.Millisecond))
		c.reset(true, t, flow.ACK) // the user cancels
		for range 2 {              // data already in flight joins the closing flow
			t = b.later(t, 300*time.Microsecond)
			c.s2c(t, flow.ACK, 1460)
		}
	}
	// A lone RST long after the data: its own one-packet flow.
	c.restart()
	c.reset(true, b.later(t, b.uniform(20*time.Minute, 30*time.Minute)), 0)
}
