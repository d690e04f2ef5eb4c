package flowtext

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/flowkit/flowkit/internal/testenv"

	"github.com/flowkit/flowkit/flow"
)

// genFlowsLines are verbatim lines of ../shared/bench/gen_flows.py's output
// (default seed), covering TCP, UDP, ICMP and empty flags.
const genFlowsLines = `10.0.157.32|29.145.133.199|57271|80|6|1|51|S|1767278396.564|0.000
10.0.249.156|176.224.44.223|38978|443|6|53|58459|FSPA|1767249734.444|11.639
106.114.223.161|10.0.118.0|443|51950|17|5|1655||1767264131.188|1.334
10.0.166.233|89.90.161.20|53|48418|17|5734|8090674||1767289074.591|753.588
208.114.31.54|10.0.221.92|50927|443|6|51|26163|FSPA|1767263947.460|19.356
10.0.5.7|8.8.8.8|0|2048|1|2|122||1767225600.000|1.000
`

func readAll(t *testing.T, in string, fields []Field, format Format) []flow.Record {
	t.Helper()
	var out []flow.Record
	var err error
	for rec := range flow.Records(NewReader(strings.NewReader(in), fields, format), &err) {
		out = append(out, rec)
	}
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return out
}

func writeAll(t *testing.T, recs []flow.Record, fields []Field, format Format) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, fields, format)
	if err := w.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestGenFlowsLinesReadAndWriteBackExactly(t *testing.T) {
	recs := readAll(t, genFlowsLines, nil, Text)
	if len(recs) != 6 {
		t.Fatalf("got %d records, want 6", len(recs))
	}
	r := recs[1]
	if r.SrcAddr() != netip.MustParseAddr("10.0.249.156") || r.DstPort != 443 || r.Protocol != 6 ||
		r.Packets != 53 || r.Bytes != 58459 || r.Flags != flow.FIN|flow.SYN|flow.PSH|flow.ACK ||
		r.Start != 1767249734444000000 || r.Duration() != 11639*time.Millisecond {
		t.Fatalf("record 2 read wrong: %v", &r)
	}
	if recs[5].ICMPType() != 8 || recs[5].ICMPCode() != 0 {
		t.Fatalf("ICMP type/code: %d/%d", recs[5].ICMPType(), recs[5].ICMPCode())
	}
	if got := writeAll(t, recs, nil, Text); got != genFlowsLines {
		t.Fatalf("written back differs:\n%s\nwant:\n%s", got, genFlowsLines)
	}
}

// randomRecord fills every field, with IPv6 and sub-millisecond times half the time.
func randomRecord(rng *rand.Rand) flow.Record {
	addr := func() flow.Addr {
		if rng.IntN(2) == 0 {
			return flow.AddrFromUint32(rng.Uint32())
		}
		var a flow.Addr
		for i := range a {
			a[i] = byte(rng.UintN(256))
		}
		a[0] = 0x20 // global unicast, never the v4-mapped prefix
		return a
	}
	start := int64(1767225600)*1e9 + rng.Int64N(86400e9)
	if rng.IntN(2) == 0 {
		start -= start % 1e6
	}
	return flow.Record{
		Start: start, End: start + rng.Int64N(3600e9),
		Src: addr(), Dst: addr(), NextHop: addr(),
		Packets: rng.Uint64(), Bytes: rng.Uint64(),
		RevPackets: rng.Uint64N(1e6), RevBytes: rng.Uint64N(1e9),
		RevStartOffset: time.Duration(rng.Int64N(2e9) - 1e9),
		Input:          rng.Uint32(), Output: rng.Uint32(), SrcAS: rng.Uint32(), DstAS: rng.Uint32(),
		SrcPort: uint16(rng.Uint32()), DstPort: uint16(rng.Uint32()),
		Sensor: uint16(rng.Uint32()), VLAN: uint16(rng.UintN(4096)), Application: uint16(rng.Uint32()),
		Protocol:     uint8(rng.Uint32()),
		Flags:        flow.TCPFlags(rng.Uint32()),
		InitialFlags: flow.TCPFlags(rng.Uint32()), SessionFlags: flow.TCPFlags(rng.Uint32()),
		RevFlags:        flow.TCPFlags(rng.Uint32()),
		RevInitialFlags: flow.TCPFlags(rng.Uint32()), RevSessionFlags: flow.TCPFlags(rng.Uint32()),
		EndReason: flow.EndReason(rng.UintN(6)), Type: flow.FlowType(rng.UintN(5)),
	}
}

