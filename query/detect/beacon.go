package detect

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// BeaconConfig tunes a BeaconDetector. The zero value of a field means its
// default.
type BeaconConfig struct {
	// MinEvents is the least number of connection starts a pair needs (10).
	MinEvents int
	// MinSpan is the least time between a pair's first and last start (30 min).
	MinSpan time.Duration
	// MinGap merges starts closer than this into one event (2 s), so that
	// a browser's parallel connections count once.
	MinGap time.Duration
	// Tolerance and RelTolerance set how far apart two inter-arrival gaps
	// may be and still join one cluster: the larger of Tolerance (3 s) and
	// RelTolerance (0.05) times the gap.
	Tolerance    time.Duration
	RelTolerance float64
	// MaxCV is the largest coefficient of variation (stddev / mean) a
	// dominant gap cluster may have, and the cycle lengths of a
	// bursts-then-rest schedule (0.1).
	MaxCV float64
	// MinRegularity is the least share of gaps that fall in the dominant
	// clusters (0.8).
	MinRegularity float64
	// MaxClusters is how many gap clusters may be dominant (3): one for a
	// plain beacon, two or three for bursts-then-rest schedules.
	MaxClusters int
	// MaxEvents bounds the starts remembered per pair (512, the latest).
	MaxEvents int
	// EvalEvery re-scores a pair on a live stream after this many new
	// events (16).
	EvalEvery int
	// Idle is how long a pair must be silent before its finding is final
	// and its state dropped (4 h).
	Idle time.Duration
	// MaxPairs bounds the pairs tracked at once (1<<18); beyond it, pairs
	// with few events are dropped.
	MaxPairs int
}

func (c *BeaconConfig) defaults() {
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defF := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defInt(&c.MinEvents, 10)
	defDur(&c.MinSpan, 30*time.Minute)
	defDur(&c.MinGap, 2*time.Second)
	defDur(&c.Tolerance, 3*time.Second)
	defF(&c.RelTolerance, 0.05)
	defF(&c.MaxCV, 0.1)
	defF(&c.MinRegularity, 0.8)
	defInt(&c.MaxClusters, 3)
	defInt(&c.MaxEvents, 512)
	defInt(&c.EvalEvery, 16)
	defDur(&c.Idle, 4*time.Hour)
	defInt(&c.MaxPairs, 1<<18)
}

// Beacon is a periodic series of connection starts from a source to a
// service.
type Beacon struct {
	Src, Dst   netip.Addr
	DstPort    uint16
	Protocol   uint8
	Events     int // connection starts (after merging those closer than MinGap)
	Start, End time.Time
	// Period is the most common inter-arrival gap (the mean of the largest
	// dominant cluster).
	Period time.Duration
	// Cycle is the length of a bursts-then-rest cycle: the time from one
	// burst's first start to the next burst's. It equals Period for a
	// plain beacon.
	Cycle time.Duration
	// PerCycle is the number of starts in one cycle (1 for a plain beacon).
	PerCycle int
	// Periods are the means of the dominant gap clusters, shortest first.
	Periods []time.Duration
	// Regularity is the share of gaps in the dominant clusters, 0..1.
	Regularity float64
	// CV is the largest coefficient of variation among the dominant
	// clusters: the jitter relative to the period.
	CV float64
}

// Text returns a one-line summary.
func (b *Beacon) Text() string {
	var ps []string
	for _, p := range b.Periods {
		ps = append(ps, p.String())
	}
	s := fmt.Sprintf("%d starts %s, period %s", b.Events, spanText(b.Start, b.End), b.Period)
	if b.PerCycle > 1 {
		s += fmt.Sprintf(", %d per cycle of %s", b.PerCycle, b.Cycle)
	}
	return s + fmt.Sprintf(" (gaps %s, regularity %.2f, cv %.3f)", strings.Join(ps, " "), b.Regularity, b.CV)
}

// Key returns "src -> dst:port/proto".
func (b *Beacon) Key() string {
	return fmt.Sprintf("%s -> %s", b.Src, netip.AddrPortFrom(b.Dst, b.DstPort)) + "/" + flow.ProtocolName(b.Protocol)
}

// BeaconDetector finds periodic connection starts between a source and a
// service (src, dst, dport, proto). It implements Rule.
type BeaconDetector struct {
	cfg       BeaconConfig
	pairs     map[beaconKey]int32 // index into states
	states    []beaconState
	free      []int32
	watermark int64
	lastSweep int64
	scratch   []int64
}

type beaconKey struct {
	src, dst flow.Addr
	dport    uint16
	proto    uint8
}

type beaconState struct {
	inline     [4]int64 // the first starts, before times is needed
	times      []int64  // ring of the latest starts, once more than inline
	next       int      // ring write position once full
	n          int      // events ever
	first      int64
	last       int64 // latest start taken
	seen       int64 // latest end, for idleness
	lastSport  uint16
	lastEnd    int64
	lastReason flow.EndReason
	sinceEval  int
	alerted    bool
}

