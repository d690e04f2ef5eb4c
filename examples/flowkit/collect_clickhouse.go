package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	busnats "github.com/flowkit/flowkit/bus/nats"
	"github.com/flowkit/flowkit/export/clickhouse"
)

// chSink is a ClickHouse sink as collect uses it: Flush waits until every
// flow given so far is stored (the NATS path acknowledges after it).
type chSink interface {
	collectOut
	Flush() error
}

// Both ClickHouse sinks remove redelivered NATS messages themselves:
// collectNATS hands them each message under its id.
var (
	_ busnats.KeyedSink = (*clickhouse.Sink)(nil)
	_ busnats.KeyedSink = (*clickhouse.ShardedSink)(nil)
)

// openClickHouseOut opens -clickhouse clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE?table=NAME[&batch=N].
// One address: flows are inserted into table there, a MergeTree table
// (created if missing) or a Distributed table that spreads them over a
// cluster. Several addresses: each is one shard, and every flow goes
// straight to the table of the shard its source address hashes to
// (clickhouse.ShardedSink: exactly once even if a shard fails mid-insert);
// read them back through a Distributed table over the same table.
func openClickHouseOut(ctx context.Context, raw string) (chSink, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "clickhouse" || u.Host == "" {
		return nil, fmt.Errorf("%w: -clickhouse %q: want clickhouse://HOST:PORT[,HOST:PORT...]/DATABASE?table=NAME", errUsage, raw)
	}
	base := clickhouse.Config{Database: strings.Trim(u.Path, "/"), Table: "flows"}
	if u.User != nil {
		base.Username = u.User.Username()
		base.Password, _ = u.User.Password()
	}
	for k, v := range u.Query() {
		switch k {
		case "table":
			base.Table = v[0]
		case "batch":
			n, err := strconv.Atoi(v[0])
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("%w: -clickhouse: batch=%q: want a positive number of flows per INSERT", errUsage, v[0])
			}
			base.BatchSize = n
		default:
			return nil, fmt.Errorf("%w: -clickhouse: unknown parameter %q (table, batch)", errUsage, k)
		}
	}
	hosts := strings.Split(u.Host, ",")
	var cfgs []clickhouse.Config
	for _, h := range hosts {
		c := base
		c.Addr = []string{h}
		cfgs = append(cfgs, c)
	}
	for _, c := range cfgs {
		conn, err := clickhouse.Open(ctx, c)
		if err != nil {
			return nil, err
		}
		err = clickhouse.CreateTable(ctx, conn, c.Table)
		conn.Close()
		if err != nil {
			return nil, fmt.Errorf("clickhouse %s: %w", c.Addr[0], err)
		}
	}
	if len(cfgs) == 1 {
		return clickhouse.NewSink(ctx, cfgs[0])
	}
	return clickhouse.NewShardedSink(ctx, cfgs)
}
