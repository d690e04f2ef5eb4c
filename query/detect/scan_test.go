package detect

import (
	"math/rand/v2"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

func TestScanICMPSweep(t *testing.T) {
	alerts := ofKind(run(t, icmpSweep(), NewScanDetector(ScanConfig{})), KindScan)
	if len(alerts) != 1 {
		t.Fatalf("want one scanner, got %v", alerts)
	}
	s := alerts[0].Detail.(*Scan)
	t.Log(alerts[0])
	if s.Scanner.String() != "192.0.2.66" || s.Protocol != flow.ProtoICMP || s.Targets != 65536 || s.Hosts != 65536 ||
		s.Shape != "horizontal" || s.Method != MethodSweep {
		t.Fatalf("scan: %+v", s)
	}
	if s.Answered != 1311 || s.Unanswered != 65536-1311 {
		t.Fatalf("answered %d unanswered %d", s.Answered, s.Unanswered)
	}
	if got := s.End.Sub(s.Start).Seconds(); got < 655 || got > 656 {
		t.Fatalf("span %v", got)
	}
}

func TestScanSYNPorts(t *testing.T) {
	alerts := ofKind(run(t, synScan(), NewScanDetector(ScanConfig{})), KindScan)
	if len(alerts) != 1 {
		t.Fatalf("want one scanner, got %v", alerts)
	}
	s := alerts[0].Detail.(*Scan)
	t.Log(alerts[0])
	if s.Scanner.String() != "203.0.113.9" || s.Protocol != flow.ProtoTCP || s.Targets != 1000 || s.Hosts != 1 ||
		s.Ports != 1000 || s.Shape != "vertical" || s.Method&MethodTRW == 0 {
		t.Fatalf("scan: %+v", s)
	}
	// The half-open probes of the open ports are failures too.
	if s.Answered != 0 || s.Unanswered != 1000 {
		t.Fatalf("answered %d unanswered %d", s.Answered, s.Unanswered)
	}
}

// TestScanSYNPortsBiflow feeds the same scan as biflows: no pairing needed.
func TestScanSYNPortsBiflow(t *testing.T) {
	uni := synScan()
	var bi []flow.Record
	p := newPairer(int64(30e9), 0)
	for i := range uni {
		p.push(&uni[i], func(r *flow.Record) { bi = append(bi, *r) })
	}
	p.drain(func(r *flow.Record) { bi = append(bi, *r) })
	if len(bi) != 1000 {
		t.Fatalf("pairing gave %d biflows, want 1000", len(bi))
	}
	alerts := ofKind(run(t, bi, NewScanDetector(ScanConfig{PairWindow: -1})), KindScan)
	if len(alerts) != 1 || alerts[0].Detail.(*Scan).Targets != 1000 {
		t.Fatalf("alerts %v", alerts)
	}
}

func TestScanStealthProbes(t *testing.T) {
	// nmap -sN/-sF/-sX against 5 ports: closed ports answer RST.
	scanner, victim := addr("192.168.1.178"), addr("192.168.1.2")
	var recs []flow.Record
	for i, f := range []flow.TCPFlags{0, flow.FIN, flow.FIN | flow.PSH | flow.URG, 0, flow.FIN} {
		t := day0 + int64(i)*1e6
		recs = append(recs, rec(scanner, victim, 62971, uint16(3389+i), flow.ProtoTCP, t, 0, 1, 40, f))
		recs = append(recs, rec(victim, scanner, uint16(3389+i), 62971, flow.ProtoTCP, t+1e5, 0, 1, 40, flow.RST|flow.ACK))
	}
	alerts := ofKind(run(t, byEnd(recs), NewScanDetector(ScanConfig{})), KindScan)
	if len(alerts) != 1 || alerts[0].Detail.(*Scan).Method&MethodStealth == 0 {
		t.Fatalf("alerts %v", alerts)
	}
}

func TestScanNotBusyServer(t *testing.T) {
	recs := busyServer()
	if alerts := run(t, recs, NewScanDetector(ScanConfig{})); len(alerts) != 0 {
		t.Fatalf("a busy server and its clients flagged: %v", alerts)
	}
	// Without pairing (as if every record were a biflow that saw no
	// answer) the server's replies must still not count as contacts.
	if alerts := run(t, recs, NewScanDetector(ScanConfig{PairWindow: -1})); len(ofKind(alerts, KindScan)) != 0 {
		for _, a := range alerts {
			if a.Key == "10.0.0.80" {
				t.Fatalf("server flagged: %v", a)
			}
		}
	}
}

func TestScanNotBrowsing(t *testing.T) {
	if alerts := run(t, browsing(3), NewScanDetector(ScanConfig{})); len(alerts) != 0 {
		t.Fatalf("browsing flagged: %v", alerts)
	}
}

// TestScanEarlyAlert checks that a live stream hears about a scanner
// before the scan ends.
func TestScanEarlyAlert(t *testing.T) {
	recs := synScan()
	e := NewEngine(NewScanDetector(ScanConfig{}))
	var early []Alert
	e.OnAlert = func(a Alert) {
		if !a.Final {
			early = append(early, a)
		}
	}
	_ = e.WriteBatch(recs[:40])
	if len(early) != 1 || early[0].Detail.(*Scan).Targets > 20 {
		t.Fatalf("no early alert after 20 probes: %v", early)
	}
}

func TestClassify(t *testing.T) {
	a, b := addr("10.0.0.1"), addr("10.0.0.2")
	for _, c := range []struct {
		name string
		r    flow.Record
		want outcome
	}{
		{"syn only", rec(a, b, 1000, 80, flow.ProtoTCP, 0, 0, 2, 88, flow.SYN), failure},
		{"full one-way", rec(a, b, 1000, 80, flow.ProtoTCP, 0, 1e9, 9, 900, flow.SYN|flow.ACK|flow.PSH|flow.FIN), success},
		{"mid-stream", rec(a, b, 1000, 80, flow.ProtoTCP, 0, 1e9, 9, 900, flow.ACK|flow.PSH), notContact},
		{"null probe", rec(a, b, 1000, 80, flow.ProtoTCP, 0, 0, 1, 40, 0), stealth},
		{"xmas probe", rec(a, b, 1000, 80, flow.ProtoTCP, 0, 0, 1, 40, flow.FIN|flow.PSH|flow.URG), stealth},
		{"rst reply", rec(a, b, 80, 1000, flow.ProtoTCP, 0, 0, 1, 40, flow.RST|flow.ACK), notContact},
		{"udp unanswered", rec(a, b, 1000, 161, flow.ProtoUDP, 0, 0, 1, 40, 0), failure},
		{"udp service reply", rec(a, b, 53, 40000, flow.ProtoUDP, 0, 0, 1, 40, 0), notContact},
		{"echo request", rec(a, b, 0, 8<<8, flow.ProtoICMP, 0, 0, 1, 84, 0), failure},
		{"echo reply", rec(a, b, 0, 0, flow.ProtoICMP, 0, 0, 1, 84, 0), notContact},
		{"unreachable", rec(a, b, 0, 3<<8|3, flow.ProtoICMP, 0, 0, 1, 84, 0), notContact},
	} {
		if got := classify(&c.r); got != c.want {
			t.Errorf("%s: got %d want %d", c.name, got, c.want)
		}
	}
	r := rec(a, b, 1000, 80, flow.ProtoTCP, 0, 0, 1, 44, flow.SYN)
	r.RevPackets, r.RevFlags = 1, flow.SYN|flow.ACK
	if classify(&r) != success {
		t.Error("answered SYN")
	}
	r.RevFlags = flow.RST | flow.ACK
	if classify(&r) != failure {
		t.Error("refused SYN")
	}
}

// TestScanPeerToPeerLeftOut: a peer-to-peer client reaches 300 peers,
// each on its own port, and fewer than half answer. TRW fires, but the
// scattered targets mark it as a P2P client, reported only on request.
func TestScanPeerToPeerLeftOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	client := addr("10.0.2.15")
	var recs []flow.Record
	for i := 0; i < 300; i++ {
		peer := flow.AddrFromUint32(0x50000000 + uint32(rng.IntN(1<<24)))
		port := uint16(1024 + rng.IntN(60000))
		start := day0 + int64(i)*sec(0.7)
		if rng.IntN(100) < 45 {
			recs = tcpSession(recs, client, peer, uint16(40000+i), port, start, sec(5), 20)
		} else {
			recs = append(recs, rec(client, peer, uint16(40000+i), port, flow.ProtoTCP, start, sec(3), 2, 120, flow.SYN))
		}
	}
	byEnd(recs)
	if alerts := run(t, recs, NewScanDetector(ScanConfig{})); len(alerts) != 0 {
		t.Fatalf("P2P client reported: %v", alerts)
	}
	alerts := run(t, recs, NewScanDetector(ScanConfig{KeepScattered: true}))
	if len(alerts) != 1 || alerts[0].Detail.(*Scan).Shape != "scattered" || alerts[0].Detail.(*Scan).Method&MethodTRW == 0 {
		t.Fatalf("with KeepScattered: %v", alerts)
	}
}

