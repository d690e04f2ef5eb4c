package store

import (
	"math/bits"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

// TestReadIndexMarksMatchColumns checks the lazy path a scan uses
// (ReadIndex into one reused Index, Mark methods into row bitsets)
// against the decoded columns, block by block, for default, posted and
// exception values of every indexed column, IPv4 and IPv6.
func TestReadIndexMarksMatchColumns(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	recs := randomRecords(rng, 30000, 0)
	// small blocks: array and run containers; one block: bitmap containers too
	for _, blockRows := range []int{4096, 0} {
		f, err := OpenBytes("mem", writeFile(t, recs, blockRows))
		if err != nil {
			t.Fatal(err)
		}
		checkMarks(t, rng, f)
	}
}

func checkMarks(t *testing.T, rng *rand.Rand, f *File) {
	var ix Index
	var cols Columns
	dst := make([]uint64, MaxBlockRows/64)
	checked := 0
	for b := 0; b < f.NumBlocks(); b++ {
		if err := f.ReadColumns(b, AllColumns, &cols); err != nil {
			t.Fatal(err)
		}
		n := cols.Len
		compare := func(what string, want func(i int) bool) {
			t.Helper()
			w := 0
			for i := 0; i < n; i++ {
				got := dst[i/64]&(1<<(i%64)) != 0
				if got != want(i) {
					t.Fatalf("block %d %s: row %d marked %v", b, what, i, got)
				}
				if got {
					w++
				}
			}
			for i := n; i < len(dst)*64; i++ {
				if dst[i/64]&(1<<(i%64)) != 0 {
					t.Fatalf("block %d %s: row %d past the block marked", b, what, i)
				}
			}
			checked += w
		}
		nums := map[Column]func(i int) uint64{
			ColSrcPort:     func(i int) uint64 { return uint64(cols.SrcPort[i]) },
			ColDstPort:     func(i int) uint64 { return uint64(cols.DstPort[i]) },
			ColProtocol:    func(i int) uint64 { return uint64(cols.Protocol[i]) },
			ColFlags:       func(i int) uint64 { return uint64(cols.Flags[i]) },
			ColSensor:      func(i int) uint64 { return uint64(cols.Sensor[i]) },
			ColApplication: func(i int) uint64 { return uint64(cols.Application[i]) },
		}
		for c, val := range nums {
			if err := f.ReadIndex(b, c, &ix); err != nil {
				t.Fatal(err)
			}
			for _, r := range []int{0, 1, n / 2, n - 1, rng.IntN(n)} {
				v := val(r)
				clear(dst)
				if err := ix.MarkRange(dst, v, v); err != nil {
					t.Fatal(err)
				}
				compare(c.String()+" eq", func(i int) bool { return val(i) == v })
				lo, hi := v/2, v+v/2
				clear(dst)
				if err := ix.MarkRange(dst, lo, hi); err != nil {
					t.Fatal(err)
				}
				compare(c.String()+" range", func(i int) bool { return val(i) >= lo && val(i) <= hi })
			}
			clear(dst)
			odd := func(v uint64) bool { return bits.OnesCount64(v)%2 == 1 }
			if err := ix.MarkMatch(dst, odd); err != nil {
				t.Fatal(err)
			}
			compare(c.String()+" match", func(i int) bool { return odd(val(i)) })
		}
		addrs := map[Column][]flow.Addr{ColSrc: cols.Src, ColDst: cols.Dst, ColNextHop: cols.NextHop}
		for c, col := range addrs {
			if err := f.ReadIndex(b, c, &ix); err != nil {
				t.Fatal(err)
			}
			var ps []netip.Prefix
			for _, r := range []int{0, n / 3, n - 1, rng.IntN(n)} {
				a := col[r].Netip()
				ps = append(ps, netip.PrefixFrom(a, a.BitLen()), netip.PrefixFrom(a, a.BitLen()-8).Masked())
			}
			ps = append(ps, netip.MustParsePrefix("::/0"), netip.MustParsePrefix("::ffff:0:0/96"),
				netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("10.0.0.0/8"))
			for _, p := range ps {
				clear(dst)
				if err := ix.MarkPrefix(dst, p); err != nil {
					t.Fatal(err)
				}
				lo, hi := prefixRange(p) // ::/0 holds the IPv4-mapped addresses too
				compare(c.String()+" "+p.String(), func(i int) bool { return addrIn(&col[i], &lo, &hi) })
			}
		}
	}
	if checked == 0 {
		t.Fatal("nothing matched")
	}
}
