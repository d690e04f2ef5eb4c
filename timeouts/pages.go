package timeouts

// pages is a growable array of T held in pages of pageSize elements.
// Growing adds pages and copies nothing: one array grown in steps would
// copy every element each time (a pause at a million flows) and keep
// spare capacity (up to an eighth of it when grown by eighths).
type pages[T any] struct {
	p []*[pageSize]T
}

// pageBits sets the page size: 1024 elements, as the flow table's pages
// of entries.
const (
	pageBits = 10
	pageSize = 1 << pageBits
	pageMask = pageSize - 1
)

// at returns element i, which must be below len.
func (ps *pages[T]) at(i int32) *T { return &ps.p[i>>pageBits][i&pageMask] }

// len returns how many elements there is room for.
func (ps *pages[T]) len() int { return len(ps.p) * pageSize }

// grow adds pages until there is room for n elements, calling fill on
// each new page.
func (ps *pages[T]) grow(n int, fill func(*[pageSize]T)) {
	for ps.len() < n {
		pg := new([pageSize]T)
		if fill != nil {
			fill(pg)
		}
		ps.p = append(ps.p, pg)
	}
}
