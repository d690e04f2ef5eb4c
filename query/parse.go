package query

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// ErrSyntax is wrapped by every *ParseError.
var ErrSyntax = errors.New("query: bad expression")

// ParseError says where an expression went wrong: the 1-based column
// (in bytes) of the bad token, what was expected there and what was found.
type ParseError struct {
	Column   int
	Expected string // what the parser wanted, e.g. "a port number"
	Found    string // the token found; "" at the end of the expression
	Err      error  // a cause other than a wrong token (a file that will not load)
}

// Error reads `query: column 12: expected a port number, found "x"`.
func (e *ParseError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("query: column %d: %v", e.Column, e.Err)
	}
	found := strconv.Quote(e.Found)
	if e.Found == "" {
		found = "the end of the expression"
	}
	return fmt.Sprintf("query: column %d: expected %s, found %s", e.Column, e.Expected, found)
}

// Unwrap returns ErrSyntax and the cause.
func (e *ParseError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrSyntax, e.Err}
	}
	return []error{ErrSyntax}
}

// ParseOptions tells Parse where "@name" files come from.
type ParseOptions struct {
	// Open opens the file an "@name" refers to; nil means os.Open.
	Open func(name string) (io.ReadCloser, error)
}

// Parse reads a filter expression in nfdump's style into a predicate.
// opts may be nil. The language (keywords are case-insensitive):
//
//	expr     := term { ("or" | "||") term }
//	term     := factor { ("and" | "&&") factor }
//	factor   := ("not" | "!") factor | "(" expr ")" | "any" | leaf
//
//	proto tcp | proto 6 | tcp | udp | icmp | icmp6 | proto in [6 17]
//	[src|dst] host ADDR | [src|dst] ip ADDR     (no direction: either side)
//	[src|dst] net CIDR
//	[src|dst] ip in @FILE | [src|dst] ip in [ADDR CIDR ...]   (IP set)
//	[src|dst] port [OP] N | port N-M | port in [22 80 443 1000-2000]
//	[src|dst] as [OP] N
//	[src|dst] label @FILE LABEL | ... label @FILE [L1 L2]      (prefix map)
//	next host ADDR | next net CIDR                             (next hop)
//	icmp-type N | icmp-code N
//	packets|bytes|bpp|sensor|vlan|app|input|output|revpackets|revbytes [OP] N
//	type in|out|int|ext | reason idle|active|eof|forced|resource
//	flags SA | flags S/SA | initial-flags S | session-flags A/A | rev-flags R
//	start|end [OP] TIME | active TIME TIME | duration [OP] DURATION
//
// OP is =, ==, eq, !=, ne, <, lt, <=, le, >, gt, >= or ge (default =).
// Numbers take k, M, G, T suffixes (powers of 1000). TIME is RFC 3339,
// "2026-01-01T10:00:00" (UTC), "2026-01-01", SiLK's "2026/01/01T10:00:00"
// or epoch seconds. DURATION is Go's ("1.5s", "10m") or milliseconds, as in
// nfdump. "not any" matches nothing.
func Parse(expr string, opts *ParseOptions) (Pred, error) {
	p := &parser{src: expr, sets: map[string]*IPSet{}, maps: map[string]*PrefixMap{}}
	if opts != nil {
		p.open = opts.Open
	}
	if p.open == nil {
		p.open = func(name string) (io.ReadCloser, error) { return os.Open(name) }
	}
	p.lex()
	if len(p.toks) == 1 { // only the end
		return nil, p.fail("a filter expression")
	}
	pred, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEnd {
		return nil, p.fail("and, or or the end of the expression")
	}
	return pred, nil
}

// MustParse is Parse that panics on an error, for expressions in source code.
func MustParse(expr string) Pred {
	p, err := Parse(expr, nil)
	if err != nil {
		panic(err)
	}
	return p
}

type tokKind uint8

const (
	tEnd tokKind = iota
	tWord
	tLParen
	tRParen
	tLBrack
	tRBrack
	tOp
)

type token struct {
	kind tokKind
	text string
	col  int // 1-based
}

type parser struct {
	src  string
	toks []token
	pos  int
	open func(string) (io.ReadCloser, error)
	sets map[string]*IPSet
	maps map[string]*PrefixMap
}

func isWordByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '(', ')', '[', ']', ',', '<', '>', '=', '!', '&', '|':
		return false
	}
	return true
}

func (p *parser) lex() {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			p.toks = append(p.toks, token{map[byte]tokKind{'(': tLParen, ')': tRParen, '[': tLBrack, ']': tRBrack}[c], s[i : i+1], i + 1})
			i++
		case c == '<' || c == '>' || c == '=' || c == '!' || c == '&' || c == '|':
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '&' && s[j] == '&') || (c == '|' && s[j] == '|')) {
				j++
			}
			text := s[i:j]
			kind := tOp
			switch text {
			case "&&":
				text, kind = "and", tWord
			case "||":
				text, kind = "or", tWord
			case "!":
				text, kind = "not", tWord
			}
			p.toks = append(p.toks, token{kind, text, i + 1})
			i = j
		default:
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			p.toks = append(p.toks, token{tWord, s[i:j], i + 1})
			i = j
		}
	}
	p.toks = append(p.toks, token{tEnd, "", len(s) + 1})
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEnd {
		p.pos++
	}
	return t
}

// is reports whether the next token is the keyword w (ignoring case).
func (p *parser) is(words ...string) bool {
	t := p.peek()
	if t.kind != tWord {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

// fail reports the next token as not what was expected.
func (p *parser) fail(expected string) error {
	t := p.peek()
	return &ParseError{Column: t.col, Expected: expected, Found: t.text}
}

// failAt reports token t as not what was expected.
func failAt(t token, expected string) error {
	return &ParseError{Column: t.col, Expected: expected, Found: t.text}
}

func (p *parser) expr() (Pred, error) {
	left, err := p.term()
	if err != nil {
		return nil, err
	}
	or := Or{left}
	for p.is("or") {
		p.next()
		right, err := p.term()
		if err != nil {
			return nil, err
		}
		or = append(or, right)
	}
	if len(or) == 1 {
		return left, nil
	}
	return or, nil
}

func (p *parser) term() (Pred, error) {
	left, err := p.factor()
	if err != nil {
		return nil, err
	}
	and := And{left}
	for p.is("and") {
		p.next()
		right, err := p.factor()
		if err != nil {
			return nil, err
		}
		and = append(and, right)
	}
	if len(and) == 1 {
		return left, nil
	}
	return and, nil
}

func (p *parser) factor() (Pred, error) {
	t := p.peek()
	switch {
	case p.is("not"):
		p.next()
		f, err := p.factor()
		if err != nil {
			return nil, err
		}
		return Not{f}, nil
	case t.kind == tLParen:
		p.next()
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek().kind != tRParen {
			return nil, p.fail(`")"`)
		}
		p.next()
		return e, nil
	case p.is("any"):
		p.next()
		return And{}, nil
	}
	return p.leaf()
}

// protoNames are the protocol names the expression knows.
var protoNames = map[string]uint64{"icmp": 1, "tcp": 6, "udp": 17, "gre": 47, "esp": 50, "ah": 51, "icmp6": 58, "ipv6-icmp": 58, "sctp": 132}

// numericLeaves maps keywords to fields compared with numbers.
var numericLeaves = map[string]Field{
	"packets": Packets, "pkts": Packets, "bytes": Bytes, "bpp": BytesPerPacket,
	"sensor": Sensor, "vlan": VLAN, "app": Application, "application": Application,
	"input": Input, "output": Output, "revpackets": RevPackets, "revbytes": RevBytes,
	"icmp-type": ICMPType, "icmp-code": ICMPCode, "proto": Protocol,
	"type": Type, "reason": EndReason,
}

var flagLeaves = map[string]Field{
	"flags": Flags, "initial-flags": InitialFlags, "session-flags": SessionFlags, "rev-flags": RevFlags,
}

func (p *parser) leaf() (Pred, error) {
	t := p.peek()
	if t.kind != tWord {
		return nil, p.fail("a filter term")
	}
	kw := strings.ToLower(t.text)
	if v, ok := protoNames[kw]; ok {
		p.next()
		return Eq(Protocol, v), nil
	}
	if f, ok := numericLeaves[kw]; ok {
		p.next()
		return p.numeric(f)
	}
	if f, ok := flagLeaves[kw]; ok {
		p.next()
		return p.flags(f)
	}
	switch kw {
	case "start", "end":
		p.next()
		f := Start
		if kw == "end" {
			f = End
		}
		return p.timeCmp(f)
	case "duration":
		p.next()
		return p.timeCmp(Duration)
	case "active":
		p.next()
		from, err := p.timeValue()
		if err != nil {
			return nil, err
		}
		to, err := p.timeValue()
		if err != nil {
			return nil, err
		}
		return ActiveDuring(time.Unix(0, from), time.Unix(0, to)), nil
	case "src", "dst", "next", "nexthop":
		p.next()
		return p.directed(kw)
	case "host", "ip", "net", "port", "as", "label":
		return p.directed("")
	}
	return nil, p.fail("a filter term (proto, host, net, port, bytes, flags, start, ...)")
}

// directed reads what follows src/dst/next, or a term without direction
// (either side).
func (p *parser) directed(dir string) (Pred, error) {
	var fields []Field
	switch dir {
	case "src":
		fields = []Field{SrcAddr}
	case "dst":
		fields = []Field{DstAddr}
	case "next", "nexthop":
		fields = []Field{NextHop}
	default:
		fields = []Field{SrcAddr, DstAddr}
	}
	either := func(mk func(f Field) Pred) Pred {
		if len(fields) == 1 {
			return mk(fields[0])
		}
		return Or{mk(fields[0]), mk(fields[1])}
	}
	t := p.peek()
	kw := strings.ToLower(t.text)
	if t.kind != tWord {
		kw = ""
	}
	if dir == "next" || dir == "nexthop" {
		if kw != "host" && kw != "ip" && kw != "net" {
			return nil, p.fail("host, ip or net after next")
		}
	}
	switch kw {
	case "host", "ip":
		p.next()
		if p.is("in") {
			p.next()
			return p.ipSet(either)
		}
		at := p.peek()
		a, err := netip.ParseAddr(p.next().text)
		if err != nil || at.kind != tWord {
			return nil, failAt(at, "an IP address")
		}
		return either(func(f Field) Pred { return Host(f, a.Unmap()) }), nil
	case "net":
		p.next()
		at := p.next()
		pr, err := netip.ParsePrefix(at.text)
		if err != nil || at.kind != tWord {
			return nil, failAt(at, "a CIDR block such as 10.0.0.0/24")
		}
		pr = netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-unmapBits(pr)).Masked()
		return either(func(f Field) Pred { return Prefix{Field: f, Prefix: pr} }), nil
	case "port":
		p.next()
		ports := [2]Field{SrcPort, DstPort}
		var pf []Field
		for _, f := range fields {
			pf = append(pf, ports[map[Field]int{SrcAddr: 0, DstAddr: 1}[f]])
		}
		if len(pf) == 1 {
			return p.numeric(pf[0])
		}
		a, err := p.numeric(SrcPort)
		if err != nil {
			return nil, err
		}
		return Or{a, retarget(a, DstPort)}, nil
	case "as":
		p.next()
		if len(fields) == 1 {
			return p.numeric(map[Field]Field{SrcAddr: SrcAS, DstAddr: DstAS}[fields[0]])
		}
		a, err := p.numeric(SrcAS)
		if err != nil {
			return nil, err
		}
		return Or{a, retarget(a, DstAS)}, nil
	case "label":
		p.next()
		return p.label(either)
	}
	return nil, p.fail("host, ip, net, port, as or label")
}

// unmapBits is how many prefix bits an IPv4-mapped prefix loses when
// written as IPv4.
func unmapBits(pr netip.Prefix) int {
	if pr.Addr().Is4In6() && pr.Bits() >= 96 {
		return 96
	}
	return 0
}

// retarget copies a predicate built for one field onto another.
func retarget(p Pred, f Field) Pred {
	switch q := p.(type) {
	case Range:
		q.Field = f
		return q
	case Or:
		out := make(Or, len(q))
		for i, m := range q {
			out[i] = retarget(m, f)
		}
		return out
	case Not:
		return Not{retarget(q.P, f)}
	}
	return p
}

// cmpOp reads an optional comparison operator; "=" when there is none.
func (p *parser) cmpOp() string {
	t := p.peek()
	op := strings.ToLower(t.text)
	switch op {
	case "=", "==", "eq":
		p.next()
		return "="
	case "!=", "ne":
		p.next()
		return "!="
	case "<", "lt":
		p.next()
		return "<"
	case "<=", "le":
		p.next()
		return "<="
	case ">", "gt":
		p.next()
		return ">"
	case ">=", "ge":
		p.next()
		return ">="
	}
	if t.kind == tOp {
		return "?" // an operator we do not know: the value parser reports it
	}
	return "="
}

// numeric reads "[OP] VALUE", "LO-HI" or "in [list]" for a numeric field.
func (p *parser) numeric(f Field) (Pred, error) {
	if p.is("in") && (f != Type || p.toks[p.pos+1].kind == tLBrack) {
		p.next()
		if p.peek().kind != tLBrack {
			return nil, p.fail(`"[" to start a list`)
		}
		p.next()
		var or Or
		for p.peek().kind != tRBrack {
			if p.peek().kind == tEnd {
				return nil, p.fail(`"]" to end the list`)
			}
			r, err := p.numRange(f)
			if err != nil {
				return nil, err
			}
			or = append(or, r)
		}
		p.next()
		if len(or) == 0 {
			return nil, p.fail("a non-empty list")
		}
		if len(or) == 1 {
			return or[0], nil
		}
		return or, nil
	}
	op := p.cmpOp()
	if op == "?" {
		return nil, p.fail("a comparison operator (=, !=, <, <=, >, >=)")
	}
	if op == "=" {
		return p.numRange(f)
	}
	v, err := p.numValue(f)
	if err != nil {
		return nil, err
	}
	max := f.maxValue()
	if f == ICMPType || f == ICMPCode {
		max = 255
	}
	switch op {
	case "!=":
		return Not{Eq(f, v)}, nil
	case "<":
		if v == 0 {
			return Range{Field: f, Min: 1, Max: 0}, nil
		}
		return Between(f, 0, v-1), nil
	case "<=":
		return Between(f, 0, v), nil
	case ">":
		if v >= max {
			return Range{Field: f, Min: 1, Max: 0}, nil
		}
		return Between(f, v+1, max), nil
	case ">=":
		return Between(f, v, max), nil
	}
	return nil, p.fail("a comparison operator (=, !=, <, <=, >, >=)")
}

// numRange reads "VALUE" or "LO-HI".
func (p *parser) numRange(f Field) (Range, error) {
	t := p.peek()
	if t.kind == tWord && !strings.HasPrefix(t.text, "-") {
		if lo, hi, ok := strings.Cut(t.text, "-"); ok && f != Type && f != EndReason {
			a, errA := parseNumber(lo, f)
			b, errB := parseNumber(hi, f)
			if errA != nil || errB != nil || a > b {
				return Range{}, failAt(t, "a range LOW-HIGH of "+valueName(f))
			}
			p.next()
			return Between(f, a, b), nil
		}
	}
	v, err := p.numValue(f)
	if err != nil {
		return Range{}, err
	}
	return Eq(f, v), nil
}

func valueName(f Field) string {
	switch f {
	case SrcPort, DstPort:
		return "port numbers"
	}
	return f.String() + " values"
}

// numValue reads one value of a numeric field.
func (p *parser) numValue(f Field) (uint64, error) {
	t := p.peek()
	expected := map[Field]string{
		SrcPort: "a port number", DstPort: "a port number", Protocol: "a protocol name or number",
		Type: "a flow type (in, out, int, ext)", EndReason: "an end reason (idle, active, eof, forced, resource)",
		ICMPType: "an ICMP type (0-255)", ICMPCode: "an ICMP code (0-255)",
	}[f]
	if expected == "" {
		expected = "a number for " + f.String()
	}
	if t.kind != tWord {
		return 0, p.fail(expected)
	}
	v, err := parseNumber(t.text, f)
	if err != nil {
		return 0, p.fail(expected)
	}
	p.next()
	return v, nil
}

// parseNumber reads a number with an optional k/M/G/T suffix, or a name
// for protocols, flow types and end reasons; it checks the field's range.
func parseNumber(s string, f Field) (uint64, error) {
	ls := strings.ToLower(s)
	switch f {
	case Protocol:
		if v, ok := protoNames[ls]; ok {
			return v, nil
		}
	case Type:
		if v, err := flow.ParseFlowType(ls); err == nil {
			return uint64(v), nil
		}
	case EndReason:
		if v, err := flow.ParseEndReason(ls); err == nil {
			return uint64(v), nil
		}
	}
	mult := uint64(1)
	if n := len(ls); n > 1 {
		switch ls[n-1] {
		case 'k':
			mult = 1e3
		case 'm':
			mult = 1e6
		case 'g':
			mult = 1e9
		case 't':
			mult = 1e12
		}
		if mult != 1 {
			ls = ls[:n-1]
		}
	}
	v, err := strconv.ParseUint(ls, 10, 64)
	if err != nil {
		return 0, err
	}
	if mult != 1 && v > math.MaxUint64/mult {
		return 0, strconv.ErrRange
	}
	v *= mult
	max := f.maxValue()
	if f == ICMPType || f == ICMPCode {
		max = 255
	}
	if v > max {
		return 0, strconv.ErrRange
	}
	return v, nil
}

// flags reads "SA", "S/SA" or "/SA".
func (p *parser) flags(f Field) (Pred, error) {
	t := p.peek()
	const want = "TCP flags such as S, SA or S/SA (letters FSRPAUEC)"
	if t.kind != tWord {
		return nil, p.fail(want)
	}
	setText, maskText, hasMask := strings.Cut(t.text, "/")
	set, err := flow.ParseTCPFlags(setText)
	if err != nil || (setText == "" && !hasMask) {
		return nil, p.fail(want)
	}
	mask := set
	if hasMask {
		if mask, err = flow.ParseTCPFlags(maskText); err != nil || maskText == "" {
			return nil, p.fail(want)
		}
	}
	p.next()
	return TCPFlagsMatch(f, set, mask), nil
}

// timeCmp reads "[OP] TIME" for start and end, "[OP] DURATION" for duration.
func (p *parser) timeCmp(f Field) (Pred, error) {
	op := p.cmpOp()
	if op == "?" {
		return nil, p.fail("a comparison operator (=, !=, <, <=, >, >=)")
	}
	var v int64
	var err error
	if f == Duration {
		v, err = p.durationValue()
	} else {
		v, err = p.timeValue()
	}
	if err != nil {
		return nil, err
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if f == Duration {
		lo = 0
	}
	switch op {
	case "=":
		lo, hi = v, v
	case "!=":
		return Not{TimeRange{Field: f, Min: v, Max: v}}, nil
	case "<":
		if v == math.MinInt64 {
			return TimeRange{Field: f, Min: 1, Max: 0}, nil
		}
		hi = v - 1
	case "<=":
		hi = v
	case ">":
		if v == math.MaxInt64 {
			return TimeRange{Field: f, Min: 1, Max: 0}, nil
		}
		lo = v + 1
	case ">=":
		lo = v
	default:
		return nil, p.fail("a comparison operator (=, !=, <, <=, >, >=)")
	}
	return TimeRange{Field: f, Min: lo, Max: hi}, nil
}

var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02",
	"2006/01/02T15:04:05.999999999", "2006/01/02T15:04", "2006/01/02:15:04:05", "2006/01/02",
}

// timeValue reads a time as ns since the epoch.
func (p *parser) timeValue() (int64, error) {
	t := p.peek()
	const want = "a time (2026-01-01T10:00:00Z, 2026/01/01T10:00:00 or epoch seconds)"
	if t.kind != tWord {
		return 0, p.fail(want)
	}
	v, ok := parseTime(t.text)
	if !ok {
		return 0, p.fail(want)
	}
	p.next()
	return v, nil
}

func parseTime(s string) (int64, bool) {
	for _, l := range timeLayouts {
		if tm, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return tm.UnixNano(), true
		}
	}
	if sec, frac, ok := strings.Cut(s, "."); ok || sec != "" {
		n, err := strconv.ParseInt(sec, 10, 64)
		if err != nil || n > math.MaxInt64/int64(1e9) || n < 0 || len(frac) > 9 || (ok && frac == "") {
			return 0, false
		}
		v := n * 1e9
		if frac != "" {
			f, err := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
			if err != nil {
				return 0, false
			}
			v += int64(f)
		}
		return v, true
	}
	return 0, false
}

