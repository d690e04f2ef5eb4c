package parquet

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
	"github.com/flowkit/flowkit/query"
)

// duckdbScript prints, as JSON, what DuckDB reads from the Parquet file
// named by its argument: totals, the top 5 sources by bytes, a filter on
// the typed columns, the time range, the column types, how many column
// chunks of five columns there are and how many have min and max
// statistics, and the distinct count, least, greatest and total length of
// the destination address texts. Numbers are printed as strings (exact).
const duckdbScript = `
import { DuckDBInstance } from '@duckdb/node-api';
const inst = await DuckDBInstance.create(':memory:');
const con = await inst.connect();
const f = process.argv[2].replaceAll("'", "''");
const rows = async (sql) => (await con.runAndReadAll(
  sql.replaceAll('FILE', "read_parquet('" + f + "')").replaceAll('META', "parquet_metadata('" + f + "')"))
).getRows().map(r => r.map(v => v === null ? null : String(v)));
console.log(JSON.stringify({
  totals: (await rows('select count(*), sum(packets), sum(bytes) from FILE'))[0],
  top: await rows('select src_addr, sum(bytes) b from FILE group by src_addr order by b desc, src_addr limit 5'),
  filter: (await rows(process.argv[3]))[0],
  times: (await rows('select epoch_us(min(start_time)), epoch_us(max(end_time)) from FILE'))[0],
  types: (await rows('select typeof(start_time), typeof(packets), typeof(bytes), typeof(src_ipv4), typeof(protocol), typeof(dst_port), typeof(flags), typeof(flow_type) from FILE limit 1'))[0],
  stats: (await rows("select count(*), count(stats_min_value), count(stats_max_value) from META where path_in_schema in ('start_time', 'packets', 'bytes', 'dst_port', 'src_addr')"))[0],
  dst: (await rows('select count(distinct dst_addr), min(dst_addr), max(dst_addr), sum(strlen(dst_addr)) from FILE'))[0],
}));
`

type duckdbAnswer struct {
	Totals []string   `json:"totals"`
	Top    [][]string `json:"top"`
	Filter []string   `json:"filter"`
	Times  []string   `json:"times"`
	Types  []string   `json:"types"`
	Stats  []string   `json:"stats"`
	Dst    []string   `json:"dst"`
}

// needOrSkip skips, or fails under CI=true, as testenv does for peers.
func needOrSkip(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format+" (required under CI=true)", args...)
	}
	t.Skipf(format, args...)
}

