package capture

import (
	"encoding/binary"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// Link types beyond those layers names: DLT_RAW is 12 on most systems and
// 14 on OpenBSD; LINKTYPE_RAW (101) is the portable one.
const (
	linkTypeRaw12 layers.LinkType = 12
	linkTypeRaw14 layers.LinkType = 14
)

// Decoder turns link-layer frames into flow.Packet summaries. It owns one
// set of gopacket layers that every frame reuses, so Decode allocates
// nothing per packet (gopacket allocates for MPTCP options and for the
// error values of some malformed headers). A Decoder is not safe for
// concurrent use; give each goroutine its own.
type Decoder struct {
	eth   layers.Ethernet
	vlan  vlanLayer
	mpls  mplsLayer
	pppoe pppoeLayer
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	loop  layers.Loopback
	ip4   ipv4Layer
	ip6   ipv6Layer
	ext   ipv6Extension
	frag6 ipv6Fragment

	tcp   layers.TCP
	udp   layers.UDP
	sctp  layers.SCTP
	icmp4 layers.ICMPv4
	icmp6 layers.ICMPv6

	byFirst map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
	frags   fragTable
	stats   Stats
}

// NewDecoder returns a Decoder with the default fragment table
// (DefaultFragmentTableSize entries, DefaultFragmentTimeout).
func NewDecoder() *Decoder {
	d := &Decoder{
		decoded: make([]gopacket.LayerType, 0, 16),
		frags:   newFragTable(DefaultFragmentTableSize, DefaultFragmentTimeout),
		byFirst: make(map[gopacket.LayerType]*gopacket.DecodingLayerParser),
	}
	all := []gopacket.DecodingLayer{&d.eth, &d.vlan, &d.mpls, &d.pppoe, &d.sll, &d.sll2,
		&d.loop, &d.ip4, &d.ip6, &d.ext, &d.frag6}
	// One container of layers, one parser per first layer (link type).
	var c gopacket.DecodingLayerContainer = gopacket.DecodingLayerSparse(nil)
	for _, l := range all {
		c = c.Put(l)
	}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLoopback,
		layers.LayerTypeLinuxSLL, layers.LayerTypeLinuxSLL2, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first)
		p.SetDecodingLayerContainer(c)
		p.IgnoreUnsupported = true
		d.byFirst[first] = p
	}
	return d
}

// Stats returns the decoder's counters (Packets, Decoded, NonIP, Malformed,
// Truncated and the fragment counters).
func (d *Decoder) Stats() Stats { return d.stats }

// firstLayer maps a link type to the layer a frame starts with; zero for
// link types the decoder does not know.
func firstLayer(link layers.LinkType, frame []byte) gopacket.LayerType {
	switch link {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.LinkTypeRaw, linkTypeRaw12, linkTypeRaw14:
		if len(frame) > 0 {
			switch frame[0] >> 4 {
			case 4:
				return layers.LayerTypeIPv4
			case 6:
				return layers.LayerTypeIPv6
			}
		}
	}
	return gopacket.LayerTypeZero
}

// minFrame is the shortest frame whose first header is complete.
func minFrame(first gopacket.LayerType) int {
	switch first {
	case layers.LayerTypeEthernet:
		return 14
	case layers.LayerTypeLoopback:
		return 4
	case layers.LayerTypeLinuxSLL:
		return 16
	case layers.LayerTypeLinuxSLL2:
		return 20
	case layers.LayerTypeIPv4:
		return 20
	case layers.LayerTypeIPv6:
		return 40
	}
	return 0
}

// SupportedLinkType reports whether Decode understands frames of link type.
func SupportedLinkType(link layers.LinkType) bool {
	switch link {
	case layers.LinkTypeEthernet, layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeLinuxSLL,
		layers.LinkTypeLinuxSLL2, layers.LinkTypeIPv4, layers.LinkTypeIPv6, layers.LinkTypeRaw,
		linkTypeRaw12, linkTypeRaw14:
		return true
	}
	return false
}

