//go:build !unix

package store

import "golang.org/x/exp/mmap"

// mappedFile is a file mapped read-only (golang.org/x/exp/mmap where the
// system calls of mmap_unix.go are missing); it does not hand out its
// bytes, so chunks are copied out.
type mappedFile struct{ *mmap.ReaderAt }

func openMapped(path string) (*mappedFile, error) {
	r, err := mmap.Open(path)
	if err != nil {
		return nil, err
	}
	return &mappedFile{r}, nil
}

// Bytes returns nil: the chunks are read with ReadAt.
func (m *mappedFile) Bytes() []byte { return nil }

func (m *mappedFile) populate(off, n int64) {}