// NewBeaconDetector returns a beacon detector with cfg's settings (zero
// fields take their defaults).
func NewBeaconDetector(cfg BeaconConfig) *BeaconDetector {
	cfg.defaults()
	return &BeaconDetector{cfg: cfg, pairs: make(map[beaconKey]int32)}
}

// Name implements Rule.
func (d *BeaconDetector) Name() string { return "beacon" }

// Observe implements Rule.
func (d *BeaconDetector) Observe(r *flow.Record, emit func(Alert)) {
	if r.End > d.watermark {
		d.watermark = r.End
	}
	if d.watermark-d.lastSweep >= int64(d.cfg.Idle)/8 {
		d.sweep(false, emit)
	}
	if len(d.pairs) > d.cfg.MaxPairs {
		d.shrink()
	}
	if r.Protocol == flow.ProtoTCP && (r.Flags&flow.SYN == 0 || r.InitialFlags&flow.ACK != 0) {
		return // a continuation or a server's side, not a connection start
	}
	if r.IsICMP() && !isICMPQuery(r.Protocol, r.ICMPType()) {
		return
	}
	k := beaconKey{r.Src, r.Dst, r.DstPort, r.Protocol}
	var s *beaconState
	if i, ok := d.pairs[k]; ok {
		s = &d.states[i]
	} else {
		var i int32
		if n := len(d.free); n > 0 {
			i = d.free[n-1]
			d.free = d.free[:n-1]
		} else {
			i = int32(len(d.states))
			d.states = append(d.states, beaconState{})
		}
		d.pairs[k] = i
		s = &d.states[i]
		*s = beaconState{first: r.Start, last: math.MinInt64}
	}
	continuation := s.lastReason == flow.EndActiveTimeout && r.SrcPort == s.lastSport && r.Start >= s.lastEnd
	s.lastSport, s.lastEnd, s.lastReason = r.SrcPort, r.End, r.EndReason
	if r.End > s.seen {
		s.seen = r.End
	}
	if continuation || abs64(r.Start-s.last) < int64(d.cfg.MinGap) {
		return
	}
	s.add(r.Start, d.cfg.MaxEvents)
	if s.n >= d.cfg.MinEvents {
		s.sinceEval++
		if s.sinceEval >= d.cfg.EvalEvery && !s.alerted {
			s.sinceEval = 0
			if b := d.analyze(k, s); b != nil {
				s.alerted = true
				emit(Alert{Kind: KindBeacon, Rule: d.Name(), Key: b.Key(), Time: nsTime(d.watermark), Text: b.Text(), Detail: b})
			}
		}
	}
}

// Flush implements Rule.
func (d *BeaconDetector) Flush(emit func(Alert)) { d.sweep(true, emit) }

func (s *beaconState) add(t int64, limit int) {
	s.n++
	s.last = t
	if t < s.first {
		s.first = t
	}
	if s.n <= len(s.inline) {
		s.inline[s.n-1] = t
		return
	}
	if s.times == nil {
		s.times = append(make([]int64, 0, 16), s.inline[:]...)
	}
	if len(s.times) < limit {
		s.times = append(s.times, t)
		return
	}
	s.times[s.next] = t
	s.next = (s.next + 1) % limit
}

// sweep finalizes idle pairs (all when flush) and bounds the table.
func (d *BeaconDetector) sweep(flush bool, emit func(Alert)) {
	d.lastSweep = d.watermark
	idle := d.watermark - int64(d.cfg.Idle)
	for k, i := range d.pairs {
		s := &d.states[i]
		if flush || s.seen < idle {
			if s.n >= d.cfg.MinEvents {
				if b := d.analyze(k, s); b != nil {
					emit(Alert{Kind: KindBeacon, Rule: d.Name(), Key: b.Key(), Time: nsTime(max(s.seen, d.watermark)),
						Text: b.Text(), Final: true, Detail: b})
				}
			}
			d.drop(k, i)
		}
	}
}

// drop forgets pair k, whose state is states[i].
func (d *BeaconDetector) drop(k beaconKey, i int32) {
	delete(d.pairs, k)
	d.states[i] = beaconState{}
	d.free = append(d.free, i)
}

// shrink drops the pairs with the fewest events (the least likely to be
// beacons) until the table holds three quarters of MaxPairs.
func (d *BeaconDetector) shrink() {
	var hist [65]int
	for _, i := range d.pairs {
		hist[min(d.states[i].n, 64)]++
	}
	excess := len(d.pairs) - d.cfg.MaxPairs*3/4
	limit := 0
	for dropped := 0; limit < 64 && dropped+hist[limit] < excess; limit++ {
		dropped += hist[limit]
	}
	// Drop every pair below limit and enough of those at it.
	for k, i := range d.pairs {
		if excess <= 0 {
			break
		}
		if d.states[i].n <= limit {
			d.drop(k, i)
			excess--
		}
	}
}

