package synth

import (
	"fmt"
	"net"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/flowkit/flowkit/flow"
)

// encoder turns packets into Ethernet frames with gopacket, reusing its
// layers and buffers from packet to packet.
type encoder struct {
	buf   gopacket.SerializeBuffer
	dgram gopacket.SerializeBuffer // a whole UDP datagram, to cut fragments from
	opts  gopacket.SerializeOptions

	eth   layers.Ethernet
	dot1q layers.Dot1Q
	ip4   layers.IPv4
	ip6   layers.IPv6
	tcp   layers.TCP
	udp   layers.UDP
	icmp  layers.ICMPv4
	frag6 layers.IPv6Fragment
	data  gopacket.Payload // the payload layer, by pointer: no allocation a packet
	stack []gopacket.SerializableLayer

	src4, dst4 net.IP
	src6, dst6 net.IP
	srcMAC     net.HardwareAddr
	dstMAC     net.HardwareAddr
	zeros      []byte
}

func newEncoder() *encoder {
	return &encoder{
		buf:    gopacket.NewSerializeBufferExpectedSize(64, 1600),
		dgram:  gopacket.NewSerializeBufferExpectedSize(64, 1600),
		opts:   gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		src4:   make(net.IP, 4),
		dst4:   make(net.IP, 4),
		src6:   make(net.IP, 16),
		dst6:   make(net.IP, 16),
		srcMAC: make(net.HardwareAddr, 6),
		dstMAC: make(net.HardwareAddr, 6),
		zeros:  make([]byte, 65536),
		stack:  make([]gopacket.SerializableLayer, 0, 6),
	}
}

// hostMAC derives a locally administered MAC address from an IP address.
func hostMAC(dst net.HardwareAddr, a flow.Addr) {
	dst[0], dst[1] = 0x02, 0x00
	copy(dst[2:], a[12:16])
}

// encode returns the frame of p. The slice is valid until the next call.
func (e *encoder) encode(p *packet) ([]byte, error) {
	hostMAC(e.srcMAC, p.src)
	hostMAC(e.dstMAC, p.dst)
	e.eth = layers.Ethernet{SrcMAC: e.srcMAC, DstMAC: e.dstMAC}
	e.stack = append(e.stack[:0], &e.eth)

	v4 := p.src.Is4()
	etype := layers.EthernetTypeIPv6
	if v4 {
		etype = layers.EthernetTypeIPv4
	}
	if p.vlan != 0 {
		e.eth.EthernetType = layers.EthernetTypeDot1Q
		e.dot1q = layers.Dot1Q{VLANIdentifier: p.vlan, Type: etype}
		e.stack = append(e.stack, &e.dot1q)
	} else {
		e.eth.EthernetType = etype
	}

	var network gopacket.NetworkLayer
	hdr := ipv6Header
	if v4 {
		copy(e.src4, p.src[12:])
		copy(e.dst4, p.dst[12:])
		e.ip4 = layers.IPv4{Version: 4, TTL: 64, Id: p.ipID, Protocol: layers.IPProtocol(p.proto),
			SrcIP: e.src4, DstIP: e.dst4}
		e.stack = append(e.stack, &e.ip4)
		network = &e.ip4
		hdr = ipv4Header
	} else {
		copy(e.src6, p.src[:])
		copy(e.dst6, p.dst[:])
		e.ip6 = layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocol(p.proto),
			SrcIP: e.src6, DstIP: e.dst6}
		e.stack = append(e.stack, &e.ip6)
		network = &e.ip6
	}

	if p.fragment() {
		return e.encodeFragment(p)
	}
	switch p.proto {
	case flow.ProtoTCP:
		f := p.flags
		e.tcp = layers.TCP{SrcPort: layers.TCPPort(p.sport), DstPort: layers.TCPPort(p.dport),
			Seq: p.seq, Ack: p.ack, Window: 65535,
			FIN: f&flow.FIN != 0, SYN: f&flow.SYN != 0, RST: f&flow.RST != 0, PSH: f&flow.PSH != 0,
			ACK: f&flow.ACK != 0, URG: f&flow.URG != 0, ECE: f&flow.ECE != 0, CWR: f&flow.CWR != 0}
		if err := e.tcp.SetNetworkLayerForChecksum(network); err != nil {
			return nil, err
		}
		e.stack = append(e.stack, &e.tcp)
		hdr += tcpHeader
	case flow.ProtoUDP:
		e.udp = layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
		if err := e.udp.SetNetworkLayerForChecksum(network); err != nil {
			return nil, err
		}
		e.stack = append(e.stack, &e.udp)
		hdr += udpHeader
	case flow.ProtoICMP:
		e.icmp = layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(uint8(p.dport>>8), uint8(p.dport)),
			Id: 0x5e11, Seq: uint16(p.seq)}
		e.stack = append(e.stack, &e.icmp)
		hdr += icmpHeader
	default:
		return nil, fmt.Errorf("synth: cannot encode protocol %d", p.proto)
	}
	payload := int(p.ipLen) - hdr
	if payload < 0 {
		return nil, fmt.Errorf("synth: IP length %d below the headers' %d bytes", p.ipLen, hdr)
	}
	e.data = e.zeros[:payload]
	e.stack = append(e.stack, &e.data)
	if err := gopacket.SerializeLayers(e.buf, e.opts, e.stack...); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// encodeFragment builds the whole UDP datagram (so that the UDP length and
