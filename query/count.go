package query

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// LoadScheme says where a flow's records, bytes and packets land when
// counting per time bin (SiLK's rwcount --load-scheme).
type LoadScheme uint8

// The load schemes.
const (
	LoadStart        LoadScheme = iota // all in the bin of the start time
	LoadEnd                            // all in the bin of the end time
	LoadMiddle                         // all in the bin of the midpoint
	LoadSpread                         // spread evenly across the bins the flow spans
	LoadProportional                   // spread in proportion to the time spent in each bin (rwcount's default)
)

var loadNames = [...]string{"start", "end", "middle", "spread", "proportional"}

// String returns the scheme's name as ParseLoadScheme reads it.
func (l LoadScheme) String() string {
	if int(l) < len(loadNames) {
		return loadNames[l]
	}
	return fmt.Sprintf("load%d", uint8(l))
}

// ParseLoadScheme reads start, end, middle, spread or proportional (also
// SiLK's numbers 0-4 and names start-spike, end-spike, middle-spike,
// bin-uniform and time-proportional).
func ParseLoadScheme(s string) (LoadScheme, error) {
	switch strings.ToLower(s) {
	case "start", "start-spike", "1":
		return LoadStart, nil
	case "end", "end-spike", "2":
		return LoadEnd, nil
	case "middle", "middle-spike", "3":
		return LoadMiddle, nil
	case "spread", "bin-uniform", "0":
		return LoadSpread, nil
	case "proportional", "time-proportional", "4":
		return LoadProportional, nil
	}
	return 0, fmt.Errorf("query: unknown load scheme %q: want start, end, middle, spread or proportional", s)
}

// BinCount is the traffic of one time bin. With the spreading schemes the
// sums are fractional.
type BinCount struct {
	Start                   time.Time
	Records, Bytes, Packets float64
}

// Counter sums records, bytes and packets per time bin (SiLK's rwcount).
// Bins are aligned to multiples of the bin size since the Unix epoch. A
// flow spread over many bins costs O(1): the even part goes through a
// difference array. Bins live in pages of 1024 allocated as traffic lands
// in them, so a stray record years away costs one page, not the bins in
// between. The zero Counter is not ready: use NewCounter.
type Counter struct {
	bin   int64
	load  LoadScheme
	pages map[int64]*binPage
	// The page last used: flows arrive roughly in time order.
	lastIdx  int64
	lastPage *binPage
}

const pageBins = 1024

// binPage holds direct sums and difference-array entries (which apply
// from their bin onwards) for pageBins bins.
type binPage struct {
	sums, diffs [pageBins][3]float64
}

// NewCounter returns a counter with the given bin size (at least 1 ns).
func NewCounter(bin time.Duration, load LoadScheme) *Counter {
	if bin <= 0 {
		bin = 1
	}
	return &Counter{bin: int64(bin), load: load, pages: map[int64]*binPage{}}
}

// floorDiv divides rounding toward minus infinity.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// binOf returns the bin index of t.
func (c *Counter) binOf(t int64) int64 { return floorDiv(t, c.bin) }

// slot returns the page entry of bin b.
func (c *Counter) slot(b int64) (p *binPage, i int64) {
	pi := floorDiv(b, pageBins)
	if c.lastPage != nil && pi == c.lastIdx {
		return c.lastPage, b - pi*pageBins
	}
	p = c.pages[pi]
	if p == nil {
		p = new(binPage)
		c.pages[pi] = p
	}
	c.lastIdx, c.lastPage = pi, p
	return p, b - pi*pageBins
}

func (c *Counter) put(b int64, f, by, pk float64) {
	p, i := c.slot(b)
	s := &p.sums[i]
	s[0] += f
	s[1] += by
	s[2] += pk
}

