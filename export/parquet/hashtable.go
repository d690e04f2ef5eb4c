package parquet

// keyTable maps keys to dictionary indexes: open addressing with linear
// probing, at most half full, a power of two long, with a multiplicative
// hash of the key that the caller computes (hash64, hashAddr). The
// writer's dictionaries keep one per key type (integers, IPv4 addresses,
// other addresses): several times faster than a Go map, and no pointers
// for the garbage collector to scan.
type keyTable[K comparable] struct {
	slots []keySlot[K]
	n     int
	shift uint // 64 - log2(len(slots)): a hash's top bits pick the home slot
}

type keySlot[K comparable] struct {
	key   K
	index int32 // dictionary index + 1; 0 for an empty slot
	aux   int32 // a second index + 1, where the table keeps one (the IPv4 column's)
}

// init empties the table and gives it 1<<bits slots.
func (t *keyTable[K]) init(bits uint) {
	t.slots, t.shift, t.n = make([]keySlot[K], 1<<bits), 64-bits, 0
}

// find returns k's slot, or the empty slot where it goes; h is k's hash.
func (t *keyTable[K]) find(k K, h uint64) *keySlot[K] {
	mask := uint64(len(t.slots) - 1)
	for i := h >> t.shift; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.index == 0 || s.key == k {
			return s
		}
	}
}

// set fills the empty slot that find returned for k, doubling the table
// (rehashing the keys with hash) when it is half full.
func (t *keyTable[K]) set(s *keySlot[K], k K, index, aux int32, hash func(K) uint64) {
	s.key, s.index, s.aux = k, index+1, aux+1
	if t.n++; 2*t.n > len(t.slots) {
		old := t.slots
		t.slots = make([]keySlot[K], 2*len(old))
		t.shift--
		for i := range old {
			if old[i].index != 0 {
				*t.find(old[i].key, hash(old[i].key)) = old[i]
			}
		}
	}
}

// reset empties the table, keeping its size.
func (t *keyTable[K]) reset() {
	if t.n > 0 {
		clear(t.slots)
		t.n = 0
	}
}

// hash64 is the hash of an integer key (an IPv4 address as a number too).
func hash64(v uint64) uint64 { return v * 0x9e3779b97f4a7c15 }
