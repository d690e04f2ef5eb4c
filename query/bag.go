package query

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/flowkit/flowkit/flow"
)

// Bag maps a key (an address or any numeric field) to a counter (flows,
// packets or bytes) — SiLK's bag, what rwbag builds. Its map is
// pointer-free. A Bag is not safe for concurrent use.
type Bag struct {
	key     Field
	counter Value // ValFlows, ValPackets or ValBytes
	m       map[[16]byte]uint64
}

// BagEntry is one key and its counter.
type BagEntry struct {
	Key   [16]byte // an address, or a number big-endian in the last 8 bytes
	Count uint64
}

// NewBag returns an empty bag keyed by key (an address or numeric field)
// that counts counter (ValFlows, ValPackets or ValBytes).
func NewBag(key Field, counter Value) (*Bag, error) {
	if !key.IsAddr() && !key.IsNumeric() {
		return nil, fmt.Errorf("query: bag key %s: want an address or numeric field", key)
	}
	if counter > ValBytes {
		return nil, fmt.Errorf("query: bag counter must be flows, packets or bytes")
	}
	return &Bag{key: key, counter: counter, m: map[[16]byte]uint64{}}, nil
}

// Key returns the key field.
func (b *Bag) Key() Field { return b.key }

func (b *Bag) keyOf(r *flow.Record) [16]byte {
	if b.key.IsAddr() {
		return b.key.Addr(r)
	}
	var k [16]byte
	binary.BigEndian.PutUint64(k[8:], b.key.Uint(r))
	return k
}

// Add counts one record, saturating at the largest uint64.
func (b *Bag) Add(r *flow.Record) {
	var v uint64 = 1
	switch b.counter {
	case ValPackets:
		v = r.Packets
	case ValBytes:
		v = r.Bytes
	}
	b.AddKey(b.keyOf(r), v)
}

// AddKey adds v to the counter of key.
func (b *Bag) AddKey(key [16]byte, v uint64) {
	old := b.m[key]
	if old+v < old {
		v = ^uint64(0) - old
	}
	b.m[key] = old + v
}

// Get returns the counter of the key r has.
func (b *Bag) Get(r *flow.Record) uint64 { return b.m[b.keyOf(r)] }

// Len returns the number of keys.
func (b *Bag) Len() int { return len(b.m) }

// Merge adds o's counters (rwbagtool --add); o must have the same key.
func (b *Bag) Merge(o *Bag) {
	for k, v := range o.m {
		b.AddKey(k, v)
	}
}

// Entries returns every key and counter in key order.
func (b *Bag) Entries() []BagEntry {
	out := make([]BagEntry, 0, len(b.m))
	for k, v := range b.m {
		out = append(out, BagEntry{k, v})
	}
	slices.SortFunc(out, func(x, y BagEntry) int { return bytes.Compare(x.Key[:], y.Key[:]) })
	return out
}

// The bag file format: magic "FKBAG001", key field (1 byte), counter (1
// byte), entry count (uint64 LE), entries in key order (16-byte key, uint64
// LE counter), CRC-32C of everything before (uint32 LE).
const bagMagic = "FKBAG001"

// MarshalBinary encodes the bag in the bag file format.
func (b *Bag) MarshalBinary() ([]byte, error) {
	ents := b.Entries()
	out := append([]byte(bagMagic), byte(b.key), byte(b.counter))
	out = binary.LittleEndian.AppendUint64(out, uint64(len(ents)))
	for _, e := range ents {
		out = append(out, e.Key[:]...)
		out = binary.LittleEndian.AppendUint64(out, e.Count)
	}
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli)), nil
}

// UnmarshalBinary decodes the bag file format, replacing the bag.
func (b *Bag) UnmarshalBinary(data []byte) error {
	if len(data) < 8+2+8+4 || string(data[:8]) != bagMagic {
		return fmt.Errorf("query: not a bag file (magic FKBAG001)")
	}
	if crc32.Checksum(data[:len(data)-4], castagnoli) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
		return fmt.Errorf("query: bag file: checksum mismatch at offset %d", len(data)-4)
	}
	body := data[18 : len(data)-4]
	n := binary.LittleEndian.Uint64(data[10:18])
	if n > uint64(len(body))/24 || uint64(len(body)) != n*24 {
		return fmt.Errorf("query: bag file: %d entries do not fit in %d bytes", n, len(body))
	}
	nb, err := NewBag(Field(data[8]), Value(data[9]))
	if err != nil {
		return err
	}
	for i := 0; i < int(n); i++ {
		e := body[24*i:]
		nb.m[[16]byte(e[:16])] = binary.LittleEndian.Uint64(e[16:24])
	}
	*b = *nb
	return nil
}
