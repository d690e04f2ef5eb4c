package synth

import (
	"time"

	"github.com/flowkit/flowkit/flow"
)

// ipv6Scenario: a web fetch and DNS queries over IPv6.
func ipv6Scenario(b *builder) {
	t := b.at(13*time.Hour + b.uniform(0, time.Minute))
	webFetch(b, b.tcp(IPv6Client, 50600, IPv6Server, 80, 0), t)
	cli, dns := addr(IPv6Client), addr(IPv6DNS)
	for i := range 3 {
		q := b.later(t, time.Duration(10+30*i)*time.Second)
		var out, in *flowState
		b.udp(&out, q, cli, dns, uint16(53001+i), 53, 0, b.intn(30, 50))
		b.udp(&in, b.later(q, b.uniform(5*time.Millisecond, 30*time.Millisecond)), dns, cli, 53, uint16(53001+i), 0, b.intn(80, 200))
	}
}

// vlanScenario: tagged traffic, including one 5-tuple on two VLANs.
func vlanScenario(b *builder) {
	t := b.at(14*time.Hour + b.uniform(0, time.Minute))
	webFetch(b, b.tcp(VLANClient, 51500, VLANServer, 8080, VLANTCP), t)
	cli, srv := addr(SyslogClient), addr(SyslogServer)
	var a, c *flowState
	s := b.later(t, 5*time.Second)
	for range 10 {
		b.udp(&a, s, cli, srv, 514, 514, VLANSyslogA, b.intn(60, 300))
		b.udp(&c, b.later(s, b.uniform(time.Millisecond, time.Second)), cli, srv, 514, 514, VLANSyslogB, b.intn(60, 300))
		s = b.later(s, b.uniform(5*time.Second, 20*time.Second))
	}
}

// fragmentScenario: large UDP datagrams cut into IPv4 fragments.
func fragmentScenario(b *builder) {
	src, dst := addr(FragmentSrc), addr(FragmentDst)
	t := b.at(16*time.Hour + b.uniform(0, time.Minute))
	var out, in *flowState
	for i := range 6 {
		if i%2 == 0 {
			b.fragmentedUDP(&out, t, src, dst, FragmentSport, FragmentDport, b.intn(3000, 4000))
		} else {
			b.udp(&out, t, src, dst, FragmentSport, FragmentDport, 0, 500)
		}
		b.udp(&in, b.later(t, b.uniform(5*time.Millisecond, 20*time.Millisecond)), dst, src, FragmentDport, FragmentSport, 0, 20)
		t = b.later(t, b.uniform(time.Second, 3*time.Second))
	}
}

// Fragment payload sizes (multiples of 8): what a 1500-byte IPv4 link and
// the 1280-byte IPv6 minimum MTU leave after the headers.
const (
	fragmentMTU4 = 1480
	fragmentMTU6 = 1232
)

// fragmentedUDP emits one UDP datagram of payload bytes as IP fragments
// 20 µs apart (IPv4, or IPv6 with a fragment header). Every fragment counts
// toward the datagram's flow with its own IP length; only the first
// carries the UDP header.
func (b *builder) fragmentedUDP(fp **flowState, t int64, src, dst flow.Addr, sport, dport uint16, payload int) {
	id := uint16(b.rng.Uint32())
	total := udpHeader + payload
	mtu, hdr := fragmentMTU4, ipv4Header
	if !src.Is4() {
		mtu, hdr = fragmentMTU6, ipv6Header+ipv6FragHeader
	}
	for off := 0; off < total; off += mtu {
		n := min(mtu, total-off)
		b.emit(fp, packet{t: t, src: src, dst: dst, sport: sport, dport: dport, proto: flow.ProtoUDP,
			ipLen: uint16(hdr + n), ipID: id, dgram: uint16(payload), fragOff: uint16(off), more: off+n < total})
		t = b.later(t, 20*time.Microsecond)
	}
}

// fragment6Scenario: large UDP datagrams cut into IPv6 fragments.
func fragment6Scenario(b *builder) {
	src, dst := addr(Fragment6Src), addr(Fragment6Dst)
	t := b.at(17*time.Hour + b.uniform(0, time.Minute))
	var out, in *flowState
	for range 4 {
		b.fragmentedUDP(&out, t, src, dst, FragmentSport, FragmentDport, b.intn(2000, 3000))
		b.udp(&in, b.later(t, b.uniform(5*time.Millisecond, 20*time.Millisecond)), dst, src, FragmentDport, FragmentSport, 0, 20)
		t = b.later(t, b.uniform(time.Second, 3*time.Second))
	}
}
