package query

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

// FuzzIPSetFile feeds arbitrary bytes to the set reader (binary and text):
// it must fail cleanly or give a set that re-encodes to an equal set.
func FuzzIPSetFile(f *testing.F) {
	s := NewIPSet()
	s.AddPrefix(netip.MustParsePrefix("10.0.0.0/24"))
	s.Add(netip.MustParseAddr("2001:db8::1"))
	s.AddPrefix(netip.MustParsePrefix("2001:db8:1::/48"))
	b, _ := s.MarshalBinary()
	f.Add(b)
	f.Add([]byte("10.0.0.1\n10.0.1.0/30\n2001:db8::1-2001:db8::9\n"))
	f.Add([]byte(ipsetMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := ReadIPSet(bytes.NewReader(data))
		if err != nil {
			return
		}
		enc, err := set.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadIPSet(bytes.NewReader(enc))
		if err != nil || !back.Equal(set) {
			t.Fatalf("re-encoded set differs: %v", err)
		}
	})
}

// FuzzPrefixMap loads arbitrary text as a prefix map and checks lookups
// against the blocks it holds.
func FuzzPrefixMap(f *testing.F) {
	f.Add("default out\n10.0.0.0/8 in\n10.1.0.0/16 dmz\n2001:db8::/32 v6\n")
	f.Add("0.0.0.0/0 all\n::/0 all6\n255.255.255.255 top\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := LoadPrefixMap(strings.NewReader(text))
		if err != nil {
			return
		}
		for p, id := range m.blocks {
			// The first address of a block maps to its label or to a more
			// specific block's.
			a := p.Addr()
			got := m.LabelOf(a)
			best, bits := m.labels[id], p.Bits()
			for q, qid := range m.blocks {
				if q.Contains(a) && q.Bits() > bits {
					best, bits = m.labels[qid], q.Bits()
				}
			}
			if got != best {
				t.Fatalf("%v: %q, want %q", a, got, best)
			}
		}
	})
}

// FuzzBagFile feeds arbitrary bytes to the bag decoder.
func FuzzBagFile(f *testing.F) {
	b, _ := NewBag(DstPort, ValBytes)
	b.AddKey([16]byte{15: 80}, 1000)
	data, _ := b.MarshalBinary()
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		var bag Bag
		if err := bag.UnmarshalBinary(data); err != nil {
			return
		}
		enc, _ := bag.MarshalBinary()
		var back Bag
		if err := back.UnmarshalBinary(enc); err != nil || back.Len() != bag.Len() {
			t.Fatalf("re-encoded bag differs: %v", err)
		}
	})
}
