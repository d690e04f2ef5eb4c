package flow

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/flowkit/flowkit/timeouts"
)

// flowKey is the part of a Key that a table stores per entry (the sensor is
// the table's). Comparable, no pointers.
type flowKey struct {
	src, dst     Addr
	sport, dport uint16
	vlan         uint16
	proto        uint8
	_            uint8
}

func (k *flowKey) reverse() flowKey {
	return flowKey{src: k.dst, dst: k.src, sport: k.dport, dport: k.sport, vlan: k.vlan, proto: k.proto}
}

// equal compares two keys with word loads (== on the struct calls
// memequal for the address arrays).
func (k *flowKey) equal(o *flowKey) bool {
	le := binary.LittleEndian
	return le.Uint64(k.src[0:8]) == le.Uint64(o.src[0:8]) && le.Uint64(k.src[8:16]) == le.Uint64(o.src[8:16]) &&
		le.Uint64(k.dst[0:8]) == le.Uint64(o.dst[0:8]) && le.Uint64(k.dst[8:16]) == le.Uint64(o.dst[8:16]) &&
		k.sport == o.sport && k.dport == o.dport && k.vlan == o.vlan && k.proto == o.proto
}

// entry is one flow in a table: its key, forward counters, state and
// hash tag, 64 bytes with no pointers. Times and list links live in the shard's
// timeouts.Tracker; the reverse side of a biflow in the parallel rev slice.
type entry struct {
	key          flowKey
	packets      uint64
	bytes        uint64
	initFlags    TCPFlags
	sessionFlags TCPFlags
	flags        TCPFlags
	state        uint8
	tag          uint32 // low half of the key's symmetric hash (see flowIndex)
}

// entry.state bits.
const (
	stateFin    = 1 << iota // FIN seen (forward direction)
	stateRevFin             // FIN seen in the reverse direction (biflow)
)

// revSide is the reverse direction of a biflow entry.
type revSide struct {
	packets      uint64
	bytes        uint64
	first        int64 // time of the first reverse packet
	initFlags    TCPFlags
	sessionFlags TCPFlags
	flags        TCPFlags
}

// shard is one partition of a Table: the flows whose symmetric key hash
// selects it, with their own index, entries and expiry tracker. A shard is
// used by one goroutine at a time.
type shard struct {
	t       *Table
	id      int // this shard's number
	biflow  bool
	sensor  uint16
	max     int // MaxFlows, 0 = no cap
	idx     flowIndex
	entries []entry
	rev     []revSide // biflow only, parallel to entries
	free    []int32
	tr      *timeouts.Tracker
	clock   int64
	out     []Record // finished records not yet handed to the sink
	ei      int      // clock events of the current batch applied (addItems)
	stats   TableStats
}

func newShard(t *Table, id, n int, cfg *TableConfig) (*shard, error) {
	tr, err := timeouts.NewTracker(cfg.Timeouts)
	if err != nil {
		return nil, err
	}
	return &shard{t: t, id: id, biflow: cfg.Biflow, sensor: cfg.Sensor,
		max: cfg.Timeouts.MaxFlows, idx: newFlowIndex(), tr: tr, clock: math.MinInt64,
		out: make([]Record, 0, DefaultBatchSize)}, nil
}

// shardOf returns the shard (of n) that owns a key with symmetric hash h:
// the shard number comes from the hash's high half, the index tag from its
// low half, so the two do not correlate.
func shardOf(h uint64, n int) int { return int((h >> 32) * uint64(n) >> 32) }

// add meters pkts in a table of one shard: before each packet the clock
// advances to its time (if later) and what expired ends.
func (s *shard) add(pkts []Packet) {
	clock := s.clock
	for i := range pkts {
		p := &pkts[i]
		if p.Time > clock {
			clock = p.Time
			s.expire(clock)
		}
		h := symmetricHash(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.VLAN, p.Protocol)
		s.stats.Packets++
		s.stats.Bytes += uint64(p.Length)
		s.update(p, uint32(h), clock)
	}
	s.clock = clock
}

// shardItem is one packet of a batch that the dispatcher hands to the
// shard owning it: a copy of the packet (the caller reuses its buffer
// while the shard works), its hash tag, and how many clock events of the
// batch come at or before it. 64 bytes: one cache line.
type shardItem struct {
	pkt Packet
	ev  int32
	tag uint32
}

