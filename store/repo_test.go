package store

import (
	"bufio"
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

const crashBatch = 3000

// crashBatchRecords is batch k of the crash test: deterministic, spread
// over three hours and all flow types.
func crashBatchRecords(k int) []flow.Record {
	rng := rand.New(rand.NewPCG(uint64(k), 99))
	return randomRecords(rng, crashBatch, 1767225600e9+int64(k%3)*int64(time.Hour))
}

func cmpRecord(a, b flow.Record) int {
	if c := cmp.Compare(a.Start, b.Start); c != 0 {
		return c
	}
	if c := cmp.Compare(a.End, b.End); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Src[:]), string(b.Src[:])); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Dst[:]), string(b.Dst[:])); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Bytes, b.Bytes); c != 0 {
		return c
	}
	return cmp.Compare(a.SrcPort, b.SrcPort)
}

func readRepo(t *testing.T, repo *Repo) []flow.Record {
	t.Helper()
	var got []flow.Record
	var err error
	for r := range repo.Records(Selection{}, AllColumns, &err) {
		got = append(got, r)
	}
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestCrashChild is the writer process of TestCrashSafety; it runs only
// when the parent sets FLOWKIT_CRASH_REPO.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("FLOWKIT_CRASH_REPO")
	if dir == "" {
		t.Skip("child of TestCrashSafety")
	}
	repo, err := OpenRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := repo.NewWriter(WriterOptions{BlockRows: 1000})
	for k := 0; k < 100000; k++ {
		if err := w.WriteBatch(crashBatchRecords(k)); err != nil {
			t.Fatal(err)
		}
		if k%2 == 1 { // every other batch stays unflushed for a while
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("committed %d\n", k+1)
		}
	}
}

// TestCrashSafety kills a writer process with SIGKILL in the middle of an
// ingest and checks that the repository holds exactly the committed
// batches: no corrupt file, no half-visible file, no lost flushed record.
func TestCrashSafety(t *testing.T) {
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "FLOWKIT_CRASH_REPO="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		committed := 0
		target := 4 + round*3
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
				committed, _ = strconv.Atoi(n)
				if committed >= target {
					break
				}
			}
		}
		time.Sleep(time.Duration(round*7) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		go func() {
			for sc.Scan() {
			}
		}()
		cmd.Wait()
		if committed < target {
			t.Fatalf("child committed only %d batches before it ended", committed)
		}
		repo, _ := OpenRepo(dir)
		got := readRepo(t, repo)
		if len(got)%crashBatch != 0 || len(got) < committed*crashBatch {
			t.Fatalf("round %d: read %d records; %d batches were committed", round, len(got), committed)
		}
		var want []flow.Record
		for k := 0; k < len(got)/crashBatch; k++ {
			want = append(want, crashBatchRecords(k)...)
		}
		slices.SortFunc(got, cmpRecord)
		slices.SortFunc(want, cmpRecord)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d: record %d differs:\n got %+v\nwant %+v", round, i, got[i], want[i])
			}
		}
		refs, _ := repo.Files(Selection{})
		for _, r := range refs {
			if strings.HasSuffix(r.Path, ".tmp") {
				t.Fatalf("temporary file listed: %s", r.Path)
			}
		}
		t.Logf("round %d: killed after %d committed batches; read back %d records exactly", round, committed, len(got))
	}
}

func TestLayoutAndSelection(t *testing.T) {
	repo, _ := OpenRepo(t.TempDir())
	w := repo.NewWriter(WriterOptions{Classifier: internal})
	recs := []flow.Record{
		{Start: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano(), Src: flow.AddrFromUint32(0x0a000001), Dst: flow.AddrFromUint32(0x08080808), Sensor: 2},
		{Start: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC).UnixNano(), Src: flow.AddrFromUint32(0x08080808), Dst: flow.AddrFromUint32(0x0a000001)},
	}
	if err := w.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	refs, err := repo.Files(Selection{})
	if err != nil || len(refs) != 2 {
		t.Fatalf("files %v %v", refs, err)
	}
	rel, _ := filepath.Rel(repo.Root(), refs[0].Path)
	if !strings.HasPrefix(rel, filepath.Join("S2", "out", "2026", "01", "02", "03", "out-S2_20260102.03-")) {
		t.Fatalf("layout: %s", rel)
	}
	one, _ := repo.Files(Selection{Start: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC)})
	if len(one) != 1 || one[0].Type != flow.TypeIn || one[0].Sensor != 0 {
		t.Fatalf("time selection: %+v", one)
	}
	s2, _ := repo.Files(Selection{Sensors: []uint16{2}, Types: []flow.FlowType{flow.TypeOut}})
	if len(s2) != 1 {
		t.Fatalf("sensor/type selection: %+v", s2)
	}
}

