package query

import (
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Pred is a condition on a flow record. Predicates form an inspectable
// tree: the combinators [And], [Or] and [Not] over the leaves [Range],
// [TimeRange], [Prefix], [InSet], [FlagMask] and [Label]. A planner walks
// the tree with a type switch to map leaves to store indexes and zone maps;
// [Matcher] evaluates it column-wise over batches; Match evaluates it on one
// record. String gives the text expression that [Parse] reads back.
type Pred interface {
	// Match reports whether r satisfies the predicate.
	Match(r *flow.Record) bool
	// String returns the predicate as a text expression.
	String() string
	isPred()
}

// And holds when every member holds; an empty And always holds ("any").
type And []Pred

// Or holds when at least one member holds; an empty Or never holds.
type Or []Pred

// Not holds when P does not.
type Not struct{ P Pred }

// Range holds when a numeric field (not a time, address or label) is
// within [Min, Max], both inclusive. A Range on ICMPType or ICMPCode holds
// only for ICMP and ICMPv6 records.
type Range struct {
	Field    Field
	Min, Max uint64
}

// TimeRange holds when a time field (Start, End or Duration, in
// nanoseconds) is within [Min, Max], both inclusive.
type TimeRange struct {
	Field    Field
	Min, Max int64
}

// Prefix holds when an address field (SrcAddr, DstAddr, NextHop) is inside
// the prefix; a single address is a /32 or /128 prefix. An IPv4 prefix
// never matches an IPv6 address and the other way round.
type Prefix struct {
	Field  Field
	Prefix netip.Prefix
}

// InSet holds when an address field is in Set. Name is how String shows
// the set (a file name: "src ip in @Name").
type InSet struct {
	Field Field
	Set   *IPSet
	Name  string
}

// FlagMask holds when the TCP flags field F has, among the bits in Mask,
// exactly the bits in Set: (F & Mask) == Set. SiLK's --flags-all=S/SA is
// FlagMask{Flags, SYN, SYN|ACK}: SYN set, ACK clear, the rest ignored.
type FlagMask struct {
	Field     Field // Flags, InitialFlags, SessionFlags or RevFlags
	Set, Mask flow.TCPFlags
}

// Label holds when the prefix-map label of an address field is one of
// Labels. Build it with [HasLabel], which resolves the label names.
type Label struct {
	Field  Field // SrcAddr, DstAddr or NextHop
	Map    *PrefixMap
	Name   string   // how String shows the map ("@Name")
	Labels []string // the labels that match
	ids    []bool   // by label id: whether it matches
}

func (And) isPred()       {}
func (Or) isPred()        {}
func (Not) isPred()       {}
func (Range) isPred()     {}
func (TimeRange) isPred() {}
func (Prefix) isPred()    {}
func (InSet) isPred()     {}
func (FlagMask) isPred()  {}
func (Label) isPred()     {}

// Match implements Pred.
func (a And) Match(r *flow.Record) bool {
	for _, p := range a {
		if !p.Match(r) {
			return false
		}
	}
	return true
}

// Match implements Pred.
func (o Or) Match(r *flow.Record) bool {
	for _, p := range o {
		if p.Match(r) {
			return true
		}
	}
	return false
}

// Match implements Pred.
func (n Not) Match(r *flow.Record) bool { return !n.P.Match(r) }

// Match implements Pred.
func (g Range) Match(r *flow.Record) bool {
	v := g.Field.Uint(r)
	if v == NoValue && (g.Field == ICMPType || g.Field == ICMPCode) {
		return false
	}
	return v >= g.Min && v <= g.Max
}

// Match implements Pred.
func (g TimeRange) Match(r *flow.Record) bool {
	v := int64(g.Field.Uint(r))
	return v >= g.Min && v <= g.Max
}

// Match implements Pred.
func (p Prefix) Match(r *flow.Record) bool {
	m := compilePrefix(p.Prefix)
	return m.match(p.Field.Addr(r))
}

// Match implements Pred.
func (s InSet) Match(r *flow.Record) bool { return s.Set.Contains(s.Field.Addr(r)) }

// Match implements Pred.
func (f FlagMask) Match(r *flow.Record) bool {
	return flow.TCPFlags(f.Field.Uint(r))&f.Mask == f.Set
}

// Match implements Pred.
func (l Label) Match(r *flow.Record) bool {
	id := l.Map.Lookup(l.Field.Addr(r))
	return int(id) < len(l.ids) && l.ids[id]
}

// HasLabel builds a Label predicate: the prefix-map label of the address
// field f is one of labels. It fails on a label the map does not have.
func HasLabel(f Field, m *PrefixMap, name string, labels ...string) (Label, error) {
	l := Label{Field: f, Map: m, Name: name, Labels: labels, ids: make([]bool, len(m.labels))}
	for _, s := range labels {
		id, ok := m.LabelID(s)
		if !ok {
			return Label{}, &labelError{label: s, name: name}
		}
		l.ids[id] = true
	}
	return l, nil
}

type labelError struct{ label, name string }

func (e *labelError) Error() string {
	return "query: prefix map " + e.name + " has no label " + strconv.Quote(e.label)
}

// Eq is the Range holding when f equals v.
func Eq(f Field, v uint64) Range { return Range{Field: f, Min: v, Max: v} }

// Between is the Range holding when f is within [lo, hi].
func Between(f Field, lo, hi uint64) Range { return Range{Field: f, Min: lo, Max: hi} }

// AtLeast is the Range holding when f >= v.
func AtLeast(f Field, v uint64) Range { return Range{Field: f, Min: v, Max: math.MaxUint64} }

// AtMost is the Range holding when f <= v.
func AtMost(f Field, v uint64) Range { return Range{Field: f, Min: 0, Max: v} }

// AnyPort holds when the source or the destination port is within [lo, hi].
func AnyPort(lo, hi uint16) Or {
	return Or{Between(SrcPort, uint64(lo), uint64(hi)), Between(DstPort, uint64(lo), uint64(hi))}
}

// Host holds when the address field f is a.
func Host(f Field, a netip.Addr) Prefix {
	return Prefix{Field: f, Prefix: netip.PrefixFrom(a, a.BitLen())}
}

// AnyHost holds when the source or the destination address is a.
func AnyHost(a netip.Addr) Or { return Or{Host(SrcAddr, a), Host(DstAddr, a)} }

// AnyNet holds when the source or the destination address is in p.
func AnyNet(p netip.Prefix) Or {
	return Or{Prefix{Field: SrcAddr, Prefix: p}, Prefix{Field: DstAddr, Prefix: p}}
}

// Between times: StartBetween holds when the flow started within [from, to].
func StartBetween(from, to time.Time) TimeRange {
	return TimeRange{Field: Start, Min: from.UnixNano(), Max: to.UnixNano()}
}

// EndBetween holds when the flow ended within [from, to].
func EndBetween(from, to time.Time) TimeRange {
	return TimeRange{Field: End, Min: from.UnixNano(), Max: to.UnixNano()}
}

// ActiveDuring holds when the flow was active at some time in [from, to]:
// it started no later than to and ended no earlier than from (SiLK's
// --active-time).
func ActiveDuring(from, to time.Time) And {
	return And{
		TimeRange{Field: Start, Min: math.MinInt64, Max: to.UnixNano()},
		TimeRange{Field: End, Min: from.UnixNano(), Max: math.MaxInt64},
	}
}

// DurationBetween holds when the flow lasted within [lo, hi].
func DurationBetween(lo, hi time.Duration) TimeRange {
	return TimeRange{Field: Duration, Min: int64(lo), Max: int64(hi)}
}

// TCPFlagsMatch is SiLK's flags/mask test on field f (Flags, InitialFlags,
// SessionFlags, RevFlags): the bits of mask must equal set. Bits of set
// outside mask are added to mask.
func TCPFlagsMatch(f Field, set, mask flow.TCPFlags) FlagMask {
	return FlagMask{Field: f, Set: set, Mask: mask | set}
}

// exprName is how the text expression names a field in a leaf.
func exprName(f Field) string {
	switch f {
	case SrcAddr:
		return "src"
	case DstAddr:
		return "dst"
	case NextHop:
		return "next"
	case SrcPort:
		return "src port"
	case DstPort:
		return "dst port"
	case ICMPType:
		return "icmp-type"
	case ICMPCode:
		return "icmp-code"
	case InitialFlags:
		return "initial-flags"
	case SessionFlags:
		return "session-flags"
	case RevFlags:
		return "rev-flags"
	case SrcAS:
		return "src as"
	case DstAS:
		return "dst as"
	case EndReason:
		return "reason"
	case Start:
		return "start"
	case End:
		return "end"
	case Input:
		return "input"
	case Output:
		return "output"
	}
	return f.String()
}

// String implements Pred.
func (a And) String() string {
	if len(a) == 0 {
		return "any"
	}
	return join([]Pred(a), " and ")
}

// String implements Pred.
func (o Or) String() string {
	if len(o) == 0 {
		return "not any"
	}
	return join([]Pred(o), " or ")
}

func join(ps []Pred, sep string) string {
	if len(ps) == 1 {
		return ps[0].String()
	}
	var b strings.Builder
	b.WriteByte('(')
	for i, p := range ps {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p.String())
	}
	b.WriteByte(')')
	return b.String()
}

