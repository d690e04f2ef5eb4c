package synth

import "time"

// sshScenario: an interactive session seen only mid-stream (PSH-ACK
// packets, no SYN or FIN) for 3 h 20 min; the active timeout rolls it over.
func sshScenario(b *builder) {
	c := b.tcp(SSHClient, SSHClientPort, SSHServer, 22, 0)
	t := b.at(12*time.Hour + b.uniform(0, time.Minute))
	end := b.later(t, 3*time.Hour+20*time.Minute)
	for t < end {
		c.c2s(t, pa, b.intn(36, 100))
		c.s2c(b.later(t, b.uniform(30*time.Millisecond, 90*time.Millisecond)), pa, b.intn(36, 400))
		t = b.later(t, b.uniform(2*time.Second, 40*time.Second))
	}
}
