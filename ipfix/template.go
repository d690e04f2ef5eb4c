package ipfix

// FieldSpec is one field of a template: which element, and how many bytes
// it takes in each data record (VarLen for variable-length fields).
type FieldSpec struct {
	Enterprise uint32 // 0 for IANA elements
	ID         uint16 // element id without the enterprise bit
	Length     uint16 // octets in a data record, or VarLen
}

// Template is a (data or options) template as received or sent.
type Template struct {
	ID         uint16      // 256..65535
	ScopeCount uint16      // options templates: how many leading fields are scope fields; 0 for data templates
	Fields     []FieldSpec // in record order
}

// opKind says what to do with one field of a data record.
type opKind uint8

const (
	opNone opKind = iota
	opBytes
	opPackets
	opBytesTotal
	opPacketsTotal
	opRevBytes
	opRevPackets
	opRevBytesTotal
	opRevPacketsTotal
	opSrc4
	opDst4
	opSrc6
	opDst6
	opNextHop4
	opNextHop6
	opSrcPort
	opDstPort
	opProto
	opFlags
	opRevFlags
	opInitFlags
	opSessFlags
	opRevInitFlags
	opRevSessFlags
	opInput
	opOutput
	opSrcAS
	opDstAS
	opVLAN
	opApp
	opSensor
	opType
	opEndReason
	opICMPTypeCode
	opICMPType
	opICMPCode
	opStartSec
	opEndSec
	opStartMs
	opEndMs
	opStartNTP // dateTimeMicroseconds or dateTimeNanoseconds (NTP format)
	opEndNTP
	opRevStartMs
	opRevStartNTP
	opStartSysUp
	opEndSysUp
	opSysInit
	opDurMs
	opDurUs
	opRevDeltaMs
	opStartDeltaUs
	opEndDeltaUs
)

// op is one step of a compiled decode plan.
type op struct {
	off  uint16 // offset in the record (fixed-length templates)
	len  uint16 // field length
	kind opKind
	fi   uint16 // index of the field in the template
}

// post-processing needs of a template, decided once at compile time.
const (
	postSysUp      = 1 << iota // start/end relative to system init or export uptime
	postDur                    // end = start + duration
	postFlagsUnion             // Flags = InitialFlags|SessionFlags (no tcpControlBits)
	postRevFlagsUnion
	postRevStart // RevStartOffset from an absolute reverse start
)

// compiled is a template turned into a decode plan, built once when the
// template arrives and run for every data record.
type compiled struct {
	Template
	ops     []op // mapped fields (all fields, in order, for variable-length templates)
	raw     []op // unmapped fields, walked only when a field visitor is set
	fixed   bool // no variable-length field: ops carry absolute offsets
	recLen  int  // record length when fixed; minimum length otherwise
	flowish bool // produces flow records (has an address or a counter)
	post    uint8
	created uint32 // export time of the message that (re)defined it
	cost    int    // bytes accounted against the session's limit
	v9      bool   // NetFlow v9: sysUpTime times relative to the header
}

// sameFields reports whether t has exactly the fields fs, so a refreshed
// template can keep its compiled plan.
func (c *compiled) sameFields(scope uint16, fs []FieldSpec) bool {
	if c.ScopeCount != scope || len(c.Fields) != len(fs) {
		return false
	}
	for i := range fs {
		if c.Fields[i] != fs[i] {
			return false
		}
	}
	return true
}

