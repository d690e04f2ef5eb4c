package query

import (
	"math"
	"math/bits"
	"slices"

	"github.com/flowkit/flowkit/flow"
)

// Matcher evaluates a predicate column-wise over batches: each leaf runs a
// tight loop over one column and narrows a selection vector, And passes
// only the surviving rows to its next member, Or only the rows still
// unmatched. It allocates only while its scratch buffers grow to the batch
// size. A Matcher is not safe for concurrent use; make one per goroutine
// (NewMatcher is cheap).
type Matcher struct {
	pred Pred
	root node
	cols RecordColumns
}

// NewMatcher compiles p.
func NewMatcher(p Pred) *Matcher {
	return &Matcher{pred: p, root: compile(p)}
}

// Pred returns the predicate the matcher evaluates.
func (m *Matcher) Pred() Pred { return m.pred }

// Select returns the selection of the records of recs that match, reusing
// sel's storage.
func (m *Matcher) Select(recs []flow.Record, sel Bits) Bits {
	m.cols.Reset(recs)
	sel = sel.Resize(len(recs))
	sel.SetAll(len(recs))
	m.root.eval(&m.cols, sel, sel)
	return sel
}

// Match reports whether one record matches, with the compiled tree
// (faster than Pred.Match, which interprets the tree as built).
func (m *Matcher) Match(r *flow.Record) bool { return m.root.match(r) }

// Refine clears the rows of sel that do not match; rows already clear are
// not looked at. sel must cover c.Len() rows. A planner calls it with the
// rows that the store's indexes left.
func (m *Matcher) Refine(c Columns, sel Bits) {
	m.root.eval(c, sel, sel)
}

// Compact moves the matching records of recs to its front, keeping their
// order, and returns how many there are. What follows them is unspecified.
func (m *Matcher) Compact(recs []flow.Record) int {
	sel := m.Select(recs, m.cols.sel)
	m.cols.sel = sel
	n := 0
	for wi, w := range sel {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			recs[n] = recs[i]
			n++
		}
	}
	return n
}

// node is a compiled predicate: out = in & pred, word by word. in and out
// may be the same slice.
type node interface {
	eval(c Columns, in, out Bits)
	match(r *flow.Record) bool
	cost() int
}

func compile(p Pred) node {
	switch p := p.(type) {
	case And:
		var kids []node
		for _, q := range p {
			k := compile(q)
			if a, ok := k.(*andNode); ok {
				kids = append(kids, a.kids...)
			} else {
				kids = append(kids, k)
			}
		}
		// Cheap and selective leaves first: later members see fewer rows.
		slices.SortStableFunc(kids, func(a, b node) int { return a.cost() - b.cost() })
		return &andNode{kids: kids}
	case Or:
		var kids []node
		for _, q := range p {
			k := compile(q)
			if o, ok := k.(*orNode); ok {
				kids = append(kids, o.kids...)
			} else {
				kids = append(kids, k)
			}
		}
		return &orNode{kids: kids}
	case Not:
		return &notNode{kid: compile(p.P)}
	case Range:
		lo, hi := p.Min, p.Max
		if hi > p.Field.maxValue() && (p.Field == ICMPType || p.Field == ICMPCode) {
			hi = p.Field.maxValue() // keeps NoValue out
		}
		if lo > hi || !p.Field.IsNumeric() || p.Field.IsTime() {
			return &orNode{} // matches nothing
		}
		return &rangeNode{f: p.Field, lo: lo, span: hi - lo}
	case TimeRange:
		if p.Min > p.Max || !p.Field.IsTime() {
			return &orNode{}
		}
		return &rangeNode{f: p.Field, lo: uint64(p.Min), span: uint64(p.Max) - uint64(p.Min)}
	case Prefix:
		return &prefixNode{f: p.Field, m: compilePrefix(p.Prefix)}
	case InSet:
		p.Set.normalize()
		return &setNode{f: p.Field, set: p.Set}
	case FlagMask:
		return &flagNode{f: p.Field, set: uint64(p.Set), mask: uint64(p.Mask)}
	case Label:
		p.Map.build()
		return &labelNode{f: p.Field, m: p.Map, ids: p.ids}
	}
	return &orNode{}
}

type andNode struct{ kids []node }

func (n *andNode) cost() int {
	c := 0
	for _, k := range n.kids {
		c += k.cost()
	}
	return c
}

func (n *andNode) eval(c Columns, in, out Bits) {
	copy(out, in)
	for _, k := range n.kids {
		k.eval(c, out, out)
	}
}

type orNode struct {
	kids      []node
	acc, rest Bits
	tmp       Bits
}

func (n *orNode) cost() int {
	c := 1
	for _, k := range n.kids {
		c += k.cost()
	}
	return c
}

func (n *orNode) eval(c Columns, in, out Bits) {
	n.acc = n.acc.Resize(len(in) * 64)
	n.rest = n.rest.Resize(len(in) * 64)
	n.tmp = n.tmp.Resize(len(in) * 64)
	copy(n.rest, in)
	for _, k := range n.kids {
		k.eval(c, n.rest, n.tmp)
		for i, t := range n.tmp {
			n.acc[i] |= t
			n.rest[i] &^= t
		}
	}
	copy(out, n.acc)
}

type notNode struct {
	kid node
	tmp Bits
}

func (n *notNode) cost() int { return n.kid.cost() + 1 }

func (n *notNode) eval(c Columns, in, out Bits) {
	n.tmp = n.tmp.Resize(len(in) * 64)
	n.kid.eval(c, in, n.tmp)
	for i := range in {
		out[i] = in[i] &^ n.tmp[i]
	}
}

