package flow

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowkit/flowkit/timeouts"
)

const sec = int64(time.Second)

var (
	hostA = AddrFromUint32(0x0a000001)
	hostB = AddrFromUint32(0x0a000002)
	t0    = int64(1767225600) * sec // 2026-01-01
)

func tcp(at int64, src, dst Addr, sport, dport uint16, flags TCPFlags, length uint32) Packet {
	return Packet{Time: at, Src: src, Dst: dst, SrcPort: sport, DstPort: dport, Protocol: ProtoTCP, Flags: flags, Length: length}
}

// meter runs pkts through a new table and returns the records sorted as
// the meter command prints them.
func meter(t testing.TB, cfg TableConfig, pkts []Packet) []Record {
	t.Helper()
	// Feed in uneven batches so batch boundaries are exercised.
	return meterBatches(t, cfg, pkts, func(rest int) int { return 1 + rest%7 })
}

// meterBatches is meter with the batch sizes that size returns for the
// number of packets left.
func meterBatches(t testing.TB, cfg TableConfig, pkts []Packet, size func(rest int) int) []Record {
	t.Helper()
	var sink SliceSink
	cfg.Sink = &sink
	tab, err := NewTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for len(pkts) > 0 {
		n := min(len(pkts), size(len(pkts)))
		if err := tab.Add(pkts[:n]); err != nil {
			t.Fatal(err)
		}
		pkts = pkts[n:]
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	SortRecords(sink.Recs)
	return sink.Recs
}

func uni() TableConfig { return TableConfig{Timeouts: timeouts.Default()} }

func TestTableTCPHandshakeGivesTwoFlows(t *testing.T) {
	ms := int64(time.Millisecond)
	pkts := []Packet{
		tcp(t0, hostA, hostB, 40000, 80, SYN, 60),
		tcp(t0+1*ms, hostB, hostA, 80, 40000, SYN|ACK, 60),
		tcp(t0+2*ms, hostA, hostB, 40000, 80, ACK, 52),
		tcp(t0+3*ms, hostA, hostB, 40000, 80, PSH|ACK, 152),
		tcp(t0+4*ms, hostB, hostA, 80, 40000, PSH|ACK, 1052),
		tcp(t0+5*ms, hostA, hostB, 40000, 80, FIN|ACK, 52),
		tcp(t0+6*ms, hostB, hostA, 80, 40000, FIN|ACK, 52),
		tcp(t0+7*ms, hostA, hostB, 40000, 80, ACK, 52),
		// A later packet moves the clock past the grace period.
		{Time: t0 + 10*sec, Src: hostA, Dst: hostB, SrcPort: 53, DstPort: 53, Protocol: ProtoUDP, Length: 80},
	}
	recs := meter(t, uni(), pkts)
	if len(recs) != 3 {
		t.Fatalf("got %d records: %v", len(recs), recs)
	}
	fwd, back := recs[0], recs[1]
	if fwd.Src != hostA || fwd.Packets != 5 || fwd.Bytes != 368 || fwd.InitialFlags != SYN ||
		fwd.SessionFlags != FIN|PSH|ACK || fwd.Flags != FIN|SYN|PSH|ACK || fwd.EndReason != EndOfFlow ||
		fwd.Start != t0 || fwd.End != t0+7*ms {
		t.Errorf("forward flow: %+v", fwd)
	}
	if back.Src != hostB || back.Packets != 3 || back.Bytes != 1164 || back.InitialFlags != SYN|ACK ||
		back.SessionFlags != FIN|PSH|ACK || back.EndReason != EndOfFlow || back.End != t0+6*ms {
		t.Errorf("reverse flow: %+v", back)
	}
	if recs[2].EndReason != EndForced || recs[2].Protocol != ProtoUDP {
		t.Errorf("udp flow: %+v", recs[2])
	}
}

func TestTableBiflowHandshake(t *testing.T) {
	ms := int64(time.Millisecond)
	pkts := []Packet{
		tcp(t0, hostA, hostB, 40000, 80, SYN, 60),
		tcp(t0+1*ms, hostB, hostA, 80, 40000, SYN|ACK, 60),
		tcp(t0+2*ms, hostA, hostB, 40000, 80, ACK, 52),
		tcp(t0+5*ms, hostA, hostB, 40000, 80, FIN|ACK, 52),
		tcp(t0+6*ms, hostB, hostA, 80, 40000, FIN|ACK, 52),
		tcp(t0+7*ms, hostA, hostB, 40000, 80, ACK, 52),
		tcp(t0+20*sec, hostA, hostB, 40000, 80, SYN, 60), // port reuse after grace: a new flow
	}
	cfg := uni()
	cfg.Biflow = true
	recs := meter(t, cfg, pkts)
	if len(recs) != 2 {
		t.Fatalf("got %d records: %v", len(recs), recs)
	}
	r := recs[0]
	if r.Packets != 4 || r.Bytes != 216 || r.RevPackets != 2 || r.RevBytes != 112 || r.InitialFlags != SYN ||
		r.RevInitialFlags != SYN|ACK || r.RevSessionFlags != FIN|ACK || r.RevStartOffset != time.Millisecond ||
		r.End != t0+7*ms || r.EndReason != EndOfFlow {
		t.Errorf("biflow: %+v", r)
	}
	if recs[1].Packets != 1 || recs[1].Start != t0+20*sec || recs[1].EndReason != EndForced || recs[1].IsBiflow() {
		t.Errorf("second session: %+v", recs[1])
	}
}

func TestTableActiveTimeoutRollsOver(t *testing.T) {
	var pkts []Packet
	for s := int64(0); s <= 4000; s += 10 { // a 4000 s session, a packet every 10 s
		pkts = append(pkts, tcp(t0+s*sec, hostA, hostB, 50022, 22, ACK, 100))
	}
	recs := meter(t, uni(), pkts)
	if len(recs) != 3 {
		t.Fatalf("got %d records", len(recs))
	}
	want := []struct {
		start, end int64
		pkts       uint64
		r          EndReason
	}{{0, 1790, 180, EndActiveTimeout}, {1800, 3590, 180, EndActiveTimeout}, {3600, 4000, 41, EndForced}}
	for i, w := range want {
		r := recs[i]
		if r.Start != t0+w.start*sec || r.End != t0+w.end*sec || r.Packets != w.pkts || r.EndReason != w.r {
			t.Errorf("record %d: %s, want %+v", i, r.String(), w)
		}
	}
}

func TestTableIdleSplitsAndBoundaries(t *testing.T) {
	u := func(at int64) Packet {
		return Packet{Time: t0 + at, Src: hostA, Dst: hostB, SrcPort: 500, DstPort: 500, Protocol: ProtoUDP, Length: 100}
	}
	// Exactly Idle later joins; Idle+1ns later starts a new flow.
	recs := meter(t, uni(), []Packet{u(0), u(300 * sec), u(600*sec + 1)})
	if len(recs) != 2 || recs[0].Packets != 2 || recs[0].EndReason != EndIdleTimeout || recs[1].Packets != 1 {
		t.Fatalf("idle split: %v", recs)
	}
}

func TestTableLateRSTIsItsOwnFlow(t *testing.T) {
	pkts := []Packet{
		tcp(t0, hostA, hostB, 40001, 25, SYN, 60),
		tcp(t0+1*sec, hostB, hostA, 25, 40001, RST|ACK, 40),
		tcp(t0+3*sec, hostA, hostB, 40001, 25, RST, 40),  // within grace: joins
		tcp(t0+60*sec, hostA, hostB, 40001, 25, RST, 40), // long after: its own flow
	}
	recs := meter(t, uni(), pkts)
	if len(recs) != 3 {
		t.Fatalf("got %v", recs)
	}
	if recs[0].Packets != 2 || recs[0].Flags != SYN|RST || recs[0].EndReason != EndOfFlow {
		t.Errorf("first: %v", recs[0].String())
	}
	if recs[1].Src != hostB || recs[1].EndReason != EndOfFlow {
		t.Errorf("reverse: %v", recs[1].String())
	}
	if r := recs[2]; r.Packets != 1 || r.InitialFlags != RST || r.Flags != RST || r.SessionFlags != 0 || r.EndReason != EndForced {
		t.Errorf("late RST: %v", r.String())
	}
}

func TestTableMaxFlowsEvictsLeastRecentlySeen(t *testing.T) {
	cfg := uni()
	cfg.Timeouts.MaxFlows = 2
	cfg.Workers = 4 // a capped table runs on one worker
	u := func(at int64, port uint16) Packet {
		return Packet{Time: t0 + at*sec, Src: hostA, Dst: hostB, SrcPort: port, DstPort: 53, Protocol: ProtoUDP, Length: 70}
	}
	var sink SliceSink
	cfg.Sink = &sink
	tab, err := NewTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Add([]Packet{u(1, 1), u(2, 2), u(3, 1), u(4, 3)}); err != nil {
		t.Fatal(err)
	}
	st := tab.Stats()
	if st.ActiveFlows != 2 || st.Evictions() != 1 || st.Packets != 4 {
		t.Fatalf("stats %+v", st)
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	if len(sink.Recs) != 3 || sink.Recs[0].SrcPort != 2 || sink.Recs[0].EndReason != EndLackOfResources {
		t.Fatalf("records %v", sink.Recs)
	}
	if err := tab.Add([]Packet{u(5, 1)}); err != ErrTableClosed {
		t.Fatalf("Add after Close: %v", err)
	}
}

func TestTableAdvanceEndsQuietFlows(t *testing.T) {
	var sink SliceSink
	cfg := uni()
	cfg.Sink = &sink
	cfg.Workers = 2
	tab, err := NewTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close()
	if err := tab.Add([]Packet{tcp(t0, hostA, hostB, 1, 2, SYN, 60)}); err != nil {
		t.Fatal(err)
	}
	if err := tab.Advance(t0 + 300*sec); err != nil || len(sink.Recs) != 0 {
		t.Fatalf("ended too early: %v %v", err, sink.Recs)
	}
	if err := tab.Advance(t0 + 301*sec); err != nil || len(sink.Recs) != 1 || sink.Recs[0].EndReason != EndIdleTimeout {
		t.Fatalf("after idle: %v %v", err, sink.Recs)
	}
	if tab.Clock() != t0+301*sec {
		t.Fatal("clock")
	}
}

func TestTableConfigErrors(t *testing.T) {
	if _, err := NewTable(TableConfig{Timeouts: timeouts.Default()}); err == nil {
		t.Error("nil sink accepted")
	}
	if _, err := NewTable(TableConfig{Sink: &SliceSink{}}); err == nil {
		t.Error("zero timeouts accepted")
	}
	if _, err := NewTable(TableConfig{Timeouts: timeouts.Default(), Sink: &SliceSink{}, Workers: -1}); err == nil {
		t.Error("negative workers accepted")
	}
}

// TestTableMatchesReference meters random traffic (many hosts and ports,
// TCP flags, reused keys, time gaps around every timeout) with the table
// and with a naive implementation of the contract that scans all flows at
// every packet, for 1, 2 and 3 workers, unidirectional and biflow.
func TestTableMatchesReference(t *testing.T) {
	var reasons [EndLackOfResources + 1]int
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		cfg := timeouts.Config{Idle: time.Duration(20+rng.IntN(40)) * time.Second,
			Active: time.Duration(60+rng.IntN(120)) * time.Second, Grace: time.Duration(rng.IntN(6)) * time.Second}
		if seed%3 == 0 {
			cfg.MaxFlows = 5 + rng.IntN(20)
		}
		pkts := randomTraffic(rng, 6000, 2+int(seed%3))
		for _, biflow := range []bool{false, true} {
			want := referenceMeter(pkts, cfg, biflow, 9)
			SortRecords(want)
			for _, r := range want {
				reasons[r.EndReason]++
			}
			for _, workers := range []int{1, 2, 3} {
				got := meter(t, TableConfig{Timeouts: cfg, Biflow: biflow, Workers: workers, Sensor: 9}, pkts)
				if d := diffRecords(got, want); d != "" {
					t.Fatalf("seed %d %v biflow=%v workers=%d: %s", seed, cfg, biflow, workers, d)
				}
				// Looking ahead even in these small tables (see pipeline).
				lookAhead(t, 0)
				got = meter(t, TableConfig{Timeouts: cfg, Biflow: biflow, Workers: workers, Sensor: 9}, pkts)
				lookAhead(t, defaultLookAheadFlows)
				if d := diffRecords(got, want); d != "" {
					t.Fatalf("seed %d %v biflow=%v workers=%d, looking ahead: %s", seed, cfg, biflow, workers, d)
				}
				// Large batches: the shards of a batch route parts of
				// thousands of packets each (see partNotes).
				got = meterBatches(t, TableConfig{Timeouts: cfg, Biflow: biflow, Workers: workers, Sensor: 9}, pkts,
					func(rest int) int { return 1000 + rest%9000 })
				if d := diffRecords(got, want); d != "" {
					t.Fatalf("seed %d %v biflow=%v workers=%d, large batches: %s", seed, cfg, biflow, workers, d)
				}
			}
		}
	}
	// The traffic must exercise every way a flow ends.
	for r := EndIdleTimeout; r <= EndLackOfResources; r++ {
		if reasons[r] < 20 {
			t.Errorf("only %d reference records ended %v: %v", reasons[r], r, reasons)
		}
	}
	t.Logf("records by end reason: %v", reasons)
}

func randomTraffic(rng *rand.Rand, n, spread int) []Packet {
	pkts := make([]Packet, n)
	at := t0
	for i := range pkts {
		// Mostly small gaps, sometimes long ones that cross timeouts; times
		// strictly increase so the eviction order (smallest End) is unique.
		switch rng.IntN(20) {
		case 0:
			at += int64(rng.IntN(90)) * sec
		default:
			at += 1 + int64(rng.IntN(int(sec/4)))
		}
		p := Packet{Time: at, Src: AddrFromUint32(0x0a000000 + uint32(rng.IntN(spread))), Dst: AddrFromUint32(0x0a000000 + uint32(rng.IntN(spread))),
			SrcPort: uint16(rng.IntN(spread)), DstPort: uint16(rng.IntN(spread)), Length: uint32(40 + rng.IntN(1400))}
		switch rng.IntN(3) {
		case 0:
			p.Protocol = ProtoUDP
		default:
			p.Protocol = ProtoTCP
			p.Flags = ACK
			switch rng.IntN(12) {
			case 0:
				p.Flags |= FIN
			case 1:
				p.Flags = RST
			case 2:
				p.Flags = SYN
			}
		}
		if rng.IntN(10) == 0 {
			p.VLAN = 7
		}
		pkts[i] = p
	}
	return pkts
}

// refFlow is a flow of the reference implementation.
type refFlow struct {
	rec       Record
	finFwd    bool
	finRev    bool
	closing   bool
	closingAt int64
}

// referenceMeter implements the metering contract as literally as possible,
// scanning every flow at every clock step.
func referenceMeter(pkts []Packet, cfg timeouts.Config, biflow bool, sensor uint16) []Record {
	flows := map[Key]*refFlow{}
	var out []Record
	end := func(k Key, f *refFlow, r EndReason) {
		f.rec.EndReason = r
		out = append(out, f.rec)
		delete(flows, k)
	}
	clock := int64(-1 << 63)
	for _, p := range pkts {
		if p.Time > clock {
			clock = p.Time
			for k, f := range flows {
				switch {
				case f.closing && clock-f.closingAt > int64(cfg.Grace):
					end(k, f, EndOfFlow)
				case clock-f.rec.End > int64(cfg.Idle):
					end(k, f, EndIdleTimeout)
				case clock-f.rec.Start >= int64(cfg.Active):
					end(k, f, EndActiveTimeout)
				}
			}
		}
		k := p.Key(sensor)
		f, reverse := flows[k], false
		if f == nil && biflow {
			if f = flows[k.Reverse()]; f != nil {
				reverse = true
			}
		}
		if f == nil {
			if cfg.MaxFlows > 0 && len(flows) >= cfg.MaxFlows {
				var oldK Key
				var old *refFlow
				for k2, f2 := range flows {
					if old == nil || f2.rec.End < old.rec.End {
						oldK, old = k2, f2
					}
				}
				end(oldK, old, EndLackOfResources)
			}
			f = &refFlow{rec: Record{Start: p.Time, End: p.Time, Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort, DstPort: p.DstPort,
				Protocol: p.Protocol, VLAN: p.VLAN, Sensor: sensor, Packets: 1, Bytes: uint64(p.Length),
				InitialFlags: p.Flags, Flags: p.Flags}}
			flows[k] = f
		} else {
			f.rec.End = max(f.rec.End, p.Time)
			if !reverse {
				f.rec.Packets++
				f.rec.Bytes += uint64(p.Length)
				f.rec.SessionFlags |= p.Flags
				f.rec.Flags |= p.Flags
			} else {
				if f.rec.RevPackets == 0 {
					f.rec.RevStartOffset = time.Duration(p.Time - f.rec.Start)
					f.rec.RevInitialFlags = p.Flags
				} else {
					f.rec.RevSessionFlags |= p.Flags
				}
				f.rec.RevPackets++
				f.rec.RevBytes += uint64(p.Length)
				f.rec.RevFlags |= p.Flags
			}
		}
		if p.Protocol != ProtoTCP {
			continue
		}
		mark := func(f *refFlow) {
			if f != nil && !f.closing {
				f.closing, f.closingAt = true, clock
			}
		}
		if biflow {
			if p.Flags&RST != 0 {
				mark(f)
			} else if p.Flags&FIN != 0 {
				if reverse {
					f.finRev = true
				} else {
					f.finFwd = true
				}
				if f.finFwd && f.finRev {
					mark(f)
				}
			}
			continue
		}
		other := flows[k.Reverse()] // the flow itself when k is its own reverse
		if p.Flags&RST != 0 {
			mark(f)
			mark(other)
		} else if p.Flags&FIN != 0 {
			f.finFwd = true
			if other != nil && other.finFwd {
				mark(f)
				mark(other)
			}
		}
	}
	for k, f := range flows {
		end(k, f, EndForced)
	}
	return out
}

func diffRecords(got, want []Record) string {
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d records, want %d", len(got), len(want))
	}
	return ""
}

