package detect

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// SessionConfig tunes a SessionDetector. The zero value of a field means
// its default.
type SessionConfig struct {
	// LongDuration is how long a session must last to be long-lived (1 h).
	LongDuration time.Duration
	// LowSlowDuration is how long a session must last to be low-and-slow
	// (15 min) when its rates are also under both limits below.
	LowSlowDuration time.Duration
	// LowSlowBytesPerSecond (32) and LowSlowPacketsPerMinute (4) are the
	// rate limits, both directions together, of a low-and-slow session.
	LowSlowBytesPerSecond   float64
	LowSlowPacketsPerMinute float64
	// ActiveGap is how long after a record that ended on the active
	// timeout its continuation may start (5 min, the meter's idle timeout
	// at most).
	ActiveGap time.Duration
	// ChainGap is how long after a record whose end reason is unknown (a
	// text file without the column) a record of the same 5-tuple may start
	// and still continue it (2 s).
	ChainGap time.Duration
	// ActiveTimeout is the longest one record may last: the meter's active
	// timeout (30 min). Records arrive by end time, so a continuation shows
	// up to this long after the record it continues ended.
	ActiveTimeout time.Duration
	// MinPiece is the least duration of a record with an unknown end
	// reason that may start a chain (1 min): pieces cut by an active
	// timeout are long, and short records need no state.
	MinPiece time.Duration
	// Lateness is how far records may arrive out of end-time order (30 s):
	// a chain is final only when the stream is this far past its end plus
	// its gap.
	Lateness time.Duration
	// MaxChains bounds the chains tracked at once (1<<20); beyond it the
	// oldest-ending are finalized early.
	MaxChains int
}

func (c *SessionConfig) defaults() {
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defDur(&c.LongDuration, time.Hour)
	defDur(&c.LowSlowDuration, 15*time.Minute)
	defDur(&c.ActiveGap, 5*time.Minute)
	defDur(&c.ChainGap, 2*time.Second)
	defDur(&c.Lateness, 30*time.Second)
	defDur(&c.ActiveTimeout, 30*time.Minute)
	defDur(&c.MinPiece, time.Minute)
	if c.LowSlowBytesPerSecond == 0 {
		c.LowSlowBytesPerSecond = 32
	}
	if c.LowSlowPacketsPerMinute == 0 {
		c.LowSlowPacketsPerMinute = 4
	}
	if c.MaxChains == 0 {
		c.MaxChains = 1 << 20
	}
}

// Session is a long-lived conversation: one flow record, or a chain of
// records of the same 5-tuple (either direction) that continue each other.
type Session struct {
	Src, Dst         netip.Addr // Src is the side seen first
	SrcPort, DstPort uint16
	Protocol         uint8
	Start, End       time.Time
	Duration         time.Duration
	Records          int    // flow records in the chain, both directions
	Packets, Bytes   uint64 // both directions
	BytesPerSecond   float64
	PacketsPerMinute float64
	LowSlow          bool // long enough and under both rate limits
	Long             bool // at least LongDuration
}

// Kind returns KindLowSlow or KindLong.
func (s *Session) Kind() Kind {
	if s.LowSlow {
		return KindLowSlow
	}
	return KindLong
}

// Key returns "src:port -> dst:port/proto".
func (s *Session) Key() string {
	return fmt.Sprintf("%s -> %s/%s", netip.AddrPortFrom(s.Src, s.SrcPort), netip.AddrPortFrom(s.Dst, s.DstPort), flow.ProtocolName(s.Protocol))
}

// Text returns a one-line summary.
func (s *Session) Text() string {
	return fmt.Sprintf("%s session %s, %d records, %d pkts %d bytes (%.1f B/s, %.1f pkts/min)",
		s.Duration.Round(time.Second), spanText(s.Start, s.End), s.Records,
		s.Packets, s.Bytes, s.BytesPerSecond, s.PacketsPerMinute)
}

// SessionDetector finds long-lived and low-and-slow sessions. It chains
// the records a meter cut out of one long conversation (active-timeout
// continuations, back to back with the same 5-tuple) and judges the chain
// as a whole. It implements Rule.
type SessionDetector struct {
	cfg       SessionConfig
	chains    map[flow.Key]*chain
	watermark int64
	lastSweep int64
}

type chain struct {
	key        flow.Key // as first seen
	start, end int64
	packets    uint64
	bytes      uint64
	records    int
	lastReason flow.EndReason
	alerted    bool
}

// NewSessionDetector returns a session detector with cfg's settings (zero
// fields take their defaults).
func NewSessionDetector(cfg SessionConfig) *SessionDetector {
	cfg.defaults()
	return &SessionDetector{cfg: cfg, chains: make(map[flow.Key]*chain)}
}

// Name implements Rule.
func (d *SessionDetector) Name() string { return "session" }

// gap is how long after c's end a continuation may start.
func (d *SessionDetector) gap(r flow.EndReason) int64 {
	switch r {
	case flow.EndActiveTimeout:
		return int64(d.cfg.ActiveGap)
	case flow.EndUnknown:
		return int64(d.cfg.ChainGap)
	}
	return 0
}

