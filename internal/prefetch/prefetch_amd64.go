package prefetch

// Lines asks for the cache lines holding each of addrs.
//
//go:noescape
func Lines(addrs []uintptr)
