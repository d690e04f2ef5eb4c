package clickhouse

import (
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowkit/flowkit/flow"
)

// columnBuf holds one INSERT's columns, reused from batch to batch so
// that a sink allocates nothing per flow.
type columnBuf struct {
	start, end, revOff                []int64
	src, dst, nexthop                 addrColumn
	packets, bytes, revPkts, revBytes []uint64
	input, output, srcAS, dstAS       []uint32
	sport, dport, sensor, vlan, app   []uint16
	proto, flags, iflags, sflags      []uint8
	rflags, riflags, rsflags, reason  []uint8
	typ                               []uint8
	insertID                          []uint64
}

// addrColumn is a FixedString(16) column: the addresses in one byte
// slice and, for clickhouse-go, a slice per row into it.
type addrColumn struct {
	buf  []byte
	rows [][]byte
}

func (a *addrColumn) reset() { a.buf, a.rows = a.buf[:0], a.rows[:0] }

func (a *addrColumn) add(v *flow.Addr) { a.buf = append(a.buf, v[:]...) }

// finish cuts the row slices once buf no longer grows.
func (a *addrColumn) finish() {
	for i := 0; i < len(a.buf); i += 16 {
		a.rows = append(a.rows, a.buf[i:i+16:i+16])
	}
}

func (c *columnBuf) fill(recs []flow.Record, id uint64) {
	c.start, c.end, c.revOff = c.start[:0], c.end[:0], c.revOff[:0]
	c.src.reset()
	c.dst.reset()
	c.nexthop.reset()
	c.packets, c.bytes, c.revPkts, c.revBytes = c.packets[:0], c.bytes[:0], c.revPkts[:0], c.revBytes[:0]
	c.input, c.output, c.srcAS, c.dstAS = c.input[:0], c.output[:0], c.srcAS[:0], c.dstAS[:0]
	c.sport, c.dport, c.sensor, c.vlan, c.app = c.sport[:0], c.dport[:0], c.sensor[:0], c.vlan[:0], c.app[:0]
	c.proto, c.flags, c.iflags, c.sflags = c.proto[:0], c.flags[:0], c.iflags[:0], c.sflags[:0]
	c.rflags, c.riflags, c.rsflags, c.reason = c.rflags[:0], c.riflags[:0], c.rsflags[:0], c.reason[:0]
	c.typ, c.insertID = c.typ[:0], c.insertID[:0]
	for i := range recs {
		r := &recs[i]
		c.start = append(c.start, r.Start)
		c.end = append(c.end, r.End)
		c.src.add(&r.Src)
		c.dst.add(&r.Dst)
		c.nexthop.add(&r.NextHop)
		c.packets = append(c.packets, r.Packets)
		c.bytes = append(c.bytes, r.Bytes)
		c.revPkts = append(c.revPkts, r.RevPackets)
		c.revBytes = append(c.revBytes, r.RevBytes)
		c.revOff = append(c.revOff, int64(r.RevStartOffset))
		c.input = append(c.input, r.Input)
		c.output = append(c.output, r.Output)
		c.srcAS = append(c.srcAS, r.SrcAS)
		c.dstAS = append(c.dstAS, r.DstAS)
		c.sport = append(c.sport, r.SrcPort)
		c.dport = append(c.dport, r.DstPort)
		c.sensor = append(c.sensor, r.Sensor)
		c.vlan = append(c.vlan, r.VLAN)
		c.app = append(c.app, r.Application)
		c.proto = append(c.proto, r.Protocol)
		c.flags = append(c.flags, uint8(r.Flags))
		c.iflags = append(c.iflags, uint8(r.InitialFlags))
		c.sflags = append(c.sflags, uint8(r.SessionFlags))
		c.rflags = append(c.rflags, uint8(r.RevFlags))
		c.riflags = append(c.riflags, uint8(r.RevInitialFlags))
		c.rsflags = append(c.rsflags, uint8(r.RevSessionFlags))
		c.reason = append(c.reason, uint8(r.EndReason))
		c.typ = append(c.typ, uint8(r.Type))
		c.insertID = append(c.insertID, id)
	}
	c.src.finish()
	c.dst.finish()
	c.nexthop.finish()
}

// appendTo hands the columns to an INSERT, in the order of columns.
func (c *columnBuf) appendTo(b driver.Batch) error {
	vals := [...]any{
		c.start, c.end, c.src.rows, c.dst.rows, c.nexthop.rows,
		c.packets, c.bytes, c.revPkts, c.revBytes, c.revOff,
		c.input, c.output, c.srcAS, c.dstAS,
		c.sport, c.dport, c.sensor, c.vlan, c.app,
		c.proto, c.flags, c.iflags, c.sflags, c.rflags, c.riflags, c.rsflags, c.reason, c.typ,
		c.insertID,
	}
	if len(vals) != len(columns) {
		return fmt.Errorf("clickhouse: %d column values for %d columns", len(vals), len(columns))
	}
	for i, v := range vals {
		if err := b.Column(i).Append(v); err != nil {
			return fmt.Errorf("clickhouse: column %s: %w", columns[i].name, err)
		}
	}
	return nil
}
