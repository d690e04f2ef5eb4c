package synth

import (
	"time"

	"github.com/flowkit/flowkit/flow"
)

const pa = flow.PSH | flow.ACK

// smtpScenario: one mail delivery whose client sends about five times the
// server's bytes, spurious RSTs well after the FIN exchange, then two more
// connections from the same client port to a second server.
func smtpScenario(b *builder) {
	c := b.tcp(SMTPClient, SMTPClientPort, SMTPServer, 25, 0)
	t := c.handshake(b.at(8*time.Hour + b.uniform(0, time.Minute)))
	say := func(fromClient bool, payload int) {
		t = b.later(t, c.rtt())
		c.send(fromClient, t, pa, payload)
	}
	say(false, 40)                        // 220 banner
	say(true, 20)                         // EHLO
	say(false, 120)                       // 250 capabilities
	say(true, 35)                         // MAIL FROM
	say(false, 14)                        // 250
	say(true, 33)                         // RCPT TO
	say(false, 14)                        // 250
	say(true, 6)                          // DATA
	say(false, 40)                        // 354
	for n := b.intn(40, 60); n > 0; n-- { // the message, each segment ACKed
		t = b.later(t, b.uniform(time.Millisecond, 5*time.Millisecond))
		c.c2s(t, pa, b.intn(200, 260))
		t = b.later(t, b.uniform(time.Millisecond, 3*time.Millisecond))
		c.s2c(t, flow.ACK, 0)
	}
	say(true, 5)   // .
	say(false, 40) // 250 queued
	say(true, 6)   // QUIT
	say(false, 30) // 221
	t = b.later(t, c.rtt())
	c.finish(t)
	fin := (*c.rev).rec.End // the server's FIN: both flows closing from here

	// Spurious RSTs long after the FINs: each one a new, lone flow.
	c.restart()
	c.reset(false, b.later(fin, b.uniform(30*time.Second, 40*time.Second)), 0)
	c.reset(true, b.later(fin, b.uniform(50*time.Second, 60*time.Second)), 0)

	// The same client port to a second server: refused first...
	c2 := b.tcp(SMTPClient, SMTPClientPort, SMTPServer2, 25, 0)
	t = b.later(fin, b.uniform(90*time.Second, 120*time.Second))
	c2.c2s(t, flow.SYN, 0)
	c2.reset(false, b.later(t, c2.rtt()), flow.ACK)
	// ...then a short session a minute later.
	c2.restart()
	t = c2.handshake(b.later(t, 60*time.Second))
	say2 := func(fromClient bool, payload int) {
		t = b.later(t, c2.rtt())
		c2.send(fromClient, t, pa, payload)
	}
	say2(false, 40) // 220
	say2(true, 20)  // EHLO
	say2(false, 90) // 250
	say2(true, 6)   // QUIT
	say2(false, 30) // 221
	c2.finish(b.later(t, c2.rtt()))
}
