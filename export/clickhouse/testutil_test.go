package clickhouse

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
)

// randomRecords makes n flows with every field set to random values:
// IPv4 and IPv6 addresses, biflows with reverse counters and flags,
// spread over three days (so over three partitions). Start times are
// distinct, so that records sort into one order.
func randomRecords(seed uint64, n int) []flow.Record {
	rng := rand.New(rand.NewPCG(seed, 1))
	base := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC).UnixNano()
	addr := func() flow.Addr {
		if rng.IntN(3) == 0 {
			var b [16]byte
			b[0], b[1] = 0x20, 0x01
			for i := 2; i < 16; i++ {
				b[i] = byte(rng.Uint32())
			}
			return flow.Addr(b)
		}
		// IPv4 from a few hundred hosts, so that group-bys have weight.
		return flow.AddrFrom(netip.AddrFrom4([4]byte{10, byte(rng.IntN(4)), byte(rng.IntN(8)), byte(rng.IntN(32))}))
	}
	recs := make([]flow.Record, n)
	for i := range recs {
		r := &recs[i]
		r.Start = base + int64(i)*int64(72*time.Hour)/int64(n) + rng.Int64N(1000)
		r.End = r.Start + rng.Int64N(int64(time.Hour))
		r.Src, r.Dst = addr(), addr()
		if rng.IntN(2) == 0 {
			r.NextHop = addr()
		}
		r.Packets = 1 + rng.Uint64N(1e6)
		r.Bytes = r.Packets * (40 + rng.Uint64N(1460))
		if rng.IntN(2) == 0 {
			r.RevPackets = 1 + rng.Uint64N(1e6)
			r.RevBytes = r.RevPackets * (40 + rng.Uint64N(1460))
			r.RevStartOffset = time.Duration(rng.Int64N(int64(time.Second)))
			r.RevFlags = flow.TCPFlags(rng.Uint32())
			r.RevInitialFlags = flow.TCPFlags(rng.Uint32())
			r.RevSessionFlags = flow.TCPFlags(rng.Uint32())
		}
		r.Input, r.Output = rng.Uint32(), rng.Uint32()
		r.SrcAS, r.DstAS = rng.Uint32(), rng.Uint32()
		r.Protocol = []uint8{6, 6, 6, 17, 17, 1, 58, 132}[rng.IntN(8)]
		r.SrcPort, r.DstPort = uint16(rng.Uint32()), []uint16{22, 53, 80, 443, uint16(rng.Uint32())}[rng.IntN(5)]
		r.Sensor, r.VLAN, r.Application = uint16(rng.IntN(4)), uint16(rng.IntN(4096)), uint16(rng.Uint32())
		r.Flags, r.InitialFlags, r.SessionFlags = flow.TCPFlags(rng.Uint32()), flow.TCPFlags(rng.Uint32()), flow.TCPFlags(rng.Uint32())
		r.EndReason, r.Type = flow.EndReason(rng.IntN(5)), flow.FlowType(rng.IntN(4))
	}
	return recs
}

// synthRecords is the ground truth of flowkit's synthetic day of traffic
// (SMTP, scans, web, downloads, VPN, SSH, IPv6, VLANs...).
func synthRecords(t testing.TB) []flow.Record {
	t.Helper()
	tr, err := synth.Generate(synth.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Truth()
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// sums are the totals the tests compare.
type sums struct{ Flows, Packets, Bytes, RevPackets, RevBytes uint64 }

func sumOf(recs []flow.Record) sums {
	var s sums
	for i := range recs {
		s.Flows++
		s.Packets += recs[i].Packets
		s.Bytes += recs[i].Bytes
		s.RevPackets += recs[i].RevPackets
		s.RevBytes += recs[i].RevBytes
	}
	return s
}

func tableSums(t testing.TB, s *server, table string) sums {
	t.Helper()
	var out sums
	err := s.conn().QueryRow(testCtx(t), "SELECT count(), sum(packets), sum(bytes), sum(rev_packets), sum(rev_bytes) FROM "+table).
		Scan(&out.Flows, &out.Packets, &out.Bytes, &out.RevPackets, &out.RevBytes)
	if err != nil {
		t.Fatalf("sums of %s at %s: %v", table, s.addr(), err)
	}
	return out
}

// benchRecords makes n flows shaped like a campus border's: clients in
// 10.0.0.0/16 talking to a few thousand servers on well-known ports, a
// few sensors, interfaces and AS numbers, start times rising over an hour.
func benchRecords(n int) []flow.Record {
	rng := rand.New(rand.NewPCG(9, 9))
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	ports := []uint16{443, 443, 443, 80, 53, 22, 123, 993, 8080, 3389}
	recs := make([]flow.Record, n)
	for i := range recs {
		r := &recs[i]
		r.Start = base + int64(i)*int64(time.Hour)/int64(n)
		r.End = r.Start + rng.Int64N(int64(2*time.Minute))
		r.Src = flow.AddrFromUint32(0x0a000000 | rng.Uint32N(1<<16))
		r.Dst = flow.AddrFromUint32(0xc0000000 | rng.Uint32N(4000)*7919)
		r.SrcPort = uint16(32768 + rng.IntN(28000))
		r.DstPort = ports[rng.IntN(len(ports))]
		r.Protocol = flow.ProtoTCP
		if r.DstPort == 53 || r.DstPort == 123 {
			r.Protocol = flow.ProtoUDP
		}
		r.Packets = 1 + rng.Uint64N(200)
		r.Bytes = r.Packets * (40 + rng.Uint64N(1400))
		r.RevPackets = r.Packets + rng.Uint64N(100)
		r.RevBytes = r.RevPackets * (40 + rng.Uint64N(1400))
		r.RevStartOffset = time.Duration(rng.Int64N(int64(50 * time.Millisecond)))
		r.Input, r.Output = 1+rng.Uint32N(4), 5+rng.Uint32N(4)
		r.DstAS = []uint32{15169, 16509, 8075, 13335, 32934}[rng.IntN(5)]
		r.SrcAS = 64512
		r.Sensor = uint16(rng.IntN(3))
		if r.Protocol == flow.ProtoTCP {
			r.Flags, r.InitialFlags, r.SessionFlags = 0x1b, 0x02, 0x19
			r.RevFlags, r.RevInitialFlags, r.RevSessionFlags = 0x1b, 0x12, 0x19
		}
		r.EndReason, r.Type = flow.EndReason(1+rng.IntN(2)), flow.FlowType(rng.IntN(2))
	}
	return recs
}
