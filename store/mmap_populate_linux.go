package store

import (
	"os"
	"syscall"
)

// madvPopulateRead is MADV_POPULATE_READ (Linux 5.14): map the pages of
// a range in one call instead of one page fault per 64 KB of it.
const madvPopulateRead = 22

// populate maps the pages of data[off:off+n] ahead of a read, when the
// system can; failures are ignored (the read then faults them in).
func (m *mappedFile) populate(off, n int64) {
	if n < 64<<10 || m.noPopulate.Load() {
		return
	}
	start := off &^ (int64(os.Getpagesize()) - 1)
	if err := syscall.Madvise(m.data[start:off+n], madvPopulateRead); err != nil {
		m.noPopulate.Store(true)
	}
}
