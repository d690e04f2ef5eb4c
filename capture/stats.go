package capture

// Stats counts what a source read and what became of it. Every frame read
// ends up in exactly one of Decoded, NonIP and Malformed.
type Stats struct {
	Packets   uint64 // frames read from the file or ring
	Decoded   uint64 // IP packets delivered as flow.Packet
	NonIP     uint64 // frames skipped: no IP inside (ARP, STP, LLDP, unknown link type ...)
	Malformed uint64 // frames skipped: the IP header (or one before it) is cut short or invalid

	// Truncated counts delivered packets captured shorter than their IP
	// length (snap length); their Length is still the length on the wire.
	Truncated uint64

	Fragments          uint64 // delivered IP fragments, first and later ones
	FragmentsMatched   uint64 // later fragments that got the ports of their first fragment
	FragmentsUnmatched uint64 // later fragments delivered with ports 0: first fragment not seen (yet)

	KernelPackets uint64 // live: packets the kernel passed to the socket (after the BPF filter)
	KernelDrops   uint64 // live: packets the kernel dropped because the ring was full
	KernelFreezes uint64 // live: times the ring queue froze (TPACKET_V3)
}
