package synth

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"

	"github.com/flowkit/flowkit/flow"
)

// day is the full default day, generated and read back once for the tests.
var day struct {
	once sync.Once
	tr   *Traffic
	pcap []byte
	pkts []decoded
	err  error
}

func loadDay(t testing.TB) (*Traffic, []byte, []decoded) {
	t.Helper()
	day.once.Do(func() {
		day.tr, day.err = Generate(Config{Seed: 1})
		if day.err != nil {
			return
		}
		var buf bytes.Buffer
		if day.err = day.tr.WritePcap(&buf); day.err != nil {
			return
		}
		day.pcap = buf.Bytes()
		day.pkts, _, day.err = readPcap(day.pcap)
	})
	if day.err != nil {
		t.Fatal(day.err)
	}
	return day.tr, day.pcap, day.pkts
}

func TestDeterministic(t *testing.T) {
	_, first, _ := loadDay(t)
	tr, err := Generate(Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := tr.WritePcap(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again.Bytes()) {
		t.Fatal("the same seed gave different pcap bytes")
	}
	other, err := Generate(Config{Seed: 2, Scenarios: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var b2 bytes.Buffer
	if err := other.WritePcap(&b2); err != nil {
		t.Fatal(err)
	}
	web, err := Generate(Config{Seed: 1, Scenarios: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	var b1 bytes.Buffer
	if err := web.WritePcap(&b1); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("seeds 1 and 2 gave the same web traffic")
	}
	// A scenario's packets do not depend on which others are selected.
	all, _, _ := loadDay(t)
	var fromDay []flow.Packet
	for i, p := range all.Packets() {
		if all.ScenarioOf(i) == "web" {
			fromDay = append(fromDay, p)
		}
	}
	if !slices.Equal(fromDay, web.Packets()) {
		t.Fatal("the web scenario's packets change when other scenarios are selected")
	}
}

// TestPcapRoundTrip reads the pcap back with gopacket: exactly the packets
// written, in time order, with the right lengths.
func TestPcapRoundTrip(t *testing.T) {
	tr, _, got := loadDay(t)
	want := tr.Packets()
	if len(got) != len(want) {
		t.Fatalf("read %d packets, wrote %d", len(got), len(want))
	}
	for i := range want {
		if got[i].pkt != want[i] {
			t.Fatalf("packet %d: read %+v, wrote %+v", i, got[i].pkt, want[i])
		}
		if i > 0 && want[i].Time < want[i-1].Time {
			t.Fatalf("packet %d is older than packet %d", i, i-1)
		}
		if want[i].Time%1000 != 0 {
			t.Fatalf("packet %d: time %d is not whole microseconds", i, want[i].Time)
		}
		link := 14
		if want[i].VLAN != 0 {
			link += 4
		}
		// gopacket pads short frames to Ethernet's 60-byte minimum
		if got[i].wireLen != max(60, link+int(want[i].Length)) || got[i].capLen != got[i].wireLen {
			t.Fatalf("packet %d: frame %d/%d bytes for IP length %d", i, got[i].capLen, got[i].wireLen, want[i].Length)
		}
	}
}

func TestSnapLenAndNanoseconds(t *testing.T) {
	tr, err := Generate(Config{Seed: 3, Scenarios: []string{"http-download", "fragments", "vlan", "ipv6"},
		Nanosecond: true, SnapLen: 128})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tr.WritePcap(&buf); err != nil {
		t.Fatal(err)
	}
	got, r, err := readPcap(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if r.Snaplen() != 128 || r.Resolution() != gopacket.TimestampResolutionNanosecond {
		t.Fatalf("snaplen %d resolution %v", r.Snaplen(), r.Resolution())
	}
	want := tr.Packets()
	if len(got) != len(want) {
		t.Fatalf("read %d packets, wrote %d", len(got), len(want))
	}
	truncated, subMicro := 0, 0
	for i := range want {
		if got[i].pkt != want[i] {
			t.Fatalf("packet %d: read %+v, wrote %+v", i, got[i].pkt, want[i])
		}
		if got[i].capLen > 128 {
			t.Fatalf("packet %d: %d captured bytes over the snap length", i, got[i].capLen)
		}
		if got[i].wireLen > 128 {
			truncated++
		}
		if want[i].Time%1000 != 0 {
			subMicro++
		}
	}
	if truncated == 0 || subMicro == 0 {
		t.Fatalf("%d truncated frames, %d sub-microsecond times: want some of each", truncated, subMicro)
	}
	checkAgainstMeter(t, tr.Truth(), got)
}

// checkAgainstMeter runs the tests' own meter over the decoded packets and
// wants exactly the truth.
func checkAgainstMeter(t *testing.T, truth []flow.Record, pkts []decoded) {
	t.Helper()
	m := newRefMeter()
	for i := range pkts {
		m.add(pkts[i].pkt)
	}
	got := m.flush()
	if len(got) != len(truth) {
		t.Errorf("meter made %d flows, truth has %d", len(got), len(truth))
	}
	for i := range min(len(got), len(truth)) {
		if got[i] != truth[i] {
			t.Fatalf("flow %d:\nmeter %v (%v, init %v session %v vlan %d)\ntruth %v (%v, init %v session %v vlan %d)",
				i, &got[i], got[i].EndReason, got[i].InitialFlags, got[i].SessionFlags, got[i].VLAN,
				&truth[i], truth[i].EndReason, truth[i].InitialFlags, truth[i].SessionFlags, truth[i].VLAN)
		}
	}
}

// TestTruthMatchesPackets checks the whole day's truth against the tests'
// own meter run over the decoded pcap, and against plain per-key sums.
func TestTruthMatchesPackets(t *testing.T) {
	tr, _, pkts := loadDay(t)
	checkAgainstMeter(t, tr.Truth(), pkts)

	type sum struct{ packets, bytes uint64 }
	fromPcap := map[flow.Key]sum{}
	for _, d := range pkts {
		k := d.pkt.Key(0)
		s := fromPcap[k]
		s.packets++
		s.bytes += uint64(d.pkt.Length)
		fromPcap[k] = s
	}
	fromTruth := map[flow.Key]sum{}
	n := 0
	for _, s := range tr.Scenarios() {
		n += len(s.Truth)
		for _, r := range s.Truth {
			x := fromTruth[r.Key()]
			x.packets += r.Packets
			x.bytes += r.Bytes
			fromTruth[r.Key()] = x
		}
	}
	if n != len(tr.Truth()) {
		t.Fatalf("scenarios hold %d flows, Truth %d", n, len(tr.Truth()))
	}
	if len(fromPcap) != len(fromTruth) {
		t.Fatalf("%d keys in the pcap, %d in the truth", len(fromPcap), len(fromTruth))
	}
	for k, s := range fromPcap {
		if fromTruth[k] != s {
			t.Fatalf("key %v: pcap %+v, truth %+v", k, s, fromTruth[k])
		}
	}
}

// TestEachScenarioAlone generates every scenario on its own: its truth must
// match the meter over its own pcap (end reasons change with the clock that
// other scenarios move, so this is a second, different check).
func TestEachScenarioAlone(t *testing.T) {
	for _, name := range ScenarioNames() {
		t.Run(name, func(t *testing.T) {
			tr, err := Generate(Config{Seed: 9, Scenarios: []string{name}})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := tr.WritePcap(&buf); err != nil {
				t.Fatal(err)
			}
			pkts, _, err := readPcap(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if s := tr.Scenarios(); len(s) != 1 || s[0].Name != name || s[0].Packets != len(pkts) {
				t.Fatalf("scenarios %+v for %d packets", s, len(pkts))
			}
			checkAgainstMeter(t, tr.Scenarios()[0].Truth, pkts)
			forced := 0
			for _, r := range tr.Truth() {
				if r.EndReason == flow.EndForced {
					forced++
				}
			}
			if forced == 0 {
				t.Error("no flow is open at the end of the capture")
			}
		})
	}
}

func TestUnknownScenario(t *testing.T) {
	_, err := Generate(Config{Scenarios: []string{"web", "nope"}})
	if !errors.Is(err, ErrUnknownScenario) {
		t.Fatalf("got %v, want ErrUnknownScenario", err)
	}
}

// --- scenario properties, measured on the decoded packets ---

func ip(s string) flow.Addr { return flow.AddrFrom(netip.MustParseAddr(s)) }

// pick returns the decoded packets from src to dst (zero Addr: any).
func pick(pkts []decoded, src, dst flow.Addr) []flow.Packet {
	var out []flow.Packet
	for _, d := range pkts {
		if (src == flow.Addr{} || d.pkt.Src == src) && (dst == flow.Addr{} || d.pkt.Dst == dst) {
			out = append(out, d.pkt)
		}
	}
	return out
}

func flowsOf(truth []flow.Record, src, dst flow.Addr) []flow.Record {
	var out []flow.Record
	for _, r := range truth {
		if r.Src == src && r.Dst == dst {
			out = append(out, r)
		}
	}
	return out
}

func bytesOf(ps []flow.Packet) (n uint64) {
	for _, p := range ps {
		n += uint64(p.Length)
	}
	return n
}

func sec(ns int64) float64 { return float64(ns) / 1e9 }

func TestScenarioSMTP(t *testing.T) {
	tr, _, pkts := loadDay(t)
	cli, srv, srv2 := ip(SMTPClient), ip(SMTPServer), ip(SMTPServer2)
	up, down := pick(pkts, cli, srv), pick(pkts, srv, cli)
	ratio := float64(bytesOf(up)) / float64(bytesOf(down))
	if ratio < 4 || ratio > 6.5 {
		t.Errorf("client/server bytes %.2f, want about 5", ratio)
	}
	var lastFin int64
	var rsts []int64
	for _, p := range append(up, down...) {
		if p.Flags&flow.FIN != 0 {
			lastFin = max(lastFin, p.Time)
		}
		if p.Flags == flow.RST {
			rsts = append(rsts, p.Time)
		}
	}
	if len(rsts) != 2 {
		t.Fatalf("%d spurious RSTs, want 2", len(rsts))
	}
	for _, r := range rsts {
		if d := sec(r - lastFin); d < 30 || d > 60 {
			t.Errorf("RST %.1f s after the FIN exchange, want 30-60", d)
		}
	}
	// Flows: session + lone RST each way to the first server; two each way
	// to the second, all from the client port.
	if n := len(flowsOf(tr.Truth(), cli, srv)); n != 2 {
		t.Errorf("%d client flows to the first server, want 2", n)
	}
	second := flowsOf(tr.Truth(), cli, srv2)
	if len(second) != 2 {
		t.Fatalf("%d client flows to the second server, want 2", len(second))
	}
	for _, r := range second {
		if r.SrcPort != SMTPClientPort || r.DstPort != 25 {
			t.Errorf("second-server flow %v: want port %d -> 25", &r, SMTPClientPort)
		}
	}
	for _, p := range pick(pkts, cli, flow.Addr{}) {
		if p.SrcPort != SMTPClientPort {
			t.Fatalf("client packet from port %d", p.SrcPort)
		}
	}
}

func TestScenarioScan(t *testing.T) {
	tr, _, pkts := loadDay(t)
	ps := pick(pkts, ip(ScanSource), flow.Addr{})
	pfx := netip.MustParsePrefix(ScanNetwork)
	perTarget := map[flow.Addr]int{}
	for i, p := range ps {
		if p.Protocol != flow.ProtoICMP || p.Length != ScanIPLen || p.DstPort != 8<<8 || !pfx.Contains(p.Dst.Netip()) {
			t.Fatalf("scan packet %+v", p)
		}
		perTarget[p.Dst]++
		if i > 0 {
			if gap := sec(p.Time - ps[i-1].Time); gap < 0.25 || gap > 0.5 {
				t.Fatalf("gap %.3f s between scan packets, want 2-4 packets/s", gap)
			}
		}
	}
	if len(perTarget) != 65534 {
		t.Errorf("%d targets, want the whole /16 (65534)", len(perTarget))
	}
	for a, n := range perTarget {
		if n != 2 {
			t.Fatalf("target %v got %d packets", a, n)
		}
	}
	n := 0
	for _, r := range tr.Truth() {
		if r.Src == ip(ScanSource) {
			n++
			if r.Packets != 2 || r.Bytes != 2*ScanIPLen {
				t.Fatalf("scan flow %v", &r)
			}
		}
	}
	if n != 65534 {
		t.Errorf("%d scan flows, want 65534", n)
	}
}

func TestScenarioWeb(t *testing.T) {
	_, _, pkts := loadDay(t)
	var syns []flow.Packet
	for _, p := range pick(pkts, ip(WebClient), flow.Addr{}) {
		if p.Flags == flow.SYN {
			syns = append(syns, p)
		}
	}
	if len(syns) != 36 {
		t.Fatalf("%d connections, want 12 pages of 3", len(syns))
	}
	for i, s := range syns {
		if s.DstPort != 80 || (i > 0 && s.SrcPort <= syns[i-1].SrcPort) {
			t.Fatalf("connection %d: %+v: want port 80 and rising source ports", i, s)
		}
		if i%3 == 2 {
			if d := sec(s.Time - syns[i-2].Time); d > 20 {
				t.Errorf("page %d spans %.1f s", i/3, d)
			}
		}
		if i%3 == 0 && i > 0 {
			if d := sec(s.Time - syns[i-3].Time); d < 45 || d > 75 {
				t.Errorf("pages %.1f s apart, want about a minute", d)
			}
		}
	}
}

func TestScenarioDownload(t *testing.T) {
	tr, _, pkts := loadDay(t)
	cli, srv := ip(DownloadClient), ip(DownloadServer)
	var lastData, lone int64
	resets := 0
	for _, p := range pick(pkts, srv, cli) {
		lastData = max(lastData, p.Time)
	}
	for _, p := range pick(pkts, cli, srv) {
		switch p.Flags {
		case flow.RST | flow.ACK:
			resets++
		case flow.RST:
			lone = p.Time
		}
	}
	if resets != 3 {
		t.Errorf("%d client RST-ACKs, want 3", resets)
	}
	if d := sec(lone - lastData); d < 600 {
		t.Errorf("lone RST %.0f s after the data, want long after", d)
	}
	big := 0
	for _, r := range flowsOf(tr.Truth(), srv, cli) {
		if r.Bytes > 4e6 {
			big++
		}
	}
	if big != 3 {
		t.Errorf("%d large download flows, want 3", big)
	}
	var loneFlows int
	for _, r := range flowsOf(tr.Truth(), cli, srv) {
		if r.Packets == 1 && r.Flags == flow.RST && r.InitialFlags == flow.RST {
			loneFlows++
		}
	}
	if loneFlows != 1 {
		t.Errorf("%d lone-RST flows, want 1", loneFlows)
	}
}

func TestScenarioVPN(t *testing.T) {
	tr, _, pkts := loadDay(t)
	cli, srv := ip(VPNClient), ip(VPNServer)
	ps := pick(pkts, cli, srv)
	long := 0
	for i, p := range ps {
		if p.SrcPort != VPNPort || p.DstPort != VPNPort || p.Protocol != flow.ProtoUDP {
			t.Fatalf("vpn packet %+v", p)
		}
		if i > 0 {
			gap := sec(p.Time - ps[i-1].Time)
			if gap < 60 {
				t.Fatalf("keep-alives %.0f s apart, want a minute or more", gap)
			}
			if gap > 300 {
				long++
			}
		}
		if i < len(ps)-1 && p.Length >= ps[len(ps)-1].Length {
			t.Fatalf("keep-alive %d is %d bytes, the last %d: want the last larger", i, p.Length, ps[len(ps)-1].Length)
		}
	}
	if long < 5 {
		t.Fatalf("only %d gaps over the idle timeout", long)
	}
	if n := len(flowsOf(tr.Truth(), cli, srv)); n != long+1 {
		t.Errorf("%d client flows for %d idle gaps, want %d", n, long, long+1)
	}
}

func TestScenarioSSH(t *testing.T) {
	tr, _, pkts := loadDay(t)
	cli, srv := ip(SSHClient), ip(SSHServer)
	ps := pick(pkts, cli, srv)
	span := time.Duration(ps[len(ps)-1].Time - ps[0].Time)
	if span < 3*time.Hour {
		t.Fatalf("session spans %v, want over 3 h", span)
	}
	for _, p := range append(ps, pick(pkts, srv, cli)...) {
		if p.Flags != flow.PSH|flow.ACK {
			t.Fatalf("ssh packet with flags %v", p.Flags)
		}
	}
	fl := flowsOf(tr.Truth(), cli, srv)
	if want := int(span/Active) + 1; len(fl) != want {
		t.Errorf("%d client flows over %v, want %d", len(fl), span, want)
	}
	for i, r := range fl {
		if r.Duration() >= Active {
			t.Errorf("flow %d lasts %v", i, r.Duration())
		}
		if i < len(fl)-1 && r.EndReason != flow.EndActiveTimeout {
			t.Errorf("flow %d ended %v, want active", i, r.EndReason)
		}
	}
}

func TestScenarioSuspicious(t *testing.T) {
	tr, _, pkts := loadDay(t)
	cli, srv := ip(SuspiciousClient), ip(SuspiciousServer)
	base := DefaultStart.UnixNano()
	inSession := 0
	syns := 0
	for _, p := range append(pick(pkts, cli, srv), pick(pkts, srv, cli)...) {
		if p.Time >= base+int64(2*time.Hour) && p.Time <= base+int64(5*time.Hour) {
			inSession++
		}
		if p.Flags == flow.SYN {
			syns++
			if p.SrcPort != SuspiciousPort {
				t.Fatalf("session from port %d", p.SrcPort)
			}
		}
	}
	if per30 := float64(inSession) / 6; per30 < 32 || per30 > 48 {
		t.Errorf("%.1f packets per 30 minutes, want about 40", per30)
	}
	if syns < 4 {
		t.Errorf("%d sessions reuse the port, want several", syns)
	}
	eof := 0
	for _, r := range flowsOf(tr.Truth(), cli, srv) {
		if r.EndReason == flow.EndOfFlow {
			eof++
		}
	}
	if eof != syns {
		t.Errorf("%d flows ended by FIN/RST for %d sessions", eof, syns)
	}
}

func TestScenarioBeacon(t *testing.T) {
	tr, _, pkts := loadDay(t)
	ps := pick(pkts, ip(BeaconClient), ip(BeaconServer))
	if len(ps)%3 != 0 || len(ps) < 40*3 {
		t.Fatalf("%d beacon attempts", len(ps))
	}
	for i := 1; i < len(ps); i++ {
		gap := sec(ps[i].Time - ps[i-1].Time)
		if i%3 != 0 && (gap < 59 || gap > 61) {
			t.Fatalf("attempts %.1f s apart, want 60", gap)
		}
		if i%3 == 0 && (gap < 1799 || gap > 1801) {
			t.Fatalf("rest of %.1f s, want 30 minutes", gap)
		}
	}
	if span := sec(ps[len(ps)-1].Time - ps[0].Time); span < 23*3600 {
		t.Errorf("beacon spans %.0f s, want a day", span)
	}
	if n := len(flowsOf(tr.Truth(), ip(BeaconClient), ip(BeaconServer))); n != len(ps) {
		t.Errorf("%d beacon flows for %d attempts", n, len(ps))
	}
}

func TestScenarioIPv6VLANFragments(t *testing.T) {
	tr, _, pkts := loadDay(t)
	var v6tcp, v6udp, first, later int
	vlans := map[uint16]int{}
	for _, d := range pkts {
		if d.ipv6 && d.pkt.Protocol == flow.ProtoTCP {
			v6tcp++
		}
		if d.ipv6 && d.pkt.Protocol == flow.ProtoUDP {
			v6udp++
		}
		if d.pkt.VLAN != 0 {
			vlans[d.pkt.VLAN]++
		}
		if d.fragment && !d.laterFrag {
			first++
		}
		if d.laterFrag {
			later++
		}
	}
	if v6tcp == 0 || v6udp == 0 {
		t.Errorf("IPv6 TCP %d, UDP %d packets", v6tcp, v6udp)
	}
	if len(vlans) != 3 {
		t.Errorf("VLANs %v, want 100, 200, 201", vlans)
	}
	if first == 0 || later < first {
		t.Errorf("%d first and %d later fragments", first, later)
	}
	syslog := flowsOf(tr.Truth(), ip(SyslogClient), ip(SyslogServer))
	if len(syslog) != 2 || syslog[0].VLAN == syslog[1].VLAN {
		t.Errorf("syslog flows %v: want one per VLAN", syslog)
	}
	frag := flowsOf(tr.Truth(), ip(FragmentSrc), ip(FragmentDst))
	frag6 := flowsOf(tr.Truth(), ip(Fragment6Src), ip(Fragment6Dst))
	if len(frag) != 1 || len(frag6) != 1 || frag[0].Packets+frag6[0].Packets != uint64(first+later+3) {
		t.Errorf("fragment flows %v %v: want every fragment (%d+%d) and 3 whole datagrams", frag, frag6, first, later)
	}
	if frag6[0].Protocol != flow.ProtoUDP || frag6[0].SrcPort != FragmentSport {
		t.Errorf("IPv6 fragment flow %v", &frag6[0])
	}
}

func TestTruthSorted(t *testing.T) {
	tr, _, _ := loadDay(t)
	if !slices.IsSortedFunc(tr.Truth(), CompareRecords) {
		t.Fatal("Truth is not sorted")
	}
	for _, r := range tr.Truth() {
		if r.EndReason == flow.EndUnknown || r.Packets == 0 || r.End < r.Start {
			t.Fatalf("bad truth record %v", &r)
		}
	}
}

// TestManySeeds: for many seeds and start times the bookkeeping holds and
// the truth matches the tests' meter (fed the packet summaries directly).
func TestManySeeds(t *testing.T) {
	var names []string
	for _, n := range ScenarioNames() {
		if n != "icmp-scan" {
			names = append(names, n)
		}
	}
	start := time.Date(2025, 6, 15, 12, 34, 56, 789123456, time.UTC)
	for seed := uint64(100); seed < 116; seed++ {
		cfg := Config{Seed: seed, Scenarios: names, Nanosecond: seed%2 == 0}
		if seed%4 == 1 {
			cfg.Start = start
		}
		tr, err := Generate(cfg)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !cfg.Start.IsZero() && tr.Start().Before(start) {
			t.Fatalf("seed %d: first packet %v before the start %v", seed, tr.Start(), start)
		}
		pkts := tr.Packets()
		ds := make([]decoded, len(pkts))
		for i := range pkts {
			ds[i].pkt = pkts[i]
		}
		checkAgainstMeter(t, tr.Truth(), ds)
	}
}
