package query

import (
	"container/heap"
	"math/bits"
	"slices"
)

// Ranked is one row of a top-N list.
type Ranked struct {
	*Group
	Value      uint64  // the ranking value
	Percent    float64 // Value as a percentage of the total over all groups
	Cumulative float64 // running sum of Percent down the list
}

// Top returns the n groups with the largest value of by (bottom: the
// smallest), best first, ties broken by key, with percentages of the total
// over all groups and a cumulative column (SiLK's rwstats --top/--bottom
// --count=n). It costs O(len(groups) log n). The rows point into groups.
func Top(groups []Group, by Value, n int, bottom bool) []Ranked {
	if n <= 0 {
		return nil
	}
	var sum exactSum
	for i := range groups {
		sum.add(groups[i].Get(by))
	}
	total := sum.float()
	// better reports whether a ranks before b.
	better := func(a, b *Group) bool {
		va, vb := a.Get(by), b.Get(by)
		if va != vb {
			return (va > vb) != bottom
		}
		return compareKeys(&a.Key, &b.Key) < 0
	}
	h := &rankHeap{worse: func(a, b *Group) bool { return better(b, a) }}
	for i := range groups {
		g := &groups[i]
		if len(h.g) < n {
			heap.Push(h, g)
		} else if better(g, h.g[0]) {
			h.g[0] = g
			heap.Fix(h, 0)
		}
	}
	out := make([]Ranked, len(h.g))
	slices.SortFunc(h.g, func(a, b *Group) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	cum := 0.0
	for i, g := range h.g {
		v := g.Get(by)
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(v) / total
		}
		cum += pct
		out[i] = Ranked{Group: g, Value: v, Percent: pct, Cumulative: cum}
	}
	return out
}

// Top is the top (or bottom) n of the grouper's groups by value by, as
// the package function Top ranks them, without building and sorting every
// group first: it keeps a heap of group numbers and fetches a key only to
// break a tie, so a top-10 over 200,000 groups costs a pass over their
// aggregates. The rows point into a fresh slice of n groups.
func (g *Grouper) Top(by Value, n int, bottom bool) []Ranked {
	if n <= 0 {
		return nil
	}
	var sum exactSum
	for i := range g.aggs {
		sum.add(g.aggs[i].Get(by))
	}
	total := sum.float()
	var ka, kb [MaxKeyBytes]byte
	better := func(a, b uint32) bool {
		va, vb := g.aggs[a].Get(by), g.aggs[b].Get(by)
		if va != vb {
			return (va > vb) != bottom
		}
		g.tab.key(a, &ka)
		g.tab.key(b, &kb)
		return compareKeys(&ka, &kb) < 0
	}
	h := &idHeap{worse: func(a, b uint32) bool { return better(b, a) }}
	for id := range g.aggs {
		id := uint32(id)
		if len(h.ids) < n {
			heap.Push(h, id)
		} else if better(id, h.ids[0]) {
			h.ids[0] = id
			heap.Fix(h, 0)
		}
	}
	slices.SortFunc(h.ids, func(a, b uint32) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	groups := make([]Group, len(h.ids))
	out := make([]Ranked, len(h.ids))
	cum := 0.0
	for i, id := range h.ids {
		groups[i].Aggregate = g.aggs[id]
		g.tab.key(id, &groups[i].Key)
		v := groups[i].Get(by)
		pct := 0.0
		if total > 0 {
			pct = 100 * float64(v) / total
		}
		cum += pct
		out[i] = Ranked{Group: &groups[i], Value: v, Percent: pct, Cumulative: cum}
	}
	return out
}

// idHeap keeps the worst of the kept group numbers on top.
type idHeap struct {
	ids   []uint32
	worse func(a, b uint32) bool
}

func (h *idHeap) Len() int           { return len(h.ids) }
func (h *idHeap) Less(i, j int) bool { return h.worse(h.ids[i], h.ids[j]) }
func (h *idHeap) Swap(i, j int)      { h.ids[i], h.ids[j] = h.ids[j], h.ids[i] }
func (h *idHeap) Push(x any)         { h.ids = append(h.ids, x.(uint32)) }
func (h *idHeap) Pop() any {
	x := h.ids[len(h.ids)-1]
	h.ids = h.ids[:len(h.ids)-1]
	return x
}

// exactSum adds uint64 values without rounding or overflow (128 bits), so
// a total does not depend on the order of the groups.
type exactSum struct{ hi, lo uint64 }

func (s *exactSum) add(v uint64) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, v, 0)
	s.hi += carry
}

func (s *exactSum) float() float64 { return float64(s.hi)*0x1p64 + float64(s.lo) }

// rankHeap keeps the worst of the kept groups on top.
type rankHeap struct {
	g     []*Group
	worse func(a, b *Group) bool
}

func (h *rankHeap) Len() int           { return len(h.g) }
func (h *rankHeap) Less(i, j int) bool { return h.worse(h.g[i], h.g[j]) }
func (h *rankHeap) Swap(i, j int)      { h.g[i], h.g[j] = h.g[j], h.g[i] }
func (h *rankHeap) Push(x any)         { h.g = append(h.g, x.(*Group)) }
func (h *rankHeap) Pop() any {
	x := h.g[len(h.g)-1]
	h.g = h.g[:len(h.g)-1]
	return x
}
