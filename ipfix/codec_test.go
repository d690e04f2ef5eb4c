package ipfix

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
)

var update = flag.Bool("update", false, "rewrite golden files")

// randomRecord makes a record of the given shape; with ms true its times
// are whole milliseconds (what the millisecond templates carry).
func randomRecord(rng *rand.Rand, v6, bi, ms bool) flow.Record {
	var r flow.Record
	r.Start = rng.Int64N(4e18)
	r.End = r.Start + rng.Int64N(1e13)
	if ms {
		r.Start -= r.Start % 1e6
		r.End -= r.End % 1e6
	}
	if v6 {
		for i := range r.Src {
			r.Src[i], r.Dst[i] = byte(rng.Uint32()), byte(rng.Uint32())
		}
		r.Src[0], r.Dst[0] = 0x20, 0x20
		if rng.IntN(2) == 0 {
			for i := range r.NextHop {
				r.NextHop[i] = byte(rng.Uint32())
			}
			r.NextHop[0] = 0xfe
		}
	} else {
		r.Src = flow.AddrFromUint32(rng.Uint32())
		r.Dst = flow.AddrFromUint32(rng.Uint32())
		if rng.IntN(2) == 0 {
			r.NextHop = flow.AddrFromUint32(rng.Uint32() | 1)
		}
	}
	r.Packets, r.Bytes = rng.Uint64(), rng.Uint64()
	r.Input, r.Output, r.SrcAS, r.DstAS = rng.Uint32(), rng.Uint32(), rng.Uint32(), rng.Uint32()
	r.SrcPort, r.DstPort = uint16(rng.Uint32()), uint16(rng.Uint32())
	r.Sensor, r.VLAN, r.Application = uint16(rng.Uint32()), uint16(rng.IntN(4096)), uint16(rng.Uint32())
	r.Protocol = []uint8{6, 17, 132, 47}[rng.IntN(4)]
	r.Flags, r.InitialFlags, r.SessionFlags = flow.TCPFlags(rng.Uint32()), flow.TCPFlags(rng.Uint32()), flow.TCPFlags(rng.Uint32())
	r.EndReason, r.Type = flow.EndReason(rng.IntN(6)), flow.FlowType(rng.IntN(5))
	if bi {
		r.RevPackets, r.RevBytes = rng.Uint64()|1, rng.Uint64()
		r.RevFlags, r.RevInitialFlags, r.RevSessionFlags = flow.TCPFlags(rng.Uint32()), flow.TCPFlags(rng.Uint32()), flow.TCPFlags(rng.Uint32())
		r.RevStartOffset = time.Duration(rng.Int64N(1e12))
		if ms {
			r.RevStartOffset -= r.RevStartOffset % time.Millisecond
		}
	}
	return r
}

// TestRoundTripEveryShape: random records -> encode -> decode is the
// identity for every template shape, in both time resolutions, across
// message boundaries.
func TestRoundTripEveryShape(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, ns := range []bool{false, true} {
		var in []flow.Record
		for i := 0; i < 4000; i++ {
			in = append(in, randomRecord(rng, rng.IntN(2) == 0, rng.IntN(2) == 0, !ns))
		}
		enc := Encoder{Domain: 7, Nanoseconds: ns, MaxMessageSize: 1400}
		msgs := [][]byte{enc.AppendTemplateMessage(nil, time.Unix(1700000000, 0))}
		for rest := in; len(rest) > 0; {
			m, n := enc.AppendMessage(nil, time.Unix(1700000000, 0), rest)
			if n == 0 || len(m) > 1400 {
				t.Fatalf("n=%d len=%d", n, len(m))
			}
			msgs = append(msgs, m)
			rest = rest[n:]
		}
		d := NewDecoder()
		out, soft := decodeAll(t, d, msgs)
		if len(soft) != 0 {
			t.Fatal(soft)
		}
		if len(out) != len(in) {
			t.Fatalf("ns=%v: %d records out, %d in", ns, len(out), len(in))
		}
		for i := range in {
			if in[i] != out[i] {
				t.Fatalf("ns=%v record %d:\n in  %+v\n out %+v", ns, i, in[i], out[i])
			}
		}
		if st := d.Stats(); st.SequenceGaps != 0 || st.Templates != 4 {
			t.Fatalf("stats %+v", st)
		}
	}
}