// TestTableWorkersAgreeOnReorderedCapture checks that a capture whose
// timestamps sometimes go back (reordered packets, late stragglers) gives
// the same records whatever the number of workers: a sharded table sees
// only the clock values at which the clock advanced, as one shard does.
// The disorder stays within what the expiry lists keep exactly ordered
// (timeouts' maxWalk); beyond that a flow may expire late, and how late
// depends on the other flows of its shard.
func TestTableWorkersAgreeOnReorderedCapture(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		cfg := timeouts.Config{Idle: 30 * time.Second, Active: 90 * time.Second, Grace: 2 * time.Second}
		pkts := randomTraffic(rng, 5000, 3)
		for i := 1; i < len(pkts); i++ {
			switch rng.IntN(10) {
			case 0: // swap with the previous packet
				pkts[i].Time, pkts[i-1].Time = pkts[i-1].Time, pkts[i].Time
			case 1: // a straggler, up to a second late
				pkts[i].Time -= rng.Int64N(sec)
			}
		}
		for _, biflow := range []bool{false, true} {
			want := meter(t, TableConfig{Timeouts: cfg, Biflow: biflow, Workers: 1}, pkts)
			for _, workers := range []int{2, 3, 5} {
				got := meter(t, TableConfig{Timeouts: cfg, Biflow: biflow, Workers: workers}, pkts)
				if d := diffRecords(got, want); d != "" {
					t.Fatalf("seed %d biflow=%v workers=%d: %s", seed, biflow, workers, d)
				}
				got = meterBatches(t, TableConfig{Timeouts: cfg, Biflow: biflow, Workers: workers}, pkts,
					func(rest int) int { return 1000 + rest%9000 })
				if d := diffRecords(got, want); d != "" {
					t.Fatalf("seed %d biflow=%v workers=%d, large batches: %s", seed, biflow, workers, d)
				}
			}
		}
	}
}