// addItems meters this shard's packets of a batch. events are the values
// the table's clock takes during the batch, in order (each larger than the
// last); the shard applies each of them, and the ones before a packet
// before that packet, exactly as a one-shard table would, so the flows it
// ends, and why, do not depend on the number of shards. It skips the
// clock values at which none of its flows can end (see catchUp).
func (s *shard) addItems(items []shardItem, events []int64) {
	s.ei = 0
	for i := range items {
		it := &items[i]
		if int(it.ev) > s.ei {
			s.catchUp(events[:it.ev])
		}
		p := &it.pkt
		s.stats.Packets++
		s.stats.Bytes += uint64(p.Length)
		s.update(p, it.tag, s.clock)
	}
	if len(events) > s.ei {
		s.catchUp(events)
	}
}

// catchUp moves the clock through ev[s.ei:], ending what expires at each
// value. Nothing expires below the tracker's deadline, so it jumps (by
// binary search: ev is increasing) to the first value at or past it.
func (s *shard) catchUp(ev []int64) {
	for s.ei < len(ev) {
		last := ev[len(ev)-1]
		d := s.tr.Deadline()
		if last < d {
			s.clock, s.ei = last, len(ev)
			return
		}
		lo, hi := s.ei, len(ev)-1
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if ev[m] >= d {
				hi = m
			} else {
				lo = m + 1
			}
		}
		s.clock, s.ei = ev[lo], lo+1
		s.expire(s.clock)
	}
}

// advance moves the clock to now (if later) and ends what expired.
func (s *shard) advance(now int64) {
	if now > s.clock {
		s.clock = now
		s.expire(now)
	}
	s.flushOut()
}

// expire ends every flow that has expired at clock now.
func (s *shard) expire(now int64) {
	for {
		slot, r, ok := s.tr.Expired(now)
		if !ok {
			return
		}
		s.end(slot, EndReason(r))
	}
}

// lookup finds the entry of k; reverse says it matched in the reverse
// direction (biflow mode only).
func (s *shard) lookup(tag uint32, k *flowKey) (slot int32, reverse bool) {
	x := &s.idx
	var rk flowKey
	haveRK := false
	for i := x.home(tag); ; i = (i + 1) & x.mask {
		c := x.cells[i]
		if c == 0 {
			return -1, false
		}
		if !x.tagMatches(c, tag) {
			continue
		}
		sl := x.cellSlot(c)
		ek := &s.entries[sl].key
		if ek.equal(k) {
			return sl, false
		}
		if s.biflow {
			if !haveRK {
				rk, haveRK = k.reverse(), true
			}
			if ek.equal(&rk) {
				return sl, true
			}
		}
	}
}

// lookupExact finds the entry whose key is exactly k (unidirectional mode).
func (s *shard) lookupExact(tag uint32, k *flowKey) int32 {
	x := &s.idx
	for i := x.home(tag); ; i = (i + 1) & x.mask {
		c := x.cells[i]
		if c == 0 {
			return -1
		}
		if x.tagMatches(c, tag) && s.entries[x.cellSlot(c)].key.equal(k) {
			return x.cellSlot(c)
		}
	}
}

func (s *shard) update(p *Packet, tag uint32, clock int64) {
	k := flowKey{src: p.Src, dst: p.Dst, sport: p.SrcPort, dport: p.DstPort, vlan: p.VLAN, proto: p.Protocol}
	slot, reverse := s.lookup(tag, &k)
	f := p.Flags
	if slot < 0 {
		slot = s.create(tag, &k, p.Time)
		e := &s.entries[slot]
		e.packets, e.bytes = 1, uint64(p.Length)
		e.initFlags, e.flags = f, f
	} else {
		s.tr.Seen(slot, p.Time)
		if !reverse {
			e := &s.entries[slot]
			e.packets++
			e.bytes += uint64(p.Length)
			e.sessionFlags |= f
			e.flags |= f
		} else {
			r := &s.rev[slot]
			if r.packets == 0 {
				r.first, r.initFlags = p.Time, f
			} else {
				r.sessionFlags |= f
			}
			r.packets++
			r.bytes += uint64(p.Length)
			r.flags |= f
		}
	}
	if f&(FIN|RST) != 0 && p.Protocol == ProtoTCP {
		s.tcpEnd(slot, reverse, tag, &k, f, clock)
	}
}

