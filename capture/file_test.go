package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// readAll drains a source; it fails the test on any error but io.EOF.
func readAll(t testing.TB, src Source) []flow.Packet {
	t.Helper()
	var all []flow.Packet
	buf := make([]flow.Packet, 7) // odd batch size: exercises batch boundaries
	for {
		n, err := src.ReadPackets(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			return all
		}
		if err != nil {
			t.Fatalf("ReadPackets: %v", err)
		}
		if n == 0 {
			t.Fatal("ReadPackets returned 0, nil from a file")
		}
	}
}

func readFile(t testing.TB, path string) ([]flow.Packet, Stats) {
	t.Helper()
	src, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	return readAll(t, src), src.Stats()
}

func readBytes(t testing.TB, b []byte) ([]flow.Packet, Stats) {
	t.Helper()
	src, err := NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	return readAll(t, src), src.Stats()
}

type rawFrame struct {
	ci   gopacket.CaptureInfo
	data []byte
}

// ethernetFrames reads the frames of a plain pcap file.
func ethernetFrames(t testing.TB, name string) []rawFrame {
	t.Helper()
	f, err := os.Open(pcapPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("%s is not Ethernet", name)
	}
	var out []rawFrame
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rawFrame{ci, data})
	}
}

func writePcap(t testing.TB, link layers.LinkType, nanos bool, frames []rawFrame) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(262144, link); err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		ci := f.ci
		ci.CaptureLength, ci.Length = len(f.data), len(f.data)+(f.ci.Length-f.ci.CaptureLength)
		if err := w.WritePacket(ci, f.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// relink rewrites Ethernet frames to another link type; frames the target
// cannot carry (non-IP on raw IP links) are dropped, as are IPv6 frames for
// LINKTYPE_IPV4 and IPv4 frames for LINKTYPE_IPV6.
func relink(frames []rawFrame, link layers.LinkType) []rawFrame {
	var out []rawFrame
	for _, f := range frames {
		etype := binary.BigEndian.Uint16(f.data[12:14])
		ip := f.data[14:]
		var d []byte
		switch link {
		case layers.LinkTypeLinuxSLL:
			h := make([]byte, 16)
			binary.BigEndian.PutUint16(h[0:], 0) // to us
			binary.BigEndian.PutUint16(h[2:], 1) // ARPHRD_ETHER
			binary.BigEndian.PutUint16(h[4:], 6)
			copy(h[6:], f.data[6:12])
			binary.BigEndian.PutUint16(h[14:], etype)
			d = append(h, ip...)
		case layers.LinkTypeLinuxSLL2:
			h := make([]byte, 20)
			binary.BigEndian.PutUint16(h[0:], etype)
			binary.BigEndian.PutUint32(h[4:], 2) // interface index
			binary.BigEndian.PutUint16(h[8:], 1) // ARPHRD_ETHER
			h[10], h[11] = 0, 6
			copy(h[12:], f.data[6:12])
			d = append(h, ip...)
		case layers.LinkTypeNull, layers.LinkTypeLoop:
			var fam uint32
			switch etype {
			case 0x0800:
				fam = 2
			case 0x86dd:
				fam = 30 // BSD AF_INET6 (macOS)
			default:
				continue
			}
			h := make([]byte, 4)
			if link == layers.LinkTypeNull {
				binary.LittleEndian.PutUint32(h, fam) // host byte order of the writer
			} else {
				binary.BigEndian.PutUint32(h, fam)
			}
			d = append(h, ip...)
		case layers.LinkTypeIPv4:
			if etype != 0x0800 {
				continue
			}
			d = append([]byte(nil), ip...)
		case layers.LinkTypeIPv6:
			if etype != 0x86dd {
				continue
			}
			d = append([]byte(nil), ip...)
		default: // raw IP, either version
			if etype != 0x0800 && etype != 0x86dd {
				continue
			}
			d = append([]byte(nil), ip...)
		}
		out = append(out, rawFrame{f.ci, d})
	}
	return out
}

func ofVersion(ps []flow.Packet, v4 bool) []flow.Packet {
	var out []flow.Packet
	for _, p := range ps {
		if p.Src.Is4() == v4 {
			out = append(out, p)
		}
	}
	return out
}

// TestLinkTypes rewrites a real Ethernet capture (IPv4, IPv6 and ARP) to
// every other supported link type and expects the same decoded packets.
func TestLinkTypes(t *testing.T) {
	const name = "zeek_wikipedia.pcap"
	frames := ethernetFrames(t, name)
	want, wantStats := readFile(t, pcapPath(t, name))
	if len(ofVersion(want, true)) == 0 || len(ofVersion(want, false)) == 0 || wantStats.NonIP == 0 {
		t.Fatalf("%s should hold IPv4, IPv6 and non-IP frames", name)
	}
	for _, c := range []struct {
		link       layers.LinkType
		keepsNonIP bool
		v4, v6     bool
	}{
		{layers.LinkTypeLinuxSLL, true, true, true},
		{layers.LinkTypeLinuxSLL2, true, true, true},
		{layers.LinkTypeNull, false, true, true},
		{layers.LinkTypeLoop, false, true, true},
		{layers.LinkTypeRaw, false, true, true},
		{linkTypeRaw12, false, true, true},
		{linkTypeRaw14, false, true, true},
		{layers.LinkTypeIPv4, false, true, false},
		{layers.LinkTypeIPv6, false, false, true},
	} {
		t.Run(c.link.String(), func(t *testing.T) {
			got, st := readBytes(t, writePcap(t, c.link, false, relink(frames, c.link)))
			exp := want
			if !c.v4 {
				exp = ofVersion(want, false)
			} else if !c.v6 {
				exp = ofVersion(want, true)
			}
			if !reflect.DeepEqual(got, exp) {
				t.Fatalf("%d packets differ from the Ethernet original (%d)", len(got), len(exp))
			}
			if c.keepsNonIP && st.NonIP != wantStats.NonIP {
				t.Errorf("NonIP %d, want %d", st.NonIP, wantStats.NonIP)
			}
		})
	}
}

// TestFormats reads the same packets from pcap (µs and ns), pcapng (also
// with two interfaces of different link types) and gzip of each.
func TestFormats(t *testing.T) {
	frames := ethernetFrames(t, "zeek_wikipedia.pcap")
	// Give every packet a nanosecond part, which only ns formats keep.
	for i := range frames {
		frames[i].ci.Timestamp = frames[i].ci.Timestamp.Add(time.Duration(i%1000) * time.Nanosecond)
	}
	us, _ := readBytes(t, writePcap(t, layers.LinkTypeEthernet, false, frames))
	ns, _ := readBytes(t, writePcap(t, layers.LinkTypeEthernet, true, frames))
	if len(us) != len(ns) || len(us) < 100 {
		t.Fatalf("%d vs %d packets", len(us), len(ns))
	}
	var sawNs bool
	for i := range us {
		if us[i].Time != ns[i].Time/1000*1000 {
			t.Fatalf("packet %d: µs %d vs ns %d", i, us[i].Time, ns[i].Time)
		}
		sawNs = sawNs || ns[i].Time%1000 != 0
		us[i].Time = ns[i].Time
	}
	if !sawNs || !reflect.DeepEqual(us, ns) {
		t.Fatal("ns pcap differs beyond the timestamp precision")
	}

	// pcapng with an Ethernet and a raw-IP interface, packets alternating.
	var ng bytes.Buffer
	w, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	rawIf, err := w.AddInterface(pcapgo.NgInterface{LinkType: layers.LinkTypeRaw, TimestampResolution: 9})
	if err != nil {
		t.Fatal(err)
	}
	var expect []flow.Packet
	for i, f := range frames {
		ci := f.ci
		data := f.data
		if et := binary.BigEndian.Uint16(data[12:14]); i%2 == 1 && (et == 0x0800 || et == 0x86dd) {
			data = data[14:]
			ci.InterfaceIndex = rawIf
		}
		ci.CaptureLength, ci.Length = len(data), len(data)
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	expect = ns
	got, _ := readBytes(t, ng.Bytes())
	if !reflect.DeepEqual(got, expect) {
		t.Fatalf("mixed-link pcapng: %d packets differ from pcap (%d)", len(got), len(expect))
	}

	for _, plain := range [][]byte{writePcap(t, layers.LinkTypeEthernet, true, frames), ng.Bytes()} {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(plain)
		zw.Close()
		got, _ := readBytes(t, gz.Bytes())
		if !reflect.DeepEqual(got, ns) {
			t.Fatal("gzip-compressed file decodes differently")
		}
	}
}

// TestSniffNotExtension reads the pcapng files named .pcap and the libpcap
// file named .pcapng in shared/data.
func TestSniffNotExtension(t *testing.T) {
	for _, c := range []struct {
		name    string
		packets uint64
	}{{"ndpi_ssh.pcap", 295}, {"ndpi_wireguard.pcap", 52}, {"ipfixprobe_vlan.pcap", 6}, {"ndpi_tcp_scan.pcapng", 30}, {"ndpi_opera-vpn.pcapng", 3200}} {
		_, st := readFile(t, pcapPath(t, c.name))
		if st.Packets != c.packets {
			t.Errorf("%s: %d frames, want %d", c.name, st.Packets, c.packets)
		}
	}
	if _, err := NewReader(bytes.NewReader([]byte("GET / HTTP/1.1\r\n"))); !errors.Is(err, ErrFormat) {
		t.Errorf("text input: %v, want ErrFormat", err)
	}
	if _, err := NewReader(bytes.NewReader(nil)); !errors.Is(err, ErrFormat) {
		t.Errorf("empty input: %v, want ErrFormat", err)
	}
	if _, err := OpenFile("/nonexistent/x.pcap"); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestVLANs: QinQ reports the outer tag, a priority tag reports VLAN 0,
// and MPLS and PPPoE inside VLANs decode (tshark agrees per frame in
// TestFramesMatchTshark).
func TestVLANs(t *testing.T) {
	for _, c := range []struct {
		name    string
		vlans   map[uint16]int
		decoded uint64
	}{
		{"zeek_q-in-q.pcap", map[uint16]int{13: 4}, 4},
		{"zeek_http-vlan-0.pcap", map[uint16]int{0: 14}, 14},
		{"zeek_mpls-in-vlan.pcap", nil, 3},
		{"zeek_pppoe-over-qinq.pcap", nil, 86},
		{"zeek_mixed-vlan-mpls.pcap", nil, 47},
	} {
		got, st := readFile(t, pcapPath(t, c.name))
		if st.Decoded != c.decoded {
			t.Errorf("%s: decoded %d, want %d", c.name, st.Decoded, c.decoded)
		}
		if c.vlans != nil {
			seen := map[uint16]int{}
			for _, p := range got {
				seen[p.VLAN]++
			}
			if !reflect.DeepEqual(seen, c.vlans) {
				t.Errorf("%s: VLANs %v, want %v", c.name, seen, c.vlans)
			}
		}
	}
}

// TestBigEndianPcap byte-swaps the headers of a real little-endian pcap
// (as a big-endian machine writes it), in µs and ns flavours.
func TestBigEndianPcap(t *testing.T) {
	le, err := os.ReadFile(pcapPath(t, "ndpi_smtp.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readBytes(t, le)
	for _, nanos := range []bool{false, true} {
		src := le
		if nanos {
			src = writePcap(t, layers.LinkTypeEthernet, true, ethernetFrames(t, "ndpi_smtp.pcap"))
		}
		be := bytes.Clone(src)
		swap32 := func(off int) { binary.BigEndian.PutUint32(be[off:], binary.LittleEndian.Uint32(src[off:])) }
		swap16 := func(off int) { binary.BigEndian.PutUint16(be[off:], binary.LittleEndian.Uint16(src[off:])) }
		swap32(0)
		swap16(4)
		swap16(6)
		for _, off := range []int{8, 12, 16, 20} {
			swap32(off)
		}
		for off := 24; off+16 <= len(src); {
			for i := 0; i < 16; i += 4 {
				swap32(off + i)
			}
			off += 16 + int(binary.LittleEndian.Uint32(src[off+8:]))
		}
		got, _ := readBytes(t, be)
		if !samePackets(got, want) {
			t.Fatalf("big-endian (nanos=%v): %d packets differ from little-endian (%d)", nanos, len(got), len(want))
		}
	}
}
