//go:build unix && !linux

package store

// populate does nothing where MADV_POPULATE_READ is missing: the read
// faults the pages in.
func (m *mappedFile) populate(off, n int64) {}
