package parquet

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// TestTextBounds: the bounds textBounds finds for sets of IPv4 addresses
// are the least and greatest of their texts, for sets drawn from all
// addresses and from a few octets (many equal first octets and prefixes
// like "1." and "10." and "100.").
func TestTextBounds(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	octets := []uint32{0, 1, 2, 9, 10, 11, 19, 99, 100, 101, 199, 200, 25, 250, 255}
	for round := range 2000 {
		var tb textBounds
		var lo, hi string
		for i := range 1 + rng.IntN(50) {
			var x uint32
			if round%2 == 0 {
				x = rng.Uint32()
			} else {
				for range 4 {
					x = x<<8 | octets[rng.IntN(len(octets))]
				}
			}
			tb.addV4(x)
			s := netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}).String()
			if i == 0 || s < lo {
				lo = s
			}
			if i == 0 || s > hi {
				hi = s
			}
		}
		l, h, ok := tb.bounds()
		if !ok || string(l.ByteArray()) != lo || string(h.ByteArray()) != hi {
			t.Fatalf("round %d: bounds %q %q (%v), want %q %q", round, l.ByteArray(), h.ByteArray(), ok, lo, hi)
		}
	}
	tb := textBounds{}
	if _, _, ok := tb.bounds(); ok {
		t.Error("bounds of nothing known")
	}
	tb.addV4(1)
	tb.other = true
	if _, _, ok := tb.bounds(); ok {
		t.Error("bounds known with another text in")
	}
}
