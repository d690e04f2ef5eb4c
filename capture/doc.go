// Package capture reads packets from capture files and live interfaces and
// decodes each into a [flow.Packet], the summary the flow table consumes.
//
// Sources: [OpenFile] and [NewReader] read pcap (microsecond and nanosecond
// timestamps, either byte order) and pcapng, optionally gzip-compressed; the
// format is sniffed from the magic number, never from the file name.
// [OpenLive] captures on a Linux interface through an AF_PACKET TPACKET_V3
// ring (gopacket's afpacket, zero-copy reads).
//
// Decoding uses gopacket's DecodingLayerParser with layers that are reused
// for every packet and writes into caller-owned flow.Packet values, so the
// steady state allocates nothing per packet. Link types: Ethernet, Linux
// cooked capture (SLL and SLL2), raw IP (DLT_RAW 12/14/101, LINKTYPE_IPV4,
// LINKTYPE_IPV6) and BSD loopback (NULL, LOOP). Below the link layer:
// 802.1Q and QinQ (the outer tag is the packet's VLAN), MPLS label stacks,
// PPPoE sessions, IPv4 with options, IPv6 with hop-by-hop, routing,
// destination-options and fragment headers, then TCP (ports, flags), UDP,
// SCTP (ports), ICMP and ICMPv6 (DstPort = type*256+code, SrcPort 0).
// Tunnels are not entered: an IPv6-in-IPv4 (6in4) or IP-in-IP packet is
// reported with its outer header and protocol 41 or 4, as YAF and SiLK do.
//
// Packet length is the IP-layer length from the IP header (IPv4 total
// length, IPv6 40 + payload length), so a capture cut by its snap length
// still counts the bytes that were on the wire.
//
// Frames that carry no IP packet (ARP, STP, LLDP ...) are counted in
// [Stats.NonIP] and skipped; frames whose IP header is cut or invalid are
// counted in [Stats.Malformed] and skipped. Nothing is dropped silently.
//
// IP fragments: the first fragment carries the transport header and is
// decoded normally; its ports are remembered in a bounded fragment table
// (fixed capacity, entries expire 30 s of packet time after the first
// fragment, no allocation per packet) keyed by (source, destination,
// protocol, identification) — for IPv6 the identification of the fragment
// header. Later fragments get the ports (and, for IPv6, the transport
// protocol found behind any extension headers) of their first fragment and
// are counted in [Stats.FragmentsMatched]. A later fragment whose first fragment
// was not seen (lost, expired, evicted, or arriving later out of order) is
// still delivered, with ports 0, and counted in [Stats.FragmentsUnmatched].
// Every fragment counts its own IP length, so byte totals stay exact.
//
// A truncated or corrupt file yields every packet before the damage and
// then an error of type [*FileError] naming the file and the byte offset of
// the record that could not be read; it matches [ErrTruncated] or
// [ErrCorrupt] with errors.Is.
package capture
