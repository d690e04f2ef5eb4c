package query

import (
	"bufio"
	"bytes"
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"

	"github.com/flowkit/flowkit/flow"
)

// CompareRecords orders a and b by keys in turn: addresses by their 16
// bytes (IPv4 before most IPv6), times as signed numbers, everything else
// as unsigned numbers. It returns -1, 0 or +1.
func CompareRecords(a, b *flow.Record, keys []Field) int {
	for _, f := range keys {
		var c int
		switch {
		case f.IsAddr():
			x, y := f.Addr(a), f.Addr(b)
			c = bytes.Compare(x[:], y[:])
		case f.IsTime():
			c = cmp.Compare(int64(f.Uint(a)), int64(f.Uint(b)))
		default:
			c = cmp.Compare(f.Uint(a), f.Uint(b))
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// SortRecords sorts recs by keys in place, stably. It sorts a permutation
// of small (key, index) pairs and then moves each record once, which beats
// swapping whole records around.
func SortRecords(recs []flow.Record, keys []Field, reverse bool) {
	if len(recs) < 2 {
		return
	}
	applyPermutation(recs, sortPerm(recs, keys, reverse))
}

// sortPerm returns the stable sorted order of recs as indexes.
func sortPerm(recs []flow.Record, keys []Field, reverse bool) []int32 {
	perm := make([]int32, len(recs))
	if len(keys) == 1 && !keys[0].IsAddr() && !keys[0].IsLabel() {
		// One numeric key: radix-sort (key, index) pairs.
		f := keys[0]
		pairs := make([]keyIndex, len(recs))
		for i := range recs {
			k := f.Uint(&recs[i])
			if f.IsTime() {
				k ^= 1 << 63 // int64 order as uint64
			}
			if reverse {
				k = ^k
			}
			pairs[i] = keyIndex{k, int32(i)}
		}
		pairs = radixSortPairs(pairs, make([]keyIndex, len(pairs)))
		for i, p := range pairs {
			perm[i] = p.i
		}
		return perm
	}
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(a, b int32) int {
		c := CompareRecords(&recs[a], &recs[b], keys)
		if reverse {
			c = -c
		}
		if c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return perm
}

// keyIndex is a record's sort key and its index.
type keyIndex struct {
	k uint64
	i int32
}

// radixSortPairs sorts pairs by k, stably (equal keys keep their order,
// so they stay in index order), with one counting pass per key byte that
// is not the same in every pair: times within a block or an hour share
// their high bytes, so most of the eight passes are skipped. tmp must be
// as long as pairs; the result is one of the two.
func radixSortPairs(pairs, tmp []keyIndex) []keyIndex {
	if len(pairs) < 64 {
		slices.SortStableFunc(pairs, func(a, b keyIndex) int { return cmp.Compare(a.k, b.k) })
		return pairs
	}
	var counts [8][256]int
	for _, p := range pairs {
		k := p.k
		for b := range 8 {
			counts[b][byte(k>>(8*b))]++
		}
	}
	src, dst := pairs, tmp
	for b := range 8 {
		c := &counts[b]
		if c[byte(src[0].k>>(8*b))] == len(src) {
			continue // every key has this byte: nothing moves
		}
		var offs [256]int
		sum := 0
		for v := range 256 {
			offs[v] = sum
			sum += c[v]
		}
		shift := 8 * b
		for _, p := range src {
			v := byte(p.k >> shift)
			dst[offs[v]] = p
			offs[v]++
		}
		src, dst = dst, src
	}
	return src
}

// applyPermutation sets recs[i] = old recs[perm[i]] by following cycles,
// moving each record once; it destroys perm.
func applyPermutation(recs []flow.Record, perm []int32) {
	for i := range perm {
		if perm[i] < 0 || int(perm[i]) == i {
			continue
		}
		tmp := recs[i]
		j := i
		for {
			k := int(perm[j])
			perm[j] = -1
			if k == i {
				recs[j] = tmp
				break
			}
			recs[j] = recs[k]
			j = k
		}
	}
}

// recordSize is the size of one record in a spill run.
const recordSize = int(unsafe.Sizeof(flow.Record{}))

// Sorter sorts a stream of records by fields (SiLK's rwsort). It keeps
// records in memory up to a budget; beyond it, it sorts what it holds and
// spills it as a run to a temporary file, and Output merges the runs.
// Runs hold records as their in-memory bytes (flow.Record has no
// pointers): they are private to the process and deleted by Close.
type Sorter struct {
	keys    []Field
	reverse bool
	budget  int // records held before a spill
	dir     string
	buf     []flow.Record
	runs    []*os.File
}

// NewSorter returns a Sorter by keys that holds at most memBudget bytes of
// records (at least one batch) and spills to files in dir ("" for the
// system's temporary directory). reverse sorts in descending order.
func NewSorter(keys []Field, reverse bool, memBudget int64, dir string) *Sorter {
	budget := max(int(memBudget/int64(recordSize)), flow.DefaultBatchSize)
	return &Sorter{keys: keys, reverse: reverse, budget: budget, dir: dir}
}

// Runs returns how many runs have been spilled to disk so far.
func (s *Sorter) Runs() int { return len(s.runs) }

// WriteBatch adds records; it implements flow.Sink.
func (s *Sorter) WriteBatch(batch []flow.Record) error {
	for len(batch) > 0 {
		room := s.budget - len(s.buf)
		if room == 0 {
			if err := s.spill(); err != nil {
				return err
			}
			continue
		}
		k := min(room, len(batch))
		if s.buf == nil {
			// The whole budget at once: growing step by step would leave
			// several times its size in garbage behind. Pages never
			// written are never touched.
			s.buf = make([]flow.Record, 0, s.budget)
		}
		s.buf = append(s.buf, batch[:k]...)
		batch = batch[k:]
	}
	return nil
}

func (s *Sorter) spill() error {
	SortRecords(s.buf, s.keys, s.reverse)
	f, err := os.CreateTemp(s.dir, "flowkit-sort-*.run")
	if err != nil {
		return fmt.Errorf("query: sort spill: %w", err)
	}
	os.Remove(f.Name()) // the open file stays usable; nothing is left behind
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 1<<20)
	if _, err := w.Write(recordBytes(s.buf)); err != nil {
		return fmt.Errorf("query: sort spill: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("query: sort spill: %w", err)
	}
	s.buf = s.buf[:0]
	return nil
}

func recordBytes(recs []flow.Record) []byte {
	if len(recs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&recs[0])), len(recs)*recordSize)
}

// Output sorts what was added and writes it to dst in batches, merging the
// spilled runs. The Sorter is then empty (runs are closed).
func (s *Sorter) Output(dst flow.Sink) error {
	defer s.Close()
	if len(s.runs) == 0 {
		// Everything is in memory: gather the records in sorted order
		// into batches instead of moving them into place first.
		if len(s.buf) == 0 {
			return nil
		}
		perm := sortPerm(s.buf, s.keys, s.reverse)
		out := make([]flow.Record, min(flow.DefaultBatchSize, len(perm)))
		for off := 0; off < len(perm); off += len(out) {
			batch := out[:min(len(out), len(perm)-off)]
			for i, j := range perm[off : off+len(batch)] {
				batch[i] = s.buf[j]
			}
			if err := dst.WriteBatch(batch); err != nil {
				return err
			}
		}
		s.buf = s.buf[:0]
		return nil
	}
	SortRecords(s.buf, s.keys, s.reverse)
	// Each run, and the in-memory rest as the last, feeds the merge.
	h := &mergeHeap{keys: s.keys, reverse: s.reverse}
	// The read buffers of the runs share a quarter of the budget: the
	// in-memory rest already holds up to all of it.
	per := max(s.budget/4/(len(s.runs)+1), 64)
	for i, f := range s.runs {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		c := &runCursor{r: bufio.NewReaderSize(f, 1<<16), buf: make([]flow.Record, per), order: i}
		if err := c.fill(); err != nil {
			return err
		}
		if c.ok() {
			h.c = append(h.c, c)
		}
	}
	if len(s.buf) > 0 {
		h.c = append(h.c, &runCursor{buf: s.buf, n: len(s.buf), order: len(s.runs)})
	}
	heap.Init(h)
	out := make([]flow.Record, 0, flow.DefaultBatchSize)
	for len(h.c) > 0 {
		c := h.c[0]
		out = append(out, c.buf[c.pos])
		if len(out) == cap(out) {
			if err := dst.WriteBatch(out); err != nil {
				return err
			}
			out = out[:0]
		}
		c.pos++
		if c.pos == c.n {
			if err := c.fill(); err != nil {
				return err
			}
		}
		if c.ok() {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	if len(out) > 0 {
		return dst.WriteBatch(out)
	}
	return nil
}

// Close drops the records and the spill files.
func (s *Sorter) Close() error {
	var errs []error
	for _, f := range s.runs {
		errs = append(errs, f.Close())
	}
	s.runs = nil
	s.buf = s.buf[:0]
	return errors.Join(errs...)
}

// runCursor reads one sorted run back in batches.
type runCursor struct {
	r      *bufio.Reader // nil for the in-memory run
	buf    []flow.Record
	pos, n int
	order  int // run number, to keep the sort stable
}

func (c *runCursor) ok() bool { return c.pos < c.n }

func (c *runCursor) fill() error {
	c.pos, c.n = 0, 0
	if c.r == nil {
		return nil
	}
	b := recordBytes(c.buf)
	k, err := io.ReadFull(c.r, b)
	if k%recordSize != 0 {
		return fmt.Errorf("query: sort run %d truncated", c.order)
	}
	c.n = k / recordSize
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return nil
}

type mergeHeap struct {
	c       []*runCursor
	keys    []Field
	reverse bool
}

func (h *mergeHeap) Len() int { return len(h.c) }
func (h *mergeHeap) Less(i, j int) bool {
	a, b := h.c[i], h.c[j]
	c := CompareRecords(&a.buf[a.pos], &b.buf[b.pos], h.keys)
	if h.reverse {
		c = -c
	}
	if c != 0 {
		return c < 0
	}
	return a.order < b.order
}
func (h *mergeHeap) Swap(i, j int) { h.c[i], h.c[j] = h.c[j], h.c[i] }
func (h *mergeHeap) Push(x any)    { h.c = append(h.c, x.(*runCursor)) }
func (h *mergeHeap) Pop() any {
	x := h.c[len(h.c)-1]
	h.c = h.c[:len(h.c)-1]
	return x
}
