package ipfix

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/flowkit/flowkit/flow"
)

// Header is the header of the message being decoded, common to IPFIX and
// NetFlow v9/v5.
type Header struct {
	Version    uint16 // 10, 9 or 5
	Length     uint16 // IPFIX: message length; NetFlow: record count
	ExportTime uint32 // seconds since the Unix epoch
	Sequence   uint32
	Domain     uint32 // observation domain id (v9: source id; v5: engine type<<8|engine id)
	SysUptime  uint32 // NetFlow only: exporter uptime in ms at export
}

// Limits bound what one transport session (one exporter) may make a
// decoder hold, so that a hostile or broken exporter cannot exhaust memory.
// Zero fields take the defaults.
type Limits struct {
	MaxTemplates     int // templates over all observation domains; default 4096
	MaxTemplateBytes int // approximate bytes held by templates and their plans; default 4 MiB
	MaxDomains       int // observation domains; default 1024
}

func (l Limits) withDefaults() Limits {
	if l.MaxTemplates <= 0 {
		l.MaxTemplates = 4096
	}
	if l.MaxTemplateBytes <= 0 {
		l.MaxTemplateBytes = 4 << 20
	}
	if l.MaxDomains <= 0 {
		l.MaxDomains = 1024
	}
	return l
}

// Stats counts what a decoder has seen. All counters only grow.
type Stats struct {
	Messages         uint64 // messages decoded (IPFIX, v9 and v5)
	Records          uint64 // flow records delivered
	OptionsRecords   uint64 // options data records (and data records that are not flows)
	Templates        uint64 // template records received (new or changed)
	TemplatesRefused uint64 // templates refused by Limits
	Withdrawals      uint64 // template withdrawals
	TemplatesExpired uint64 // templates dropped because their lifetime passed
	MissingTemplate  uint64 // data sets skipped for want of their template
	Malformed        uint64 // messages with a malformed or truncated part
	SequenceGaps     uint64 // messages whose sequence number was not the expected one
	LostRecords      uint64 // IPFIX: data records the sequence numbers say were lost
	LostPackets      uint64 // NetFlow v9/v5: export packets (v9) or flows (v5) lost
	NoSystemInitTime uint64 // sysUpTime-relative records decoded without systemInitTimeMilliseconds
}

// FieldValue is one raw field of a data record, handed to Decoder.OnField.
// Value aliases the message buffer: copy it to keep it past the callback.
type FieldValue struct {
	Domain     uint32
	TemplateID uint16
	Options    bool // the record belongs to an options template
	Index      int  // position of the field in the template
	// Field is the field's template entry. In NetFlow v9 options records
	// the scope fields (the first ScopeCount) carry a scope type (1
	// system, 2 interface, 3 line card, 4 cache, 5 template) as ID.
	Field FieldSpec
	Value []byte
}

// domain is the state of one observation domain of one transport session
// (RFC 7011: templates are scoped by both).
type domain struct {
	templates map[uint16]*compiled
	seqNext   uint32
	seqValid  bool
	sysInit   int64 // systemInitTimeMilliseconds from an options record
}

// Decoder decodes IPFIX, NetFlow v9 and NetFlow v5 messages of ONE
// transport session (one exporter's UDP source address and port, one TCP
// connection, or one file) into flow.Records. It keeps the session's
// templates per observation domain and its sequence numbers. It is not
// safe for concurrent use; use one Decoder per session.
type Decoder struct {
	// Limits bound the templates this session may hold.
	Limits Limits
	// TemplateLifetime, when positive, expires a template that has not
	// been re-sent for that long (RFC 7011 section 8.4, for UDP), measured
	// in the exporter's export time so that replays behave like live runs.
	TemplateLifetime time.Duration
	// OnField, when set, receives every field of a data record that does
	// not map to flow.Record (unknown and enterprise elements, RFC 6313
	// lists as raw bytes), and every field of options records, before the
	// record itself is delivered. When nil, those fields cost nothing.
	OnField func(rec *flow.Record, fv *FieldValue)

	domains   map[uint32]*domain
	nTmpl     int
	nBytes    int
	stats     Stats
	hdr       Header
	fieldBuf  []FieldSpec
	fv        FieldValue
	throwaway flow.Record
}

