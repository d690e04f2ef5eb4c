package synth

import (
	"bytes"
	"io"
	"testing"

	"github.com/flowkit/flowkit/flow"
)

func TestBulkRoundTrip(t *testing.T) {
	cfg := BulkConfig{Seed: 5, Packets: 60000, Flows: 4000, SnapLen: 128}
	write := func() ([]byte, BulkStats) {
		b, err := NewBulk(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		st, err := b.WritePcap(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), st
	}
	one, st := write()
	two, _ := write()
	if !bytes.Equal(one, two) {
		t.Fatal("the same bulk config gave different bytes")
	}
	got, r, err := readPcap(one)
	if err != nil {
		t.Fatal(err)
	}
	if r.Snaplen() != 128 {
		t.Fatalf("snaplen %d", r.Snaplen())
	}
	want, st2, err := BulkPackets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st != st2 || st.Packets != uint64(cfg.Packets) || len(got) != cfg.Packets || len(want) != cfg.Packets {
		t.Fatalf("stats %+v and %+v, read %d packets, want %d", st, st2, len(got), cfg.Packets)
	}
	var sum uint64
	for i := range want {
		if got[i].pkt != want[i] {
			t.Fatalf("packet %d: read %+v, generated %+v", i, got[i].pkt, want[i])
		}
		if got[i].capLen > 128 || got[i].wireLen < 14+int(want[i].Length) {
			t.Fatalf("packet %d: captured %d of %d bytes, IP length %d", i, got[i].capLen, got[i].wireLen, want[i].Length)
		}
		sum += uint64(want[i].Length)
	}
	if sum != st.Bytes {
		t.Fatalf("IP bytes %d, stats say %d", sum, st.Bytes)
	}
}

// TestBulkShape checks the mix and the concurrency from the packets.
func TestBulkShape(t *testing.T) {
	cfg := BulkConfig{Seed: 7, Packets: 400000, Flows: 10000}
	pkts, st, err := BulkPackets(cfg)
	if err != nil {
		t.Fatal(err)
	}
	type span struct {
		first, last int64
		proto       uint8
	}
	keys := map[flow.Key]*span{}
	for _, p := range pkts {
		k := p.Key(0)
		s := keys[k]
		if s == nil {
			s = &span{first: p.Time, proto: p.Protocol}
			keys[k] = s
		}
		s.last = p.Time
	}
	if uint64(len(keys)) > st.Flows {
		t.Fatalf("%d keys in the packets, %d flows started", len(keys), st.Flows)
	}
	tcp := 0
	mid := pkts[len(pkts)/2].Time
	open := 0
	for _, s := range keys {
		if s.proto == flow.ProtoTCP {
			tcp++
		}
		if s.first <= mid && s.last >= mid {
			open++
		}
	}
	if share := float64(tcp) / float64(len(keys)); share < 0.75 || share > 0.85 {
		t.Errorf("TCP share %.3f, want 0.8", share)
	}
	if open < cfg.Flows*8/10 || open > cfg.Flows {
		t.Errorf("%d flows open mid-capture, want about %d", open, cfg.Flows)
	}
	// Every flow is seen by the tests' meter as one flow: no timeouts split
	// a bulk conversation at the default rate.
	m := newRefMeter()
	for _, p := range pkts {
		m.add(p)
	}
	if recs := m.flush(); len(recs) != len(keys) {
		t.Errorf("meter made %d flows of %d keys", len(recs), len(keys))
	}
}

func TestBulkNextAllocates(t *testing.T) {
	b, err := NewBulk(BulkConfig{Packets: 1 << 30, Flows: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var p flow.Packet
	if n := testing.AllocsPerRun(1000, func() { b.Next(&p) }); n != 0 {
		t.Fatalf("Next allocates %.1f times a packet", n)
	}
}

func TestBulkConfigErrors(t *testing.T) {
	for _, cfg := range []BulkConfig{{Packets: -1}, {TCPPercent: 101}, {Rate: -1}} {
		if _, err := NewBulk(cfg); err == nil {
			t.Errorf("NewBulk(%+v) accepted", cfg)
		}
	}
}

func BenchmarkBulkWritePcap(b *testing.B) {
	g, err := NewBulk(BulkConfig{Seed: 1, Packets: b.N, Flows: 200000, SnapLen: 128})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	st, err := g.WritePcap(io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Packets)/b.Elapsed().Seconds(), "packets/s")
}

func BenchmarkBulkNext(b *testing.B) {
	g, err := NewBulk(BulkConfig{Seed: 1, Packets: b.N, Flows: 100000})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var p flow.Packet
	for g.Next(&p) {
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

func BenchmarkGenerateDay(b *testing.B) {
	n := 0
	for b.Loop() {
		tr, err := Generate(Config{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		n += tr.Len()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}

func BenchmarkWritePcapDay(b *testing.B) {
	tr, err := Generate(Config{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for b.Loop() {
		if err := tr.WritePcap(io.Discard); err != nil {
			b.Fatal(err)
		}
		n += tr.Len()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "packets/s")
}
