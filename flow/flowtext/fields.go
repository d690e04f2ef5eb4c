package flowtext

import (
	"fmt"
	"strings"
)

// Field is one column of the text format.
type Field uint8

// The columns, by SiLK's rwcut names where SiLK has one.
const (
	SIP             Field = iota // source address
	DIP                          // destination address
	SPort                        // source port
	DPort                        // destination port (ICMP: type*256+code)
	Protocol                     // IP protocol number
	Packets                      // packets
	Bytes                        // IP-layer bytes
	Flags                        // union of all TCP flags
	STime                        // start time
	Duration                     // end minus start, seconds
	ETime                        // end time
	Sensor                       // sensor id
	In                           // input interface
	Out                          // output interface
	NhIP                         // next-hop address
	InitialFlags                 // first packet's TCP flags
	SessionFlags                 // TCP flags of all packets but the first
	Application                  // application label
	EndReason                    // why the flow ended (idle, active, eof, forced, resource)
	VLAN                         // VLAN id
	Type                         // flow type (in, out, int, ext)
	SrcAS                        // source AS
	DstAS                        // destination AS
	RevPackets                   // reverse packets (biflow)
	RevBytes                     // reverse bytes (biflow)
	RevFlags                     // reverse union of TCP flags
	RevInitialFlags              // reverse first packet's TCP flags
	RevSessionFlags              // reverse TCP flags of all packets but the first
	RevStartOffset               // reverse first packet minus start, seconds
	numFields
)

var fieldNames = [numFields]string{
	"sIP", "dIP", "sPort", "dPort", "protocol", "packets", "bytes", "flags", "sTime", "duration",
	"eTime", "sensor", "in", "out", "nhIP", "initialFlags", "sessionFlags", "application",
	"endReason", "vlan", "type", "sAS", "dAS", "revPackets", "revBytes", "revFlags",
	"revInitialFlags", "revSessionFlags", "revStartOffset",
}

// DefaultFields are rwcut's classic ten columns, the layout gen_flows.py writes.
var DefaultFields = []Field{SIP, DIP, SPort, DPort, Protocol, Packets, Bytes, Flags, STime, Duration}

// AllFields lists every column in its canonical order.
var AllFields = func() []Field {
	f := make([]Field, numFields)
	for i := range f {
		f[i] = Field(i)
	}
	return f
}()

// String returns the column's name as ParseFields accepts it.
func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return fmt.Sprintf("field%d", uint8(f))
}

// FieldByName finds a column by name, ignoring case; a few SiLK aliases
// (stime, etime, dur, proto, pkts, sip, dip, application...) are accepted.
func FieldByName(name string) (Field, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	for i, fn := range fieldNames {
		if strings.ToLower(fn) == n {
			return Field(i), true
		}
	}
	switch n {
	case "proto", "pro":
		return Protocol, true
	case "pkts":
		return Packets, true
	case "dur", "elapsed":
		return Duration, true
	case "start", "starttime":
		return STime, true
	case "end", "endtime":
		return ETime, true
	case "appl", "applabel":
		return Application, true
	case "nexthop", "nhip":
		return NhIP, true
	}
	return 0, false
}

// ParseFields reads a column list separated by commas or '|', such as
// "sIP,dIP,sPort" or the default layout's title line.
func ParseFields(s string) ([]Field, error) {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '|' })
	if len(parts) == 0 {
		return nil, fmt.Errorf("flowtext: empty field list")
	}
	fields := make([]Field, 0, len(parts))
	for _, p := range parts {
		f, ok := FieldByName(p)
		if !ok {
			return nil, fmt.Errorf("flowtext: unknown field %q (known: %s)", strings.TrimSpace(p), strings.Join(fieldNames[:], ","))
		}
		fields = append(fields, f)
	}
	return fields, nil
}

// FormatFields returns the column list as ParseFields reads it, joined by sep.
func FormatFields(fields []Field, sep string) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.String()
	}
	return strings.Join(names, sep)
}

// Format selects the text layout.
type Format uint8

// The text layouts.
const (
	Text Format = iota // '|'-separated, no title line (rwcut --no-titles, rwtuc input)
	CSV                // ','-separated with a header line of field names
)

// ParseFormat reads "text" or "csv".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "text", "txt", "":
		return Text, nil
	case "csv":
		return CSV, nil
	}
	return 0, fmt.Errorf("flowtext: unknown format %q: want text or csv", s)
}

func (f Format) sep() byte {
	if f == CSV {
		return ','
	}
	return '|'
}
