package clickhouse

import (
	"encoding/hex"
	"fmt"
	"math"
	"net/netip"
	"strings"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

// maxSetPrefixes is the most CIDR blocks an IP set may have to be
// translated into SQL (one range test each).
const maxSetPrefixes = 1000

// Where translates a flowkit predicate into a ClickHouse SQL boolean
// expression over the columns of TableSQL that selects the same flows as
// p.Match. Translated: And, Or, Not, Range and TimeRange on every numeric
// and time field, Prefix (host, net), InSet with up to 1000 CIDR blocks and
// FlagMask. Label (prefix-map labels) and larger sets give ErrNotTranslated.
func Where(p query.Pred) (string, error) {
	var b strings.Builder
	if err := where(&b, p); err != nil {
		return "", err
	}
	return b.String(), nil
}

func where(b *strings.Builder, p query.Pred) error {
	switch p := p.(type) {
	case query.And:
		return combine(b, []query.Pred(p), " AND ", "1")
	case query.Or:
		return combine(b, []query.Pred(p), " OR ", "0")
	case query.Not:
		b.WriteString("NOT (")
		if err := where(b, p.P); err != nil {
			return err
		}
		b.WriteString(")")
		return nil
	case query.Range:
		return rangeSQL(b, p)
	case query.TimeRange:
		col, err := fieldSQL(p.Field)
		if err != nil || !p.Field.IsTime() {
			return fmt.Errorf("%w: time range on field %s", ErrNotTranslated, p.Field)
		}
		if p.Field != query.Start {
			between(b, col, p.Min, p.Max)
			return nil
		}
		// The same bounds on stime, which the partition key and the
		// primary key are made of, let the server skip days and hours:
		// it cannot see that stime comes from start_ns.
		b.WriteString("(")
		between(b, col, p.Min, p.Max)
		// Only for times that stime holds (1970 to 2106).
		if p.Min > 0 && p.Min/1e9 <= math.MaxUint32 {
			fmt.Fprintf(b, " AND stime >= toDateTime(%d, 'UTC')", p.Min/1e9)
		}
		if p.Max >= 0 && p.Max/1e9 <= math.MaxUint32 {
			fmt.Fprintf(b, " AND stime <= toDateTime(%d, 'UTC')", p.Max/1e9)
		}
		b.WriteString(")")
		return nil
	case query.Prefix:
		col, err := fieldSQL(p.Field)
		if err != nil || !p.Field.IsAddr() {
			return fmt.Errorf("%w: prefix on field %s", ErrNotTranslated, p.Field)
		}
		prefixSQL(b, col, p.Prefix)
		return nil
	case query.InSet:
		col, err := fieldSQL(p.Field)
		if err != nil || !p.Field.IsAddr() {
			return fmt.Errorf("%w: IP set on field %s", ErrNotTranslated, p.Field)
		}
		var prefixes []netip.Prefix
		for pr := range p.Set.Prefixes() {
			if len(prefixes) == maxSetPrefixes {
				return fmt.Errorf("%w: IP set @%s has more than %d CIDR blocks", ErrNotTranslated, p.Name, maxSetPrefixes)
			}
			prefixes = append(prefixes, pr)
		}
		if len(prefixes) == 0 {
			b.WriteString("0")
			return nil
		}
		b.WriteString("(")
		for i, pr := range prefixes {
			if i > 0 {
				b.WriteString(" OR ")
			}
			prefixSQL(b, col, pr)
		}
		b.WriteString(")")
		return nil
	case query.FlagMask:
		col, err := fieldSQL(p.Field)
		if err != nil || !p.Field.IsFlags() {
			return fmt.Errorf("%w: flag mask on field %s", ErrNotTranslated, p.Field)
		}
		fmt.Fprintf(b, "bitAnd(%s, %d) = %d", col, uint8(p.Mask), uint8(p.Set))
		return nil
	case nil:
		return fmt.Errorf("%w: nil predicate", ErrNotTranslated)
	}
	return fmt.Errorf("%w: predicate %s (%T)", ErrNotTranslated, p, p)
}

func combine(b *strings.Builder, ps []query.Pred, op, empty string) error {
	if len(ps) == 0 {
		b.WriteString(empty)
		return nil
	}
	b.WriteString("(")
	for i, q := range ps {
		if i > 0 {
			b.WriteString(op)
		}
		if err := where(b, q); err != nil {
			return err
		}
	}
	b.WriteString(")")
	return nil
}

func rangeSQL(b *strings.Builder, g query.Range) error {
	if !g.Field.IsNumeric() || g.Field.IsTime() {
		return fmt.Errorf("%w: numeric range on field %s", ErrNotTranslated, g.Field)
	}
	col, err := fieldSQL(g.Field)
	if err != nil {
		return err
	}
	if g.Min > g.Max {
		b.WriteString("0")
		return nil
	}
	if g.Field == query.ICMPType || g.Field == query.ICMPCode {
		// Only ICMP records have a type and code (query.Range.Match).
		fmt.Fprintf(b, "(protocol IN (%d, %d) AND ", flow.ProtoICMP, flow.ProtoICMPv6)
		defer b.WriteString(")")
	}
	switch {
	case g.Min == g.Max:
		fmt.Fprintf(b, "%s = %d", col, g.Min)
	case g.Max == math.MaxUint64:
		fmt.Fprintf(b, "%s >= %d", col, g.Min)
	default:
		fmt.Fprintf(b, "%s BETWEEN %d AND %d", col, g.Min, g.Max)
	}
	return nil
}

// between writes lo <= col <= hi for signed times, leaving out an
// unbounded side: 18.16 reads -9223372036854775808 as a negated UInt64.
func between(b *strings.Builder, col string, lo, hi int64) {
	switch {
	case lo > hi:
		b.WriteString("0")
	case lo == math.MinInt64 && hi == math.MaxInt64:
		b.WriteString("1")
	case lo == math.MinInt64:
		fmt.Fprintf(b, "%s <= %d", col, hi)
	case hi == math.MaxInt64:
		fmt.Fprintf(b, "%s >= %d", col, lo)
	default:
		fmt.Fprintf(b, "%s BETWEEN %d AND %d", col, lo, hi)
	}
}

// prefixSQL writes a test of a FixedString(16) address column against a
// prefix: a byte range, IPv4 as IPv4-mapped /96+n, so an IPv4 prefix never
// matches an IPv6 address (as query.Prefix.Match).
func prefixSQL(b *strings.Builder, col string, p netip.Prefix) {
	if !p.IsValid() {
		b.WriteString("0")
		return
	}
	p = p.Masked()
	lo := flow.AddrFrom(p.Addr())
	bits := p.Bits()
	if p.Addr().Is4() {
		bits += 96
	}
	if bits == 128 {
		fmt.Fprintf(b, "%s = %s", col, addrLiteral(lo))
		return
	}
	hi := lo
	for i := bits; i < 128; i++ {
		hi[i/8] |= 0x80 >> (i % 8)
	}
	fmt.Fprintf(b, "%s BETWEEN %s AND %s", col, addrLiteral(lo), addrLiteral(hi))
}

// addrLiteral is a FixedString(16) literal of a.
func addrLiteral(a flow.Addr) string {
	return "toFixedString(unhex('" + hex.EncodeToString(a[:]) + "'), 16)"
}

// fieldSQL is the SQL expression of a field over the table's columns.
func fieldSQL(f query.Field) (string, error) {
	switch f {
	case query.SrcAddr:
		return "src", nil
	case query.DstAddr:
		return "dst", nil
	case query.NextHop:
		return "nexthop", nil
	case query.SrcPort:
		return "src_port", nil
	case query.DstPort:
		return "dst_port", nil
	case query.Protocol:
		return "protocol", nil
	case query.ICMPType:
		return "intDiv(dst_port, 256)", nil
	case query.ICMPCode:
		return "bitAnd(dst_port, 255)", nil
	case query.Packets:
		return "packets", nil
	case query.Bytes:
		return "bytes", nil
	case query.BytesPerPacket:
		return "if(packets = 0, 0, intDiv(bytes, greatest(packets, 1)))", nil
	case query.Start:
		return "start_ns", nil
	case query.End:
		return "end_ns", nil
	case query.Duration:
		return "(end_ns - start_ns)", nil
	case query.Flags:
		return "flags", nil
	case query.InitialFlags:
		return "initial_flags", nil
	case query.SessionFlags:
		return "session_flags", nil
	case query.Sensor:
		return "sensor", nil
	case query.Type:
		return "type", nil
	case query.Application:
		return "application", nil
	case query.VLAN:
		return "vlan", nil
	case query.EndReason:
		return "end_reason", nil
	case query.Input:
		return "input", nil
	case query.Output:
		return "output", nil
	case query.SrcAS:
		return "src_as", nil
	case query.DstAS:
		return "dst_as", nil
	case query.RevPackets:
		return "rev_packets", nil
	case query.RevBytes:
		return "rev_bytes", nil
	case query.RevFlags:
		return "rev_flags", nil
	}
	return "", fmt.Errorf("%w: field %s", ErrNotTranslated, f)
}