func TestRetention(t *testing.T) {
	repo, _ := OpenRepo(t.TempDir())
	w := repo.NewWriter(WriterOptions{})
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for h := 0; h < 6; h++ {
		w.WriteBatch([]flow.Record{{Start: base.Add(time.Duration(h)*time.Hour + time.Minute).UnixNano()}})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	n, err := repo.Retain(base.Add(4 * time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("removed %d, %v", n, err)
	}
	left := readRepo(t, repo)
	if len(left) != 2 || left[0].Start < base.Add(4*time.Hour).UnixNano() {
		t.Fatalf("left %d records", len(left))
	}
	if _, err := os.Stat(filepath.Join(repo.Root(), "S0", "unknown", "2026", "03", "01", "00")); !os.IsNotExist(err) {
		t.Fatal("empty hour directory not removed")
	}
}

// TestReadWhileWriting reads the repository over and over while a writer
// appends and commits: every read succeeds and sees only records that were
// written (files appear whole, one partition at a time).
func TestReadWhileWriting(t *testing.T) {
	repo, _ := OpenRepo(t.TempDir())
	written := map[flow.Record]bool{}
	for k := 0; k < 12; k++ {
		for _, r := range crashBatchRecords(k) {
			written[r] = true
		}
	}
	var done atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer done.Store(true)
		w := repo.NewWriter(WriterOptions{BlockRows: 700})
		for k := 0; k < 12; k++ {
			if err := w.WriteBatch(crashBatchRecords(k)); err != nil {
				t.Error(err)
				return
			}
			if err := w.Flush(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reads := 0
	for !done.Load() || reads == 0 {
		var err error
		for r := range repo.Records(Selection{}, AllColumns, &err) {
			if !written[r] {
				t.Errorf("reader saw a record never written: %+v", r)
				break
			}
		}
		if err != nil {
			t.Error(err)
			break
		}
		reads++
	}
	wg.Wait()
	if got := len(readRepo(t, repo)); got != 12*crashBatch {
		t.Fatalf("final %d records", got)
	}
}

// TestCorruptFileReportedRestReadable damages one committed file: Scan
// names the file and block, and still delivers every other record.
func TestCorruptFileReportedRestReadable(t *testing.T) {
	repo, _ := OpenRepo(t.TempDir())
	w := repo.NewWriter(WriterOptions{BlockRows: 500})
	recs := crashBatchRecords(1) // one hour, five types
	w.WriteBatch(recs)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	refs, _ := repo.Files(Selection{})
	victim := refs[0]
	data, _ := os.ReadFile(victim.Path)
	data[headerSize+10] ^= 1 // first block, first column
	os.WriteFile(victim.Path, data, 0o644)
	f, _ := OpenBytes(victim.Path, data)
	lost := f.Block(0).Rows
	var rows atomic.Int64
	err := repo.Scan(Selection{}, AllColumns, 2, func(_ FileRef, _ *File, _ int, cols *Columns) error {
		rows.Add(int64(cols.Len))
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), victim.Path) || !strings.Contains(err.Error(), "block 0") {
		t.Fatalf("error does not name file and block: %v", err)
	}
	if int(rows.Load()) != len(recs)-lost {
		t.Fatalf("read %d rows, want %d", rows.Load(), len(recs)-lost)
	}
}

// TestPrefixClassifierMatchesNetip: the classifier's IPv4 comparison under
// masks answers what netip.Prefix.Contains answers, for prefixes of every
// length (masked or not, IPv4 and IPv6, and the invalid zero prefix) and
// for addresses inside, at the edges of and outside them.
func TestPrefixClassifierMatchesNetip(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	var prefixes []netip.Prefix
	for bits := 0; bits <= 32; bits++ {
		a := netip.AddrFrom4([4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())})
		prefixes = append(prefixes, netip.PrefixFrom(a, bits)) // not masked
	}
	prefixes = append(prefixes, netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("::ffff:10.0.0.0/104"), netip.Prefix{})
	for i, p := range prefixes {
		c := &PrefixClassifier{Internal: []netip.Prefix{p}}
		var addrs []netip.Addr
		if p.Addr().Is4() {
			base := p.Masked().Addr().As4()
			n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
			size := uint64(1) << (32 - p.Bits())
			for _, v := range []uint64{uint64(n), uint64(n) + size - 1, uint64(n) + size, uint64(n) - 1, uint64(rng.Uint32())} {
				u := uint32(v)
				addrs = append(addrs, netip.AddrFrom4([4]byte{byte(u >> 24), byte(u >> 16), byte(u >> 8), byte(u)}))
			}
		}
		addrs = append(addrs, netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.1.2.3"))
		for _, a := range addrs {
			if got, want := c.contains(flow.AddrFrom(a)), p.Contains(a); got != want {
				t.Fatalf("prefix %d %v, address %v: contains %v, netip %v", i, p, a, got, want)
			}
		}
	}
	c := &PrefixClassifier{Internal: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	for _, tc := range []struct {
		src, dst string
		want     flow.FlowType
	}{{"10.0.0.1", "10.255.0.1", flow.TypeInternal}, {"10.0.0.1", "11.0.0.1", flow.TypeOut},
		{"9.255.255.255", "10.0.0.0", flow.TypeIn}, {"2001:db8::1", "11.0.0.1", flow.TypeExternal}} {
		r := flow.Record{Src: flow.AddrFrom(netip.MustParseAddr(tc.src)), Dst: flow.AddrFrom(netip.MustParseAddr(tc.dst))}
		if got := c.Classify(&r); got != tc.want {
			t.Fatalf("%s -> %s: %v, want %v", tc.src, tc.dst, got, tc.want)
		}
	}
}