// durationValue reads "1.5s", "10m" or milliseconds.
func (p *parser) durationValue() (int64, error) {
	t := p.peek()
	const want = "a duration (1.5s, 10m, 2h or milliseconds)"
	if t.kind != tWord {
		return 0, p.fail(want)
	}
	if ms, err := strconv.ParseUint(t.text, 10, 64); err == nil && ms <= uint64(math.MaxInt64/int64(1e6)) {
		p.next()
		return int64(ms) * 1e6, nil
	}
	d, err := time.ParseDuration(t.text)
	if err != nil || d < 0 {
		return 0, p.fail(want)
	}
	p.next()
	return int64(d), nil
}

// ipSet reads "@FILE" or "[ADDR CIDR ...]" after "ip in".
func (p *parser) ipSet(either func(func(Field) Pred) Pred) (Pred, error) {
	t := p.peek()
	if t.kind == tWord && strings.HasPrefix(t.text, "@") && len(t.text) > 1 {
		name := t.text[1:]
		set, ok := p.sets[name]
		if !ok {
			rc, err := p.open(name)
			if err != nil {
				return nil, &ParseError{Column: t.col, Err: fmt.Errorf("IP set %s: %w", name, err)}
			}
			set, err = ReadIPSet(rc)
			rc.Close()
			if err != nil {
				return nil, &ParseError{Column: t.col, Err: fmt.Errorf("IP set %s: %w", name, err)}
			}
			p.sets[name] = set
		}
		p.next()
		return either(func(f Field) Pred { return InSet{Field: f, Set: set, Name: name} }), nil
	}
	if t.kind != tLBrack {
		return nil, p.fail(`an IP set file "@name" or a list "[...]"`)
	}
	p.next()
	var prefixes []netip.Prefix
	for p.peek().kind != tRBrack {
		at := p.peek()
		if at.kind != tWord {
			return nil, p.fail(`an address, a CIDR block or "]"`)
		}
		pr, err := parsePrefixOrAddr(at.text)
		if err != nil {
			return nil, p.fail("an address or a CIDR block")
		}
		prefixes = append(prefixes, netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-unmapBits(pr)))
		p.next()
	}
	p.next()
	if len(prefixes) == 0 {
		return nil, failAt(t, "a non-empty list")
	}
	return either(func(f Field) Pred {
		or := make(Or, len(prefixes))
		for i, pr := range prefixes {
			or[i] = Prefix{Field: f, Prefix: pr}
		}
		if len(or) == 1 {
			return or[0]
		}
		return or
	}), nil
}

