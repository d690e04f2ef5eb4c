package stripplot

import (
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// By says what a strip stands for.
type By uint8

// The strip keys.
const (
	BySource      By = iota // one strip per source address
	ByDestination           // one strip per destination address
	ByPair                  // one strip per (source, destination) pair
)

// ParseBy reads "sip" (or "src", "source"), "dip" (or "dst",
// "destination") or "pair".
func ParseBy(s string) (By, error) {
	switch strings.ToLower(s) {
	case "sip", "src", "source":
		return BySource, nil
	case "dip", "dst", "destination":
		return ByDestination, nil
	case "pair":
		return ByPair, nil
	}
	return 0, fmt.Errorf("stripplot: strip key %q: want sip, dip or pair", s)
}

// String returns "sip", "dip" or "pair".
func (b By) String() string {
	switch b {
	case BySource:
		return "sip"
	case ByDestination:
		return "dip"
	}
	return "pair"
}

// Weight says what sets a tick's height.
type Weight uint8

// The tick weights.
const (
	ByBytes   Weight = iota // bytes of the flow (both directions of a biflow)
	ByPackets               // packets of the flow
)

// String returns "bytes" or "packets".
func (w Weight) String() string {
	if w == ByPackets {
		return "packets"
	}
	return "bytes"
}

// Key identifies a strip: an address, or a source and destination pair.
type Key struct {
	A, B flow.Addr // B is used only for pairs
	Pair bool
}

// ParseKey reads an address ("10.0.0.5") or a pair ("10.0.0.5-10.0.9.9",
// source first).
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if a, b, ok := strings.Cut(s, "-"); ok {
		pa, err1 := netip.ParseAddr(strings.TrimSpace(a))
		pb, err2 := netip.ParseAddr(strings.TrimSpace(b))
		if err := errors.Join(err1, err2); err != nil {
			return Key{}, fmt.Errorf("stripplot: pair %q: %w", s, err)
		}
		return Key{A: flow.AddrFrom(pa), B: flow.AddrFrom(pb), Pair: true}, nil
	}
	pa, err := netip.ParseAddr(s)
	if err != nil {
		return Key{}, fmt.Errorf("stripplot: key %q: %w", s, err)
	}
	return Key{A: flow.AddrFrom(pa)}, nil
}

// String returns the key as ParseKey reads it.
func (k Key) String() string {
	if k.Pair {
		return k.A.String() + "-" + k.B.String()
	}
	return k.A.String()
}

// Options choose what a plot shows. The zero value plots the 10 busiest
// sources over the records' own time range, ticks by bytes.
type Options struct {
	By     By
	Keys   []Key // the strips, in this order; empty: the Top busiest keys
	Top    int   // how many strips when Keys is empty (10)
	Weight Weight
	// Start and End bound the time axis; flows starting outside are left
	// out. Zero: the range of the flows' start times.
	Start, End time.Time
	Title      string // default: "flow starts by source" and so on
	Width      int    // picture width in pixels (1200)
	StripH     int    // strip height in pixels (28)
}

// Mark is one flow start on a strip.
type Mark struct {
	Time    int64  // start, ns since the Unix epoch
	Bytes   uint64 // bytes, both directions
	Packets uint64 // packets, both directions
}

// Strip is one row of the plot.
type Strip struct {
	Key     Key
	Flows   int
	Bytes   uint64
	Packets uint64
	Marks   []Mark // in start-time order
}

// Plot is a strip plot ready to render.
type Plot struct {
	Title      string
	By         By
	Weight     Weight
	Start, End time.Time
	Strips     []Strip
	Width      int
	StripH     int
}

// Builder collects records into strips. It implements flow.Sink.
type Builder struct {
	opt    Options
	wanted map[Key]int // Keys' positions, when given
	strips map[Key]*Strip
	lo, hi int64
}

// NewBuilder returns a builder for opt.
func NewBuilder(opt Options) *Builder {
	b := &Builder{opt: opt, strips: make(map[Key]*Strip), lo: 1<<63 - 1, hi: -1 << 63}
	if len(opt.Keys) > 0 {
		b.wanted = make(map[Key]int, len(opt.Keys))
		for i, k := range opt.Keys {
			b.wanted[k] = i
		}
	}
	return b
}