// TestTablePacketsLimit: a flow whose packet count in one direction
// reaches the largest it holds (2^40-1 forward, 2^48-1 reverse) ends as at
// an active timeout, and the next packet of that direction starts a new
// flow: nothing is lost.
func TestTablePacketsLimit(t *testing.T) {
	a, b := AddrFromUint32(0x0a000001), AddrFromUint32(0x0a000002)
	fwd := Packet{Time: t0, Src: a, Dst: b, SrcPort: 1000, DstPort: 53, Protocol: ProtoUDP, Length: 60}
	rev := Packet{Time: t0 + sec, Src: b, Dst: a, SrcPort: 53, DstPort: 1000, Protocol: ProtoUDP, Length: 100}
	for _, c := range []struct {
		name    string
		biflow  bool
		reverse bool // the reverse side fills up
	}{{"uniflow", false, false}, {"biflow forward", true, false}, {"biflow reverse", true, true}} {
		t.Run(c.name, func(t *testing.T) {
			var sink SliceSink
			tab, err := NewTable(TableConfig{Timeouts: timeouts.Default(), Biflow: c.biflow, Sink: &sink})
			if err != nil {
				t.Fatal(err)
			}
			if err := tab.Add([]Packet{fwd, rev}); err != nil {
				t.Fatal(err)
			}
			s := tab.shards[0]
			slot, _ := s.lookup(uint32(symmetricHash(&fwd.Src, &fwd.Dst, fwd.SrcPort, fwd.DstPort, fwd.VLAN, fwd.Protocol)), &fwd)
			if slot < 0 {
				t.Fatal("no flow for the first packet")
			}
			next, max := fwd, uint64(entryPacketsMax)
			if c.reverse {
				s.slots.reverse(slot).pf += (revPacketsMax - 1) << revFlagBits // as if that many had come
				next, max = rev, revPacketsMax
			} else {
				s.slots.entry(slot).pf += (entryPacketsMax - 1) << entryCountShift
			}
			next.Time = t0 + 2*sec
			if err := tab.Add([]Packet{next}); err != nil {
				t.Fatal(err)
			}
			if err := tab.Close(); err != nil {
				t.Fatal(err)
			}
			var full, after *Record
			for i := range sink.Recs {
				r := &sink.Recs[i]
				switch {
				case r.Start == next.Time:
					after = r
				case r.Start == t0:
					full = r
				}
			}
			if full == nil || after == nil {
				t.Fatalf("records %+v: want the full flow and the one after it", sink.Recs)
			}
			got := full.Packets
			if c.reverse {
				got = full.RevPackets
			}
			if got != max || full.EndReason != EndActiveTimeout {
				t.Errorf("full record %+v: want %d packets, active timeout", *full, max)
			}
			if after.Src != next.Src || after.Packets != 1 || after.Bytes != uint64(next.Length) || after.EndReason != EndForced {
				t.Errorf("next record %+v: want the packet after the full count", *after)
			}
		})
	}
}

