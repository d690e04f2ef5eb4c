package detect

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Method says which test flagged a scanner; several may.
type Method uint8

// The scan tests.
const (
	// MethodTRW is the threshold random walk over first contacts.
	MethodTRW Method = 1 << iota
	// MethodSweep is the logistic sweep score (rwscan's BLR idea): many
	// targets, small flows, few answers.
	MethodSweep
	// MethodStealth is TCP probes with flags no client sends (NULL, FIN,
	// Xmas, SYN+FIN) to several targets.
	MethodStealth
)

// String returns the methods joined by '+': "trw", "trw+sweep", ...
func (m Method) String() string {
	var parts []string
	for _, x := range []struct {
		m Method
		s string
	}{{MethodTRW, "trw"}, {MethodSweep, "sweep"}, {MethodStealth, "stealth"}} {
		if m&x.m != 0 {
			parts = append(parts, x.s)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "+")
}

// ScanConfig tunes a ScanDetector. The zero value of a field means its
// default.
type ScanConfig struct {
	// TRW's parameters, as rwscan names them: Theta0 is the probability
	// that a benign source's first contact succeeds (0.8), Theta1 a
	// scanner's (0.2); Alpha is the false-positive rate aimed at (0.01),
	// Beta the detection rate (0.99). The walk declares a scanner when the
	// likelihood ratio reaches Beta/Alpha and a benign source (and starts
	// over) when it falls to (1-Beta)/(1-Alpha).
	Theta0, Theta1, Alpha, Beta float64
	// SweepMinTargets is how many distinct targets a source needs before
	// the sweep score is computed (16).
	SweepMinTargets int
	// SweepThreshold is the sweep probability that flags a scanner (0.5).
	SweepThreshold float64
	// StealthMinTargets is how many distinct targets stealth probes must
	// reach (3).
	StealthMinTargets int
	// MinTargets is the least number of distinct targets of any reported
	// scan (4).
	MinTargets int
	// PairWindow is how long (in stream time) a one-way record waits for
	// its reverse direction (30 s). Negative: never pair (for biflow
	// sources, where a one-way record means no answer).
	PairWindow time.Duration
	// Idle is how long a source must be silent before its scan is final
	// and its state dropped (10 min).
	Idle time.Duration
	// MaxSources bounds the sources tracked at once (1<<20); beyond it,
	// sources not flagged yet are dropped at random.
	MaxSources int
	// MaxTargets bounds the distinct targets remembered per source
	// (1<<17); beyond it new contacts count as new targets.
	MaxTargets int
	// KeepScattered reports sources whose targets are scattered over as
	// many ports as hosts (each host on its own port). By default they are
	// left out: that is a peer-to-peer client reaching its peers, while a
	// scan concentrates on a few ports (horizontal) or a few hosts
	// (vertical).
	KeepScattered bool
}

func (c *ScanConfig) defaults() {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Theta0, 0.8)
	def(&c.Theta1, 0.2)
	def(&c.Alpha, 0.01)
	def(&c.Beta, 0.99)
	def(&c.SweepThreshold, 0.5)
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defInt(&c.SweepMinTargets, 16)
	defInt(&c.StealthMinTargets, 3)
	defInt(&c.MinTargets, 4)
	defInt(&c.MaxSources, 1<<20)
	defInt(&c.MaxTargets, 1<<17)
	if c.PairWindow == 0 {
		c.PairWindow = 30 * time.Second
	}
	if c.Idle == 0 {
		c.Idle = 10 * time.Minute
	}
}

// Scan is one scanner: a source address probing many targets over one
// protocol.
type Scan struct {
	Scanner    netip.Addr
	Protocol   uint8
	Shape      string // "horizontal" (many hosts), "vertical" (many ports of few hosts), "block", or "scattered" (each host its own port)
	Targets    int    // distinct targets: (host, port) for TCP/UDP, host for ICMP
	Hosts      int    // distinct destination hosts
	Ports      int    // distinct destination ports (ICMP: type/code)
	Flows      int    // contacts (records that started a conversation)
	Answered   int    // first contacts that were answered
	Unanswered int    // first contacts that failed
	Packets    uint64 // forward packets of the contacts
	Bytes      uint64 // forward bytes of the contacts
	Start, End time.Time
	Method     Method  // the tests that fired
	LogLR      float64 // TRW's log likelihood ratio when it last moved (ln(Beta/Alpha) = 4.6 fires)
	SweepScore float64 // the sweep probability, 0..1
}

