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

// matches reports whether k is the key of packet p's direction. It
// compares with word loads, straight from the packet: building a key first
// and comparing keys costs a stalled store-to-load forward per packet.
func (k *flowKey) matches(p *Packet) bool {
	le := binary.LittleEndian
	return le.Uint64(k.src[0:8]) == le.Uint64(p.Src[0:8]) && le.Uint64(k.src[8:16]) == le.Uint64(p.Src[8:16]) &&
		le.Uint64(k.dst[0:8]) == le.Uint64(p.Dst[0:8]) && le.Uint64(k.dst[8:16]) == le.Uint64(p.Dst[8:16]) &&
		k.sport == p.SrcPort && k.dport == p.DstPort && k.vlan == p.VLAN && k.proto == p.Protocol
}

// matchesReverse reports whether k is the key of the direction opposite
// to packet p's.
func (k *flowKey) matchesReverse(p *Packet) bool {
	le := binary.LittleEndian
	return le.Uint64(k.src[0:8]) == le.Uint64(p.Dst[0:8]) && le.Uint64(k.src[8:16]) == le.Uint64(p.Dst[8:16]) &&
		le.Uint64(k.dst[0:8]) == le.Uint64(p.Src[0:8]) && le.Uint64(k.dst[8:16]) == le.Uint64(p.Src[8:16]) &&
		k.sport == p.DstPort && k.dport == p.SrcPort && k.vlan == p.VLAN && k.proto == p.Protocol
}

// entry is one flow in a table: its key and forward counters, 56 bytes
// with no pointers. Times and list links live in the shard's
// timeouts.Tracker; the reverse side of a biflow in slotPages.rev. The
// key's hash tag is not kept: the index recomputes it from the key on the
// rare occasions it needs it (see slotPages.tag). The union of all
// packets' flags is that of the initial and session flags, so it is not
// kept either.
type entry struct {
	key   flowKey
	bytes uint64
	// pf holds the packet count above entryCountShift, the state bits in
	// bits 16-23, the first packet's flags (initial) in bits 8-15 and the
	// union of the others' (session) in bits 0-7. A flow ends when its
	// packets reach entryPacketsMax (see update).
	pf uint64
}

const (
	entryCountShift = 24
	entryPacketsMax = 1<<(64-entryCountShift) - 1
	entryStateShift = 16
)

// entry state bits.
const (
	stateFin    = 1 << iota // FIN seen (forward direction)
	stateRevFin             // FIN seen in the reverse direction (biflow)
)

// packets returns the forward packet count.
func (e *entry) packets() uint64 { return e.pf >> entryCountShift }

// initFlags returns the flags of the flow's first packet.
func (e *entry) initFlags() TCPFlags { return TCPFlags(e.pf >> 8) }

// sessionFlags returns the union of the flags of the flow's later packets.
func (e *entry) sessionFlags() TCPFlags { return TCPFlags(e.pf) }

// state returns the entry's state bits.
func (e *entry) state() uint8 { return uint8(e.pf >> entryStateShift) }

// setState adds state bits.
func (e *entry) setState(bits uint8) { e.pf |= uint64(bits) << entryStateShift }

// revSide is the reverse direction of a biflow entry, 24 bytes. Its
// packets share a word with its flags (the union of all is their union):
// a flow ends when its reverse packets reach revPacketsMax (see update).
type revSide struct {
	bytes uint64
	first int64 // time of the first reverse packet
	// pf holds the packet count above revFlagBits, the first packet's
	// flags (initial) in bits 8-15 and the union of the others'
	// (session) in bits 0-7.
	pf uint64
}

const (
	revFlagBits   = 16
	revPacketsMax = 1<<(64-revFlagBits) - 1
)

// packets returns the reverse packet count.
func (r *revSide) packets() uint64 { return r.pf >> revFlagBits }

