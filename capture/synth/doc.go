// Package synth writes deterministic synthetic packet captures of the
// traffic a flow analyst meets, together with the flow records a meter must
// produce from them (the ground truth).
//
// # Scenarios
//
// [Generate] builds one day of traffic (from [Config].Start, by default
// 2026-01-01T00:00:00Z) out of named scenarios (see [ScenarioNames] and
// each [Scenario]'s Description for the exact addresses and times):
//
//   - smtp: an SMTP session whose client sends ~5x the server's bytes,
//     spurious RSTs 30-60 s after the FIN exchange, and two more flows from
//     the same client port to a second SMTP server;
//   - icmp-scan: an ICMP echo scan of a whole /16, 2 packets per target,
//     61-byte packets, 2-4 packets per second;
//   - web: pages of three port-80 connections within 20 s, about a minute
//     apart, with rising ephemeral ports;
//   - http-download: large downloads aborted by client RSTs and a late lone
//     RST long after the data;
//   - vpn: quiet UDP 500/500 keep-alives with gaps over the idle timeout, the
//     last one larger;
//   - ssh: a 3 h 20 min session of PSH-ACK packets only, rolled over by the
//     active timeout;
//   - suspicious: a port-80 session open from 02:00 to 05:00 at 40 packets
//     per 30 minutes, then sessions for hours that reuse its ephemeral port;
//   - beacon: three connection attempts 60 s apart, then 30 minutes of rest,
//     all day;
//   - ipv6, vlan, fragments, fragments6: IPv6 TCP and UDP, 802.1Q-tagged
//     traffic (the same 5-tuple on two VLANs), fragmented IPv4 UDP and
//     fragmented IPv6 UDP (fragment extension header).
//
// Each scenario draws from its own random stream (a PCG seeded with
// [Config].Seed and the scenario name), so a scenario's packets are the same
// whichever other scenarios are selected. The same Config always gives the
// same bytes.
//
// # Ground truth
//
// The truth comes from the synthesizer's own bookkeeping: every scenario
// says which flow each packet it emits belongs to, and when a TCP flow is
// marked closing (FIN seen in both directions, or RST). It is not computed
// by running a flow table; a self-check only rejects bookkeeping that breaks
// the rules below. The records follow flowkit's metering contract with
// YAF's defaults, which the truth assumes:
//
//   - idle timeout [Idle] = 300 s: a flow ends when the clock passes its
//     last packet by more than 300 s;
//   - active timeout [Active] = 1800 s: a flow ends when the clock reaches
//     its first packet plus 1800 s, and the next packet starts a new flow;
//   - TCP grace [Grace] = 5 s: a flow marked closing ends when the clock
//     passes the closing time by more than 5 s;
//   - unidirectional flows, sensor 0, the clock is the largest packet time
//     seen, and flows still open after the last packet end with
//     [flow.EndForced].
//
// Bytes are IP-layer bytes (an IPv6 packet's 40-byte header and extension
// headers included). All fragments of a fragmented UDP datagram count
// toward the flow of its first fragment (whose ports they carry in a
// decoded [flow.Packet]; the protocol is UDP for IPv6 fragments too), each
// with its own IP length.
//
// An end reason depends on the whole capture's clock (a flow idles out only
// if some later packet moves the clock), so a scenario's Truth is for the
// selected set of scenarios together.
//
// # Output
//
// [Traffic.WritePcap] writes Ethernet frames (802.1Q where a VLAN is set) in
// the classic pcap format with microsecond or nanosecond timestamps; packet
// times are rounded to the chosen resolution before the truth is made, so
// truth and file agree. A snap length truncates the captured bytes but
// never the IP total length. [Traffic.Packets] gives the decoded packet
// summaries directly.
//
// [Bulk] streams large benchmark captures (millions of packets over many
// concurrent flows) without holding them in memory, as pcap or as
// [flow.Packet] values.
package synth
