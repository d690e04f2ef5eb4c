package parquet

import (
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/parquet-go/parquet-go"
)

// textBounds is the least and greatest text of the IPv4 addresses of an
// address column's page, found as the writer looks the addresses up, so
// that the page's bounds need no pass over its dictionary indexes and
// texts (a random read of the dictionary per row: 7% of the writer's
// time). A dotted-quad text, at most 15 bytes, is its own 16-byte sort
// key (zero-padded, as big-endian numbers); most addresses are ruled out
// by the rank of their first octet's text alone. A page with any other
// text (IPv6, an empty next hop) has its bounds from the dictionary.
type textBounds struct {
	any, other bool   // an IPv4 address seen; another text seen
	minR, maxR uint8  // octetRank of the bounds' first octets
	min, max   v4Text // the bounds
}

// v4Text is the text of an IPv4 address as a 16-byte big-endian number.
type v4Text struct{ hi, lo uint64 }

func (a v4Text) less(b v4Text) bool { return a.hi < b.hi || a.hi == b.hi && a.lo < b.lo }

// octetText is the decimal text of each octet; octetRank is its rank in
// the order of the texts followed by '.' (the order of dotted quads by
// their first octet).
var octetText, octetRank = func() (text [256]string, rank [256]uint8) {
	order := make([]int, 256)
	for i := range 256 {
		text[i] = strconv.Itoa(i)
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ta, tb := text[a]+".", text[b]+"."
		if ta < tb {
			return -1
		}
		if ta > tb {
			return 1
		}
		return 0
	})
	for r, o := range order {
		rank[o] = uint8(r)
	}
	return text, rank
}()

// textOf returns the sort key of IPv4 address x.
func textOf(x uint32) v4Text {
	var b [16]byte
	n := copy(b[:], octetText[x>>24])
	for _, o := range [3]uint32{x >> 16 & 0xff, x >> 8 & 0xff, x & 0xff} {
		b[n] = '.'
		n += 1 + copy(b[n+1:], octetText[o])
	}
	return v4Text{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// addV4 takes IPv4 address x.
func (t *textBounds) addV4(x uint32) {
	r := octetRank[x>>24]
	if t.any && r > t.minR && r < t.maxR {
		return
	}
	k := textOf(x)
	if !t.any {
		t.any, t.minR, t.maxR, t.min, t.max = true, r, r, k, k
		return
	}
	if k.less(t.min) {
		t.minR, t.min = r, k
	}
	if t.max.less(k) {
		t.maxR, t.max = r, k
	}
}

// bounds returns the bounds as texts; false when not known.
func (t *textBounds) bounds() (lo, hi parquet.Value, ok bool) {
	if !t.any || t.other {
		return lo, hi, false
	}
	return parquet.ByteArrayValue(t.min.bytes()), parquet.ByteArrayValue(t.max.bytes()), true
}

func (a v4Text) bytes() []byte {
	b := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(make([]byte, 0, 16), a.hi), a.lo)
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