// shard is one partition of a Table: the flows whose symmetric key hash
// selects it, with their own index, entries and expiry tracker. A shard is
// used by one goroutine at a time.
type shard struct {
	_      cacheLinePad // the shards of a table are metered on different cores: no shared cache lines
	t      *Table
	id     int // this shard's number
	biflow bool
	sensor uint16
	max    int // MaxFlows, 0 = no cap
	idx    flowIndex
	slots  slotPages // entries (and reverse sides) by slot
	tr     *timeouts.Tracker
	clock  int64
	out    []Record // finished records not yet handed to the sink
	pl     pipeline // the groups of packets looked up ahead (kept here: a local would escape)
	// deadline is the earliest clock at which a flow of the shard may
	// expire, or earlier: tick calls expire only from then on. A flow
	// created in an empty shard or with a late timestamp, or one marked
	// closing, may expire sooner than the deadline noted, so update sets
	// it to math.MinInt64 then; every other change of the tracker only
	// makes flows expire later.
	deadline int64
	stats    TableStats
	_        cacheLinePad
}

// cacheLinePad keeps the fields of an object written by one core apart
// from those of the next object in memory, written by another: sharing a
// cache line would make the two cores take it from each other at every
// write (false sharing).
type cacheLinePad [64]byte

func newShard(t *Table, id, n int, cfg *TableConfig) (*shard, error) {
	tr, err := timeouts.NewTracker(cfg.Timeouts)
	if err != nil {
		return nil, err
	}
	return &shard{t: t, id: id, biflow: cfg.Biflow, sensor: cfg.Sensor,
		max: cfg.Timeouts.MaxFlows, idx: newFlowIndex(), tr: tr, clock: math.MinInt64, deadline: math.MaxInt64,
		out: make([]Record, 0, DefaultBatchSize)}, nil
}

// shardOf returns the shard (of n) that owns a key with symmetric hash h:
// the shard number comes from the hash's high half, the index tag from its
// low half, so the two do not correlate.
func shardOf(h uint64, n int) int { return int((h >> 32) * uint64(n) >> 32) }

// add meters pkts in a table of one shard: before each packet the clock
// advances to its time (if later) and what expired ends. Packets are
// taken in groups, looked up ahead (see pipeline).
func (s *shard) add(pkts []Packet) {
	clock := s.clock
	pl := &s.pl
	for pl.start((len(pkts) + prefetchGroup - 1) / prefetchGroup); pl.next(); {
		if g, tags, ok := pl.hashing(); ok {
			grp := pkts[g*prefetchGroup : min((g+1)*prefetchGroup, len(pkts))]
			for i := range grp {
				p := &grp[i]
				tags[i] = uint32(symmetricHash(&p.Src, &p.Dst, p.SrcPort, p.DstPort, p.VLAN, p.Protocol))
			}
			pl.hashed(len(grp))
		}
		s.lookAhead()
		if g, tags, cands, ok := pl.updating(); ok {
			grp := pkts[g*prefetchGroup:][:len(tags)]
			for i := range grp {
				clock = s.tick(clock, grp[i].Time)
				s.update(&grp[i], tags[i], cands[i], clock)
			}
		}
	}
	s.clock = clock
}

// tick returns the clock moved to a packet's time t (if later), having
// ended what expired at the new value; nothing can expire before the
// deadline, so it calls expire only from then on.
func (s *shard) tick(clock, t int64) int64 {
	if t > clock {
		clock = t
		if clock >= s.deadline {
			s.expire(clock)
		}
	}
	return clock
}

// advance moves the clock to now (if later) and ends what expired.
func (s *shard) advance(now int64) {
	if now > s.clock {
		s.clock = now
		s.expire(now)
	}
	s.flushOut()
}

// expire ends every flow that has expired at clock now and notes when
// the next may expire.
func (s *shard) expire(now int64) {
	for {
		slot, r, ok := s.tr.Expired(now)
		if !ok {
			break
		}
		s.end(slot, EndReason(r))
	}
	s.deadline = s.tr.Deadline()
}

