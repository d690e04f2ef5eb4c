package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket/layers"
)

// FuzzReadPackets feeds arbitrary bytes to the file reader and decoder,
// seeded with real pcap and pcapng captures: no panic, no endless loop,
// every error is io.EOF, ErrFormat or a *FileError, and the counters add
// up.
func FuzzReadPackets(f *testing.F) {
	for _, name := range []string{"zeek_q-in-q.pcap", "zeek_ipv4_fragmented-4.pcap", "zeek_ipv6-fragmented-dns.pcap",
		"zeek_tcp_syn-then-stuff-then-rst.pcap", "ndpi_wireguard.pcap" /* pcapng */, "zeek_mpls-in-vlan.pcap",
		"zeek_communityid_sctp.pcap", "zeek_icmp_dot1q.pcap"} {
		b, err := os.ReadFile(pcapPath(f, name))
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 4096 {
			b = b[:4096]
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src, err := NewReader(bytes.NewReader(data))
		if err != nil {
			var fe *FileError
			if !errors.Is(err, ErrFormat) && !errors.As(err, &fe) {
				t.Fatalf("open: unexpected error type %T: %v", err, err)
			}
			return
		}
		buf := make([]flow.Packet, 8)
		var delivered uint64
		for i := 0; ; i++ {
			n, err := src.ReadPackets(buf)
			delivered += uint64(n)
			if err != nil {
				var fe *FileError
				if err != io.EOF && !errors.As(err, &fe) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				break
			}
			if n == 0 {
				t.Fatal("(0, nil) from a file")
			}
			if i > len(data) {
				t.Fatal("more batches than input bytes")
			}
		}
		st := src.Stats()
		if st.Decoded != delivered || st.Decoded+st.NonIP+st.Malformed != st.Packets {
			t.Fatalf("stats do not add up: %+v, delivered %d", st, delivered)
		}
		if st.FragmentsMatched+st.FragmentsUnmatched > st.Fragments {
			t.Fatalf("fragment counters: %+v", st)
		}
	})
}

// FuzzDecode feeds arbitrary frames of every supported link type to the
// decoder, seeded with real frames: no panic, and the counters account for
// every frame.
func FuzzDecode(f *testing.F) {
	for i, fr := range loadFrames(f, "zeek_q-in-q.pcap", "zeek_mixed-vlan-mpls.pcap", "zeek_pppoe-over-qinq.pcap",
		"zeek_ipv6-fragmented-dns.pcap", "zeek_communityid_icmp6.pcap", "zeek_communityid_sctp.pcap") {
		if i%3 == 0 {
			f.Add(uint8(0), fr.data)
		}
	}
	links := []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2,
		layers.LinkTypeNull, layers.LinkTypeLoop, layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6}
	d := NewDecoder()
	f.Fuzz(func(t *testing.T, link uint8, frame []byte) {
		before := d.Stats()
		var p flow.Packet
		ok := d.Decode(frame, links[int(link)%len(links)], 1, &p)
		st := d.Stats()
		if st.Packets != before.Packets+1 || st.Decoded+st.NonIP+st.Malformed != st.Packets {
			t.Fatalf("counters: %+v", st)
		}
		if ok && p.Length < 20 {
			t.Fatalf("IP length %d", p.Length)
		}
	})
}
