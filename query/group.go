package query

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/flowkit/flowkit/flow"
)

// MaxKeyBytes is the most a group-by key may take: addresses take 16
// bytes, ports 2, protocols 1, labels 4, counters and times 8.
const MaxKeyBytes = 64

// MaxDistinct is how many distinct-count columns a Grouper keeps.
const MaxDistinct = 4

// Value is one aggregate column of a group, what rwuniq --values names.
type Value uint8

// The aggregate columns. ValDistinct+i is the distinct count of
// GroupSpec.Distinct[i].
const (
	ValFlows    Value = iota // number of flows
	ValPackets               // sum of packets
	ValBytes                 // sum of bytes
	ValStart                 // earliest start
	ValEnd                   // latest end
	ValDistinct              // first distinct count; more follow
)

// GroupSpec says how to group: by Keys (any fields; SrcLabel and DstLabel
// need Map), optionally with Start and End keys floored to TimeBin, and
// which fields to count distinct values of per group.
type GroupSpec struct {
	Keys     []Field
	Map      *PrefixMap
	TimeBin  time.Duration
	Distinct []Field
}

// ParseValues reads rwuniq-style value names: flows (or records),
// packets, bytes, stime, etime and distinct:FIELD. It returns the values
// and the fields of the distinct counts, in order.
func ParseValues(list string) ([]Value, []Field, error) {
	var vals []Value
	var distinct []Field
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		switch name {
		case "":
			continue
		case "flows", "records", "flow", "records-count":
			vals = append(vals, ValFlows)
		case "packets", "pkts":
			vals = append(vals, ValPackets)
		case "bytes":
			vals = append(vals, ValBytes)
		case "stime", "start", "first":
			vals = append(vals, ValStart)
		case "etime", "end", "last":
			vals = append(vals, ValEnd)
		default:
			fname, ok := strings.CutPrefix(name, "distinct:")
			if !ok {
				return nil, nil, fmt.Errorf("query: unknown value %q: want flows, packets, bytes, stime, etime or distinct:FIELD", name)
			}
			f, err := ParseField(fname)
			if err != nil {
				return nil, nil, err
			}
			if len(distinct) == MaxDistinct {
				return nil, nil, fmt.Errorf("query: at most %d distinct counts", MaxDistinct)
			}
			vals = append(vals, ValDistinct+Value(len(distinct)))
			distinct = append(distinct, f)
		}
	}
	if len(vals) == 0 {
		return nil, nil, fmt.Errorf("query: empty value list")
	}
	return vals, distinct, nil
}

// Aggregate holds the sums of one group.
type Aggregate struct {
	Flows, Packets, Bytes uint64
	Start, End            int64 // earliest start, latest end
	Distinct              [MaxDistinct]uint64
}

// Get returns one column; times come as their int64 bits.
func (a *Aggregate) Get(v Value) uint64 {
	switch v {
	case ValFlows:
		return a.Flows
	case ValPackets:
		return a.Packets
	case ValBytes:
		return a.Bytes
	case ValStart:
		return uint64(a.Start)
	case ValEnd:
		return uint64(a.End)
	}
	if i := int(v - ValDistinct); v >= ValDistinct && i < MaxDistinct {
		return a.Distinct[i]
	}
	return 0
}

func (a *Aggregate) merge(o *Aggregate) {
	a.Flows += o.Flows
	a.Packets += o.Packets
	a.Bytes += o.Bytes
	a.Start = min(a.Start, o.Start)
	a.End = max(a.End, o.End)
}

// Group is one result row: the key and its aggregate.
type Group struct {
	Aggregate
	Key [MaxKeyBytes]byte // the key fields, big-endian, in spec order
}

// keyTable maps fixed-size keys to group numbers: an array for keys of
// up to two bytes, else an open-addressing table for one of four key sizes
// so that short keys hash and compare fast.
type keyTable interface {
	index(k *[MaxKeyBytes]byte) (id uint32, isNew bool)
	key(id uint32, dst *[MaxKeyBytes]byte)
	find(k *[MaxKeyBytes]byte) (uint32, bool)
	len() int
}

// probeTable is an open-addressing hash table of fixed-size keys: a slot
// holds 32 bits of the key's hash and the group number, so most probes
// touch one array and compare no key; the keys sit in insertion order in
// their own slice. It beats the built-in map by skipping its generic key
// hashing and its buckets.
type probeTable[K [8]byte | [16]byte | [32]byte | [64]byte] struct {
	slots []uint64 // hash<<32 | id+1; 0 is empty
	keys  []K
	mask  uint64
}

