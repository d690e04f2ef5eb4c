package benchmarks

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/flow/flowtext"
	"github.com/flowkit/flowkit/ipfix"
	"github.com/netsampler/goflow2/v2/decoders/netflow"
)

// decodeRecords is how many records the message set holds.
const decodeRecords = 20_000

// benchMessages encodes decodeRecords records with flowkit's encoder in
// 1400-byte messages (what the exporter sends over UDP): the corpus named by
// FLOWKIT_BENCH_CORPUS when set (the suite sets it), else deterministic
// records shaped like it.
func benchMessages(tb testing.TB) (template []byte, msgs [][]byte) {
	recs := corpusRecords(tb)
	enc := &ipfix.Encoder{MaxMessageSize: 1400}
	export := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	template = enc.AppendTemplateMessage(nil, export)
	for len(recs) > 0 {
		msg, n := enc.AppendMessage(nil, export, recs)
		if n == 0 {
			tb.Fatal("encoder put no record in a message")
		}
		msgs = append(msgs, msg)
		recs = recs[n:]
	}
	return template, msgs
}

func corpusRecords(tb testing.TB) []flow.Record {
	recs := make([]flow.Record, 0, decodeRecords)
	if path := os.Getenv("FLOWKIT_BENCH_CORPUS"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			tb.Fatal(err)
		}
		defer f.Close()
		r := flowtext.NewReader(f, flowtext.DefaultFields, flowtext.Text)
		buf := make([]flow.Record, 1000)
		for len(recs) < decodeRecords {
			n, err := r.ReadBatch(buf)
			recs = append(recs, buf[:min(n, decodeRecords-len(recs))]...)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
		}
		return recs
	}
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for range decodeRecords {
		s := start.Add(time.Duration(rng.Int64N(int64(24 * time.Hour)))).Truncate(time.Millisecond)
		pk := 1 + rng.Uint64N(1000)
		recs = append(recs, flow.Record{
			Start: s.UnixNano(), End: s.Add(time.Duration(rng.Int64N(int64(time.Minute)))).Truncate(time.Millisecond).UnixNano(),
			Src:     flow.AddrFrom(netip.AddrFrom4([4]byte{10, 0, byte(rng.IntN(256)), byte(rng.IntN(256))})),
			Dst:     flow.AddrFrom(netip.AddrFrom4([4]byte{byte(rng.IntN(223) + 1), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})),
			SrcPort: uint16(1024 + rng.IntN(60000)), DstPort: []uint16{443, 80, 53, 22, 25}[rng.IntN(5)],
			Protocol: 6, Packets: pk, Bytes: pk * (40 + rng.Uint64N(1400)), Flags: 0x1b,
		})
	}
	return recs
}

// BenchmarkDecodeFlowkit decodes the message set into one reused Record.
func BenchmarkDecodeFlowkit(b *testing.B) {
	tmpl, msgs := benchMessages(b)
	d := ipfix.NewDecoder()
	var rec flow.Record
	n := 0
	count := func(*flow.Record) { n++ }
	if err := d.Decode(tmpl, &rec, count); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			if err := d.Decode(m, &rec, count); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	if n != b.N*decodeRecords {
		b.Fatalf("decoded %d records, want %d", n, b.N*decodeRecords)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeGoflow2 decodes the same messages with goflow2 v2's
// netflow decoder and its template system (into its DataRecord values;
// goflow2 maps them to its protobuf message in a later, unmeasured step).
func BenchmarkDecodeGoflow2(b *testing.B) {
	tmpl, msgs := benchMessages(b)
	templates := netflow.CreateTemplateSystem()
	var nf9 netflow.NFv9Packet
	var pkt netflow.IPFIXPacket
	if err := netflow.DecodeMessageVersion(bytes.NewBuffer(tmpl), templates, &nf9, &pkt); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			pkt = netflow.IPFIXPacket{}
			if err := netflow.DecodeMessageVersion(bytes.NewBuffer(m), templates, &nf9, &pkt); err != nil {
				b.Fatal(err)
			}
			for _, fs := range pkt.FlowSets {
				if ds, ok := fs.(netflow.DataFlowSet); ok {
					n += len(ds.Records)
				}
			}
		}
	}
	b.StopTimer()
	if n != b.N*decodeRecords {
		b.Fatalf("decoded %d records, want %d", n, b.N*decodeRecords)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