// tcpEnd applies the contract's TCP rules: RST closes its flow (and the
// reverse one); FIN closes once both directions have sent one. The closing
// time is the clock, which equals the packet's time in an ordered capture.
func (s *shard) tcpEnd(slot int32, reverse bool, tag uint32, k *flowKey, f TCPFlags, clock int64) {
	e := &s.entries[slot]
	if s.biflow {
		if f&RST != 0 {
			s.tr.MarkClosing(slot, clock)
			return
		}
		if reverse {
			e.state |= stateRevFin
		} else {
			e.state |= stateFin
		}
		if e.state&(stateFin|stateRevFin) == stateFin|stateRevFin {
			s.tr.MarkClosing(slot, clock)
		}
		return
	}
	rk := k.reverse()
	other := s.lookupExact(tag, &rk)
	if f&RST != 0 {
		s.tr.MarkClosing(slot, clock)
		if other >= 0 {
			s.tr.MarkClosing(other, clock)
		}
		return
	}
	e.state |= stateFin
	if other >= 0 && s.entries[other].state&stateFin != 0 {
		s.tr.MarkClosing(slot, clock)
		s.tr.MarkClosing(other, clock)
	}
}

// create allocates an entry for a new flow whose first packet came at t,
// first evicting the least recently seen flow when the table is full.
func (s *shard) create(tag uint32, k *flowKey, t int64) int32 {
	if s.max > 0 && s.tr.Len() >= s.max {
		if old, ok := s.tr.Oldest(); ok {
			s.end(old, EndLackOfResources)
		}
	}
	var slot int32
	if n := len(s.free); n > 0 {
		slot = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		slot = int32(len(s.entries))
		if len(s.entries) == cap(s.entries) {
			s.grow()
		}
		s.entries = s.entries[:slot+1]
		if s.biflow {
			s.rev = s.rev[:slot+1]
		}
	}
	e := &s.entries[slot]
	e.key, e.tag = *k, tag
	s.idx.insert(tag, slot, s.entries)
	s.tr.Insert(slot, t)
	return slot
}

// grow enlarges the entry slices (and the tracker) by a step: doubling
// while small, then by an eighth, so at most about 1/9 of the memory of a
// large table is spare capacity.
func (s *shard) grow() {
	n := cap(s.entries)
	if n < 1<<16 {
		n = max(2*n, 256)
	} else {
		n += n / 8
	}
	entries := make([]entry, len(s.entries), n)
	copy(entries, s.entries)
	s.entries = entries
	if s.biflow {
		rev := make([]revSide, len(s.rev), n)
		copy(rev, s.rev)
		s.rev = rev
	}
	s.tr.Grow(n)
}

// end finishes the flow in slot with reason r: its record goes to the
// output batch and the slot is freed.
func (s *shard) end(slot int32, r EndReason) {
	e := &s.entries[slot]
	rec := Record{
		Start: s.tr.Start(slot), End: s.tr.End(slot),
		Src: e.key.src, Dst: e.key.dst, SrcPort: e.key.sport, DstPort: e.key.dport,
		VLAN: e.key.vlan, Protocol: e.key.proto, Sensor: s.sensor,
		Packets: e.packets, Bytes: e.bytes,
		Flags: e.flags, InitialFlags: e.initFlags, SessionFlags: e.sessionFlags,
		EndReason: r,
	}
	if s.biflow {
		rv := &s.rev[slot]
		if rv.packets > 0 {
			rec.RevPackets, rec.RevBytes = rv.packets, rv.bytes
			rec.RevStartOffset = time.Duration(rv.first - rec.Start)
			rec.RevFlags, rec.RevInitialFlags, rec.RevSessionFlags = rv.flags, rv.initFlags, rv.sessionFlags
		}
		*rv = revSide{}
	}
	s.out = append(s.out, rec)
	s.stats.Ended[r]++
	s.idx.remove(e.tag, slot, s.entries)
	s.tr.Remove(slot)
	*e = entry{}
	s.free = append(s.free, slot)
	if len(s.out) == cap(s.out) {
		s.flushOut()
	}
}

// endAll ends every flow with reason r, least recently seen first.
func (s *shard) endAll(r EndReason) {
	for {
		slot, ok := s.tr.Oldest()
		if !ok {
			break
		}
		s.end(slot, r)
	}
	s.flushOut()
}

// flushOut hands the pending records to the table's sink.
func (s *shard) flushOut() {
	if len(s.out) == 0 {
		return
	}
	s.t.write(s.out)
	s.out = s.out[:0]
}
