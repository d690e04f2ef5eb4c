package ipfix

import (
	"encoding/binary"
	"slices"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Template ids of the four record shapes the Encoder writes: IPv4 or IPv6,
// one direction or a biflow (RFC 5103). Millisecond templates use
// 256..259, nanosecond ones (Encoder.Nanoseconds) 260..263.
const (
	TemplateIPv4       = 256
	TemplateIPv6       = 257
	TemplateIPv4Biflow = 258
	TemplateIPv6Biflow = 259
	templateNanoOffset = 4
)

// shape indexes the four record shapes.
type shape uint8

const (
	shapeV4   shape = 0
	shapeV6   shape = 1
	shapeBi   shape = 2 // added to shapeV4 or shapeV6
	numShapes       = 4
)

func recordShape(r *flow.Record) shape {
	s := shapeV4
	if !r.Src.Is4() || !r.Dst.Is4() || (r.NextHop != flow.Addr{} && !r.NextHop.Is4()) {
		s = shapeV6
	}
	if r.RevPackets != 0 || r.RevBytes != 0 {
		s += shapeBi
	}
	return s
}

// Encoder writes flow.Records as IPFIX messages of one observation domain.
// It carries every flow.Record field:
//
//	Start, End        flowStart/EndMilliseconds (152/153), or with Nanoseconds
//	                  flowStart/EndNanoseconds (156/157)
//	Src, Dst, NextHop sourceIPv4Address (8) / sourceIPv6Address (27), ...,
//	                  ipNextHopIPv4Address (15) / ipNextHopIPv6Address (62)
//	Packets, Bytes    packetDeltaCount (2), octetDeltaCount (1)
//	Input, Output     ingressInterface (10), egressInterface (14)
//	SrcAS, DstAS      bgpSourceAsNumber (16), bgpDestinationAsNumber (17)
//	SrcPort, DstPort  sourceTransportPort (7), destinationTransportPort (11)
//	VLAN              vlanId (58)
//	Sensor            CERT silkFlowSensor (6871/31)
//	Application       CERT silkAppLabel (6871/33)
//	Protocol          protocolIdentifier (4)
//	Flags             tcpControlBits (6), one octet (reduced size)
//	InitialFlags      CERT initialTCPFlags (6871/14)
//	SessionFlags      CERT unionTCPFlags (6871/15)
//	EndReason         flowEndReason (136)
//	Type              CERT silkFlowType (6871/30)
//
// and for biflows reversePacketDeltaCount, reverseOctetDeltaCount and
// reverseTcpControlBits (RFC 5103, PEN 29305), CERT reverseInitialTCPFlags
// and reverseUnionTCPFlags (6871/16398, 16399), and RevStartOffset as CERT
// reverseFlowDeltaMilliseconds (6871/21), or with Nanoseconds as the
// reverse flowStartNanoseconds (29305/156).
//
// Milliseconds are the default because every collector (nfdump, SiLK,
// Wireshark, pmacct, goflow2) reads them; they drop the sub-millisecond
// part of flowkit's nanosecond times. Nanoseconds keep times exact between
// flowkit instances (and for collectors that read dateTimeNanoseconds).
type Encoder struct {
	Domain         uint32 // observation domain id of the messages
	Nanoseconds    bool   // nanosecond timestamps (templates 260..263)
	MaxMessageSize int    // bytes per message, e.g. 1400 for UDP within a 1500 MTU; 0 means 65535
	seq            uint32 // data records sent so far (the next message's sequence number)
}

// Sequence returns the sequence number the next message will carry: the
// number of data records written so far, modulo 2^32.
func (e *Encoder) Sequence() uint32 { return e.seq }

func (e *Encoder) maxSize() int {
	if e.MaxMessageSize <= 0 || e.MaxMessageSize > 65535 {
		return 65535
	}
	return e.MaxMessageSize
}

// Templates returns the four templates the encoder uses.
func (e *Encoder) Templates() []Template {
	out := make([]Template, numShapes)
	for s := shape(0); s < numShapes; s++ {
		out[s] = Template{ID: e.templateID(s), Fields: shapeFields(s, e.Nanoseconds)}
	}
	return out
}

func (e *Encoder) templateID(s shape) uint16 {
	id := uint16(TemplateIPv4) + uint16(s)
	if e.Nanoseconds {
		id += templateNanoOffset
	}
	return id
}

func shapeFields(s shape, ns bool) []FieldSpec {
	v6 := s&1 == 1
	bi := s >= shapeBi
	start, end := uint16(152), uint16(153)
	if ns {
		start, end = 156, 157
	}
	fs := []FieldSpec{{ID: start, Length: 8}, {ID: end, Length: 8}}
	if v6 {
		fs = append(fs, FieldSpec{ID: 27, Length: 16}, FieldSpec{ID: 28, Length: 16}, FieldSpec{ID: 62, Length: 16})
	} else {
		fs = append(fs, FieldSpec{ID: 8, Length: 4}, FieldSpec{ID: 12, Length: 4}, FieldSpec{ID: 15, Length: 4})
	}
	fs = append(fs,
		FieldSpec{ID: 2, Length: 8}, FieldSpec{ID: 1, Length: 8},
		FieldSpec{ID: 10, Length: 4}, FieldSpec{ID: 14, Length: 4},
		FieldSpec{ID: 16, Length: 4}, FieldSpec{ID: 17, Length: 4},
		FieldSpec{ID: 7, Length: 2}, FieldSpec{ID: 11, Length: 2}, FieldSpec{ID: 58, Length: 2},
		FieldSpec{Enterprise: PENCERT, ID: 31, Length: 2}, FieldSpec{Enterprise: PENCERT, ID: 33, Length: 2},
		FieldSpec{ID: 4, Length: 1}, FieldSpec{ID: 6, Length: 1},
		FieldSpec{Enterprise: PENCERT, ID: 14, Length: 1}, FieldSpec{Enterprise: PENCERT, ID: 15, Length: 1},
		FieldSpec{ID: 136, Length: 1}, FieldSpec{Enterprise: PENCERT, ID: 30, Length: 1},
	)
	if bi {
		fs = append(fs,
			FieldSpec{Enterprise: PENBiflow, ID: 2, Length: 8}, FieldSpec{Enterprise: PENBiflow, ID: 1, Length: 8},
			FieldSpec{Enterprise: PENBiflow, ID: 6, Length: 1},
			FieldSpec{Enterprise: PENCERT, ID: 14 | CERTReverse, Length: 1},
			FieldSpec{Enterprise: PENCERT, ID: 15 | CERTReverse, Length: 1})
		if ns {
			fs = append(fs, FieldSpec{Enterprise: PENBiflow, ID: 156, Length: 8})
		} else {
			fs = append(fs, FieldSpec{Enterprise: PENCERT, ID: 21, Length: 4})
		}
	}
	return fs
}

// recordLen is the encoded size of one data record of shape s.
func recordLen(s shape, ns bool) int {
	n := 76
	if s&1 == 1 {
		n += 36
	}
	if s >= shapeBi {
		n += 23
		if ns {
			n += 4
		}
	}
	return n
}

// appendHeader appends a message header with a zero length, fixed later.
func (e *Encoder) appendHeader(dst []byte, export time.Time) []byte {
	var h [16]byte
	binary.BigEndian.PutUint16(h[0:], 10)
	binary.BigEndian.PutUint32(h[4:], uint32(export.Unix()))
	binary.BigEndian.PutUint32(h[8:], e.seq)
	binary.BigEndian.PutUint32(h[12:], e.Domain)
	return append(dst, h[:]...)
}

// AppendTemplateMessage appends a message holding the encoder's template
// set. Send it first and, over UDP, again on an interval.
func (e *Encoder) AppendTemplateMessage(dst []byte, export time.Time) []byte {
	start := len(dst)
	dst = e.appendHeader(dst, export)
	dst = AppendTemplateSet(dst, e.Templates())
	binary.BigEndian.PutUint16(dst[start+2:], uint16(len(dst)-start))
	return dst
}

// AppendTemplateSet appends a template set (id 2) holding ts, for callers
// that build their own messages.
func AppendTemplateSet(dst []byte, ts []Template) []byte {
	setStart := len(dst)
	dst = append(dst, 0, 2, 0, 0)
	for _, t := range ts {
		dst = binary.BigEndian.AppendUint16(dst, t.ID)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(t.Fields)))
		for _, f := range t.Fields {
			id := f.ID
			if f.Enterprise != 0 {
				id |= 0x8000
			}
			dst = binary.BigEndian.AppendUint16(dst, id)
			dst = binary.BigEndian.AppendUint16(dst, f.Length)
			if f.Enterprise != 0 {
				dst = binary.BigEndian.AppendUint32(dst, f.Enterprise)
			}
		}
	}
	binary.BigEndian.PutUint16(dst[setStart+2:], uint16(len(dst)-setStart))
	return dst
}