// NewDecoder returns a decoder for one transport session.
func NewDecoder() *Decoder {
	return &Decoder{domains: map[uint32]*domain{}}
}

// Stats returns the counters so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Header returns the header of the message being (or last) decoded; call it
// from the emit callback to learn the export time, sequence and domain.
func (d *Decoder) Header() Header { return d.hdr }

// Templates returns a copy of the templates currently held for a domain.
func (d *Decoder) Templates(domainID uint32) []Template {
	dom := d.domains[domainID]
	if dom == nil {
		return nil
	}
	out := make([]Template, 0, len(dom.templates))
	for _, c := range dom.templates {
		t := c.Template
		t.Fields = append([]FieldSpec(nil), t.Fields...)
		out = append(out, t)
	}
	return out
}

// Decode decodes one datagram or stream message: an IPFIX message (or
// several back to back), a NetFlow v9 or a NetFlow v5 packet. For each flow
// record it zeroes *rec, fills it and calls emit(rec); rec is the caller's
// and is reused. Templates are remembered for later messages.
//
// Errors wrap ErrTruncated, ErrMalformed, ErrUnknownTemplate, ErrLimit or
// ErrVersion and name the set and byte offset. Records decoded before (or,
// for ErrUnknownTemplate and ErrLimit, also after) the problem have been
// delivered: a data set without its template is skipped, not fatal.
func (d *Decoder) Decode(msg []byte, rec *flow.Record, emit func(*flow.Record)) error {
	if d.domains == nil {
		d.domains = map[uint32]*domain{}
	}
	if len(msg) < 2 {
		d.stats.Malformed++
		return errAt(0, 0, 0, ErrTruncated, "message of %d bytes has no version", len(msg))
	}
	var err error
	switch v := binary.BigEndian.Uint16(msg); v {
	case 10:
		err = d.decodeIPFIXStream(msg, rec, emit)
	case 9:
		err = d.decodeV9(msg, rec, emit)
	case 5:
		err = d.decodeV5(msg, rec, emit)
	default:
		d.stats.Malformed++
		return errAt(0, 0, 0, ErrVersion, "version %d", v)
	}
	if err != nil && (errors.Is(err, ErrTruncated) || errors.Is(err, ErrMalformed)) {
		d.stats.Malformed++
	}
	return err
}

// decodeIPFIXStream decodes IPFIX messages back to back (one per UDP
// datagram normally; several in a TCP segment or file buffer).
func (d *Decoder) decodeIPFIXStream(msg []byte, rec *flow.Record, emit func(*flow.Record)) error {
	var soft error
	base := 0
	for base < len(msg) {
		rest := msg[base:]
		if len(rest) < 16 {
			return errAt(10, 0, base, ErrTruncated, "%d bytes left, an IPFIX message header needs 16", len(rest))
		}
		if v := binary.BigEndian.Uint16(rest); v != 10 {
			return errAt(10, 0, base, ErrMalformed, "version %d after an IPFIX message", v)
		}
		n := int(binary.BigEndian.Uint16(rest[2:]))
		if n < 16 {
			return errAt(10, 0, base+2, ErrMalformed, "message length %d is less than the 16-byte header", n)
		}
		if n > len(rest) {
			return errAt(10, 0, base+2, ErrTruncated, "message length %d, only %d bytes present", n, len(rest))
		}
		if err := d.decodeIPFIX(rest[:n], rec, emit); err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Offset += base
			}
			if !errors.Is(err, ErrUnknownTemplate) && !errors.Is(err, ErrLimit) {
				return err
			}
			if soft == nil {
				soft = err
			}
		}
		base += n
	}
	return soft
}

func (d *Decoder) domain(id uint32) (*domain, error) {
	dom := d.domains[id]
	if dom == nil {
		if len(d.domains) >= d.Limits.withDefaults().MaxDomains {
			return nil, ErrLimit
		}
		dom = &domain{templates: map[uint16]*compiled{}}
		d.domains[id] = dom
	}
	return dom, nil
}

