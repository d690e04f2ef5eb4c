package detect

import (
	"fmt"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Threshold is the generic streaming rule of SiLK's Analysis Pipeline: it
// alerts when at least Count records that Match share a key within Window
// of stream time. K is the key type (a flow.Addr, a flow.Key, a port...),
// chosen by the Key function. Each key alerts at most once per Window.
type Threshold[K comparable] struct {
	// RuleName names the rule and is the Kind of its alerts.
	RuleName string
	// Match selects the records the rule counts; nil counts every record.
	Match func(*flow.Record) bool
	// Key picks what records are grouped by.
	Key func(*flow.Record) K
	// Count is how many matching records within Window fire the rule.
	Count int
	// Window is the sliding time window, by record start times.
	Window time.Duration

	keys      map[K]*thresholdState
	watermark int64
	lastSweep int64
}

// Count is the detail of a Threshold alert.
type Count struct {
	Key        string
	Records    int // matching records in the window when it fired
	Start, End time.Time
}

type thresholdState struct {
	times   []int64 // ring of the latest Count start times
	next    int
	quiet   int64 // no alert before this time
	lastEnd int64
}

// Name implements Rule.
func (t *Threshold[K]) Name() string { return t.RuleName }

// Observe implements Rule.
func (t *Threshold[K]) Observe(r *flow.Record, emit func(Alert)) {
	if r.End > t.watermark {
		t.watermark = r.End
	}
	if t.keys == nil {
		t.keys = make(map[K]*thresholdState)
	}
	if t.watermark-t.lastSweep > int64(t.Window) {
		t.lastSweep = t.watermark
		for k, s := range t.keys {
			if s.lastEnd+int64(t.Window) < t.watermark {
				delete(t.keys, k)
			}
		}
	}
	if t.Match != nil && !t.Match(r) {
		return
	}
	k := t.Key(r)
	s := t.keys[k]
	if s == nil {
		s = &thresholdState{times: make([]int64, 0, max(1, t.Count))}
		t.keys[k] = s
	}
	if r.End > s.lastEnd {
		s.lastEnd = r.End
	}
	if len(s.times) < cap(s.times) {
		s.times = append(s.times, r.Start)
	} else {
		s.times[s.next] = r.Start
		s.next = (s.next + 1) % len(s.times)
	}
	if len(s.times) < t.Count {
		return
	}
	oldest := s.times[s.next%len(s.times)]
	if r.Start-oldest > int64(t.Window) || r.Start < s.quiet {
		return
	}
	s.quiet = r.Start + int64(t.Window)
	c := &Count{Key: fmt.Sprint(k), Records: t.Count, Start: nsTime(oldest), End: nsTime(r.Start)}
	emit(Alert{Kind: Kind(t.RuleName), Rule: t.RuleName, Key: c.Key, Time: nsTime(t.watermark),
		Text:  fmt.Sprintf("%d matching records within %s", t.Count, time.Duration(r.Start-oldest).Round(time.Millisecond)),
		Final: true, Detail: c})
}

// Flush implements Rule: it drops all state.
func (t *Threshold[K]) Flush(func(Alert)) { t.keys = nil }
