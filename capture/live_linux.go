//go:build linux

package capture

import (
	"errors"
	"fmt"
	"net"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// liveSource reads an AF_PACKET TPACKET_V3 ring.
type liveSource struct {
	iface string
	tp    *afpacket.TPacket
	link  layers.LinkType
	dec   *Decoder
	err   error
}

// OpenLive captures on a Linux interface through an AF_PACKET socket with a
// TPACKET_V3 memory-mapped ring (gopacket's afpacket) and zero-copy reads.
// It needs CAP_NET_RAW. ReadPackets returns (0, nil) after cfg.PollTimeout
// without packets. Packets that arrive between binding the socket and
// attaching the filter may pass unfiltered. The kernel strips the outer
// 802.1Q tag into the ring header; the packet's VLAN comes from there
// (gopacket hands it over in a value allocated per tagged packet).
func OpenLive(iface string, cfg LiveConfig) (Source, error) {
	cfg = cfg.withDefaults()
	if cfg.Filter != "" && len(cfg.BPF) > 0 {
		return nil, errors.New("capture: LiveConfig.Filter and LiveConfig.BPF are exclusive")
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("capture: interface %q: %w", iface, err)
	}
	// Loopback and Ethernet-like devices deliver Ethernet headers; devices
	// without a MAC address (tun, wireguard) deliver bare IP packets.
	link := layers.LinkTypeEthernet
	if ifc.Flags&net.FlagLoopback == 0 && len(ifc.HardwareAddr) != 6 {
		link = layers.LinkTypeRaw
	}

	prog := cfg.BPF
	if cfg.Filter != "" {
		if prog, err = compileFilter(cfg.Filter, link, cfg.SnapLen); err != nil {
			return nil, err
		}
	}
	prog = clampSnap(prog, cfg.SnapLen)

	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(iface),
		afpacket.OptTPacketVersion(afpacket.TPacketVersion3),
		afpacket.OptBlockSize(cfg.BlockSize),
		afpacket.OptNumBlocks(cfg.NumBlocks),
		afpacket.OptPollTimeout(cfg.PollTimeout),
		afpacket.SocketRaw,
	)
	if err != nil {
		return nil, fmt.Errorf("capture: AF_PACKET on %s: %w", iface, err)
	}
	raw := make([]bpf.RawInstruction, len(prog))
	for i, in := range prog {
		raw[i] = bpf.RawInstruction{Op: in.Code, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	if err := tp.SetBPF(raw); err != nil {
		tp.Close()
		return nil, fmt.Errorf("capture: attaching the BPF filter on %s: %w", iface, err)
	}
	if cfg.Promiscuous {
		if err := tp.SetPromiscuous(true); err != nil {
			tp.Close()
			return nil, fmt.Errorf("capture: promiscuous mode on %s: %w", iface, err)
		}
	}
	return &liveSource{iface: iface, tp: tp, link: link, dec: NewDecoder()}, nil
}

// ReadPackets implements Source.
func (s *liveSource) ReadPackets(dst []flow.Packet) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n := 0
	for n < len(dst) {
		data, ci, err := s.tp.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, afpacket.ErrTimeout) {
				break // a quiet wire: hand back what we have, maybe nothing
			}
			s.err = fmt.Errorf("capture: reading %s: %w", s.iface, err)
			if n == 0 {
				return 0, s.err
			}
			break
		}
		p := &dst[n]
		if !s.dec.Decode(data, s.link, ci.Timestamp.UnixNano(), p) {
			continue
		}
		// The kernel strips the outer 802.1Q tag into the ring header.
		if len(ci.AncillaryData) > 0 {
			if v, ok := ci.AncillaryData[0].(afpacket.AncillaryVLAN); ok && v.VLAN > 0 {
				p.VLAN = uint16(v.VLAN) & 0x0fff
			}
		}
		n++
	}
	return n, nil
}

// Stats implements Source: the decoder's counters plus the kernel's socket
// statistics (packets, drops, queue freezes).
func (s *liveSource) Stats() Stats {
	st := s.dec.Stats()
	if _, v3, err := s.tp.SocketStats(); err == nil {
		st.KernelPackets = uint64(v3.Packets())
		st.KernelDrops = uint64(v3.Drops())
		st.KernelFreezes = uint64(v3.QueueFreezes())
	}
	return st
}

// Close implements Source.
func (s *liveSource) Close() error {
	if s.err == nil {
		s.err = errors.New("capture: source closed")
	}
	s.tp.Close()
	return nil
}