// TestTableCandidateOfEndedFlow: update first tries the slot that
// prefetch found for a packet's tag; a flow that ended in between leaves a
// zeroed entry there, which must not pass for the flow of a packet whose
// key is all zeros (hostile input can have one).
func TestTableCandidateOfEndedFlow(t *testing.T) {
	lookAhead(t, 0)
	cfg := timeouts.Default()
	var sink SliceSink
	tab, err := NewTable(TableConfig{Timeouts: cfg, Sink: &sink})
	if err != nil {
		t.Fatal(err)
	}
	idle := int64(cfg.Idle)
	b := Packet{Src: AddrFromUint32(0x0a000001), Dst: AddrFromUint32(0x0a000002), SrcPort: 5, DstPort: 53, Protocol: ProtoUDP, Length: 80}
	zero := Packet{Length: 40} // every key field zero
	a0, b0 := zero, b
	a0.Time, b0.Time = t0, t0+1
	b1, a1 := b, zero
	b1.Time = t0 + idle + 1 // a0's flow expires here, b's does not
	a1.Time = t0 + idle + 2
	for _, batch := range [][]Packet{{a0, b0}, {b1, a1}} { // one prefetch group each
		if err := tab.Add(batch); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	SortRecords(sink.Recs)
	if len(sink.Recs) != 3 {
		t.Fatalf("%d records, want 3: %+v", len(sink.Recs), sink.Recs)
	}
	first, second, third := sink.Recs[0], sink.Recs[1], sink.Recs[2]
	if first.Packets != 1 || first.EndReason != EndIdleTimeout || first.Start != t0 ||
		second.Packets != 2 || second.Src != b.Src ||
		third.Packets != 1 || third.Start != a1.Time || third.EndReason != EndForced {
		t.Errorf("records %+v", sink.Recs)
	}
}

// TestSymmetricHashOrdersEndpoints: symmetricHash orders the endpoints
// without branches; it must agree with the plain lexicographic order
// (address words, then port), which refSymmetricHash spells out with
// branches, including endpoints that tie on one or more words, and hash
// both directions alike.
func TestSymmetricHashOrdersEndpoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	addr := func() Addr {
		var a Addr
		switch rng.IntN(4) {
		case 0: // IPv6, any first word
			binary.LittleEndian.PutUint64(a[0:8], rng.Uint64())
			binary.LittleEndian.PutUint64(a[8:16], rng.Uint64())
		case 1: // IPv6, a shared first word
			binary.LittleEndian.PutUint64(a[0:8], 0x20010db8)
			binary.LittleEndian.PutUint64(a[8:16], uint64(rng.IntN(3)))
		default:
			a = AddrFromUint32(0x0a000000 + uint32(rng.IntN(3)))
		}
		return a
	}
	for range 20000 {
		a, b := addr(), addr()
		ap, bp := uint16(rng.IntN(3)), uint16(rng.IntN(3))
		if rng.IntN(8) == 0 {
			ap, bp = uint16(rng.Uint32()), uint16(rng.Uint32())
		}
		vlan, proto := uint16(rng.IntN(2)), uint8(rng.IntN(2)*6)
		h := symmetricHash(&a, &b, ap, bp, vlan, proto)
		if want := refSymmetricHash(&a, &b, ap, bp, vlan, proto); h != want {
			t.Fatalf("%v:%d -> %v:%d: %x, want %x", a, ap, b, bp, h, want)
		}
		if r := symmetricHash(&b, &a, bp, ap, vlan, proto); r != h {
			t.Fatalf("%v:%d -> %v:%d hashes %x, the other way %x", a, ap, b, bp, h, r)
		}
	}
}