// rangeNode tests lo <= v <= lo+span as one unsigned compare, v-lo <= span,
// which also orders int64 times correctly (two's complement wraps).
type rangeNode struct {
	f        Field
	lo, span uint64
}

func (n *rangeNode) cost() int { return 2 }

func (n *rangeNode) eval(c Columns, in, out Bits) {
	if n.span == math.MaxUint64 {
		copy(out, in)
		return
	}
	if rc, ok := c.(*RecordColumns); ok && !rc.have[n.f] && in.Count()*8 < rc.Len() {
		// Few rows left: test them in place rather than gather a column.
		evalRecords(n, rc.recs, in, out)
		return
	}
	vals := c.Uints(n.f)
	lo, span := n.lo, n.span
	for w, iw := range in {
		if iw == 0 {
			out[w] = 0
			continue
		}
		base := w * 64
		var m uint64
		if iw == ^uint64(0) {
			vs := vals[base : base+64]
			for j, v := range vs {
				var b uint64
				if v-lo <= span {
					b = 1
				}
				m |= b << j
			}
		} else {
			for x := iw; x != 0; x &= x - 1 {
				j := bits.TrailingZeros64(x)
				if vals[base+j]-lo <= span {
					m |= 1 << j
				}
			}
		}
		out[w] = iw & m
	}
}

type prefixNode struct {
	f Field
	m prefixMatch
}

func (n *prefixNode) cost() int { return 3 }

func (n *prefixNode) eval(c Columns, in, out Bits) {
	if rc, ok := c.(*RecordColumns); ok {
		evalRecords(n, rc.recs, in, out)
		return
	}
	if n.m.never {
		clear(out)
		return
	}
	addrs := c.Addrs(n.f)
	for w, iw := range in {
		var m uint64
		base := w * 64
		for x := iw; x != 0; x &= x - 1 {
			j := bits.TrailingZeros64(x)
			if n.m.match(addrs[base+j]) {
				m |= 1 << j
			}
		}
		out[w] = m
	}
}

type setNode struct {
	f   Field
	set *IPSet
}

func (n *setNode) cost() int { return 20 }

func (n *setNode) eval(c Columns, in, out Bits) {
	if rc, ok := c.(*RecordColumns); ok {
		evalRecords(n, rc.recs, in, out)
		return
	}
	addrs := c.Addrs(n.f)
	for w, iw := range in {
		var m uint64
		base := w * 64
		for x := iw; x != 0; x &= x - 1 {
			j := bits.TrailingZeros64(x)
			if n.set.Contains(addrs[base+j]) {
				m |= 1 << j
			}
		}
		out[w] = m
	}
}

type flagNode struct {
	f         Field
	set, mask uint64
}

func (n *flagNode) cost() int { return 2 }

func (n *flagNode) eval(c Columns, in, out Bits) {
	if rc, ok := c.(*RecordColumns); ok && !rc.have[n.f] && in.Count()*8 < rc.Len() {
		evalRecords(n, rc.recs, in, out)
		return
	}
	vals := c.Uints(n.f)
	for w, iw := range in {
		var m uint64
		base := w * 64
		for x := iw; x != 0; x &= x - 1 {
			j := bits.TrailingZeros64(x)
			if vals[base+j]&n.mask == n.set {
				m |= 1 << j
			}
		}
		out[w] = m
	}
}

type labelNode struct {
	f   Field
	m   *PrefixMap
	ids []bool
}

func (n *labelNode) cost() int { return 20 }

func (n *labelNode) eval(c Columns, in, out Bits) {
	if rc, ok := c.(*RecordColumns); ok {
		evalRecords(n, rc.recs, in, out)
		return
	}
	addrs := c.Addrs(n.f)
	for w, iw := range in {
		var m uint64
		base := w * 64
		for x := iw; x != 0; x &= x - 1 {
			j := bits.TrailingZeros64(x)
			if id := n.m.Lookup(addrs[base+j]); int(id) < len(n.ids) && n.ids[id] {
				m |= 1 << j
			}
		}
		out[w] = m
	}
}

func (n *andNode) match(r *flow.Record) bool {
	for _, k := range n.kids {
		if !k.match(r) {
			return false
		}
	}
	return true
}

func (n *orNode) match(r *flow.Record) bool {
	for _, k := range n.kids {
		if k.match(r) {
			return true
		}
	}
	return false
}

func (n *notNode) match(r *flow.Record) bool { return !n.kid.match(r) }

func (n *rangeNode) match(r *flow.Record) bool { return n.f.Uint(r)-n.lo <= n.span }

func (n *prefixNode) match(r *flow.Record) bool { return n.m.match(n.f.Addr(r)) }

func (n *setNode) match(r *flow.Record) bool { return n.set.Contains(n.f.Addr(r)) }

func (n *flagNode) match(r *flow.Record) bool { return n.f.Uint(r)&n.mask == n.set }

func (n *labelNode) match(r *flow.Record) bool {
	id := n.m.Lookup(n.f.Addr(r))
	return int(id) < len(n.ids) && n.ids[id]
}

// evalRecords evaluates a leaf straight on the records of the selected
// rows: for a batch of records that beats gathering a column first.
func evalRecords[N interface{ match(*flow.Record) bool }](n N, recs []flow.Record, in, out Bits) {
	for w, iw := range in {
		var m uint64
		base := w * 64
		for x := iw; x != 0; x &= x - 1 {
			j := bits.TrailingZeros64(x)
			if n.match(&recs[base+j]) {
				m |= 1 << j
			}
		}
		out[w] = m
	}
}
