package detect

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// day0 is 2026-01-01T00:00:00Z in ns.
const day0 = int64(1767225600) * 1e9

func addr(s string) flow.Addr { return flow.AddrFrom(netip.MustParseAddr(s)) }

func sec(s float64) int64 { return int64(s * 1e9) }

// rec builds a one-way record.
func rec(src, dst flow.Addr, sport, dport uint16, proto uint8, start, dur int64, pkts, bytes uint64, flags flow.TCPFlags) flow.Record {
	return flow.Record{Src: src, Dst: dst, SrcPort: sport, DstPort: dport, Protocol: proto,
		Start: start, End: start + dur, Packets: pkts, Bytes: bytes, Flags: flags}
}

// byEnd sorts records the way a meter emits them.
func byEnd(recs []flow.Record) []flow.Record {
	slices.SortStableFunc(recs, func(a, b flow.Record) int {
		switch {
		case a.End < b.End:
			return -1
		case a.End > b.End:
			return 1
		}
		return 0
	})
	return recs
}

// run feeds recs through an engine of the rules and returns the final alerts.
func run(t testing.TB, recs []flow.Record, rules ...Rule) []Alert {
	t.Helper()
	e := NewEngine(rules...)
	e.FinalOnly = true
	if err := e.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	e.Flush()
	return e.Alerts
}

func ofKind(alerts []Alert, k Kind) []Alert {
	var out []Alert
	for _, a := range alerts {
		if a.Kind == k {
			out = append(out, a)
		}
	}
	return out
}

// icmpSweep: scanner pings every host of 10.1.0.0/16 at 100 per second;
// one host in 50 answers.
func icmpSweep() []flow.Record {
	scanner := addr("192.0.2.66")
	var recs []flow.Record
	for i := 0; i < 65536; i++ {
		dst := flow.AddrFromUint32(0x0a010000 + uint32(i))
		t := day0 + int64(i)*1e7
		recs = append(recs, rec(scanner, dst, 0, 8<<8, flow.ProtoICMP, t, 0, 1, 84, 0))
		if i%50 == 0 {
			recs = append(recs, rec(dst, scanner, 0, 0, flow.ProtoICMP, t+sec(0.002), 0, 1, 84, 0))
		}
	}
	return byEnd(recs)
}

// synScan: a SYN scan of ports 1..1000 of one host; closed ports answer
// RST-ACK, the open ones (22, 80, 443) SYN-ACK, which the scanner resets.
func synScan() []flow.Record {
	scanner, victim := addr("203.0.113.9"), addr("10.0.0.20")
	var recs []flow.Record
	for p := uint16(1); p <= 1000; p++ {
		t := day0 + int64(p)*sec(0.003)
		if p == 22 || p == 80 || p == 443 {
			recs = append(recs, rec(scanner, victim, 51515, p, flow.ProtoTCP, t, sec(0.001), 2, 84, flow.SYN|flow.RST))
			recs = append(recs, rec(victim, scanner, p, 51515, flow.ProtoTCP, t+sec(0.0005), 0, 1, 44, flow.SYN|flow.ACK))
			continue
		}
		recs = append(recs, rec(scanner, victim, 51515, p, flow.ProtoTCP, t, 0, 1, 44, flow.SYN))
		recs = append(recs, rec(victim, scanner, p, 51515, flow.ProtoTCP, t+sec(0.0005), 0, 1, 40, flow.RST|flow.ACK))
	}
	return byEnd(recs)
}

// tcpSession appends both directions of a complete TCP connection.
func tcpSession(recs []flow.Record, c, s flow.Addr, cport, sport uint16, start, dur int64, pkts uint64) []flow.Record {
	recs = append(recs, rec(c, s, cport, sport, flow.ProtoTCP, start, dur, pkts, pkts*300, flow.FIN|flow.SYN|flow.PSH|flow.ACK))
	return append(recs, rec(s, c, sport, cport, flow.ProtoTCP, start+sec(0.02), dur-sec(0.02), pkts, pkts*900, flow.FIN|flow.SYN|flow.PSH|flow.ACK))
}

// busyServer: 3000 clients use one web server for an hour; a few of their
// connections are refused.
func busyServer() []flow.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	server := addr("10.0.0.80")
	var recs []flow.Record
	for i := 0; i < 3000; i++ {
		c := flow.AddrFromUint32(0xc6336400 + uint32(i)) // 198.51.100.0 onwards
		for j := 0; j < 1+rng.IntN(4); j++ {
			t := day0 + rng.Int64N(sec(3600))
			port := uint16(32768 + rng.IntN(28000))
			if rng.IntN(100) == 0 {
				recs = append(recs, rec(c, server, port, 443, flow.ProtoTCP, t, 0, 1, 60, flow.SYN))
				recs = append(recs, rec(server, c, 443, port, flow.ProtoTCP, t+sec(0.001), 0, 1, 40, flow.RST|flow.ACK))
				continue
			}
			recs = tcpSession(recs, c, server, port, 443, t, sec(0.5+rng.Float64()*20), uint64(5+rng.IntN(40)))
		}
	}
	return byEnd(recs)
}

// browsing: a person reads the web for 8 hours: a page about a minute
// apart (irregular: 20 s to 2.5 min), each from one of 40 sites (a
// favourite one often), each page opening 1 to 6 connections within a
// second, plus DNS lookups.
func browsing(seed uint64) []flow.Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	client := addr("10.0.0.55")
	dns := addr("10.0.0.53")
	var recs []flow.Record
	t := day0
	for t < day0+sec(8*3600) {
		site := rng.IntN(40)
		if rng.IntN(3) == 0 {
			site = 0
		}
		server := flow.AddrFromUint32(0x5db8d800 + uint32(site)*7) // 93.184.216.x
		qport := uint16(40000 + rng.IntN(20000))
		recs = append(recs, rec(client, dns, qport, 53, flow.ProtoUDP, t, sec(0.01), 1, 70, 0))
		recs = append(recs, rec(dns, client, 53, qport, flow.ProtoUDP, t+sec(0.005), 0, 1, 120, 0))
		for c := 0; c < 1+rng.IntN(6); c++ {
			cs := t + sec(0.05+rng.Float64()*0.9)
			recs = tcpSession(recs, client, server, uint16(32768+rng.IntN(28000)), 443, cs, sec(1+rng.Float64()*30), uint64(6+rng.IntN(60)))
		}
		t += sec(20 + rng.Float64()*130)
	}
	return byEnd(recs)
}

// burstBeacon: 3 tries 60 s apart, then 30 min rest, for 24 h, every start
// jittered by up to ±2 s.
func burstBeacon(seed uint64) []flow.Record {
	rng := rand.New(rand.NewPCG(seed, 9))
	implant, c2 := addr("10.0.0.66"), addr("198.51.100.200")
	var recs []flow.Record
	for cycle := day0; cycle < day0+sec(24*3600); cycle += sec(60 + 60 + 1800) {
		for try := 0; try < 3; try++ {
			t := cycle + int64(try)*sec(60) + sec(rng.Float64()*4-2)
			recs = tcpSession(recs, implant, c2, uint16(32768+rng.IntN(28000)), 443, t, sec(0.3), 8)
		}
	}
	return byEnd(recs)
}

// dur is a readable check helper.
func near(d, want, tol time.Duration) bool { return d >= want-tol && d <= want+tol }
