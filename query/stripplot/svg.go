package stripplot

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"strings"
)

// WriteSVG writes the plot as an SVG document: the same layout as the
// PNG, with real text.
func (p *Plot) WriteSVG(w io.Writer) error {
	l := p.layout()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace">`+"\n",
		l.w, l.h, l.w, l.h)
	fmt.Fprintf(bw, `<rect width="%d" height="%d" fill="%s"/>`+"\n", l.w, l.h, hex(colBackground))
	text := func(x, y int, size int, anchor string, c color.RGBA, s string) {
		fmt.Fprintf(bw, `<text x="%d" y="%d" font-size="%d" text-anchor="%s" fill="%s">%s</text>`+"\n",
			x, y, size, anchor, hex(c), escape(s))
	}
	text(pad, pad+glyphH*titleScale, 7*l.tscale+3, "start", colText, l.title)
	text(pad, pad+glyphH*titleScale+pad+lineH, lineH, "start", colAxis, l.subtitle)
	for i, s := range l.strips {
		bg := colStrip
		if i%2 == 1 {
			bg = colStripAlt
		}
		fmt.Fprintf(bw, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n", l.x0, s.y, l.x1-l.x0, l.stripH, hex(bg))
	}
	for _, t := range l.ticks {
		fmt.Fprintf(bw, `<line x1="%d.5" y1="%d" x2="%d.5" y2="%d" stroke="%s"/>`+"\n", t.x, l.top, t.x, l.axisY-l.gap, hex(colGrid))
	}
	for _, s := range l.strips {
		ty := s.y + (l.stripH+lineH)/2 - 1
		text(l.x0-pad, ty, lineH, "end", colText, s.label)
		text(l.x1+pad, ty, lineH, "start", colAxis, s.right)
		// One path per opacity step keeps the file small.
		var paths [10]strings.Builder
		for c, col := range s.cols {
			if col.count == 0 {
				continue
			}
			h := l.tickHeight(col)
			step := min(9, int((tickAlpha(col)-0.5)*20))
			fmt.Fprintf(&paths[step], "M%d %dv%d", l.x0+c+1, s.y+(l.stripH-h)/2, h)
		}
		for step := range paths {
			if paths[step].Len() == 0 {
				continue
			}
			fmt.Fprintf(bw, `<path d="%s" stroke="%s" stroke-width="2" stroke-opacity="%.2f"/>`+"\n",
				paths[step].String(), hex(colTick), 0.5+float64(step)/20+0.025)
		}
	}
	fmt.Fprintf(bw, `<line x1="%d" y1="%d.5" x2="%d" y2="%d.5" stroke="%s"/>`+"\n", l.x0, l.axisY, l.x1, l.axisY, hex(colAxis))
	for _, t := range l.ticks {
		fmt.Fprintf(bw, `<line x1="%d.5" y1="%d" x2="%d.5" y2="%d" stroke="%s"/>`+"\n", t.x, l.axisY, t.x, l.axisY+6, hex(colAxis))
		text(t.x, l.axisY+8+lineH, lineH, "middle", colText, t.label)
	}
	fmt.Fprintln(bw, "</svg>")
	return bw.Flush()
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
