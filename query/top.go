package query

import (
	"container/heap"
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
	var total float64
	for i := range groups {
		total += float64(groups[i].Get(by))
	}
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