// Text returns a one-line summary.
func (s *Scan) Text() string {
	return fmt.Sprintf("%s %s scan of %d targets (%d hosts, %d ports), %d flows, %.0f%% answered, %s, method %s",
		flow.ProtocolName(s.Protocol), s.Shape, s.Targets, s.Hosts, s.Ports, s.Flows,
		100*float64(s.Answered)/float64(max(1, s.Answered+s.Unanswered)),
		spanText(s.Start, s.End), s.Method)
}

// ScanDetector finds scanners. It implements Rule; feed it records in
// roughly end-time order.
//
// Per source and protocol it tracks the distinct targets contacted
// ((host, port) for TCP and UDP, host for ICMP) and whether each first
// contact was answered. TCP first contacts drive the threshold random
// walk, as in rwscan and Jung et al.: UDP and ICMP lack TRW's notion of a
// refused connection (many UDP services never answer), so those are left
// to the sweep score, which weighs the number of targets against the share
// of small and unanswered flows.
type ScanDetector struct {
	cfg        ScanConfig
	pair       *pairer
	sources    map[scanKey]*scanState
	watermark  int64
	lastSweep  int64
	llrFire    float64
	llrBenign  float64
	llrSuccess float64
	llrFailure float64
	emit       func(Alert) // valid during Observe/Flush
	handle     func(*flow.Record)
}

type scanKey struct {
	src   flow.Addr
	proto uint8
}

type target struct {
	host flow.Addr
	port uint16
}

type scanState struct {
	first, last int64 // first and last contact start
	seen        int64 // last contact's end, for idleness
	flows       int
	small       int // contacts of at most 3 packets
	unanswered  int // contacts without an answer
	stealthN    int // distinct targets hit by stealth probes
	answered    int // first contacts answered
	failed      int // first contacts failed
	packets     uint64
	bytes       uint64
	llr         float64
	nTargets    int
	inline      [4]target
	targets     map[target]struct{}
	nextSweep   int
	nextCheck   int // target count at which a scattered source is looked at again
	sweepProb   float64
	fired       Method
	alerted     bool
}

// NewScanDetector returns a scan detector with cfg's settings (zero
// fields take their defaults).
func NewScanDetector(cfg ScanConfig) *ScanDetector {
	cfg.defaults()
	d := &ScanDetector{cfg: cfg, sources: make(map[scanKey]*scanState)}
	d.pair = newPairer(int64(cfg.PairWindow), 0)
	d.llrFire = math.Log(cfg.Beta / cfg.Alpha)
	d.llrBenign = math.Log((1 - cfg.Beta) / (1 - cfg.Alpha))
	d.llrSuccess = math.Log(cfg.Theta1 / cfg.Theta0)
	d.llrFailure = math.Log((1 - cfg.Theta1) / (1 - cfg.Theta0))
	d.handle = d.contact
	return d
}

// Name implements Rule.
func (d *ScanDetector) Name() string { return "scan" }

// Observe implements Rule.
func (d *ScanDetector) Observe(r *flow.Record, emit func(Alert)) {
	d.emit = emit
	if r.End > d.watermark {
		d.watermark = r.End
	}
	d.pair.push(r, d.handle)
	if d.watermark-d.lastSweep >= int64(d.cfg.Idle)/4 || len(d.sources) > d.cfg.MaxSources {
		d.sweep(false)
	}
	d.emit = nil
}

// Flush implements Rule: every flagged source gets its final alert and
// all state is dropped.
func (d *ScanDetector) Flush(emit func(Alert)) {
	d.emit = emit
	d.pair.drain(d.handle)
	d.sweep(true)
	d.emit = nil
}

