package query

import (
	"fmt"
	"math"
	"strings"

	"github.com/flowkit/flowkit/flow"
)

// Field names one value of a flow record that predicates test, group-by
// keys are made of and records are sorted by.
type Field uint8

// The fields. Numeric fields read as uint64 (see [Field.Uint]); the time
// fields Start, End and Duration are nanoseconds as int64.
const (
	SrcAddr        Field = iota // source address
	DstAddr                     // destination address
	NextHop                     // next-hop address
	SrcPort                     // source port
	DstPort                     // destination port (ICMP: type*256+code)
	Protocol                    // IP protocol number
	ICMPType                    // ICMP type (ICMP and ICMPv6 records only)
	ICMPCode                    // ICMP code (ICMP and ICMPv6 records only)
	Packets                     // packets
	Bytes                       // bytes
	BytesPerPacket              // bytes divided by packets, rounded down (0 without packets)
	Start                       // start time, ns since the epoch
	End                         // end time, ns since the epoch
	Duration                    // end minus start, ns
	Flags                       // union of all packets' TCP flags
	InitialFlags                // first packet's TCP flags
	SessionFlags                // TCP flags of all packets but the first
	Sensor                      // sensor id
	Type                        // flow type (in, out, int, ext)
	Application                 // application label
	VLAN                        // VLAN id
	EndReason                   // why the flow ended
	Input                       // ingress interface
	Output                      // egress interface
	SrcAS                       // source AS
	DstAS                       // destination AS
	RevPackets                  // reverse packets (biflow)
	RevBytes                    // reverse bytes (biflow)
	RevFlags                    // reverse union of TCP flags
	SrcLabel                    // prefix-map label of the source address (group-by only)
	DstLabel                    // prefix-map label of the destination address (group-by only)
	numFields
)

// NoValue is what [Field.Uint] returns for a value a record does not have:
// the ICMP type and code of a record that is not ICMP.
const NoValue = math.MaxUint64

var fieldNames = [numFields]string{
	"sip", "dip", "nhip", "sport", "dport", "proto", "icmptype", "icmpcode",
	"packets", "bytes", "bpp", "stime", "etime", "duration", "flags", "initialflags",
	"sessionflags", "sensor", "type", "application", "vlan", "endreason", "in", "out",
	"sas", "das", "revpackets", "revbytes", "revflags", "slabel", "dlabel",
}

var fieldAliases = map[string]Field{
	"srcip": SrcAddr, "srcaddr": SrcAddr, "saddr": SrcAddr, "src": SrcAddr,
	"dstip": DstAddr, "dstaddr": DstAddr, "daddr": DstAddr, "dst": DstAddr,
	"nexthop": NextHop, "srcport": SrcPort, "dstport": DstPort,
	"protocol": Protocol, "pro": Protocol, "pkts": Packets, "pkt": Packets,
	"bytesperpacket": BytesPerPacket, "start": Start, "starttime": Start,
	"end": End, "endtime": End, "dur": Duration, "elapsed": Duration,
	"app": Application, "appl": Application, "applabel": Application,
	"reason": EndReason, "input": Input, "output": Output,
	"srcas": SrcAS, "dstas": DstAS, "srclabel": SrcLabel, "dstlabel": DstLabel,
	"tcpflags": Flags,
}

// String returns the field's short name, as ParseField reads it.
func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return fmt.Sprintf("field%d", uint8(f))
}

// ParseField reads a field name, ignoring case: the names String returns,
// SiLK's (sIP, sTime, dur...) and nfdump's (srcip, dstport...).
func ParseField(name string) (Field, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.ReplaceAll(n, "-", "")
	for i, fn := range fieldNames {
		if fn == n {
			return Field(i), nil
		}
	}
	if f, ok := fieldAliases[n]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("query: unknown field %q (known: %s)", name, strings.Join(fieldNames[:], ","))
}

// ParseFields reads a comma-separated list of field names.
func ParseFields(list string) ([]Field, error) {
	var fields []Field
	for _, p := range strings.Split(list, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		f, err := ParseField(p)
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("query: empty field list")
	}
	return fields, nil
}