// AppendMessage appends one IPFIX message holding as many of recs as fit
// in MaxMessageSize, in order, and returns the extended buffer and how many
// records it holds (at least one when recs is not empty and one record
// fits in a message). Consecutive records of the same shape share a data
// set. Call it again with recs[n:] for the rest.
func (e *Encoder) AppendMessage(dst []byte, export time.Time, recs []flow.Record) ([]byte, int) {
	start := len(dst)
	limit := e.maxSize()
	dst = e.appendHeader(dst, export)
	ns := e.Nanoseconds
	n := 0
	for n < len(recs) {
		s := recordShape(&recs[n])
		rl := recordLen(s, ns)
		if len(dst)-start+4+rl > limit {
			break
		}
		setStart := len(dst)
		dst = binary.BigEndian.AppendUint16(dst, e.templateID(s))
		dst = append(dst, 0, 0)
		for n < len(recs) && len(dst)-start+rl <= limit {
			r := &recs[n]
			if recordShape(r) != s {
				break
			}
			dst = appendRecord(dst, r, s, ns, rl)
			n++
		}
		binary.BigEndian.PutUint16(dst[setStart+2:], uint16(len(dst)-setStart))
	}
	binary.BigEndian.PutUint16(dst[start+2:], uint16(len(dst)-start))
	e.seq += uint32(n)
	return dst, n
}