// wait is how long past a chain's end the stream must move before no
// continuation can arrive: the gap plus a whole record's duration (the
// continuation is emitted when it ends), or nothing for a definite end.
func (d *SessionDetector) wait(r flow.EndReason) int64 {
	if g := d.gap(r); g > 0 {
		return g + int64(d.cfg.ActiveTimeout)
	}
	return 0
}

// Observe implements Rule.
func (d *SessionDetector) Observe(r *flow.Record, emit func(Alert)) {
	if r.End > d.watermark {
		d.watermark = r.End
	}
	k := canonicalKey(r.Key())
	c := d.chains[k]
	if c != nil && r.Start-c.end > d.gap(c.lastReason) {
		d.finish(c, emit)
		delete(d.chains, k)
		c = nil
	}
	if c == nil {
		dur := r.End - r.Start
		short := dur < int64(min(d.cfg.LongDuration, d.cfg.LowSlowDuration))
		if short && (r.EndReason != flow.EndActiveTimeout && r.EndReason != flow.EndUnknown ||
			r.EndReason == flow.EndUnknown && dur < int64(d.cfg.MinPiece)) {
			// Ended for good, or too short to be a piece of a longer
			// conversation, and no finding by itself.
			d.maybeSweep(emit)
			return
		}
		c = &chain{key: r.Key(), start: r.Start, end: r.End}
		d.chains[k] = c
	}
	c.records++
	c.packets += r.Packets + r.RevPackets
	c.bytes += r.Bytes + r.RevBytes
	if r.Start < c.start {
		c.start = r.Start
	}
	if r.End >= c.end {
		c.end = r.End
		c.lastReason = r.EndReason
	}
	if !c.alerted {
		if s := d.judge(c); s != nil {
			c.alerted = true
			emit(Alert{Kind: s.Kind(), Rule: d.Name(), Key: s.Key(), Time: nsTime(d.watermark), Text: s.Text(), Detail: s})
		}
	}
	d.maybeSweep(emit)
}

func (d *SessionDetector) maybeSweep(emit func(Alert)) {
	if d.watermark-d.lastSweep >= int64(d.cfg.Lateness) || len(d.chains) > d.cfg.MaxChains {
		d.sweep(false, emit)
	}
}

// Flush implements Rule.
func (d *SessionDetector) Flush(emit func(Alert)) { d.sweep(true, emit) }

// sweep finalizes chains that can no longer grow (all when flush).
func (d *SessionDetector) sweep(flush bool, emit func(Alert)) {
	d.lastSweep = d.watermark
	lateness := int64(d.cfg.Lateness)
	over := len(d.chains) > d.cfg.MaxChains
	for k, c := range d.chains {
		if flush || c.end+d.wait(c.lastReason)+lateness < d.watermark || (over && c.end+lateness < d.watermark) {
			d.finish(c, emit)
			delete(d.chains, k)
		}
	}
}

// finish sends a chain's final alert when it is a finding.
func (d *SessionDetector) finish(c *chain, emit func(Alert)) {
	if s := d.judge(c); s != nil {
		emit(Alert{Kind: s.Kind(), Rule: d.Name(), Key: s.Key(), Time: nsTime(max(c.end, d.watermark)), Text: s.Text(), Final: true, Detail: s})
	}
}

// judge returns the chain's Session when it is long or low-and-slow.
func (d *SessionDetector) judge(c *chain) *Session {
	dur := time.Duration(c.end - c.start)
	secs := dur.Seconds()
	if secs <= 0 || dur < min(d.cfg.LongDuration, d.cfg.LowSlowDuration) {
		return nil
	}
	s := &Session{Src: c.key.Src.Netip(), Dst: c.key.Dst.Netip(), SrcPort: c.key.SrcPort, DstPort: c.key.DstPort,
		Protocol: c.key.Protocol, Start: nsTime(c.start), End: nsTime(c.end), Duration: dur, Records: c.records,
		Packets: c.packets, Bytes: c.bytes, BytesPerSecond: float64(c.bytes) / secs, PacketsPerMinute: float64(c.packets) * 60 / secs}
	s.Long = dur >= d.cfg.LongDuration
	s.LowSlow = dur >= d.cfg.LowSlowDuration && s.BytesPerSecond <= d.cfg.LowSlowBytesPerSecond &&
		s.PacketsPerMinute <= d.cfg.LowSlowPacketsPerMinute
	if !s.Long && !s.LowSlow {
		return nil
	}
	return s
}

// canonicalKey orders a key's two ends so both directions share it.
func canonicalKey(k flow.Key) flow.Key {
	r := k.Reverse()
	for i := range k.Src {
		if k.Src[i] != k.Dst[i] {
			if k.Dst[i] < k.Src[i] {
				return r
			}
			return k
		}
	}
	if k.DstPort < k.SrcPort {
		return r
	}
	return k
}
