package stripplot

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// FuzzParseKey: any text either fails with an error or gives a key that
// prints and parses back to itself.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"10.0.0.1", "10.0.0.1-10.0.0.2", "::1-fe80::1", "-", "1.2.3.4-", "a-b-c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			return
		}
		back, err := ParseKey(k.String())
		if err != nil || back != k {
			t.Fatalf("%q -> %v -> %v %v", s, k, back, err)
		}
	})
}

// FuzzRender: any marks and sizes render without panic in both formats.
func FuzzRender(f *testing.F) {
	f.Add(int64(0), int64(3600), uint64(100), 1200, 28, "title")
	f.Add(int64(-5), int64(5), uint64(0), 1, 1, "")
	f.Fuzz(func(t *testing.T, a, b int64, bytesN uint64, width, stripH int, title string) {
		if width > 4000 || stripH > 200 || width < -10 || stripH < -10 {
			return
		}
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
		recs := []flow.Record{
			{Src: flow.AddrFromUint32(1), Start: base + a*1e9, Bytes: bytesN},
			{Src: flow.AddrFromUint32(2), Start: base + b*1e9, Bytes: bytesN / 3, Packets: 1},
		}
		p, err := Build(slices.Values(recs), Options{Width: width, StripH: stripH, Title: title})
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := p.WritePNG(&buf); err != nil {
			t.Fatal(err)
		}
		if err := p.WriteSVG(&buf); err != nil {
			t.Fatal(err)
		}
	})
}