// fieldOp picks the op for a field, or opNone when the field does not map
// to flow.Record or its length is not one the element allows (such a
// field is passed on raw rather than mis-parsed).
func fieldOp(f FieldSpec) opKind {
	l := f.Length
	uintOK := l >= 1 && l <= 8
	switch f.Enterprise {
	case 0:
		switch f.ID {
		case 1:
			return ifOK(uintOK, opBytes)
		case 2:
			return ifOK(uintOK, opPackets)
		case 231: // initiatorOctets (NSEL, biflow meters)
			return ifOK(uintOK, opBytesTotal)
		case 298: // initiatorPackets
			return ifOK(uintOK, opPacketsTotal)
		case 232: // responderOctets
			return ifOK(uintOK, opRevBytesTotal)
		case 299: // responderPackets
			return ifOK(uintOK, opRevPacketsTotal)
		case 85:
			return ifOK(uintOK, opBytesTotal)
		case 86:
			return ifOK(uintOK, opPacketsTotal)
		case 4:
			return ifOK(l == 1, opProto)
		case 6:
			return ifOK(l == 1 || l == 2, opFlags)
		case 7:
			return ifOK(l == 2, opSrcPort)
		case 11:
			return ifOK(l == 2, opDstPort)
		case 8:
			return ifOK(l == 4, opSrc4)
		case 12:
			return ifOK(l == 4, opDst4)
		case 27:
			return ifOK(l == 16, opSrc6)
		case 28:
			return ifOK(l == 16, opDst6)
		case 15:
			return ifOK(l == 4, opNextHop4)
		case 62:
			return ifOK(l == 16, opNextHop6)
		case 10:
			return ifOK(l >= 1 && l <= 4, opInput)
		case 14:
			return ifOK(l >= 1 && l <= 4, opOutput)
		case 16:
			return ifOK(l >= 1 && l <= 4, opSrcAS)
		case 17:
			return ifOK(l >= 1 && l <= 4, opDstAS)
		case 58, 243:
			return ifOK(l == 2, opVLAN)
		case 136:
			return ifOK(l == 1, opEndReason)
		case 32, 139:
			return ifOK(l == 2, opICMPTypeCode)
		case 176, 178:
			return ifOK(l == 1, opICMPType)
		case 177, 179:
			return ifOK(l == 1, opICMPCode)
		case 150:
			return ifOK(l == 4, opStartSec)
		case 151:
			return ifOK(l == 4, opEndSec)
		case 152:
			return ifOK(l == 8, opStartMs)
		case 153:
			return ifOK(l == 8, opEndMs)
		case 154, 156:
			return ifOK(l == 8, opStartNTP)
		case 155, 157:
			return ifOK(l == 8, opEndNTP)
		case 158:
			return ifOK(l == 4, opStartDeltaUs)
		case 159:
			return ifOK(l == 4, opEndDeltaUs)
		case 22:
			return ifOK(l == 4, opStartSysUp)
		case 21:
			return ifOK(l == 4, opEndSysUp)
		case 160:
			return ifOK(l == 8, opSysInit)
		case 161:
			return ifOK(l >= 1 && l <= 4, opDurMs)
		case 162:
			return ifOK(l >= 1 && l <= 4, opDurUs)
		}
	case PENBiflow:
		switch f.ID {
		case 1:
			return ifOK(uintOK, opRevBytes)
		case 2:
			return ifOK(uintOK, opRevPackets)
		case 85:
			return ifOK(uintOK, opRevBytesTotal)
		case 86:
			return ifOK(uintOK, opRevPacketsTotal)
		case 6:
			return ifOK(l == 1 || l == 2, opRevFlags)
		case 152:
			return ifOK(l == 8, opRevStartMs)
		case 154, 156:
			return ifOK(l == 8, opRevStartNTP)
		}
	case PENCERT:
		switch f.ID {
		case 14:
			return ifOK(l == 1, opInitFlags)
		case 15:
			return ifOK(l == 1, opSessFlags)
		case 14 | CERTReverse:
			return ifOK(l == 1, opRevInitFlags)
		case 15 | CERTReverse:
			return ifOK(l == 1, opRevSessFlags)
		case 21:
			return ifOK(l >= 1 && l <= 4, opRevDeltaMs)
		case 30:
			return ifOK(l == 1, opType)
		case 31:
			return ifOK(l == 2, opSensor)
		case 33:
			return ifOK(l == 2, opApp)
		}
	}
	return opNone
}

func ifOK(ok bool, k opKind) opKind {
	if ok {
		return k
	}
	return opNone
}

// compile builds the decode plan of a template.
func compile(t Template, v9 bool) *compiled {
	c := &compiled{Template: t, fixed: true, v9: v9}
	var has [opEndDeltaUs + 1]bool
	for _, f := range t.Fields {
		if f.Length == VarLen {
			c.fixed = false
		}
		has[fieldOp(f)] = true
	}
	// Counters: a delta count wins over a total count of the same thing.
	drop := func(k opKind, if_ opKind) opKind {
		if has[if_] {
			return opNone
		}
		return k
	}
	off := 0
	for i, f := range t.Fields {
		k := fieldOp(f)
		switch k {
		case opBytesTotal:
			k = drop(k, opBytes)
		case opPacketsTotal:
			k = drop(k, opPackets)
		case opRevBytesTotal:
			k = drop(k, opRevBytes)
		case opRevPacketsTotal:
			k = drop(k, opRevPackets)
		}
		o := op{off: uint16(off), len: f.Length, kind: k, fi: uint16(i)}
		if f.Length == VarLen {
			o.off = 0
			c.recLen++
		} else {
			off += int(f.Length)
			c.recLen += int(f.Length)
		}
		switch {
		case !c.fixed:
			c.ops = append(c.ops, o) // walked in order to find each field's offset
		case k != opNone:
			c.ops = append(c.ops, o)
		default:
			c.raw = append(c.raw, o)
		}
		switch k {
		case opSrc4, opDst4, opSrc6, opDst6, opBytes, opPackets, opBytesTotal, opPacketsTotal:
			c.flowish = true
		}
	}
	if (has[opStartSysUp] || has[opEndSysUp]) && !has[opStartMs] && !has[opStartNTP] && !has[opStartSec] {
		c.post |= postSysUp
	}
	if has[opDurMs] || has[opDurUs] {
		c.post |= postDur
	}
	if !has[opFlags] && (has[opInitFlags] || has[opSessFlags]) {
		c.post |= postFlagsUnion
	}
	if !has[opRevFlags] && (has[opRevInitFlags] || has[opRevSessFlags]) {
		c.post |= postRevFlagsUnion
	}
	if has[opRevStartMs] || has[opRevStartNTP] {
		c.post |= postRevStart
	}
	if t.ScopeCount > 0 {
		c.flowish = false // options records describe the exporter, not flows
	}
	c.cost = 96 + 8*len(t.Fields) + 8*(len(c.ops)+len(c.raw))
	return c
}
