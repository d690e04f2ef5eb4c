package synth

import (
	"errors"
	"time"
)

// The timeouts the ground truth assumes (YAF's defaults, flowkit's metering
// contract).
const (
	Idle   = 300 * time.Second  // idle timeout
	Active = 1800 * time.Second // active timeout
	Grace  = 5 * time.Second    // how long a closing TCP flow still takes packets
)

// DefaultStart is the start of the synthesized day when Config.Start is zero.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// DefaultSnapLen is the snap length written in the pcap header when
// Config.SnapLen is 0: nothing is truncated.
const DefaultSnapLen = 262144

// ErrUnknownScenario is returned (wrapped) for a scenario name that
// ScenarioNames does not list.
var ErrUnknownScenario = errors.New("synth: unknown scenario")

// Config selects what Generate synthesizes.
type Config struct {
	// Seed chooses the random stream; the same Config gives the same bytes.
	Seed uint64
	// Start is the start of the day (00:00 of the scenarios' clock);
	// zero means DefaultStart.
	Start time.Time
	// Scenarios lists scenario names (see ScenarioNames); empty means all.
	Scenarios []string
	// Nanosecond writes nanosecond timestamps; otherwise microseconds.
	// Packet times are rounded to the resolution before the truth is made.
	Nanosecond bool
	// SnapLen truncates every captured frame to this many bytes (the IP
	// length fields keep the full length); 0 keeps whole frames.
	SnapLen int
}

func (c *Config) start() time.Time {
	if c.Start.IsZero() {
		return DefaultStart
	}
	return c.Start.UTC()
}

func (c *Config) quantum() int64 {
	if c.Nanosecond {
		return 1
	}
	return 1000
}

func snapLen(n int) int {
	if n <= 0 {
		return DefaultSnapLen
	}
	return n
}
