package detect_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query/detect"
)

// synthDay is the synthesizer's day of traffic: its ground-truth records
// (one-way, YAF's timeouts), in the end-time order a meter emits them.
var synthDay = sync.OnceValues(func() ([]flow.Record, error) {
	tr, err := synth.Generate(synth.Config{Seed: 1})
	if err != nil {
		return nil, err
	}
	recs := slices.Clone(tr.Truth())
	slices.SortStableFunc(recs, func(a, b flow.Record) int { return int(a.End>>20 - b.End>>20) })
	return recs, nil
})

func synthAlerts(t *testing.T, rules ...detect.Rule) []detect.Alert {
	t.Helper()
	recs, err := synthDay()
	if err != nil {
		t.Fatal(err)
	}
	e := detect.NewEngine(rules...)
	e.FinalOnly = true
	_ = e.WriteBatch(recs)
	e.Flush()
	for _, a := range e.Alerts {
		t.Log(a)
	}
	return e.Alerts
}

// TestSynthScan: the ICMP sweep of 172.16.0.0/16 is the only scan.
func TestSynthScan(t *testing.T) {
	alerts := synthAlerts(t, detect.NewScanDetector(detect.ScanConfig{}))
	if len(alerts) != 1 {
		t.Fatalf("want exactly the ICMP scanner, got %d alerts", len(alerts))
	}
	s := alerts[0].Detail.(*detect.Scan)
	if s.Scanner.String() != synth.ScanSource || s.Protocol != flow.ProtoICMP || s.Targets != 65534 || s.Shape != "horizontal" ||
		s.Method != detect.MethodSweep {
		t.Fatalf("scan %+v", s)
	}
}

// TestSynthBeacon: the beacon is found with both of its periods; the web
// browsing, the VPN keep-alives and the rest are not beacons.
func TestSynthBeacon(t *testing.T) {
	alerts := synthAlerts(t, detect.NewBeaconDetector(detect.BeaconConfig{}))
	if len(alerts) != 1 {
		t.Fatalf("want exactly the beacon, got %d alerts", len(alerts))
	}
	b := alerts[0].Detail.(*detect.Beacon)
	if b.Src.String() != synth.BeaconClient || b.Dst.String() != synth.BeaconServer || b.DstPort != 443 {
		t.Fatalf("beacon %s", b.Key())
	}
	if b.Period < 59*time.Second || b.Period > 61*time.Second || b.PerCycle != 3 ||
		b.Cycle < 31*time.Minute || b.Cycle > 33*time.Minute {
		t.Fatalf("beacon timing: period %v, %d per cycle of %v", b.Period, b.PerCycle, b.Cycle)
	}
}

// TestSynthSessions: the SSH session rolled over by the active timeout is
// one long session; the suspicious 02:00-05:00 trickle is low-and-slow.
func TestSynthSessions(t *testing.T) {
	alerts := synthAlerts(t, detect.NewSessionDetector(detect.SessionConfig{}))
	var ssh, slow *detect.Session
	for _, a := range alerts {
		s := a.Detail.(*detect.Session)
		switch {
		case s.Src.String() == synth.SSHClient || s.Dst.String() == synth.SSHClient:
			ssh = s
		case s.Src.String() == synth.SuspiciousClient && s.Start.Hour() == 2:
			slow = s
		default:
			t.Errorf("unexpected session finding: %s %s", s.Key(), s.Text())
		}
	}
	if ssh == nil || !ssh.Long || ssh.LowSlow || ssh.Duration < 3*time.Hour+15*time.Minute || ssh.Records < 12 {
		t.Fatalf("ssh session: %+v", ssh)
	}
	if slow == nil || !slow.LowSlow || slow.Duration < 2*time.Hour+50*time.Minute {
		t.Fatalf("suspicious low-and-slow session: %+v", slow)
	}
}
