package capture

import "github.com/flowkit/flowkit/flow"

// Fragment table sizing. The table is a fixed array probed linearly over a
// short window: inserting never allocates, and when the window is full the
// entry that expires first is replaced (a flood of fragments degrades to
// unmatched fragments, never to unbounded memory).
const (
	// DefaultFragmentTableSize is the number of datagrams whose first
	// fragment's ports are remembered at once.
	DefaultFragmentTableSize = 4096
	// DefaultFragmentTimeout is how long (packet time) a first fragment's
	// ports stay usable: Linux's ipfrag_time.
	DefaultFragmentTimeout = 30_000_000_000 // ns
	fragmentProbe          = 8
)

// fragKey identifies one fragmented datagram: RFC 791 (source, destination,
// protocol, identification) for IPv4, the same with the 32-bit fragment
// header identification for IPv6.
type fragKey struct {
	src, dst flow.Addr
	id       uint32
	proto    uint8
}

type fragEntry struct {
	key              fragKey
	expires          int64 // ns; 0 = free
	srcPort, dstPort uint16
	proto            uint8 // transport protocol, behind any IPv6 extension headers
}

// fragTable remembers the ports of first fragments so that later fragments
// of the same datagram can be attributed to the same flow.
type fragTable struct {
	entries []fragEntry
	mask    uint64
	ttl     int64
}

// newFragTable sizes a table; its memory is allocated with the first
// fragment, as most captures have none.
func newFragTable(size int, ttl int64) fragTable {
	n := 16
	for n < size {
		n <<= 1
	}
	return fragTable{mask: uint64(n - 1), ttl: ttl}
}

func (t *fragTable) slot(k *fragKey) uint64 {
	fk := flow.Key{Src: k.src, Dst: k.dst, SrcPort: uint16(k.id >> 16), DstPort: uint16(k.id), Protocol: k.proto}
	return fk.Hash()
}

// put records the ports and protocol of a first fragment seen at time now.
func (t *fragTable) put(k fragKey, srcPort, dstPort uint16, proto uint8, now int64) {
	if t.entries == nil {
		t.entries = make([]fragEntry, t.mask+1)
	}
	h := t.slot(&k)
	victim := -1
	for i := uint64(0); i < fragmentProbe; i++ {
		j := int((h + i) & t.mask)
		e := &t.entries[j]
		if e.expires != 0 && e.key == k {
			victim = j
			break
		}
		if victim < 0 || e.expires < t.entries[victim].expires {
			victim = j // free (0) or expired entries sort first
		}
	}
	expires := now + t.ttl
	if expires == 0 {
		expires = 1
	}
	t.entries[victim] = fragEntry{key: k, expires: expires, srcPort: srcPort, dstPort: dstPort, proto: proto}
}

// get returns the ports and protocol of the first fragment of k if it was
// seen and has not expired at time now.
func (t *fragTable) get(k fragKey, now int64) (srcPort, dstPort uint16, proto uint8, ok bool) {
	if t.entries == nil {
		return 0, 0, 0, false
	}
	h := t.slot(&k)
	for i := uint64(0); i < fragmentProbe; i++ {
		e := &t.entries[(h+i)&t.mask]
		if e.expires != 0 && e.key == k {
			if now > e.expires {
				return 0, 0, 0, false
			}
			return e.srcPort, e.dstPort, e.proto, true
		}
	}
	return 0, 0, 0, false
}
