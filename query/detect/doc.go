// Package detect finds what a flow analyst hunts for in flow records:
// scanners, beacons, long-lived and low-and-slow sessions, plus a streaming
// rule engine in the spirit of SiLK's Analysis Pipeline.
//
// Every detector is a [Rule]: it observes records one at a time as they
// arrive (roughly in end-time order, as a flow meter or collector emits
// them), keeps bounded state, and emits an [Alert] when it finds something.
// The same code serves history (a store query, a text file) and live
// streams (a collector): feed records to an [Engine], which implements
// [flow.Sink], or call [Engine.Run] on a [flow.Source] or [Engine.RunSeq]
// on an iter.Seq.
//
// A detector may alert twice about one finding: once with Final false the
// moment it fires on a live stream (its detail is a snapshot), and once with
// Final true when the finding is complete (its key went idle or the stream
// was flushed). Reports over history keep only final alerts; see
// [Engine.FinalOnly].
//
// The detectors:
//
//   - [ScanDetector]: SiLK rwscan's threshold random walk (TRW, Jung et al.
//     2004) over first contacts, a logistic (BLR-like) sweep score for
//     ICMP/UDP/TCP sweeps, and TCP stealth-probe flags (NULL, FIN, Xmas).
//     Unidirectional records are paired with their reverse direction within
//     a window, so "was the contact answered" works for both biflows and
//     one-way records.
//   - [BeaconDetector]: periodic connection starts between a source and a
//     service (src, dst, dport, proto), robust to jitter and to
//     bursts-then-rest schedules; reports the period and the cycle.
//   - [SessionDetector]: flows, or chains of active-timeout continuations,
//     that last long, and those among them that move little data
//     (low-and-slow).
//   - [Threshold]: the generic pipeline rule, "at least N matching records
//     per key within a window".
//
// The package depends only on package flow and the standard library.
package detect
