package pages

import "testing"

// TestPagesGrowKeepsElements: growing adds whole pages, fills only the
// new ones, and leaves elements (and pointers to them) where they were.
func TestPagesGrowKeepsElements(t *testing.T) {
	var ps Pages[int]
	fills := 0
	ps.Grow(1, func(pg *[PageSize]int) { fills++ })
	if ps.Len() != PageSize || fills != 1 {
		t.Fatalf("Len %d after 1 fill(s) %d, want %d and 1", ps.Len(), fills, PageSize)
	}
	p := ps.At(5)
	*p = 42
	ps.Grow(3*PageSize+1, func(pg *[PageSize]int) { fills++; pg[0] = -1 })
	if ps.Len() != 4*PageSize || fills != 4 {
		t.Fatalf("Len %d, fills %d: want %d and 4", ps.Len(), fills, 4*PageSize)
	}
	if ps.At(5) != p || *p != 42 || *ps.At(0) != 0 || *ps.At(PageSize) != -1 {
		t.Fatal("an element moved or an old page was filled again")
	}
	ps.Grow(10, nil) // room already there: nothing changes
	if ps.Len() != 4*PageSize {
		t.Fatalf("Len %d after a smaller Grow", ps.Len())
	}
}
