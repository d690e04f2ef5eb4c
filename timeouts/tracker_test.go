package timeouts

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

const sec = int64(time.Second)

func TestDefaultAndValidate(t *testing.T) {
	d := Default()
	if d.Idle != 300*time.Second || d.Active != 1800*time.Second || d.Grace != 5*time.Second || d.MaxFlows != 0 {
		t.Fatalf("Default() = %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.Idle = 0 }, "idle timeout 0s must be positive"},
		{func(c *Config) { c.Active = -time.Second }, "active timeout -1s must be positive"},
		{func(c *Config) { c.Grace = -1 }, "grace -1ns must not be negative"},
		{func(c *Config) { c.MaxFlows = -3 }, "max flows -3"},
	} {
		c := Default()
		tc.mod(&c)
		err := c.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", c, err, tc.want)
		}
		if _, err := NewTracker(c); err == nil {
			t.Errorf("NewTracker accepted %+v", c)
		}
	}
}

func newTestTracker(t *testing.T, n int) *Tracker {
	t.Helper()
	tr, err := NewTracker(Default())
	if err != nil {
		t.Fatal(err)
	}
	tr.Grow(n)
	return tr
}

// drain returns the flows expired at now in the order the tracker gives them.
func drain(tr *Tracker, now int64) (slots []int32, reasons []Reason) {
	for {
		s, r, ok := tr.Expired(now)
		if !ok {
			return
		}
		tr.Remove(s)
		slots, reasons = append(slots, s), append(reasons, r)
	}
}

func TestIdleBoundaryIsStrict(t *testing.T) {
	tr := newTestTracker(t, 2)
	tr.Insert(0, 0)
	tr.Insert(1, 10*sec)
	if s, _ := drain(tr, 300*sec); len(s) != 0 {
		t.Fatalf("expired at exactly Idle: %v", s)
	}
	s, r := drain(tr, 300*sec+1)
	if len(s) != 1 || s[0] != 0 || r[0] != Idle {
		t.Fatalf("got %v %v", s, r)
	}
	tr.Seen(1, 200*sec) // keeps slot 1 alive
	if s, _ := drain(tr, 499*sec); len(s) != 0 || tr.Len() != 1 || tr.End(1) != 200*sec {
		t.Fatalf("touched flow expired: %v", s)
	}
}

func TestActiveBoundaryIsInclusive(t *testing.T) {
	tr := newTestTracker(t, 1)
	tr.Insert(0, 0)
	for at := int64(100); at < 1800; at += 100 {
		tr.Seen(0, at*sec)
		if s, _ := drain(tr, at*sec); len(s) != 0 {
			t.Fatalf("expired at %d s", at)
		}
	}
	s, r := drain(tr, 1800*sec)
	if len(s) != 1 || r[0] != Active {
		t.Fatalf("at 1800 s: %v %v", s, r)
	}
}

func TestPrecedenceClosingIdleActive(t *testing.T) {
	tr := newTestTracker(t, 3)
	// Slot 0: qualifies for active and idle at once -> idle.
	tr.Insert(0, 0)
	tr.Seen(0, 1000*sec)
	// Slot 1: closing, idle and active at once -> end of flow.
	tr.Insert(1, 0)
	tr.Seen(1, 1200*sec)
	tr.MarkClosing(1, 1200*sec)
	tr.MarkClosing(1, 1500*sec) // ignored: the first mark counts
	// Slot 2: started late, only active would apply later.
	tr.Insert(2, 1700*sec)
	s, r := drain(tr, 2000*sec)
	want := map[int32]Reason{0: Idle, 1: EndOfFlow}
	if len(s) != 2 {
		t.Fatalf("got %v %v", s, r)
	}
	for i := range s {
		if want[s[i]] != r[i] {
			t.Errorf("slot %d ended %v, want %v", s[i], r[i], want[s[i]])
		}
	}
	if tr.Len() != 1 {
		t.Fatal("slot 2 should remain")
	}
}

// TestClosingGraceAndStaleEntries: a closing flow that ends otherwise
// leaves its entry in the closing FIFO; its slot is not handed out again
// until that entry has gone, so the entry can never end a later flow of
// the slot.
func TestClosingGraceAndStaleEntries(t *testing.T) {
	tr := newTestTracker(t, 2)
	tr.Insert(0, 0)
	tr.MarkClosing(0, 10*sec)
	tr.Remove(0) // ended otherwise (e.g. forced); the FIFO entry is stale
	if s, ok := tr.Free(); ok {
		t.Fatalf("slot %d free while its closing entry is pending", s)
	}
	tr.Insert(1, 11*sec)
	tr.MarkClosing(1, 12*sec)
	if s, _ := drain(tr, 15*sec); len(s) != 0 {
		t.Fatalf("expired within grace: %v", s)
	}
	if s, ok := tr.Free(); !ok || s != 0 || tr.Closing(0) {
		t.Fatalf("Free() = %d, %v after the stale entry went: want slot 0", s, ok)
	}
	s, r := drain(tr, 17*sec+1)
	if len(s) != 1 || s[0] != 1 || r[0] != EndOfFlow {
		t.Fatalf("got %v %v", s, r)
	}
	if s, ok := tr.Free(); !ok || s != 1 {
		t.Fatalf("Free() = %d, %v after slot 1 ended: want slot 1", s, ok)
	}
}

