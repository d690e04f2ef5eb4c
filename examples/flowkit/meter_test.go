package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flowkit/flowkit/capture"
	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/timeouts"
)

// synthPcap writes the synthesizer's traffic (all scenarios, default seed)
// to a temporary pcap and returns its path and the traffic.
func synthPcap(t *testing.T, nano bool) (string, *synth.Traffic) {
	t.Helper()
	tr, err := synth.Generate(synth.Config{Seed: 1, Nanosecond: nano})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "synth.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.WritePcap(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, tr
}

func meterFile(t *testing.T, path string, cfg flow.TableConfig) []flow.Record {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs, _, err := meterSource(context.Background(), src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	flow.SortRecords(recs)
	return recs
}

// TestMeterScenariosMatchTruth meters every synthesizer scenario from its
// pcap and requires exactly the ground truth: the same records (count,
// times, packets, bytes, initial/session/union flags, end reason), with 1
// and 2 workers. The scenarios cover the TCP handshake as two flows, the
// SSH session rolling over at 1800 s, the VPN split by idle timeouts, the
// reused ephemeral port after FIN/RST, late lone RSTs, VLANs and fragments.
func TestMeterScenariosMatchTruth(t *testing.T) {
	for _, nano := range []bool{false, true} {
		path, tr := synthPcap(t, nano)
		for _, workers := range []int{1, 2} {
			got := meterFile(t, path, flow.TableConfig{Timeouts: timeouts.Default(), Workers: workers})
			byScenario := map[string][]flow.Record{}
			owner := map[flow.Key]string{}
			for _, sc := range tr.Scenarios() {
				for _, r := range sc.Truth {
					owner[r.Key()] = sc.Name
				}
			}
			for _, r := range got {
				byScenario[owner[r.Key()]] = append(byScenario[owner[r.Key()]], r)
			}
			if extra := byScenario[""]; len(extra) > 0 {
				t.Errorf("nano=%v workers=%d: %d records of no scenario, first %s", nano, workers, len(extra), extra[0].String())
			}
			for _, sc := range tr.Scenarios() {
				want := append([]flow.Record(nil), sc.Truth...)
				flow.SortRecords(want)
				if d := diffRecs(byScenario[sc.Name], want); d != "" {
					t.Errorf("nano=%v workers=%d scenario %s: %s", nano, workers, sc.Name, d)
				}
			}
		}
	}
}

func diffRecs(got, want []flow.Record) string {
	for i := 0; i < len(got) && i < len(want); i++ {
		if got[i] != want[i] {
			return fmt.Sprintf("record %d of %d:\n got %+v\nwant %+v", i, len(want), got[i], want[i])
		}
	}
	if len(got) != len(want) {
		return fmt.Sprintf("got %d records, want %d", len(got), len(want))
	}
	return ""
}

// TestMeterScenarioSpecifics checks the named behaviours directly on the
// metered records, so a wrong ground truth cannot hide them.
func TestMeterScenarioSpecifics(t *testing.T) {
	path, _ := synthPcap(t, false)
	recs := meterFile(t, path, flow.TableConfig{Timeouts: timeouts.Default()})
	var ssh, vpn []flow.Record
	for _, r := range recs {
		switch {
		case r.SrcAddr().String() == synth.SSHClient && r.DstPort == 22:
			ssh = append(ssh, r)
		case r.SrcAddr().String() == synth.VPNClient && r.Protocol == flow.ProtoUDP:
			vpn = append(vpn, r)
		}
	}
	if len(ssh) < 3 {
		t.Fatalf("ssh client flows: %d", len(ssh))
	}
	for i, r := range ssh[:len(ssh)-1] {
		if r.EndReason != flow.EndActiveTimeout || r.Duration() >= 1800*time.Second || ssh[i+1].Start-r.Start < int64(1800*time.Second) {
			t.Errorf("ssh flow %d does not roll over at 1800 s: %s", i, r.String())
		}
	}
	if len(vpn) < 3 {
		t.Fatalf("vpn client flows: %d", len(vpn))
	}
	for i, r := range vpn[:len(vpn)-1] {
		if r.EndReason != flow.EndIdleTimeout || vpn[i+1].Start-r.End <= int64(300*time.Second) {
			t.Errorf("vpn flow %d not split at idle: %s", i, r.String())
		}
	}
}

func TestMeterCommand(t *testing.T) {
	path, _ := synthPcap(t, false)
	var out1, out2, errb bytes.Buffer
	if code := run([]string{"meter", "-r", path}, &out1, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if code := run([]string{"meter", "-r", path, "-workers", "2"}, &out2, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if out1.Len() == 0 || !bytes.Equal(out1.Bytes(), out2.Bytes()) {
		t.Fatal("output differs between 1 and 2 workers (or is empty)")
	}
	var csv bytes.Buffer
	if code := run([]string{"meter", "-r", path, "-biflow", "-format", "csv", "-fields", "sip,dip,packets,revPackets"}, &csv, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, bad := range [][]string{{"meter"}, {"meter", "-r", path, "-idle", "0s"}, {"meter", "-r", path, "-fields", "nope"},
		{"meter", "-r", path, "-sensor", "70000"}} {
		errb.Reset()
		if code := run(bad, &out1, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errb.String())
		}
	}
	errb.Reset()
	if code := run([]string{"meter", "-r", filepath.Join(t.TempDir(), "missing.pcap")}, &out1, &errb); code != 1 || !strings.Contains(errb.String(), "missing.pcap") {
		t.Errorf("missing file: exit %d %s", code, errb.String())
	}
}