// Add counts one record.
func (c *Counter) Add(r *flow.Record) {
	by, pk := float64(r.Bytes), float64(r.Packets)
	end := max(r.End, r.Start)
	switch c.load {
	case LoadStart, LoadEnd, LoadMiddle:
		t := r.Start
		if c.load == LoadEnd {
			t = end
		} else if c.load == LoadMiddle {
			t = r.Start + (end-r.Start)/2
		}
		c.put(c.binOf(t), 1, by, pk)
		return
	}
	b0, b1 := c.binOf(r.Start), c.binOf(end)
	if b0 == b1 {
		c.put(b0, 1, by, pk)
		return
	}
	if c.load == LoadSpread {
		k := 1 / float64(b1-b0+1)
		c.addEven(b0, b1, k, by*k, pk*k)
		return
	}
	// Proportional: the edge bins get their part of the time, the inner
	// bins a whole bin's share each.
	dur := float64(end - r.Start)
	first := float64((b0+1)*c.bin-r.Start) / dur
	last := float64(end-b1*c.bin) / dur
	c.put(b0, first, by*first, pk*first)
	c.put(b1, last, by*last, pk*last)
	if b1 > b0+1 {
		k := float64(c.bin) / dur
		c.addEven(b0+1, b1-1, k, by*k, pk*k)
	}
}

// addEven adds the same amounts to bins lo..hi.
func (c *Counter) addEven(lo, hi int64, f, by, pk float64) {
	p, i := c.slot(lo)
	d := &p.diffs[i]
	d[0] += f
	d[1] += by
	d[2] += pk
	p, i = c.slot(hi + 1)
	d = &p.diffs[i]
	d[0] -= f
	d[1] -= by
	d[2] -= pk
}

// AddMatch counts the selected rows of a store block read with at least
// the Start, Bytes and Packets columns, without building records. Read End
// too unless the load scheme is LoadStart: a block without it counts every
// flow as if it ended where it started.
func (c *Counter) AddMatch(m *BlockMatch) {
	cols := m.Cols
	if cols == nil || m.Count == 0 {
		return
	}
	hasEnd := cols.Mask&(1<<store.ColEnd) != 0
	var r flow.Record
	for wi, w := range m.Rows {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			w &= w - 1
			r.Start, r.End = cols.Start[i], cols.Start[i]
			if hasEnd {
				r.End = cols.End[i]
			}
			r.Bytes, r.Packets = cols.Bytes[i], cols.Packets[i]
			c.Add(&r)
		}
	}
}

// AddBatch counts every record of batch.
func (c *Counter) AddBatch(batch []flow.Record) {
	for i := range batch {
		c.Add(&batch[i])
	}
}

// Merge adds o's counts to c; both must have the same bin size.
func (c *Counter) Merge(o *Counter) {
	for pi, op := range o.pages {
		p := c.pages[pi]
		if p == nil {
			p = new(binPage)
			c.pages[pi] = p
		}
		for i := range op.sums {
			for j := range 3 {
				p.sums[i][j] += op.sums[i][j]
				p.diffs[i][j] += op.diffs[i][j]
			}
		}
	}
}

// Bins returns the bins that hold traffic, in time order. (rwcount also
// prints the empty bins between them; the caller fills those in when it
// wants them, see [Counter.BinSize].)
func (c *Counter) Bins() []BinCount {
	if len(c.pages) == 0 {
		return nil
	}
	keys := make([]int64, 0, len(c.pages))
	for k := range c.pages {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []BinCount
	var run [3]float64
	emit := func(b int64, s [3]float64) {
		v := BinCount{Start: time.Unix(0, b*c.bin).UTC(),
			Records: clean(s[0] + run[0]), Bytes: clean(s[1] + run[1]), Packets: clean(s[2] + run[2])}
		if v.Records > 0 { // else only rounding residue is left
			out = append(out, v)
		}
	}
	for n, k := range keys {
		p := c.pages[k]
		for i := range p.sums {
			for j := range 3 {
				run[j] += p.diffs[i][j]
			}
			emit(k*pageBins+int64(i), p.sums[i])
		}
		// A flow spread across pages that hold nothing else.
		if clean(run[0]) != 0 && n+1 < len(keys) {
			for b := (k + 1) * pageBins; b < keys[n+1]*pageBins; b++ {
				emit(b, [3]float64{})
			}
		}
	}
	return out
}

// BinSize returns the bin size.
func (c *Counter) BinSize() time.Duration { return time.Duration(c.bin) }

// clean turns the rounding residue of the difference arrays into zero.
func clean(v float64) float64 {
	if v < 1e-9 && v > -1e-9 {
		return 0
	}
	return v
}
