package flow

import (
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAddrConversions(t *testing.T) {
	for _, s := range []string{"10.0.5.7", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "fe80::1"} {
		ip := netip.MustParseAddr(s)
		a := AddrFrom(ip)
		if a.Netip() != ip || a.String() != s || string(a.AppendText(nil)) != s {
			t.Errorf("%s: round trip gave %v / %q / %q", s, a.Netip(), a.String(), a.AppendText(nil))
		}
		if a.Is4() != ip.Is4() {
			t.Errorf("%s: Is4 = %v", s, a.Is4())
		}
	}
	if a := AddrFromUint32(0x0a000507); a.String() != "10.0.5.7" || a.Uint32() != 0x0a000507 {
		t.Errorf("AddrFromUint32: %v %x", a, a.Uint32())
	}
	if AddrFrom(netip.Addr{}) != (Addr{}) {
		t.Error("invalid netip.Addr must give the zero Addr")
	}
}

func TestTCPFlags(t *testing.T) {
	f, err := ParseTCPFlags("apsf")
	if err != nil || f != FIN|SYN|PSH|ACK || f.String() != "FSPA" {
		t.Fatalf("ParseTCPFlags: %v %v %q", f, err, f.String())
	}
	if all := TCPFlags(0xff).String(); all != "FSRPAUEC" {
		t.Fatalf("all flags print %q", all)
	}
	if _, err := ParseTCPFlags("SX"); err == nil || !strings.Contains(err.Error(), "position 2") {
		t.Fatalf("bad letter error: %v", err)
	}
}

func TestEndReasonAndFlowTypeNames(t *testing.T) {
	for e := EndUnknown; e <= EndLackOfResources; e++ {
		if back, err := ParseEndReason(e.String()); err != nil || back != e {
			t.Errorf("end reason %d: %q -> %v %v", e, e.String(), back, err)
		}
	}
	if e, err := ParseEndReason("3"); err != nil || e != EndOfFlow {
		t.Errorf("numeric end reason: %v %v", e, err)
	}
	if _, err := ParseEndReason("later"); err == nil {
		t.Error("bad end reason accepted")
	}
	for ty := TypeUnknown; ty <= TypeExternal; ty++ {
		if back, err := ParseFlowType(ty.String()); err != nil || back != ty {
			t.Errorf("flow type %d: %q -> %v %v", ty, ty.String(), back, err)
		}
	}
}

func TestRecordMethods(t *testing.T) {
	r := Record{Start: 1767225600_123_000_000, End: 1767225611_762_000_000, Protocol: ProtoICMP, DstPort: 3*256 + 1,
		Packets: 2, Bytes: 122}
	r.SetSrcAddr(netip.MustParseAddr("10.0.9.9"))
	r.SetDstAddr(netip.MustParseAddr("2001:db8::7"))
	if r.Duration() != 11639*time.Millisecond || r.StartTime().Location() != time.UTC ||
		r.StartTime().Format(time.RFC3339Nano) != "2026-01-01T00:00:00.123Z" {
		t.Fatalf("times: %v %v", r.Duration(), r.StartTime())
	}
	if !r.IsICMP() || r.ICMPType() != 3 || r.ICMPCode() != 1 {
		t.Fatalf("ICMP type/code %d/%d", r.ICMPType(), r.ICMPCode())
	}
	if r.SrcAddr().String() != "10.0.9.9" || r.DstAddr().String() != "2001:db8::7" {
		t.Fatal("addresses")
	}
	s := r.String()
	if !strings.Contains(s, "10.0.9.9:0 -> 2001:db8::7:769") || !strings.Contains(s, "2 pkts 122 bytes") {
		t.Fatalf("String: %s", s)
	}
}

func TestKeyHashAndReverse(t *testing.T) {
	k := Key{Src: AddrFromUint32(0x0a000001), Dst: AddrFromUint32(0x0a000002), SrcPort: 40000, DstPort: 80, Protocol: 6}
	r := k.Reverse()
	if r.Src != k.Dst || r.SrcPort != 80 || r.Reverse() != k {
		t.Fatalf("Reverse: %+v", r)
	}
	if k.Hash() == r.Hash() {
		t.Fatal("directional hash should differ between directions")
	}
	if k.SymmetricHash() != r.SymmetricHash() {
		t.Fatal("symmetric hash differs between directions")
	}
	// Every field changes the hash.
	seen := map[uint64]bool{k.Hash(): true}
	for _, m := range []func(*Key){
		func(k *Key) { k.Src[15]++ }, func(k *Key) { k.Dst[0]++ }, func(k *Key) { k.SrcPort++ },
		func(k *Key) { k.DstPort++ }, func(k *Key) { k.VLAN++ }, func(k *Key) { k.Sensor++ }, func(k *Key) { k.Protocol++ },
	} {
		c := k
		m(&c)
		if seen[c.Hash()] {
			t.Fatalf("a changed key hashes the same: %+v", c)
		}
		seen[c.Hash()] = true
	}
	rec := Record{Src: k.Src, Dst: k.Dst, SrcPort: k.SrcPort, DstPort: k.DstPort, Protocol: 6}
	if rec.Key() != k {
		t.Fatal("Record.Key")
	}
	p := Packet{Src: k.Src, Dst: k.Dst, SrcPort: k.SrcPort, DstPort: k.DstPort, Protocol: 6, VLAN: 5}
	if pk := p.Key(3); pk.VLAN != 5 || pk.Sensor != 3 || pk.SrcPort != 40000 {
		t.Fatalf("Packet.Key: %+v", pk)
	}
}

// TestKeyHashSpreads checks that sequential addresses spread over shards.
func TestKeyHashSpreads(t *testing.T) {
	var shards [8]int
	for i := 0; i < 80000; i++ {
		k := Key{Src: AddrFromUint32(0x0a000000 + uint32(i)), Dst: AddrFromUint32(0x08080808), SrcPort: 1234, DstPort: 53, Protocol: 17}
		shards[k.Hash()%8]++
	}
	for i, n := range shards {
		if n < 9000 || n > 11000 {
			t.Fatalf("shard %d got %d of 80000 keys: %v", i, n, shards)
		}
	}
}

type failingSource struct{ SliceSource }

var errBroken = errors.New("broken")

func (f *failingSource) ReadBatch(dst []Record) (int, error) {
	n, err := f.SliceSource.ReadBatch(dst)
	if err == io.EOF {
		return 0, errBroken
	}
	return n, err
}

func TestRecordsAndCopy(t *testing.T) {
	recs := make([]Record, 2500)
	for i := range recs {
		recs[i].Packets = uint64(i)
	}
	var err error
	i := 0
	for r := range Records(&SliceSource{Recs: recs}, &err) {
		if r.Packets != uint64(i) {
			t.Fatalf("record %d out of order", i)
		}
		i++
	}
	if err != nil || i != len(recs) {
		t.Fatalf("iterated %d, err %v", i, err)
	}
	for range Records(&failingSource{SliceSource{Recs: recs}}, &err) {
	}
	if !errors.Is(err, errBroken) {
		t.Fatalf("source error not reported: %v", err)
	}
	var sink SliceSink
	n, err := Copy(&sink, &SliceSource{Recs: recs})
	if err != nil || n != int64(len(recs)) || len(sink.Recs) != len(recs) {
		t.Fatalf("Copy: %d %v", n, err)
	}
}

func BenchmarkKeyHash(b *testing.B) {
	k := Key{Src: AddrFromUint32(0x0a000001), Dst: AddrFromUint32(0x0a000002), SrcPort: 40000, DstPort: 80, Protocol: 6}
	var sink uint64
	for b.Loop() {
		k.SrcPort++
		sink += k.Hash()
	}
	_ = sink
}
