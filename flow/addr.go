package flow

import "net/netip"

// Addr is an IPv4 or IPv6 address stored as 16 bytes, IPv4 in the
// IPv4-mapped form (::ffff:a.b.c.d). It is comparable, has no pointers and
// converts to and from [netip.Addr]. The zero Addr is the IPv6 unspecified
// address "::".
type Addr [16]byte

// v4Prefix is the first 12 bytes of an IPv4-mapped IPv6 address.
var v4Prefix = [12]byte{10: 0xff, 11: 0xff}

// AddrFrom converts a netip.Addr. An invalid netip.Addr gives the zero Addr.
func AddrFrom(a netip.Addr) Addr {
	if !a.IsValid() {
		return Addr{}
	}
	return Addr(a.As16())
}

// AddrFrom4 makes an IPv4 Addr from four bytes.
func AddrFrom4(b [4]byte) Addr {
	var a Addr
	a[10], a[11] = 0xff, 0xff
	a[12], a[13], a[14], a[15] = b[0], b[1], b[2], b[3]
	return a
}

// AddrFromUint32 makes an IPv4 Addr from its big-endian numeric value.
func AddrFromUint32(v uint32) Addr {
	return AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Is4 reports whether a is an IPv4 address (IPv4-mapped form).
func (a Addr) Is4() bool { return [12]byte(a[:12]) == v4Prefix }

// Uint32 returns the numeric value of an IPv4 address (0 for IPv6).
func (a Addr) Uint32() uint32 {
	if !a.Is4() {
		return 0
	}
	return uint32(a[12])<<24 | uint32(a[13])<<16 | uint32(a[14])<<8 | uint32(a[15])
}

// Netip returns a as a netip.Addr: an IPv4 address for the IPv4-mapped form,
// an IPv6 address otherwise.
func (a Addr) Netip() netip.Addr {
	if a.Is4() {
		return netip.AddrFrom4([4]byte(a[12:]))
	}
	return netip.AddrFrom16(a)
}

// String returns the usual text form ("10.0.5.7", "2001:db8::1").
func (a Addr) String() string { return a.Netip().String() }

// AppendText appends the text form of a to dst.
func (a Addr) AppendText(dst []byte) []byte {
	if a.Is4() {
		return appendIPv4(dst, a[12], a[13], a[14], a[15])
	}
	return a.Netip().AppendTo(dst)
}

func appendIPv4(dst []byte, b0, b1, b2, b3 byte) []byte {
	dst = appendByteDecimal(dst, b0)
	dst = append(dst, '.')
	dst = appendByteDecimal(dst, b1)
	dst = append(dst, '.')
	dst = appendByteDecimal(dst, b2)
	dst = append(dst, '.')
	return appendByteDecimal(dst, b3)
}

func appendByteDecimal(dst []byte, b byte) []byte {
	switch {
	case b >= 100:
		return append(dst, '0'+b/100, '0'+b/10%10, '0'+b%10)
	case b >= 10:
		return append(dst, '0'+b/10, '0'+b%10)
	default:
		return append(dst, '0'+b)
	}
}