// duckdbDir returns a directory where node finds @duckdb/node-api,
// installing it with npm into the user cache directory the first time.
func duckdbDir(t *testing.T) string {
	t.Helper()
	testenv.NeedPeer(t, "node")
	npm := testenv.NeedPeer(t, "npm")
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "flowkit", "duckdb-node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api", "package.json")); err == nil {
		return dir
	}
	// Install into a fresh directory and move it into place, so that a
	// half-done install is never taken for a cached one.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--prefix", tmp, "@duckdb/node-api")
	if out, err := cmd.CombinedOutput(); err != nil {
		needOrSkip(t, "npm install @duckdb/node-api: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, serr := os.Stat(filepath.Join(dir, "node_modules")); serr != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// duckdbRead runs the DuckDB script over file with filterSQL as the
// filter query.
func duckdbRead(t *testing.T, file, filterSQL string) duckdbAnswer {
	t.Helper()
	dir := duckdbDir(t)
	script, err := os.CreateTemp(dir, "check-*.mjs") // beside node_modules, for the import
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(script.Name())
	script.WriteString(duckdbScript)
	script.Close()
	out, err := exec.Command("node", script.Name(), file, filterSQL).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("node: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var a duckdbAnswer
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return a
}

// TestDuckDB: DuckDB, a Parquet reader outside the Go ecosystem, reads the
// export of the synthesizer's day; its count, sums, top talkers and a
// filter over the typed columns equal flowkit's own answers, the columns
// have the promised types and the statistics are there.
func TestDuckDB(t *testing.T) {
	recs := day(t)
	file := filepath.Join(t.TempDir(), "day.parquet")
	if err := os.WriteFile(file, export(t, recs, Options{RowGroupRows: 10_000}), 0o644); err != nil {
		t.Fatal(err)
	}

	// flowkit's answers.
	g, err := query.NewGrouper(query.GroupSpec{Keys: []query.Field{query.SrcAddr}})
	if err != nil {
		t.Fatal(err)
	}
	g.AddBatch(recs)
	var flows, packets, bytes uint64
	groups := g.Groups()
	for i := range groups {
		flows += groups[i].Flows
		packets += groups[i].Packets
		bytes += groups[i].Bytes
	}
	var top [][]string
	for _, r := range query.Top(groups, query.ValBytes, 5, false) {
		top = append(top, []string{g.KeyAddr(r.Group, 0).String(), strconv.FormatUint(r.Bytes, 10)})
	}
	const expr = "proto tcp and dst port 80 and src net 10.0.0.0/8"
	net := netip.MustParsePrefix("10.0.0.0/8")
	lo := uint32(167772160)
	hi := lo | 1<<(32-net.Bits()) - 1
	filterSQL := fmt.Sprintf("select count(*), sum(bytes) from FILE where protocol = 6 and dst_port = 80 and src_ipv4 between %d and %d", lo, hi)
	var fCount, fBytes uint64
	for r := range query.Where(sliceSeq(recs), query.MustParse(expr)) {
		fCount++
		fBytes += r.Bytes
	}
	if fCount == 0 {
		t.Fatalf("%q matches nothing in the synthesized day: pick another filter", expr)
	}
	minStart, maxEnd := recs[0].Start, recs[0].End
	for i := range recs {
		minStart, maxEnd = min(minStart, recs[i].Start), max(maxEnd, recs[i].End)
	}

	a := duckdbRead(t, file, filterSQL)
	t.Logf("DuckDB: %+v", a)
	want := []string{strconv.FormatUint(flows, 10), strconv.FormatUint(packets, 10), strconv.FormatUint(bytes, 10)}
	if fmt.Sprint(a.Totals) != fmt.Sprint(want) || flows != uint64(len(recs)) {
		t.Errorf("count, packets, bytes: DuckDB %v, flowkit %v (%d records)", a.Totals, want, len(recs))
	}
	if fmt.Sprint(a.Top) != fmt.Sprint(top) {
		t.Errorf("top 5 sources by bytes:\n DuckDB  %v\n flowkit %v", a.Top, top)
	}
	if wantF := []string{strconv.FormatUint(fCount, 10), strconv.FormatUint(fBytes, 10)}; fmt.Sprint(a.Filter) != fmt.Sprint(wantF) {
		t.Errorf("%q: DuckDB %v, flowkit %v", expr, a.Filter, wantF)
	}
	// DuckDB reads UTC-adjusted timestamps as TIMESTAMP WITH TIME ZONE,
	// which has microseconds.
	if wantT := []string{strconv.FormatInt(minStart/1000, 10), strconv.FormatInt(maxEnd/1000, 10)}; fmt.Sprint(a.Times) != fmt.Sprint(wantT) {
		t.Errorf("first start, last end (µs): DuckDB %v, flowkit %v", a.Times, wantT)
	}
	wantTypes := []string{"TIMESTAMP WITH TIME ZONE", "UBIGINT", "UBIGINT", "UINTEGER", "UTINYINT", "USMALLINT", "UTINYINT", "VARCHAR"}
	if fmt.Sprint(a.Types) != fmt.Sprint(wantTypes) {
		t.Errorf("column types: DuckDB %v, want %v", a.Types, wantTypes)
	}
	groups5 := strconv.Itoa(5 * ((len(recs) + 9999) / 10_000)) // 5 columns per row group
	if fmt.Sprint(a.Stats) != fmt.Sprint([]string{groups5, groups5, groups5}) {
		t.Errorf("column chunks, with min, with max statistics: %v, want %s each", a.Stats, groups5)
	}

	// One row group: the destination addresses' dictionary is large
	// enough that their data pages are zstd raw blocks (dictcodec.go).
	var one strings.Builder // (bytes is a sum here)
	w := NewWriter(&one, Options{})
	if err := w.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.cols[colDstAddr].dict.raws == 0 {
		t.Fatal("no dst_addr data page in raw zstd blocks: pick data with more addresses")
	}
	file1 := filepath.Join(t.TempDir(), "day1.parquet")
	if err := os.WriteFile(file1, []byte(one.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if b := duckdbRead(t, file1, filterSQL); fmt.Sprint(b.Top) != fmt.Sprint(a.Top) || fmt.Sprint(b.Totals) != fmt.Sprint(a.Totals) || fmt.Sprint(b.Filter) != fmt.Sprint(a.Filter) || fmt.Sprint(b.Dst) != fmt.Sprint(a.Dst) {
		t.Errorf("one row group: DuckDB %+v, with row groups of 10 000 %+v", b, a)
	}

	// Destination addresses all different: their dictionary page (about
	// a megabyte) is zstd coded a block at a time (zstdlit.go).
	wide := slices.Clone(recs)
	for i := range wide {
		wide[i].Dst = flow.AddrFromUint32(0x0a000000 | uint32(i))
	}
	var wideText strings.Builder
	w = NewWriter(&wideText, Options{})
	if err := w.WriteBatch(wide); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if n := w.cols[colDstAddr].dict.blocks; n < 4 {
		t.Fatalf("dst_addr dictionary page coded in %d blocks as it grew: want more than 4", n)
	}
	file2 := filepath.Join(t.TempDir(), "wide.parquet")
	if err := os.WriteFile(file2, []byte(wideText.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	texts := make([]string, len(wide))
	length := 0
	for i := range wide {
		texts[i] = wide[i].Dst.String()
		length += len(texts[i])
	}
	slices.Sort(texts)
	wantDst := []string{strconv.Itoa(len(wide)), texts[0], texts[len(texts)-1], strconv.Itoa(length)}
	if c := duckdbRead(t, file2, filterSQL); fmt.Sprint(c.Dst) != fmt.Sprint(wantDst) || fmt.Sprint(c.Totals) != fmt.Sprint(a.Totals) {
		t.Errorf("all destinations different: DuckDB reads %v and totals %v, want %v and %v", c.Dst, c.Totals, wantDst, a.Totals)
	}
}

func sliceSeq(recs []flow.Record) func(func(flow.Record) bool) {
	return func(yield func(flow.Record) bool) {
		for _, r := range recs {
			if !yield(r) {
				return
			}
		}
	}
}