// contact folds one (possibly joined) record into its source's state.
func (d *ScanDetector) contact(r *flow.Record) {
	oc := classify(r)
	if oc == notContact {
		return
	}
	k := scanKey{r.Src, r.Protocol}
	s := d.sources[k]
	if s == nil {
		s = &scanState{first: r.Start, nextSweep: d.cfg.SweepMinTargets}
		d.sources[k] = s
	}
	if r.Start < s.first {
		s.first = r.Start
	}
	if r.Start > s.last {
		s.last = r.Start
	}
	if r.End > s.seen {
		s.seen = r.End
	}
	s.flows++
	s.packets += r.Packets
	s.bytes += r.Bytes
	if r.Packets <= 3 {
		s.small++
	}
	if oc != success {
		s.unanswered++
	}
	t := target{host: r.Dst, port: r.DstPort}
	if s.addTarget(t, d.cfg.MaxTargets) {
		if oc == success {
			s.answered++
		} else {
			s.failed++
		}
		if oc == stealth {
			s.stealthN++
			if s.stealthN >= d.cfg.StealthMinTargets && s.nTargets >= d.cfg.MinTargets {
				d.fire(k, s, MethodStealth)
			}
		}
		if s.fired&MethodTRW == 0 && k.proto == flow.ProtoTCP {
			if oc == success {
				s.llr += d.llrSuccess
			} else {
				s.llr += d.llrFailure
			}
			switch {
			case s.llr >= d.llrFire-1e-9:
				if s.nTargets >= d.cfg.MinTargets {
					d.fire(k, s, MethodTRW)
				}
			case s.llr <= d.llrBenign:
				// Benign so far. Jung et al. stop here; a live stream
				// must keep watching (a host may start scanning later),
				// so the walk stays at the benign bound instead: from
				// there it takes twice the evidence to fire, which keeps
				// a busy client's rare runs of failures from adding up
				// over a long day.
				s.llr = d.llrBenign
			}
		}
		if s.nTargets >= s.nextSweep {
			s.nextSweep *= 2
			d.score(k, s)
		}
	}
}

// addTarget records t and reports whether it is new.
func (s *scanState) addTarget(t target, limit int) bool {
	if s.targets == nil {
		for i := 0; i < min(s.nTargets, len(s.inline)); i++ {
			if s.inline[i] == t {
				return false
			}
		}
		if s.nTargets < len(s.inline) {
			s.inline[s.nTargets] = t
			s.nTargets++
			return true
		}
		s.targets = make(map[target]struct{}, 16)
		for _, x := range s.inline {
			s.targets[x] = struct{}{}
		}
	}
	if _, ok := s.targets[t]; ok {
		return false
	}
	if len(s.targets) < limit {
		s.targets[t] = struct{}{}
	}
	s.nTargets++
	return true
}

// score computes the sweep probability: a logistic function of the
// number of targets, the share of small flows, the share of unanswered
// flows, the share of flows that reached a new target, how densely the
// targets fill their /24 networks (a sweep walks an address block, a
// client's servers are scattered) and the contact rate (targets per
// minute, clamped to e^±3). Sources whose contacts were mostly answered
// score zero. The weights are set by hand, not trained: 16
// small unanswered probes within seconds, or a /24 walked at one probe a
// minute, score far above the threshold, while a client whose hundreds of
// servers never answer over a day (one-way data) and a peer-to-peer
// client whose peers mostly answer stay below it.
func (d *ScanDetector) score(k scanKey, s *scanState) {
	if s.nTargets < d.cfg.SweepMinTargets {
		return
	}
	flows := float64(s.flows)
	if 2*s.unanswered < s.flows {
		s.sweepProb = 0 // most contacts were answered: no sweep
		return
	}
	minutes := math.Max(1, float64(s.last-s.first)/60e9)
	rate := math.Max(-3, math.Min(3, math.Log(float64(s.nTargets)/minutes)))
	z := -22.0 +
		1.5*math.Log(float64(s.nTargets)) +
		3*float64(s.small)/flows +
		8*float64(s.unanswered)/flows +
		2*math.Min(1, float64(s.nTargets)/flows) +
		2*math.Log(s.hostsPerNet()) +
		3*rate
	s.sweepProb = 1 / (1 + math.Exp(-z))
	if s.sweepProb >= d.cfg.SweepThreshold {
		d.fire(k, s, MethodSweep)
	}
}

