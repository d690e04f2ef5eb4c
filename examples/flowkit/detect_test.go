package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
)

// synthDayFile writes the synthesizer's ground-truth day as flow text
// with a title line, in end-time order, and returns its path.
func synthDayFile(t *testing.T) string {
	t.Helper()
	tr, err := synth.Generate(synth.Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	recs := slices.Clone(tr.Truth())
	slices.SortStableFunc(recs, func(a, b flow.Record) int { return int(a.End>>20 - b.End>>20) })
	var buf bytes.Buffer
	buf.WriteString(flowtext.FormatFields(flowtext.AllFields, "|") + "\n")
	w := flowtext.NewWriter(&buf, flowtext.AllFields, flowtext.Text)
	if err := w.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "day.txt")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDetectVerb(t *testing.T) {
	path := synthDayFile(t)
	var out, errb bytes.Buffer
	if code := run([]string{"detect", "-r", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	t.Log("\n" + s)
	for _, want := range []string{
		"SCANNERS (1)", synth.ScanSource + "  icmp   horizontal  65534",
		"BEACONS (1)", synth.BeaconClient + "  " + synth.BeaconServer + ":443/tcp  135     1m0s    32m0s  3",
		"lowslow  " + synth.SuspiciousClient, "long     " + synth.SSHClient,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	out.Reset()
	if code := run([]string{"detect", "-r", path, "-beacon", "-format", "csv"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "beacon,10.0.7.70 -> 198.51.100.77:443/tcp,") || !strings.Contains(lines[1], ",60,1920,") {
		t.Fatalf("csv: %q", lines)
	}
	if code := run([]string{"detect", "-format", "xml"}, &out, &errb); code != 2 {
		t.Fatalf("bad -format: exit %d", code)
	}
}

func TestPlotVerb(t *testing.T) {
	path := synthDayFile(t)
	png1 := filepath.Join(t.TempDir(), "beacon.png")
	var out, errb bytes.Buffer
	if code := run([]string{"plot", "-r", path, "-keys", synth.BeaconClient + "," + synth.ScanSource, "-o", png1}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	f, err := os.Open(png1)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() < 120 {
		t.Fatalf("picture %v", b)
	}
	svg := filepath.Join(t.TempDir(), "top.svg")
	if code := run([]string{"plot", "-r", path, "-by", "pair", "-top", "3", "-o", svg}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	data, _ := os.ReadFile(svg)
	if !bytes.Contains(data, []byte(synth.BeaconClient+"-"+synth.BeaconServer)) || !bytes.HasSuffix(bytes.TrimSpace(data), []byte("</svg>")) {
		t.Fatalf("svg: %.300s", data)
	}
	for _, bad := range [][]string{
		{"plot", "-r", path},                // no -o
		{"plot", "-r", path, "-o", "x.gif"}, // bad extension
		{"plot", "-r", path, "-by", "pair", "-keys", "10.0.0.1", "-o", svg}, // a key that is not a pair
		{"plot", "-r", path, "-start", "yesterday", "-o", svg},
	} {
		if code := run(bad, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
