package ipfix

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/flowkit/flowkit/flow"
	"github.com/flowkit/flowkit/internal/testenv"
)

// usualTemplate is the common 20-field IPv4 template of routers and
// softflowd-like meters, with 4-byte counters and sysUpTime times.
var usualTemplate = []FieldSpec{
	{ID: 8, Length: 4}, {ID: 12, Length: 4}, {ID: 15, Length: 4}, {ID: 10, Length: 4}, {ID: 14, Length: 4},
	{ID: 2, Length: 4}, {ID: 1, Length: 4}, {ID: 22, Length: 4}, {ID: 21, Length: 4}, {ID: 7, Length: 2},
	{ID: 11, Length: 2}, {ID: 6, Length: 1}, {ID: 4, Length: 1}, {ID: 5, Length: 1}, {ID: 16, Length: 4},
	{ID: 17, Length: 4}, {ID: 9, Length: 1}, {ID: 13, Length: 1}, {ID: 61, Length: 1}, {ID: 136, Length: 1},
}

const usualRecLen = 55

// benchMessages returns a template message then data messages of 25
// records each (1391 bytes: a 1500-byte MTU datagram).
func benchMessages(tb testing.TB) [][]byte {
	tmpl := AppendTemplateSet(nil, []Template{{ID: 300, Fields: usualTemplate}})
	// an options template + record with systemInitTimeMilliseconds
	opt := set(3, cat(u16(301), u16(2), u16(1), u16(149), u16(4), u16(160), u16(8))...)
	optData := set(301, 0, 0, 0, 1, 0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0)
	msgs := [][]byte{msg(0, tmpl, opt, optData)}
	rng := rand.New(rand.NewPCG(5, 6))
	seq := uint32(1)
	for m := 0; m < 40; m++ {
		body := make([]byte, 0, 25*usualRecLen)
		for i := 0; i < 25; i++ {
			var b [usualRecLen]byte
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
			body = append(body, b[:]...)
		}
		msgs = append(msgs, msg(seq, set(300, body...)))
		seq += 25
	}
	return msgs
}

// BenchmarkDecode measures data records decoded per second into a reused
// Record with the usual 20-field IPv4 template.
func BenchmarkDecode(b *testing.B) {
	msgs := benchMessages(b)
	d := NewDecoder()
	var rec flow.Record
	var sink uint64
	emit := func(r *flow.Record) { sink += r.Bytes }
	d.Decode(msgs[0], &rec, emit)
	data := msgs[1:]
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	recs := 0
	for i := 0; i < b.N; i++ {
		d.Decode(data[i%len(data)], &rec, emit)
		recs += 25
	}
	b.ReportMetric(float64(recs)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	b.ReportMetric(float64(recs)/(testenv.CPUTime()-cpu0).Seconds()/1e6, "Mrec/cpu-s")
}

// BenchmarkEncode measures records encoded per second (IPv4 millisecond
// template, 1400-byte messages).
func BenchmarkEncode(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	recs := make([]flow.Record, 1024)
	for i := range recs {
		recs[i] = randomRecord(rng, false, false, true)
	}
	enc := Encoder{MaxMessageSize: 1400}
	buf := make([]byte, 0, 2048)
	now := time.Unix(1700000000, 0)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	total := 0
	for i := 0; i < b.N; i++ {
		rest := recs
		for len(rest) > 0 {
			var n int
			buf, n = enc.AppendMessage(buf[:0], now, rest)
			rest = rest[n:]
		}
		total += len(recs)
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds()/1e6, "Mrec/s")
	b.ReportMetric(float64(total)/(testenv.CPUTime()-cpu0).Seconds()/1e6, "Mrec/cpu-s")
}

// BenchmarkDecodeSoftflowdCapture decodes the real softflowd exports
// (IPFIX with reduced-size counters, NetFlow v9), templates included.
func BenchmarkDecodeSoftflowdCapture(b *testing.B) {
	for _, name := range []string{"softflowd-ipfix.pcap", "softflowd-nfv9.pcap"} {
		b.Run(name, func(b *testing.B) {
			payloads := pcapPayloads(b, dataDir(b)+"/softflowd/"+name)
			var rec flow.Record
			n := 0
			emit := func(*flow.Record) { n++ }
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := testenv.CPUTime()
			for i := 0; i < b.N; i++ {
				d := NewDecoder()
				for _, p := range payloads {
					d.Decode(p, &rec, emit)
				}
			}
			b.ReportMetric(float64(n)/(testenv.CPUTime()-cpu0).Seconds()/1e6, "Mrec/cpu-s")
		})
	}
}

// BenchmarkDecodeNetFlowV5 decodes akvorado's 29-record v5 packet.
func BenchmarkDecodeNetFlowV5(b *testing.B) {
	p := pcapPayloads(b, dataDir(b)+"/akvorado/nfv5.pcap")[0]
	d := NewDecoder()
	var rec flow.Record
	n := 0
	emit := func(*flow.Record) { n++ }
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := testenv.CPUTime()
	for i := 0; i < b.N; i++ {
		d.Decode(p, &rec, emit)
	}
	b.ReportMetric(float64(n)/(testenv.CPUTime()-cpu0).Seconds()/1e6, "Mrec/cpu-s")
}
