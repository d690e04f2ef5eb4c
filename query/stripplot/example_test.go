package stripplot_test

import (
	"fmt"
	"os"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query/stripplot"
)

// Example plots a beacon's connection starts over a day as SVG.
func Example() {
	implant := flow.AddrFrom4([4]byte{10, 0, 0, 66})
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := stripplot.NewBuilder(stripplot.Options{Start: day, End: day.Add(24 * time.Hour), Title: "beacon"})
	for t := day; t.Before(day.Add(24 * time.Hour)); t = t.Add(32 * time.Minute) {
		r := flow.Record{Src: implant, Start: t.UnixNano(), End: t.UnixNano(), Packets: 8, Bytes: 900}
		b.Add(&r)
	}
	p, err := b.Plot()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Strips[0].Key, p.Strips[0].Flows)
	f, err := os.CreateTemp("", "beacon-*.svg")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := p.WriteSVG(f); err != nil {
		fmt.Println(err)
	}
	// Output:
	// 10.0.0.66 45
}
