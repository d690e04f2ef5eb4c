package detect

import (
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// sshRollover: a 3-hour SSH session that a meter with a 30-minute active
// timeout cut into 6 records per direction.
func sshRollover() []flow.Record {
	c, s := addr("10.0.0.12"), addr("10.0.9.22")
	var recs []flow.Record
	for i := int64(0); i < 6; i++ {
		start := day0 + i*sec(1800)
		end := sec(1799)
		fl := flow.ACK | flow.PSH
		reason := flow.EndActiveTimeout
		if i == 0 {
			fl |= flow.SYN
		}
		if i == 5 {
			fl |= flow.FIN
			reason = flow.EndOfFlow
		}
		a := rec(c, s, 50022, 22, flow.ProtoTCP, start+sec(0.5), end, 900, 90000, fl)
		b := rec(s, c, 22, 50022, flow.ProtoTCP, start+sec(0.6), end, 800, 200000, fl)
		a.EndReason, b.EndReason = reason, reason
		recs = append(recs, a, b)
	}
	return byEnd(recs)
}

func TestSessionLongChain(t *testing.T) {
	alerts := run(t, sshRollover(), NewSessionDetector(SessionConfig{}))
	if len(alerts) != 1 || alerts[0].Kind != KindLong {
		t.Fatalf("want one long session, got %v", alerts)
	}
	t.Log(alerts[0])
	s := alerts[0].Detail.(*Session)
	if s.Records != 12 || !near(s.Duration, 3*time.Hour, 2*time.Second) || s.Packets != 6*1700 || s.DstPort != 22 && s.SrcPort != 22 {
		t.Fatalf("session %+v", s)
	}
}

func TestSessionLowAndSlow(t *testing.T) {
	// One packet a minute for two hours, in one biflow record.
	r := rec(addr("10.0.0.31"), addr("203.0.113.77"), 44444, 8443, flow.ProtoTCP, day0, sec(7200), 120, 120*70, flow.SYN|flow.ACK|flow.PSH)
	r.RevPackets, r.RevBytes = 60, 60*52
	// A bulk transfer of 20 minutes is long enough but not slow; a
	// 5-minute trickle is slow but not long enough.
	bulk := rec(addr("10.0.0.32"), addr("203.0.113.78"), 44445, 443, flow.ProtoTCP, day0, sec(1200), 900000, 900000000, flow.SYN|flow.ACK|flow.PSH|flow.FIN)
	short := rec(addr("10.0.0.33"), addr("203.0.113.79"), 44446, 443, flow.ProtoTCP, day0, sec(300), 5, 300, flow.SYN|flow.ACK)
	alerts := run(t, byEnd([]flow.Record{r, bulk, short}), NewSessionDetector(SessionConfig{}))
	if len(alerts) != 1 || alerts[0].Kind != KindLowSlow {
		t.Fatalf("want one low-and-slow session, got %v", alerts)
	}
	s := alerts[0].Detail.(*Session)
	if !s.LowSlow || !s.Long || s.PacketsPerMinute != 1.5 {
		t.Fatalf("session %+v", s)
	}
}

// TestSessionIdleSplitsNotChained: keep-alives split by the idle timeout
// are separate sessions, none of them long.
func TestSessionIdleSplitsNotChained(t *testing.T) {
	var recs []flow.Record
	for i := int64(0); i < 48; i++ {
		r := rec(addr("10.0.0.40"), addr("198.51.100.4"), 4500, 4500, flow.ProtoUDP, day0+i*sec(300), sec(240), 10, 1000, 0)
		r.EndReason = flow.EndIdleTimeout
		recs = append(recs, r)
	}
	if alerts := run(t, recs, NewSessionDetector(SessionConfig{})); len(alerts) != 0 {
		t.Fatalf("idle-split keep-alives chained: %v", alerts)
	}
}

// TestSessionUnknownReasonBackToBack: text input without end reasons
// still chains records that follow each other within ChainGap.
func TestSessionUnknownReasonBackToBack(t *testing.T) {
	var recs []flow.Record
	for i := int64(0); i < 4; i++ {
		recs = append(recs, rec(addr("10.0.0.41"), addr("198.51.100.5"), 5555, 443, flow.ProtoTCP, day0+i*sec(1800), sec(1799.5), 5000, 5e6, flow.ACK|flow.PSH))
	}
	alerts := run(t, recs, NewSessionDetector(SessionConfig{}))
	if len(alerts) != 1 || alerts[0].Detail.(*Session).Records != 4 {
		t.Fatalf("alerts %v", alerts)
	}
}
