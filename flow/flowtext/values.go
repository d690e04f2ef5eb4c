package flowtext

import (
	"errors"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Value parsers work on the column's bytes in place: no allocation for the
// common forms (dotted-quad IPv4, decimal numbers, epoch times).

var (
	errSyntax = errors.New("invalid syntax")
	errRange  = errors.New("value out of range")
)

// parseAddr reads an IPv4 or IPv6 address.
func parseAddr(b []byte) (flow.Addr, error) {
	if a, ok := parseIPv4(b); ok {
		return a, nil
	}
	ip, err := netip.ParseAddr(string(b))
	if err != nil {
		return flow.Addr{}, errSyntax
	}
	return flow.AddrFrom(ip), nil
}

// parseIPv4 is the fast path for dotted quads.
func parseIPv4(b []byte) (flow.Addr, bool) {
	var out [4]byte
	part, digits := 0, 0
	v := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			if digits > 0 && v == 0 { // no leading zeros, as netip
				return flow.Addr{}, false
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return flow.Addr{}, false
			}
		case c == '.':
			if digits == 0 || part == 3 {
				return flow.Addr{}, false
			}
			out[part] = byte(v)
			part++
			v, digits = 0, 0
		default:
			return flow.Addr{}, false
		}
	}
	if part != 3 || digits == 0 {
		return flow.Addr{}, false
	}
	out[3] = byte(v)
	return flow.AddrFrom4(out), true
}

// parseUint reads a decimal number of at most max.
func parseUint(b []byte, max uint64) (uint64, error) {
	if len(b) == 0 || len(b) > 20 {
		return 0, errSyntax
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, errSyntax
		}
		d := uint64(c - '0')
		if v > (max-d)/10 {
			return 0, errRange
		}
		v = v*10 + d
	}
	return v, nil
}

// parseSeconds reads decimal seconds ("11.639", "-0.5", "7") as nanoseconds.
func parseSeconds(b []byte) (int64, error) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	intPart, frac := b, []byte(nil)
	for i, c := range b {
		if c == '.' {
			intPart, frac = b[:i], b[i+1:]
			break
		}
	}
	if len(intPart) == 0 && len(frac) == 0 {
		return 0, errSyntax
	}
	var sec uint64
	if len(intPart) > 0 {
		var err error
		if sec, err = parseUint(intPart, 9_000_000_000); err != nil {
			return 0, err
		}
	}
	if len(frac) > 9 {
		return 0, errSyntax
	}
	var ns int64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, errSyntax
			}
			ns += int64(c - '0')
		}
	}
	v := int64(sec)*1e9 + ns
	if neg {
		v = -v
	}
	return v, nil
}

// parseTime reads epoch seconds ("1767225600.123"), SiLK's
// "2026/01/01T00:00:00.123" (UTC) or RFC 3339, as ns since the epoch.
func parseTime(b []byte) (int64, error) {
	isEpoch := len(b) > 0
	for i, c := range b {
		if (c < '0' || c > '9') && c != '.' && !(i == 0 && c == '-') {
			isEpoch = false
			break
		}
	}
	if isEpoch {
		return parseSeconds(b)
	}
	s := string(b)
	for _, layout := range [...]string{"2006/01/02T15:04:05.999999999", "2006-01-02T15:04:05.999999999", time.RFC3339Nano, "2006/01/02 15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			// Nanoseconds since 1970 fit int64 from 1678 to 2262 only.
			if t.Before(minTime) || t.After(maxTime) {
				return 0, errRange
			}
			return t.UnixNano(), nil
		}
	}
	return 0, errSyntax
}

// The times that nanoseconds since the epoch can hold in an int64.
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// appendSeconds writes ns as decimal seconds with at least three decimals
// and as many more as needed to be exact.
func appendSeconds(dst []byte, ns int64) []byte {
	if ns < 0 {
		dst = append(dst, '-')
		ns = -ns // int64 min cannot occur for times within ±292 years
	}
	dst = strconv.AppendInt(dst, ns/1e9, 10)
	frac := ns % 1e9
	var buf [9]byte
	for i := 8; i >= 0; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 9
	for n > 3 && buf[n-1] == '0' {
		n--
	}
	dst = append(dst, '.')
	return append(dst, buf[:n]...)
}
