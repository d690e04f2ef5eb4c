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
	var sum exactSum
	for i := range groups {
		sum.add(groups[i].Get(by))
	}
	best := selectBest(len(groups), n, func(a, b int) bool {
		va, vb := groups[a].Get(by), groups[b].Get(by)
		if va != vb {
			return (va > vb) != bottom
		}
		return compareKeys(&groups[a].Key, &groups[b].Key) < 0
	})
	rows := make([]*Group, len(best))
	for i, j := range best {
		rows[i] = &groups[j]
	}
	return rank(rows, by, sum.float())
}

// Top is the top (or bottom) n of the grouper's groups by value by, as
// the package function Top ranks them, without building and sorting every
// group first: it selects group numbers and fetches a key only to break a
// tie, so a top-10 over 200,000 groups costs a pass over their
// aggregates. The rows point into a fresh slice of n groups.
func (g *Grouper) Top(by Value, n int, bottom bool) []Ranked {
	if n <= 0 {
		return nil
	}
	var sum exactSum
	for i := range g.aggs {
		sum.add(g.aggs[i].Get(by))
	}
	var ka, kb [MaxKeyBytes]byte
	best := selectBest(len(g.aggs), n, func(a, b int) bool {
		va, vb := g.aggs[a].Get(by), g.aggs[b].Get(by)
		if va != vb {
			return (va > vb) != bottom
		}
		g.tab.key(uint32(a), &ka)
		g.tab.key(uint32(b), &kb)
		return compareKeys(&ka, &kb) < 0
	})
	groups := make([]Group, len(best))
	rows := make([]*Group, len(best))
	for i, id := range best {
		groups[i].Aggregate = g.aggs[id]
		g.tab.key(uint32(id), &groups[i].Key)
		rows[i] = &groups[i]
	}
	return rank(rows, by, sum.float())
}

// selectBest returns the indexes of the n best of count items, best first,
// keeping a heap of the n best seen so far: O(count log n).
func selectBest(count, n int, better func(a, b int) bool) []int {
	if n <= 0 {
		return nil
	}
	h := &indexHeap{worse: func(a, b int) bool { return better(b, a) }}
	for i := range count {
		if len(h.ix) < n {
			heap.Push(h, i)
		} else if better(i, h.ix[0]) {
			h.ix[0] = i
			heap.Fix(h, 0)
		}
	}
	slices.SortFunc(h.ix, func(a, b int) int {
		if better(a, b) {
			return -1
		}
		return 1
	})
	return h.ix
}

// rank turns the chosen groups, best first, into rows with percentages
// of total and the cumulative column.
func rank(groups []*Group, by Value, total float64) []Ranked {
	if len(groups) == 0 {
		return nil
	}
	out := make([]Ranked, len(groups))
	cum := 0.0
	for i, g := range groups {
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

// indexHeap keeps the worst of the kept indexes on top.
type indexHeap struct {
	ix    []int
	worse func(a, b int) bool
}

func (h *indexHeap) Len() int           { return len(h.ix) }
func (h *indexHeap) Less(i, j int) bool { return h.worse(h.ix[i], h.ix[j]) }
func (h *indexHeap) Swap(i, j int)      { h.ix[i], h.ix[j] = h.ix[j], h.ix[i] }
func (h *indexHeap) Push(x any)         { h.ix = append(h.ix, x.(int)) }
func (h *indexHeap) Pop() any {
	x := h.ix[len(h.ix)-1]
	h.ix = h.ix[:len(h.ix)-1]
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