func newProbeTable[K [8]byte | [16]byte | [32]byte | [64]byte]() *probeTable[K] {
	return &probeTable[K]{slots: make([]uint64, 1024), mask: 1023}
}

// hashKey mixes the key's 64-bit words (wyhash-style multiply-fold).
func hashKey[K [8]byte | [16]byte | [32]byte | [64]byte](k *K) uint64 {
	p := unsafe.Pointer(k)
	h := uint64(0x9e3779b97f4a7c15)
	for i := uintptr(0); i < unsafe.Sizeof(*k); i += 8 {
		w := *(*uint64)(unsafe.Add(p, i))
		hi, lo := bits.Mul64(h^w, 0xbf58476d1ce4e5b9)
		h = hi ^ lo
	}
	return h
}

func (t *probeTable[K]) index(k *[MaxKeyBytes]byte) (uint32, bool) {
	kk := (*K)(unsafe.Pointer(k))
	h := hashKey(kk)
	tag := h >> 32 << 32
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			id := uint32(len(t.keys))
			t.keys = append(t.keys, *kk)
			t.slots[i] = tag | uint64(id+1)
			if uint64(len(t.keys))*2 > t.mask {
				t.grow()
			}
			return id, true
		}
		if s>>32<<32 == tag && t.keys[uint32(s)-1] == *kk {
			return uint32(s) - 1, false
		}
	}
}

func (t *probeTable[K]) grow() {
	slots := make([]uint64, 2*len(t.slots))
	mask := uint64(len(slots) - 1)
	for id := range t.keys {
		h := hashKey(&t.keys[id])
		i := h & mask
		for slots[i] != 0 {
			i = (i + 1) & mask
		}
		slots[i] = h>>32<<32 | uint64(id+1)
	}
	t.slots, t.mask = slots, mask
}

func (t *probeTable[K]) find(k *[MaxKeyBytes]byte) (uint32, bool) {
	kk := (*K)(unsafe.Pointer(k))
	h := hashKey(kk)
	tag := h >> 32 << 32
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s>>32<<32 == tag && t.keys[uint32(s)-1] == *kk {
			return uint32(s) - 1, true
		}
	}
}

func (t *probeTable[K]) key(id uint32, dst *[MaxKeyBytes]byte) {
	*(*K)(unsafe.Pointer(dst)) = t.keys[id]
}

func (t *probeTable[K]) len() int { return len(t.keys) }

// denseTable serves keys of at most two bytes (a port, a protocol, a
// sensor) from an array instead of a map.
type denseTable struct {
	ids  []int32 // by key value; -1 when absent
	keys []uint16
}

func newDenseTable() *denseTable {
	t := &denseTable{ids: make([]int32, 1<<16)}
	for i := range t.ids {
		t.ids[i] = -1
	}
	return t
}

func (t *denseTable) index(k *[MaxKeyBytes]byte) (uint32, bool) {
	v := uint16(k[0])<<8 | uint16(k[1])
	if id := t.ids[v]; id >= 0 {
		return uint32(id), false
	}
	id := len(t.keys)
	t.ids[v] = int32(id)
	t.keys = append(t.keys, v)
	return uint32(id), true
}

func (t *denseTable) find(k *[MaxKeyBytes]byte) (uint32, bool) {
	id := t.ids[uint16(k[0])<<8|uint16(k[1])]
	return uint32(id), id >= 0
}

func (t *denseTable) key(id uint32, dst *[MaxKeyBytes]byte) {
	dst[0], dst[1] = byte(t.keys[id]>>8), byte(t.keys[id])
}

func (t *denseTable) len() int { return len(t.keys) }

// distinctKey is one (group, column, value) seen, for distinct counts.
type distinctKey struct {
	group uint32
	col   uint8
	val   [16]byte
}

// Grouper groups records by key fields and sums them (SiLK's rwuniq). Its
// tables hold no pointers, keys are fixed-size byte arrays of the smallest
// size that fits (2, 8, 16, 32 or 64 bytes): 200,000 groups take about
// 20 MB whatever the number of records. A Grouper is not safe for concurrent
// use; give each goroutine one and Merge them.
type Grouper struct {
	spec     GroupSpec
	offs     []int // byte offset of each key field
	size     int   // key bytes used
	tab      keyTable
	aggs     []Aggregate
	distinct map[distinctKey]struct{}
	buf      [MaxKeyBytes]byte
	rec      flow.Record // AddMatch's row when no column path fits
}

