package capture

import (
	"encoding/binary"
	"errors"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// This file holds the DecodingLayers gopacket lacks (MPLS, PPPoE session) and thin wrappers that change what comes next: decoding stops at
// the end of the IP headers (transport headers are decoded explicitly, also
// for first fragments, which gopacket hands on as opaque Fragment payload),
// tunnels are not entered, and the outer VLAN tag is kept.

var (
	errMPLSShort  = errors.New("MPLS label stack cut short")
	errPPPoEShort = errors.New("PPPoE session header cut short")
)

// ipExtensionClass is what follows an IPv6 header inside the IP layer.
var ipExtensionClass = gopacket.NewLayerClass([]gopacket.LayerType{
	layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination,
})

// nextInIPLayer keeps t when it is an IPv6 extension header (including the
// fragment header) and stops decoding otherwise.
func nextInIPLayer(t gopacket.LayerType) gopacket.LayerType {
	if ipExtensionClass.Contains(t) || t == layers.LayerTypeIPv6Fragment {
		return t
	}
	return gopacket.LayerTypeZero
}

// vlanLayer is 802.1Q/802.1ad that remembers the first (outer) tag of the
// packet: the parser reuses one layer for every tag of a QinQ stack.
type vlanLayer struct {
	layers.Dot1Q
	outer  uint16
	tagged bool
}

func (v *vlanLayer) reset() { v.outer, v.tagged = 0, false }

func (v *vlanLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if err := v.Dot1Q.DecodeFromBytes(data, df); err != nil {
		return err
	}
	if !v.tagged {
		v.outer, v.tagged = v.VLANIdentifier, true
	}
	return nil
}

// ipv4Layer ends decoding after the IPv4 header: no extension headers, and
// tunnels (6in4, IP-in-IP) are reported as their outer packet.
type ipv4Layer struct{ layers.IPv4 }

func (l *ipv4Layer) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// ipv6Layer continues only into extension headers.
type ipv6Layer struct{ layers.IPv6 }

var errIPv6Short = errors.New("IPv6 header cut short")

// DecodeFromBytes uses gopacket's IPv6 layer, except in front of a
// hop-by-hop header (MLD reports, router alerts): gopacket decodes its
// options into newly allocated values there, so this reads the fixed
// header itself and lets the extension skipper step over hop-by-hop.
func (l *ipv6Layer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 40 || data[6] != uint8(layers.IPProtocolIPv6HopByHop) {
		return l.IPv6.DecodeFromBytes(data, df)
	}
	ip := &l.IPv6
	ip.Version = data[0] >> 4
	ip.TrafficClass = uint8(binary.BigEndian.Uint16(data[0:2]) >> 4)
	ip.FlowLabel = binary.BigEndian.Uint32(data[0:4]) & 0x000FFFFF
	ip.Length = binary.BigEndian.Uint16(data[4:6])
	ip.NextHeader = layers.IPProtocolIPv6HopByHop
	ip.HopLimit = data[7]
	ip.SrcIP, ip.DstIP = data[8:24], data[24:40]
	ip.HopByHop = nil
	payload := data[40:]
	if ip.Length != 0 { // 0: jumbogram, the payload is the rest of the frame
		if int(ip.Length) > len(payload) {
			df.SetTruncated()
		} else {
			payload = payload[:ip.Length]
		}
	}
	if len(payload) < 2 {
		df.SetTruncated()
		return errIPv6Short
	}
	ip.BaseLayer = layers.BaseLayer{Contents: data[:40], Payload: payload}
	return nil
}

func (l *ipv6Layer) NextLayerType() gopacket.LayerType { return nextInIPLayer(l.IPv6.NextLayerType()) }

// ipv6Extension skips hop-by-hop (when not first), routing and
// destination-options headers without decoding their options.
type ipv6Extension struct{ layers.IPv6ExtensionSkipper }

func (l *ipv6Extension) CanDecode() gopacket.LayerClass { return ipExtensionClass }
func (l *ipv6Extension) NextLayerType() gopacket.LayerType {
	return nextInIPLayer(l.NextHeader.LayerType())
}

// ipv6Fragment is the fragment header; decoding stops behind it and the
// decoder looks at the fragment offset itself.
type ipv6Fragment struct{ layers.IPv6Fragment }

func (l *ipv6Fragment) NextLayerType() gopacket.LayerType { return gopacket.LayerTypeZero }

// mplsLayer skips an MPLS label stack and guesses the payload from the IP
// version nibble, as routers and Wireshark do for IP over MPLS. Anything
// else (pseudowires, Ethernet over MPLS) stops decoding.
type mplsLayer struct {
	payload []byte
	next    gopacket.LayerType
}

func (m *mplsLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypeMPLS }
func (m *mplsLayer) NextLayerType() gopacket.LayerType { return m.next }
func (m *mplsLayer) LayerPayload() []byte              { return m.payload }
func (m *mplsLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	for i := 0; ; i += 4 {
		if i+4 > len(data) {
			df.SetTruncated()
			return errMPLSShort
		}
		if data[i+2]&1 != 0 { // bottom of stack
			m.payload = data[i+4:]
			break
		}
	}
	m.next = gopacket.LayerTypeZero
	if len(m.payload) > 0 {
		switch m.payload[0] >> 4 {
		case 4:
			m.next = layers.LayerTypeIPv4
		case 6:
			m.next = layers.LayerTypeIPv6
		}
	}
	return nil
}

// pppoeLayer is a PPPoE session header with the PPP protocol field behind it
// (RFC 2516); IPv4 and IPv6 continue, PPP control traffic stops.
type pppoeLayer struct {
	payload []byte
	next    gopacket.LayerType
}

func (p *pppoeLayer) CanDecode() gopacket.LayerClass    { return layers.LayerTypePPPoE }
func (p *pppoeLayer) NextLayerType() gopacket.LayerType { return p.next }
func (p *pppoeLayer) LayerPayload() []byte              { return p.payload }
func (p *pppoeLayer) DecodeFromBytes(data []byte, df gopacket.DecodeFeedback) error {
	if len(data) < 7 {
		df.SetTruncated()
		return errPPPoEShort
	}
	// data[0] version/type, data[1] code (0 = session data), data[2:4] session id,
	// data[4:6] length of the PPP frame.
	// The PPPoE length field (data[4:6]) is not used to cut the payload:
	// captures exist where it undercounts, and the IP header bounds its
	// packet anyway.
	ppp := data[6:]
	var proto uint16
	switch {
	case len(ppp) >= 1 && ppp[0]&1 == 1: // compressed one-byte protocol field
		proto, p.payload = uint16(ppp[0]), ppp[1:]
	case len(ppp) >= 2:
		proto, p.payload = binary.BigEndian.Uint16(ppp), ppp[2:]
	default:
		df.SetTruncated()
		return errPPPoEShort
	}
	switch proto {
	case 0x0021:
		p.next = layers.LayerTypeIPv4
	case 0x0057:
		p.next = layers.LayerTypeIPv6
	default:
		p.next = gopacket.LayerTypeZero
	}
	return nil
}
