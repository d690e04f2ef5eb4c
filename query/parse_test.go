package query

import (
	"errors"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// testOpen serves "@" files from memory.
func testOpen(files map[string]string) *ParseOptions {
	return &ParseOptions{Open: func(name string) (io.ReadCloser, error) {
		s, ok := files[name]
		if !ok {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}}
}

var testFiles = map[string]string{
	"internal.set": "# our networks\n10.0.1.0/24\n2001:db8::3\n10.0.0.5-10.0.0.9\n",
	"zones.pmap":   "10.0.0.0/8 internal\n10.0.2.0/24 dmz\n2001:db8::/32 internal\n",
}

func TestParseAgainstReference(t *testing.T) {
	recs := randomRecords(11, 20000)
	a := func(s string) flow.Addr { return flow.AddrFrom(netip.MustParseAddr(s)) }
	isICMP := func(r *flow.Record) bool { return r.Protocol == 1 || r.Protocol == 58 }
	cases := []struct {
		expr string
		ref  func(r *flow.Record) bool
	}{
		{"proto tcp and dst port 22", func(r *flow.Record) bool { return r.Protocol == 6 && r.DstPort == 22 }},
		{"tcp && dst port 22", func(r *flow.Record) bool { return r.Protocol == 6 && r.DstPort == 22 }},
		{"host 10.0.0.7", func(r *flow.Record) bool { return r.Src == a("10.0.0.7") || r.Dst == a("10.0.0.7") }},
		{"src ip 10.0.0.7", func(r *flow.Record) bool { return r.Src == a("10.0.0.7") }},
		{"dst host 2001:db8::3", func(r *flow.Record) bool { return r.Dst == a("2001:db8::3") }},
		{"net 10.0.0.0/24 and dst port 443", func(r *flow.Record) bool {
			return (in4(r.Src, "10.0.0.0/24") || in4(r.Dst, "10.0.0.0/24")) && r.DstPort == 443
		}},
		{"(src net 10.0.0.0/24 or dst net 10.0.0.0/24) and dst port 443", func(r *flow.Record) bool {
			return (in4(r.Src, "10.0.0.0/24") || in4(r.Dst, "10.0.0.0/24")) && r.DstPort == 443
		}},
		{"bytes > 1M", func(r *flow.Record) bool { return r.Bytes > 1000000 }},
		{"bytes > 999999", func(r *flow.Record) bool { return r.Bytes > 999999 }},
		{"bytes >= 18446744073709551615", func(r *flow.Record) bool { return r.Bytes == math.MaxUint64 }},
		{"packets < 1", func(r *flow.Record) bool { return r.Packets < 1 }},
		{"packets lt 0", func(r *flow.Record) bool { return false }},
		{"flags S and not flags A", func(r *flow.Record) bool { return r.Flags&flow.SYN != 0 && r.Flags&flow.ACK == 0 }},
		{"flags S/SA", func(r *flow.Record) bool { return r.Flags&(flow.SYN|flow.ACK) == flow.SYN }},
		{"initial-flags S and session-flags /S", func(r *flow.Record) bool {
			return r.InitialFlags&flow.SYN != 0 && r.SessionFlags&flow.SYN == 0
		}},
		{"src ip in @internal.set", func(r *flow.Record) bool {
			return in4(r.Src, "10.0.1.0/24") || r.Src == a("2001:db8::3") || (r.Src.Is4() && r.Src.Uint32() >= 0x0a000005 && r.Src.Uint32() <= 0x0a000009)
		}},
		{"ip in [10.0.0.1 10.0.3.0/24]", func(r *flow.Record) bool {
			return r.Src == a("10.0.0.1") || r.Dst == a("10.0.0.1") || in4(r.Src, "10.0.3.0/24") || in4(r.Dst, "10.0.3.0/24")
		}},
		{"port in [22 80 443]", func(r *flow.Record) bool {
			p := func(v uint16) bool { return v == 22 || v == 80 || v == 443 }
			return p(r.SrcPort) || p(r.DstPort)
		}},
		{"dst port in [0 1000-2000, 65535]", func(r *flow.Record) bool {
			return r.DstPort == 0 || (r.DstPort >= 1000 && r.DstPort <= 2000) || r.DstPort == 65535
		}},
		{"src port > 1023", func(r *flow.Record) bool { return r.SrcPort > 1023 }},
		{"src port != 0", func(r *flow.Record) bool { return r.SrcPort != 0 }},
		{"duration > 1s", func(r *flow.Record) bool { return r.End-r.Start > 1e9 }},
		{"duration >= 1000", func(r *flow.Record) bool { return r.End-r.Start >= 1e9 }},
		{"duration = 0", func(r *flow.Record) bool { return r.End == r.Start }},
		{"bpp 40-1500", func(r *flow.Record) bool {
			return r.Packets != 0 && r.Bytes/r.Packets >= 40 && r.Bytes/r.Packets <= 1500
		}},
		{"start >= 2026-01-01T01:00:00Z and start < 2026-01-01T02:00:00Z", func(r *flow.Record) bool {
			return r.Start >= day0+3600e9 && r.Start < day0+7200e9
		}},
		{"end < 2026/01/01T06:00:00", func(r *flow.Record) bool { return r.End < day0+6*3600e9 }},
		{"start > 1767229200.5", func(r *flow.Record) bool { return r.Start > day0+3600e9+5e8 }},
		{"active 2026-01-01T01:00:00Z 2026-01-01T02:00:00Z", func(r *flow.Record) bool {
			return r.Start <= day0+7200e9 && r.End >= day0+3600e9
		}},
		{"sensor 2 or type out", func(r *flow.Record) bool { return r.Sensor == 2 || r.Type == flow.TypeOut }},
		{"vlan 4095 and app 443", func(r *flow.Record) bool { return r.VLAN == 4095 && r.Application == 443 }},
		{"reason active", func(r *flow.Record) bool { return r.EndReason == flow.EndActiveTimeout }},
		{"icmp-type 3 and icmp-code 1", func(r *flow.Record) bool { return isICMP(r) && r.DstPort == 3<<8|1 }},
		{"icmp and icmp-type 0", func(r *flow.Record) bool { return r.Protocol == 1 && r.DstPort>>8 == 0 }},
		{"proto in [1 58]", isICMP},
		{"src as 2 or dst as > 65535", func(r *flow.Record) bool { return r.SrcAS == 2 || r.DstAS > 65535 }},
		{"next host 255.255.255.255", func(r *flow.Record) bool { return r.NextHop == a("255.255.255.255") }},
		{"src label @zones.pmap internal", func(r *flow.Record) bool {
			return (in4(r.Src, "10.0.0.0/8") && !in4(r.Src, "10.0.2.0/24")) ||
				(!r.Src.Is4() && netip.MustParsePrefix("2001:db8::/32").Contains(r.Src.Netip()))
		}},
		{"dst label @zones.pmap [dmz unknown]", func(r *flow.Record) bool {
			return !(in4(r.Dst, "10.0.0.0/8") && !in4(r.Dst, "10.0.2.0/24")) &&
				!(!r.Dst.Is4() && netip.MustParsePrefix("2001:db8::/32").Contains(r.Dst.Netip()))
		}},
		{"not (tcp or udp) and any", func(r *flow.Record) bool { return r.Protocol != 6 && r.Protocol != 17 }},
		{"! tcp || (udp && !dst port 53)", func(r *flow.Record) bool { return r.Protocol != 6 || (r.Protocol == 17 && r.DstPort != 53) }},
		{"TCP AND DST PORT 22", func(r *flow.Record) bool { return r.Protocol == 6 && r.DstPort == 22 }},
		{"revpackets > 0", func(r *flow.Record) bool { return r.RevPackets > 0 }},
	}
	opts := testOpen(testFiles)
	for _, c := range cases {
		p, err := Parse(c.expr, opts)
		if err != nil {
			t.Fatalf("%q: %v", c.expr, err)
		}
		check(t, c.expr, p, c.ref, recs, nil)
		// The expression the predicate prints means the same.
		p2, err := Parse(p.String(), opts)
		if err != nil {
			t.Fatalf("%q printed as %q which does not parse: %v", c.expr, p.String(), err)
		}
		check(t, p.String(), p2, c.ref, recs, nil)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"proto tcp and dst port x", `query: column 24: expected a port number, found "x"`},
		{"dst port 70000", `query: column 10: expected a port number, found "70000"`},
		{"", `query: column 1: expected a filter expression, found the end of the expression`},
		{"proto tcp and", `query: column 14: expected a filter term`},
		{"(tcp", `query: column 5: expected ")", found the end of the expression`},
		{"tcp udp", `query: column 5: expected and, or or the end of the expression, found "udp"`},
		{"host 10.0.0.300", `query: column 6: expected an IP address, found "10.0.0.300"`},
		{"net 10.0.0.0/33", `query: column 5: expected a CIDR block`},
		{"flags SX", `query: column 7: expected TCP flags`},
		{"bytes > lots", `query: column 9: expected a number for bytes, found "lots"`},
		{"start > yesterday", `query: column 9: expected a time`},
		{"duration > -5s", `query: column 12: expected a duration`},
		{"src ip in @nope.set", `query: column 11: IP set nope.set: file does not exist`},
		{"port in [22", `query: column 12: expected "]" to end the list`},
		{"src label @zones.pmap mars", `query: column 23: expected a label of zones.pmap (unknown, internal, dmz), found "mars"`},
		{"type sideways", `query: column 6: expected a flow type`},
		{"dst port 2000-1000", `query: column 10: expected a range LOW-HIGH of port numbers`},
		{"wibble", `query: column 1: expected a filter term`},
		{"bytes >< 5", `query: column 8: expected a number for bytes, found "<"`},
		{"bytes & 5", `query: column 7: expected a comparison operator`},
		{"next port 5", `query: column 6: expected host, ip or net after next, found "port"`},
	}
	for _, c := range cases {
		_, err := Parse(c.expr, testOpen(testFiles))
		if err == nil {
			t.Errorf("%q: no error", c.expr)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: %T is not a *ParseError wrapping ErrSyntax", c.expr, err)
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q:\n got %s\nwant %s", c.expr, err, c.want)
		}
	}
}

func TestParseSetFromDisk(t *testing.T) {
	dir := t.TempDir()
	s := NewIPSet()
	s.Add(netip.MustParseAddr("10.0.5.7"))
	b, _ := s.MarshalBinary()
	name := filepath.Join(dir, "one.set")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Parse("src ip in @"+name, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := flow.Record{Src: flow.AddrFromUint32(0x0a000507)}
	if !p.Match(&r) {
		t.Fatal("address of the binary set file not matched")
	}
}

// FuzzParse checks that no input makes the parser panic, and that what a
// parsed predicate prints parses again to a predicate that agrees with it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"proto tcp and dst port 22", "host 10.0.5.7", "net 10.0.0.0/24 and dst port 443", "bytes > 1M",
		"flags S and not flags A", "src ip in @internal.set", "port in [22 80 443]", "(a", "duration > 1.5s",
		"start >= 2026-01-01T00:00:00Z", "dst label @zones.pmap [dmz]", "ip in [2001:db8::/32]", "bpp 1-2",
		"active 1767225600 1767229200", "icmp-type 3 or ! reason idle", "flags /SA",
	} {
		f.Add(s)
	}
	recs := randomRecords(3, 200)
	opts := testOpen(testFiles)
	f.Fuzz(func(t *testing.T, expr string) {
		p, err := Parse(expr, opts)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Column < 1 || pe.Column > len(expr)+1 {
				t.Fatalf("%q: bad error %v", expr, err)
			}
			return
		}
		p2, err := Parse(p.String(), opts)
		if err != nil {
			t.Fatalf("%q printed as %q: %v", expr, p.String(), err)
		}
		m := NewMatcher(p)
		sel := m.Select(recs, nil)
		for i := range recs {
			if p.Match(&recs[i]) != p2.Match(&recs[i]) || p.Match(&recs[i]) != sel.Has(i) {
				t.Fatalf("%q and %q disagree on %v", expr, p.String(), recs[i].String())
			}
		}
	})
}
