package detect

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

func TestBeaconBurstThenRest(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		alerts := ofKind(run(t, burstBeacon(seed), NewBeaconDetector(BeaconConfig{})), KindBeacon)
		if len(alerts) != 1 {
			t.Fatalf("seed %d: want one beacon, got %v", seed, alerts)
		}
		b := alerts[0].Detail.(*Beacon)
		if seed == 1 {
			t.Log(alerts[0])
		}
		if b.Src.String() != "10.0.0.66" || b.Dst.String() != "198.51.100.200" || b.DstPort != 443 || b.Protocol != flow.ProtoTCP {
			t.Fatalf("beacon pair %s", b.Key())
		}
		if !near(b.Period, time.Minute, 2*time.Second) || !near(b.Cycle, 32*time.Minute, 10*time.Second) || b.PerCycle != 3 {
			t.Fatalf("seed %d: period %v cycle %v per cycle %d", seed, b.Period, b.Cycle, b.PerCycle)
		}
		if len(b.Periods) != 2 || !near(b.Periods[1], 30*time.Minute, 5*time.Second) || b.Events != 135 {
			t.Fatalf("seed %d: periods %v events %d", seed, b.Periods, b.Events)
		}
	}
}

func TestBeaconPlain(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	var recs []flow.Record
	a, c2 := addr("10.0.0.7"), addr("203.0.113.50")
	for t := day0; t < day0+sec(6*3600); t += sec(300) {
		s := t + sec(rng.Float64()*10-5)
		recs = append(recs, rec(a, c2, uint16(40000+rng.IntN(9999)), 53, flow.ProtoUDP, s, sec(0.01), 1, 90, 0))
	}
	alerts := ofKind(run(t, byEnd(recs), NewBeaconDetector(BeaconConfig{})), KindBeacon)
	if len(alerts) != 1 {
		t.Fatalf("want one beacon, got %v", alerts)
	}
	b := alerts[0].Detail.(*Beacon)
	if !near(b.Period, 5*time.Minute, 3*time.Second) || b.Cycle != b.Period || b.PerCycle != 1 || len(b.Periods) != 1 {
		t.Fatalf("beacon %+v", b)
	}
}

func TestBeaconNotBrowsing(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		if alerts := run(t, browsing(seed), NewBeaconDetector(BeaconConfig{})); len(alerts) != 0 {
			t.Fatalf("seed %d: browsing looks like a beacon: %v", seed, alerts)
		}
	}
}

// TestBeaconNotPoisson: starts at random (exponential gaps) never pass.
func TestBeaconNotPoisson(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	var starts []int64
	tm := day0
	for i := 0; i < 300; i++ {
		tm += int64(rng.ExpFloat64() * 60e9)
		starts = append(starts, tm)
	}
	if b := AnalyzeStarts(starts, BeaconConfig{}); b != nil {
		t.Fatalf("random starts judged periodic: %+v", b)
	}
}

// TestBeaconEarlyAlert: a live stream hears of the beacon within hours.
func TestBeaconEarlyAlert(t *testing.T) {
	recs := burstBeacon(1)
	e := NewEngine(NewBeaconDetector(BeaconConfig{}))
	var first *Alert
	e.OnAlert = func(a Alert) {
		if first == nil {
			first = &a
		}
	}
	_ = e.WriteBatch(recs)
	if first == nil || first.Final || first.Time.Sub(nsTime(day0)) > 12*time.Hour {
		t.Fatalf("early alert: %v", first)
	}
}

// TestBeaconContinuationsNotStarts: a long connection cut by the active
// timeout every 60 s is one start, not a 60 s beacon.
func TestBeaconContinuationsNotStarts(t *testing.T) {
	a, b := addr("10.0.0.8"), addr("10.0.0.9")
	var recs []flow.Record
	for i := int64(0); i < 120; i++ {
		r := rec(a, b, 5000, 22, flow.ProtoTCP, day0+i*sec(60), sec(59.9), 50, 5000, flow.ACK|flow.PSH)
		if i == 0 {
			r.Flags |= flow.SYN
		}
		r.EndReason = flow.EndActiveTimeout
		recs = append(recs, r)
	}
	if alerts := run(t, recs, NewBeaconDetector(BeaconConfig{})); len(alerts) != 0 {
		t.Fatalf("continuations judged a beacon: %v", alerts)
	}
}
