package ipfix

import (
	"encoding/binary"

	"github.com/flowkit/flowkit/flow"
)

// scratch holds the per-record values that need the whole record (or the
// message header) before they become flow.Record fields.
type scratch struct {
	startUp, endUp uint32
	hasUp          uint8 // bit 0 start, bit 1 end
	sysInit        int64 // ms since the epoch, 0 when absent
	dur            int64 // ns
	revStart       int64 // ns since the epoch
	icmp           uint16
	hasICMP        bool
	// flowStart/EndDeltaMicroseconds: µs before the export time
	startDelta, endDelta int64
	hasDelta             uint8
}

// beUint reads a big-endian unsigned integer of 1..8 bytes (RFC 7011
// reduced-size encoding keeps the value, drops high-order zero bytes).
func beUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.BigEndian.Uint16(b))
	case 4:
		return uint64(binary.BigEndian.Uint32(b))
	case 8:
		return binary.BigEndian.Uint64(b)
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpToUnixNano converts an RFC 7011 dateTimeMicro/Nanoseconds value (NTP
// format: seconds since 1900, then a 2^-32 s fraction) to Unix ns. Seconds
// below 2^31 are taken to be in NTP era 1 (after 2036), as RFC 5905 does.
func ntpToUnixNano(v uint64) int64 {
	sec := int64(v >> 32)
	if sec < 1<<31 {
		sec += 1 << 32
	}
	frac := v & 0xffffffff
	return (sec-ntpEpochOffset)*1e9 + int64((frac*1e9)>>32)
}

// unixNanoToNTP is the inverse of ntpToUnixNano; it rounds the fraction up
// so that ntpToUnixNano(unixNanoToNTP(t)) == t exactly.
func unixNanoToNTP(t int64) uint64 {
	sec := t / 1e9
	ns := t % 1e9
	if ns < 0 {
		sec--
		ns += 1e9
	}
	frac := (uint64(ns)<<32 + 1e9 - 1) / 1e9
	return uint64(uint32(sec+ntpEpochOffset))<<32 | frac
}

// v4Mapped is the IPv4-mapped IPv6 prefix with a zero address.
var v4Mapped = flow.Addr{10: 0xff, 11: 0xff}

// setV4 stores an IPv4 address in place with two wide stores, cheaper
// than building it byte by byte with flow.AddrFrom4.
func setV4(a *flow.Addr, v [4]byte) {
	*a = v4Mapped
	*(*[4]byte)(a[12:]) = v
}

// runOps performs plan steps on a record's bytes: the loop and the switch
// sit in one function so that no call is paid per field.
func runOps(ops []op, rb []byte, r *flow.Record, s *scratch) {
	for i := range ops {
		o := &ops[i]
		b := rb[o.off : int(o.off)+int(o.len)]
		switch o.kind {
		case opBytes, opBytesTotal:
			r.Bytes = beUint(b)
		case opPackets, opPacketsTotal:
			r.Packets = beUint(b)
		case opRevBytes, opRevBytesTotal:
			r.RevBytes = beUint(b)
		case opRevPackets, opRevPacketsTotal:
			r.RevPackets = beUint(b)
		// Templates may carry both IPv4 and IPv6 address fields, the unused
		// one zero: a zero value never overwrites an address already set.
		case opSrc4:
			if v := [4]byte(b); v != [4]byte{} || r.Src == (flow.Addr{}) {
				setV4(&r.Src, v)
			}
		case opDst4:
			if v := [4]byte(b); v != [4]byte{} || r.Dst == (flow.Addr{}) {
				setV4(&r.Dst, v)
			}
		case opSrc6:
			if v := flow.Addr(b); v != (flow.Addr{}) {
				r.Src = v
			}
		case opDst6:
			if v := flow.Addr(b); v != (flow.Addr{}) {
				r.Dst = v
			}
		case opNextHop4:
			if v := [4]byte(b); v != [4]byte{} {
				setV4(&r.NextHop, v)
			}
		case opNextHop6:
			r.NextHop = flow.Addr(b)
		case opSrcPort:
			r.SrcPort = binary.BigEndian.Uint16(b)
		case opDstPort:
			r.DstPort = binary.BigEndian.Uint16(b)
		case opProto:
			r.Protocol = b[0]
		case opFlags:
			r.Flags = flow.TCPFlags(b[len(b)-1])
		case opRevFlags:
			r.RevFlags = flow.TCPFlags(b[len(b)-1])
		case opInitFlags:
			r.InitialFlags = flow.TCPFlags(b[0])
		case opSessFlags:
			r.SessionFlags = flow.TCPFlags(b[0])
		case opRevInitFlags:
			r.RevInitialFlags = flow.TCPFlags(b[0])
		case opRevSessFlags:
			r.RevSessionFlags = flow.TCPFlags(b[0])
		case opInput:
			r.Input = uint32(beUint(b))
		case opOutput:
			r.Output = uint32(beUint(b))
		case opSrcAS:
			r.SrcAS = uint32(beUint(b))
		case opDstAS:
			r.DstAS = uint32(beUint(b))
		case opVLAN:
			r.VLAN = binary.BigEndian.Uint16(b) & 0x0fff
		case opApp:
			r.Application = binary.BigEndian.Uint16(b)
		case opSensor:
			r.Sensor = binary.BigEndian.Uint16(b)
		case opType:
			r.Type = flow.FlowType(b[0])
		case opEndReason:
			r.EndReason = flow.EndReason(b[0])
		case opICMPTypeCode:
			s.icmp = binary.BigEndian.Uint16(b)
			s.hasICMP = true
		case opICMPType:
			s.icmp = s.icmp&0xff | uint16(b[0])<<8
			s.hasICMP = true
		case opICMPCode:
			s.icmp = s.icmp&0xff00 | uint16(b[0])
			s.hasICMP = true
		case opStartSec:
			r.Start = int64(binary.BigEndian.Uint32(b)) * 1e9
		case opEndSec:
			r.End = int64(binary.BigEndian.Uint32(b)) * 1e9
		case opStartMs:
			r.Start = int64(binary.BigEndian.Uint64(b)) * 1e6
		case opEndMs:
			r.End = int64(binary.BigEndian.Uint64(b)) * 1e6
		case opStartNTP:
			r.Start = ntpToUnixNano(binary.BigEndian.Uint64(b))
		case opEndNTP:
			r.End = ntpToUnixNano(binary.BigEndian.Uint64(b))
		case opRevStartMs:
			s.revStart = int64(binary.BigEndian.Uint64(b)) * 1e6
		case opRevStartNTP:
			s.revStart = ntpToUnixNano(binary.BigEndian.Uint64(b))
		case opRevDeltaMs:
			r.RevStartOffset = durMs(beUint(b))
		case opStartDeltaUs:
			s.startDelta = int64(binary.BigEndian.Uint32(b))
			s.hasDelta |= 1
		case opEndDeltaUs:
			s.endDelta = int64(binary.BigEndian.Uint32(b))
			s.hasDelta |= 2
		case opStartSysUp:
			s.startUp = binary.BigEndian.Uint32(b)
			s.hasUp |= 1
		case opEndSysUp:
			s.endUp = binary.BigEndian.Uint32(b)
			s.hasUp |= 2
		case opSysInit:
			s.sysInit = int64(binary.BigEndian.Uint64(b))
		case opDurMs:
			s.dur = int64(beUint(b)) * 1e6
		case opDurUs:
			s.dur = int64(beUint(b)) * 1e3
		}
	}
}

// finish runs the steps that need the whole record: sysUpTime-relative
// times, durations, flag unions, ICMP type/code.
func (d *Decoder) finish(c *compiled, r *flow.Record, s *scratch, dom *domain) {
	if c.post&postSysUp != 0 {
		d.sysUpTimes(c, r, s, dom)
	}
	if s.hasDelta != 0 {
		exportNs := int64(d.hdr.ExportTime) * 1e9
		if s.hasDelta&1 != 0 {
			r.Start = exportNs - s.startDelta*1e3
		}
		if s.hasDelta&2 != 0 {
			r.End = exportNs - s.endDelta*1e3
		}
	}
	if c.post&postDur != 0 {
		switch {
		case r.End == 0 && r.Start != 0:
			r.End = r.Start + s.dur
		case r.Start == 0 && r.End != 0:
			r.Start = r.End - s.dur
		}
	}
	if c.post&postFlagsUnion != 0 {
		r.Flags = r.InitialFlags | r.SessionFlags
	}
	if c.post&postRevFlagsUnion != 0 {
		r.RevFlags = r.RevInitialFlags | r.RevSessionFlags
	}
	if c.post&postRevStart != 0 && s.revStart != 0 {
		r.RevStartOffset = durNs(s.revStart - r.Start)
	}
	if s.hasICMP && (r.Protocol == flow.ProtoICMP || r.Protocol == flow.ProtoICMPv6) {
		r.SrcPort, r.DstPort = 0, s.icmp
	}
}

// sysUpTimes turns flowStartSysUpTime/flowEndSysUpTime (NetFlow v9
// FIRST_SWITCHED/LAST_SWITCHED), a 32-bit millisecond uptime counter, into
// absolute times. The counter wraps every 2^32 ms (49.7 days), so a value
// only fixes the time modulo 2^32 ms; flowkit picks the one instant in the
// 2^32 ms before the export that matches, as a flow cannot end after it
// was exported. nfdump instead adds the value to the boot time, which puts
// flows of a wrapped counter (softflowd replaying an old capture, a router
// up for months) into the future with negative durations. The start is
// taken as end minus the (modular) duration so the two never disagree.
func (d *Decoder) sysUpTimes(c *compiled, r *flow.Record, s *scratch, dom *domain) {
	var refMs int64  // an instant at or after the export, ms since the epoch
	var upRef uint32 // the exporter's uptime counter at refMs
	if c.v9 {
		refMs, upRef = int64(d.hdr.ExportTime)*1000, d.hdr.SysUptime
	} else {
		base := s.sysInit
		if base == 0 && dom != nil {
			base = dom.sysInit
		}
		if base == 0 {
			// No systemInitTimeMilliseconds yet: the best guess is an
			// exporter booted at the epoch; counted so callers can tell.
			d.stats.NoSystemInitTime++
			if s.hasUp&1 != 0 {
				r.Start = int64(s.startUp) * 1e6
			}
			if s.hasUp&2 != 0 {
				r.End = int64(s.endUp) * 1e6
			}
			return
		}
		// The export time has whole seconds; the flows may end up to 999 ms
		// later than it says.
		refMs = int64(d.hdr.ExportTime)*1000 + 999
		upRef = uint32(refMs - base)
	}
	switch s.hasUp {
	case 3:
		endMs := refMs - int64(upRef-s.endUp)
		r.End = endMs * 1e6
		r.Start = (endMs - int64(s.endUp-s.startUp)) * 1e6
	case 1:
		r.Start = (refMs - int64(upRef-s.startUp)) * 1e6
	case 2:
		r.End = (refMs - int64(upRef-s.endUp)) * 1e6
	}
}