// String implements Pred.
func (n Not) String() string { return "not " + n.P.String() }

// String implements Pred.
func (g Range) String() string {
	name := exprName(g.Field)
	val := func(v uint64) string { return formatValue(g.Field, v) }
	max := g.Field.maxValue()
	switch {
	case g.Min > g.Max:
		return "not any"
	case g.Min == g.Max:
		return name + " " + val(g.Min)
	case g.Min == 0 && g.Max >= max:
		return "(" + name + " >= 0)"
	case g.Min == 0:
		return name + " <= " + val(g.Max)
	case g.Max >= max:
		return name + " >= " + val(g.Min)
	}
	return name + " " + strconv.FormatUint(g.Min, 10) + "-" + strconv.FormatUint(g.Max, 10)
}

func formatValue(f Field, v uint64) string {
	switch f {
	case Type:
		if v <= uint64(flow.TypeExternal) {
			return flow.FlowType(v).String()
		}
	case EndReason:
		if v <= uint64(flow.EndLackOfResources) {
			return flow.EndReason(v).String()
		}
	}
	return strconv.FormatUint(v, 10)
}

// String implements Pred.
func (g TimeRange) String() string {
	name := exprName(g.Field)
	val := func(v int64) string {
		if g.Field == Duration {
			return time.Duration(v).String()
		}
		return time.Unix(0, v).UTC().Format(time.RFC3339Nano)
	}
	switch {
	case g.Min > g.Max:
		return "not any"
	case g.Min == math.MinInt64 && g.Max == math.MaxInt64:
		return "any"
	case g.Min == g.Max:
		return name + " = " + val(g.Min)
	case g.Min == math.MinInt64:
		return name + " <= " + val(g.Max)
	case g.Max == math.MaxInt64:
		return name + " >= " + val(g.Min)
	}
	return "(" + name + " >= " + val(g.Min) + " and " + name + " <= " + val(g.Max) + ")"
}

// String implements Pred.
func (p Prefix) String() string {
	if p.Prefix.IsValid() && p.Prefix.Bits() == p.Prefix.Addr().BitLen() {
		return exprName(p.Field) + " host " + p.Prefix.Addr().String()
	}
	return exprName(p.Field) + " net " + p.Prefix.String()
}

// String implements Pred.
func (s InSet) String() string { return exprName(s.Field) + " ip in @" + s.Name }

// String implements Pred.
func (f FlagMask) String() string {
	name := exprName(f.Field)
	if f.Set == f.Mask && f.Set != 0 {
		return name + " " + f.Set.String()
	}
	return name + " " + f.Set.String() + "/" + f.Mask.String()
}

// String implements Pred.
func (l Label) String() string {
	s := exprName(l.Field) + " label @" + l.Name
	if len(l.Labels) == 1 {
		return s + " " + l.Labels[0]
	}
	return s + " [" + strings.Join(l.Labels, " ") + "]"
}