// NewGrouper checks spec and returns an empty Grouper.
func NewGrouper(spec GroupSpec) (*Grouper, error) {
	g := &Grouper{spec: spec}
	for _, f := range spec.Keys {
		if f >= numFields {
			return nil, fmt.Errorf("query: bad key field %d", f)
		}
		if f.IsLabel() && spec.Map == nil {
			return nil, fmt.Errorf("query: key %s needs a prefix map", f)
		}
		g.offs = append(g.offs, g.size)
		g.size += f.width()
	}
	if g.size > MaxKeyBytes {
		return nil, fmt.Errorf("query: key of %d bytes is longer than %d", g.size, MaxKeyBytes)
	}
	if len(spec.Distinct) > MaxDistinct {
		return nil, fmt.Errorf("query: at most %d distinct counts", MaxDistinct)
	}
	for _, f := range spec.Distinct {
		if f.IsLabel() && spec.Map == nil {
			return nil, fmt.Errorf("query: distinct %s needs a prefix map", f)
		}
	}
	switch {
	case g.size <= 2:
		g.tab = newDenseTable()
	case g.size <= 8:
		g.tab = newProbeTable[[8]byte]()
	case g.size <= 16:
		g.tab = newProbeTable[[16]byte]()
	case g.size <= 32:
		g.tab = newProbeTable[[32]byte]()
	default:
		g.tab = newProbeTable[[64]byte]()
	}
	if len(spec.Distinct) > 0 {
		g.distinct = map[distinctKey]struct{}{}
	}
	return g, nil
}

// Spec returns the grouping spec.
func (g *Grouper) Spec() GroupSpec { return g.spec }

// putField writes field f of r into dst (f.width() bytes, big-endian, times
// with the sign bit flipped so that bytes order like values).
func (g *Grouper) putField(dst []byte, f Field, r *flow.Record) {
	switch {
	case f.IsAddr():
		a := f.Addr(r)
		copy(dst[:16], a[:])
		return
	case f == SrcLabel:
		binary.BigEndian.PutUint32(dst, g.spec.Map.Lookup(r.Src))
		return
	case f == DstLabel:
		binary.BigEndian.PutUint32(dst, g.spec.Map.Lookup(r.Dst))
		return
	}
	v := f.Uint(r)
	if f == Start || f == End {
		if bin := int64(g.spec.TimeBin); bin > 0 {
			t := int64(v)
			q := t / bin
			if t%bin < 0 {
				q--
			}
			v = uint64(q * bin)
		}
	}
	if f.IsTime() {
		v ^= 1 << 63
	}
	switch f.width() {
	case 1:
		dst[0] = byte(v)
	case 2:
		binary.BigEndian.PutUint16(dst, uint16(v))
	case 4:
		binary.BigEndian.PutUint32(dst, uint32(v))
	default:
		binary.BigEndian.PutUint64(dst, v)
	}
}

// Add counts one record into its group.
func (g *Grouper) Add(r *flow.Record) {
	for i, f := range g.spec.Keys {
		g.putField(g.buf[g.offs[i]:], f, r)
	}
	id, isNew := g.tab.index(&g.buf)
	if isNew {
		g.aggs = append(g.aggs, Aggregate{Start: math.MaxInt64, End: math.MinInt64})
	}
	a := &g.aggs[id]
	a.Flows++
	a.Packets += r.Packets
	a.Bytes += r.Bytes
	a.Start = min(a.Start, r.Start)
	a.End = max(a.End, r.End)
	for i, f := range g.spec.Distinct {
		dk := distinctKey{group: id, col: uint8(i)}
		g.putDistinct(dk.val[:], f, r)
		if _, seen := g.distinct[dk]; !seen {
			g.distinct[dk] = struct{}{}
			a.Distinct[i]++
		}
	}
}

func (g *Grouper) putDistinct(dst []byte, f Field, r *flow.Record) {
	if f.IsAddr() || f.IsLabel() {
		g.putField(dst, f, r)
		return
	}
	binary.BigEndian.PutUint64(dst, f.Uint(r))
}

// AddBatch counts every record of batch.
func (g *Grouper) AddBatch(batch []flow.Record) {
	for i := range batch {
		g.Add(&batch[i])
	}
}

