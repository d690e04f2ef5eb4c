package stripplot

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

var day0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func addr(s string) flow.Addr { return flow.AddrFrom(netip.MustParseAddr(s)) }

// testRecords: a beacon (3 tries a minute apart every 32 min, 10.0.0.66),
// a browsing client busy from 09:00 to 17:00 (10.0.0.55) and a host that
// talks only from 02:00 to 03:00 (10.0.0.77), over one day.
func testRecords() []flow.Record {
	rng := rand.New(rand.NewPCG(1, 1))
	var recs []flow.Record
	add := func(src string, t time.Time, bytes uint64) {
		recs = append(recs, flow.Record{Src: addr(src), Dst: addr("198.51.100.200"), SrcPort: 40000, DstPort: 443,
			Protocol: flow.ProtoTCP, Start: t.UnixNano(), End: t.UnixNano() + 1e9, Packets: 1 + bytes/500, Bytes: bytes})
	}
	for c := day0; c.Before(day0.Add(24 * time.Hour)); c = c.Add(32 * time.Minute) {
		for i := 0; i < 3; i++ {
			add("10.0.0.66", c.Add(time.Duration(i)*time.Minute), 900)
		}
	}
	for t := day0.Add(9 * time.Hour); t.Before(day0.Add(17 * time.Hour)); t = t.Add(time.Duration(20+rng.IntN(100)) * time.Second) {
		add("10.0.0.55", t, uint64(1000+rng.IntN(2000000)))
	}
	for t := day0.Add(2 * time.Hour); t.Before(day0.Add(3 * time.Hour)); t = t.Add(5 * time.Second) {
		add("10.0.0.77", t, 100)
	}
	return recs
}

func TestPlotPNG(t *testing.T) {
	p, err := Build(slices.Values(testRecords()), Options{Title: "beacon test", Start: day0, End: day0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range p.Strips {
		keys = append(keys, s.Key.String())
	}
	if !slices.Equal(keys, []string{"10.0.0.77", "10.0.0.55", "10.0.0.66"}) {
		t.Fatalf("strips %v, want the busiest first", keys)
	}
	var buf bytes.Buffer
	if err := p.WritePNG(&buf); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("STRIPPLOT_OUT"); dir != "" {
		_ = os.WriteFile(dir+"/stripplot_test.png", buf.Bytes(), 0o644)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	l := p.layout()
	if b := img.Bounds(); b.Dx() != 1200 || b.Dy() != l.h || l.h < 150 {
		t.Fatalf("size %v, layout height %d", b, l.h)
	}
	dark := func(x, y int) bool {
		r, g, b, _ := img.At(x, y).RGBA()
		return (r+g+b)/3 < 0x9000
	}
	xOf := func(tm time.Time) int {
		return l.x0 + int(float64(tm.Sub(day0))/float64(24*time.Hour)*float64(l.x1-l.x0))
	}
	mid := func(i int) int { return l.strips[i].y + l.stripH/2 }
	// Strip 1 (browsing): dark at noon, background at 05:00 and 20:00.
	if !dark(xOf(day0.Add(12*time.Hour)), mid(1)) {
		t.Error("browsing strip empty at noon")
	}
	for _, h := range []int{5, 20} {
		x := xOf(day0.Add(time.Duration(h) * time.Hour))
		if dark(x, mid(1)) || dark(x+1, mid(1)) {
			t.Errorf("browsing strip dark at %02d:00", h)
		}
	}
	// Strip 2 (beacon 10.0.0.66): a tick at 00:32 and every cycle, none
	// half-way between bursts.
	for c := 0; c < 45; c++ {
		burst := day0.Add(time.Duration(c) * 32 * time.Minute)
		if !dark(xOf(burst)+1, mid(2)) {
			t.Fatalf("no beacon tick at %v", burst.Format("15:04"))
		}
		if dark(xOf(burst.Add(16*time.Minute)), mid(2)) {
			t.Fatalf("beacon strip dark at %v", burst.Add(16*time.Minute).Format("15:04"))
		}
	}
	// Strip 0 (10.0.0.77): solid from 02:00 to 03:00 only.
	for m := 1; m < 59; m++ {
		if !dark(xOf(day0.Add(2*time.Hour+time.Duration(m)*time.Minute)), mid(0)) {
			t.Fatalf("02:%02d not dark", m)
		}
	}
	if dark(xOf(day0.Add(4*time.Hour)), mid(0)) {
		t.Fatal("04:00 dark")
	}
	// Labels: the left margin of each strip and the axis row hold ink.
	inkIn := func(x0, y0, x1, y1 int) bool {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if dark(x, y) {
					return true
				}
			}
		}
		return false
	}
	for i := range l.strips {
		if !inkIn(0, l.strips[i].y, l.x0, l.strips[i].y+l.stripH) {
			t.Errorf("strip %d has no label", i)
		}
	}
	if !inkIn(l.x0, l.axisY+8, l.x1, l.axisY+8+lineH) {
		t.Error("no axis labels")
	}
}

func TestPlotSVG(t *testing.T) {
	k, _ := ParseKey("10.0.0.66")
	p, err := Build(slices.Values(testRecords()), Options{Keys: []Key{k}, Weight: ByPackets})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if dir := os.Getenv("STRIPPLOT_OUT"); dir != "" {
		_ = os.WriteFile(dir+"/stripplot_test.svg", buf.Bytes(), 0o644)
	}
	for _, want := range []string{"<svg", "10.0.0.66", "135 flows", ">00:00<", "height: packets (log scale)", "</svg>"} {
		if !strings.Contains(s, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	// Well-formed XML, even with a title that needs escaping.
	p.Title = `a<b & "c"`
	buf.Reset()
	if err := p.WriteSVG(&buf); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&buf)
	texts := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "text" {
			texts++
		}
	}
	if texts < 5 {
		t.Errorf("%d text elements", texts)
	}
	if n := strings.Count(s, "M"); n < 45 {
		t.Errorf("only %d tick segments", n)
	}
}

func TestParseKeyAndBy(t *testing.T) {
	k, err := ParseKey("10.0.0.1-2001:db8::9")
	if err != nil || !k.Pair || k.String() != "10.0.0.1-2001:db8::9" {
		t.Fatalf("%v %v", k, err)
	}
	if _, err := ParseKey("10.0.0.300"); err == nil {
		t.Fatal("bad address accepted")
	}
	if b, err := ParseBy("dip"); err != nil || b != ByDestination {
		t.Fatal(b, err)
	}
	if _, err := Build(slices.Values([]flow.Record(nil)), Options{}); err != ErrEmpty {
		t.Fatalf("empty input: %v", err)
	}
}

func TestFontCoversLabels(t *testing.T) {
	for _, c := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ:./-> ()%," {
		if _, ok := glyphBits[byte(c)]; !ok {
			t.Errorf("no glyph for %q", c)
		}
	}
}