// appendRecord writes one data record in the field order of shapeFields.
func appendRecord(dst []byte, r *flow.Record, s shape, ns bool, rl int) []byte {
	dst = slices.Grow(dst, rl)
	off := len(dst)
	dst = dst[:off+rl]
	b := dst[off:]
	be := binary.BigEndian
	if ns {
		be.PutUint64(b[0:], unixNanoToNTP(r.Start))
		be.PutUint64(b[8:], unixNanoToNTP(r.End))
	} else {
		be.PutUint64(b[0:], uint64(r.Start/1e6))
		be.PutUint64(b[8:], uint64(r.End/1e6))
	}
	p := 16
	if s&1 == 1 {
		copy(b[p:p+16], r.Src[:])
		copy(b[p+16:p+32], r.Dst[:])
		copy(b[p+32:p+48], r.NextHop[:])
		p += 48
	} else {
		copy(b[p:p+4], r.Src[12:])
		copy(b[p+4:p+8], r.Dst[12:])
		if r.NextHop.Is4() {
			copy(b[p+8:p+12], r.NextHop[12:])
		} else {
			clear(b[p+8 : p+12])
		}
		p += 12
	}
	be.PutUint64(b[p:], r.Packets)
	be.PutUint64(b[p+8:], r.Bytes)
	be.PutUint32(b[p+16:], r.Input)
	be.PutUint32(b[p+20:], r.Output)
	be.PutUint32(b[p+24:], r.SrcAS)
	be.PutUint32(b[p+28:], r.DstAS)
	be.PutUint16(b[p+32:], r.SrcPort)
	be.PutUint16(b[p+34:], r.DstPort)
	be.PutUint16(b[p+36:], r.VLAN)
	be.PutUint16(b[p+38:], r.Sensor)
	be.PutUint16(b[p+40:], r.Application)
	b[p+42] = r.Protocol
	b[p+43] = byte(r.Flags)
	b[p+44] = byte(r.InitialFlags)
	b[p+45] = byte(r.SessionFlags)
	b[p+46] = byte(r.EndReason)
	b[p+47] = byte(r.Type)
	p += 48
	if s >= shapeBi {
		be.PutUint64(b[p:], r.RevPackets)
		be.PutUint64(b[p+8:], r.RevBytes)
		b[p+16] = byte(r.RevFlags)
		b[p+17] = byte(r.RevInitialFlags)
		b[p+18] = byte(r.RevSessionFlags)
		if ns {
			be.PutUint64(b[p+19:], unixNanoToNTP(r.Start+int64(r.RevStartOffset)))
		} else {
			be.PutUint32(b[p+19:], uint32(r.RevStartOffset/time.Millisecond))
		}
	}
	return dst
}