// Len returns the number of groups.
func (g *Grouper) Len() int { return len(g.aggs) }

// Merge adds the groups of o, which must have the same spec, to g.
func (g *Grouper) Merge(o *Grouper) {
	remap := make([]uint32, len(o.aggs))
	var k [MaxKeyBytes]byte
	for id := range o.aggs {
		o.tab.key(uint32(id), &k)
		nid, isNew := g.tab.index(&k)
		if isNew {
			g.aggs = append(g.aggs, Aggregate{Start: math.MaxInt64, End: math.MinInt64})
		}
		g.aggs[nid].merge(&o.aggs[id])
		remap[id] = nid
	}
	for dk := range o.distinct {
		dk.group = remap[dk.group]
		if _, seen := g.distinct[dk]; !seen {
			g.distinct[dk] = struct{}{}
			g.aggs[dk.group].Distinct[dk.col]++
		}
	}
}

// Groups returns every group, in the order of their keys' bytes (which is
// the order of the key values, addresses IPv4 first).
func (g *Grouper) Groups() []Group {
	// Sort group numbers, not groups: a comparison that took two Group
	// values copied 300 bytes and moved them to the heap on every call.
	keys := make([][MaxKeyBytes]byte, len(g.aggs))
	ids := make([]uint32, len(g.aggs))
	for id := range g.aggs {
		g.tab.key(uint32(id), &keys[id])
		ids[id] = uint32(id)
	}
	slices.SortFunc(ids, func(a, b uint32) int { return compareKeys(&keys[a], &keys[b]) })
	out := make([]Group, len(g.aggs))
	for i, id := range ids {
		out[i] = Group{Aggregate: g.aggs[id], Key: keys[id]}
	}
	return out
}

func compareKeys(a, b *[MaxKeyBytes]byte) int {
	return strings.Compare(unsafe.String(&a[0], MaxKeyBytes), unsafe.String(&b[0], MaxKeyBytes))
}

// Lookup returns the aggregate of the group r falls in.
func (g *Grouper) Lookup(r *flow.Record) (Aggregate, bool) {
	var k [MaxKeyBytes]byte
	for i, f := range g.spec.Keys {
		g.putField(k[g.offs[i]:], f, r)
	}
	id, ok := g.tab.find(&k)
	if !ok {
		return Aggregate{}, false
	}
	return g.aggs[id], true
}

// KeyUint returns key field i of grp as a number (times as int64 bits,
// labels as label ids).
func (g *Grouper) KeyUint(grp *Group, i int) uint64 {
	f, b := g.spec.Keys[i], grp.Key[g.offs[i]:]
	var v uint64
	switch f.width() {
	case 1:
		v = uint64(b[0])
	case 2:
		v = uint64(binary.BigEndian.Uint16(b))
	case 4:
		v = uint64(binary.BigEndian.Uint32(b))
	case 8:
		v = binary.BigEndian.Uint64(b)
	}
	if f.IsTime() {
		v ^= 1 << 63
	}
	return v
}

// KeyAddr returns address key field i of grp.
func (g *Grouper) KeyAddr(grp *Group, i int) flow.Addr {
	return flow.Addr(grp.Key[g.offs[i] : g.offs[i]+16])
}

// AppendKey appends key field i of grp as text: addresses, port and
// protocol numbers, flag letters, RFC 3339 times, seconds for durations,
// label names, flow type and end reason names.
func (g *Grouper) AppendKey(dst []byte, grp *Group, i int) []byte {
	f := g.spec.Keys[i]
	if f.IsAddr() {
		return g.KeyAddr(grp, i).AppendText(dst)
	}
	v := g.KeyUint(grp, i)
	return appendValue(dst, f, v, g.spec.Map)
}

// appendValue formats one field value.
func appendValue(dst []byte, f Field, v uint64, m *PrefixMap) []byte {
	switch {
	case f.IsLabel():
		if m != nil {
			return append(dst, m.Label(uint32(v))...)
		}
	case f.IsFlags():
		return flow.TCPFlags(v).AppendText(dst)
	case f == Start || f == End:
		return time.Unix(0, int64(v)).UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z07:00")
	case f == Duration:
		return strconv.AppendFloat(dst, float64(int64(v))/1e9, 'f', 3, 64)
	case f == Type:
		return append(dst, flow.FlowType(v).String()...)
	case f == EndReason:
		return append(dst, flow.EndReason(v).String()...)
	}
	return strconv.AppendUint(dst, v, 10)
}
