package clickhouse_test

import (
	"fmt"

	"github.com/flowkit/flowkit/export/clickhouse"
	"github.com/flowkit/flowkit/query"
)

func ExampleWhere() {
	p, err := query.Parse("proto tcp and dst port 22 and src net 10.0.0.0/24", nil)
	if err != nil {
		panic(err)
	}
	w, err := clickhouse.Where(p)
	if err != nil {
		panic(err)
	}
	fmt.Println(w)
	// Output:
	// (protocol = 6 AND dst_port = 22 AND src BETWEEN toFixedString(unhex('00000000000000000000ffff0a000000'), 16) AND toFixedString(unhex('00000000000000000000ffff0a0000ff'), 16))
}

func ExampleGroupQuery() {
	// The 3 source addresses that sent the most bytes over TCP.
	q := clickhouse.GroupQuery{
		Table:  "flows",
		Filter: query.MustParse("proto tcp"),
		Keys:   []query.Field{query.SrcAddr},
		By:     query.ValBytes,
		Limit:  3,
	}
	s, err := q.SQL()
	if err != nil {
		panic(err)
	}
	fmt.Println(s)
	// Output:
	// SELECT src AS k0, count(), sum(packets), sum(bytes), min(start_ns), max(end_ns) FROM flows WHERE protocol = 6 GROUP BY k0 ORDER BY sum(bytes) DESC, k0 LIMIT 3
}
