// Package pages holds growable arrays kept in fixed pages of PageSize
// elements: growing adds a page and copies nothing. One array grown in
// steps would copy every element each time (a pause of tens of
// milliseconds at a million flows, in which a live capture's ring fills)
// and keep spare capacity (up to an eighth of it when grown by eighths).
// The flow table keeps its entries this way, and timeouts its colder
// per-flow lists.
package pages

// Pages is a growable array of T in pages of PageSize elements. Elements
// never move, so pointers to them stay valid while it grows.
type Pages[T any] struct {
	p []*[PageSize]T
}

// PageBits sets the page size: 1024 elements.
const (
	PageBits = 10
	PageSize = 1 << PageBits
	pageMask = PageSize - 1
)

// At returns element i, which must be below Len.
func (ps *Pages[T]) At(i int32) *T { return &ps.p[i>>PageBits][i&pageMask] }

// Len returns how many elements there is room for.
func (ps *Pages[T]) Len() int { return len(ps.p) * PageSize }

// Grow adds pages until there is room for n elements, calling fill (if
// not nil) on each new page.
func (ps *Pages[T]) Grow(n int, fill func(*[PageSize]T)) {
	for ps.Len() < n {
		pg := new([PageSize]T)
		if fill != nil {
			fill(pg)
		}
		ps.p = append(ps.p, pg)
	}
}
