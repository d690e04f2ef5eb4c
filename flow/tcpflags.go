package flow

import "fmt"

// TCPFlags is the TCP control-bit byte: FIN, SYN, RST, PSH, ACK, URG, ECE, CWR.
type TCPFlags uint8

// TCP control bits, in the order SiLK prints them (FSRPAUEC).
const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// flagLetters are SiLK's letters for bits 0..7.
const flagLetters = "FSRPAUEC"

// String returns SiLK's compact letters, e.g. "FSPA"; no flags give "".
func (f TCPFlags) String() string { return string(f.AppendText(nil)) }

// AppendText appends the compact SiLK letters of f to dst.
func (f TCPFlags) AppendText(dst []byte) []byte {
	for i := 0; i < 8; i++ {
		if f&(1<<i) != 0 {
			dst = append(dst, flagLetters[i])
		}
	}
	return dst
}

// ParseTCPFlags reads SiLK flag letters in any order and either case
// ("FSPA", "sa"); spaces are ignored, as SiLK's padded output has them.
func ParseTCPFlags(s string) (TCPFlags, error) {
	var f TCPFlags
	err := f.UnmarshalText([]byte(s))
	return f, err
}

// UnmarshalText reads SiLK flag letters as ParseTCPFlags does, without
// allocating.
func (f *TCPFlags) UnmarshalText(b []byte) error {
	var v TCPFlags
	for i, c := range b {
		bit, ok := flagBit(c)
		if !ok {
			return fmt.Errorf("flow: TCP flags %q: %q at position %d is not one of FSRPAUEC", b, c, i+1)
		}
		v |= bit
	}
	*f = v
	return nil
}

func flagBit(c byte) (TCPFlags, bool) {
	switch c {
	case 'F', 'f':
		return FIN, true
	case 'S', 's':
		return SYN, true
	case 'R', 'r':
		return RST, true
	case 'P', 'p':
		return PSH, true
	case 'A', 'a':
		return ACK, true
	case 'U', 'u':
		return URG, true
	case 'E', 'e':
		return ECE, true
	case 'C', 'c':
		return CWR, true
	case ' ':
		return 0, true
	}
	return 0, false
}
