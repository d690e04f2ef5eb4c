package detect

import (
	"time"

	"github.com/flowkit/flowkit/flow"
)

// pairer joins the two directions of unidirectional records into one
// biflow view, so that a detector can tell whether a contact was
// answered. A record waits until its reverse arrives or until the stream
// (the largest record end seen) has moved window past its end; then it
// goes out alone. Biflow records pass straight through. State is bounded
// by maxHeld records.
//
// Of two paired records the one that started first is the initiator: it
// becomes the forward side of the joined record, the other the reverse.
type pairer struct {
	window    int64 // ns a record waits for its reverse
	maxHeld   int
	held      map[flow.Key]uint64 // key -> sequence number in queue
	queue     []heldRecord        // FIFO in arrival order
	base      uint64              // sequence number of queue[0]
	head      int                 // first live position in queue
	watermark int64               // largest record end seen
	joined    flow.Record         // scratch for the joined record
}

type heldRecord struct {
	rec   flow.Record
	alive bool
}

func newPairer(window int64, maxHeld int) *pairer {
	if maxHeld <= 0 {
		maxHeld = 1 << 18
	}
	return &pairer{window: window, maxHeld: maxHeld, held: make(map[flow.Key]uint64)}
}

// push takes one record and calls out for every record (joined or alone)
// that is ready. out must not keep its argument.
func (p *pairer) push(r *flow.Record, out func(*flow.Record)) {
	if r.End > p.watermark {
		p.watermark = r.End
	}
	if r.IsBiflow() || p.window <= 0 {
		out(r)
		p.expire(out)
		return
	}
	k, rk := pairKeys(r)
	if seq, ok := p.held[rk]; ok {
		h := &p.queue[int(seq-p.base)]
		h.alive = false
		delete(p.held, rk)
		if h.rec.Start <= r.Start {
			join(&p.joined, &h.rec, r)
		} else {
			join(&p.joined, r, &h.rec)
		}
		out(&p.joined)
		p.expire(out)
		return
	}
	if seq, ok := p.held[k]; ok {
		// The same direction again before any answer: the older record
		// will not be paired any more.
		h := &p.queue[int(seq-p.base)]
		h.alive = false
		out(&h.rec)
	}
	p.held[k] = p.base + uint64(len(p.queue))
	p.queue = append(p.queue, heldRecord{rec: *r, alive: true})
	p.expire(out)
}

// expire sends out records whose wait is over, oldest first, and those
// beyond the size limit.
func (p *pairer) expire(out func(*flow.Record)) {
	for p.head < len(p.queue) {
		h := &p.queue[p.head]
		if h.alive {
			if h.rec.End+p.window >= p.watermark && len(p.held) <= p.maxHeld {
				break
			}
			k, _ := pairKeys(&h.rec)
			delete(p.held, k)
			h.alive = false
			out(&h.rec)
		}
		p.head++
	}
	p.compact()
}

// drain sends out every held record.
func (p *pairer) drain(out func(*flow.Record)) {
	for ; p.head < len(p.queue); p.head++ {
		h := &p.queue[p.head]
		if h.alive {
			h.alive = false
			k, _ := pairKeys(&h.rec)
			delete(p.held, k)
			out(&h.rec)
		}
	}
	p.compact()
}

// compact drops the dead prefix of the queue once it is most of it.
func (p *pairer) compact() {
	if p.head == len(p.queue) {
		p.base += uint64(len(p.queue))
		p.queue = p.queue[:0]
		p.head = 0
		return
	}
	if p.head > 1024 && p.head > len(p.queue)/2 {
		n := copy(p.queue, p.queue[p.head:])
		p.base += uint64(p.head)
		p.queue = p.queue[:n]
		p.head = 0
	}
}

// join writes into dst the biflow of initiator fwd and responder rev.
func join(dst, fwd, rev *flow.Record) {
	*dst = *fwd
	dst.RevPackets = rev.Packets
	dst.RevBytes = rev.Bytes
	dst.RevFlags = rev.Flags
	dst.RevInitialFlags = rev.InitialFlags
	dst.RevSessionFlags = rev.SessionFlags
	dst.RevStartOffset = 0
	if rev.Start > fwd.Start {
		dst.RevStartOffset = time.Duration(rev.Start - fwd.Start)
	}
	if rev.End > dst.End {
		dst.End = rev.End
	}
	if dst.RevPackets == 0 { // a zero-packet reverse still answered
		dst.RevPackets = 1
	}
}

// pairKeys returns the key under which r waits for its reverse and the key
// its reverse waits under. ICMP queries and their replies differ in type
// (echo 8, reply 0), so for ICMP both keys carry the query type and no
// ports.
func pairKeys(r *flow.Record) (k, rk flow.Key) {
	k = r.Key()
	if r.IsICMP() {
		t := icmpQueryType(r.Protocol, r.ICMPType())
		k.SrcPort, k.DstPort = 0, uint16(t)<<8
		rk = k
		rk.Src, rk.Dst = k.Dst, k.Src
		return k, rk
	}
	return k, k.Reverse()
}

// icmpQueryType maps an ICMP reply type to its query's type; other types
// map to themselves.
func icmpQueryType(proto, t uint8) uint8 {
	if proto == flow.ProtoICMPv6 {
		if t == 129 {
			return 128
		}
		return t
	}
	switch t {
	case 0:
		return 8
	case 14, 16, 18:
		return t - 1
	}
	return t
}

// isICMPQuery reports whether an ICMP type asks for an answer.
func isICMPQuery(proto, t uint8) bool {
	if proto == flow.ProtoICMPv6 {
		return t == 128
	}
	return t == 8 || t == 13 || t == 15 || t == 17
}
