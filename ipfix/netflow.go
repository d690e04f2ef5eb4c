package ipfix

import (
	"encoding/binary"
	"errors"

	"github.com/flowkit/flowkit/flow"
)

// decodeV9 decodes a NetFlow v9 export packet (RFC 3954). Its templates
// live in the same per-domain cache as IPFIX ones, keyed by source id.
func (d *Decoder) decodeV9(msg []byte, rec *flow.Record, emit func(*flow.Record)) error {
	be := binary.BigEndian
	if len(msg) < 20 {
		return errAt(9, 0, 0, ErrTruncated, "%d bytes, a NetFlow v9 header needs 20", len(msg))
	}
	d.hdr = Header{Version: 9, Length: be.Uint16(msg[2:]), SysUptime: be.Uint32(msg[4:]),
		ExportTime: be.Uint32(msg[8:]), Sequence: be.Uint32(msg[12:]), Domain: be.Uint32(msg[16:])}
	d.stats.Messages++
	dom, derr := d.domain(d.hdr.Domain)
	if derr != nil {
		d.stats.TemplatesRefused++
		return errAt(9, 0, 16, ErrLimit, "source id %d: session already holds %d domains", d.hdr.Domain, len(d.domains))
	}
	if dom.seqValid && d.hdr.Sequence != dom.seqNext {
		d.stats.SequenceGaps++
		if gap := d.hdr.Sequence - dom.seqNext; gap < 1<<31 {
			d.stats.LostPackets += uint64(gap)
		}
	}
	dom.seqNext, dom.seqValid = d.hdr.Sequence+1, true
	var soft error
	off := 20
	for off < len(msg) {
		if len(msg)-off < 4 {
			if allZero(msg[off:]) {
				break // padding after the last flowset
			}
			return errAt(9, 0, off, ErrMalformed, "%d stray bytes after the last flowset", len(msg)-off)
		}
		setID := be.Uint16(msg[off:])
		setLen := int(be.Uint16(msg[off+2:]))
		if setLen < 4 {
			return errAt(9, setID, off, ErrMalformed, "flowset length %d is less than its 4-byte header", setLen)
		}
		if off+setLen > len(msg) {
			return errAt(9, setID, off, ErrTruncated, "flowset length %d, only %d bytes left in the packet", setLen, len(msg)-off)
		}
		body := msg[off+4 : off+setLen]
		switch {
		case setID == 0 || setID == 1:
			if err := d.parseTemplates(9, dom, setID, body, off+4, setID == 1); err != nil {
				if !errors.Is(err, ErrLimit) {
					return err
				}
				soft = firstErr(soft, err)
			}
		case setID >= 256:
			if _, err := d.dataSet(9, dom, setID, body, off+4, rec, emit); err != nil {
				if !errors.Is(err, ErrUnknownTemplate) {
					return err
				}
				soft = firstErr(soft, err)
			}
		}
		off += setLen
	}
	return soft
}

// NetFlow v5 layout sizes.
const (
	v5HeaderLen = 24
	v5RecordLen = 48
)

// decodeV5 decodes a NetFlow v5 export packet: a 24-byte header and up to
// 30 fixed 48-byte records.
func (d *Decoder) decodeV5(msg []byte, rec *flow.Record, emit func(*flow.Record)) error {
	be := binary.BigEndian
	if len(msg) < v5HeaderLen {
		return errAt(5, 0, 0, ErrTruncated, "%d bytes, a NetFlow v5 header needs 24", len(msg))
	}
	count := int(be.Uint16(msg[2:]))
	d.hdr = Header{Version: 5, Length: uint16(count), SysUptime: be.Uint32(msg[4:]),
		ExportTime: be.Uint32(msg[8:]), Sequence: be.Uint32(msg[16:]),
		Domain: uint32(msg[20])<<8 | uint32(msg[21])}
	if v5HeaderLen+count*v5RecordLen > len(msg) {
		return errAt(5, 0, 2, ErrTruncated, "count %d needs %d bytes, packet has %d", count, v5HeaderLen+count*v5RecordLen, len(msg))
	}
	d.stats.Messages++
	dom, derr := d.domain(d.hdr.Domain | 1<<31) // keep v5 engines apart from v9/IPFIX domains
	if derr != nil {
		return errAt(5, 0, 20, ErrLimit, "engine %d: too many domains", d.hdr.Domain)
	}
	if dom.seqValid && d.hdr.Sequence != dom.seqNext {
		d.stats.SequenceGaps++
		if gap := d.hdr.Sequence - dom.seqNext; gap < 1<<31 {
			d.stats.LostPackets += uint64(gap)
		}
	}
	dom.seqNext, dom.seqValid = d.hdr.Sequence+uint32(count), true
	exportNs := int64(d.hdr.ExportTime)*1e9 + int64(be.Uint32(msg[12:]))
	up := d.hdr.SysUptime
	for i := 0; i < count; i++ {
		b := msg[v5HeaderLen+i*v5RecordLen : v5HeaderLen+(i+1)*v5RecordLen]
		*rec = flow.Record{
			Src:      flow.AddrFrom4([4]byte(b[0:4])),
			Dst:      flow.AddrFrom4([4]byte(b[4:8])),
			Input:    uint32(be.Uint16(b[12:])),
			Output:   uint32(be.Uint16(b[14:])),
			Packets:  uint64(be.Uint32(b[16:])),
			Bytes:    uint64(be.Uint32(b[20:])),
			Start:    exportNs - int64(up-be.Uint32(b[24:]))*1e6,
			End:      exportNs - int64(up-be.Uint32(b[28:]))*1e6,
			SrcPort:  be.Uint16(b[32:]),
			DstPort:  be.Uint16(b[34:]),
			Flags:    flow.TCPFlags(b[37]),
			Protocol: b[38],
			SrcAS:    uint32(be.Uint16(b[40:])),
			DstAS:    uint32(be.Uint16(b[42:])),
		}
		if nh := [4]byte(b[8:12]); nh != [4]byte{} {
			rec.NextHop = flow.AddrFrom4(nh)
		}
		d.stats.Records++
		emit(rec)
	}
	return nil
}