// hostsPerNet is the mean number of distinct hosts a source reached per
// /24 (IPv4) or /64 (IPv6) network it touched.
func (s *scanState) hostsPerNet() float64 {
	hosts := make(map[flow.Addr]struct{})
	nets := make(map[flow.Addr]struct{})
	add := func(t target) {
		if _, ok := hosts[t.host]; ok {
			return
		}
		hosts[t.host] = struct{}{}
		n := t.host
		if n.Is4() {
			n[15] = 0
		} else {
			clear(n[8:])
		}
		nets[n] = struct{}{}
	}
	if s.targets != nil {
		for t := range s.targets {
			add(t)
		}
	} else {
		for _, t := range s.inline[:min(s.nTargets, len(s.inline))] {
			add(t)
		}
	}
	if len(nets) == 0 {
		return 1
	}
	return float64(len(hosts)) / float64(len(nets))
}

// fire marks s as a scanner by method m and sends the early alert once.
func (d *ScanDetector) fire(k scanKey, s *scanState, m Method) {
	s.fired |= m
	if s.alerted || d.emit == nil || s.nTargets < s.nextCheck {
		return
	}
	sc := d.report(k, s)
	if d.suppressed(sc) {
		s.nextCheck = 2 * s.nTargets
		return
	}
	s.alerted = true
	d.emit(Alert{Kind: KindScan, Rule: d.Name(), Key: sc.Scanner.String(), Time: nsTime(d.watermark),
		Text: sc.Text(), Detail: sc})
}

// report builds the Scan of a source.
func (d *ScanDetector) report(k scanKey, s *scanState) *Scan {
	sc := &Scan{Scanner: k.src.Netip(), Protocol: k.proto, Targets: s.nTargets, Flows: s.flows,
		Answered: s.answered, Unanswered: s.failed, Packets: s.packets, Bytes: s.bytes,
		Start: nsTime(s.first), End: nsTime(s.last), Method: s.fired, LogLR: s.llr, SweepScore: s.sweepProb}
	hosts := make(map[flow.Addr]struct{})
	ports := make(map[uint16]struct{})
	add := func(t target) {
		hosts[t.host] = struct{}{}
		ports[t.port] = struct{}{}
	}
	if s.targets != nil {
		for t := range s.targets {
			add(t)
		}
	} else {
		for _, t := range s.inline[:min(s.nTargets, len(s.inline))] {
			add(t)
		}
	}
	sc.Hosts, sc.Ports = len(hosts), len(ports)
	switch {
	case sc.Targets >= 8 && sc.Hosts >= sc.Targets/2 && sc.Ports >= sc.Targets/2:
		sc.Shape = "scattered"
	case sc.Hosts >= sc.Targets/2:
		sc.Shape = "horizontal"
	case sc.Hosts <= 2 || sc.Ports >= 4*sc.Hosts:
		sc.Shape = "vertical"
	default:
		sc.Shape = "block"
	}
	return sc
}

// suppressed reports whether a flagged source is left out: scattered
// targets without stealth probes look like a peer-to-peer client.
func (d *ScanDetector) suppressed(sc *Scan) bool {
	return sc.Shape == "scattered" && !d.cfg.KeepScattered && sc.Method&MethodStealth == 0
}

// sweep finalizes idle sources (all when flush) and keeps the table
// within MaxSources.
func (d *ScanDetector) sweep(flush bool) {
	d.lastSweep = d.watermark
	idle := d.watermark - int64(d.cfg.Idle)
	for k, s := range d.sources {
		if flush || s.seen < idle {
			d.finish(k, s)
			delete(d.sources, k)
		}
	}
	if len(d.sources) > d.cfg.MaxSources {
		target := d.cfg.MaxSources * 9 / 10
		for k, s := range d.sources {
			if len(d.sources) <= target {
				break
			}
			if s.fired == 0 {
				delete(d.sources, k)
			}
		}
	}
}

// finish sends the final alert of a flagged source.
func (d *ScanDetector) finish(k scanKey, s *scanState) {
	s.alerted = true // the final alert below replaces an early one
	if s.nTargets >= d.cfg.SweepMinTargets {
		d.score(k, s)
	}
	if s.fired == 0 || s.nTargets < d.cfg.MinTargets || d.emit == nil {
		return
	}
	sc := d.report(k, s)
	if d.suppressed(sc) {
		return
	}
	d.emit(Alert{Kind: KindScan, Rule: d.Name(), Key: sc.Scanner.String(), Time: nsTime(max(d.watermark, s.seen)),
		Text: sc.Text(), Final: true, Detail: sc})
}
