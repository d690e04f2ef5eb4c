package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/query"
)

// Select reads back the flows of table that match p (nil: all), in the
// order of start time and then the sort key. The predicate is translated
// with Where; one that has no translation gives ErrNotTranslated.
func Select(ctx context.Context, conn driver.Conn, table string, p query.Pred) ([]flow.Record, error) {
	if err := checkIdent("table", table); err != nil {
		return nil, err
	}
	where := "1"
	if p != nil {
		w, err := Where(p)
		if err != nil {
			return nil, err
		}
		where = w
	}
	var names string
	for i, c := range columns[:recordColumns] {
		if i > 0 {
			names += ", "
		}
		names += c.name
	}
	q := "SELECT " + names + " FROM " + table + " WHERE " + where + " ORDER BY start_ns, src, dst, src_port, dst_port"
	rows, err := conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: select from %s: %w", table, err)
	}
	defer rows.Close()
	var out []flow.Record
	for rows.Next() {
		var r flow.Record
		var revOff int64
		var fl [6]uint8
		var reason, typ uint8
		if err := rows.Scan(&r.Start, &r.End, (*[16]byte)(&r.Src), (*[16]byte)(&r.Dst), (*[16]byte)(&r.NextHop),
			&r.Packets, &r.Bytes, &r.RevPackets, &r.RevBytes, &revOff,
			&r.Input, &r.Output, &r.SrcAS, &r.DstAS,
			&r.SrcPort, &r.DstPort, &r.Sensor, &r.VLAN, &r.Application,
			&r.Protocol, &fl[0], &fl[1], &fl[2], &fl[3], &fl[4], &fl[5], &reason, &typ); err != nil {
			return nil, fmt.Errorf("clickhouse: select from %s: row %d: %w", table, len(out), err)
		}
		r.RevStartOffset = time.Duration(revOff)
		r.Flags, r.InitialFlags, r.SessionFlags = flow.TCPFlags(fl[0]), flow.TCPFlags(fl[1]), flow.TCPFlags(fl[2])
		r.RevFlags, r.RevInitialFlags, r.RevSessionFlags = flow.TCPFlags(fl[3]), flow.TCPFlags(fl[4]), flow.TCPFlags(fl[5])
		r.EndReason, r.Type = flow.EndReason(reason), flow.FlowType(typ)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("clickhouse: select from %s: %w", table, err)
	}
	return out, nil
}
