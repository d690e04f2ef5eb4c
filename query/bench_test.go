package query

import (
	"context"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// benchRecords makes records shaped like the benchmark corpus: IPv4,
// 10.0.0.0/16 inside, TCP/UDP/ICMP 80/15/5, service ports.
func benchRecords(n int) []flow.Record {
	rng := rand.New(rand.NewPCG(9, 9))
	recs := make([]flow.Record, n)
	ports := []uint16{443, 443, 443, 443, 80, 80, 25, 22, 3389, 53}
	for i := range recs {
		r := &recs[i]
		r.Src = flow.AddrFromUint32(0x0a000000 | uint32(rng.IntN(5000)))
		r.Dst = flow.AddrFromUint32(rng.Uint32N(200000) * 7919)
		if rng.IntN(3) == 0 {
			r.Src, r.Dst = r.Dst, r.Src
		}
		switch x := rng.IntN(20); {
		case x < 16:
			r.Protocol = 6
			r.Flags = flow.TCPFlags(rng.IntN(64))
		case x < 19:
			r.Protocol = 17
		default:
			r.Protocol = 1
		}
		r.SrcPort = uint16(32768 + rng.IntN(32768))
		r.DstPort = ports[rng.IntN(len(ports))]
		r.Packets = uint64(1 + rng.IntN(1000))
		r.Bytes = r.Packets * uint64(40+rng.IntN(1460))
		r.Start = day0 + int64(i)*8_640_000
		r.End = r.Start + rng.Int64N(1800e9)
	}
	return recs
}

func benchSelect(b *testing.B, expr string) {
	recs := benchRecords(64 * 1024)
	m := NewMatcher(MustParse(expr))
	var sel Bits
	n := 0
	b.ReportAllocs()
	b.SetBytes(0)
	for b.Loop() {
		for off := 0; off < len(recs); off += flow.DefaultBatchSize {
			sel = m.Select(recs[off:off+flow.DefaultBatchSize], sel)
			n += sel.Count()
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

func BenchmarkSelectTCP22(b *testing.B)   { benchSelect(b, "proto tcp and dst port 22") }
func BenchmarkSelectHost(b *testing.B)    { benchSelect(b, "src ip 10.0.5.7") }
func BenchmarkSelectNetPort(b *testing.B) { benchSelect(b, "net 10.0.0.0/24 and dst port 443") }
func BenchmarkSelectBytes(b *testing.B)   { benchSelect(b, "bytes > 999999") }
func BenchmarkSelectFlags(b *testing.B)   { benchSelect(b, "flags S and not flags A") }

func BenchmarkMatchOneRecord(b *testing.B) {
	recs := benchRecords(64 * 1024)
	p := MustParse("net 10.0.0.0/24 and dst port 443")
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			if p.Match(&recs[i]) {
				n++
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

func BenchmarkMatcherMatchOneRecord(b *testing.B) {
	recs := benchRecords(64 * 1024)
	m := NewMatcher(MustParse("net 10.0.0.0/24 and dst port 443"))
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			if m.Match(&recs[i]) {
				n++
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("(src net 10.0.0.0/24 or dst net 10.0.0.0/24) and dst port in [22 80 443] and bytes > 1M", nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGroupBySrcIP(b *testing.B) {
	recs := benchRecords(256 * 1024)
	b.ReportAllocs()
	for b.Loop() {
		g, _ := NewGrouper(GroupSpec{Keys: []Field{SrcAddr}})
		g.AddBatch(recs)
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

func BenchmarkGroupByDstPort(b *testing.B) {
	recs := benchRecords(256 * 1024)
	b.ReportAllocs()
	for b.Loop() {
		g, _ := NewGrouper(GroupSpec{Keys: []Field{DstPort}})
		g.AddBatch(recs)
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

func BenchmarkTop10Of200k(b *testing.B) {
	recs := benchRecords(1 << 20)
	g, _ := NewGrouper(GroupSpec{Keys: []Field{DstAddr}})
	g.AddBatch(recs)
	groups := g.Groups()
	b.ReportAllocs()
	for b.Loop() {
		Top(groups, ValBytes, 10, false)
	}
	b.ReportMetric(float64(len(groups)), "groups")
}

// BenchmarkGrouperTop10Of200k ranks in the Grouper, without building and
// sorting every group (what flowkit stats does).
func BenchmarkGrouperTop10Of200k(b *testing.B) {
	recs := benchRecords(1 << 20)
	g, _ := NewGrouper(GroupSpec{Keys: []Field{DstAddr}})
	g.AddBatch(recs)
	b.ReportAllocs()
	for b.Loop() {
		g.Top(ValBytes, 10, false)
	}
	b.ReportMetric(float64(g.Len()), "groups")
}

// BenchmarkGroupsThenTop10Of200k is the older way: every group built and
// sorted by key, then ranked.
func BenchmarkGroupsThenTop10Of200k(b *testing.B) {
	recs := benchRecords(1 << 20)
	g, _ := NewGrouper(GroupSpec{Keys: []Field{DstAddr}})
	g.AddBatch(recs)
	b.ReportAllocs()
	for b.Loop() {
		Top(g.Groups(), ValBytes, 10, false)
	}
	b.ReportMetric(float64(g.Len()), "groups")
}

func BenchmarkCountSpread(b *testing.B) {
	recs := benchRecords(256 * 1024)
	b.ReportAllocs()
	for b.Loop() {
		c := NewCounter(300e9, LoadProportional)
		c.AddBatch(recs)
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

func BenchmarkSortByStartInMemory(b *testing.B) {
	recs := benchRecords(256 * 1024)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	work := make([]flow.Record, len(recs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, recs)
		SortRecords(work, []Field{Start}, false)
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

func BenchmarkIPSetContains(b *testing.B) {
	recs := benchRecords(64 * 1024)
	s := NewIPSet()
	for i := range recs[:20000] {
		s.AddAddr(recs[i].Dst)
	}
	n := 0
	for b.Loop() {
		for i := range recs {
			if s.Contains(recs[i].Dst) {
				n++
			}
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/b.Elapsed().Seconds()/1e6, "Mrec/s")
}

// benchRepo is a 1M-record repository of benchRecords, built once.
var benchRepo struct {
	once sync.Once
	repo *store.Repo
	dir  string
}

func scanBench(b *testing.B, expr string, need store.ColumnMask) {
	benchRepo.once.Do(func() {
		dir, err := os.MkdirTemp("", "flowkit-query-bench-*")
		if err != nil {
			b.Fatal(err)
		}
		benchRepo.dir = dir
		benchRepo.repo, _ = store.OpenRepo(dir)
		w := benchRepo.repo.NewWriter(store.WriterOptions{})
		w.WriteBatch(benchRecords(1 << 20))
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	})
	p := MustParse(expr)
	var st ScanStats
	for b.Loop() {
		var err error
		st, err = ScanStore(context.Background(), benchRepo.repo, store.Selection{}, p, need, 2, func(int, *BlockMatch) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*float64(1<<20)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	b.ReportMetric(float64(st.RowsMatched), "matched")
}

func BenchmarkScanStoreCountTCP22(b *testing.B) { scanBench(b, "proto tcp and dst port 22", 0) }
func BenchmarkScanStoreCountHost(b *testing.B)  { scanBench(b, "host 10.0.5.7", 0) }
func BenchmarkScanStoreCountBytes(b *testing.B) { scanBench(b, "bytes > 999999", 0) }
func BenchmarkScanStoreRecordsNetPort(b *testing.B) {
	scanBench(b, "net 10.0.0.0/24 and dst port 443", store.AllColumns)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRepo.dir != "" {
		os.RemoveAll(benchRepo.dir)
	}
	os.Exit(code)
}
