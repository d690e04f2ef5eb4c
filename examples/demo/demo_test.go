package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDemoFindings runs the whole demo and checks what it tells the
// analyst against the synthesizer's scenarios.
func TestDemoFindings(t *testing.T) {
	plot := filepath.Join(t.TempDir(), "beacon.png")
	var out bytes.Buffer
	if err := run(&out, 1, plot); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	t.Log("\n" + text)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`collector decoded (\d+) flows \(0 lost\)`),
		regexp.MustCompile(`scan: +10\.0\.9\.9 probed 65534 icmp targets`),
		regexp.MustCompile(`smtp: +client 10\.0\.1\.10 -> server 192\.0\.2\.25: .*\(5\.\dx\)`),
		regexp.MustCompile(`web: +10\.0\.2\.20 opened 36 connections to port 80 on 3 servers, in 12 pages`),
		regexp.MustCompile(`vpn: .* udp 500/500: .* ended by the idle timeout`),
		regexp.MustCompile(`ssh: +10\.0\.5\.50 -> 192\.0\.2\.22:22: 7 flows .* 6 cut by the active timeout`),
		regexp.MustCompile(`low & slow: +10\.0\.6\.60:40001 -> 203\.0\.113\.66:80 open 02:00 to 05:00`),
		regexp.MustCompile(`from the same port 40001`),
		regexp.MustCompile(`beacon: +10\.0\.7\.70 -> 198\.51\.100\.77:443/tcp: \d+ starts, every 1m0s, 3 per cycle, cycle 3[12]m`),
		regexp.MustCompile(`1\. 198\.51\.100\.80 `),
	} {
		if !want.MatchString(text) {
			t.Errorf("the demo did not print %q", want)
		}
	}
	if strings.Contains(text, "web:          10.0.6.60") {
		t.Error("the reused-port sessions were reported as browsing")
	}
	f, err := os.Open(plot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("beacon plot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 600 || b.Dy() < 100 {
		t.Fatalf("beacon plot is %v", b)
	}
}