// TestScanSweepRateAndDensity: a slow walk of a /24 (one UDP probe a
// minute) is a sweep; a client whose 300 scattered DNS servers never
// answer over a day (one-way data) is not.
func TestScanSweepRateAndDensity(t *testing.T) {
	var recs []flow.Record
	walker := addr("10.0.0.99")
	for i := 1; i < 255; i++ {
		recs = append(recs, rec(walker, flow.AddrFromUint32(0xc0a80a00+uint32(i)), 5353, 161, flow.ProtoUDP, day0+int64(i)*sec(60), 0, 1, 60, 0))
	}
	rng := rand.New(rand.NewPCG(9, 9))
	client := addr("10.0.0.98")
	for i := 0; i < 300; i++ {
		srv := flow.AddrFromUint32(0x08000000 + uint32(rng.IntN(1<<26)))
		recs = append(recs, rec(client, srv, uint16(30000+i), 53, flow.ProtoUDP, day0+int64(i)*sec(280), sec(0.01), 1, 70, 0))
	}
	alerts := run(t, byEnd(recs), NewScanDetector(ScanConfig{}))
	if len(alerts) != 1 || alerts[0].Key != "10.0.0.99" || alerts[0].Detail.(*Scan).Method != MethodSweep {
		t.Fatalf("alerts %v", alerts)
	}
}
