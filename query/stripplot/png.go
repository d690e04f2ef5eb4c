package stripplot

import (
	"image"
	"image/color"
	"image/png"
	"io"
)

// The palette, shared with the SVG renderer.
var (
	colBackground = color.RGBA{255, 255, 255, 255}
	colStrip      = color.RGBA{0xee, 0xf1, 0xf6, 255}
	colStripAlt   = color.RGBA{0xe4, 0xe8, 0xf0, 255}
	colGrid       = color.RGBA{0xc5, 0xca, 0xd3, 255}
	colTick       = color.RGBA{0x12, 0x30, 0x6b, 255}
	colText       = color.RGBA{0x20, 0x20, 0x20, 255}
	colAxis       = color.RGBA{0x60, 0x60, 0x60, 255}
)

// Image draws the plot.
func (p *Plot) Image() *image.RGBA {
	l := p.layout()
	img := image.NewRGBA(image.Rect(0, 0, l.w, l.h))
	fillRect(img, 0, 0, l.w, l.h, colBackground)
	drawText(img, pad, pad+(titleScale-l.tscale)*glyphH, l.title, l.tscale, colText)
	drawText(img, pad, pad+glyphH*titleScale+pad, l.subtitle, textScale, colAxis)
	for i, s := range l.strips {
		bg := colStrip
		if i%2 == 1 {
			bg = colStripAlt
		}
		fillRect(img, l.x0, s.y, l.x1-l.x0, l.stripH, bg)
	}
	for _, t := range l.ticks { // grid behind the ticks
		for _, s := range l.strips {
			fillRect(img, t.x, s.y, 1, l.stripH, colGrid)
		}
	}
	for _, s := range l.strips {
		ty := s.y + (l.stripH-lineH)/2
		drawText(img, l.x0-pad-textWidth(s.label, textScale), ty, s.label, textScale, colText)
		drawText(img, l.x1+pad, ty, s.right, textScale, colAxis)
		for c, col := range s.cols {
			if col.count == 0 {
				continue
			}
			h := l.tickHeight(col)
			blendRect(img, l.x0+c, s.y+(l.stripH-h)/2, 2, h, colTick, tickAlpha(col))
		}
	}
	fillRect(img, l.x0, l.axisY, l.x1-l.x0, 1, colAxis)
	for _, t := range l.ticks {
		fillRect(img, t.x, l.axisY, 1, 6, colAxis)
		lx := min(max(t.x-textWidth(t.label, textScale)/2, 0), l.w-textWidth(t.label, textScale))
		drawText(img, lx, l.axisY+8, t.label, textScale, colText)
	}
	return img
}

// WritePNG writes the plot as a PNG picture.
func (p *Plot) WritePNG(w io.Writer) error {
	return png.Encode(w, p.Image())
}
