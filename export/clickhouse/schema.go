package clickhouse

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// column is one stored column: its name and ClickHouse type.
type column struct {
	name, typ string
}

// columns are the columns the sink writes, in insert order: every field of
// flow.Record plus insert_id. Addresses are FixedString(16) holding
// flow.Addr's 16 bytes (IPv4 as ::ffff:a.b.c.d), the layout of ClickHouse's
// IPv6 type and of IPv6StringToNum, so IPv6NumToString prints both
// families and a prefix is a byte range. Times are Int64 nanoseconds:
// 18.16 has no DateTime64.
var columns = []column{
	{"start_ns", "Int64"},
	{"end_ns", "Int64"},
	{"src", "FixedString(16)"},
	{"dst", "FixedString(16)"},
	{"nexthop", "FixedString(16)"},
	{"packets", "UInt64"},
	{"bytes", "UInt64"},
	{"rev_packets", "UInt64"},
	{"rev_bytes", "UInt64"},
	{"rev_start_offset_ns", "Int64"},
	{"input", "UInt32"},
	{"output", "UInt32"},
	{"src_as", "UInt32"},
	{"dst_as", "UInt32"},
	{"src_port", "UInt16"},
	{"dst_port", "UInt16"},
	{"sensor", "UInt16"},
	{"vlan", "UInt16"},
	{"application", "UInt16"},
	{"protocol", "UInt8"},
	{"flags", "UInt8"},
	{"initial_flags", "UInt8"},
	{"session_flags", "UInt8"},
	{"rev_flags", "UInt8"},
	{"rev_initial_flags", "UInt8"},
	{"rev_session_flags", "UInt8"},
	{"end_reason", "UInt8"},
	{"type", "UInt8"},
	// insert_id is the same for every row of one INSERT: it lets the sink
	// find out whether an INSERT whose answer it lost was stored.
	{"insert_id", "UInt64"},
}

// recordColumns is how many columns hold flow.Record fields (all but insert_id).
var recordColumns = len(columns) - 1

// stimeColumn is computed by the server from start_ns; it is what the
// table is partitioned and ordered by.
const stimeColumn = "stime DateTime('UTC') DEFAULT toDateTime(intDiv(start_ns, 1000000000), 'UTC')"

// columnList returns the insert column list "start_ns, end_ns, ...".
func columnList() string {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func columnDefs() string {
	var b strings.Builder
	for _, c := range columns {
		fmt.Fprintf(&b, "\t%s %s,\n", c.name, c.typ)
	}
	b.WriteString("\t" + stimeColumn + "\n")
	return b.String()
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// checkIdent rejects table, database and cluster names that would need
// quoting: they are pasted into SQL.
func checkIdent(what, name string) error {
	if !identRE.MatchString(name) {
		return fmt.Errorf("%w: %s %q (want letters, digits and _, optionally db.table)", ErrBadName, what, name)
	}
	return nil
}

// TableSQL returns the CREATE TABLE IF NOT EXISTS statement of a MergeTree
// table of flows named table (optionally "db.table"). See the package
// documentation for the choice of partition and sort key.
func TableSQL(table string) (string, error) {
	if err := checkIdent("table", table); err != nil {
		return "", err
	}
	return "CREATE TABLE IF NOT EXISTS " + table + " (\n" + columnDefs() + ") ENGINE = MergeTree\n" +
		"PARTITION BY toDate(stime)\n" +
		"ORDER BY (toStartOfHour(stime), src, dst, start_ns)", nil
}

// DistributedSQL returns the CREATE TABLE IF NOT EXISTS statement of a
// Distributed table named table over the local tables database.local on
// every shard of cluster (a name in the servers' remote_servers). Rows
// inserted through it go to the shard that sipHash64(src) picks, so the
// flows of one source address stay on one shard.
func DistributedSQL(table, cluster, database, local string) (string, error) {
	for _, n := range [][2]string{{"table", table}, {"cluster", cluster}, {"database", database}, {"local table", local}} {
		if err := checkIdent(n[0], n[1]); err != nil {
			return "", err
		}
	}
	return "CREATE TABLE IF NOT EXISTS " + table + " (\n" + columnDefs() + ") ENGINE = Distributed(" +
		cluster + ", " + database + ", " + local + ", sipHash64(src))", nil
}

// CreateTable creates the MergeTree table of TableSQL if it does not exist.
func CreateTable(ctx context.Context, conn driver.Conn, table string) error {
	q, err := TableSQL(table)
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("clickhouse: create table %s: %w", table, err)
	}
	return nil
}

// CreateDistributed creates the Distributed table of DistributedSQL if it
// does not exist.
func CreateDistributed(ctx context.Context, conn driver.Conn, table, cluster, database, local string) error {
	q, err := DistributedSQL(table, cluster, database, local)
	if err != nil {
		return err
	}
	if err := conn.Exec(ctx, q); err != nil {
		return fmt.Errorf("clickhouse: create distributed table %s on cluster %s: %w", table, cluster, err)
	}
	return nil
}
