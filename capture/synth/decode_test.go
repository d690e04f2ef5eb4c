package synth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/flowkit/flowkit/flow"
)

// decoded is what the tests read back from a pcap with gopacket, without
// any of the synthesizer's code.
type decoded struct {
	pkt       flow.Packet
	capLen    int
	wireLen   int
	fragment  bool // part of a fragmented datagram
	laterFrag bool // a fragment after the first
	ipv6      bool
}

// readPcap decodes every frame of a pcap stream with gopacket. Later
// fragments take the ports of their datagram's first fragment.
func readPcap(data []byte) ([]decoded, *pcapgo.Reader, error) {
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, nil, err
	}
	type fragKey struct {
		src, dst netip.Addr
		id       uint32
	}
	firstPorts := map[fragKey][2]uint16{}
	var out []decoded
	for i := 0; ; i++ {
		frame, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, r, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("frame %d: %w", i, err)
		}
		pk := gopacket.NewPacket(frame, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
		d := decoded{capLen: ci.CaptureLength, wireLen: ci.Length}
		d.pkt.Time = ci.Timestamp.UnixNano()
		if l, ok := pk.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q); ok {
			d.pkt.VLAN = l.VLANIdentifier
		}
		var fk fragKey
		switch ip := pk.NetworkLayer().(type) {
		case *layers.IPv4:
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			dst, _ := netip.AddrFromSlice(ip.DstIP)
			d.pkt.Src, d.pkt.Dst = flow.AddrFrom(src), flow.AddrFrom(dst)
			d.pkt.Length = uint32(ip.Length)
			d.pkt.Protocol = uint8(ip.Protocol)
			d.fragment = ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0
			d.laterFrag = ip.FragOffset != 0
			fk = fragKey{src, dst, uint32(ip.Id)}
			if d.fragment && !d.laterFrag && ip.Protocol == layers.IPProtocolUDP {
				// gopacket leaves a fragment's payload undecoded: the
				// first one starts with the UDP header.
				if len(ip.Payload) < 4 {
					return nil, nil, fmt.Errorf("frame %d: first fragment too short", i)
				}
				d.pkt.SrcPort = uint16(ip.Payload[0])<<8 | uint16(ip.Payload[1])
				d.pkt.DstPort = uint16(ip.Payload[2])<<8 | uint16(ip.Payload[3])
				firstPorts[fk] = [2]uint16{d.pkt.SrcPort, d.pkt.DstPort}
			}
		case *layers.IPv6:
			src, _ := netip.AddrFromSlice(ip.SrcIP)
			dst, _ := netip.AddrFromSlice(ip.DstIP)
			d.pkt.Src, d.pkt.Dst = flow.AddrFrom(src), flow.AddrFrom(dst)
			d.pkt.Length = uint32(ip.Length) + 40
			d.pkt.Protocol = uint8(ip.NextHeader)
			d.ipv6 = true
			if fr, ok := pk.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment); ok {
				d.pkt.Protocol = uint8(fr.NextHeader)
				d.fragment = true
				d.laterFrag = fr.FragmentOffset != 0
				fk = fragKey{src, dst, fr.Identification}
				if !d.laterFrag {
					if len(fr.Payload) < 4 {
						return nil, nil, fmt.Errorf("frame %d: first fragment too short", i)
					}
					d.pkt.SrcPort = uint16(fr.Payload[0])<<8 | uint16(fr.Payload[1])
					d.pkt.DstPort = uint16(fr.Payload[2])<<8 | uint16(fr.Payload[3])
					firstPorts[fk] = [2]uint16{d.pkt.SrcPort, d.pkt.DstPort}
				}
			}
		default:
			return nil, nil, fmt.Errorf("frame %d: no IP layer: %v", i, pk)
		}
		switch l := pk.TransportLayer().(type) {
		case *layers.TCP:
			d.pkt.SrcPort, d.pkt.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
			var f flow.TCPFlags
			for _, b := range []struct {
				on  bool
				bit flow.TCPFlags
			}{{l.FIN, flow.FIN}, {l.SYN, flow.SYN}, {l.RST, flow.RST}, {l.PSH, flow.PSH},
				{l.ACK, flow.ACK}, {l.URG, flow.URG}, {l.ECE, flow.ECE}, {l.CWR, flow.CWR}} {
				if b.on {
					f |= b.bit
				}
			}
			d.pkt.Flags = f
		case *layers.UDP:
			d.pkt.SrcPort, d.pkt.DstPort = uint16(l.SrcPort), uint16(l.DstPort)
		}
		if l, ok := pk.Layer(layers.LayerTypeICMPv4).(*layers.ICMPv4); ok {
			d.pkt.DstPort = uint16(l.TypeCode)
		}
		if d.laterFrag {
			ports, ok := firstPorts[fk]
			if !ok {
				return nil, nil, fmt.Errorf("frame %d: later fragment before its first", i)
			}
			d.pkt.SrcPort, d.pkt.DstPort = ports[0], ports[1]
		}
		out = append(out, d)
	}
}
