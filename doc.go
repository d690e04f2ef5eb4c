// Package flowkit is a Go SDK for network flow analysis: what CERT's SiLK
// toolkit and its YAF flow meter do, as packages a Go program imports.
//
// A flow is the summary of the packets that share a key (protocol,
// addresses, ports, VLAN, sensor) between a first and a last packet: when,
// how many packets and bytes, which TCP flags, and why it ended. flowkit
// turns packets into flows, moves flows between machines as IPFIX, keeps
// months of them in a compact columnar store, and answers questions about
// them quickly. The chain, sensor to analysis:
//
//	 packets          flow records           IPFIX              columns            answers
//	┌─────────┐      ┌────────────┐      ┌───────────┐      ┌───────────┐      ┌───────────┐
//	│ capture │ ───▶ │ flow table │ ───▶ │ ipfix     │ ───▶ │ store     │ ───▶ │ query     │
//	│ pcap,   │      │ + timeouts │      │ exporter  │      │ hourly    │      │ filter,   │
//	│ pcapng, │      │ (meter)    │      │ collector │      │ lz4 cols, │      │ group-by, │
//	│ AF_PKT  │      │            │      │ NetFlow in│      │ roaring   │      │ top-N ... │
//	└─────────┘      └────────────┘      └───────────┘      └───────────┘      └───────────┘
//
// Package [github.com/flowkit/flowkit/flow] defines the record every stage
// shares and the flow table; [github.com/flowkit/flowkit/timeouts] decides
// when a flow ends; [github.com/flowkit/flowkit/capture] reads packets;
// [github.com/flowkit/flowkit/ipfix] speaks IPFIX and NetFlow;
// [github.com/flowkit/flowkit/store] keeps flows on disk;
// [github.com/flowkit/flowkit/query] asks questions of them.
//
// Stages hand each other batches of records ([flow.Source], [flow.Sink]),
// never one interface call per record, and decode into caller-owned values,
// so the hot paths allocate nothing per packet or per record. Every stage
// also offers an [iter.Seq] for callers who prefer a range loop.
//
// The program examples/flowkit puts each capability behind a verb (meter,
// collect, import, info, filter, cut, count, uniq, stats, sort, set, plot,
// detect), in the manner of SiLK's rw* tools.
package flowkit