// decodeIPFIX decodes exactly one IPFIX message.
func (d *Decoder) decodeIPFIX(msg []byte, rec *flow.Record, emit func(*flow.Record)) error {
	be := binary.BigEndian
	d.hdr = Header{Version: 10, Length: be.Uint16(msg[2:]), ExportTime: be.Uint32(msg[4:]),
		Sequence: be.Uint32(msg[8:]), Domain: be.Uint32(msg[12:])}
	d.stats.Messages++
	dom, derr := d.domain(d.hdr.Domain)
	if derr != nil {
		d.stats.TemplatesRefused++
		return errAt(10, 0, 12, ErrLimit, "observation domain %d: session already holds %d domains", d.hdr.Domain, len(d.domains))
	}
	if dom.seqValid && d.hdr.Sequence != dom.seqNext {
		d.stats.SequenceGaps++
		if gap := d.hdr.Sequence - dom.seqNext; gap < 1<<31 {
			d.stats.LostRecords += uint64(gap)
		}
	}
	var soft error
	records := 0
	complete := true
	off := 16
	for off < len(msg) {
		if len(msg)-off < 4 {
			return errAt(10, 0, off, ErrMalformed, "%d stray bytes after the last set", len(msg)-off)
		}
		setID := be.Uint16(msg[off:])
		setLen := int(be.Uint16(msg[off+2:]))
		if setLen < 4 {
			return errAt(10, setID, off, ErrMalformed, "set length %d is less than its 4-byte header", setLen)
		}
		if off+setLen > len(msg) {
			return errAt(10, setID, off, ErrTruncated, "set length %d, only %d bytes left in the message", setLen, len(msg)-off)
		}
		body := msg[off+4 : off+setLen]
		switch {
		case setID == 2 || setID == 3:
			if err := d.parseTemplates(10, dom, setID, body, off+4, setID == 3); err != nil {
				if !errors.Is(err, ErrLimit) {
					return err
				}
				soft = firstErr(soft, err)
			}
		case setID >= 256:
			n, err := d.dataSet(10, dom, setID, body, off+4, rec, emit)
			records += n
			if err != nil {
				if errors.Is(err, ErrUnknownTemplate) {
					complete = false
					soft = firstErr(soft, err)
				} else {
					return err
				}
			}
		default:
			// Set ids 0, 1 (NetFlow v9) and 4..255 are reserved in IPFIX:
			// skip them, their length is known.
		}
		off += setLen
	}
	dom.seqNext = d.hdr.Sequence + uint32(records)
	dom.seqValid = complete
	return soft
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// parseTemplates reads a template or options template set (IPFIX ids 2/3,
// NetFlow v9 ids 0/1). base is the body's offset in the message.
func (d *Decoder) parseTemplates(ver uint16, dom *domain, setID uint16, body []byte, base int, options bool) error {
	be := binary.BigEndian
	var soft error
	p := 0
	end := contentEnd(body) // trailing zero bytes are padding
	for p < end {
		if len(body)-p < 4 {
			break // padding
		}
		start := p
		tid := be.Uint16(body[p:])
		count := int(be.Uint16(body[p+2:]))
		p += 4
		scope := 0
		if ver == 9 && options {
			// v9 options template: id, scope length, option length (bytes).
			if len(body)-p < 2 {
				return errAt(ver, setID, base+p, ErrTruncated, "options template %d header", tid)
			}
			scopeLen, optLen := count, int(be.Uint16(body[p:]))
			p += 2
			if scopeLen%4 != 0 || optLen%4 != 0 {
				return errAt(ver, setID, base+start, ErrMalformed, "options template %d: scope length %d, option length %d not multiples of 4", tid, scopeLen, optLen)
			}
			scope = scopeLen / 4
			count = scope + optLen/4
		} else if count == 0 {
			d.withdraw(dom, tid, options)
			continue
		} else if options {
			if len(body)-p < 2 {
				return errAt(ver, setID, base+p, ErrTruncated, "options template %d: no scope field count", tid)
			}
			scope = int(be.Uint16(body[p:]))
			p += 2
			if scope == 0 || scope > count {
				return errAt(ver, setID, base+start, ErrMalformed, "options template %d: scope field count %d of %d fields", tid, scope, count)
			}
		}
		if tid < 256 {
			return errAt(ver, setID, base+start, ErrMalformed, "template id %d is below 256", tid)
		}
		fs := d.fieldBuf[:0]
		for i := 0; i < count; i++ {
			if len(body)-p < 4 {
				return errAt(ver, setID, base+p, ErrTruncated, "template %d: field %d of %d", tid, i+1, count)
			}
			f := FieldSpec{ID: be.Uint16(body[p:]), Length: be.Uint16(body[p+2:])}
			p += 4
			if ver == 10 && f.ID&0x8000 != 0 {
				if len(body)-p < 4 {
					return errAt(ver, setID, base+p, ErrTruncated, "template %d: field %d enterprise number", tid, i+1)
				}
				f.ID &^= 0x8000
				f.Enterprise = be.Uint32(body[p:])
				p += 4
			}
			if ver == 9 && f.Length == VarLen {
				return errAt(ver, setID, base+p-2, ErrMalformed, "template %d: field %d length 65535 (NetFlow v9 has no variable-length fields)", tid, i+1)
			}
			fs = append(fs, f)
		}
		d.fieldBuf = fs
		if err := d.define(ver, dom, tid, uint16(scope), fs); err != nil {
			soft = firstErr(soft, errAt(ver, setID, base+start, ErrLimit, "template %d: %v", tid, err))
		}
	}
	return soft
}

// contentEnd returns the length of b without its trailing zero bytes.
func contentEnd(b []byte) int {
	n := len(b)
	for n > 0 && b[n-1] == 0 {
		n--
	}
	return n
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

var errTooMany = errors.New("session template limit reached")

// define stores a template, reusing the compiled plan when an exporter
// re-sends the same template (the usual UDP refresh).
func (d *Decoder) define(ver uint16, dom *domain, tid, scope uint16, fs []FieldSpec) error {
	if old := dom.templates[tid]; old != nil {
		if old.sameFields(scope, fs) {
			old.created = d.hdr.ExportTime
			return nil
		}
		d.drop(dom, tid)
	}
	allZeroLen := true
	for _, f := range fs {
		if f.Length != 0 {
			allZeroLen = false
			break
		}
	}
	if allZeroLen {
		// A template whose records take no bytes would loop forever; drop it.
		return errors.New("every field has length 0")
	}
	t := Template{ID: tid, ScopeCount: scope, Fields: append([]FieldSpec(nil), fs...)}
	c := compile(t, ver == 9)
	lim := d.Limits.withDefaults()
	if d.nTmpl+1 > lim.MaxTemplates || d.nBytes+c.cost > lim.MaxTemplateBytes {
		d.stats.TemplatesRefused++
		return errTooMany
	}
	c.created = d.hdr.ExportTime
	dom.templates[tid] = c
	d.nTmpl++
	d.nBytes += c.cost
	d.stats.Templates++
	return nil
}

func (d *Decoder) drop(dom *domain, tid uint16) {
	if c := dom.templates[tid]; c != nil {
		d.nTmpl--
		d.nBytes -= c.cost
		delete(dom.templates, tid)
	}
}

// withdraw handles an IPFIX template withdrawal: one template, or every
// (options) template when the id is the set id 2 (3).
func (d *Decoder) withdraw(dom *domain, tid uint16, options bool) {
	d.stats.Withdrawals++
	if (tid == 2 && !options) || (tid == 3 && options) {
		for id, c := range dom.templates {
			if (c.ScopeCount > 0) == options {
				d.drop(dom, id)
			}
		}
		return
	}
	d.drop(dom, tid)
}

// dataSet decodes the records of a data set and returns how many there were.
func (d *Decoder) dataSet(ver uint16, dom *domain, setID uint16, body []byte, base int, rec *flow.Record, emit func(*flow.Record)) (int, error) {
	c := dom.templates[setID]
	if c != nil && d.TemplateLifetime > 0 &&
		time.Duration(int64(d.hdr.ExportTime)-int64(c.created))*time.Second > d.TemplateLifetime {
		d.stats.TemplatesExpired++
		d.drop(dom, setID)
		c = nil
	}
	if c == nil {
		d.stats.MissingTemplate++
		return 0, errAt(ver, setID, base-4, ErrUnknownTemplate, "no template %d in observation domain %d", setID, d.hdr.Domain)
	}
	target := rec
	if !c.flowish {
		target = &d.throwaway
	}
	n := 0
	if c.fixed {
		for p := 0; len(body)-p >= c.recLen; p += c.recLen {
			d.fixedRecord(c, body[p:p+c.recLen], target, dom)
			n++
			d.deliver(c, target, dom, emit)
		}
		return n, nil
	}
	p := 0
	end := contentEnd(body) // trailing zero bytes are padding
	for len(body)-p >= c.recLen && p < end {
		used, err := d.varRecord(c, body[p:], target, dom)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				e.Version, e.SetID, e.Offset = ver, setID, base+p+e.Offset
			}
			return n, err
		}
		p += used
		n++
		d.deliver(c, target, dom, emit)
	}
	return n, nil
}