func TestRoundTripEveryField(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]flow.Record, 2000)
	for i := range recs {
		recs[i] = randomRecord(rng)
	}
	// Every field except eTime (derived from sTime+duration here).
	var fields []Field
	for _, f := range AllFields {
		if f != ETime {
			fields = append(fields, f)
		}
	}
	for _, format := range []Format{Text, CSV} {
		text := writeAll(t, recs, fields, format)
		back := readAll(t, text, fields, format)
		if format == CSV {
			back = readAll(t, text, nil, CSV) // columns from the header
		}
		if len(back) != len(recs) {
			t.Fatalf("format %d: %d records back, want %d", format, len(back), len(recs))
		}
		for i := range recs {
			if back[i] != recs[i] {
				t.Fatalf("format %d record %d:\n got %+v\nwant %+v", format, i, back[i], recs[i])
			}
		}
	}
	// sTime with eTime instead of duration gives the same times.
	text := writeAll(t, recs, []Field{STime, ETime}, Text)
	back := readAll(t, text, []Field{STime, ETime}, Text)
	for i := range recs {
		if back[i].Start != recs[i].Start || back[i].End != recs[i].End {
			t.Fatalf("sTime|eTime record %d: %d..%d want %d..%d", i, back[i].Start, back[i].End, recs[i].Start, recs[i].End)
		}
	}
}

func TestRwcutStyleInput(t *testing.T) {
	// rwcut's default: a title line, padded columns, a trailing delimiter, SiLK dates.
	in := "                sIP|            dIP|sPort|dPort|pro|packets|bytes|flags|                  sTime| duration|\n" +
		"         10.0.5.7|       8.8.4.4|51234|   53| 17|      1|   61|     |2026/01/01T00:00:01.250|    0.000|\n"
	recs := readAll(t, in, nil, Text)
	if len(recs) != 1 || recs[0].SrcAddr().String() != "10.0.5.7" || recs[0].DstPort != 53 ||
		recs[0].Protocol != 17 || recs[0].Bytes != 61 || recs[0].Flags != 0 ||
		recs[0].Start != 1767225601250000000 || recs[0].End != recs[0].Start {
		t.Fatalf("rwcut output read wrong: %+v", recs)
	}
}

func TestHeaderAndComments(t *testing.T) {
	in := "# comment\nsIP|dIP|sPort|dPort|protocol|packets|bytes|flags|sTime|duration\n\n" + genFlowsLines
	recs := readAll(t, in, nil, Text)
	if len(recs) != 6 {
		t.Fatalf("got %d records", len(recs))
	}
	padded := "sIP|dIP|sTime|eTime|\n  10.0.5.7 |  ::1 |2026/01/01T00:00:01.250|2026-01-01T00:00:02Z|\n"
	recs = readAll(t, padded, nil, Text)
	if len(recs) != 1 || recs[0].SrcAddr().String() != "10.0.5.7" || recs[0].DstAddr().String() != "::1" ||
		recs[0].Start != 1767225601250000000 || recs[0].Duration() != 750*time.Millisecond {
		t.Fatalf("padded rwcut-style line read wrong: %+v", recs)
	}
}

func TestBadLinesNameLineAndColumn(t *testing.T) {
	cases := []struct {
		in, want string
		col      int
	}{
		{"10.0.0.1|10.0.0.2|99999|80|6|1|40|S|1767225600.000|0.000\n", "sPort", 3},
		{"10.0.0.1|10.0.0.300|1|80|6|1|40|S|1767225600.000|0.000\n", "dIP", 2},
		{"10.0.0.1|10.0.0.3|1|80|6|1|40|SX|1767225600.000|0.000\n", "flags", 8},
		{"10.0.0.1|10.0.0.3|1|80|6|1|40|S|yesterday|0.000\n", "sTime", 9},
		{"10.0.0.1|10.0.0.3|1|80|6|1|40|S|1767225600.000|-1\n", "duration", 10},
		{"10.0.0.1|10.0.0.3|1|80|6|1|40|S\n", "8 columns", 0},
	}
	for _, c := range cases {
		in := genFlowsLines + c.in
		r := NewReader(strings.NewReader(in), nil, Text)
		buf := make([]flow.Record, 100)
		n, err := r.ReadBatch(buf)
		if n != 6 {
			t.Errorf("%q: %d good records before the error, want 6", c.in, n)
		}
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
			t.Fatalf("%q: error %v is not a ParseError", c.in, err)
		}
		if pe.Line != 7 || pe.Column != c.col || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v (line %d col %d), want line 7 column %d mentioning %s", c.in, err, pe.Line, pe.Column, c.col, c.want)
		}
		if _, err2 := r.ReadBatch(buf); err2 != err {
			t.Errorf("error is not sticky: %v", err2)
		}
	}
}

