//go:build !amd64

package prefetch

// Lines asks for the cache lines holding each of addrs; on this
// architecture it does nothing.
func Lines(addrs []uintptr) {}
