package parquet

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flowkit/flowkit/capture/synth"
	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
)

// synthDay is the synthesizer's default day of traffic: the flow records a
// meter produces from it (its ground truth).
var synthDay = sync.OnceValues(func() ([]flow.Record, error) {
	tr, err := synth.Generate(synth.Config{})
	if err != nil {
		return nil, err
	}
	return slices.Clone(tr.Truth()), nil
})

func day(t testing.TB) []flow.Record {
	t.Helper()
	recs, err := synthDay()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 1000 {
		t.Fatalf("only %d synthesized records", len(recs))
	}
	return recs
}

// export writes recs to a Parquet file in memory, in batches of 1000.
func export(t testing.TB, recs []flow.Record, opts Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, opts)
	for b := range slices.Chunk(recs, 1000) {
		if err := w.WriteBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != int64(len(recs)) {
		t.Fatalf("Rows %d, want %d", w.Rows(), len(recs))
	}
	return buf.Bytes()
}

// readAll reads every record of a file back.
func readAll(t testing.TB, data []byte) []flow.Record {
	t.Helper()
	r, err := OpenReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []flow.Record
	buf := make([]flow.Record, 777)
	for {
		n, err := r.ReadBatch(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func checkSame(t *testing.T, got, want []flow.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, wrote %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

// TestRoundTripSynth: every field of the synthesizer's day comes back
// exact, over several row groups, with every codec.
func TestRoundTripSynth(t *testing.T) {
	recs := day(t)
	for _, c := range []Compression{Zstd, Snappy, Uncompressed} {
		data := export(t, recs, Options{RowGroupRows: len(recs)/3 + 1, Compression: c})
		t.Logf("codec %d: %d records, %d bytes (%.1f bytes/flow)", c, len(recs), len(data), float64(len(data))/float64(len(recs)))
		checkSame(t, readAll(t, data), recs)
	}
}

// TestRoundTripEveryField: records with every field set to unusual values
// (IPv6, next hops, biflows, all flags, every end reason and flow type,
// extreme counters and times) come back exact.
func TestRoundTripEveryField(t *testing.T) {
	var recs []flow.Record
	addrs := []string{"0.0.0.0", "255.255.255.255", "10.1.2.3", "::", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "fe80::1:2:3:4"}
	for i := range 5000 {
		r := flow.Record{
			Start: int64(i)*1_000_000_007 - 5, End: int64(i)*1_000_000_007 + int64(i)*13,
			Packets: uint64(i) * 0x0123456789, Bytes: ^uint64(i), RevPackets: uint64(i % 7), RevBytes: uint64(i%7) * 1500,
			RevStartOffset: time.Duration(-1 + 1000*timeOffset(i)),
			Input:          uint32(i), Output: ^uint32(i), SrcAS: 64512 + uint32(i), DstAS: 4_200_000_000,
			SrcPort: uint16(i * 7), DstPort: uint16(65535 - i), Sensor: uint16(i % 9), VLAN: uint16(i % 4095), Application: uint16(i % 3 * 443),
			Protocol: uint8(i), Flags: flow.TCPFlags(i), InitialFlags: flow.TCPFlags(i >> 1), SessionFlags: flow.TCPFlags(255 - i%256),
			RevFlags: flow.TCPFlags(i * 3), RevInitialFlags: flow.TCPFlags(i * 5), RevSessionFlags: flow.TCPFlags(i * 11),
			EndReason: flow.EndReason(i % 6), Type: flow.FlowType(i % 5),
		}
		r.Src = flow.AddrFrom(mustAddr(addrs[i%len(addrs)]))
		r.Dst = flow.AddrFrom(mustAddr(addrs[(i/3)%len(addrs)]))
		if i%4 != 0 {
			r.NextHop = flow.AddrFrom(mustAddr(addrs[(i/5)%len(addrs)]))
		}
		if r.NextHop == (flow.Addr{}) {
			r.NextHop = flow.Addr{} // "::" and none are the same value
		}
		recs = append(recs, r)
	}
	checkSame(t, readAll(t, export(t, recs, Options{RowGroupRows: 1234})), recs)
}

// TestRoundTripLoneValues: in chunks where an often-zero field (see
// zeroScan) is zero but in one record, written in batches that split the
// chunks, that record's value comes back, and the zeros around it.
func TestRoundTripLoneValues(t *testing.T) {
	recs := day(t)
	set := []func(r *flow.Record){
		func(r *flow.Record) { r.RevPackets = 3 }, func(r *flow.Record) { r.RevBytes = 900 },
		func(r *flow.Record) { r.RevStartOffset = -7 }, func(r *flow.Record) { r.Input = 2 },
		func(r *flow.Record) { r.Output = 1 << 31 }, func(r *flow.Record) { r.SrcAS = 64512 },
		func(r *flow.Record) { r.DstAS = 1 }, func(r *flow.Record) { r.Sensor = 65535 },
		func(r *flow.Record) { r.VLAN = 10 }, func(r *flow.Record) { r.Application = 53 },
		func(r *flow.Record) { r.InitialFlags = flow.TCPFlags(2) }, func(r *flow.Record) { r.SessionFlags = flow.TCPFlags(16) },
		func(r *flow.Record) { r.RevFlags = flow.TCPFlags(1) }, func(r *flow.Record) { r.RevInitialFlags = flow.TCPFlags(18) },
		func(r *flow.Record) { r.RevSessionFlags = flow.TCPFlags(4) },
	}
	for i := range recs {
		zero := recs[i]
		zero.RevPackets, zero.RevBytes, zero.RevStartOffset = 0, 0, 0
		zero.Input, zero.Output, zero.SrcAS, zero.DstAS = 0, 0, 0, 0
		zero.Sensor, zero.VLAN, zero.Application = 0, 0, 0
		zero.InitialFlags, zero.SessionFlags, zero.RevFlags, zero.RevInitialFlags, zero.RevSessionFlags = 0, 0, 0, 0, 0
		recs[i] = zero
	}
	// One lone value a chunk, the last chunks' at a chunk's last record.
	for k, f := range set {
		i := (k*chunkRows + k*997) % len(recs)
		if k >= len(set)-2 {
			i = min(len(recs), (k+1)*chunkRows) - 1
		}
		f(&recs[i])
	}
	checkSame(t, readAll(t, export(t, recs, Options{RowGroupRows: 3 * chunkRows})), recs)
}

// TestRoundTripCorpus: the benchmark corpus (1 M flows), when present.
func TestRoundTripCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	recs := corpus(t, 200_000)
	checkSame(t, readAll(t, export(t, recs, Options{})), recs)
}

// TestEmpty: a file with no flows is a valid file with the schema.
// TestBatchSizes: the file does not depend on how the records come in
// batches (the writer gathers them into chunks), also when row groups do
// not end on a chunk's boundary.
func TestBatchSizes(t *testing.T) {
	recs := day(t)
	if len(recs) < 3*chunkRows {
		t.Fatalf("the day has %d records, want more than 3 chunks", len(recs))
	}
	write := func(batch int) []byte {
		var buf bytes.Buffer
		w := NewWriter(&buf, Options{RowGroupRows: chunkRows + 1000})
		for i := 0; i < len(recs); i += batch {
			if err := w.WriteBatch(recs[i:min(i+batch, len(recs))]); err != nil {
				t.Fatal(err)
			}
		}
		if w.Rows() != int64(len(recs)) {
			t.Fatalf("batches of %d: Rows() = %d, want %d", batch, w.Rows(), len(recs))
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	whole := write(len(recs))
	for _, batch := range []int{1, 1000, chunkRows + 1} {
		if !bytes.Equal(write(batch), whole) {
			t.Errorf("batches of %d: file differs from one batch's", batch)
		}
	}
	checkSame(t, readAll(t, whole), recs)
}

func TestEmpty(t *testing.T) {
	data := export(t, nil, Options{})
	r, err := OpenReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if r.NumRows() != 0 {
		t.Fatalf("%d rows", r.NumRows())
	}
	if n, err := r.ReadBatch(make([]flow.Record, 10)); n != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("ReadBatch: %d, %v", n, err)
	}
}

// TestWriteAfterClose: a closed writer refuses more records.
func TestWriteAfterClose(t *testing.T) {
	w := NewWriter(io.Discard, Options{})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteBatch(make([]flow.Record, 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("got %v, want ErrClosed", err)
	}
}

// TestNotAFlowFile: garbage and truncated files give errors, not panics.
func TestNotAFlowFile(t *testing.T) {
	data := export(t, day(t)[:100], Options{})
	for _, bad := range [][]byte{nil, []byte("PAR1"), data[:len(data)/2], append([]byte("XXXX"), data[4:]...)} {
		if _, err := OpenReader(bytes.NewReader(bad), int64(len(bad))); err == nil {
			t.Fatalf("no error for %d bytes", len(bad))
		}
	}
}

// TestNoAllocPerRecord: WriteBatch allocates nothing per record once the
// column buffers have grown.
func TestNoAllocPerRecord(t *testing.T) {
	recs := day(t)[:4096]
	w := NewWriter(io.Discard, Options{RowGroupRows: 1 << 30, Compression: Uncompressed})
	for range 20 {
		w.WriteBatch(recs)
	}
	allocs := testing.AllocsPerRun(20, func() { w.WriteBatch(recs) })
	if perRec := allocs / float64(len(recs)); perRec > 0.02 { // a few per page flushed, none per record
		t.Fatalf("%.0f allocations per batch of %d (%.3f per record)", allocs, len(recs), perRec)
	}
}

func timeOffset(i int) int64 { return int64(i%11) - 5 }

func mustAddr(s string) netipAddr {
	a, err := parseNetip(s)
	if err != nil {
		panic(err)
	}
	return a
}

// corpus reads up to n records of the benchmark corpus (gen_flows.py),
// skipping when it is not there.
func corpus(t testing.TB, n int) []flow.Record {
	t.Helper()
	path := os.Getenv("FLOWKIT_CORPUS")
	if path == "" {
		path = "/tmp/flows1m.txt"
	}
	f, err := os.Open(filepath.Clean(path))
	if err != nil {
		t.Skipf("benchmark corpus: %v (set FLOWKIT_CORPUS, make it with gen_flows.py)", err)
	}
	defer f.Close()
	r := flowtext.NewReader(bufio.NewReaderSize(f, 1<<20), nil, flowtext.Text)
	out := make([]flow.Record, 0, n)
	buf := make([]flow.Record, 4096)
	for len(out) < n {
		k, err := r.ReadBatch(buf[:min(len(buf), n-len(out))])
		out = append(out, buf[:k]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}
