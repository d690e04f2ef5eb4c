package ipfix

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Datagram is one UDP payload found in a capture file.
type Datagram struct {
	Time    time.Time
	Src     netip.AddrPort // the exporter
	Dst     netip.AddrPort // the collector
	Payload []byte         // valid until the next callback
}

// ReadPcapDatagrams calls fn for every UDP datagram in a pcap or pcapng
// capture (sniffed by magic number, not by file name), for replaying
// captured IPFIX/NetFlow exports. Non-UDP packets are skipped; IP fragments
// other than the first are not reassembled and are skipped too.
func ReadPcapDatagrams(r io.Reader, fn func(*Datagram) error) error {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return fmt.Errorf("ipfix: pcap: reading magic: %w", err)
	}
	type packetReader interface {
		ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	}
	var pr packetReader
	var link layers.LinkType
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return fmt.Errorf("ipfix: pcapng: %w", err)
		}
		pr, link = ng, ng.LinkType()
	} else {
		pc, err := pcapgo.NewReader(br)
		if err != nil {
			return fmt.Errorf("ipfix: pcap: %w", err)
		}
		pr, link = pc, pc.LinkType()
	}
	var dg Datagram
	for n := 1; ; n++ {
		data, ci, err := pr.ReadPacketData()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("ipfix: capture packet %d: %w", n, err)
		}
		pkt := gopacket.NewPacket(data, link, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		udpL, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok {
			continue
		}
		var src, dst netip.Addr
		switch ip := pkt.NetworkLayer().(type) {
		case *layers.IPv4:
			if ip.FragOffset != 0 {
				continue
			}
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			dst, _ = netip.AddrFromSlice(ip.DstIP)
		default:
			continue
		}
		dg = Datagram{Time: ci.Timestamp, Src: netip.AddrPortFrom(src, uint16(udpL.SrcPort)),
			Dst: netip.AddrPortFrom(dst, uint16(udpL.DstPort)), Payload: udpL.Payload}
		if err := fn(&dg); err != nil {
			return err
		}
	}
}