// lookup finds the entry of packet p's flow; reverse says it matched in
// the reverse direction (biflow mode only).
func (s *shard) lookup(tag uint32, p *Packet) (slot int32, reverse bool) {
	x := &s.idx
	for i := x.home(tag); ; i = (i + 1) & x.mask {
		c := x.cells[i]
		if c == 0 {
			return -1, false
		}
		if !x.tagMatches(c, tag) {
			continue
		}
		sl := x.cellSlot(c)
		ek := &s.slots.entry(sl).key
		if ek.matches(p) {
			return sl, false
		}
		if s.biflow && ek.matchesReverse(p) {
			return sl, true
		}
	}
}

// lookupReverse finds the entry of the flow opposite to packet p's
// (unidirectional mode).
func (s *shard) lookupReverse(tag uint32, p *Packet) int32 {
	x := &s.idx
	for i := x.home(tag); ; i = (i + 1) & x.mask {
		c := x.cells[i]
		if c == 0 {
			return -1
		}
		if x.tagMatches(c, tag) && s.slots.entry(x.cellSlot(c)).key.matchesReverse(p) {
			return x.cellSlot(c)
		}
	}
}

// countFull reports whether the packet count of e's flow in the
// direction a packet matched can take no more.
func (s *shard) countFull(e *entry, slot int32, reverse bool) bool {
	if reverse {
		return s.slots.reverse(slot).packets() == revPacketsMax
	}
	return e.packets() == entryPacketsMax
}

// find returns the entry of packet p's flow (nil if there is none), its
// slot and whether p matched in the reverse direction. cand, the slot the
// look-ahead found for p's tag (see findCandidates) or -1, is checked
// first: a live entry (its packet count is never 0) with p's key in either
// direction is the flow's, since a key has one flow at a time.
func (s *shard) find(p *Packet, tag uint32, cand int32) (e *entry, slot int32, reverse bool) {
	if cand >= 0 {
		e := s.slots.entry(cand)
		if e.pf != 0 {
			if e.key.matches(p) {
				return e, cand, false
			}
			if s.biflow && e.key.matchesReverse(p) {
				return e, cand, true
			}
		}
	}
	if slot, reverse = s.lookup(tag, p); slot < 0 {
		return nil, -1, false
	}
	return s.slots.entry(slot), slot, reverse
}

// update counts packet p (hash tag tag, candidate slot cand, see find)
// and adds it to its flow at clock, creating the flow if there is none.
func (s *shard) update(p *Packet, tag uint32, cand int32, clock int64) {
	s.stats.Packets++
	s.stats.Bytes += uint64(p.Length)
	e, slot, reverse := s.find(p, tag, cand)
	if e != nil && s.countFull(e, slot, reverse) {
		// The count of this direction is full: the record ends as at
		// an active timeout, and this packet starts the next.
		s.end(slot, EndActiveTimeout)
		e = nil
	}
	f := p.Flags
	if e == nil {
		slot, reverse = s.create(tag, p), false
		if s.tr.Len() == 1 || p.Time < clock {
			// The only flow, or one that came late in a reordered
			// capture: it may expire before the deadline noted.
			s.deadline = math.MinInt64
		}
		e = s.slots.entry(slot)
		e.pf, e.bytes = 1<<entryCountShift|uint64(f)<<8, uint64(p.Length)
	} else {
		s.tr.Seen(slot, p.Time)
		if !reverse {
			e.pf = (e.pf + 1<<entryCountShift) | uint64(f)
			e.bytes += uint64(p.Length)
		} else {
			r := s.slots.reverse(slot)
			if r.pf == 0 { // the first reverse packet
				r.first, r.pf = p.Time, 1<<revFlagBits|uint64(f)<<8
			} else {
				r.pf = (r.pf + 1<<revFlagBits) | uint64(f)
			}
			r.bytes += uint64(p.Length)
		}
	}
	if f&(FIN|RST) != 0 && p.Protocol == ProtoTCP {
		s.tcpEnd(e, slot, reverse, tag, p, clock)
	}
}