// Decode fills p from one frame of the given link type captured at time ts
// (ns since the Unix epoch). It reports false, and counts why in Stats, when
// the frame holds no decodable IP packet; p is then unspecified. p is fully
// overwritten on success.
func (d *Decoder) Decode(frame []byte, link layers.LinkType, ts int64, p *flow.Packet) bool {
	d.stats.Packets++
	first := firstLayer(link, frame)
	parser := d.byFirst[first]
	if parser == nil {
		if first == gopacket.LayerTypeZero && (link == layers.LinkTypeRaw || link == linkTypeRaw12 || link == linkTypeRaw14) {
			d.stats.Malformed++ // raw IP with a bad version nibble
		} else {
			d.stats.NonIP++
		}
		return false
	}
	if len(frame) < minFrame(first) {
		d.stats.Malformed++ // checked here: gopacket's error for it would allocate
		return false
	}
	d.vlan.reset()
	err := parser.DecodeLayers(frame, &d.decoded)

	// Find the network layer and the end of the IP headers.
	var (
		isV4, isV6, isFrag6 bool
		payload             []byte
		proto               layers.IPProtocol
	)
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			isV4, payload, proto = true, d.ip4.Payload, d.ip4.Protocol
		case layers.LayerTypeIPv6:
			isV6, payload, proto = true, d.ip6.Payload, d.ip6.NextHeader
			if d.ip6.HopByHop != nil {
				proto = d.ip6.HopByHop.NextHeader
			}
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			payload, proto = d.ext.Payload, d.ext.NextHeader
		case layers.LayerTypeIPv6Fragment:
			isFrag6, payload, proto = true, d.frag6.Payload, d.frag6.NextHeader
		}
	}
	if !isV4 && !isV6 {
		if err != nil || d.endsInIP() {
			d.stats.Malformed++ // an IP header (or a header on the way to it) is broken
		} else {
			d.stats.NonIP++
		}
		return false
	}

	*p = flow.Packet{Time: ts, VLAN: d.vlan.outer & 0x0fff, Protocol: uint8(proto)}
	var captured int // IP-layer bytes present in the frame
	if isV4 {
		p.Src = flow.AddrFrom4([4]byte(d.ip4.SrcIP))
		p.Dst = flow.AddrFrom4([4]byte(d.ip4.DstIP))
		p.Length = uint32(d.ip4.Length)
		captured = len(d.ip4.Contents) + len(d.ip4.Payload)
	} else {
		p.Src = flow.Addr(d.ip6.SrcIP)
		p.Dst = flow.Addr(d.ip6.DstIP)
		if d.ip6.Length != 0 {
			p.Length = 40 + uint32(d.ip6.Length)
		} else { // jumbogram: the hop-by-hop option gave the payload
			p.Length = uint32(40 + len(d.ip6.Payload))
		}
		captured = len(d.ip6.Contents) + len(d.ip6.Payload)
		if d.ip6.HopByHop != nil {
			captured += len(d.ip6.HopByHop.Contents)
		}
	}
	if uint32(captured) < p.Length {
		d.stats.Truncated++
	}
	d.stats.Decoded++
	if err != nil {
		// An IPv6 extension header is cut or broken: addresses and
		// length are known, the transport is not.
		p.Protocol = uint8(d.lastNextHeader())
		if uint32(captured) >= p.Length {
			d.stats.Truncated++
		}
		return true
	}

	// Fragments.
	var fragmented, later bool
	var key fragKey
	if isV4 {
		fragmented = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
		later = d.ip4.FragOffset != 0
		if fragmented {
			key = fragKey{src: p.Src, dst: p.Dst, id: uint32(d.ip4.Id), proto: p.Protocol}
		}
	} else if isFrag6 {
		fragmented = d.frag6.MoreFragments || d.frag6.FragmentOffset != 0
		later = d.frag6.FragmentOffset != 0
		key = fragKey{src: p.Src, dst: p.Dst, id: d.frag6.Identification, proto: p.Protocol}
	}
	if later {
		d.stats.Fragments++
		if sp, dp, proto, ok := d.frags.get(key, ts); ok {
			p.SrcPort, p.DstPort, p.Protocol = sp, dp, proto
			d.stats.FragmentsMatched++
		} else {
			d.stats.FragmentsUnmatched++
		}
		return true
	}
	d.transport(proto, payload, p)
	if fragmented {
		d.stats.Fragments++
		d.frags.put(key, p.SrcPort, p.DstPort, p.Protocol, ts)
	}
	return true
}

