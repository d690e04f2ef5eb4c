package detect

import (
	"fmt"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Kind names what an alert is about.
type Kind string

// The kinds of alerts the built-in detectors emit. Threshold rules use
// their own name as the kind.
const (
	KindScan    Kind = "scan"    // a scanner; Detail is *Scan
	KindBeacon  Kind = "beacon"  // a periodic beacon; Detail is *Beacon
	KindLong    Kind = "long"    // a long-lived session; Detail is *Session
	KindLowSlow Kind = "lowslow" // a long session that moved little data; Detail is *Session
)

// Alert is one finding of a rule.
type Alert struct {
	Kind  Kind      // what was found
	Rule  string    // the name of the rule that fired
	Key   string    // who: the scanner, the beacon's pair, the session's 5-tuple
	Time  time.Time // stream time (the latest record end seen) when it fired
	Text  string    // one readable line
	Final bool      // true when the finding is complete; false for an early live alert
	// Detail is the finding itself: *Scan, *Beacon, *Session or *Count.
	Detail any
}

// String returns the alert as one readable line.
func (a Alert) String() string {
	state := "final"
	if !a.Final {
		state = "early"
	}
	return fmt.Sprintf("%s %-7s %s %s (%s)", a.Time.UTC().Format("2006-01-02T15:04:05Z"), a.Kind, a.Key, a.Text, state)
}

// Rule is a stateful detector fed one record at a time. Observe must not
// keep r after it returns (the caller reuses it). Flush ends the stream:
// the rule emits its final alerts and may drop its state; it may then be
// fed a new stream.
type Rule interface {
	Name() string
	Observe(r *flow.Record, emit func(Alert))
	Flush(emit func(Alert))
}

// nsTime turns stream nanoseconds into a UTC time.
func nsTime(ns int64) time.Time { return time.Unix(0, ns).UTC() }