// msg builds an IPFIX message from sets.
func msg(seq uint32, sets ...[]byte) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint16(b, 10)
	binary.BigEndian.PutUint32(b[4:], 1000)
	binary.BigEndian.PutUint32(b[8:], seq)
	binary.BigEndian.PutUint32(b[12:], 1)
	for _, s := range sets {
		b = append(b, s...)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

func set(id uint16, body ...byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, id)
	b = binary.BigEndian.AppendUint16(b, uint16(4+len(body)))
	return append(b, body...)
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// TestVariableLengthEnterpriseAndReducedSize covers a template with a
// 4-byte (reduced-size) packetDeltaCount, an unknown enterprise element, a
// variable-length basicList kept raw, and both varlen length encodings.
func TestVariableLengthEnterpriseAndReducedSize(t *testing.T) {
	tmpl := set(2, cat(u16(300), u16(5),
		u16(8), u16(4), // sourceIPv4Address
		u16(2), u16(4), // packetDeltaCount, reduced to 4 bytes
		u16(0x8000|99), u16(2), []byte{0, 0, 0x30, 0x39}, // enterprise 12345 element 99
		u16(291), u16(VarLen), // basicList
		u16(96), u16(VarLen), // applicationName
	)...)
	long := bytes.Repeat([]byte{'x'}, 300)
	data := set(300, cat([]byte{10, 0, 0, 1}, []byte{0, 0, 1, 0}, []byte{0xab, 0xcd},
		[]byte{3, 0xff, 0, 1}, // basicList of 3 bytes
		[]byte{255}, u16(300), long)...)
	d := NewDecoder()
	var raw []FieldValue
	d.OnField = func(_ *flow.Record, fv *FieldValue) {
		c := *fv
		c.Value = append([]byte(nil), fv.Value...)
		raw = append(raw, c)
	}
	recs, soft := decodeAll(t, d, [][]byte{msg(0, tmpl, data)})
	if len(soft) != 0 || len(recs) != 1 {
		t.Fatalf("recs %d soft %v", len(recs), soft)
	}
	if recs[0].Packets != 256 || recs[0].Src != flow.AddrFrom4([4]byte{10, 0, 0, 1}) {
		t.Fatalf("record %+v", recs[0])
	}
	if len(raw) != 3 || raw[0].Field.Enterprise != 12345 || !bytes.Equal(raw[0].Value, []byte{0xab, 0xcd}) ||
		!bytes.Equal(raw[1].Value, []byte{0xff, 0, 1}) || len(raw[2].Value) != 300 {
		t.Fatalf("raw fields %+v", raw)
	}
}

func TestWithdrawalAndErrors(t *testing.T) {
	tmpl := set(2, cat(u16(256), u16(1), u16(8), u16(4))...)
	data := set(256, 1, 2, 3, 4)
	d := NewDecoder()
	recs, _ := decodeAll(t, d, [][]byte{msg(0, tmpl, data)})
	if len(recs) != 1 {
		t.Fatal(len(recs))
	}
	// Withdraw template 256, then its data is an unknown template.
	var rec flow.Record
	err := d.Decode(msg(1, set(2, cat(u16(256), u16(0))...), data), &rec, func(*flow.Record) {})
	var e *Error
	if !errors.Is(err, ErrUnknownTemplate) || !errors.As(err, &e) || e.SetID != 256 || e.Offset != 24 {
		t.Fatalf("after withdrawal: %v", err)
	}
	// Truncated set, bad set length, short message, bad version.
	bad := msg(2, set(2, cat(u16(257), u16(1), u16(8), u16(4))...))
	binary.BigEndian.PutUint16(bad[18:], 200)
	for i, c := range []struct {
		b    []byte
		want error
	}{
		{bad, ErrTruncated},
		{msg(3, []byte{1, 0, 0, 2}), ErrMalformed},
		{[]byte{0, 10, 0}, ErrTruncated},
		{[]byte{0, 7, 0, 0}, ErrVersion},
		{msg(4, set(2, cat(u16(12), u16(1), u16(8), u16(4))...)), ErrMalformed},
	} {
		if err := d.Decode(c.b, &rec, func(*flow.Record) {}); !errors.Is(err, c.want) {
			t.Errorf("case %d: %v, want %v", i, err, c.want)
		}
	}
}

func TestLimitsAndLifetime(t *testing.T) {
	d := NewDecoder()
	d.Limits = Limits{MaxTemplates: 2}
	var ts [][]byte
	for id := uint16(256); id < 260; id++ {
		ts = append(ts, set(2, cat(u16(id), u16(1), u16(8), u16(4))...))
	}
	var rec flow.Record
	err := d.Decode(msg(0, ts...), &rec, func(*flow.Record) {})
	if !errors.Is(err, ErrLimit) || len(d.Templates(1)) != 2 || d.Stats().TemplatesRefused != 2 {
		t.Fatalf("err %v templates %d", err, len(d.Templates(1)))
	}
	d2 := NewDecoder()
	d2.TemplateLifetime = time.Minute
	m := msg(0, ts[0])
	d2.Decode(m, &rec, func(*flow.Record) {})
	late := msg(0, set(256, 1, 2, 3, 4))
	binary.BigEndian.PutUint32(late[4:], 1000+61)
	if err := d2.Decode(late, &rec, func(*flow.Record) {}); !errors.Is(err, ErrUnknownTemplate) || d2.Stats().TemplatesExpired != 1 {
		t.Fatalf("expired template still used: %v", err)
	}
}

func TestSequenceGaps(t *testing.T) {
	tmpl := set(2, cat(u16(256), u16(1), u16(8), u16(4))...)
	data := set(256, 1, 2, 3, 4, 5, 6, 7, 8) // two records
	d := NewDecoder()
	decodeAll(t, d, [][]byte{msg(0, tmpl, data), msg(2, data), msg(9, data)})
	if st := d.Stats(); st.SequenceGaps != 1 || st.LostRecords != 5 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFileRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var in []flow.Record
	for i := 0; i < 3000; i++ {
		in = append(in, randomRecord(rng, i%3 == 0, i%2 == 0, true))
	}
	var buf bytes.Buffer
	fw := NewFileWriter(&buf)
	fw.Now = func() time.Time { return time.Unix(1700000000, 0) }
	for i := 0; i < len(in); i += 700 {
		if err := fw.WriteBatch(in[i:min(i+700, len(in))]); err != nil {
			t.Fatal(err)
		}
	}
	fw.Close()
	fr := NewFileReader(bytes.NewReader(buf.Bytes()))
	var sink flow.SliceSink
	if _, err := flow.Copy(&sink, fr); err != nil {
		t.Fatal(err)
	}
	if len(sink.Recs) != len(in) {
		t.Fatalf("%d of %d", len(sink.Recs), len(in))
	}
	for i := range in {
		if in[i] != sink.Recs[i] {
			t.Fatalf("record %d differs", i)
		}
	}
	// A truncated file gives ErrTruncated naming the offset.
	fr = NewFileReader(bytes.NewReader(buf.Bytes()[:buf.Len()-10]))
	if _, err := flow.Copy(&flow.SliceSink{}, fr); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated file: %v", err)
	}
}