// tcpEnd applies the contract's TCP rules to the flow of entry e in slot:
// RST closes its flow (and the reverse one); FIN closes once both
// directions have sent one. The closing time is the clock, which equals
// the packet's time in an ordered capture.
func (s *shard) tcpEnd(e *entry, slot int32, reverse bool, tag uint32, p *Packet, clock int64) {
	f := p.Flags
	s.deadline = math.MinInt64 // a flow may be marked closing
	if s.biflow {
		if f&RST != 0 {
			s.tr.MarkClosing(slot, clock)
			return
		}
		if reverse {
			e.setState(stateRevFin)
		} else {
			e.setState(stateFin)
		}
		if e.state()&(stateFin|stateRevFin) == stateFin|stateRevFin {
			s.tr.MarkClosing(slot, clock)
		}
		return
	}
	other := s.lookupReverse(tag, p)
	if f&RST != 0 {
		s.tr.MarkClosing(slot, clock)
		if other >= 0 {
			s.tr.MarkClosing(other, clock)
		}
		return
	}
	e.setState(stateFin)
	if other >= 0 && s.slots.entry(other).state()&stateFin != 0 {
		s.tr.MarkClosing(slot, clock)
		s.tr.MarkClosing(other, clock)
	}
}

// create allocates an entry for the new flow of packet p, first evicting
// the least recently seen flow when the table is full.
func (s *shard) create(tag uint32, p *Packet) int32 {
	if s.max > 0 && s.tr.Len() >= s.max {
		if old, ok := s.tr.Oldest(); ok {
			s.end(old, EndLackOfResources)
		}
	}
	slot, ok := s.tr.Free()
	if !ok {
		slot = s.slots.next(s.biflow)
		s.tr.Grow(int(slot) + 1) // in steps of the tracker's choosing
	}
	e := s.slots.entry(slot)
	e.key = flowKey{src: p.Src, dst: p.Dst, sport: p.SrcPort, dport: p.DstPort, vlan: p.VLAN, proto: p.Protocol}
	s.idx.insert(tag, slot, &s.slots)
	s.tr.Insert(slot, p.Time)
	return slot
}

// end finishes the flow in slot with reason r: its record goes to the
// output batch and the slot is freed.
func (s *shard) end(slot int32, r EndReason) {
	e := s.slots.entry(slot)
	rec := Record{
		Start: s.tr.Start(slot), End: s.tr.End(slot),
		Src: e.key.src, Dst: e.key.dst, SrcPort: e.key.sport, DstPort: e.key.dport,
		VLAN: e.key.vlan, Protocol: e.key.proto, Sensor: s.sensor,
		Packets: e.packets(), Bytes: e.bytes,
		Flags: e.initFlags() | e.sessionFlags(), InitialFlags: e.initFlags(), SessionFlags: e.sessionFlags(),
		EndReason: r,
	}
	if s.biflow {
		rv := s.slots.reverse(slot)
		if n := rv.packets(); n > 0 {
			rec.RevPackets, rec.RevBytes = n, rv.bytes
			rec.RevStartOffset = time.Duration(rv.first - rec.Start)
			initial, session := TCPFlags(rv.pf>>8), TCPFlags(rv.pf)
			rec.RevFlags, rec.RevInitialFlags, rec.RevSessionFlags = initial|session, initial, session
		}
		*rv = revSide{}
	}
	s.out = append(s.out, rec)
	s.stats.Ended[r]++
	s.idx.remove(s.slots.tag(slot), slot, &s.slots)
	s.tr.Remove(slot)
	*e = entry{}
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
	s.deadline = s.tr.Deadline()
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
