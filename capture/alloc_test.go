package capture

import (
	"bytes"
	"os"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// allocCorpus holds every frame of captures that cover the decoder's
// paths: IPv4/IPv6, TCP/UDP/ICMP/ICMPv6/SCTP, IPv4 and IPv6 fragments,
// QinQ, MPLS, PPPoE, 6in4, GRE, ESP, ARP.
var allocCorpus = []string{"ndpi_gnutella.pcap", "ndpi_dns_fragmented.pcap", "zeek_q-in-q.pcap",
	"zeek_mixed-vlan-mpls.pcap", "zeek_pppoe-over-qinq.pcap", "zeek_communityid_sctp.pcap",
	"zeek_communityid_icmp6.pcap", "ndpi_6in4tunnel.pcap", "zeek_erspan.pcap", "ndpi_reddit.pcap",
	"zeek_ipv6-fragmented-dns.pcap", "ndpi_ip_fragmented_garbage.pcap", "ipfixprobe_mixed.pcap"}

type linkFrame struct {
	link layers.LinkType
	ts   int64
	data []byte
}

func loadFrames(t testing.TB, names ...string) []linkFrame {
	t.Helper()
	var out []linkFrame
	for _, name := range names {
		f, err := os.Open(pcapPath(t, name))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			out = append(out, linkFrame{r.LinkType(), ci.Timestamp.UnixNano(), data})
		}
		f.Close()
	}
	return out
}

// TestDecodeAllocatesNothing decodes a varied real corpus and demands zero
// allocations per packet once the decoder is warm.
func TestDecodeAllocatesNothing(t *testing.T) {
	frames := loadFrames(t, allocCorpus...)
	d := NewDecoder()
	var p flow.Packet
	for _, f := range frames {
		d.Decode(f.data, f.link, f.ts, &p)
	}
	for _, f := range frames {
		if a := testing.AllocsPerRun(3, func() { d.Decode(f.data, f.link, f.ts, &p) }); a != 0 {
			t.Errorf("%v allocations decoding %x", a, f.data[:min(len(f.data), 80)])
		}
	}
}

// TestReadAllocatesNothing reads pcap and pcapng streams in batches: after
// the first batch, reading allocates nothing per packet.
func TestReadAllocatesNothing(t *testing.T) {
	for _, name := range []string{"ndpi_gnutella.pcap", "ndpi_openvpn.pcap" /* pcapng */} {
		b, err := os.ReadFile(pcapPath(t, name))
		if err != nil {
			t.Fatal(err)
		}
		src, err := NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]flow.Packet, 16)
		src.ReadPackets(buf) // warm up: buffers sized by the first packets
		src.ReadPackets(buf)
		if a := testing.AllocsPerRun(20, func() {
			if _, err := src.ReadPackets(buf); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("%s: %v allocations per batch of 16", name, a)
		}
	}
}