// TestDecodeAllocatesNothing: steady-state decoding allocates nothing.
func TestDecodeAllocatesNothing(t *testing.T) {
	msgs := benchMessages(t)
	d := NewDecoder()
	var rec flow.Record
	n := 0
	emit := func(*flow.Record) { n++ }
	d.Decode(msgs[0], &rec, emit)
	allocs := testing.AllocsPerRun(100, func() {
		for _, m := range msgs[1:] {
			if err := d.Decode(m, &rec, emit); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per run", allocs)
	}
}

// TestZeroPaddingIsLinear: a data set of zeros with one non-zero byte at
// the end, under a one-varlen-field template, decodes in linear time (a
// naive padding check per record would take ~2e9 steps).
func TestZeroPaddingIsLinear(t *testing.T) {
	tmpl := set(2, cat(u16(256), u16(1), u16(96), u16(VarLen))...)
	body := make([]byte, 65000)
	body[len(body)-1] = 1
	m := msg(0, tmpl)
	m = append(m[:len(m):len(m)], set(256, body...)...)
	binary.BigEndian.PutUint16(m[2:], uint16(len(m)))
	d := NewDecoder()
	var rec flow.Record
	start := time.Now()
	d.Decode(m, &rec, func(*flow.Record) {})
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("took %v", el)
	}
	if d.Stats().OptionsRecords < 60000 {
		t.Fatalf("stats %+v", d.Stats())
	}
}

// TestGoldenMessage pins the encoder's bytes (templates and one record of
// each shape); regenerate testdata/golden.ipfix with -update after a
// deliberate format change.
func TestGoldenMessage(t *testing.T) {
	recs := interopRecords(4)
	var buf bytes.Buffer
	fw := NewFileWriter(&buf)
	fw.Now = func() time.Time { return time.Unix(1700000000, 0) }
	if err := fw.WriteBatch(recs); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/golden.ipfix"
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("encoding changed: %d bytes, golden %d (run with -update if intended)", buf.Len(), len(want))
	}
	// And the golden file decodes to the records.
	var sink flow.SliceSink
	if _, err := flow.Copy(&sink, NewFileReader(bytes.NewReader(want))); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if sink.Recs[i] != recs[i] {
			t.Fatalf("record %d differs", i)
		}
	}
}

