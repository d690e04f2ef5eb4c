package synth

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Scenario is one generated scenario: its name, what it contains, and the
// flow records a meter with the default timeouts must produce from it.
type Scenario struct {
	Name        string
	Description string        // times (of day after Config.Start), addresses and ports
	Packets     int           // packets the scenario contributed
	Truth       []flow.Record // sorted by Start, then key (see SortRecords)
}

// Traffic is a generated capture: the packets of every selected scenario
// merged in time order, with the ground truth. It is immutable; its
// methods may be called from several goroutines.
type Traffic struct {
	cfg       Config
	pkts      []packet // merged, in time order
	scen      []Scenario
	truth     []flow.Record
	scenIndex []uint8 // per packet: index into scen
}

// Generate synthesizes the scenarios cfg selects. It fails only for an
// unknown scenario name (ErrUnknownScenario) or, as a bug, for bookkeeping
// that breaks the metering rules.
func Generate(cfg Config) (*Traffic, error) {
	names := cfg.Scenarios
	if len(names) == 0 {
		names = ScenarioNames()
	}
	var idx []int
	for _, n := range names {
		i, err := findScenario(n)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx) // a fixed order whatever the order of the names

	tr := &Traffic{cfg: cfg}
	builders := make([]*builder, len(idx))
	total := 0
	for j, i := range idx {
		b := newBuilder(catalog[i].name, &cfg)
		catalog[i].run(b)
		if b.err != nil {
			return nil, b.err
		}
		// Within a scenario, packets are emitted per connection; put them
		// in time order (stable: equal times keep the emission order).
		slices.SortStableFunc(b.pkts, func(x, y packet) int { return cmp.Compare(x.t, y.t) })
		builders[j] = b
		total += len(b.pkts)
	}

	// Merge in time order; equal times go in scenario order.
	tr.pkts = make([]packet, 0, total)
	tr.scenIndex = make([]uint8, 0, total)
	for j, b := range builders {
		tr.pkts = append(tr.pkts, b.pkts...)
		for range b.pkts {
			tr.scenIndex = append(tr.scenIndex, uint8(j))
		}
	}
	order := make([]int32, total)
	for i := range order {
		order[i] = int32(i)
	}
	sort.SliceStable(order, func(x, y int) bool { return tr.pkts[order[x]].t < tr.pkts[order[y]].t })
	pkts := make([]packet, total)
	sidx := make([]uint8, total)
	for i, o := range order {
		pkts[i], sidx[i] = tr.pkts[o], tr.scenIndex[o]
	}
	tr.pkts, tr.scenIndex = pkts, sidx

	// The clock ticks at every packet time; end reasons follow from it.
	ticks := make([]int64, total)
	for i := range pkts {
		ticks[i] = pkts[i].t
	}
	for j, b := range builders {
		s := Scenario{Name: b.name, Description: catalog[idx[j]].desc, Packets: len(b.pkts)}
		s.Truth = make([]flow.Record, len(b.flows))
		for k, f := range b.flows {
			f.rec.EndReason = endReason(f, ticks)
			s.Truth[k] = f.rec
		}
		SortRecords(s.Truth)
		tr.scen = append(tr.scen, s)
		tr.truth = append(tr.truth, s.Truth...)
	}
	SortRecords(tr.truth)
	return tr, nil
}

// endReason finds the first clock tick that ends f and says why, by the
// contract's order (closing, idle, active); no such tick means the flow is
// still open at the end of the capture: EndForced.
func endReason(f *flowState, ticks []int64) flow.EndReason {
	first := func(ok func(t int64) bool) int64 {
		i := sort.Search(len(ticks), func(i int) bool { return ok(ticks[i]) })
		if i == len(ticks) {
			return -1
		}
		return ticks[i]
	}
	when := int64(-1)
	consider := func(t int64) {
		if t >= 0 && (when < 0 || t < when) {
			when = t
		}
	}
	if f.hasClosing {
		consider(first(func(t int64) bool { return t-f.closing > int64(Grace) }))
	}
	consider(first(func(t int64) bool { return t-f.rec.End > int64(Idle) }))
	consider(first(func(t int64) bool { return t-f.rec.Start >= int64(Active) }))
	switch {
	case when < 0:
		return flow.EndForced
	case f.hasClosing && when-f.closing > int64(Grace):
		return flow.EndOfFlow
	case when-f.rec.End > int64(Idle):
		return flow.EndIdleTimeout
	default:
		return flow.EndActiveTimeout
	}
}

// SortRecords sorts records as the truth is sorted and as flowkit's meter
// prints them: flow.SortRecords (Start, then source, destination, ports,
// protocol, VLAN).
func SortRecords(recs []flow.Record) { flow.SortRecords(recs) }

// CompareRecords orders two records as SortRecords does.
func CompareRecords(a, b flow.Record) int { return flow.CompareRecords(&a, &b) }

// Scenarios returns the generated scenarios in generation order (the order
// of ScenarioNames). The slices are shared: do not modify them.
func (tr *Traffic) Scenarios() []Scenario { return tr.scen }

// Truth returns the ground truth of all scenarios, sorted by Start then key
// (see SortRecords). The slice is shared: do not modify it.
func (tr *Traffic) Truth() []flow.Record { return tr.truth }

// Len returns the number of packets.
func (tr *Traffic) Len() int { return len(tr.pkts) }

// Start returns the first packet's time (zero when there are none).
func (tr *Traffic) Start() time.Time { return tr.timeAt(0) }

// End returns the last packet's time.
func (tr *Traffic) End() time.Time { return tr.timeAt(len(tr.pkts) - 1) }

func (tr *Traffic) timeAt(i int) time.Time {
	if i < 0 || i >= len(tr.pkts) {
		return time.Time{}
	}
	return time.Unix(0, tr.pkts[i].t).UTC()
}

// Packets returns the decoded summaries of every packet in capture order,
// as flowkit's capture decoder would produce them from the pcap (later
// fragments carry their first fragment's ports): input for flow-table tests
// without pcap encoding.
func (tr *Traffic) Packets() []flow.Packet {
	out := make([]flow.Packet, len(tr.pkts))
	for i := range tr.pkts {
		tr.pkts[i].summary(&out[i])
	}
	return out
}

// ScenarioOf returns the name of the scenario that contributed packet i (in
// capture order).
func (tr *Traffic) ScenarioOf(i int) string {
	if i < 0 || i >= len(tr.scenIndex) {
		panic(fmt.Sprintf("synth: packet index %d out of range [0,%d)", i, len(tr.scenIndex)))
	}
	return tr.scen[tr.scenIndex[i]].Name
}
