package synth

import "github.com/flowkit/flowkit/flow"

// IP and transport header sizes (no options) used to size packets.
const (
	ipv4Header = 20
	ipv6Header = 40
	// ipv6FragHeader is the IPv6 fragment extension header.
	ipv6FragHeader = 8
	tcpHeader      = 20
	udpHeader      = 8
	icmpHeader     = 8
)

// packet is one synthesized packet: what the encoder needs to build its
// bytes and what the bookkeeping needs to count it.
type packet struct {
	t            int64 // ns since the epoch, already rounded to the resolution
	src, dst     flow.Addr
	sport, dport uint16 // ICMP: sport 0, dport type*256+code
	vlan         uint16
	ipLen        uint16 // IP-layer length of this packet (of this fragment)
	proto        uint8
	flags        flow.TCPFlags
	seq, ack     uint32 // TCP sequence numbers; ICMP id is 0x5e11, seq is seq
	ipID         uint16

	// Fragments of a UDP datagram: the whole datagram's UDP payload length,
	// this fragment's offset (bytes, a multiple of 8) into the fragmentable
	// part (the UDP datagram), and whether more fragments follow. dgram == 0
	// means not fragmented. ipID is the fragment identification.
	dgram   uint16
	fragOff uint16
	more    bool

	flow int32 // index of the flow it belongs to, within its scenario
}

func (p *packet) key() flow.Key {
	return flow.Key{Src: p.src, Dst: p.dst, SrcPort: p.sport, DstPort: p.dport,
		Protocol: p.proto, VLAN: p.vlan}
}

// fragment reports whether the packet is part of a fragmented datagram.
func (p *packet) fragment() bool { return p.dgram != 0 }

// summary fills the decoded packet summary a capture decoder produces: a
// later fragment carries its first fragment's ports.
func (p *packet) summary(dst *flow.Packet) {
	*dst = flow.Packet{Time: p.t, Src: p.src, Dst: p.dst, SrcPort: p.sport, DstPort: p.dport,
		VLAN: p.vlan, Length: uint32(p.ipLen), Protocol: p.proto, Flags: p.flags}
}

// ipHeaderLen returns the IP header size of an address family.
func ipHeaderLen(a flow.Addr) int {
	if a.Is4() {
		return ipv4Header
	}
	return ipv6Header
}
