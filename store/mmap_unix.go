//go:build unix

package store

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// mappedFile is a file mapped read-only. Unlike golang.org/x/exp/mmap it
// hands out its bytes, so checksums and decoders read chunks in place
// instead of copying them first.
type mappedFile struct {
	data       []byte
	once       sync.Once
	noPopulate atomic.Bool
}

// openMapped maps the file at path.
func openMapped(path string) (*mappedFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size == 0 {
		return &mappedFile{}, nil
	}
	if size < 0 || int64(int(size)) != size {
		return nil, fmt.Errorf("%s: file of %d bytes is too large to map", path, size)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, &os.PathError{Op: "mmap", Path: path, Err: err}
	}
	return &mappedFile{data: data}, nil
}

// ReadAt implements io.ReaderAt.
func (m *mappedFile) ReadAt(p []byte, off int64) (int, error) {
	return readAtBytes(m.data, p, off)
}

// Len returns the file size.
func (m *mappedFile) Len() int { return len(m.data) }

// Bytes returns the mapping; it is valid until Close.
func (m *mappedFile) Bytes() []byte { return m.data }

// Close unmaps the file.
func (m *mappedFile) Close() error {
	var err error
	m.once.Do(func() {
		if m.data != nil {
			err = syscall.Munmap(m.data)
		}
	})
	return err
}