func TestOldestAndReorderedTimes(t *testing.T) {
	tr := newTestTracker(t, 4)
	tr.Insert(0, 10*sec)
	tr.Insert(1, 20*sec)
	tr.Insert(2, 15*sec) // reordered capture: goes between 0 and 1
	tr.Insert(3, 30*sec)
	tr.Seen(0, 25*sec)
	var order []int32
	tr.Each(func(s int32) bool { order = append(order, s); return true })
	if want := []int32{2, 1, 0, 3}; len(order) != 4 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] || order[3] != want[3] {
		t.Fatalf("LRU order %v, want %v", order, want)
	}
	if s, ok := tr.Oldest(); !ok || s != 2 {
		t.Fatalf("Oldest = %d", s)
	}
	if tr.Start(0) != 10*sec || tr.End(0) != 25*sec {
		t.Fatal("times")
	}
	tr.Seen(0, 5*sec) // late packet: End stays
	if tr.End(0) != 25*sec {
		t.Fatal("End went back")
	}
}

func TestManyFlowsExpireInOrder(t *testing.T) {
	tr := newTestTracker(t, 10000)
	for i := int32(0); i < 10000; i++ {
		tr.Insert(i, int64(i)*sec)
	}
	s, _ := drain(tr, 5300*sec) // flows 0..4999 idle since > 300 s
	if len(s) != 5000 {
		t.Fatalf("expired %d", len(s))
	}
	for i, v := range s {
		if v != int32(i) {
			t.Fatalf("position %d: slot %d", i, v)
		}
	}
}

func BenchmarkTrackerSeen(b *testing.B) {
	tr, _ := NewTracker(Default())
	const n = 100000
	tr.Grow(n)
	for i := int32(0); i < n; i++ {
		tr.Insert(i, int64(i))
	}
	now := int64(n)
	s := uint32(1)
	for b.Loop() {
		s = s*1664525 + 1013904223
		now++
		tr.Seen(int32(s%n), now)
		if _, _, ok := tr.Expired(now); ok {
			b.Fatal("unexpected expiry")
		}
	}
}

// TestDeadlineMatchesExpired checks the promise a sharded table relies on:
// Expired(now) reports a flow exactly when now >= Deadline().
func TestDeadlineMatchesExpired(t *testing.T) {
	cfg := Config{Idle: 10, Active: 25, Grace: 3}
	tr, err := NewTracker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	live := make([]bool, n)
	used := int32(0) // slots numbered so far
	rng := rand.New(rand.NewPCG(3, 4))
	now := int64(1000)
	for step := 0; step < 20000; step++ {
		now += int64(rng.IntN(3))
		for _, s := range drainSlots(tr, now) {
			live[s] = false
		}
		s := int32(rng.IntN(n))
		switch {
		case !live[s]:
			// A new flow, in a slot from Free or a new one.
			var ok bool
			if s, ok = tr.Free(); !ok {
				if used == n {
					continue
				}
				s = used
				used++
				tr.Grow(int(used))
			}
			if live[s] || tr.Closing(s) {
				t.Fatalf("step %d: Free returned slot %d of a tracked flow or with a closing entry", step, s)
			}
			tr.Insert(s, now-int64(rng.IntN(2)))
			live[s] = true
		case rng.IntN(4) == 0:
			tr.MarkClosing(s, now)
		default:
			tr.Seen(s, now)
		}
		d := tr.Deadline()
		if d < now {
			t.Fatalf("step %d: Deadline %d before the clock %d, whose flows were all drained", step, d, now)
		}
		if d-1 >= now {
			if s, _, ok := tr.Expired(d - 1); ok {
				t.Fatalf("step %d: slot %d expired at %d, before Deadline %d", step, s, d-1, d)
			}
		}
		if d == math.MaxInt64 {
			continue
		}
		if rng.IntN(2) == 0 {
			// Move the clock to the deadline: something must end there.
			s, _, ok := tr.Expired(d)
			if !ok {
				t.Fatalf("step %d: nothing expired at Deadline %d", step, d)
			}
			tr.Remove(s)
			live[s] = false
			now = d
		}
	}
}

func drainSlots(tr *Tracker, now int64) []int32 {
	slots, _ := drain(tr, now)
	return slots
}
