package synth

import (
	"time"

	"github.com/flowkit/flowkit/flow"
)

// webScenario: browsing, each page three short port-80 connections.
func webScenario(b *builder) {
	port := uint16(WebFirstPort)
	server := addr(WebServer).Uint32()
	page := b.at(9*time.Hour + b.uniform(0, 30*time.Second))
	for i := range 12 {
		srv := flow.AddrFromUint32(server + uint32(i%3)).String()
		t := page
		for range 3 {
			c := b.tcp(WebClient, port, srv, 80, 0)
			port++
			webFetch(b, c, t)
			t = b.later(t, b.uniform(time.Second, 8*time.Second))
		}
		page = b.later(page, b.uniform(50*time.Second, 70*time.Second))
	}
}

// webFetch is one HTTP/1.0 style fetch: handshake, GET, response, client FIN.
func webFetch(b *builder, c *tcpConn, t int64) {
	t = c.handshake(t)
	t = b.later(t, b.uniform(time.Millisecond, 10*time.Millisecond))
	c.c2s(t, pa, b.intn(350, 550)) // GET
	t = b.later(t, c.rtt())
	n := b.intn(3, 12)
	for i := 1; i <= n; i++ {
		if i == n {
			c.s2c(t, pa, b.intn(100, 1460))
		} else {
			c.s2c(t, flow.ACK, 1460)
		}
		if i%2 == 0 || i == n {
			c.c2s(b.later(t, 200*time.Microsecond), flow.ACK, 0)
		}
		t = b.later(t, b.uniform(time.Millisecond, 3*time.Millisecond))
	}
	c.finish(b.later(t, b.uniform(5*time.Millisecond, 50*time.Millisecond)))
}
