package query

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"

	"github.com/flowkit/flowkit/flow"
)

// PrefixMap maps address blocks to labels (SiLK's prefix map): a CIDR
// block to "internal", a country code or a customer name. The most
// specific block containing an address decides its label; addresses in no
// block get the default label (id 0). Labels are numbered in the order
// they first appear, so a label id is a compact group-by key.
//
// Add blocks with Add, or load a text file with LoadPrefixMap; the first
// lookup after a change builds the search table. A PrefixMap is safe for
// concurrent lookups once it is no longer modified and has been looked up
// once.
type PrefixMap struct {
	labels  []string
	ids     map[string]uint32
	blocks  map[netip.Prefix]uint32 // as added
	entries []pmEntry               // disjoint ranges, sorted
	dirty   bool
}

type pmEntry struct {
	lo, hi u128
	id     uint32
}

// NewPrefixMap returns an empty map whose default label is def.
func NewPrefixMap(def string) *PrefixMap {
	return &PrefixMap{labels: []string{def}, ids: map[string]uint32{def: 0}, blocks: map[netip.Prefix]uint32{}}
}

// Add maps the block p to label; a later Add of the same block replaces it.
func (m *PrefixMap) Add(p netip.Prefix, label string) {
	id, ok := m.ids[label]
	if !ok {
		id = uint32(len(m.labels))
		m.labels = append(m.labels, label)
		m.ids[label] = id
	}
	m.blocks[p.Masked()] = id
	m.dirty = true
}

// LoadPrefixMap reads a prefix map from text: one "CIDR label" a line (a
// bare address is a /32 or /128), blank lines and '#' comments ignored,
// and an optional "default LABEL" line (else the default label is
// "unknown"). Errors name the line.
func LoadPrefixMap(r io.Reader) (*PrefixMap, error) {
	m := NewPrefixMap("unknown")
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		key, label, ok := strings.Cut(text, " ")
		if !ok {
			key, label, ok = strings.Cut(text, "\t")
		}
		label = strings.TrimSpace(label)
		if !ok || label == "" {
			return nil, fmt.Errorf("query: prefix map line %d: want \"CIDR label\", found %q", line, text)
		}
		if key == "default" {
			m.labels[0] = label
			delete(m.ids, "unknown")
			m.ids[label] = 0
			continue
		}
		p, err := parsePrefixOrAddr(key)
		if err != nil {
			return nil, fmt.Errorf("query: prefix map line %d: %v", line, err)
		}
		m.Add(p, label)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("query: prefix map line %d: %w", line+1, err)
	}
	return m, nil
}

// parsePrefixOrAddr reads "10.0.0.0/8" or "10.0.5.7".
func parsePrefixOrAddr(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad CIDR block %q", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad address %q", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// prefixSpan returns the range of 16-byte addresses a prefix covers.
func prefixSpan(p netip.Prefix) span {
	a := flow.AddrFrom(p.Addr())
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	lo := u128Of(a)
	lo.hi &= maskBits(bits)
	hi := u128{lo.hi | ^maskBits(bits), math64}
	if bits > 64 {
		lo.lo &= maskBits(bits - 64)
		hi.lo = lo.lo | ^maskBits(bits-64)
	} else {
		lo.lo = 0
	}
	return span{lo, hi}
}

const math64 = ^uint64(0)

// build flattens the nested blocks into disjoint ranges, the most specific
// block winning.
func (m *PrefixMap) build() {
	if !m.dirty {
		return
	}
	m.dirty = false
	type blk struct {
		span
		id uint32
	}
	bl := make([]blk, 0, len(m.blocks))
	for p, id := range m.blocks {
		bl = append(bl, blk{prefixSpan(p), id})
	}
	// Containing blocks sort before the blocks they contain.
	slices.SortFunc(bl, func(a, b blk) int {
		if c := a.lo.cmp(b.lo); c != 0 {
			return c
		}
		return b.hi.cmp(a.hi)
	})
	out := m.entries[:0]
	emit := func(lo, hi u128, id uint32) {
		if n := len(out); n > 0 && out[n-1].id == id && out[n-1].hi != maxU128 && out[n-1].hi.inc() == lo {
			out[n-1].hi = hi
			return
		}
		out = append(out, pmEntry{lo, hi, id})
	}
	var stack []blk
	var cur u128  // first address not yet emitted
	done := false // cur passed the last address
	closeTop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !done && cur.cmp(top.hi) <= 0 {
			emit(cur, top.hi, top.id)
		}
		if top.hi == maxU128 {
			done = true
		} else if cur.cmp(top.hi) <= 0 {
			cur = top.hi.inc()
		}
	}
	for _, b := range bl {
		for len(stack) > 0 && stack[len(stack)-1].hi.cmp(b.lo) < 0 {
			closeTop()
		}
		if len(stack) > 0 && cur.cmp(b.lo) < 0 {
			emit(cur, b.lo.dec(), stack[len(stack)-1].id)
		}
		cur, done = b.lo, false
		stack = append(stack, b)
	}
	for len(stack) > 0 {
		closeTop()
	}
	m.entries = out
}

// Lookup returns the label id of a: the most specific block's, or 0.
func (m *PrefixMap) Lookup(a flow.Addr) uint32 {
	m.build()
	u := u128Of(a)
	i, _ := slices.BinarySearchFunc(m.entries, u, func(e pmEntry, u u128) int { return e.hi.cmp(u) })
	if i < len(m.entries) && m.entries[i].lo.cmp(u) <= 0 {
		return m.entries[i].id
	}
	return 0
}

// LabelOf returns the label of a.
func (m *PrefixMap) LabelOf(a netip.Addr) string { return m.labels[m.Lookup(flow.AddrFrom(a))] }

// Label returns the name of a label id ("" for an unknown id).
func (m *PrefixMap) Label(id uint32) string {
	if int(id) < len(m.labels) {
		return m.labels[id]
	}
	return ""
}

// LabelID returns the id of a label name.
func (m *PrefixMap) LabelID(label string) (uint32, bool) {
	id, ok := m.ids[label]
	return id, ok
}

// Labels returns every label, indexed by id (index 0 is the default).
func (m *PrefixMap) Labels() []string { return slices.Clone(m.labels) }