func (d *Decoder) deliver(c *compiled, r *flow.Record, dom *domain, emit func(*flow.Record)) {
	if c.flowish {
		d.stats.Records++
		emit(r)
		return
	}
	d.stats.OptionsRecords++
}

// fixedRecord runs the plan of a fixed-length template on one record.
func (d *Decoder) fixedRecord(c *compiled, b []byte, r *flow.Record, dom *domain) {
	*r = flow.Record{}
	var s scratch
	runOps(c.ops, b, r, &s)
	d.finish(c, r, &s, dom)
	if !c.flowish && s.sysInit != 0 {
		dom.sysInit = s.sysInit
	}
	if d.OnField != nil {
		if !c.flowish {
			d.visit(c, c.ops, b, r) // options records: hand over every field
		}
		d.visit(c, c.raw, b, r)
	}
}

func (d *Decoder) visit(c *compiled, ops []op, b []byte, r *flow.Record) {
	for i := range ops {
		o := &ops[i]
		d.fv = FieldValue{Domain: d.hdr.Domain, TemplateID: c.ID, Options: c.ScopeCount > 0,
			Index: int(o.fi), Field: c.Fields[o.fi], Value: b[o.off : o.off+o.len]}
		d.OnField(r, &d.fv)
	}
}

// varRecord decodes one record of a template with variable-length fields
// and returns its length. Errors carry offsets relative to b.
func (d *Decoder) varRecord(c *compiled, b []byte, r *flow.Record, dom *domain) (int, error) {
	*r = flow.Record{}
	var s scratch
	p := 0
	for i := range c.ops {
		o := &c.ops[i]
		n := int(o.len)
		if o.len == VarLen {
			if p >= len(b) {
				return 0, &Error{Offset: p, Err: ErrTruncated, Detail: "variable-length field length byte"}
			}
			n = int(b[p])
			p++
			if n == 255 {
				if len(b)-p < 2 {
					return 0, &Error{Offset: p, Err: ErrTruncated, Detail: "variable-length field 3-byte length"}
				}
				n = int(binary.BigEndian.Uint16(b[p:]))
				p += 2
			}
		}
		if len(b)-p < n {
			return 0, &Error{Offset: p, Err: ErrTruncated, Detail: "field " + itoa(int(o.fi)+1) + " needs " + itoa(n) + " bytes, " + itoa(len(b)-p) + " left"}
		}
		v := b[p : p+n]
		p += n
		if o.kind != opNone {
			one := [1]op{{len: uint16(len(v)), kind: o.kind}}
			runOps(one[:], v, r, &s)
		}
		if d.OnField != nil && (o.kind == opNone || !c.flowish) {
			d.fv = FieldValue{Domain: d.hdr.Domain, TemplateID: c.ID, Options: c.ScopeCount > 0,
				Index: int(o.fi), Field: c.Fields[o.fi], Value: v}
			d.OnField(r, &d.fv)
		}
	}
	d.finish(c, r, &s, dom)
	if !c.flowish && s.sysInit != 0 {
		dom.sysInit = s.sysInit
	}
	return p, nil
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