// Add files one record under its key.
func (b *Builder) Add(r *flow.Record) {
	if !b.opt.Start.IsZero() && r.Start < b.opt.Start.UnixNano() {
		return
	}
	if !b.opt.End.IsZero() && r.Start >= b.opt.End.UnixNano() {
		return
	}
	var k Key
	switch b.opt.By {
	case BySource:
		k.A = r.Src
	case ByDestination:
		k.A = r.Dst
	default:
		k = Key{A: r.Src, B: r.Dst, Pair: true}
	}
	if b.wanted != nil {
		if _, ok := b.wanted[k]; !ok {
			return
		}
	}
	s := b.strips[k]
	if s == nil {
		s = &Strip{Key: k}
		b.strips[k] = s
	}
	m := Mark{Time: r.Start, Bytes: r.Bytes + r.RevBytes, Packets: r.Packets + r.RevPackets}
	s.Marks = append(s.Marks, m)
	s.Flows++
	s.Bytes += m.Bytes
	s.Packets += m.Packets
	b.lo = min(b.lo, r.Start)
	b.hi = max(b.hi, r.Start)
}

// WriteBatch implements flow.Sink.
func (b *Builder) WriteBatch(batch []flow.Record) error {
	for i := range batch {
		b.Add(&batch[i])
	}
	return nil
}

// ErrEmpty is returned when no record fell on any strip.
var ErrEmpty = errors.New("stripplot: no flows to plot")

// Plot returns the plot of what was added: the wanted keys in their
// order (a wanted key without flows gets an empty strip), or the Top
// busiest keys by flows (then bytes).
func (b *Builder) Plot() (*Plot, error) {
	p := &Plot{Title: b.opt.Title, By: b.opt.By, Weight: b.opt.Weight, Start: b.opt.Start, End: b.opt.End,
		Width: b.opt.Width, StripH: b.opt.StripH}
	if p.Width <= 0 {
		p.Width = 1200
	}
	if p.StripH <= 0 {
		p.StripH = 28
	}
	if p.Title == "" {
		p.Title = "flow starts by " + map[By]string{BySource: "source", ByDestination: "destination", ByPair: "source and destination"}[b.opt.By]
	}
	if len(b.strips) == 0 && len(b.opt.Keys) == 0 {
		return nil, ErrEmpty
	}
	if b.wanted != nil {
		for _, k := range b.opt.Keys {
			if s := b.strips[k]; s != nil {
				p.Strips = append(p.Strips, *s)
			} else {
				p.Strips = append(p.Strips, Strip{Key: k})
			}
		}
	} else {
		all := make([]*Strip, 0, len(b.strips))
		for _, s := range b.strips {
			all = append(all, s)
		}
		slices.SortFunc(all, func(x, y *Strip) int {
			if x.Flows != y.Flows {
				return y.Flows - x.Flows
			}
			if x.Bytes != y.Bytes {
				if x.Bytes > y.Bytes {
					return -1
				}
				return 1
			}
			return strings.Compare(x.Key.String(), y.Key.String())
		})
		top := b.opt.Top
		if top <= 0 {
			top = 10
		}
		for _, s := range all[:min(top, len(all))] {
			p.Strips = append(p.Strips, *s)
		}
	}
	for i := range p.Strips {
		slices.SortFunc(p.Strips[i].Marks, func(x, y Mark) int {
			switch {
			case x.Time < y.Time:
				return -1
			case x.Time > y.Time:
				return 1
			}
			return 0
		})
	}
	if p.Start.IsZero() || p.End.IsZero() {
		lo, hi := b.lo, b.hi
		if lo > hi { // wanted keys, no flows at all
			return nil, ErrEmpty
		}
		if hi-lo < int64(time.Minute) {
			hi = lo + int64(time.Minute)
		}
		// Round the range out to a unit that suits its length, so the
		// axis starts and ends on round times.
		unit := time.Minute
		switch span := time.Duration(hi - lo); {
		case span > 6*time.Hour:
			unit = time.Hour
		case span > time.Hour:
			unit = 10 * time.Minute
		}
		if p.Start.IsZero() {
			p.Start = time.Unix(0, lo).UTC().Truncate(unit)
		}
		if p.End.IsZero() {
			e := time.Unix(0, hi+1).UTC()
			if t := e.Truncate(unit); t.Before(e) {
				e = t.Add(unit)
			}
			p.End = e
		}
	}
	if !p.End.After(p.Start) {
		return nil, fmt.Errorf("stripplot: end %v is not after start %v", p.End, p.Start)
	}
	return p, nil
}

// Build collects seq and returns its plot.
func Build(seq iter.Seq[flow.Record], opt Options) (*Plot, error) {
	b := NewBuilder(opt)
	for r := range seq {
		b.Add(&r)
	}
	return b.Plot()
}
