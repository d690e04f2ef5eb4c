package query

import (
	"math"
	"math/rand/v2"
	"net/netip"

	"github.com/flowkit/flowkit/flow"
)

// day0 is 2026-01-01T00:00:00Z in ns.
const day0 = int64(1767225600) * 1e9

// randomRecords makes n varied records: IPv4 and IPv6, ports and counters
// at their limits, flows from instants to hours long, every protocol kind.
func randomRecords(seed uint64, n int) []flow.Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	pick := func(vals ...uint64) uint64 { return vals[rng.IntN(len(vals))] }
	recs := make([]flow.Record, n)
	for i := range recs {
		r := &recs[i]
		r.Src = randAddr(rng)
		r.Dst = randAddr(rng)
		if rng.IntN(4) == 0 {
			r.NextHop = randAddr(rng)
		}
		r.Protocol = uint8(pick(6, 6, 6, 17, 17, 1, 58, 132, 0, 255))
		if r.Protocol == 1 || r.Protocol == 58 {
			r.DstPort = uint16(rng.IntN(20))<<8 | uint16(rng.IntN(4))
		} else {
			r.SrcPort = uint16(pick(0, 22, 53, 80, 443, 65535, uint64(rng.IntN(65536))))
			r.DstPort = uint16(pick(0, 22, 53, 80, 443, 65535, uint64(rng.IntN(65536))))
		}
		r.Packets = pick(0, 1, 2, 10, uint64(rng.IntN(100000)), math.MaxUint64)
		r.Bytes = pick(0, 40, 1500, 999999, 1000000, uint64(rng.Int64N(1e10)), math.MaxUint64)
		r.Start = day0 + rng.Int64N(86400e9)
		r.End = r.Start + int64(pick(0, 1, 1e9, uint64(rng.Int64N(7200e9))))
		if r.Protocol == 6 {
			r.InitialFlags = flow.TCPFlags(rng.IntN(256))
			r.SessionFlags = flow.TCPFlags(rng.IntN(256))
			r.Flags = r.InitialFlags | r.SessionFlags
		}
		r.Sensor = uint16(rng.IntN(4))
		r.Type = flow.FlowType(rng.IntN(5))
		r.Application = uint16(pick(0, 80, 443, 53))
		r.VLAN = uint16(pick(0, 0, 10, 4095))
		r.EndReason = flow.EndReason(rng.IntN(6))
		r.Input, r.Output = uint32(rng.IntN(3)), uint32(pick(0, math.MaxUint32))
		r.SrcAS, r.DstAS = uint32(rng.IntN(3)), uint32(rng.IntN(70000))
		if rng.IntN(3) == 0 {
			r.RevPackets, r.RevBytes = uint64(rng.IntN(100)+1), uint64(rng.IntN(100000))
			r.RevFlags = flow.TCPFlags(rng.IntN(256))
		}
	}
	return recs
}

// randAddr draws mostly from a few small networks, so that host and net
// tests find matches.
func randAddr(rng *rand.Rand) flow.Addr {
	switch rng.IntN(8) {
	case 0, 1, 2:
		return flow.AddrFromUint32(0x0a000000 | uint32(rng.IntN(1024))) // 10.0.0.0/22
	case 3:
		return flow.AddrFromUint32(rng.Uint32())
	case 4:
		return flow.AddrFromUint32(uint32(rng.IntN(2)) * 0xffffffff) // 0.0.0.0, 255.255.255.255
	case 5:
		a := netip.MustParseAddr("2001:db8::").As16()
		a[15] = byte(rng.IntN(16))
		a[7] = byte(rng.IntN(2))
		return flow.Addr(a)
	case 6:
		var a flow.Addr
		for i := range a {
			a[i] = byte(rng.Uint32())
		}
		return a
	}
	return flow.Addr{} // ::
}
