package capture

import "time"

// LiveConfig configures OpenLive. The zero value captures whole packets
// (up to 262144 bytes), not promiscuous, with a 64 MiB ring and a 100 ms
// poll interval.
type LiveConfig struct {
	// SnapLen is the most bytes kept of each packet (0: 262144). Flow
	// metering needs only the headers: 128 is plenty and saves ring space.
	// It is enforced by the socket filter's return value, as libpcap does.
	SnapLen int
	// Promiscuous puts the interface in promiscuous mode while capturing.
	Promiscuous bool
	// BlockSize is the size of one ring block in bytes, a multiple of the
	// page size (0: 1 MiB); NumBlocks is the number of blocks (0: 64).
	BlockSize, NumBlocks int
	// PollTimeout is how long ReadPackets waits for a packet before it
	// returns (0, nil) so that the caller can advance its clock (0: 100 ms).
	PollTimeout time.Duration
	// BPF is a classic BPF program attached to the socket (e.g. the output
	// of `tcpdump -dd EXPR`). Its accepting return values are lowered to
	// SnapLen.
	BPF []BPFInstruction
	// Filter is a tcpdump expression, compiled with libpcap. It needs a
	// build with -tags libpcap (cgo); otherwise OpenLive returns
	// ErrNoLibpcap. Filter and BPF are exclusive.
	Filter string
}

// BPFInstruction is one classic BPF instruction (struct sock_filter), the
// layout of `tcpdump -dd` output, libpcap's bpf_insn and gopacket's
// pcap.BPFInstruction.
type BPFInstruction struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

const (
	defaultSnapLen     = 262144
	defaultBlockSize   = 1 << 20
	defaultNumBlocks   = 64
	defaultPollTimeout = 100 * time.Millisecond
	bpfRetK            = 0x06 // BPF_RET | BPF_K
)

func (c LiveConfig) withDefaults() LiveConfig {
	if c.SnapLen <= 0 || c.SnapLen > defaultSnapLen {
		c.SnapLen = defaultSnapLen
	}
	if c.BlockSize <= 0 {
		c.BlockSize = defaultBlockSize
	}
	if c.NumBlocks <= 0 {
		c.NumBlocks = defaultNumBlocks
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = defaultPollTimeout
	}
	return c
}

// clampSnap returns prog with every "ret #k" (k > 0) lowered to snap; an
// empty program becomes "accept snap bytes of everything".
func clampSnap(prog []BPFInstruction, snap int) []BPFInstruction {
	if len(prog) == 0 {
		return []BPFInstruction{{Code: bpfRetK, K: uint32(snap)}}
	}
	out := make([]BPFInstruction, len(prog))
	copy(out, prog)
	for i := range out {
		if out[i].Code == bpfRetK && out[i].K > uint32(snap) {
			out[i].K = uint32(snap)
		}
	}
	return out
}