func TestEmptyInputAndCSVHeaderOnly(t *testing.T) {
	if n, err := NewReader(strings.NewReader(""), nil, Text).ReadBatch(make([]flow.Record, 4)); n != 0 || err != io.EOF {
		t.Fatalf("empty input: %d, %v", n, err)
	}
	if got := writeAll(t, nil, []Field{SIP, Bytes}, CSV); got != "sIP,bytes\n" {
		t.Fatalf("empty CSV: %q", got)
	}
	if _, err := NewReader(strings.NewReader("1.2.3.4,5\n"), nil, CSV).ReadBatch(make([]flow.Record, 4)); !errors.Is(err, ErrSyntax) {
		t.Fatalf("CSV without header: %v", err)
	}
}

func TestParseFields(t *testing.T) {
	f, err := ParseFields("sIP,dip|sPort,proto,stime,dur,eTime,endReason")
	if err != nil || len(f) != 8 || f[3] != Protocol || f[5] != Duration || f[7] != EndReason {
		t.Fatalf("ParseFields: %v %v", f, err)
	}
	if _, err := ParseFields("sIP,bogus"); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("unknown field error: %v", err)
	}
}

func TestReaderAllocatesNothingPerLine(t *testing.T) {
	in := strings.Repeat(genFlowsLines, 200)
	buf := make([]flow.Record, 1024)
	rd := strings.NewReader(in)
	r := NewReader(rd, DefaultFields, Text)
	allocs := testing.AllocsPerRun(20, func() {
		rd.Reset(in)
		r.r.Reset(rd)
		r.err, r.line = nil, 0
		for {
			if _, err := r.ReadBatch(buf); err != nil {
				break
			}
		}
	})
	// A few per run (the title-line check of line 1), none per line.
	if allocs > 40 {
		t.Fatalf("%.0f allocations per 1200 lines", allocs)
	}
}

// TestGenFlowsCorpusParses runs the real generator (when python3 is there)
// and checks every line parses and writes back byte for byte.
func TestGenFlowsCorpusParses(t *testing.T) {
	script := corpusScript(t)
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("python3 is needed to run gen_flows.py")
		}
		t.Skip("python3 not found")
	}
	out, err := exec.Command(py, script, "-n", "50000", "-o", "-").Output()
	if err != nil {
		t.Fatalf("gen_flows.py: %v", err)
	}
	recs := readAll(t, string(out), nil, Text)
	if len(recs) != 50000 {
		t.Fatalf("%d records, want 50000", len(recs))
	}
	if got := writeAll(t, recs, nil, Text); got != string(out) {
		t.Fatal("the corpus does not write back byte for byte")
	}
}

// corpusScript is the benchmark corpus generator, ../shared/bench/gen_flows.py.
func corpusScript(t testing.TB) string { return testenv.Shared(t, "bench", "gen_flows.py") }

func FuzzReader(f *testing.F) {
	f.Add([]byte(genFlowsLines))
	f.Add([]byte("sIP,dIP,sTime,eTime,flags\n::1,1.2.3.4,2026/01/01T00:00:00,1767225601.5,FS\n"))
	f.Add([]byte("1.2.3.4|5.6.7.8|1|2|3|4|5|S|1.000000001|-0.1\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, format := range []Format{Text, CSV} {
			r := NewReader(bytes.NewReader(in), nil, format)
			buf := make([]flow.Record, 16)
			var recs []flow.Record
			for {
				n, err := r.ReadBatch(buf)
				recs = append(recs, buf[:n]...)
				if err != nil {
					if !errors.Is(err, io.EOF) && !errors.Is(err, ErrSyntax) && !strings.Contains(err.Error(), "longer than") {
						t.Fatalf("unexpected error kind: %v", err)
					}
					break
				}
			}
			// Whatever was read writes and reads back to the same records.
			fields := r.Fields()
			if len(recs) == 0 || fields == nil {
				continue
			}
			var out bytes.Buffer
			w := NewWriter(&out, fields, format)
			if err := w.WriteBatch(recs); err != nil {
				t.Fatal(err)
			}
			w.Flush()
			again := NewReader(&out, fields, format)
			if format == CSV {
				again = NewReader(&out, nil, CSV)
			}
			buf2 := make([]flow.Record, len(recs))
			n, err := again.ReadBatch(buf2)
			if err != nil || n != len(recs) {
				t.Fatalf("re-read %d of %d: %v\n%s", n, len(recs), err, out.String())
			}
			for i := range recs {
				if !sameFields(&recs[i], &buf2[i], fields) {
					t.Fatalf("record %d differs after write+read:\n%+v\n%+v", i, recs[i], buf2[i])
				}
			}
		}
	})
}

// sameFields compares the parts of two records that fields carry.
func sameFields(a, b *flow.Record, fields []Field) bool {
	return bytes.Equal(AppendRecord(nil, a, fields, '|'), AppendRecord(nil, b, fields, '|'))
}
