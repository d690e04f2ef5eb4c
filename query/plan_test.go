package query

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/store"
)

// testRepo writes recs into a fresh repository with small blocks, so that
// zone maps and indexes have many blocks to decide about.
func testRepo(t testing.TB, recs []flow.Record) *store.Repo {
	dir := t.TempDir()
	repo, err := store.OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := repo.NewWriter(store.WriterOptions{BlockRows: 512})
	if err := w.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return repo
}

// storeRecords are random records sorted by start time, the way a
// repository holds them, with sensor and type kept small.
func storeRecords(seed uint64, n int) []flow.Record {
	recs := randomRecords(seed, n)
	rng := rand.New(rand.NewPCG(seed, 3))
	for i := range recs {
		recs[i].Sensor = uint16(i / 4000) // a few partitions per hour
		recs[i].Type = flow.TypeOut
		// Some runs of one protocol and port, so that blocks differ.
		if i%3000 < 600 {
			recs[i].Protocol, recs[i].DstPort = 6, 22
		}
		recs[i].Start = day0 + int64(i)*int64(6*time.Second) + rng.Int64N(1e9)
		recs[i].End = recs[i].Start + rng.Int64N(3600e9)
	}
	return recs
}

func TestScanStoreAgainstReference(t *testing.T) {
	recs := storeRecords(31, 12000)
	repo := testRepo(t, recs)
	exprs := []string{
		"any",
		"proto tcp and dst port 22",
		"src ip 10.0.0.7",
		"host 10.0.0.7",
		"(src net 10.0.0.0/24 or dst net 10.0.0.0/24) and dst port 443",
		"bytes > 999999",
		"flags S and not flags A",
		"flags S/SA",
		"not proto tcp",
		"start >= 2026-01-01T05:00:00Z and start < 2026-01-01T07:30:00Z and udp",
		"active 2026-01-01T10:00:00Z 2026-01-01T10:10:00Z",
		"end < 2026-01-01T01:00:00Z",
		"duration > 30m and packets > 1000",
		"sensor 2 and type out",
		"icmp-type 3",
		"dst ip in [10.0.0.1 2001:db8::/64]",
		"src ip in @internal.set",
		"dst label @zones.pmap dmz",
		"bpp 40-1500 or vlan 4095",
		"not any",
		"start > 2027-01-01T00:00:00Z",
		"src port 65535 or dst port 0",
		"reason active and app 443",
	}
	opts := testOpen(testFiles)
	for _, expr := range exprs {
		p, err := Parse(expr, opts)
		if err != nil {
			t.Fatal(err)
		}
		var want []flow.Record
		for i := range recs {
			if p.Match(&recs[i]) {
				want = append(want, recs[i])
			}
		}
		for _, need := range []store.ColumnMask{0, store.AllColumns} {
			var mu sync.Mutex
			var got []flow.Record
			count := 0
			st, err := ScanStore(context.Background(), repo, store.Selection{}, p, need, 2, func(w int, m *BlockMatch) error {
				mu.Lock()
				defer mu.Unlock()
				count += m.Count
				got = m.Records(got)
				return nil
			})
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			if count != len(want) || st.RowsMatched != int64(len(want)) {
				t.Fatalf("%q need=%x: %d rows, want %d (%+v)", expr, need, count, len(want), st)
			}
			if need != 0 {
				cmp := func(a, b flow.Record) int {
					return CompareRecords(&a, &b, []Field{Start, SrcAddr, DstAddr, SrcPort, DstPort, Bytes})
				}
				slices.SortFunc(got, cmp)
				w := slices.Clone(want)
				slices.SortFunc(w, cmp)
				if !slices.Equal(got, w) {
					t.Fatalf("%q: records differ", expr)
				}
			}
			t.Logf("%-70s need=%-9x %5d rows  files %d blocks %d zone-skip %d index-skip %d index-only %d decoded %d",
				expr, need, count, st.Files, st.Blocks, st.ZoneSkipped, st.IndexSkipped, st.IndexOnly, st.Decoded)
		}
	}
}

func TestScanStoreUsesIndexes(t *testing.T) {
	recs := storeRecords(32, 12000)
	repo := testRepo(t, recs)
	count := func(expr string) ScanStats {
		st, err := ScanStore(context.Background(), repo, store.Selection{}, MustParse(expr), 0, 2, func(int, *BlockMatch) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// tcp/22 with only a count: answered from the indexes, nothing decoded.
	if st := count("proto tcp and dst port 22"); st.Decoded != 0 || st.IndexOnly == 0 {
		t.Fatalf("tcp/22 count decoded blocks: %+v", st)
	}
	// A time range prunes by zone maps and files.
	st := count("start >= 2026-01-01T05:00:00Z and start < 2026-01-01T06:00:00Z")
	all := count("any")
	if st.Files == 0 || st.Files*10 > all.Files {
		t.Fatalf("one hour of 20 read %d of %d files", st.Files, all.Files)
	}
	// A host absent from most blocks skips them without decoding.
	if st := count("src host 10.0.0.7"); st.IndexSkipped == 0 || st.Decoded != 0 {
		t.Fatalf("host: %+v", st)
	}
}

func TestScanStoreStopsOnError(t *testing.T) {
	repo := testRepo(t, storeRecords(33, 5000))
	boom := context.DeadlineExceeded
	_, err := ScanStore(context.Background(), repo, store.Selection{}, nil, store.AllColumns, 2, func(int, *BlockMatch) error { return boom })
	if err != boom {
		t.Fatalf("fn error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ScanStore(ctx, repo, store.Selection{}, nil, 0, 2, func(int, *BlockMatch) error { return nil }); err != context.Canceled {
		t.Fatalf("canceled: %v", err)
	}
}
