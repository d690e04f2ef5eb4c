package synth

import (
	"container/heap"
	"slices"

	"github.com/flowkit/flowkit/flow"
)

// refMeter is the tests' own reading of the metering contract (idle 300 s,
// active 1800 s, grace 5 s, unidirectional): an eager table that expires
// flows at every clock tick from a deadline heap. It shares no code with
// the synthesizer's bookkeeping.
type refMeter struct {
	flows map[flow.Key]*refFlow
	h     deadlines
	out   []flow.Record
}

type refFlow struct {
	rec        flow.Record
	fin        bool
	closing    bool
	closeAt    int64
	version    int
	terminated bool
}

type deadline struct {
	at      int64
	f       *refFlow
	version int
}

type deadlines []deadline

func (d deadlines) Len() int           { return len(d) }
func (d deadlines) Less(i, j int) bool { return d[i].at < d[j].at }
func (d deadlines) Swap(i, j int)      { d[i], d[j] = d[j], d[i] }
func (d *deadlines) Push(x any)        { *d = append(*d, x.(deadline)) }
func (d *deadlines) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}

const (
	refIdle   = int64(300e9)
	refActive = int64(1800e9)
	refGrace  = int64(5e9)
)

func newRefMeter() *refMeter { return &refMeter{flows: map[flow.Key]*refFlow{}} }

// schedule pushes f's earliest possible end: idle and grace are strict
// (more than), active is not (at least).
func (m *refMeter) schedule(f *refFlow) {
	f.version++
	at := min(f.rec.End+refIdle+1, f.rec.Start+refActive)
	if f.closing {
		at = min(at, f.closeAt+refGrace+1)
	}
	heap.Push(&m.h, deadline{at, f, f.version})
}

func (m *refMeter) end(f *refFlow, why flow.EndReason) {
	f.rec.EndReason = why
	f.terminated = true
	m.out = append(m.out, f.rec)
	delete(m.flows, f.rec.Key())
}

func (m *refMeter) advance(clock int64) {
	for len(m.h) > 0 && m.h[0].at <= clock {
		d := heap.Pop(&m.h).(deadline)
		f := d.f
		if f.terminated || d.version != f.version {
			continue
		}
		switch {
		case f.closing && clock-f.closeAt > refGrace:
			m.end(f, flow.EndOfFlow)
		case clock-f.rec.End > refIdle:
			m.end(f, flow.EndIdleTimeout)
		case clock-f.rec.Start >= refActive:
			m.end(f, flow.EndActiveTimeout)
		}
	}
}

func (m *refMeter) markClosing(f *refFlow, t int64) {
	if f != nil && !f.closing {
		f.closing, f.closeAt = true, t
		m.schedule(f)
	}
}

func (m *refMeter) add(p flow.Packet) {
	m.advance(p.Time)
	k := p.Key(0)
	f := m.flows[k]
	if f == nil {
		f = &refFlow{rec: flow.Record{Start: p.Time, Src: p.Src, Dst: p.Dst, SrcPort: p.SrcPort,
			DstPort: p.DstPort, Protocol: p.Protocol, VLAN: p.VLAN, InitialFlags: p.Flags}}
		m.flows[k] = f
	} else {
		f.rec.SessionFlags |= p.Flags
	}
	f.rec.End = p.Time
	f.rec.Packets++
	f.rec.Bytes += uint64(p.Length)
	f.rec.Flags |= p.Flags
	m.schedule(f)
	rev := m.flows[k.Reverse()]
	if p.Flags&flow.FIN != 0 {
		f.fin = true
		if rev != nil && rev.fin {
			m.markClosing(f, p.Time)
			m.markClosing(rev, p.Time)
		}
	}
	if p.Flags&flow.RST != 0 {
		m.markClosing(f, p.Time)
		m.markClosing(rev, p.Time)
	}
}

// flush ends the open flows and returns every record, sorted.
func (m *refMeter) flush() []flow.Record {
	for _, f := range m.flows {
		f.rec.EndReason = flow.EndForced
		m.out = append(m.out, f.rec)
	}
	m.flows = nil
	slices.SortFunc(m.out, CompareRecords)
	return m.out
}
