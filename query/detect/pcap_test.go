package detect_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/internal/testenv"

	"github.com/flowkit/flowkit/capture"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query/detect"
	"github.com/flowkit/flowkit/timeouts"
)

// sharedData returns ../shared/data beside the module root.
func sharedData(t *testing.T) string { return testenv.Shared(t, "data") }

// meterPcap turns a capture into flow records with the default timeouts,
// unidirectional (as SiLK) or as biflows.
func meterPcap(t *testing.T, path string, biflow bool) []flow.Record {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var sink flow.SliceSink
	tab, err := flow.NewTable(flow.TableConfig{Timeouts: timeouts.Default(), Biflow: biflow, Sink: &sink})
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.Meter(context.Background(), src); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := tab.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.Recs
}

// TestRealCapturesScan meters every real capture (unidirectional and
// biflow) and looks for scanners and beacons: the SYN scan and the TCP
// scan captures must be flagged as scans, and nothing else anywhere.
func TestRealCapturesScan(t *testing.T) {
	dir := filepath.Join(sharedData(t), "pcap")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ndpi_synscan.pcap": "172.16.0.8", "ndpi_tcp_scan.pcapng": "192.168.1.178"}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".pcap") && !strings.HasSuffix(name, ".pcapng") {
			continue
		}
		for _, biflow := range []bool{false, true} {
			recs := meterPcap(t, filepath.Join(dir, name), biflow)
			eng := detect.NewEngine(detect.NewScanDetector(detect.ScanConfig{}), detect.NewBeaconDetector(detect.BeaconConfig{}))
			eng.FinalOnly = true
			_ = eng.WriteBatch(recs)
			eng.Flush()
			var scanners []string
			for _, a := range eng.Alerts {
				t.Logf("%s (biflow %v, %d records): %s %s %s", name, biflow, len(recs), a.Kind, a.Key, a.Text)
				if a.Kind != detect.KindScan {
					t.Errorf("%s: unexpected %s alert %s", name, a.Kind, a.Key)
					continue
				}
				scanners = append(scanners, a.Key)
			}
			if w, ok := want[name]; ok {
				if !slices.Equal(scanners, []string{w}) {
					t.Errorf("%s (biflow %v): scanners %v, want [%s]", name, biflow, scanners, w)
				}
			} else if len(scanners) > 0 {
				t.Errorf("%s (biflow %v): false scanners %v", name, biflow, scanners)
			}
		}
	}
}
