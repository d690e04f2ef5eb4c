package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

// GroupQuery is a group-by over a flows table, what query.Grouper and
// query.Top compute over records, run by ClickHouse: rwuniq, and with
// Limit, rwstats --top.
type GroupQuery struct {
	Table  string     // table to read (a MergeTree or Distributed table of flows)
	Filter query.Pred // flows to count; nil for all
	// Keys are the group-by fields (not SrcLabel and DstLabel); Start and
	// End are floored to TimeBin when it is set, as in query.GroupSpec.
	Keys     []query.Field
	TimeBin  time.Duration
	Distinct []query.Field // fields to count distinct values of (query.ValDistinct+i)
	// By, Limit and Bottom make it a top-N: the Limit groups with the
	// largest (Bottom: smallest) By, ties broken by key as query.Top does.
	// Limit 0 returns every group, ordered by key.
	By     query.Value
	Limit  int
	Bottom bool
}

// Row is one group: its key values, in GroupQuery.Keys order, and sums.
type Row struct {
	Key []KeyValue
	query.Aggregate
}

// KeyValue is one key field of a group: Addr for an address field, Uint
// for the others (times as their int64 bits, as query.Field.Uint).
type KeyValue struct {
	Addr flow.Addr
	Uint uint64
}

// aggSQL are the aggregate columns, in the order of query.Aggregate.
const aggSQL = "count(), sum(packets), sum(bytes), min(start_ns), max(end_ns)"

// SQL returns the SELECT statement of q.
func (q GroupQuery) SQL() (string, error) {
	if err := checkIdent("table", q.Table); err != nil {
		return "", err
	}
	if len(q.Keys) == 0 {
		return "", fmt.Errorf("clickhouse: group query with no key")
	}
	if len(q.Distinct) > query.MaxDistinct {
		return "", fmt.Errorf("clickhouse: at most %d distinct counts", query.MaxDistinct)
	}
	var sel, keys []string
	for i, f := range q.Keys {
		e, err := fieldSQL(f)
		if err != nil {
			return "", err
		}
		if (f == query.Start || f == query.End) && q.TimeBin > 0 {
			bin := strconv.FormatInt(int64(q.TimeBin), 10)
			e = "(intDiv(" + e + ", " + bin + ") * " + bin + ")"
		}
		if f == query.ICMPType || f == query.ICMPCode {
			// A non-ICMP flow has no type or code; query.Grouper keys it
			// as 255 (query.NoValue cut to the field's byte), and so here.
			e = "toUInt8(if(protocol IN (1, 58), " + e + ", 255))"
		}
		name := "k" + strconv.Itoa(i)
		sel = append(sel, e+" AS "+name)
		keys = append(keys, name)
	}
	sel = append(sel, aggSQL)
	for i, f := range q.Distinct {
		e, err := fieldSQL(f)
		if err != nil {
			return "", err
		}
		sel = append(sel, "uniqExact("+e+") AS d"+strconv.Itoa(i))
	}
	where := "1"
	if q.Filter != nil {
		w, err := Where(q.Filter)
		if err != nil {
			return "", err
		}
		where = w
	}
	s := "SELECT " + strings.Join(sel, ", ") + " FROM " + q.Table + " WHERE " + where +
		" GROUP BY " + strings.Join(keys, ", ")
	order := strings.Join(keys, ", ")
	if q.Limit > 0 {
		v, err := valueSQL(q.By, len(q.Distinct))
		if err != nil {
			return "", err
		}
		dir := " DESC"
		if q.Bottom {
			dir = " ASC"
		}
		s += " ORDER BY " + v + dir + ", " + order + " LIMIT " + strconv.Itoa(q.Limit)
	} else {
		s += " ORDER BY " + order
	}
	return s, nil
}

// valueSQL is the aggregate expression of a ranking value.
func valueSQL(v query.Value, distinct int) (string, error) {
	switch v {
	case query.ValFlows:
		return "count()", nil
	case query.ValPackets:
		return "sum(packets)", nil
	case query.ValBytes:
		return "sum(bytes)", nil
	case query.ValStart:
		return "min(start_ns)", nil
	case query.ValEnd:
		return "max(end_ns)", nil
	}
	if i := int(v - query.ValDistinct); v >= query.ValDistinct && i < distinct {
		return "d" + strconv.Itoa(i), nil
	}
	return "", fmt.Errorf("%w: value %d", ErrNotTranslated, v)
}

// Group runs q and returns its groups.
func Group(ctx context.Context, conn driver.Conn, q GroupQuery) ([]Row, error) {
	s, err := q.SQL()
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: group by on %s: %w", q.Table, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		r := Row{Key: make([]KeyValue, len(q.Keys))}
		dest := make([]any, 0, len(q.Keys)+5+len(q.Distinct))
		ints := make([]int64, len(q.Keys))
		narrow := make([]any, len(q.Keys))
		for i, f := range q.Keys {
			switch {
			case f.IsAddr():
				dest = append(dest, (*[16]byte)(&r.Key[i].Addr))
			case f.IsTime():
				dest = append(dest, &ints[i])
			default:
				narrow[i] = newUint(f)
				dest = append(dest, narrow[i])
			}
		}
		dest = append(dest, &r.Flows, &r.Packets, &r.Bytes, &r.Start, &r.End)
		for i := range q.Distinct {
			dest = append(dest, &r.Distinct[i])
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("clickhouse: group by on %s: row %d: %w", q.Table, len(out), err)
		}
		for i, f := range q.Keys {
			switch {
			case f.IsTime():
				r.Key[i].Uint = uint64(ints[i])
			case !f.IsAddr():
				r.Key[i].Uint = uintOf(narrow[i])
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: group by on %s: %w", q.Table, err)
	}
	return out, nil
}

// newUint returns a pointer to scan field f's SQL type into.
func newUint(f query.Field) any {
	switch f {
	case query.SrcPort, query.DstPort, query.Sensor, query.VLAN, query.Application:
		return new(uint16)
	case query.Protocol, query.ICMPType, query.ICMPCode, query.Flags, query.InitialFlags, query.SessionFlags, query.RevFlags,
		query.Type, query.EndReason:
		return new(uint8)
	case query.Input, query.Output, query.SrcAS, query.DstAS:
		return new(uint32)
	}
	return new(uint64)
}

func uintOf(p any) uint64 {
	switch p := p.(type) {
	case *uint8:
		return uint64(*p)
	case *uint16:
		return uint64(*p)
	case *uint32:
		return uint64(*p)
	case *uint64:
		return *p
	}
	return 0
}