// label reads "@FILE LABEL" or "@FILE [L1 L2]" after "label".
func (p *parser) label(either func(func(Field) Pred) Pred) (Pred, error) {
	t := p.peek()
	if t.kind != tWord || !strings.HasPrefix(t.text, "@") || len(t.text) < 2 {
		return nil, p.fail(`a prefix map file "@name"`)
	}
	name := t.text[1:]
	m, ok := p.maps[name]
	if !ok {
		rc, err := p.open(name)
		if err != nil {
			return nil, &ParseError{Column: t.col, Err: fmt.Errorf("prefix map %s: %w", name, err)}
		}
		m, err = LoadPrefixMap(rc)
		rc.Close()
		if err != nil {
			return nil, &ParseError{Column: t.col, Err: fmt.Errorf("prefix map %s: %w", name, err)}
		}
		p.maps[name] = m
	}
	p.next()
	var labels []token
	if p.peek().kind == tLBrack {
		p.next()
		for p.peek().kind == tWord {
			labels = append(labels, p.next())
		}
		if p.peek().kind != tRBrack {
			return nil, p.fail(`a label or "]"`)
		}
		p.next()
	} else if p.peek().kind == tWord {
		labels = append(labels, p.next())
	}
	if len(labels) == 0 {
		return nil, p.fail("a label of " + name)
	}
	names := make([]string, len(labels))
	for i, l := range labels {
		if _, ok := m.LabelID(l.text); !ok {
			return nil, failAt(l, "a label of "+name+" ("+strings.Join(m.Labels(), ", ")+")")
		}
		names[i] = l.text
	}
	return either(func(f Field) Pred {
		l, _ := HasLabel(f, m, name, names...)
		return l
	}), nil
}
