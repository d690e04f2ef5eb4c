// Package stripplot draws strip plots of flow records, like CERT's
// stripplot.py for SiLK: one horizontal strip per selected key (a source
// address, a destination address or a source-destination pair), time on
// the x axis over minutes to days, and a tick wherever a flow started.
// Periodic beacons show as evenly spaced ticks, scans as solid blocks,
// outages as gaps.
//
// A [Builder] collects records (it is a [flow.Sink]; [Build] takes an
// iter.Seq), keeps the strips asked for (or the busiest ones) and returns
// a [Plot], which renders as SVG ([Plot.WriteSVG]) or PNG ([Plot.WritePNG],
// drawn with the standard library's image/png and a built-in 5x7 bitmap
// font, so labels need no font package). Tick height follows the largest
// flow (bytes or packets, log scale) in each pixel column; tick darkness
// follows how many flows started there. Times print in UTC.
//
// The package depends only on package flow and the standard library.
package stripplot
