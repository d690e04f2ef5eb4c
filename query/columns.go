package query

import "github.com/flowkit/flowkit/flow"

// Columns is a batch of rows seen column by column, what [Matcher] reads:
// a batch of records ([RecordColumns]) or the decoded column vectors of a
// store block. A column has Len values; the slices stay valid until the
// batch changes.
type Columns interface {
	// Len returns the number of rows.
	Len() int
	// Uints returns a numeric field as Field.Uint gives it, row by row.
	Uints(f Field) []uint64
	// Addrs returns an address field row by row.
	Addrs(f Field) []flow.Addr
}

// RecordColumns presents a slice of records as Columns, gathering a column
// the first time it is asked for and keeping it for the batch. Reuse one
// across batches with Reset: it allocates only while its buffers grow.
type RecordColumns struct {
	recs  []flow.Record
	uints [numFields][]uint64
	addrs [numFields][]flow.Addr
	have  [numFields]bool
	sel   Bits // Matcher.Filter's selection
}

// Reset makes c present recs, forgetting the columns of the last batch.
func (c *RecordColumns) Reset(recs []flow.Record) {
	c.recs = recs
	c.have = [numFields]bool{}
}

// Len implements Columns.
func (c *RecordColumns) Len() int { return len(c.recs) }

// Records returns the batch.
func (c *RecordColumns) Records() []flow.Record { return c.recs }

// Uints implements Columns.
func (c *RecordColumns) Uints(f Field) []uint64 {
	if c.have[f] {
		return c.uints[f]
	}
	c.have[f] = true
	col := grow(c.uints[f], len(c.recs))
	c.uints[f] = col
	recs := c.recs
	switch f {
	case SrcPort:
		for i := range recs {
			col[i] = uint64(recs[i].SrcPort)
		}
	case DstPort:
		for i := range recs {
			col[i] = uint64(recs[i].DstPort)
		}
	case Protocol:
		for i := range recs {
			col[i] = uint64(recs[i].Protocol)
		}
	case Packets:
		for i := range recs {
			col[i] = recs[i].Packets
		}
	case Bytes:
		for i := range recs {
			col[i] = recs[i].Bytes
		}
	case Start:
		for i := range recs {
			col[i] = uint64(recs[i].Start)
		}
	case End:
		for i := range recs {
			col[i] = uint64(recs[i].End)
		}
	case Flags:
		for i := range recs {
			col[i] = uint64(recs[i].Flags)
		}
	default:
		for i := range recs {
			col[i] = f.Uint(&recs[i])
		}
	}
	return col
}

// Addrs implements Columns.
func (c *RecordColumns) Addrs(f Field) []flow.Addr {
	if c.have[f] {
		return c.addrs[f]
	}
	c.have[f] = true
	col := grow(c.addrs[f], len(c.recs))
	c.addrs[f] = col
	recs := c.recs
	switch f {
	case SrcAddr:
		for i := range recs {
			col[i] = recs[i].Src
		}
	case DstAddr:
		for i := range recs {
			col[i] = recs[i].Dst
		}
	default:
		for i := range recs {
			col[i] = f.Addr(&recs[i])
		}
	}
	return col
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
