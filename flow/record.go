package flow

import (
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// Record is one flow: what SiLK keeps per flow and what YAF exports, plus
// the RFC 5103 reverse side of a biflow. It is a flat value with no
// pointers. Times are nanoseconds since the Unix epoch in UTC.
//
// Ports follow SiLK: for ICMP and ICMPv6 the source port is 0 and the
// destination port holds type*256+code. Bytes count IP-layer bytes (IP
// header included, link layer excluded), as SiLK and YAF do.
//
// TCP flags come in three forms, as in SiLK: Flags is the union over all
// packets; InitialFlags is the first packet's; SessionFlags is the union
// over all packets but the first. Sources that know only the union (NetFlow,
// a text file with only "flags") leave InitialFlags and SessionFlags zero.
type Record struct {
	Start int64 // first packet, ns since the Unix epoch (UTC)
	End   int64 // last packet, ns since the Unix epoch (UTC)

	Src     Addr // source address
	Dst     Addr // destination address
	NextHop Addr // next-hop router address, when an exporter reports it

	Packets uint64 // packets, forward direction
	Bytes   uint64 // IP-layer bytes, forward direction

	// Reverse side of a biflow (RFC 5103); zero for unidirectional flows.
	RevPackets     uint64
	RevBytes       uint64
	RevStartOffset time.Duration // reverse first packet minus Start

	Input  uint32 // ingress interface index (SNMP ifIndex)
	Output uint32 // egress interface index
	SrcAS  uint32 // source autonomous system, when an exporter reports it
	DstAS  uint32 // destination autonomous system

	SrcPort     uint16
	DstPort     uint16 // for ICMP: type*256+code
	Sensor      uint16 // sensor (observation point) id
	VLAN        uint16 // 802.1Q VLAN id (outer tag), 0 when untagged
	Application uint16 // application label (port of the protocol detected, as SiLK's appLabel)

	Protocol uint8 // IP protocol number

	Flags        TCPFlags // union of all packets' flags
	InitialFlags TCPFlags // first packet's flags
	SessionFlags TCPFlags // union of all packets' flags but the first's

	RevFlags        TCPFlags
	RevInitialFlags TCPFlags
	RevSessionFlags TCPFlags

	EndReason EndReason
	Type      FlowType
}

// IP protocol numbers that flowkit treats specially.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
	ProtoSCTP   = 132
)

// ProtocolName returns the short name of the IP protocols flowkit treats
// specially (tcp, udp, icmp, icmp6, sctp) and the decimal number of others.
func ProtocolName(p uint8) string {
	switch p {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "icmp6"
	case ProtoSCTP:
		return "sctp"
	}
	return strconv.Itoa(int(p))
}

// StartTime returns Start as a time.Time in UTC.
func (r *Record) StartTime() time.Time { return time.Unix(0, r.Start).UTC() }

// EndTime returns End as a time.Time in UTC.
func (r *Record) EndTime() time.Time { return time.Unix(0, r.End).UTC() }

// Duration returns End minus Start.
func (r *Record) Duration() time.Duration { return time.Duration(r.End - r.Start) }

// SrcAddr returns the source address.
func (r *Record) SrcAddr() netip.Addr { return r.Src.Netip() }

// DstAddr returns the destination address.
func (r *Record) DstAddr() netip.Addr { return r.Dst.Netip() }

// SetSrcAddr sets the source address.
func (r *Record) SetSrcAddr(a netip.Addr) { r.Src = AddrFrom(a) }

// SetDstAddr sets the destination address.
func (r *Record) SetDstAddr(a netip.Addr) { r.Dst = AddrFrom(a) }

// IsICMP reports whether the protocol is ICMP or ICMPv6.
func (r *Record) IsICMP() bool { return r.Protocol == ProtoICMP || r.Protocol == ProtoICMPv6 }

// ICMPType returns the ICMP type carried in DstPort (meaningful for ICMP only).
func (r *Record) ICMPType() uint8 { return uint8(r.DstPort >> 8) }

// ICMPCode returns the ICMP code carried in DstPort (meaningful for ICMP only).
func (r *Record) ICMPCode() uint8 { return uint8(r.DstPort) }

// IsBiflow reports whether the record carries a reverse direction.
func (r *Record) IsBiflow() bool { return r.RevPackets != 0 }

// Key returns the record's flow key.
func (r *Record) Key() Key {
	return Key{Src: r.Src, Dst: r.Dst, SrcPort: r.SrcPort, DstPort: r.DstPort,
		Protocol: r.Protocol, VLAN: r.VLAN, Sensor: r.Sensor}
}

// String returns a one-line readable summary, for logs and debugging; use
// the flowtext package for a format meant to be read back.
func (r *Record) String() string {
	s := fmt.Sprintf("%s %s:%d -> %s:%d proto %d %d pkts %d bytes",
		r.StartTime().Format("2006-01-02T15:04:05.000Z"), r.SrcAddr(), r.SrcPort,
		r.DstAddr(), r.DstPort, r.Protocol, r.Packets, r.Bytes)
	if r.Flags != 0 {
		s += " flags " + r.Flags.String()
	}
	s += " dur " + r.Duration().String()
	if r.IsBiflow() {
		s += fmt.Sprintf(" rev %d pkts %d bytes", r.RevPackets, r.RevBytes)
	}
	if r.EndReason != EndUnknown {
		s += " end " + r.EndReason.String()
	}
	return s
}