// IsAddr reports whether the field is an address (SrcAddr, DstAddr, NextHop).
func (f Field) IsAddr() bool { return f == SrcAddr || f == DstAddr || f == NextHop }

// IsTime reports whether the field is a signed time in ns (Start, End, Duration).
func (f Field) IsTime() bool { return f == Start || f == End || f == Duration }

// IsFlags reports whether the field holds TCP flags.
func (f Field) IsFlags() bool {
	return f == Flags || f == InitialFlags || f == SessionFlags || f == RevFlags
}

// IsLabel reports whether the field is a prefix-map label (SrcLabel, DstLabel).
func (f Field) IsLabel() bool { return f == SrcLabel || f == DstLabel }

// IsNumeric reports whether Uint reads the field (everything but addresses
// and labels).
func (f Field) IsNumeric() bool { return f < numFields && !f.IsAddr() && !f.IsLabel() }

// Addr returns an address field of r (the zero Addr for other fields).
func (f Field) Addr(r *flow.Record) flow.Addr {
	switch f {
	case SrcAddr:
		return r.Src
	case DstAddr:
		return r.Dst
	case NextHop:
		return r.NextHop
	}
	return flow.Addr{}
}

// Uint returns a numeric field of r as uint64. Time fields are int64
// nanoseconds converted bit for bit (compare them as int64). ICMPType and
// ICMPCode of a record that is not ICMP give NoValue; addresses and labels
// give 0.
func (f Field) Uint(r *flow.Record) uint64 {
	switch f {
	case SrcPort:
		return uint64(r.SrcPort)
	case DstPort:
		return uint64(r.DstPort)
	case Protocol:
		return uint64(r.Protocol)
	case ICMPType:
		if !r.IsICMP() {
			return NoValue
		}
		return uint64(r.DstPort >> 8)
	case ICMPCode:
		if !r.IsICMP() {
			return NoValue
		}
		return uint64(r.DstPort & 0xff)
	case Packets:
		return r.Packets
	case Bytes:
		return r.Bytes
	case BytesPerPacket:
		if r.Packets == 0 {
			return 0
		}
		return r.Bytes / r.Packets
	case Start:
		return uint64(r.Start)
	case End:
		return uint64(r.End)
	case Duration:
		return uint64(r.End - r.Start)
	case Flags:
		return uint64(r.Flags)
	case InitialFlags:
		return uint64(r.InitialFlags)
	case SessionFlags:
		return uint64(r.SessionFlags)
	case Sensor:
		return uint64(r.Sensor)
	case Type:
		return uint64(r.Type)
	case Application:
		return uint64(r.Application)
	case VLAN:
		return uint64(r.VLAN)
	case EndReason:
		return uint64(r.EndReason)
	case Input:
		return uint64(r.Input)
	case Output:
		return uint64(r.Output)
	case SrcAS:
		return uint64(r.SrcAS)
	case DstAS:
		return uint64(r.DstAS)
	case RevPackets:
		return r.RevPackets
	case RevBytes:
		return r.RevBytes
	case RevFlags:
		return uint64(r.RevFlags)
	}
	return 0
}

// maxValue is the largest value a numeric field can hold, used to clamp
// ranges and to size group-by keys.
func (f Field) maxValue() uint64 {
	switch f {
	case SrcPort, DstPort, Sensor, Application, VLAN:
		return math.MaxUint16
	case Protocol, ICMPType, ICMPCode, Flags, InitialFlags, SessionFlags, Type, EndReason, RevFlags:
		return math.MaxUint8
	case Input, Output, SrcAS, DstAS:
		return math.MaxUint32
	}
	return math.MaxUint64
}

// width is the number of bytes a field takes in a group-by or sort key.
func (f Field) width() int {
	switch {
	case f.IsAddr():
		return 16
	case f.IsLabel():
		return 4
	}
	switch f.maxValue() {
	case math.MaxUint8:
		return 1
	case math.MaxUint16:
		return 2
	case math.MaxUint32:
		return 4
	}
	return 8
}
