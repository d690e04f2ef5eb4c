package flow

// Packet is the summary of one decoded packet that the flow table consumes:
// what the capture package's decoder fills into a caller-owned value for
// every packet (no allocation per packet). Later IP fragments arrive with
// the ports of their first fragment already filled in by the decoder.
type Packet struct {
	Time     int64 // capture time, ns since the Unix epoch (UTC)
	Src, Dst Addr
	SrcPort  uint16
	DstPort  uint16 // for ICMP/ICMPv6: type*256+code
	VLAN     uint16 // outer 802.1Q VLAN id, 0 when untagged
	Length   uint32 // IP-layer bytes: the IP header and everything after it
	Protocol uint8
	Flags    TCPFlags // TCP flags; 0 for other protocols
}

// Key returns the packet's flow key for the given sensor.
func (p *Packet) Key(sensor uint16) Key {
	return Key{Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort,
		Protocol: p.Protocol, VLAN: p.VLAN, Sensor: sensor}
}
