package parquet

import "github.com/flowkit/flowkit/flow"

// Many of a flow's fields are zero in most data: the reverse side of
// unidirectional flows, interfaces and AS numbers that the exporter does
// not report, sensor, VLAN, application, the initial and session flags of
// a meter that does not set them. A column of zeros still cost its job a
// read of every record of the chunk (a cache line each) and a dictionary
// lookup of each value, a tenth of the writer's time on the benchmark
// corpus. So as the caller copies records into a chunk it also ORs these
// fields together (zeroScan), and a column job whose column is all zeros
// in the chunk writes the index of 0 without reading the records.

// zeroCols is a set of columns, a bit each by colID.
type zeroCols uint32

func (z zeroCols) has(id colID) bool { return z&(1<<id) != 0 }

// zeroScan ORs the often-zero fields of the records it is given.
type zeroScan struct {
	revPackets, revBytes, revOffset uint64
	input, output, srcAS, dstAS     uint32
	sensor, vlan, app               uint16
	initial, session                flow.TCPFlags
	revFlags, revInitial, revSess   flow.TCPFlags
}

// add ORs in the fields of recs.
func (z *zeroScan) add(recs []flow.Record) {
	for i := range recs {
		r := &recs[i]
		z.revPackets |= r.RevPackets
		z.revBytes |= r.RevBytes
		z.revOffset |= uint64(r.RevStartOffset)
		z.input |= r.Input
		z.output |= r.Output
		z.srcAS |= r.SrcAS
		z.dstAS |= r.DstAS
		z.sensor |= r.Sensor
		z.vlan |= r.VLAN
		z.app |= r.Application
		z.initial |= r.InitialFlags
		z.session |= r.SessionFlags
		z.revFlags |= r.RevFlags
		z.revInitial |= r.RevInitialFlags
		z.revSess |= r.RevSessionFlags
	}
}

// zeros returns the columns all zero in the records added since the last
// call, and starts again.
func (z *zeroScan) zeros() zeroCols {
	var c zeroCols
	set := func(id colID, zero bool) {
		if zero {
			c |= 1 << id
		}
	}
	set(colRevPackets, z.revPackets == 0)
	set(colRevBytes, z.revBytes == 0)
	set(colRevStartOffset, z.revOffset == 0)
	set(colInput, z.input == 0)
	set(colOutput, z.output == 0)
	set(colSrcAS, z.srcAS == 0)
	set(colDstAS, z.dstAS == 0)
	set(colSensor, z.sensor == 0)
	set(colVLAN, z.vlan == 0)
	set(colApplication, z.app == 0)
	set(colInitialFlags, z.initial == 0)
	set(colSessionFlags, z.session == 0)
	set(colRevFlags, z.revFlags == 0)
	set(colRevInitialFlags, z.revInitial == 0)
	set(colRevSessionFlags, z.revSess == 0)
	*z = zeroScan{}
	return c
}