// refSymmetricHash is symmetricHash with the endpoints ordered by
// branches.
func refSymmetricHash(src, dst *Addr, sport, dport, vlan uint16, proto uint8) uint64 {
	le := binary.LittleEndian
	a0, a1 := le.Uint64(src[0:8]), le.Uint64(src[8:16])
	b0, b1 := le.Uint64(dst[0:8]), le.Uint64(dst[8:16])
	if a0 > b0 || a0 == b0 && (a1 > b1 || a1 == b1 && sport > dport) {
		a0, a1, b0, b1 = b0, b1, a0, a1
		sport, dport = dport, sport
	}
	h := mix(a0^0x9e3779b97f4a7c15, a1^0xd6e8feb86659fd93)
	h = mix(h^b0, b1^0xa0761d6478bd642f)
	tail := uint64(sport) | uint64(dport)<<16 | uint64(vlan)<<32 | uint64(proto)<<48
	return mix(h^tail, 0xe7037ed1a0b428db)
}

// defaultLookAheadFlows is lookAheadFlows as the package sets it.
var defaultLookAheadFlows = lookAheadFlows

// lookAhead makes tables look ahead from n flows on, until the test ends.
func lookAhead(t testing.TB, n int) {
	lookAheadFlows = n
	t.Cleanup(func() { lookAheadFlows = defaultLookAheadFlows })
}