// TestMixedAddressFamiliesAndDeltaTimes: a template with both IPv4 and
// IPv6 address fields (the unused one zero, as Cisco sends them) and
// flowStart/EndDeltaMicroseconds relative to the export time.
func TestMixedAddressFamiliesAndDeltaTimes(t *testing.T) {
	tmpl := set(2, cat(u16(400), u16(6),
		u16(8), u16(4), u16(27), u16(16), u16(12), u16(4), u16(28), u16(16),
		u16(158), u16(4), u16(159), u16(4))...)
	v6 := bytes.Repeat([]byte{0x20}, 16)
	zero16 := make([]byte, 16)
	rec1 := cat([]byte{10, 0, 0, 1}, zero16, []byte{10, 0, 0, 2}, zero16, []byte{0, 0x0f, 0x42, 0x40}, []byte{0, 0, 0x03, 0xe8})
	rec2 := cat([]byte{0, 0, 0, 0}, v6, []byte{0, 0, 0, 0}, v6, []byte{0, 0, 0, 0}, []byte{0, 0, 0, 0})
	recs, _ := decodeAll(t, NewDecoder(), [][]byte{msg(0, tmpl, set(400, cat(rec1, rec2)...))})
	if len(recs) != 2 {
		t.Fatal(len(recs))
	}
	if recs[0].Src.String() != "10.0.0.1" || recs[0].Dst.String() != "10.0.0.2" {
		t.Fatalf("v4 record %v", recs[0].String())
	}
	if recs[1].Src != flow.Addr(v6) || recs[1].Dst != flow.Addr(v6) {
		t.Fatalf("v6 record %v", recs[1].String())
	}
	// export time 1000 s: start 1 s before, end 1 ms before.
	if recs[0].Start != 999e9 || recs[0].End != 1000e9-1e6 {
		t.Fatalf("times %d %d", recs[0].Start, recs[0].End)
	}
}

func TestRegistry(t *testing.T) {
	if ie, ok := Lookup(PENCERT, 14|CERTReverse); !ok || ie.Name != "reverseInitialTCPFlags" {
		t.Fatalf("%+v", ie)
	}
	if ie, ok := Lookup(PENBiflow, 1); !ok || ie.Name != "reverseOctetDeltaCount" || ie.Type != Unsigned64 {
		t.Fatalf("%+v", ie)
	}
	if _, ok := Lookup(424242, 7); ok {
		t.Fatal("unregistered element found")
	}
	Register(IE{Enterprise: 424242, ID: 7, Name: "myCounter", Type: Unsigned32})
	if ie, ok := Lookup(424242, 7); !ok || ie.Name != "myCounter" {
		t.Fatalf("%+v", ie)
	}
}

// TestTotalCountsAndUnionFlags: an exporter sending packetTotalCount and
// octetTotalCount (no delta counts) and YAF-style initial/union TCP flags
// without tcpControlBits still fills Packets, Bytes and Flags.
func TestTotalCountsAndUnionFlags(t *testing.T) {
	tmpl := set(2, cat(u16(500), u16(4),
		u16(86), u16(4), u16(85), u16(8),
		u16(0x8000|14), u16(1), []byte{0, 0, 0x1a, 0xd7},
		u16(0x8000|15), u16(1), []byte{0, 0, 0x1a, 0xd7})...)
	data := set(500, cat([]byte{0, 0, 0, 9}, []byte{0, 0, 0, 0, 0, 0, 0x10, 0}, []byte{byte(flow.SYN)}, []byte{byte(flow.ACK | flow.FIN)})...)
	recs, _ := decodeAll(t, NewDecoder(), [][]byte{msg(0, tmpl, data)})
	r := recs[0]
	if r.Packets != 9 || r.Bytes != 4096 || r.InitialFlags != flow.SYN || r.SessionFlags != flow.ACK|flow.FIN || r.Flags != flow.SYN|flow.ACK|flow.FIN {
		t.Fatalf("%+v", r)
	}
}

// TestOnFieldAllocatesNothing: a raw-field visitor costs no allocation.
func TestOnFieldAllocatesNothing(t *testing.T) {
	msgs := benchMessages(t)
	d := NewDecoder()
	var rec flow.Record
	var n int
	d.OnField = func(_ *flow.Record, fv *FieldValue) { n += len(fv.Value) }
	d.Decode(msgs[0], &rec, func(*flow.Record) {})
	allocs := testing.AllocsPerRun(50, func() {
		for _, m := range msgs[1:] {
			d.Decode(m, &rec, func(*flow.Record) {})
		}
	})
	if allocs != 0 || n == 0 {
		t.Fatalf("%v allocs, %d raw bytes", allocs, n)
	}
}
