package timeouts

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the timeouts of a flow table.
type Config struct {
	// Idle ends a flow that has seen no packet for longer than Idle.
	Idle time.Duration
	// Active ends a flow once it has lasted Active; the next packet of its
	// key starts a new flow.
	Active time.Duration
	// Grace is how long a closing TCP flow (FIN both ways, or RST) still
	// collects packets before it ends.
	Grace time.Duration
	// MaxFlows caps the number of concurrent flows; 0 means no cap.
	MaxFlows int
}

// YAF's defaults.
const (
	DefaultIdle   = 300 * time.Second
	DefaultActive = 1800 * time.Second
	DefaultGrace  = 5 * time.Second
)

// Default returns YAF's timeouts: idle 300 s, active 1800 s, grace 5 s, no
// cap on concurrent flows.
func Default() Config {
	return Config{Idle: DefaultIdle, Active: DefaultActive, Grace: DefaultGrace}
}

// ErrInvalid is wrapped by every error that Validate returns.
var ErrInvalid = errors.New("timeouts: invalid configuration")

// Validate reports the first impossible setting: a non-positive idle or
// active timeout, a negative grace or cap.
func (c Config) Validate() error {
	switch {
	case c.Idle <= 0:
		return fmt.Errorf("%w: idle timeout %v must be positive", ErrInvalid, c.Idle)
	case c.Active <= 0:
		return fmt.Errorf("%w: active timeout %v must be positive", ErrInvalid, c.Active)
	case c.Grace < 0:
		return fmt.Errorf("%w: grace %v must not be negative", ErrInvalid, c.Grace)
	case c.MaxFlows < 0:
		return fmt.Errorf("%w: max flows %d must not be negative (0 means no cap)", ErrInvalid, c.MaxFlows)
	case c.MaxFlows > maxSlots:
		return fmt.Errorf("%w: max flows %d exceeds %d", ErrInvalid, c.MaxFlows, maxSlots)
	}
	return nil
}

// String formats the configuration as the command-line flags spell it.
func (c Config) String() string {
	return fmt.Sprintf("idle=%v active=%v grace=%v max-flows=%d", c.Idle, c.Active, c.Grace, c.MaxFlows)
}
