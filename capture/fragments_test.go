package capture

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/flowkit/flowkit/flow"
)

// TestFragments checks the fragment attribution on the real fragment
// traces: every later fragment whose first fragment was seen carries the
// first fragment's ports; the one whose first fragment is missing from the
// trace (zeek_ipv6-fragmented-dns.pcap frame 4) is delivered with ports 0
// and counted as unmatched.
func TestFragments(t *testing.T) {
	cases := []struct {
		file                                 string
		fragments, matched, unmatched, total uint64
		portless                             []int // frame numbers delivered without ports
	}{
		{"zeek_ipv4_fragmented-1.pcap", 3, 1, 0, 3, nil},
		{"zeek_ipv4_fragmented-2.pcap", 3, 1, 0, 3, nil},
		{"zeek_ipv4_fragmented-3.pcap", 5, 4, 0, 5, nil},
		{"zeek_ipv4_fragmented-4.pcap", 4, 3, 0, 6, nil},
		{"zeek_ipv6-fragmented-dns.pcap", 4, 2, 1, 8, []int{4}},
		{"ndpi_dns_fragmented.pcap", 14, 7, 0, 66, nil},
		{"ndpi_ip_fragmented_garbage.pcap", 1252, 1248, 0, 1252, nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			frames, st := decodeFrames(t, pcapPath(t, c.file))
			if st.Fragments != c.fragments || st.FragmentsMatched != c.matched || st.FragmentsUnmatched != c.unmatched || st.Decoded != c.total {
				t.Errorf("fragments %d matched %d unmatched %d decoded %d; want %d %d %d %d",
					st.Fragments, st.FragmentsMatched, st.FragmentsUnmatched, st.Decoded, c.fragments, c.matched, c.unmatched, c.total)
			}
			portless := map[int]bool{}
			for _, n := range c.portless {
				portless[n] = true
			}
			for i, r := range frames {
				if !r.ok || (r.p.Protocol != 6 && r.p.Protocol != 17) {
					continue
				}
				noPorts := r.p.SrcPort == 0 && r.p.DstPort == 0
				if noPorts != portless[i+1] {
					t.Errorf("frame %d: ports %d->%d", i+1, r.p.SrcPort, r.p.DstPort)
				}
			}
		})
	}

	// All five fragments of the FTP segment in fragmented-3 belong to one flow.
	frames, _ := decodeFrames(t, pcapPath(t, "zeek_ipv4_fragmented-3.pcap"))
	key := frames[0].p.Key(0)
	if key.SrcPort != 1265 {
		t.Errorf("first fragment source port %d, want 1265", key.SrcPort)
	}
	var bytes uint32
	for i, r := range frames {
		if r.p.Key(0) != key {
			t.Errorf("fragment %d has key %+v, want %+v", i+1, r.p.Key(0), key)
		}
		bytes += r.p.Length
	}
	if bytes != 5*1500 {
		t.Errorf("fragments carry %d IP bytes, want 7500", bytes)
	}
}

func TestFragmentTable(t *testing.T) {
	a, b := flow.AddrFrom4([4]byte{10, 0, 0, 1}), flow.AddrFrom4([4]byte{10, 0, 0, 2})
	ft := newFragTable(16, 30e9)
	k := fragKey{src: a, dst: b, id: 7, proto: 17}
	if _, _, _, ok := ft.get(k, 1); ok {
		t.Fatal("found a fragment never stored")
	}
	ft.put(k, 53, 4000, 17, 1e9)
	if sp, dp, proto, ok := ft.get(k, 2e9); !ok || sp != 53 || dp != 4000 || proto != 17 {
		t.Fatalf("get = %d %d %d %v", sp, dp, proto, ok)
	}
	// Other id, other protocol, swapped addresses: different datagrams.
	for _, other := range []fragKey{{src: a, dst: b, id: 8, proto: 17}, {src: a, dst: b, id: 7, proto: 6}, {src: b, dst: a, id: 7, proto: 17}} {
		if _, _, _, ok := ft.get(other, 2e9); ok {
			t.Errorf("%+v matched %+v", other, k)
		}
	}
	// Expiry: 30 s after the first fragment.
	if _, _, _, ok := ft.get(k, 1e9+30e9+1); ok {
		t.Error("entry outlived its timeout")
	}
	// Capacity: far more datagrams than slots never grows the table, and
	// the most recent ones are found.
	for i := uint32(0); i < 10000; i++ {
		ft.put(fragKey{src: a, dst: b, id: i, proto: 6}, uint16(i), 80, 6, int64(i))
	}
	if len(ft.entries) != 16 {
		t.Fatalf("table grew to %d", len(ft.entries))
	}
	if sp, _, _, ok := ft.get(fragKey{src: a, dst: b, id: 9999, proto: 6}, 10000); !ok || sp != uint16(9999) {
		t.Errorf("latest datagram lost: %d %v", sp, ok)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		ft.put(k, 1, 2, 17, 5)
		ft.get(k, 6)
	}); allocs != 0 {
		t.Errorf("%v allocations per put+get", allocs)
	}
}

// ipv6Datagram builds a raw IPv6 packet: fixed header, then the given
// extension/fragment bytes and payload.
func ipv6Datagram(next uint8, rest []byte) []byte {
	b := make([]byte, 40, 40+len(rest))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(rest)))
	b[6], b[7] = next, 64
	b[8], b[23] = 0x20, 1  // 2000::1
	b[24], b[39] = 0x20, 2 // 2000::2
	return append(b, rest...)
}

// TestIPv6FragmentWithOptionsBehind: a first fragment whose fragmentable
// part starts with a destination-options header; the transport header and
// protocol behind it are found and given to the later fragment too. Also
// out-of-order: a later fragment before its first is unmatched.
func TestIPv6FragmentWithOptionsBehind(t *testing.T) {
	frag := func(offset uint16, more bool, next uint8) []byte {
		h := []byte{next, 0, 0, 0, 0, 0, 0, 42}
		v := offset << 3
		if more {
			v |= 1
		}
		binary.BigEndian.PutUint16(h[2:], v)
		return h
	}
	destOpts := []byte{17, 0, 1, 4, 0, 0, 0, 0} // next UDP, PadN
	udp := []byte{0x30, 0x39, 0x00, 0x35, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8}
	first := ipv6Datagram(44, append(append(frag(0, true, 60), destOpts...), udp...))
	later := ipv6Datagram(44, append(frag(3, false, 60), make([]byte, 24)...))
	d := NewDecoder()
	var p flow.Packet
	if !d.Decode(later, layers.LinkTypeIPv6, 1, &p) || p.SrcPort != 0 || d.Stats().FragmentsUnmatched != 1 {
		t.Fatalf("later fragment first: %+v %+v", p, d.Stats())
	}
	if !d.Decode(first, layers.LinkTypeIPv6, 2, &p) || p.Protocol != 17 || p.SrcPort != 12345 || p.DstPort != 53 || p.Length != uint32(len(first)) {
		t.Fatalf("first fragment: %+v", p)
	}
	if !d.Decode(later, layers.LinkTypeIPv6, 3, &p) || p.Protocol != 17 || p.SrcPort != 12345 || p.DstPort != 53 {
		t.Fatalf("later fragment: %+v", p)
	}
	if st := d.Stats(); st.Fragments != 3 || st.FragmentsMatched != 1 || st.FragmentsUnmatched != 1 {
		t.Fatalf("stats %+v", st)
	}
}