// endsInIP reports whether the last decoded layer would have handed on to
// an IP header, i.e. the IP header itself failed to decode.
func (d *Decoder) endsInIP() bool {
	if len(d.decoded) == 0 {
		return false
	}
	var next gopacket.LayerType
	switch d.decoded[len(d.decoded)-1] {
	case layers.LayerTypeEthernet:
		next = d.eth.NextLayerType()
	case layers.LayerTypeDot1Q:
		next = d.vlan.NextLayerType()
	case layers.LayerTypeMPLS:
		next = d.mpls.NextLayerType()
	case layers.LayerTypePPPoE:
		next = d.pppoe.NextLayerType()
	case layers.LayerTypeLinuxSLL:
		next = d.sll.NextLayerType()
	case layers.LayerTypeLinuxSLL2:
		next = d.sll2.NextLayerType()
	case layers.LayerTypeLoopback:
		next = d.loop.NextLayerType()
	}
	return next == layers.LayerTypeIPv4 || next == layers.LayerTypeIPv6
}

// lastNextHeader is the protocol named by the last IPv6 header decoded.
func (d *Decoder) lastNextHeader() layers.IPProtocol {
	proto := d.ip6.NextHeader
	if d.ip6.HopByHop != nil {
		proto = d.ip6.HopByHop.NextHeader
	}
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			proto = d.ext.NextHeader
		case layers.LayerTypeIPv6Fragment:
			proto = d.frag6.NextHeader
		}
	}
	return proto
}

// transport fills ports and flags from the transport header with gopacket's
// layers. A header cut by the snap length still gives what it has: ports
// from its first 4 bytes, TCP flags from byte 13, ICMP type and code from
// its first 2 bytes.
func (d *Decoder) transport(proto layers.IPProtocol, b []byte, p *flow.Packet) {
	nf := gopacket.NilDecodeFeedback
	// Extension headers behind an IPv6 fragment header (in the first
	// fragment) come before the transport header.
	for i := 0; i < 8 && (proto == layers.IPProtocolIPv6HopByHop || proto == layers.IPProtocolIPv6Destination ||
		proto == layers.IPProtocolIPv6Routing); i++ {
		if d.ext.IPv6ExtensionSkipper.DecodeFromBytes(b, nf) != nil {
			return
		}
		proto, b = d.ext.NextHeader, d.ext.Payload
		p.Protocol = uint8(proto)
	}
	switch proto {
	case layers.IPProtocolTCP:
		if len(b) >= 20 {
			_ = d.tcp.DecodeFromBytes(b, nf) // ports and flags are set before any options error
			p.SrcPort, p.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
			p.Flags = tcpFlags(&d.tcp)
			return
		}
		if len(b) >= 14 {
			p.Flags = flow.TCPFlags(b[13])
		}
	case layers.IPProtocolUDP, layers.IPProtocolUDPLite:
		if len(b) >= 8 {
			_ = d.udp.DecodeFromBytes(b, nf) // ports are set before a bad-length error
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			return
		}
	case layers.IPProtocolSCTP:
		if len(b) >= 12 && d.sctp.DecodeFromBytes(b, nf) == nil {
			p.SrcPort, p.DstPort = uint16(d.sctp.SrcPort), uint16(d.sctp.DstPort)
			return
		}
	case layers.IPProtocolICMPv4:
		if d.icmp4.DecodeFromBytes(b, nf) == nil {
			p.DstPort = uint16(d.icmp4.TypeCode)
			return
		}
		if len(b) >= 2 {
			p.DstPort = binary.BigEndian.Uint16(b)
		}
		return
	case layers.IPProtocolICMPv6:
		if d.icmp6.DecodeFromBytes(b, nf) == nil {
			p.DstPort = uint16(d.icmp6.TypeCode)
			return
		}
		if len(b) >= 2 {
			p.DstPort = binary.BigEndian.Uint16(b)
		}
		return
	default:
		return
	}
	if len(b) >= 4 { // cut transport header: the ports are still there
		p.SrcPort, p.DstPort = binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	}
}

func tcpFlags(t *layers.TCP) flow.TCPFlags {
	var f flow.TCPFlags
	if t.FIN {
		f |= flow.FIN
	}
	if t.SYN {
		f |= flow.SYN
	}
	if t.RST {
		f |= flow.RST
	}
	if t.PSH {
		f |= flow.PSH
	}
	if t.ACK {
		f |= flow.ACK
	}
	if t.URG {
		f |= flow.URG
	}
	if t.ECE {
		f |= flow.ECE
	}
	if t.CWR {
		f |= flow.CWR
	}
	return f
}