// checksum cover all of it) and wraps this fragment's share of it in IPv4,
// or in IPv6 with a fragment header.
func (e *encoder) encodeFragment(p *packet) ([]byte, error) {
	if p.proto != flow.ProtoUDP {
		return nil, fmt.Errorf("synth: only UDP datagrams are fragmented")
	}
	v4 := p.src.Is4()
	var pseudo gopacket.NetworkLayer
	var network gopacket.SerializableLayer
	ip4, ip6 := e.ip4, e.ip6 // copies: the pseudo-header for the UDP checksum
	hdr := ipv4Header
	if v4 {
		pseudo, network = &ip4, &ip4
	} else {
		pseudo, network = &ip6, &ip6
		hdr = ipv6Header
	}
	e.udp = layers.UDP{SrcPort: layers.UDPPort(p.sport), DstPort: layers.UDPPort(p.dport)}
	if err := e.udp.SetNetworkLayerForChecksum(pseudo); err != nil {
		return nil, err
	}
	e.data = e.zeros[:p.dgram]
	if err := gopacket.SerializeLayers(e.dgram, e.opts, network, &e.udp, &e.data); err != nil {
		return nil, err
	}
	whole := e.dgram.Bytes()[hdr:]
	n := int(p.ipLen) - hdr
	if v4 {
		e.ip4.FragOffset = p.fragOff / 8
		if p.more {
			e.ip4.Flags = layers.IPv4MoreFragments
		}
	} else {
		n -= ipv6FragHeader
		e.ip6.NextHeader = layers.IPProtocolIPv6Fragment
		e.frag6 = layers.IPv6Fragment{NextHeader: layers.IPProtocolUDP, FragmentOffset: p.fragOff / 8,
			MoreFragments: p.more, Identification: 0x5e110000 | uint32(p.ipID)}
		e.stack = append(e.stack, &e.frag6)
	}
	if n < 0 || int(p.fragOff)+n > len(whole) || p.fragOff%8 != 0 {
		return nil, fmt.Errorf("synth: fragment at %d+%d outside its %d-byte datagram", p.fragOff, n, len(whole))
	}
	e.data = whole[p.fragOff : int(p.fragOff)+n]
	e.stack = append(e.stack, &e.data)
	if err := gopacket.SerializeLayers(e.buf, e.opts, e.stack...); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}
