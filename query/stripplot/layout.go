package stripplot

import (
	"fmt"
	"math"
	"time"
)

// layout places everything once, in pixels; the PNG and SVG renderers
// both draw from it, so the two pictures agree.
type layout struct {
	w, h     int
	x0, x1   int // plot area, x0 <= x < x1
	top      int // y of the first strip
	stripH   int
	gap      int
	axisY    int
	title    string
	tscale   int // the title's font scale: titleScale, or textScale for a long title
	subtitle string
	ticks    []axisTick
	strips   []stripLayout
	maxW     uint64 // the largest column weight of all strips
}

type axisTick struct {
	x     int
	label string
}

type stripLayout struct {
	y     int
	label string // left: the key
	right string // right: the flow count
	cols  []column
}

// column is what started within one pixel column of a strip.
type column struct {
	count int
	maxW  uint64
}

// Text metrics in pixels, for the PNG's bitmap font at textScale and the
// SVG's monospace font alike.
const (
	textScale  = 2
	titleScale = 3
	charW      = (glyphW + 1) * textScale
	lineH      = glyphH * textScale
	pad        = 12
)

func (p *Plot) layout() *layout {
	l := &layout{w: p.Width, stripH: p.StripH, gap: max(4, p.StripH/5), title: p.Title}
	weight := p.Weight.String()
	l.subtitle = fmt.Sprintf("%s - %s UTC, height: %s (log scale), darkness: flow count", p.Start.UTC().Format("2006-01-02 15:04"),
		p.End.UTC().Format("2006-01-02 15:04"), weight)
	maxLabel, maxRight := 0, 0
	for _, s := range p.Strips {
		sl := stripLayout{label: s.Key.String(), right: fmt.Sprintf("%d flows", s.Flows)}
		maxLabel = max(maxLabel, len(sl.label))
		maxRight = max(maxRight, len(sl.right))
		l.strips = append(l.strips, sl)
	}
	l.x0 = pad + maxLabel*charW + pad
	l.x1 = l.w - (pad + maxRight*charW + pad)
	if l.x1-l.x0 < 100 { // too narrow for the labels: widen the picture
		l.w += 100 - (l.x1 - l.x0)
		l.x1 = l.x0 + 100
	}
	l.top = pad + glyphH*titleScale + pad + lineH + pad
	for i := range l.strips {
		l.strips[i].y = l.top + i*(l.stripH+l.gap)
	}
	l.axisY = l.top + len(l.strips)*(l.stripH+l.gap)
	l.h = l.axisY + 8 + lineH + pad
	l.tscale = titleScale
	if textWidth(l.title, titleScale)+2*pad > l.w {
		l.tscale = textScale
	}
	if need := pad + textWidth(l.subtitle, textScale) + pad; need > l.w {
		l.subtitle = fmt.Sprintf("%s - %s UTC", p.Start.UTC().Format("2006-01-02 15:04"), p.End.UTC().Format("2006-01-02 15:04"))
	}

	// Fold marks into pixel columns.
	start, span := p.Start.UnixNano(), p.End.UnixNano()-p.Start.UnixNano()
	ncols := l.x1 - l.x0
	for i, s := range p.Strips {
		cols := make([]column, ncols)
		for _, m := range s.Marks {
			c := int(float64(m.Time-start) / float64(span) * float64(ncols))
			if c < 0 || c >= ncols {
				continue
			}
			w := m.Bytes
			if p.Weight == ByPackets {
				w = m.Packets
			}
			cols[c].count++
			cols[c].maxW = max(cols[c].maxW, w)
			l.maxW = max(l.maxW, w)
		}
		l.strips[i].cols = cols
	}
	l.ticks = axisTicks(p.Start, p.End, l.x0, l.x1)
	return l
}

// tickHeight maps a column's weight to a tick height (log scale): the
// smallest flow still shows, the largest fills the strip.
func (l *layout) tickHeight(c column) int {
	lo := max(6, l.stripH/4)
	hi := l.stripH - 4
	if l.maxW == 0 {
		return lo
	}
	f := math.Log1p(float64(c.maxW)) / math.Log1p(float64(l.maxW))
	return lo + int(f*float64(hi-lo)+0.5)
}

// tickAlpha maps a column's flow count to an opacity.
func tickAlpha(c column) float64 {
	return 0.55 + 0.45*math.Min(1, math.Log2(1+float64(c.count))/4)
}

// steps are the axis label intervals, smallest first.
var steps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour,
}

// axisTicks picks round UTC times between start and end, at most one per
// 90 pixels, labelled HH:MM (HH:MM:SS for steps under a minute, MM/DD at
// midnight when the axis spans days).
func axisTicks(start, end time.Time, x0, x1 int) []axisTick {
	span := end.Sub(start)
	maxTicks := max(2, (x1-x0)/90)
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(maxTicks) {
			step = s
			break
		}
	}
	var ticks []axisTick
	t := start.UTC().Truncate(step)
	if t.Before(start) {
		t = t.Add(step)
	}
	for ; !t.After(end); t = t.Add(step) {
		x := x0 + int(float64(t.Sub(start))/float64(span)*float64(x1-x0))
		label := t.Format("15:04")
		switch {
		case step < time.Minute:
			label = t.Format("15:04:05")
		case step >= 24*time.Hour || (span > 24*time.Hour && t.Hour() == 0 && t.Minute() == 0):
			label = t.Format("01/02")
		}
		ticks = append(ticks, axisTick{x: x, label: label})
	}
	return ticks
}
