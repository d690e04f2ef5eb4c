package prefetch

import (
	"testing"
	"unsafe"
)

// TestLines: prefetching live, stale and nonsense addresses changes
// nothing and never faults.
func TestLines(t *testing.T) {
	buf := make([]uint64, 1024)
	for i := range buf {
		buf[i] = uint64(i)
	}
	addrs := []uintptr{uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&buf[512])), 0, 8, ^uintptr(0), 1 << 47}
	Lines(addrs)
	Lines(nil)
	for i := range buf {
		if buf[i] != uint64(i) {
			t.Fatalf("buf[%d] = %d", i, buf[i])
		}
	}
}

// BenchmarkLines prefetches 16 lines of a 64 MB buffer at random, as a
// table's group of packets does.
func BenchmarkLines(b *testing.B) {
	buf := make([]byte, 64<<20)
	var addrs [16]uintptr
	x := uint64(1)
	for b.Loop() {
		for i := range addrs {
			x = x*6364136223846793005 + 1442695040888963407
			addrs[i] = uintptr(unsafe.Pointer(&buf[x>>40&(64<<20-1)]))
		}
		Lines(addrs[:])
	}
}
