package flow

import (
	"testing"
	"time"

	"github.com/flowkit/flowkit/timeouts"
)

// FuzzTableMatchesReference meters traffic that the fuzzer writes (a
// configuration, then packets of a few hosts and ports with TCP flags and
// gaps around the timeouts) with the table and with the reference
// implementation of the contract, and wants the same records: every
// timeout, closing and eviction path, with slots ending and being reused
// in any order.
func FuzzTableMatchesReference(f *testing.F) {
	f.Add([]byte{3, 9, 2, 0, 0, 1, 0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9})
	f.Add([]byte{1, 2, 1, 4, 1, 2, 0x01, 0xf2, 0x13, 0x04, 0xe5, 0x16, 0x07, 0xd8, 0x19, 0x0a, 0x1b, 0xcc})
	f.Add([]byte{0, 0, 0, 1, 1, 3, 0xff, 0x00, 0x7f, 0x80, 0x01, 0xfe})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 6 {
			return
		}
		cfg := timeouts.Config{
			Idle:   time.Duration(1+data[0]%8) * time.Second,
			Active: time.Duration(1+data[1]%16) * time.Second,
			Grace:  time.Duration(data[2]%4) * time.Second,
		}
		cfg.MaxFlows = int(data[3] % 6) // 0: no cap
		biflow := data[4]&1 != 0
		workers := 1 + int(data[5]%3)
		pkts := fuzzTraffic(data[6:])
		if len(pkts) == 0 {
			return
		}
		want := referenceMeter(pkts, cfg, biflow, 3)
		SortRecords(want)
		for _, from := range []int{defaultLookAheadFlows, 0} { // the second looks ahead (see pipeline)
			lookAhead(t, from)
			got := meterBatches(t, TableConfig{Timeouts: cfg, Biflow: biflow, Workers: workers, Sensor: 3}, pkts,
				func(rest int) int { return 1 + rest%7 })
			if d := diffRecords(got, want); d != "" {
				t.Fatalf("%v biflow=%v workers=%d, %d packets, looking ahead from %d flows: %s", cfg, biflow, workers, len(pkts), from, d)
			}
		}
	})
}

// fuzzTraffic turns each pair of bytes into a packet: the first chooses
// the gap since the previous packet (mostly short, sometimes across the
// timeouts) and the protocol and flags, the second the hosts and ports
// (two of each, so keys repeat and meet in both directions). Times
// strictly increase, so the least recently seen flow is unique, as the
// reference requires.
func fuzzTraffic(data []byte) []Packet {
	pkts := make([]Packet, 0, len(data)/2)
	at := t0
	for ; len(data) >= 2; data = data[2:] {
		a, b := data[0], data[1]
		switch a & 3 {
		case 0, 1:
			at += int64(a>>2&7+1) * sec / 8
		case 2:
			at += int64(a>>2&7+1) * sec
		default:
			at += int64(a>>2&7+1) * 3 * sec
		}
		p := Packet{Time: at, Src: AddrFromUint32(0x0a000000 + uint32(b&1)), Dst: AddrFromUint32(0x0a000000 + uint32(b>>1&1)),
			SrcPort: uint16(b >> 2 & 1), DstPort: uint16(b >> 3 & 1), Length: uint32(40 + b)}
		if b>>4&1 != 0 {
			p.Protocol = ProtoUDP
		} else {
			p.Protocol = ProtoTCP
			p.Flags = [8]TCPFlags{ACK, ACK, ACK | FIN, RST, SYN, SYN | ACK, ACK | PSH, FIN}[a>>5]
		}
		pkts = append(pkts, p)
	}
	return pkts
}
