package query

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
)

// ipsetMagic starts an IP set file; see IPSet.MarshalBinary.
const ipsetMagic = "FKIPSET1"

// ErrCorruptSet is wrapped by the errors of ReadIPSet on a damaged file.
var ErrCorruptSet = errors.New("query: corrupt IP set file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the set in the IP set file format, all integers
// little-endian:
//
//	offset  size  what
//	0       8     magic "FKIPSET1"
//	8       8     n4: length of the IPv4 part
//	16      n4    the IPv4 addresses: a roaring bitmap of their uint32
//	              values in the portable roaring serialization
//	              (github.com/RoaringBitmap/RoaringFormatSpec)
//	16+n4   8     n6: number of IPv6 ranges
//	...     32*n6 the IPv6 ranges, ascending, disjoint and not adjacent:
//	              first and last address, 16 bytes each, network order
//	end-4   4     CRC-32C (Castagnoli) of every byte before it
//
// IPv4 addresses never appear in the IPv6 part (they would be the
// IPv4-mapped range ::ffff:0:0/96).
func (s *IPSet) MarshalBinary() ([]byte, error) {
	s.normalize()
	s.v4.RunOptimize()
	var b bytes.Buffer
	b.WriteString(ipsetMagic)
	b.Write(make([]byte, 8))
	n4, err := s.v4.WriteTo(&b)
	if err != nil {
		return nil, err
	}
	out := b.Bytes()
	binary.LittleEndian.PutUint64(out[8:16], uint64(n4))
	out = binary.LittleEndian.AppendUint64(out, uint64(len(s.v6)))
	for _, sp := range s.v6 {
		out = binary.BigEndian.AppendUint64(out, sp.lo.hi)
		out = binary.BigEndian.AppendUint64(out, sp.lo.lo)
		out = binary.BigEndian.AppendUint64(out, sp.hi.hi)
		out = binary.BigEndian.AppendUint64(out, sp.hi.lo)
	}
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, castagnoli)), nil
}

// WriteTo writes the set in the IP set file format.
func (s *IPSet) WriteTo(w io.Writer) (int64, error) {
	b, err := s.MarshalBinary()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	return int64(n), err
}

// UnmarshalBinary decodes the IP set file format, replacing the set.
func (s *IPSet) UnmarshalBinary(b []byte) error {
	corrupt := func(off int, what string) error {
		return fmt.Errorf("%w: offset %d: %s", ErrCorruptSet, off, what)
	}
	if len(b) < 8+8+8+4 || string(b[:8]) != ipsetMagic {
		return corrupt(0, "not an IP set file (magic FKIPSET1)")
	}
	if crc32.Checksum(b[:len(b)-4], castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return corrupt(len(b)-4, "checksum mismatch")
	}
	body := b[:len(b)-4]
	n4 := binary.LittleEndian.Uint64(body[8:16])
	if n4 > uint64(len(body)-16-8) {
		return corrupt(8, fmt.Sprintf("IPv4 part of %d bytes does not fit", n4))
	}
	v4 := roaring.New()
	if _, err := v4.ReadFrom(bytes.NewReader(body[16 : 16+n4])); err != nil {
		return corrupt(16, "IPv4 bitmap: "+err.Error())
	}
	off := 16 + int(n4)
	n6 := binary.LittleEndian.Uint64(body[off:])
	off += 8
	if n6 > uint64(len(body)-off)/32 || uint64(len(body)-off) != n6*32 {
		return corrupt(off-8, fmt.Sprintf("%d IPv6 ranges do not fit in %d bytes", n6, len(body)-off))
	}
	v6 := make([]span, n6)
	be := binary.BigEndian
	for i := range v6 {
		p := body[off+32*i:]
		v6[i] = span{u128{be.Uint64(p), be.Uint64(p[8:])}, u128{be.Uint64(p[16:]), be.Uint64(p[24:])}}
		if v6[i].lo.cmp(v6[i].hi) > 0 || (i > 0 && v6[i-1].hi.inc().cmp(v6[i].lo) >= 0) {
			return corrupt(off+32*i, "IPv6 ranges out of order")
		}
		if v6[i].lo.cmp(u128{0, 0xffff_ffff_ffff}) <= 0 && v6[i].hi.cmp(u128{0, 0xffff_0000_0000}) >= 0 {
			return corrupt(off+32*i, "IPv6 range overlaps the IPv4-mapped addresses")
		}
	}
	s.v4, s.v6, s.dirty = v4, v6, false
	return nil
}

// ReadIPSet reads a set: the binary IP set file format, or text with one
// address, CIDR block or "first-last" address range a line ('#' comments
// and blank lines ignored). Errors name the line or the offset.
func ReadIPSet(r io.Reader) (*IPSet, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(len(ipsetMagic))
	s := NewIPSet()
	if string(head) == ipsetMagic {
		b, err := io.ReadAll(br)
		if err != nil {
			return nil, err
		}
		return s, s.UnmarshalBinary(b)
	}
	sc := bufio.NewScanner(br)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = strings.TrimSpace(text[:i])
		}
		if text == "" {
			continue
		}
		if err := s.addText(text); err != nil {
			return nil, fmt.Errorf("query: IP set line %d: %v", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("query: IP set line %d: %w", line+1, err)
	}
	return s, nil
}

// addText adds "addr", "cidr" or "first-last".
func (s *IPSet) addText(text string) error {
	if lo, hi, ok := strings.Cut(text, "-"); ok {
		a, err1 := parsePrefixOrAddr(strings.TrimSpace(lo))
		b, err2 := parsePrefixOrAddr(strings.TrimSpace(hi))
		if err1 != nil || err2 != nil || !a.IsSingleIP() || !b.IsSingleIP() || a.Addr().Is4() != b.Addr().Is4() {
			return fmt.Errorf("bad address range %q", text)
		}
		l, h := prefixSpan(a).lo, prefixSpan(b).lo
		if l.cmp(h) > 0 {
			return fmt.Errorf("address range %q runs backwards", text)
		}
		s.addRange(l, h)
		return nil
	}
	p, err := parsePrefixOrAddr(text)
	if err != nil {
		return err
	}
	s.AddPrefix(p)
	return nil
}