// analyze scores a pair's starts; nil means not a beacon.
func (d *BeaconDetector) analyze(k beaconKey, s *beaconState) *Beacon {
	if s.times != nil {
		d.scratch = append(d.scratch[:0], s.times...)
	} else {
		d.scratch = append(d.scratch[:0], s.inline[:min(s.n, len(s.inline))]...)
	}
	slices.Sort(d.scratch)
	b := AnalyzeStarts(d.scratch, d.cfg)
	if b == nil {
		return nil
	}
	b.Src, b.Dst, b.DstPort, b.Protocol = k.src.Netip(), k.dst.Netip(), k.dport, k.proto
	b.Events = s.n
	b.Start = nsTime(min(s.first, d.scratch[0]))
	return b
}

// gapCluster is a run of similar inter-arrival gaps.
type gapCluster struct {
	lo, hi    int64
	n         int
	sum, sum2 float64
}

func (c *gapCluster) mean() float64 { return c.sum / float64(c.n) }
func (c *gapCluster) cv() float64 {
	m := c.mean()
	v := c.sum2/float64(c.n) - m*m
	if v < 0 || m <= 0 {
		return 0
	}
	return math.Sqrt(v) / m
}

// AnalyzeStarts decides whether sorted start times (ns) are periodic under
// cfg (zero fields take their defaults) and returns the beacon's timing,
// or nil. The addresses of the result are left zero.
//
// The gaps between starts are sorted and cut into clusters wherever two
// neighbours differ by more than the tolerance (single linkage). The
// largest clusters (at most MaxClusters, each at least 10% of the gaps)
// are dominant; the series is a beacon when they hold MinRegularity of the
// gaps and none jitters more than MaxCV. With two or more dominant
// clusters, the longest gap is the rest of a bursts-then-rest schedule and
// the cycle is the median time from one rest's end to the next; those
// cycle lengths must not jitter more than MaxCV either.
func AnalyzeStarts(starts []int64, cfg BeaconConfig) *Beacon {
	cfg.defaults()
	n := len(starts)
	if n < cfg.MinEvents || starts[n-1]-starts[0] < int64(cfg.MinSpan) {
		return nil
	}
	gaps := make([]int64, n-1)
	for i := 1; i < n; i++ {
		gaps[i-1] = starts[i] - starts[i-1]
	}
	sorted := slices.Clone(gaps)
	slices.Sort(sorted)
	var clusters []gapCluster
	for i, g := range sorted {
		if i == 0 || g-sorted[i-1] > max(int64(cfg.Tolerance), int64(cfg.RelTolerance*float64(sorted[i-1]))) {
			clusters = append(clusters, gapCluster{lo: g})
		}
		c := &clusters[len(clusters)-1]
		c.hi = g
		c.n++
		f := float64(g)
		c.sum += f
		c.sum2 += f * f
	}
	slices.SortStableFunc(clusters, func(a, b gapCluster) int { return b.n - a.n })
	minSize := max(2, (len(gaps)+9)/10)
	var dom []gapCluster
	covered := 0
	for _, c := range clusters {
		if len(dom) == cfg.MaxClusters || c.n < minSize {
			break
		}
		dom = append(dom, c)
		covered += c.n
	}
	if len(dom) == 0 {
		return nil
	}
	b := &Beacon{Regularity: float64(covered) / float64(len(gaps))}
	for _, c := range dom {
		b.CV = math.Max(b.CV, c.cv())
	}
	if b.Regularity < cfg.MinRegularity || b.CV > cfg.MaxCV || dom[0].mean() < float64(cfg.MinGap) {
		return nil
	}
	b.Period = roundDur(dom[0].mean())
	b.Cycle, b.PerCycle = b.Period, 1
	for _, c := range dom {
		b.Periods = append(b.Periods, roundDur(c.mean()))
	}
	slices.Sort(b.Periods)
	b.End = nsTime(starts[n-1])
	b.Start = nsTime(starts[0])
	b.Events = n
	if len(dom) > 1 {
		rest := dom[0]
		for _, c := range dom[1:] {
			if c.mean() > rest.mean() {
				rest = c
			}
		}
		{
			// Times at which a burst begins: right after each rest gap.
			var cycles []int64
			var counts []int
			prevT, prevI := int64(-1), 0
			for i, g := range gaps {
				if g >= rest.lo && g <= rest.hi {
					t := starts[i+1]
					if prevT >= 0 {
						cycles = append(cycles, t-prevT)
						counts = append(counts, i+1-prevI)
					}
					prevT, prevI = t, i+1
				}
			}
			if len(cycles) >= 2 && cycleCV(cycles) > cfg.MaxCV {
				// The rests do not come back on a schedule: keep-alives
				// in irregular runs, not a bursts-then-rest beacon.
				return nil
			}
			if len(cycles) > 0 {
				slices.Sort(cycles)
				slices.Sort(counts)
				b.Cycle = time.Duration(cycles[len(cycles)/2]).Round(time.Second)
				b.PerCycle = counts[len(counts)/2]
			}
		}
	}
	return b
}

// cycleCV is the coefficient of variation of cycle lengths.
func cycleCV(cycles []int64) float64 {
	var c gapCluster
	for _, x := range cycles {
		f := float64(x)
		c.n++
		c.sum += f
		c.sum2 += f * f
	}
	return c.cv()
}

func roundDur(ns float64) time.Duration {
	d := time.Duration(ns)
	if d >= 10*time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
